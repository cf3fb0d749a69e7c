// The operating errors of the erasure set, one class with a stable `code` that the object layer
// maps to S3 errors (QUORUM_LOST and DRIVE_OFFLINE -> 503 SlowDown/ServiceUnavailable, DISK_FULL ->
// 507-like InsufficientStorage, NOT_FOUND -> NoSuchKey/NoSuchVersion, CORRUPT -> 500).
import { type DriveError, isDriveError } from '../disk/index.ts';

export type StoreErrorCode =
  /** A drive needed for this call is offline (used for calls that address one drive). */
  | 'DRIVE_OFFLINE'
  /** Fewer drives answered than the write quorum, or than k for a read. */
  | 'QUORUM_LOST'
  /** The drives ran out of space: the write failed cleanly and stored data is intact. */
  | 'DISK_FULL'
  /** Enough drives answered but fewer than k shards of a block were intact: data lost. */
  | 'CORRUPT'
  /** No such version. */
  | 'NOT_FOUND';

export class StoreError extends Error {
  readonly code: StoreErrorCode;

  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreError';
    this.code = code;
  }
}

/**
 * The error for a write that did not reach its quorum: DISK_FULL when running out of space is
 * what stopped most of the failed drives (so the caller sees the actionable cause), otherwise
 * QUORUM_LOST.
 */
export function writeQuorumError(failures: readonly unknown[], needed: number, what: string): StoreError {
  const full = failures.filter((failure) => isDriveError(failure, 'DISK_FULL')).length;
  const cause = failures.find((failure) => failure !== undefined);
  const summary = failures
    .map((failure) => (isDriveError(failure) ? (failure as DriveError).code : String(failure)))
    .join(', ');
  if (full > 0 && full * 2 >= failures.length) {
    return new StoreError('DISK_FULL', `${what}: drives are full (${summary})`, { cause });
  }
  return new StoreError('QUORUM_LOST', `${what}: fewer than ${needed} drives succeeded (${summary})`, {
    cause,
  });
}
