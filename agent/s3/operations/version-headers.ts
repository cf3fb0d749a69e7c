// The response headers that describe a stored version, as GetObject and HeadObject send them:
// ETag (quoted), Last-Modified (RFC 7231 IMF-fixdate), the stored system headers, x-amz-meta-*,
// x-amz-version-id, storage class, tag count, Object Lock state and, when asked, the checksum.
import type { ChecksumRecord, ObjectVersionRecord } from '../../objects/records.ts';
import { checksumHeaderName } from '../checksums.ts';
import type { ResponseHeaders } from '../responses.ts';
import type { XmlChildren } from '../xml.ts';
import { encryptionHeaders } from './server-side-encryption.ts';

/** S3's Content-Type for objects stored without one. */
export const defaultContentType = 'binary/octet-stream';

export function quoteEtag(etag: string): string {
  return `"${etag}"`;
}

export function httpDate(ms: number): string {
  return new Date(ms).toUTCString();
}

/**
 * x-amz-version-id: a bucket that has never had versioning shows none; once versioning was enabled
 * (Enabled or Suspended) every version has an id to show, "null" included.
 */
export function versionIdHeader(
  versionId: string,
  asked?: string,
  bucketVersioning?: string,
): string | undefined {
  const versioned = bucketVersioning !== undefined && bucketVersioning !== 'Unversioned';
  return versionId !== 'null' || asked === 'null' || versioned ? versionId : undefined;
}

/** x-amz-checksum-<algorithm> and x-amz-checksum-type. */
export function checksumHeaders(checksum: ChecksumRecord | null): ResponseHeaders {
  if (checksum === null) return {};
  return { [checksumHeaderName(checksum.algorithm)]: checksum.value, 'x-amz-checksum-type': checksum.type };
}

/** A checksum's element name in S3's XML answers: ChecksumCRC32, ChecksumSHA256... */
export function checksumElementName(algorithm: ChecksumRecord['algorithm']): string {
  return `Checksum${algorithm}`;
}

/**
 * A checksum as S3's XML answers carry it: <ChecksumCRC32>value</ChecksumCRC32>, then <ChecksumType>
 * where the answer has one (an object's, not a part's); nothing without a checksum.
 */
export function checksumElements(
  checksum: ChecksumRecord | null,
  options: { withType: boolean },
): XmlChildren {
  if (checksum === null) return [];
  const value: XmlChildren = [[checksumElementName(checksum.algorithm), checksum.value]];
  return options.withType ? [...value, ['ChecksumType', checksum.type]] : value;
}

export interface VersionHeaderOptions {
  /** The versionId query parameter of the request. */
  askedVersionId?: string;
  /** The bucket's versioning state (Unversioned, Enabled, Suspended). */
  bucketVersioning?: string;
  /** x-amz-checksum-mode: ENABLED. */
  withChecksum: boolean;
  /** partNumber was given: S3 then reports the part count of a multipart object. */
  partNumberAsked: boolean;
}

export function versionHeaders(record: ObjectVersionRecord, options: VersionHeaderOptions): ResponseHeaders {
  const stored = record.headers;
  const headers: ResponseHeaders = {
    'Last-Modified': httpDate(record.lastModifiedMs),
    ETag: quoteEtag(record.etag),
    'Accept-Ranges': 'bytes',
    'Content-Type': stored.contentType ?? defaultContentType,
    'Cache-Control': stored.cacheControl,
    'Content-Disposition': stored.contentDisposition,
    'Content-Encoding': stored.contentEncoding,
    'Content-Language': stored.contentLanguage,
    Expires: stored.expires,
    'x-amz-website-redirect-location': stored.websiteRedirectLocation,
    'x-amz-version-id': versionIdHeader(record.versionId, options.askedVersionId, options.bucketVersioning),
    // S3 leaves the header out for STANDARD.
    'x-amz-storage-class': record.storageClass === 'STANDARD' ? undefined : record.storageClass,
  };
  for (const [name, value] of Object.entries(record.userMetadata)) headers[`x-amz-meta-${name}`] = value;
  const tagCount = Object.keys(record.tags).length;
  if (tagCount > 0) headers['x-amz-tagging-count'] = tagCount;
  if (record.retention !== null) {
    headers['x-amz-object-lock-mode'] = record.retention.mode;
    headers['x-amz-object-lock-retain-until-date'] = new Date(record.retention.retainUntilMs).toISOString();
  }
  if (record.legalHold) headers['x-amz-object-lock-legal-hold'] = 'ON';
  if (options.partNumberAsked && record.multipart !== null) {
    headers['x-amz-mp-parts-count'] = record.multipart.partCount;
  }
  if (options.withChecksum) Object.assign(headers, checksumHeaders(record.checksum));
  if (!record.isDeleteMarker) Object.assign(headers, encryptionHeaders(record.encryption));
  return headers;
}
