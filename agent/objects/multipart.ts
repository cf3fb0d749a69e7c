// S3 multipart uploads. Each part is its own store version (system bucket, "parts/<upload>/<n>"),
// and completing an upload commits an object version whose data is a manifest of those parts:
// no byte is copied. The upload lock serialises complete, abort and part commits of one upload;
// part bodies still upload in parallel.
import { createHash } from 'node:crypto';
import type { CustomerKey } from '../crypto/customer-key.ts';
import {
  bodyOf,
  enterMutation,
  type LayerContext,
  lockNames,
  performDeletes,
  scheduleDeletes,
  withMutation,
  writeIndexed,
} from './context.ts';
import { ObjectError } from './errors.ts';
import { groupedScan, positionAfter, positionAfterMarker } from './grouped-scan.ts';
import { keyToBytes } from './key-bytes.ts';
import { clampMaxKeys } from './listing.ts';
import { encodeManifest, type ManifestPart } from './manifest.ts';
import type { Objects, VersionAttributes, WriteConditions, WrittenBodySummary } from './objects.ts';
import {
  type ChecksumRecord,
  type ObjectVersionRecord,
  type PartRecord,
  systemBucket,
  systemKeys,
  toMetadata,
  type UploadRecord,
} from './records.ts';
import type { VersionAddress } from './store.ts';
import { assertObjectKey, assertTags, etagOfBody, maximumObjectTags, normaliseEtag } from './validation.ts';

/** S3 multipart limits ("Amazon S3 multipart upload limits"). */
export const maximumParts = 10_000;
export const minimumPartSizeBytes = 5 * 1024 ** 2;
export const maximumPartSizeBytes = 5 * 1024 ** 3;
export const maximumObjectSizeBytes = 5 * 1024 ** 4;
export const defaultMaximumPartsListed = 1000;

export interface CreateUploadInput extends Omit<VersionAttributes, 'checksum'> {
  bucket: string;
  key: string;
  checksumAlgorithm?: ChecksumRecord['algorithm'];
  /** x-amz-checksum-type: how the completed object's checksum derives from the parts'. */
  checksumType?: ChecksumRecord['type'];
}

export interface UploadPartInput {
  bucket: string;
  key: string;
  uploadId: string;
  partNumber: number;
  body: AsyncIterable<Uint8Array>;
  checksum?: ChecksumRecord | null;
  verify?: (summary: WrittenBodySummary) => void | Promise<void>;
  signal?: AbortSignal;
  /** SSE-C: the upload's customer key, which every part must present (never stored). */
  customerKey?: CustomerKey | null;
  /** The part's MD5 (hex) when the caller hashed the body itself (see CommitPlan.bodyMd5Hex). */
  bodyMd5Hex?: () => Promise<string>;
  /** The part's exact declared length, when known: see WriteVersionOptions.declaredSizeBytes. */
  declaredSizeBytes?: number;
}

export interface CompleteUploadInput extends WriteConditions {
  bucket: string;
  key: string;
  uploadId: string;
  parts: { partNumber: number; etag: string }[];
  /** The object's checksum, derived by the protocol layer from the parts' checksums. */
  checksum?: ChecksumRecord | null;
  signal?: AbortSignal;
}

export interface ListPartsResult {
  upload: UploadRecord;
  parts: PartRecord[];
  isTruncated: boolean;
  nextPartNumberMarker?: number;
}

export interface ListUploadsInput {
  bucket: string;
  prefix?: string;
  delimiter?: string;
  keyMarker?: string;
  uploadIdMarker?: string;
  maxUploads?: number;
}

export interface ListUploadsResult {
  uploads: UploadRecord[];
  commonPrefixes: string[];
  isTruncated: boolean;
  nextKeyMarker?: string;
  nextUploadIdMarker?: string;
}

export class Multipart {
  readonly #context: LayerContext;
  readonly #objects: Objects;

  constructor(context: LayerContext, objects: Objects) {
    this.#context = context;
    this.#objects = objects;
  }

