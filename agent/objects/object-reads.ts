// Reading object versions: which version a GET or HEAD names (S3's answers for a missing key, a
// missing version and a delete marker), SSE-C checks, and the body or byte range from the shard
// store. `Objects` extends this with the writes and deletes.
import assert from 'node:assert/strict';
import type { CustomerKey } from '../crypto/customer-key.ts';
import type { Buckets } from './buckets.ts';
import type { LayerContext } from './context.ts';
import { ObjectError } from './errors.ts';
import { isHybridTimestamp } from './hybrid-logical-clock.ts';
import { listManifestParts, type ManifestPartsPage, readManifest, readManifestRange } from './manifest.ts';
import type { IndexedVersion } from './object-index.ts';
import { type RangeRequest, resolveRange } from './ranges.ts';
import type { BucketRecord, ObjectVersionRecord } from './records.ts';
import type { ByteRange } from './store.ts';

export interface GetObjectInput {
  bucket: string;
  key: string;
  versionId?: string;
  range?: RangeRequest;
  /** SSE-C: the key the version was written with (required for such a version, refused otherwise). */
  customerKey?: CustomerKey | null;
  /**
   * The version as `headIndexed` found it for this same request (a GET checks its conditions on
   * it first): read without looking it up in the index again. It must be the version the other
   * fields name.
   */
  resolved?: IndexedVersion;
  /** The caller gives every body piece back with `releasePiece` (see ReadVersionOptions). */
  lendPieces?: boolean;
}

export interface GetObjectResult {
  version: ObjectVersionRecord;
  body: AsyncIterable<Uint8Array>;
  /** The bytes sent when a range was asked for (for Content-Range), else null. */
  range: (ByteRange & { totalSizeBytes: number }) | null;
}

export class ObjectReads {
  /** Shared with Objects, which extends this with the writes. */
  protected readonly context: LayerContext;
  protected readonly buckets: Buckets;

  constructor(context: LayerContext, buckets: Buckets) {
    this.context = context;
    this.buckets = buckets;
  }

  /** NoSuchBucket unless the bucket exists; returns its record, to be read, not changed. */
  assertBucket(bucket: string): Readonly<BucketRecord> {
    return this.buckets.peek(bucket);
  }

  /** S3 HeadObject: the version's record, NoSuchKey / NoSuchVersion / MethodNotAllowed as S3 answers. */
  head(input: {
    bucket: string;
    key: string;
    versionId?: string;
    customerKey?: CustomerKey | null;
  }): ObjectVersionRecord {
    return this.headIndexed(input).record;
  }

  /**
   * HeadObject with the version's store id: what a GET hands back to `get` as `resolved`. The record
   * is the caller's own (parsed from the index for this call), as are those `get` returns.
   */
  headIndexed(input: {
    bucket: string;
    key: string;
    versionId?: string;
    customerKey?: CustomerKey | null;
  }): IndexedVersion {
    const indexed = this.resolve(input);
    assertCustomerKeyFor(indexed.record, input.customerKey);
    return indexed;
  }

  async get(input: GetObjectInput): Promise<GetObjectResult> {
    const indexed = input.resolved ?? this.resolve(input);
    assert.ok(
      indexed.record.bucket === input.bucket && indexed.record.key === input.key,
      'get: the resolved version is of another key',
    );
    const record = indexed.record;
    assertCustomerKeyFor(record, input.customerKey);
    const readOptions = { customerKey: input.customerKey ?? null, lendPieces: input.lendPieces === true };
    const range = input.range === undefined ? null : resolveRange(input.range, record.sizeBytes);
    const address = { bucket: record.bucket, key: record.key, versionId: indexed.storeVersionId };
    if (record.multipart !== null) {
      const manifest = await readManifest(this.context.store, address);
      const whole = { offsetBytes: 0, lengthBytes: record.sizeBytes };
      const body = readManifestRange(this.context.store, manifest, range ?? whole, readOptions);
      return { version: record, body, range: range && { ...range, totalSizeBytes: record.sizeBytes } };
    }
    const { body } = await this.context.store
      .readVersion(address, range ?? undefined, readOptions)
      .catch((error: unknown) => {
        // The index is a cache: a version it still shows may be gone from the store (a lost race
        // with a delete). Answer as S3 would for a missing version rather than with a store error.
        if ((error as { code?: unknown }).code !== 'NOT_FOUND') throw error;
        const code = input.versionId === undefined ? 'NoSuchKey' : 'NoSuchVersion';
        throw new ObjectError(code, 'The specified version does not exist.', {
          bucket: input.bucket,
          key: input.key,
        });
      });
    return { version: record, body, range: range && { ...range, totalSizeBytes: record.sizeBytes } };
  }

