// The durable records of the object layer, stored as the metadata of shard-store versions. They
// carry everything S3 versioning, Object Lock and encryption will need (delete markers, the
// "null" version, retention, legal hold, per-object encryption), so those features change what
// the code does, not what is on disk. Every record has a magic and a format version.
import assert from 'node:assert/strict';

export const recordMagic = 'coffre.objects';
export const recordFormatVersion = 1;

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
  // Version 1 is the only format so far; a later format adds its upgrade here.
  assert.equal(
    wrapped.formatVersion,
    recordFormatVersion,
    `unknown object record format ${wrapped.formatVersion}`,
  );
  assert.ok(typeof wrapped.record === 'object' && wrapped.record !== null, 'object record without a body');
  switch (wrapped.kind) {
    case 'bucket':
    case 'object-version':
    case 'upload':
    case 'part':
      return { kind: wrapped.kind, record: wrapped.record } as LayerRecord;
    default:
      return null;
  }
}

/** Store keys of the system records. Object versions live at their own bucket and key. */
export const systemKeys = {
  bucket: (name: string) => `buckets/${name}`,
  upload: (uploadId: string) => `uploads/${uploadId}`,
  part: (uploadId: string, partNumber: number) => `parts/${uploadId}/${String(partNumber).padStart(5, '0')}`,
};
