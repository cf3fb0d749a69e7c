// The durable records of the object layer, stored as the metadata of shard-store versions. They
// carry everything S3 versioning, Object Lock and encryption will need (delete markers, the
// "null" version, retention, legal hold, per-object encryption), so those features change what
// the code does, not what is on disk. Every record has a magic and a format version.
import assert from 'node:assert/strict';

export const recordMagic = 'coffre.objects';
/**
 * 2: buckets live in per-tenant namespaces; a bucket record carries its `id`, the store's bucket
 * string. 1: bucket names were global and a bucket's id was its name (read as such, see fromMetadata).
 */
export const recordFormatVersion = 2;
const readableFormatVersions: readonly unknown[] = [1, 2];

/**
 * The store bucket that holds the layer's own records (bucket configurations, multipart uploads
 * and parts). Its name starts with a dot, which no S3 bucket name can, so it never collides.
 */
export const systemBucket = '.coffre';

export type VersioningState = 'Unversioned' | 'Enabled' | 'Suspended';
export type RetentionMode = 'GOVERNANCE' | 'COMPLIANCE';

/** Object Lock retention of one version: it may not be deleted or overwritten before `retainUntilMs`. */
export interface Retention {
  mode: RetentionMode;
  retainUntilMs: number;
}

/** A bucket's default retention, applied to new versions that do not name their own. */
export interface DefaultRetention {
  mode: RetentionMode;
  days?: number;
  years?: number;
}

export interface CorsRule {
  id?: string;
  allowedMethods: string[];
  allowedOrigins: string[];
  allowedHeaders?: string[];
  exposeHeaders?: string[];
  maxAgeSeconds?: number;
}

export type Tags = Record<string, string>;

export interface BucketRecord {
  /**
   * The bucket's identity inside the layer: the store's bucket string, the index's and the usage
   * ledger's key. `<ownerTenantId>/<name>` (see bucketIdOf), or the bare name for a bucket created
   * when names were global (record format 1), whose versions are stored under that name.
   */
  id: string;
  /** The S3 name, unique within the owner's namespace only: what S3 answers show. */
  name: string;
  ownerTenantId: string;
  createdMs: number;
  /** The LocationConstraint answered by GetBucketLocation. */
  region: string;
  versioning: VersioningState;
  objectLock: { enabled: boolean; defaultRetention: DefaultRetention | null };
  cors: CorsRule[] | null;
  tags: Tags | null;
}

/** How a version's bytes are encrypted at rest (done below or beside this layer; recorded here). */
export interface EncryptionRecord {
  algorithm: 'AES256' | 'aws:kms' | 'SSE-C';
  keyId?: string;
  /** SSE-C: base64 MD5 of the customer's key, to check the key presented on read. */
  customerKeyMd5?: string;
}

/** Content-Type and the other system headers S3 stores and returns verbatim. */
export interface SystemHeaders {
  contentType?: string;
  cacheControl?: string;
  contentDisposition?: string;
  contentEncoding?: string;
  contentLanguage?: string;
  expires?: string;
  websiteRedirectLocation?: string;
}

/** An additional checksum computed and verified by the protocol layer (x-amz-checksum-*). */
export interface ChecksumRecord {
  algorithm: 'CRC32' | 'CRC32C' | 'CRC64NVME' | 'SHA1' | 'SHA256';
  value: string;
  type: 'FULL_OBJECT' | 'COMPOSITE';
}

export interface ObjectVersionRecord {
  bucket: string;
  key: string;
  /** What S3 clients see: "null" for a version written while versioning was not Enabled. */
  versionId: string;
  /** Hybrid-clock time of the commit; orders a key's versions (newest first). */
  sequence: string;
  isDeleteMarker: boolean;
  sizeBytes: number;
  etag: string;
  lastModifiedMs: number;
  storageClass: string;
  headers: SystemHeaders;
  userMetadata: Record<string, string>;
  tags: Tags;
  checksum: ChecksumRecord | null;
  /** Set when the store version's data is a manifest of parts rather than the object's bytes. */
  multipart: { partCount: number; uploadId: string } | null;
  retention: Retention | null;
  legalHold: boolean;
  encryption: EncryptionRecord | null;
}