  /**
   * S3 GetObject/HeadObject partNumber: where part `partNumber` of the version lies in its bytes. An
   * object written in one piece is its own part 1. Null when the version has no such part.
   */
  async partRange(input: {
    bucket: string;
    key: string;
    versionId?: string;
    partNumber: number;
  }): Promise<ByteRange | null> {
    const indexed = this.resolve(input);
    const record = indexed.record;
    if (record.multipart === null) {
      return input.partNumber === 1 ? { offsetBytes: 0, lengthBytes: record.sizeBytes } : null;
    }
    const address = { bucket: record.bucket, key: record.key, versionId: indexed.storeVersionId };
    const manifest = await readManifest(this.context.store, address);
    let offsetBytes = 0;
    for (const part of manifest.parts) {
      if (part.partNumber === input.partNumber) return { offsetBytes, lengthBytes: part.sizeBytes };
      offsetBytes += part.sizeBytes;
    }
    return null;
  }

  /**
   * GetObjectAttributes ObjectParts: a page of the parts a multipart version was completed from,
   * the version being one `headIndexed` resolved for the same request.
   */
  async listVersionParts(input: {
    resolved: IndexedVersion;
    partNumberMarker: number;
    maxParts: number;
  }): Promise<ManifestPartsPage> {
    const record = input.resolved.record;
    assert.ok(record.multipart !== null, 'listVersionParts: the version was not uploaded in parts');
    const address = { bucket: record.bucket, key: record.key, versionId: input.resolved.storeVersionId };
    const manifest = await readManifest(this.context.store, address);
    return listManifestParts(this.context.store, manifest, input.partNumberMarker, input.maxParts);
  }

  /**
   * The version a read names. Without a versionId, the newest: a delete marker there means
   * NoSuchKey (with isDeleteMarker set). With one, that version: a delete marker means
   * MethodNotAllowed, as S3 answers a GET or HEAD of a marker's version id.
   */
  resolve(input: { bucket: string; key: string; versionId?: string }): IndexedVersion {
    this.buckets.peek(input.bucket);
    assertVersionId(input);
    const indexed = this.context.index.getVersion(input.bucket, input.key, input.versionId);
    const details = { bucket: input.bucket, key: input.key, versionId: input.versionId };
    if (indexed === null) {
      if (input.versionId === undefined)
        throw new ObjectError('NoSuchKey', 'The specified key does not exist.', details);
      throw new ObjectError('NoSuchVersion', 'The specified version does not exist.', details);
    }
    if (indexed.record.isDeleteMarker) {
      const markerDetails = { ...details, versionId: indexed.record.versionId, isDeleteMarker: true };
      if (input.versionId === undefined) {
        throw new ObjectError('NoSuchKey', 'The specified key does not exist.', markerDetails);
      }
      throw new ObjectError(
        'MethodNotAllowed',
        'The specified method is not allowed against this resource.',
        {
          ...markerDetails,
          lastModifiedMs: indexed.record.lastModifiedMs,
        },
      );
    }
    return indexed;
  }
}

/**
 * A version id this layer could have minted: "null" or a hybrid-clock id. S3 answers a malformed
 * one with 400 InvalidArgument "Invalid version id specified" (and a well-formed unknown one with
 * NoSuchVersion, or success for a delete).
 */
export function assertVersionId(input: { bucket: string; key: string; versionId?: string }): void {
  if (input.versionId === undefined || input.versionId === 'null' || isHybridTimestamp(input.versionId))
    return;
  throw new ObjectError('InvalidArgument', 'Invalid version id specified', input);
}

/**
 * SSE-C reads, as S3 answers them: a version written with a customer key needs that key
 * (InvalidRequest without one, AccessDenied with another), and a key on any other version is
 * InvalidRequest. The key's MD5 is compared here; the data key's authenticated wrap under the
 * customer key checks it again when the bytes are read.
 */
export function assertCustomerKeyFor(
  record: ObjectVersionRecord,
  customerKey: CustomerKey | null | undefined,
): void {
  const details = { bucket: record.bucket, key: record.key, versionId: record.versionId };
  if (record.encryption?.algorithm === 'SSE-C') {
    if (!customerKey) {
      throw new ObjectError(
        'InvalidRequest',
        'The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.',
        details,
      );
    }
    if (customerKey.keyMd5 !== record.encryption.customerKeyMd5) {
      throw new ObjectError('AccessDenied', 'Access Denied', details);
    }
    return;
  }
  if (customerKey) {
    throw new ObjectError(
      'InvalidRequest',
      'The encryption parameters are not applicable to this object.',
      details,
    );
  }
}
