// The ONE table of S3 errors: every error code the S3 endpoint can answer, with the HTTP status and
// the default message that Amazon S3 gives (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html).
// Handlers throw `S3Error`; anything else thrown is converted by `toS3Error`, unknown values becoming
// InternalError, so a client never sees a stack trace and always sees an S3 error document.

import { bucketNameOfId } from '../objects/records.ts';

export interface S3ErrorDefinition {
  readonly status: number;
  readonly message: string;
}

export const s3ErrorTable = {
  AccessDenied: { status: 403, message: 'Access Denied' },
  // A request that sets an ACL other than the bucket owner's full control: every bucket is
  // BucketOwnerEnforced (ACLs disabled), S3's default since April 2023.
  AccessControlListNotSupported: { status: 400, message: 'The bucket does not allow ACLs' },
  // A refused CORS preflight (OPTIONS), with S3's own code and wording (and its typo, "evalution").
  AccessForbidden: {
    status: 403,
    message:
      "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.",
  },
  AccountProblem: {
    status: 403,
    message:
      'There is a problem with your account that prevents the action from completing successfully. Contact support for further assistance.',
  },
  AllAccessDisabled: { status: 403, message: 'All access to this Amazon S3 resource has been disabled.' },
  AuthorizationHeaderMalformed: { status: 400, message: 'The authorization header you provided is invalid.' },
  AuthorizationQueryParametersError: {
    status: 400,
    message: 'The authorization query parameters you provided are invalid.',
  },
  // A CORS preflight without Origin or Access-Control-Request-Method.
  BadRequest: { status: 400, message: 'Insufficient information. Origin request header needed.' },
  BadDigest: { status: 400, message: 'The Content-MD5 you specified did not match what we received.' },
  BucketAlreadyExists: {
    status: 409,
    message:
      'The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.',
  },
  BucketAlreadyOwnedByYou: {
    status: 409,
    message: 'Your previous request to create the named bucket succeeded and you already own it.',
  },
  BucketNotEmpty: { status: 409, message: 'The bucket you tried to delete is not empty' },
  CredentialsNotSupported: { status: 400, message: 'This request does not support credentials.' },
  EntityTooLarge: { status: 400, message: 'Your proposed upload exceeds the maximum allowed object size.' },
  EntityTooSmall: {
    status: 400,
    message: 'Your proposed upload is smaller than the minimum allowed object size.',
  },
  ExpiredToken: { status: 400, message: 'The provided token has expired.' },
  IllegalLocationConstraintException: {
    status: 400,
    message: 'The specified location-constraint is not valid for this endpoint.',
  },
  IllegalVersioningConfigurationException: {
    status: 400,
    message: 'The versioning configuration specified in the request is invalid.',
  },
  IncompleteBody: {
    status: 400,
    message: 'You did not provide the number of bytes specified by the Content-Length HTTP header',
  },
  InlineDataTooLarge: { status: 400, message: 'Inline data exceeds the maximum allowed size.' },
  InternalError: { status: 500, message: 'We encountered an internal error. Please try again.' },
  InvalidAccessKeyId: {
    status: 403,
    message: 'The AWS Access Key Id you provided does not exist in our records.',
  },
  InvalidArgument: { status: 400, message: 'Invalid Argument' },
  // CreateBucket with an ACL that grants anyone but the owner, under BucketOwnerEnforced.
  InvalidBucketAclWithObjectOwnership: {
    status: 400,
    message: "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting",
  },
  InvalidBucketName: { status: 400, message: 'The specified bucket is not valid.' },
  InvalidBucketState: {
    status: 409,
    message: 'The request is not valid with the current state of the bucket.',
  },
  InvalidDigest: { status: 400, message: 'The Content-MD5 you specified is not valid.' },
  InvalidChunkSizeError: {
    status: 403,
    message: 'Only the last chunk is allowed to have a size less than 8192 bytes',
  },
  InvalidEncryptionAlgorithmError: {
    status: 400,
    message: 'The encryption request you specified is not valid. The valid value is AES256.',
  },
  InvalidLocationConstraint: { status: 400, message: 'The specified location constraint is not valid.' },
  InvalidObjectState: {
    status: 403,
    message: 'The operation is not valid for the current state of the object.',
  },
  InvalidPart: {
    status: 400,
    message:
      "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
  },
  InvalidPartOrder: {
    status: 400,
    message: 'The list of parts was not in ascending order. Parts must be ordered by part number.',
  },
  InvalidPartNumber: { status: 416, message: 'The requested partnumber is not satisfiable' },
  InvalidRange: { status: 416, message: 'The requested range is not satisfiable' },
  InvalidRequest: { status: 400, message: 'Invalid Request' },
  InvalidRetentionPeriod: { status: 400, message: 'The retention period specified is not valid.' },
  InvalidStorageClass: { status: 400, message: 'The storage class you specified is not valid' },
  InvalidTag: { status: 400, message: 'The tag provided was not a valid tag.' },
  InvalidToken: { status: 400, message: 'The provided token is malformed or otherwise invalid.' },
  InvalidURI: { status: 400, message: "Couldn't parse the specified URI." },
  KeyTooLongError: { status: 400, message: 'Your key is too long' },
  MalformedACLError: {
    status: 400,
    message: 'The XML you provided was not well-formed or did not validate against our published schema.',
  },
  MalformedPOSTRequest: {
    status: 400,
    message: 'The body of your POST request is not well-formed multipart/form-data.',
  },
  MalformedXML: {
    status: 400,
    message: 'The XML you provided was not well-formed or did not validate against our published schema',
  },
  MaxMessageLengthExceeded: { status: 400, message: 'Your request was too big.' },
  MetadataTooLarge: {
    status: 400,
    message: 'Your metadata headers exceed the maximum allowed metadata size.',
  },
  MethodNotAllowed: { status: 405, message: 'The specified method is not allowed against this resource.' },
  MissingContentLength: { status: 411, message: 'You must provide the Content-Length HTTP header.' },
  MissingRequestBodyError: { status: 400, message: 'Request Body is empty' },
  MissingSecurityHeader: { status: 400, message: 'Your request is missing a required header.' },
  NoSuchBucket: { status: 404, message: 'The specified bucket does not exist' },
  NoSuchBucketPolicy: { status: 404, message: 'The bucket policy does not exist' },
  NoSuchCORSConfiguration: { status: 404, message: 'The CORS configuration does not exist' },
  NoSuchKey: { status: 404, message: 'The specified key does not exist.' },
  NoSuchLifecycleConfiguration: { status: 404, message: 'The lifecycle configuration does not exist' },
  NoSuchObjectLockConfiguration: {
    status: 404,
    message: 'The specified object does not have a ObjectLock configuration',
  },
  NoSuchTagSet: { status: 404, message: 'The TagSet does not exist' },
  NoSuchUpload: {
    status: 404,
    message:
      'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
  },
  NoSuchVersion: { status: 404, message: 'The specified version does not exist.' },
  NoSuchWebsiteConfiguration: {
    status: 404,
    message: 'The specified bucket does not have a website configuration',
  },
  NotImplemented: {
    status: 501,
    message: 'A header you provided implies functionality that is not implemented',
  },
  NotModified: { status: 304, message: 'Not Modified' },
  ObjectLockConfigurationNotFoundError: {
    status: 404,
    message: 'Object Lock configuration does not exist for this bucket',
  },
  OperationAborted: {
    status: 409,
    message: 'A conflicting conditional operation is currently in progress against this resource. Try again.',
  },
  PreconditionFailed: {
    status: 412,
    message: 'At least one of the pre-conditions you specified did not hold',
  },
  // Coffre's own: a tenant over its contracted volume. 403 like AWS's own quota refusals.
  QuotaExceeded: { status: 403, message: 'The tenant has reached the storage volume of its contract.' },
  ReplicationConfigurationNotFoundError: {
    status: 404,
    message: 'The replication configuration was not found',
  },
  RequestHeaderSectionTooLarge: {
    status: 400,
    message: 'Your request header section exceeds the maximum allowed size.',
  },
  RequestIsNotMultiPartContent: {
    status: 400,
    message: 'Bucket POST must be of the enclosure-type multipart/form-data.',
  },
  RequestTimeout: {
    status: 400,
    message:
      'Your socket connection to the server was not read from or written to within the timeout period.',
  },
  RequestTimeTooSkewed: {
    status: 403,
    message: 'The difference between the request time and the current time is too large.',
  },
  ServerSideEncryptionConfigurationNotFoundError: {
    status: 404,
    message: 'The server side encryption configuration was not found',
  },
  ServiceUnavailable: { status: 503, message: 'Service is unable to handle request.' },
  SignatureDoesNotMatch: {
    status: 403,
    message:
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
  },
  SlowDown: { status: 503, message: 'Please reduce your request rate.' },
  TooManyBuckets: { status: 400, message: 'You have attempted to create more buckets than allowed' },
  UnexpectedContent: { status: 400, message: 'This request does not support content' },
  XAmzContentSHA256Mismatch: {
    status: 400,
    message: "The provided 'x-amz-content-sha256' header does not match what was computed.",
  },
} as const satisfies Record<string, S3ErrorDefinition>;