  async create(input: CreateUploadInput): Promise<UploadRecord> {
    assertObjectKey(input.bucket, input.key);
    if (input.tags !== undefined) assertTags(input.tags, maximumObjectTags);
    this.#objects.assertBucket(input.bucket);
    const uploadId = this.#context.hybridClock.next();
    const record: UploadRecord = {
      bucket: input.bucket,
      key: input.key,
      uploadId,
      initiatedMs: this.#context.clock(),
      storageClass: input.storageClass ?? 'STANDARD',
      headers: input.headers ?? {},
      userMetadata: input.userMetadata ?? {},
      tags: input.tags ?? {},
      retention: input.retention ?? null,
      legalHold: input.legalHold === true,
      encryption: input.encryption ?? null,
      checksumAlgorithm: input.checksumAlgorithm ?? null,
      checksumType: input.checksumType ?? null,
    };
    await withMutation(this.#context, input.bucket, 'shared', async () => {
      this.#objects.assertBucket(input.bucket); // not deleted while this waited
      await writeIndexed(this.#context, uploadAddress(uploadId), bodyOf(new Uint8Array(0)), {
        finalize: async () => toMetadata({ kind: 'upload', record }),
        indexCommitted: () => this.#context.index.putUpload(record),
      });
    });
    return structuredClone(record);
  }

  async uploadPart(input: UploadPartInput): Promise<PartRecord> {
    if (!Number.isInteger(input.partNumber) || input.partNumber < 1 || input.partNumber > maximumParts) {
      throw new ObjectError(
        'InvalidArgument',
        `Part number must be an integer between 1 and ${maximumParts}, inclusive`,
      );
    }
    const upload = this.#requireUpload(input);
    assertPartCustomerKey(upload, input.customerKey);
    const owner = this.#objects.assertBucket(input.bucket).ownerTenantId;
    const address = {
      bucket: systemBucket,
      key: systemKeys.part(input.uploadId, input.partNumber),
      versionId: this.#context.hybridClock.next(),
    };
    const md5 = input.bodyMd5Hex === undefined ? createHash('md5') : null;
    const releases: (() => void)[] = [];
    let record: PartRecord | undefined;
    let replaced: string | null = null;
    try {
      await writeIndexed(this.#context, address, md5 ? hashingInto(input.body, md5) : input.body, {
        signal: input.signal,
        // A part is the tenant's data: its key, not the system's, so offboarding shreds it too.
        keySource: { tenantId: owner, customerKey: input.customerKey ?? null },
        newAddress: true,
        declaredSizeBytes: input.declaredSizeBytes,
        finalize: async ({ sizeBytes }) => {
          const summary = { sizeBytes, md5Hex: md5 ? md5.digest('hex') : await input.bodyMd5Hex!() };
          await input.verify?.(summary);
          if (sizeBytes > maximumPartSizeBytes) {
            throw new ObjectError(
              'EntityTooLarge',
              'Your proposed upload exceeds the maximum allowed size',
              input,
            );
          }
          releases.push(await enterMutation(this.#context, input.bucket));
          releases.push(await this.#context.locks.acquire(lockNames.upload(input.uploadId)));
          this.#requireUpload(input); // not completed or aborted while the body streamed
          const admitted = this.#context.admission?.admitPart({
            bucket: input.bucket,
            uploadId: input.uploadId,
            partNumber: input.partNumber,
            sizeBytes,
          });
          if (admitted) releases.push(admitted);
          record = {
            bucket: input.bucket,
            key: input.key,
            uploadId: input.uploadId,
            partNumber: input.partNumber,
            sizeBytes,
            etag: etagOfBody(summary.md5Hex, input.customerKey),
            lastModifiedMs: this.#context.clock(),
            checksum: input.checksum ?? null,
          };
          return toMetadata({ kind: 'part', record });
        },
        indexCommitted: () => {
          replaced = this.#context.index.putPart(record!, address.versionId);
        },
      });
      // Uploading a part number again replaces the earlier part (S3); its data goes now.
      const stale = replaced as string | null;
      if (stale !== null) {
        const staleAddress = { ...address, versionId: stale };
        const scheduled = this.#context.index.transaction(
          () => scheduleDeletes(this.#context, [staleAddress]),
          {
            durable: true,
          },
        );
        await performDeletes(this.#context, scheduled);
      }
    } finally {
      for (const release of releases.reverse()) release();
    }
    // The caller's own: built for this call, kept by nothing (the index and the store hold JSON).
    return record!;
  }

  /**
   * An open upload's record (its checksum algorithm and type decide what its parts must carry), or
   * NoSuchUpload once it is completed or aborted.
   */
  getUpload(input: { bucket: string; key: string; uploadId: string }): UploadRecord {
    return this.#requireUpload(input);
  }

  /** An open upload's record, or null once it is completed or aborted (or never was). */
  findUpload(input: { bucket: string; key: string; uploadId: string }): UploadRecord | null {
    this.#objects.assertBucket(input.bucket);
    const upload = this.#context.index.getUpload(input.uploadId);
    return upload === null || upload.bucket !== input.bucket || upload.key !== input.key ? null : upload;
  }

  listParts(input: {
    bucket: string;
    key: string;
    uploadId: string;
    maxParts?: number;
    partNumberMarker?: number;
  }): ListPartsResult {
    const upload = this.#requireUpload(input);
    const maxParts = Math.min(clampMaxKeys(input.maxParts), defaultMaximumPartsListed);
    if (maxParts === 0) return { upload, parts: [], isTruncated: false };
    const rows = this.#context.index.listParts(input.uploadId, input.partNumberMarker ?? 0, maxParts + 1);
    const parts = rows.slice(0, maxParts).map((row) => row.record);
    const result: ListPartsResult = { upload, parts, isTruncated: rows.length > maxParts };
    if (result.isTruncated) result.nextPartNumberMarker = parts.at(-1)?.partNumber;
    return result;
  }

  /** S3 ListMultipartUploads: in key order, then by initiation (upload ids are hybrid-clock times). */
  listUploads(input: ListUploadsInput): ListUploadsResult {
    this.#objects.assertBucket(input.bucket);
    const prefix = input.prefix ?? '';
    const maxUploads = clampMaxKeys(input.maxUploads);
    if (maxUploads === 0) return { uploads: [], commonPrefixes: [], isTruncated: false };
    type UploadRow = { keyBytes: Uint8Array; upload_id: string; record: string };
    const select = `SELECT key AS keyBytes, upload_id, record FROM uploads`;
    const items: { key: string; prefix?: string; row?: UploadRow }[] = [];
    let start: Uint8Array = input.keyMarker
      ? positionAfterMarker(input.keyMarker, prefix, input.delimiter)
      : new Uint8Array(0);
    if (input.keyMarker && input.uploadIdMarker) {
      const rows = this.#context.index
        .statement(`${select} WHERE bucket = ? AND key = ? AND upload_id > ? ORDER BY upload_id LIMIT ?`)
        .all(
          input.bucket,
          keyToBytes(input.keyMarker),
          input.uploadIdMarker,
          maxUploads + 1,
        ) as unknown as UploadRow[];
      if (input.keyMarker.startsWith(prefix))
        items.push(...rows.map((row) => ({ key: input.keyMarker!, row })));
      start = positionAfter(input.keyMarker);
    }
    const scanned = groupedScan<UploadRow>({
      prefix,
      delimiter: input.delimiter,
      startBytes: start,
      limit: Math.max(0, maxUploads + 1 - items.length),
      fetch: (from, to, count) =>
        this.#context.index
          .statement(`${select} WHERE bucket = ? AND key >= ? AND key < ? ORDER BY key, upload_id LIMIT ?`)
          .iterate(input.bucket, from, to, count) as unknown as Iterable<UploadRow>,
    });
    for (const item of scanned) {
      items.push(
        item.kind === 'prefix' ? { key: item.prefix, prefix: item.prefix } : { key: item.key, row: item.row },
      );
    }
    const page = items.slice(0, maxUploads);
    const result: ListUploadsResult = {
      uploads: page.flatMap((item) => (item.row ? [JSON.parse(item.row.record) as UploadRecord] : [])),
      commonPrefixes: page.flatMap((item) => (item.prefix !== undefined ? [item.prefix] : [])),
      isTruncated: items.length > maxUploads,
    };
    const last = page.at(-1);
    if (result.isTruncated && last !== undefined) {
      result.nextKeyMarker = last.key;
      if (last.row) result.nextUploadIdMarker = last.row.upload_id;
    }
    return result;
  }

  /** S3 AbortMultipartUpload: the upload and every part it holds are removed. */
  async abort(input: { bucket: string; key: string; uploadId: string }): Promise<void> {
    await this.#underUploadLock(input, async () => {
      this.#requireUpload(input);
      const parts = this.#context.index.listParts(input.uploadId, 0, maximumParts);
      const addresses = [
        uploadAddress(input.uploadId),
        ...parts.map((part) => partAddress(part.record, part.storeVersionId)),
      ];
      const scheduled = this.#context.index.transaction(
        () => {
          this.#context.index.removeUpload(input.uploadId);
          return scheduleDeletes(this.#context, addresses);
        },
        { durable: true },
      );
      await performDeletes(this.#context, scheduled);
    });
  }

  /**
   * Completes an upload. A Complete retried after it succeeded (a client that timed out on the
   * first answer) gets that success again, as from S3: the version this upload made, while it is
   * still the key's newest and the retry lists the same parts (by their ETags).
   */
  async complete(input: CompleteUploadInput): Promise<ObjectVersionRecord> {
    return this.#underUploadLock(input, async () => {
      const upload = this.findUpload(input);
      if (upload === null) return this.#completedEarlier(input) ?? this.#noSuchUpload(input);
      const indexedParts = new Map(
        this.#context.index
          .listParts(input.uploadId, 0, maximumParts)
          .map((part) => [part.record.partNumber, part]),
      );
      const chosen = choosePartsToComplete(input, indexedParts);
      const manifestParts: ManifestPart[] = chosen.map((part) => ({
        partNumber: part.record.partNumber,
        address: partAddress(part.record, part.storeVersionId),
        sizeBytes: part.record.sizeBytes,
        etag: part.record.etag,
      }));
      const totalSizeBytes = manifestParts.reduce((sum, part) => sum + part.sizeBytes, 0);
      if (totalSizeBytes > maximumObjectSizeBytes) {
        throw new ObjectError(
          'EntityTooLarge',
          'Your proposed upload exceeds the maximum allowed size',
          input,
        );
      }
      const used = new Set(chosen.map((part) => part.storeVersionId));
      const unused = [...indexedParts.values()].filter((part) => !used.has(part.storeVersionId));
      let scheduled: ReturnType<typeof scheduleDeletes> = [];
      const record = await this.#objects.commit({
        ...upload,
        checksum: input.checksum ?? null,
        ifMatch: input.ifMatch,
        ifNoneMatch: input.ifNoneMatch,
        signal: input.signal,
        body: bodyOf(encodeManifest({ parts: manifestParts })),
        describe: () => ({
          sizeBytes: totalSizeBytes,
          etag: multipartEtag(chosen.map((part) => part.record.etag)),
        }),
        multipart: { partCount: chosen.length, uploadId: input.uploadId },
        gatesHeld: true,
        // The upload disappears in the same index transaction that shows the new object.
        indexAlso: () => {
          this.#context.index.removeUpload(input.uploadId);
          const addresses = [
            uploadAddress(input.uploadId),
            ...unused.map((part) => partAddress(part.record, part.storeVersionId)),
          ];
          scheduled = scheduleDeletes(this.#context, addresses);
        },
      });
      await performDeletes(this.#context, scheduled);
      return record;
    });
  }

  /** The bucket's mutation gates, then the upload's lock (the one order every path takes). */
  async #underUploadLock<T>(input: { bucket: string; uploadId: string }, work: () => Promise<T>): Promise<T> {
    return withMutation(this.#context, input.bucket, 'shared', () =>
      this.#context.locks.run(lockNames.upload(input.uploadId), work),
    );
  }

  /** The newest version of the key, when this (gone) upload made it with these parts. */
  #completedEarlier(input: CompleteUploadInput): ObjectVersionRecord | null {
    if (input.parts.length === 0) return null;
    const newest = this.#context.index.getVersion(input.bucket, input.key)?.record;
    if (newest === undefined || newest.isDeleteMarker || newest.multipart?.uploadId !== input.uploadId)
      return null;
    const listedEtag = multipartEtag(input.parts.map((part) => normaliseEtag(part.etag)));
    return newest.etag === listedEtag ? newest : null;
  }

  #requireUpload(input: { bucket: string; key: string; uploadId: string }): UploadRecord {
    return this.findUpload(input) ?? this.#noSuchUpload(input);
  }

  #noSuchUpload(input: { bucket: string; key: string; uploadId: string }): never {
    throw new ObjectError(
      'NoSuchUpload',
      'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
      { bucket: input.bucket, key: input.key, uploadId: input.uploadId },
    );
  }
}

