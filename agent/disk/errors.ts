// The operating errors of one drive. The shard store switches on `code`: a drive that is gone is
// skipped and healed later, a full drive fails the write cleanly, a missing file is a missing
// shard. Anything else from the file system is also reported as DRIVE_OFFLINE, because a drive
// that answers with an unexpected error (EIO, EROFS...) cannot be trusted with new data.

export type DriveErrorCode =
  /** The drive's directory is gone (unmounted, removed) or it answers with an I/O error. */
  | 'DRIVE_OFFLINE'
  /** ENOSPC or EDQUOT: no room left for the write. */
  | 'DISK_FULL'
  /** The file or directory asked for does not exist on an otherwise healthy drive. */
  | 'NOT_FOUND'
  /** The bytes read do not match their checksum or their format. */
  | 'CORRUPT';

export class DriveError extends Error {
  readonly code: DriveErrorCode;
  /** The drive that failed, for logs. */
  readonly drive: string;

  constructor(code: DriveErrorCode, drive: string, message: string, options?: { cause?: unknown }) {
    super(`${drive}: ${message}`, options);
    this.name = 'DriveError';
    this.code = code;
    this.drive = drive;
  }
}

export function isDriveError(error: unknown, code?: DriveErrorCode): error is DriveError {
  return error instanceof DriveError && (code === undefined || error.code === code);
}

/** The errno codes that mean "no room": ENOSPC, and EDQUOT for a quota on the drive. */
const fullCodes = new Set(['ENOSPC', 'EDQUOT']);

/**
 * Turns a file-system error into a DriveError. `rootExists` tells a missing file (NOT_FOUND) from
 * a missing drive (the mount directory itself is gone: DRIVE_OFFLINE).
 */
export function toDriveError(error: unknown, drive: string, rootExists: boolean): DriveError {
  if (error instanceof DriveError) return error;
  const errno = (error as NodeJS.ErrnoException | undefined)?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (errno !== undefined && fullCodes.has(errno))
    return new DriveError('DISK_FULL', drive, message, { cause: error });
  if ((errno === 'ENOENT' || errno === 'ENOTDIR') && rootExists) {
    return new DriveError('NOT_FOUND', drive, message, { cause: error });
  }
  return new DriveError('DRIVE_OFFLINE', drive, message, { cause: error });
}
