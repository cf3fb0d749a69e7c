// Every S3 request is parsed once, here, into an `Endpoint`: the operation and its resource, with the
// request's identifiers checked. The HTTP layer dispatches on `endpoint.operation` with one exhaustive
// switch to one handler file per operation. Both addressing styles are read: path-style
// (https://s3.example/bucket/key) and virtual-hosted-style (https://bucket.s3.example/key) under the
// configured base domains.

import {
  type CopySource,
  checkBucketName,
  checkKey,
  decodePathText,
  parseBooleanParameter,
  parseCopySource,
  parseCopySourceRange,
  parseEncodingType,
  parseListMarker,
  parseMaximumEntries,
  parsePartNumber,
  parseUploadId,
  parseVersionId,
} from './endpoint-parameters.ts';
import { S3Error } from './errors.ts';
import { parseQuery, type RequestHeaders } from './sigv4-canonical.ts';

export type { CopySource };

export interface EndpointRequest {
  method: string;
  /** The path as sent, still percent-encoded, without the query. */
  rawPath: string;
  /** The query string as sent, without '?'. */
  rawQuery: string;
  /** Lower-case names, as Node's `IncomingMessage.headers` (the Host header included). */
  headers: RequestHeaders;
}

export interface EndpointOptions {
  /** Domains under which buckets are addressed as subdomains, e.g. "s3.eu-west-par.coffre.example". */
  baseDomains: readonly string[];
}

type Bucket = { bucket: string };
type Object_ = { bucket: string; key: string };
type Versioned = Object_ & { versionId?: string };
type Upload = Object_ & { uploadId: string };
type Copy = { copySource: CopySource };
type Encoding = { encodingType?: 'url' };

export type ListObjectsParameters = Bucket &
  Encoding & { prefix: string; delimiter?: string; maxKeys: number; marker?: string };

export type ListObjectsV2Parameters = Bucket &
  Encoding & {
    prefix: string;
    delimiter?: string;
    maxKeys: number;
    continuationToken?: string;
    startAfter?: string;
    fetchOwner: boolean;
  };

/**
 * The bucket settings read or written as a whole document, with nothing in the request but the bucket:
 * those Coffre holds (tags, encryption) and those it has fixed or does not have, which it answers as
 * S3 answers for a bucket where they are fixed or were never set.
 */
export type BucketSettingOperation =
  | 'GetBucketAcl'
  | 'PutBucketAcl'
  | 'GetBucketOwnershipControls'
  | 'PutBucketOwnershipControls'
  | 'GetPublicAccessBlock'
  | 'PutPublicAccessBlock'
  | 'GetBucketPolicy'
  | 'GetBucketPolicyStatus'
  | 'GetBucketEncryption'
  | 'PutBucketEncryption'
  | 'DeleteBucketEncryption'
  | 'GetBucketTagging'
  | 'PutBucketTagging'
  | 'DeleteBucketTagging'
  | 'GetBucketLifecycleConfiguration'
  | 'GetBucketWebsite'
  | 'GetBucketReplication'
  | 'GetBucketLogging'
  | 'GetBucketNotificationConfiguration'
  | 'GetBucketAccelerateConfiguration'
  | 'GetBucketRequestPayment';

/** One union member per name (distributed), so that each handler's endpoint type is exact. */
type BucketSetting<Name extends BucketSettingOperation> = Name extends BucketSettingOperation
  ? { operation: Name } & Bucket
  : never;