type IndexedPartEntry = { record: PartRecord; storeVersionId: string };

/**
 * The CompleteMultipartUpload checks, in S3's words: "The list of parts was not in ascending
 * order" (InvalidPartOrder); "One or more of the specified parts could not be found ... or the
 * specified entity tag might not have matched" (InvalidPart); "Your proposed upload is smaller
 * than the minimum allowed object size" for a part other than the last under 5 MiB (EntityTooSmall).
 */
function choosePartsToComplete(
  input: CompleteUploadInput,
  indexed: Map<number, IndexedPartEntry>,
): IndexedPartEntry[] {
  if (input.parts.length === 0) {
    throw new ObjectError(
      'MalformedXML',
      'The XML you provided was not well-formed or did not validate against our published schema',
    );
  }
  if (input.parts.length > maximumParts) {
    throw new ObjectError(
      'InvalidArgument',
      `Part number must be an integer between 1 and ${maximumParts}, inclusive`,
    );
  }
  const chosen: IndexedPartEntry[] = [];
  let previousNumber = 0;
  for (const requested of input.parts) {
    if (requested.partNumber <= previousNumber) {
      throw new ObjectError(
        'InvalidPartOrder',
        'The list of parts was not in ascending order. Parts must be ordered by part number.',
        input,
      );
    }
    previousNumber = requested.partNumber;
    const part = indexed.get(requested.partNumber);
    if (part === undefined || normaliseEtag(requested.etag) !== part.record.etag) {
      throw new ObjectError(
        'InvalidPart',
        "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
        { ...input, partNumber: requested.partNumber },
      );
    }
    chosen.push(part);
  }
  for (const part of chosen.slice(0, -1)) {
    if (part.record.sizeBytes < minimumPartSizeBytes) {
      throw new ObjectError(
        'EntityTooSmall',
        'Your proposed upload is smaller than the minimum allowed object size.',
        { ...input, partNumber: part.record.partNumber },
      );
    }
  }
  return chosen;
}

