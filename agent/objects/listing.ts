// S3 listings over the index: ListObjects (v1), ListObjectsV2 and ListObjectVersions. Each page
// reads at most max-keys + 1 items plus one seek per common prefix: no full scans.
import type { Buckets } from './buckets.ts';
import type { LayerContext } from './context.ts';
import { ObjectError } from './errors.ts';
import { groupedScan, positionAfter, positionAfterMarker, type ScanItem } from './grouped-scan.ts';
import { bytesToKey, keyToBytes } from './key-bytes.ts';

/** S3: "returns up to 1,000 key names. The response might contain fewer keys but will never contain more." */
export const maximumKeysPerPage = 1000;

export interface ListedObject {
  key: string;
  lastModifiedMs: number;
  etag: string;
  sizeBytes: number;
  storageClass: string;
}

export interface ListedVersion extends ListedObject {
  versionId: string;
  isLatest: boolean;
  isDeleteMarker: boolean;
}

export interface ListObjectsInput {
  bucket: string;
  prefix?: string;
  delimiter?: string;
  maxKeys?: number;
  /** v1 Marker: list keys after this one. */
  marker?: string;
}

export interface ListObjectsResult {
  contents: ListedObject[];
  commonPrefixes: string[];
  isTruncated: boolean;
  /** S3 returns NextMarker only when a delimiter was given; otherwise the last key is the next marker. */
  nextMarker?: string;
}

export interface ListObjectsV2Input {
  bucket: string;
  prefix?: string;
  delimiter?: string;
  maxKeys?: number;
  startAfter?: string;
  continuationToken?: string;
}

export interface ListObjectsV2Result {
  contents: ListedObject[];
  commonPrefixes: string[];
  isTruncated: boolean;
  keyCount: number;
  nextContinuationToken?: string;
}

export interface ListObjectVersionsInput {
  bucket: string;
  prefix?: string;
  delimiter?: string;
  maxKeys?: number;
  keyMarker?: string;
  versionIdMarker?: string;
}

export interface ListObjectVersionsResult {
  versions: ListedVersion[];
  commonPrefixes: string[];
  isTruncated: boolean;
  nextKeyMarker?: string;
  nextVersionIdMarker?: string;
}

interface ObjectRow {
  keyBytes: Uint8Array;
  size_bytes: number;
  etag: string;
  last_modified_ms: number;
  storage_class: string;
}

interface VersionRow extends ObjectRow {
  sequence: string;
  version_id: string;
  is_delete_marker: number;
}

const tokenFormat = 1;

export class Listing {
  readonly #context: LayerContext;
  readonly #buckets: Buckets;

  constructor(context: LayerContext, buckets: Buckets) {
    this.#context = context;
    this.#buckets = buckets;
  }

  listObjects(input: ListObjectsInput): ListObjectsResult {
    const prefix = input.prefix ?? '';
    const start = input.marker
      ? positionAfterMarker(input.marker, prefix, input.delimiter)
      : new Uint8Array(0);
    const page = this.#objectsPage(input.bucket, prefix, input.delimiter, start, input.maxKeys);
    const result: ListObjectsResult = {
      contents: page.contents,
      commonPrefixes: page.commonPrefixes,
      isTruncated: page.isTruncated,
    };
    if (page.isTruncated && input.delimiter) result.nextMarker = page.lastName;
    return result;
  }

  listObjectsV2(input: ListObjectsV2Input): ListObjectsV2Result {
    const prefix = input.prefix ?? '';
    let start: Uint8Array = new Uint8Array(0);
    // S3: a ContinuationToken takes precedence over StartAfter.
    if (input.continuationToken !== undefined) start = decodeToken(input.continuationToken);
    else if (input.startAfter) start = positionAfterMarker(input.startAfter, prefix, input.delimiter);
    const page = this.#objectsPage(input.bucket, prefix, input.delimiter, start, input.maxKeys);
    const result: ListObjectsV2Result = {
      contents: page.contents,
      commonPrefixes: page.commonPrefixes,
      isTruncated: page.isTruncated,
      keyCount: page.contents.length + page.commonPrefixes.length,
    };
    if (page.isTruncated) {
      result.nextContinuationToken = encodeToken(positionAfterMarker(page.lastName, prefix, input.delimiter));
    }
    return result;
  }