export type S3ErrorCode = keyof typeof s3ErrorTable;

export function isS3ErrorCode(value: unknown): value is S3ErrorCode {
  return typeof value === 'string' && Object.hasOwn(s3ErrorTable, value);
}

export interface S3ErrorOptions {
  /** Replaces the table's default message, as AWS does for specific causes ("Request has expired"). */
  message?: string;
  /**
   * Extra child elements of `<Error>`, in order, as AWS adds them: `Key`, `BucketName`, `StringToSign`,
   * `CanonicalRequest`, `ExpectedDigest`, `RequestTime`, `ServerTime`, `MaxAllowedSkewMilliseconds`...
   */
  elements?: Record<string, string | number | undefined>;
  /** Response headers the error carries (e.g. `Allow` with MethodNotAllowed, `x-amz-delete-marker`). */
  headers?: Record<string, string>;
  cause?: unknown;
}

/** Where and for whom the error happened; filled by the HTTP layer when it writes the response. */
export interface S3ErrorContext {
  resource?: string;
  requestId?: string;
  hostId?: string;
}

export class S3Error extends Error {
  readonly code: S3ErrorCode;
  readonly status: number;
  readonly elements: Record<string, string>;
  readonly headers: Record<string, string>;

  constructor(code: S3ErrorCode, options: S3ErrorOptions = {}) {
    const definition = s3ErrorTable[code];
    super(
      options.message ?? definition.message,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = 'S3Error';
    this.code = code;
    this.status = definition.status;
    this.elements = {};
    for (const [name, value] of Object.entries(options.elements ?? {})) {
      if (value !== undefined) this.elements[name] = String(value);
    }
    this.headers = { ...options.headers };
  }

  /** The `<Error>` document AWS sends as the body of an error response (no namespace, as AWS). */
  toXml(context: S3ErrorContext = {}): string {
    const parts = [`<Code>${this.code}</Code>`, `<Message>${escapeXml(this.message)}</Message>`];
    for (const [name, value] of Object.entries(this.elements)) {
      parts.push(`<${name}>${escapeXml(value)}</${name}>`);
    }
    if (context.resource !== undefined && !('Resource' in this.elements)) {
      parts.push(`<Resource>${escapeXml(context.resource)}</Resource>`);
    }
    if (context.requestId !== undefined) parts.push(`<RequestId>${escapeXml(context.requestId)}</RequestId>`);
    if (context.hostId !== undefined) parts.push(`<HostId>${escapeXml(context.hostId)}</HostId>`);
    return `<?xml version="1.0" encoding="UTF-8"?>\n<Error>${parts.join('')}</Error>`;
  }
}

/**
 * Turns anything thrown into an S3Error. Lower layers throw their own typed errors; one whose `code` is an
 * S3 error code (e.g. the objects layer's NoSuchKey) keeps that code and its message. Everything else
 * (programming errors, disk errors such as ENOENT) becomes InternalError, the cause kept for the log.
 */
export function toS3Error(thrown: unknown): S3Error {
  if (thrown instanceof S3Error) return thrown;
  if (thrown instanceof Error) {
    const { code, details } = thrown as Error & { code?: unknown; details?: unknown };
    if (isS3ErrorCode(code)) {
      return new S3Error(code, {
        message: thrown.message || undefined,
        cause: thrown,
        ...fromLowerLayerDetails(typeof details === 'object' && details !== null ? details : {}),
      });
    }
  }
  return new S3Error('InternalError', { cause: thrown });
}

/** The facts a lower layer attaches to its errors (agent/objects ObjectErrorDetails), as S3 shows them. */
interface LowerLayerDetails {
  bucket?: unknown;
  key?: unknown;
  versionId?: unknown;
  uploadId?: unknown;
  partNumber?: unknown;
  isDeleteMarker?: unknown;
  lastModifiedMs?: unknown;
  objectSizeBytes?: unknown;
}

function fromLowerLayerDetails(details: LowerLayerDetails): Pick<S3ErrorOptions, 'elements' | 'headers'> {
  const text = (value: unknown) =>
    typeof value === 'string' || typeof value === 'number' ? value : undefined;
  const headers: Record<string, string> = {};
  // S3 marks answers about a delete marker (404 NoSuchKey, 405 MethodNotAllowed) with these headers.
  if (details.isDeleteMarker === true) headers['x-amz-delete-marker'] = 'true';
  if (details.isDeleteMarker === true && typeof details.versionId === 'string') {
    headers['x-amz-version-id'] = details.versionId;
  }
  // A 405 about a delete marker named by its version id also says when it was made (as S3).
  if (details.isDeleteMarker === true && typeof details.lastModifiedMs === 'number') {
    headers['last-modified'] = new Date(details.lastModifiedMs).toUTCString();
  }
  // A 416 names the object's size so the client can ask again (RFC 9110 section 15.5.17).
  if (typeof details.objectSizeBytes === 'number')
    headers['content-range'] = `bytes */${details.objectSizeBytes}`;
  return {
    elements: {
      // The layer names a bucket by its id (`<tenant>/<name>`); S3 answers show only its name.
      BucketName: typeof details.bucket === 'string' ? bucketNameOfId(details.bucket) : undefined,
      Key: text(details.key),
      VersionId: text(details.versionId),
      UploadId: text(details.uploadId),
      PartNumber: text(details.partNumber),
      ActualObjectSize: text(details.objectSizeBytes),
    },
    headers,
  };
}

const xmlEscapes: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
  '\r': '&#13;',
};

/**
 * Escapes text for an XML element or attribute. Characters XML 1.0 cannot carry at all (controls other
 * than tab and newline) are written as character references, like S3 does for keys with such bytes.
 */
export function escapeXml(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is replaced here.
  return text.replace(/[&<>"'\r\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, (character) => {
    return xmlEscapes[character] ?? `&#${character.charCodeAt(0)};`;
  });
}
