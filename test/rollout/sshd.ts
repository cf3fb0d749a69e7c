// A real OpenSSH server for the rollout tests: fresh host and client keys (ssh-keygen), a config
// on 127.0.0.1 with a reserved port (test/support/ports.ts), started as `/usr/sbin/sshd -D -e` and stopped by
// its PID. Each one stands for a host; the tests give each its own install and config roots.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { isAddressInUse, portAttempts, reservePort } from '../support/ports.ts';

export const SSHD_PATH = '/usr/sbin/sshd';

export interface TestSshServer {
  address: string;
  port: number;
  /** As `ssh-keygen -l -E sha256` prints it for the host key. */
  hostKeySha256: string;
  pid: number;
  /** Everything sshd logged so far (LogLevel VERBOSE, on stderr). */
  logs(): string;
  stop(): Promise<void>;
}

export interface ClientKey {
  privateKey: string;
  publicKeyLine: string;
}

function keygen(file: string): void {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'coffre-rollout-test', '-f', file]);
}

export function fingerprintOf(publicKeyFile: string): string {
  const line = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', publicKeyFile], { encoding: 'utf8' });
  return line.split(' ')[1];
}

export function generateClientKey(directory: string): ClientKey {
  mkdirSync(directory, { recursive: true });
  const file = path.join(directory, 'client_ed25519');
  keygen(file);
  return {
    privateKey: readFileSync(file, 'utf8'),
    publicKeyLine: readFileSync(`${file}.pub`, 'utf8').trim(),
  };
}

function waitForListening(child: ChildProcess, output: () => string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setInterval(() => {
      if (output().includes(`Server listening on 127.0.0.1 port ${port}`)) {
        clearInterval(timer);
        resolve();
      } else if (child.exitCode !== null) {
        clearInterval(timer);
        reject(new Error(`sshd exited with ${child.exitCode}:\n${output()}`));
      }
    }, 20);
  });
}

export async function startSshServer(directory: string, authorizedKeys: string[]): Promise<TestSshServer> {
  mkdirSync(directory, { recursive: true });
  // sshd checks that its privilege separation directory exists, even with UsePAM no.
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const hostKey = path.join(directory, 'host_ed25519');
  keygen(hostKey);
  const authorizedKeysFile = path.join(directory, 'authorized_keys');
  writeFileSync(authorizedKeysFile, `${authorizedKeys.join('\n')}\n`, { mode: 0o600 });
  const configFile = path.join(directory, 'sshd_config');
  for (let attempt = 1; ; attempt += 1) {
    const port = await reservePort();
    writeFileSync(configFile, sshdConfig(directory, port, hostKey, authorizedKeysFile));
    const child = spawn(SSHD_PATH, ['-D', '-e', '-f', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
    let logged = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      logged += chunk.toString('utf8');
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      await waitForListening(child, () => logged, port);
    } catch (error) {
      if (attempt < portAttempts && isAddressInUse(logged)) continue;
      throw error;
    }
    return {
      address: '127.0.0.1',
      port,
      hostKeySha256: fingerprintOf(`${hostKey}.pub`),
      pid: child.pid!,
      logs: () => logged,
      stop: async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        process.kill(child.pid!, 'SIGTERM');
        await exited;
      },
    };
  }
}

function sshdConfig(directory: string, port: number, hostKey: string, authorizedKeysFile: string): string {
  return [
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${hostKey}`,
    `PidFile ${path.join(directory, 'sshd.pid')}`,
    `AuthorizedKeysFile ${authorizedKeysFile}`,
    'UsePAM no',
    'StrictModes no',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PubkeyAuthentication yes',
    'PermitRootLogin prohibit-password',
    'LogLevel VERBOSE',
    'Subsystem sftp internal-sftp',
    '',
  ].join('\n');
}