  listObjectVersions(input: ListObjectVersionsInput): ListObjectVersionsResult {
    this.#buckets.head(input.bucket);
    const prefix = input.prefix ?? '';
    const maxKeys = clampMaxKeys(input.maxKeys);
    if (input.versionIdMarker !== undefined && !input.keyMarker) {
      throw new ObjectError(
        'InvalidArgument',
        'A version-id marker cannot be specified without a key marker.',
      );
    }
    // max-keys=0 asks for no entries: an empty, complete answer (nothing to continue from).
    if (maxKeys === 0) return { versions: [], commonPrefixes: [], isTruncated: false };
    const items: ScanItem<VersionRow>[] = [];
    let start: Uint8Array = input.keyMarker
      ? positionAfterMarker(input.keyMarker, prefix, input.delimiter)
      : new Uint8Array(0);
    if (input.keyMarker && input.versionIdMarker) {
      items.push(
        ...this.#restOfKeyVersions(
          input.bucket,
          input.keyMarker,
          input.versionIdMarker,
          maxKeys + 1,
          prefix,
          input.delimiter,
        ),
      );
      start = positionAfter(input.keyMarker);
    }
    if (items.length < maxKeys + 1) {
      items.push(
        ...groupedScan<VersionRow>({
          prefix,
          delimiter: input.delimiter,
          startBytes: start,
          limit: maxKeys + 1 - items.length,
          fetch: (from, to, count) => this.#fetchVersions(input.bucket, from, to, count),
        }),
      );
    }
    const isTruncated = items.length > maxKeys;
    const pageItems = items.slice(0, maxKeys);
    const versions: ListedVersion[] = [];
    const commonPrefixes: string[] = [];
    let previousKey: string | null = input.versionIdMarker ? (input.keyMarker ?? null) : null;
    for (const item of pageItems) {
      if (item.kind === 'prefix') {
        commonPrefixes.push(item.prefix);
        previousKey = null;
        continue;
      }
      // Rows of a key come newest first, so the first row of a key (not resumed mid-key) is the latest.
      versions.push({
        ...toListedObject(item.key, item.row),
        versionId: item.row.version_id,
        isLatest: item.key !== previousKey,
        isDeleteMarker: item.row.is_delete_marker === 1,
      });
      previousKey = item.key;
    }
    const result: ListObjectVersionsResult = { versions, commonPrefixes, isTruncated };
    const last = pageItems.at(-1);
    if (isTruncated && last !== undefined) {
      result.nextKeyMarker = last.kind === 'prefix' ? last.prefix : last.key;
      if (last.kind === 'row') result.nextVersionIdMarker = last.row.version_id;
    }
    return result;
  }

  #objectsPage(
    bucket: string,
    prefix: string,
    delimiter: string | undefined,
    start: Uint8Array,
    maxKeysInput?: number,
  ) {
    this.#buckets.head(bucket);
    const maxKeys = clampMaxKeys(maxKeysInput);
    if (maxKeys === 0) return { contents: [], commonPrefixes: [], isTruncated: false, lastName: '' };
    const items = groupedScan<ObjectRow>({
      prefix,
      delimiter,
      startBytes: start,
      limit: maxKeys + 1,
      fetch: (from, to, count) =>
        this.#context.index
          .statement(
            `SELECT key AS keyBytes, size_bytes, etag, last_modified_ms, storage_class FROM current_objects
             WHERE bucket = ? AND key >= ? AND key < ? ORDER BY key LIMIT ?`,
          )
          .iterate(bucket, from, to, count) as unknown as Iterable<ObjectRow>,
    });
    const isTruncated = items.length > maxKeys;
    const pageItems = items.slice(0, maxKeys);
    const contents: ListedObject[] = [];
    const commonPrefixes: string[] = [];
    for (const item of pageItems) {
      if (item.kind === 'prefix') commonPrefixes.push(item.prefix);
      else contents.push(toListedObject(item.key, item.row));
    }
    const last = pageItems.at(-1);
    const lastName = last === undefined ? '' : last.kind === 'prefix' ? last.prefix : last.key;
    return { contents, commonPrefixes, isTruncated, lastName };
  }

  #fetchVersions(bucket: string, from: Uint8Array, to: Uint8Array, count: number): Iterable<VersionRow> {
    return this.#context.index
      .statement(
        `SELECT key AS keyBytes, sequence, version_id, is_delete_marker, size_bytes, etag, last_modified_ms, storage_class
         FROM versions WHERE bucket = ? AND key >= ? AND key < ? ORDER BY key, sequence DESC LIMIT ?`,
      )
      .iterate(bucket, from, to, count) as unknown as Iterable<VersionRow>;
  }

  /** The versions of keyMarker older than versionIdMarker: where a truncated version listing resumes. */
  #restOfKeyVersions(
    bucket: string,
    key: string,
    versionIdMarker: string,
    limit: number,
    prefix: string,
    delimiter: string | undefined,
  ): ScanItem<VersionRow>[] {
    const keyBytes = keyToBytes(key);
    const marker = this.#context.index
      .statement('SELECT sequence FROM versions WHERE bucket = ? AND key = ? AND version_id = ?')
      .get(bucket, keyBytes, versionIdMarker) as { sequence: string } | undefined;
    if (marker === undefined) {
      throw new ObjectError('InvalidArgument', 'Invalid version id specified', {
        bucket,
        key,
        versionId: versionIdMarker,
      });
    }
    // A key that falls under the prefix and is not rolled up into a common prefix.
    if (!key.startsWith(prefix) || (delimiter && key.indexOf(delimiter, prefix.length) >= 0)) return [];
    const rows = this.#context.index
      .statement(
        `SELECT key AS keyBytes, sequence, version_id, is_delete_marker, size_bytes, etag, last_modified_ms, storage_class
         FROM versions WHERE bucket = ? AND key = ? AND sequence < ? ORDER BY sequence DESC LIMIT ?`,
      )
      .all(bucket, keyBytes, marker.sequence, limit) as unknown as VersionRow[];
    return rows.map((row) => ({ kind: 'row', key: bytesToKey(row.keyBytes), row }));
  }
}