export type Endpoint =
  | { operation: 'ListBuckets'; prefix: string; continuationToken?: string; maxBuckets: number }
  | { operation: 'Options'; bucket?: string; key?: string }
  | ({ operation: 'CreateBucket' } & Bucket)
  | ({ operation: 'HeadBucket' } & Bucket)
  | ({ operation: 'DeleteBucket' } & Bucket)
  | ({ operation: 'GetBucketLocation' } & Bucket)
  | ({ operation: 'GetBucketVersioning' } & Bucket)
  | ({ operation: 'PutBucketVersioning' } & Bucket)
  | ({ operation: 'GetBucketCors' } & Bucket)
  | ({ operation: 'PutBucketCors' } & Bucket)
  | ({ operation: 'DeleteBucketCors' } & Bucket)
  | ({ operation: 'GetObjectLockConfiguration' } & Bucket)
  | ({ operation: 'PutObjectLockConfiguration' } & Bucket)
  | BucketSetting<BucketSettingOperation>
  | ({ operation: 'ListObjects' } & ListObjectsParameters)
  | ({ operation: 'ListObjectsV2' } & ListObjectsV2Parameters)
  | ({ operation: 'ListObjectVersions' } & Bucket &
      Encoding & {
        prefix: string;
        delimiter?: string;
        maxKeys: number;
        keyMarker?: string;
        versionIdMarker?: string;
      })
  | ({ operation: 'ListMultipartUploads' } & Bucket &
      Encoding & {
        prefix: string;
        delimiter?: string;
        maxUploads: number;
        keyMarker?: string;
        uploadIdMarker?: string;
      })
  | ({ operation: 'DeleteObjects' } & Bucket)
  | ({ operation: 'PutObject' } & Object_)
  | ({ operation: 'CopyObject' } & Object_ & Copy)
  | ({ operation: 'GetObject' } & Versioned & { partNumber?: number })
  | ({ operation: 'HeadObject' } & Versioned & { partNumber?: number })
  | ({ operation: 'GetObjectAttributes' } & Versioned & {
        attributes: ObjectAttributeName[];
        maxParts: number;
        partNumberMarker?: number;
      })
  | ({ operation: 'DeleteObject' } & Versioned)
  | ({ operation: 'GetObjectAcl' } & Versioned)
  | ({ operation: 'PutObjectAcl' } & Versioned)
  | ({ operation: 'GetObjectTagging' } & Versioned)
  | ({ operation: 'PutObjectTagging' } & Versioned)
  | ({ operation: 'DeleteObjectTagging' } & Versioned)
  | ({ operation: 'GetObjectRetention' } & Versioned)
  | ({ operation: 'PutObjectRetention' } & Versioned)
  | ({ operation: 'GetObjectLegalHold' } & Versioned)
  | ({ operation: 'PutObjectLegalHold' } & Versioned)
  | ({ operation: 'CreateMultipartUpload' } & Object_)
  | ({ operation: 'UploadPart' } & Upload & { partNumber: number })
  | ({ operation: 'UploadPartCopy' } & Upload &
      Copy & { partNumber: number; copySourceRange?: { first: number; last: number } })
  | ({ operation: 'CompleteMultipartUpload' } & Upload)
  | ({ operation: 'AbortMultipartUpload' } & Upload)
  | ({ operation: 'ListParts' } & Upload & { maxParts: number; partNumberMarker?: number });

export type Operation = Endpoint['operation'];

/** Bucket and object subresources that S3 has and Coffre does not serve: NotImplemented, as S3 does. */
const unsupportedBucketSubresources = [
  'analytics',
  'intelligent-tiering',
  'inventory',
  'metrics',
  'metadataTable',
  'session',
];
const unsupportedObjectSubresources = ['attributes', 'restore', 'select', 'torrent', 'renameObject'];
/**
 * Served subresources, of every method: a request naming one for a method that has no operation on
 * it is NotImplemented, never the plain bucket or object operation of that method (a DELETE of
 * `?versioning` is not a DeleteBucket, a DELETE of `?retention` not a DeleteObject).
 */
const bucketSubresources = ['versioning', 'object-lock', 'location', 'uploads', 'versions', 'delete', 'cors'];
const objectSubresources = ['retention', 'legal-hold', 'uploads', 'tagging', 'acl'];

/**
 * The bucket settings served, by subresource and method. A method not listed for a subresource (a
 * PUT of a lifecycle, a DELETE of the public access block...) is NotImplemented: Coffre does not
 * have the feature, or holds the setting fixed, and a request that would change it is refused
 * rather than silently ignored (the handlers accept the requests that ask for what is already true).
 */
const bucketSettingSubresources: Readonly<
  Record<string, Partial<Record<'GET' | 'PUT' | 'DELETE', BucketSettingOperation>>>
> = {
  acl: { GET: 'GetBucketAcl', PUT: 'PutBucketAcl' },
  ownershipControls: { GET: 'GetBucketOwnershipControls', PUT: 'PutBucketOwnershipControls' },
  publicAccessBlock: { GET: 'GetPublicAccessBlock', PUT: 'PutPublicAccessBlock' },
  policy: { GET: 'GetBucketPolicy' },
  policyStatus: { GET: 'GetBucketPolicyStatus' },
  encryption: { GET: 'GetBucketEncryption', PUT: 'PutBucketEncryption', DELETE: 'DeleteBucketEncryption' },
  tagging: { GET: 'GetBucketTagging', PUT: 'PutBucketTagging', DELETE: 'DeleteBucketTagging' },
  lifecycle: { GET: 'GetBucketLifecycleConfiguration' },
  website: { GET: 'GetBucketWebsite' },
  replication: { GET: 'GetBucketReplication' },
  logging: { GET: 'GetBucketLogging' },
  notification: { GET: 'GetBucketNotificationConfiguration' },
  accelerate: { GET: 'GetBucketAccelerateConfiguration' },
  requestPayment: { GET: 'GetBucketRequestPayment' },
};

