// The object layer's operating errors. Each code is the S3 error code string that the protocol
// layer's one error table (agent/s3/errors.ts) maps to an HTTP status and message, so the two
// layers share these exact spellings. Programmer errors are assertions, never an ObjectError.

export type ObjectErrorCode =
  | 'AccessDenied'
  | 'BucketAlreadyExists'
  | 'BucketAlreadyOwnedByYou'
  | 'BucketNotEmpty'
  | 'EntityTooLarge'
  | 'EntityTooSmall'
  | 'InvalidArgument'
  | 'InvalidBucketName'
  | 'InvalidBucketState'
  | 'InvalidPart'
  | 'InvalidPartOrder'
  | 'InvalidRange'
  | 'InvalidRequest'
  | 'InvalidTag'
  | 'KeyTooLongError'
  | 'MalformedXML'
  | 'MethodNotAllowed'
  | 'NoSuchBucket'
  | 'NoSuchCORSConfiguration'
  | 'NoSuchKey'
  | 'NoSuchTagSet'
  | 'NoSuchUpload'
  | 'NoSuchVersion'
  | 'ObjectLockConfigurationNotFoundError'
  | 'PreconditionFailed'
  /** Coffre's own: a hard quota of the tenant or the bucket would be exceeded. */
  | 'QuotaExceeded';

/** Facts the protocol layer turns into headers (x-amz-delete-marker, x-amz-version-id, ...). */
export interface ObjectErrorDetails {
  bucket?: string;
  key?: string;
  versionId?: string;
  uploadId?: string;
  /** Set when the answer is about a delete marker (S3 then sends x-amz-delete-marker: true). */
  isDeleteMarker?: boolean;
  /** When that delete marker was made (a 405 about it carries Last-Modified). */
  lastModifiedMs?: number;
  /** The object size, for a 416 answer's Content-Range: bytes *\/size. */
  objectSizeBytes?: number;
  partNumber?: number;
}

export class ObjectError extends Error {
  readonly code: ObjectErrorCode;
  readonly details: ObjectErrorDetails;

  constructor(code: ObjectErrorCode, message: string, details: ObjectErrorDetails = {}) {
    super(message);
    this.name = 'ObjectError';
    this.code = code;
    this.details = details;
  }
}

/** True when `error` is an ObjectError, optionally with the given code. */
export function isObjectError(error: unknown, code?: ObjectErrorCode): error is ObjectError {
  return error instanceof ObjectError && (code === undefined || error.code === code);
}
