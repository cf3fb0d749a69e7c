// The SDK error a call must fail with: its name (the S3 code) and HTTP status are asserted, and the
// error is returned for more checks. A call that succeeds fails the test.
import { S3ServiceException } from '@aws-sdk/client-s3';
import type { ExecutionContext } from 'ava';

export async function expectS3Error(
  t: ExecutionContext<unknown>,
  promise: Promise<unknown>,
  name: string,
  status: number,
): Promise<S3ServiceException> {
  try {
    await promise;
  } catch (error) {
    if (!(error instanceof S3ServiceException)) throw error;
    t.is(error.name, name);
    t.is(error.$metadata.httpStatusCode, status);
    return error;
  }
  throw new Error(`expected ${name}`);
}