/** What x-amz-object-attributes may name (API_GetObjectAttributes: "Valid Values: ETag | Checksum | ObjectParts | StorageClass | ObjectSize"). */
export const objectAttributeNames = [
  'ETag',
  'Checksum',
  'ObjectParts',
  'StorageClass',
  'ObjectSize',
] as const;
export type ObjectAttributeName = (typeof objectAttributeNames)[number];

/**
 * The x-amz-object-attributes header of GetObjectAttributes: a comma-separated list, empty entries
 * ignored. Missing or empty, S3 answers InvalidRequest with the message below; a name it does not
 * know is InvalidArgument "Invalid attribute name specified." (both captured from S3 in
 * versity/versitygw#915 and #1170).
 */
export function parseObjectAttributes(value: string | undefined): ObjectAttributeName[] {
  const names = (value ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  if (names.length === 0) {
    throw new S3Error('InvalidRequest', {
      message:
        'The x-amz-object-attributes header specifying the attributes to be retrieved is either missing or empty',
    });
  }
  const known: readonly string[] = objectAttributeNames;
  const unknown = names.find((name) => !known.includes(name));
  if (unknown !== undefined) {
    throw new S3Error('InvalidArgument', {
      message: 'Invalid attribute name specified.',
      elements: { ArgumentName: 'x-amz-object-attributes', ArgumentValue: unknown },
    });
  }
  return [...new Set(names as ObjectAttributeName[])];
}

type Query = Map<string, string>;

function hostName(headers: RequestHeaders): string {
  const host = headers.host;
  const value = (Array.isArray(host) ? host[0] : host) ?? '';
  // Strip the port; an IPv6 literal keeps its brackets.
  const withoutPort = value.startsWith('[') ? value.slice(0, value.indexOf(']') + 1) : value.split(':')[0];
  return withoutPort.toLowerCase().replace(/\.$/, '');
}

/** The bucket and the still-encoded key part of the path, from the Host header and the path. */
function locate(request: EndpointRequest, options: EndpointOptions): { bucket?: string; rawKey: string } {
  const host = hostName(request.headers);
  const path = request.rawPath.startsWith('/') ? request.rawPath.slice(1) : request.rawPath;
  for (const domain of options.baseDomains) {
    const suffix = `.${domain.toLowerCase()}`;
    if (host.endsWith(suffix) && host.length > suffix.length) {
      return { bucket: host.slice(0, -suffix.length), rawKey: path };
    }
  }
  if (path === '') return { rawKey: '' };
  const slash = path.indexOf('/');
  if (slash === -1) return { bucket: decodePathText(path), rawKey: '' };
  return { bucket: decodePathText(path.slice(0, slash)), rawKey: path.slice(slash + 1) };
}

/** Parses the request line and headers into the one S3 operation they ask for. */
export function parseEndpoint(request: EndpointRequest, options: EndpointOptions): Endpoint {
  const query: Query = new Map();
  for (const { name, value } of parseQuery(request.rawQuery)) if (!query.has(name)) query.set(name, value);
  const method = request.method.toUpperCase();
  const { bucket, rawKey } = locate(request, options);
  if (bucket === undefined) {
    if (method === 'OPTIONS') return { operation: 'Options' };
    if (method !== 'GET') throw methodNotAllowed(method, 'SERVICE', 'GET');
    return {
      operation: 'ListBuckets',
      prefix: query.get('prefix') ?? '',
      continuationToken: query.get('continuation-token'),
      maxBuckets: parseMaximumEntries(query.get('max-buckets'), 'max-buckets'),
    };
  }
  checkBucketName(bucket);
  const key = rawKey === '' ? undefined : checkKey(decodePathText(rawKey));
  if (method === 'OPTIONS') return { operation: 'Options', bucket, key };
  if (key === undefined) return bucketEndpoint(method, bucket, query);
  const header = (name: string) => {
    const value = request.headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  return objectEndpoint(method, { bucket, key }, query, header);
}

function methodNotAllowed(method: string, resourceType: string, allowed: string): S3Error {
  return new S3Error('MethodNotAllowed', {
    elements: { Method: method, ResourceType: resourceType },
    headers: { allow: allowed },
  });
}

function notImplemented(): S3Error {
  return new S3Error('NotImplemented');
}

/** The bucket setting a request names, if any: its operation for this method, else NotImplemented. */
function bucketSetting(method: string, bucket: string, query: Query): Endpoint | undefined {
  for (const [subresource, operations] of Object.entries(bucketSettingSubresources)) {
    if (!query.has(subresource)) continue;
    const operation = operations[method as keyof typeof operations];
    if (operation === undefined) throw notImplemented();
    return { operation, bucket } as Endpoint;
  }
  return undefined;
}

function bucketEndpoint(method: string, bucket: string, query: Query): Endpoint {
  const has = (name: string) => query.has(name);
  if (unsupportedBucketSubresources.some(has)) throw notImplemented();
  const setting = bucketSetting(method, bucket, query);
  if (setting !== undefined) return setting;
  switch (method) {
    case 'GET':
      return bucketGet(bucket, query);
    case 'HEAD':
      return { operation: 'HeadBucket', bucket };
    case 'PUT':
      if (has('versioning')) return { operation: 'PutBucketVersioning', bucket };
      if (has('cors')) return { operation: 'PutBucketCors', bucket };
      if (has('object-lock')) return { operation: 'PutObjectLockConfiguration', bucket };
      // A subresource with no PUT must never fall through to CreateBucket.
      if (bucketSubresources.some(has)) throw notImplemented();
      return { operation: 'CreateBucket', bucket };
    case 'DELETE':
      if (has('cors')) return { operation: 'DeleteBucketCors', bucket };
      // Nor one with no DELETE (versioning, object-lock...) to DeleteBucket.
      if (bucketSubresources.some(has)) throw notImplemented();
      return { operation: 'DeleteBucket', bucket };
    case 'POST':
      if (has('delete')) return { operation: 'DeleteObjects', bucket };
      // A browser-form upload (POST Object) is not served.
      throw notImplemented();
    default:
      throw methodNotAllowed(method, 'BUCKET', 'GET, HEAD, PUT, DELETE, POST');
  }
}

function bucketGet(bucket: string, query: Query): Endpoint {
  const has = (name: string) => query.has(name);
  if (has('location')) return { operation: 'GetBucketLocation', bucket };
  if (has('versioning')) return { operation: 'GetBucketVersioning', bucket };
  if (has('cors')) return { operation: 'GetBucketCors', bucket };
  if (has('object-lock')) return { operation: 'GetObjectLockConfiguration', bucket };
  const common = {
    bucket,
    prefix: query.get('prefix') ?? '',
    delimiter: query.get('delimiter') || undefined,
    encodingType: parseEncodingType(query.get('encoding-type')),
  };
  if (has('versions')) {
    return {
      operation: 'ListObjectVersions',
      ...common,
      maxKeys: parseMaximumEntries(query.get('max-keys'), 'max-keys'),
      keyMarker: query.get('key-marker') || undefined,
      versionIdMarker: query.get('version-id-marker') || undefined,
    };
  }
  if (has('uploads')) {
    return {
      operation: 'ListMultipartUploads',
      ...common,
      maxUploads: parseMaximumEntries(query.get('max-uploads'), 'max-uploads'),
      keyMarker: query.get('key-marker') || undefined,
      uploadIdMarker: query.get('upload-id-marker') || undefined,
    };
  }
  const maxKeys = parseMaximumEntries(query.get('max-keys'), 'max-keys');
  const listType = query.get('list-type');
  if (listType === '2') {
    return {
      operation: 'ListObjectsV2',
      ...common,
      maxKeys,
      continuationToken: query.get('continuation-token'),
      startAfter: query.get('start-after') || undefined,
      fetchOwner: parseBooleanParameter(query.get('fetch-owner'), 'fetch-owner'),
    };
  }
  if (listType !== undefined) {
    throw new S3Error('InvalidArgument', {
      message: 'Invalid List Type specified in Request',
      elements: { ArgumentName: 'list-type', ArgumentValue: listType },
    });
  }
  return { operation: 'ListObjects', ...common, maxKeys, marker: query.get('marker') || undefined };
}

function objectEndpoint(
  method: string,
  object: { bucket: string; key: string },
  query: Query,
  header: (name: string) => string | undefined,
): Endpoint {
  const has = (name: string) => query.has(name);
  const versioned = { ...object, versionId: parseVersionId(query.get('versionId')) };
  // GetObjectAttributes is a GET only; any other method naming ?attributes stays NotImplemented.
  if (method === 'GET' && has('attributes')) return getObjectAttributes(versioned, header);
  if (unsupportedObjectSubresources.some(has)) throw notImplemented();
  // An object's ACL is read (GET) and written (PUT) only: a DELETE of it must never be a DeleteObject.
  if (has('acl') && method !== 'GET' && method !== 'PUT') throw notImplemented();
  const uploadId = query.get('uploadId');
  switch (method) {
    case 'GET':
    case 'HEAD': {
      if (has('acl')) return { operation: 'GetObjectAcl', ...versioned };
      if (method === 'GET' && has('tagging')) return { operation: 'GetObjectTagging', ...versioned };
      if (method === 'GET' && has('retention')) return { operation: 'GetObjectRetention', ...versioned };
      if (method === 'GET' && has('legal-hold')) return { operation: 'GetObjectLegalHold', ...versioned };
      if (method === 'GET' && uploadId !== undefined) {
        const marker = query.get('part-number-marker');
        return {
          operation: 'ListParts',
          ...object,
          uploadId: parseUploadId(uploadId),
          maxParts: parseMaximumEntries(query.get('max-parts'), 'max-parts'),
          partNumberMarker: marker === undefined || marker === '' ? undefined : parseListMarker(marker),
        };
      }
      const part = query.get('partNumber');
      const partNumber = part === undefined ? undefined : parsePartNumber(part);
      return { operation: method === 'GET' ? 'GetObject' : 'HeadObject', ...versioned, partNumber };
    }
    case 'PUT':
      return objectPut(versioned, query, header);
    case 'DELETE':
      if (has('tagging')) return { operation: 'DeleteObjectTagging', ...versioned };
      if (uploadId !== undefined)
        return { operation: 'AbortMultipartUpload', ...object, uploadId: parseUploadId(uploadId) };
      // A subresource with no DELETE (retention, legal hold) must never be a DeleteObject.
      if (objectSubresources.some(has)) throw notImplemented();
      return { operation: 'DeleteObject', ...versioned };
    case 'POST':
      if (has('uploads')) return { operation: 'CreateMultipartUpload', ...object };
      if (uploadId !== undefined) {
        return { operation: 'CompleteMultipartUpload', ...object, uploadId: parseUploadId(uploadId) };
      }
      throw methodNotAllowed(method, 'OBJECT', 'GET, HEAD, PUT, DELETE');
    default:
      throw methodNotAllowed(method, 'OBJECT', 'GET, HEAD, PUT, DELETE, POST');
  }
}

/** GetObjectAttributes: the attributes asked for, and the ObjectParts page (headers, as ListParts' query). */
function getObjectAttributes(
  versioned: { bucket: string; key: string; versionId?: string },
  header: (name: string) => string | undefined,
): Endpoint {
  const marker = header('x-amz-part-number-marker');
  return {
    operation: 'GetObjectAttributes',
    ...versioned,
    attributes: parseObjectAttributes(header('x-amz-object-attributes')),
    maxParts: parseMaximumEntries(header('x-amz-max-parts'), 'x-amz-max-parts'),
    partNumberMarker:
      marker === undefined || marker === '' ? undefined : parseListMarker(marker, 'x-amz-part-number-marker'),
  };
}

function objectPut(
  versioned: { bucket: string; key: string; versionId?: string },
  query: Query,
  header: (name: string) => string | undefined,
): Endpoint {
  const has = (name: string) => query.has(name);
  if (has('acl')) return { operation: 'PutObjectAcl', ...versioned };
  if (has('tagging')) return { operation: 'PutObjectTagging', ...versioned };
  if (has('retention')) return { operation: 'PutObjectRetention', ...versioned };
  if (has('legal-hold')) return { operation: 'PutObjectLegalHold', ...versioned };
  // Nor a PUT of one without a PUT (uploads) a PutObject.
  if (objectSubresources.some(has)) throw notImplemented();
  const { bucket, key } = versioned;
  const copySourceHeader = header('x-amz-copy-source');
  const copySource = copySourceHeader === undefined ? undefined : parseCopySource(copySourceHeader);
  const uploadId = query.get('uploadId');
  const part = query.get('partNumber');
  if (uploadId !== undefined || part !== undefined) {
    if (uploadId === undefined || part === undefined) {
      throw new S3Error('InvalidRequest', { message: 'A part upload needs both partNumber and uploadId.' });
    }
    const upload = { bucket, key, uploadId: parseUploadId(uploadId), partNumber: parsePartNumber(part) };
    if (copySource === undefined) return { operation: 'UploadPart', ...upload };
    return {
      operation: 'UploadPartCopy',
      ...upload,
      copySource,
      copySourceRange: parseCopySourceRange(header('x-amz-copy-source-range')),
    };
  }
  if (copySource !== undefined) return { operation: 'CopyObject', bucket, key, copySource };
  return { operation: 'PutObject', bucket, key };
}