function toListedObject(key: string, row: ObjectRow): ListedObject {
  return {
    key,
    lastModifiedMs: row.last_modified_ms,
    etag: row.etag,
    sizeBytes: row.size_bytes,
    storageClass: row.storage_class,
  };
}

export function clampMaxKeys(maxKeys: number | undefined): number {
  if (maxKeys === undefined) return maximumKeysPerPage;
  if (!Number.isInteger(maxKeys) || maxKeys < 0) {
    throw new ObjectError('InvalidArgument', 'Provided max-keys not an integer or within integer range');
  }
  return Math.min(maxKeys, maximumKeysPerPage);
}

/** A continuation token is the exact start position of the next page, opaque to clients. */
function encodeToken(startBytes: Uint8Array): string {
  const bytes = new Uint8Array(startBytes.length + 1);
  bytes[0] = tokenFormat;
  bytes.set(startBytes, 1);
  return Buffer.from(bytes).toString('base64url');
}

function decodeToken(token: string): Uint8Array {
  const bytes = Buffer.from(token, 'base64url');
  if (bytes.length === 0 || bytes[0] !== tokenFormat || bytes.toString('base64url') !== token) {
    throw new ObjectError('InvalidArgument', 'The continuation token provided is incorrect');
  }
  return Uint8Array.from(bytes.subarray(1));
}
