// Where the test setup puts the real S3 clients that do not come from Debian, so that the
// end-to-end suites can find them. Kept outside the repository: every checkout shares them.
import os from 'node:os';
import path from 'node:path';

/** A Python virtual environment with awscli v1 and boto3 (current releases). */
export const pythonClientsDirectory = path.join(os.homedir(), '.cache', 'coffre', 'python-clients');
export const pythonClientsPython = path.join(pythonClientsDirectory, 'bin', 'python');
export const awsCommand = path.join(pythonClientsDirectory, 'bin', 'aws');