/** The S3 multipart ETag: MD5 of the concatenated binary MD5s of the parts, then "-" and the count. */
export function multipartEtag(partEtags: string[]): string {
  const hash = createHash('md5');
  for (const etag of partEtags) hash.update(Buffer.from(etag, 'hex'));
  return `${hash.digest('hex')}-${partEtags.length}`;
}

export function uploadAddress(uploadId: string): VersionAddress {
  return { bucket: systemBucket, key: systemKeys.upload(uploadId), versionId: uploadId };
}

export function partAddress(part: PartRecord, storeVersionId: string): VersionAddress {
  return {
    bucket: systemBucket,
    key: systemKeys.part(part.uploadId, part.partNumber),
    versionId: storeVersionId,
  };
}

async function* hashingInto(
  body: AsyncIterable<Uint8Array>,
  hash: ReturnType<typeof createHash>,
): AsyncIterable<Uint8Array> {
  for await (const chunk of body) {
    hash.update(chunk);
    yield chunk;
  }
}

/**
 * S3 UploadPart under SSE-C: an upload created with a customer key needs that key on every part
 * (and one created without refuses one): "the provided encryption parameters did not match".
 */
function assertPartCustomerKey(upload: UploadRecord, customerKey: CustomerKey | null | undefined): void {
  const expectedMd5 = upload.encryption?.algorithm === 'SSE-C' ? upload.encryption.customerKeyMd5 : undefined;
  const givenMd5 = customerKey?.keyMd5 ?? undefined;
  if (givenMd5 === expectedMd5) return;
  // S3's words differ for a part that carries no key at all (as captured from S3).
  const message =
    givenMd5 === undefined
      ? 'The multipart upload initiate requested encryption. Subsequent part requests must include the appropriate encryption parameters.'
      : 'The provided encryption parameters did not match the ones used originally.';
  throw new ObjectError('InvalidRequest', message, {
    bucket: upload.bucket,
    key: upload.key,
    uploadId: upload.uploadId,
  });
}