export interface UploadRecord {
  bucket: string;
  key: string;
  uploadId: string;
  initiatedMs: number;
  storageClass: string;
  headers: SystemHeaders;
  userMetadata: Record<string, string>;
  tags: Tags;
  retention: Retention | null;
  legalHold: boolean;
  encryption: EncryptionRecord | null;
  checksumAlgorithm: ChecksumRecord['algorithm'] | null;
  /** Absent in uploads recorded before it existed: COMPOSITE, S3's default then. */
  checksumType?: ChecksumRecord['type'] | null;
}

export interface PartRecord {
  bucket: string;
  key: string;
  uploadId: string;
  partNumber: number;
  sizeBytes: number;
  etag: string;
  lastModifiedMs: number;
  checksum: ChecksumRecord | null;
}

export type LayerRecord =
  | { kind: 'bucket'; record: BucketRecord }
  | { kind: 'object-version'; record: ObjectVersionRecord }
  | { kind: 'upload'; record: UploadRecord }
  | { kind: 'part'; record: PartRecord };

/** Wraps a record as shard-store metadata, under one property so the store may add its own. */
export function toMetadata(entry: LayerRecord): Record<string, unknown> {
  return { [recordMagic]: { formatVersion: recordFormatVersion, kind: entry.kind, record: entry.record } };
}

/** Reads a record back from store metadata; null when the version is not one of ours. */
export function fromMetadata(metadata: Record<string, unknown>): LayerRecord | null {
  const wrapped = metadata[recordMagic] as
    | { formatVersion?: unknown; kind?: unknown; record?: unknown }
    | undefined;
  if (wrapped === undefined || typeof wrapped !== 'object' || wrapped === null) return null;
  assert.ok(
    readableFormatVersions.includes(wrapped.formatVersion),
    `unknown object record format ${wrapped.formatVersion}`,
  );
  assert.ok(typeof wrapped.record === 'object' && wrapped.record !== null, 'object record without a body');
  switch (wrapped.kind) {
    case 'bucket':
      return { kind: 'bucket', record: upgradeBucketRecord(wrapped.record as BucketRecord) };
    case 'object-version':
    case 'upload':
    case 'part':
      return { kind: wrapped.kind, record: wrapped.record } as LayerRecord;
    default:
      return null;
  }
}

/**
 * A format 1 bucket record has no id: names were global and its versions are stored under its name,
 * so its id is its name. Such a bucket stays at that address (its data is not rewritten) and is
 * still found in its owner's namespace (Buckets.find), so the owner sees no change.
 */
function upgradeBucketRecord(record: BucketRecord): BucketRecord {
  return typeof record.id === 'string' ? record : { ...record, id: record.name };
}

/**
 * The id of a bucket created now: its owner's namespace and its S3 name. Neither can contain '/'
 * (S3 bucket names are letters, digits, '.' and '-'; tenant ids too), so no two (tenant, name)
 * pairs share an id, and no id of this form equals a format 1 id (a bare name).
 */
export function bucketIdOf(tenantId: string, name: string): string {
  assert.ok(tenantId.length > 0 && !tenantId.includes('/'), `tenant id ${tenantId} cannot own buckets`);
  assert.ok(!name.includes('/'), `bucket name ${name} contains '/'`);
  return `${tenantId}/${name}`;
}

/** The S3 name of a bucket id (either form), for answers and error details. */
export function bucketNameOfId(id: string): string {
  return id.slice(id.lastIndexOf('/') + 1);
}

/** Store keys of the system records. Object versions live at their own bucket and key. */
export const systemKeys = {
  /** By bucket id: `buckets/<tenant>/<name>`, or `buckets/<name>` for a format 1 bucket. */
  bucket: (id: string) => `buckets/${id}`,
  upload: (uploadId: string) => `uploads/${uploadId}`,
  part: (uploadId: string, partNumber: number) => `parts/${uploadId}/${String(partNumber).padStart(5, '0')}`,
};
