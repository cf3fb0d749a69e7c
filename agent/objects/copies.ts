// S3 CopyObject and UploadPartCopy: the source version's bytes stream from the store into a new
// version (or part); nothing is buffered whole. Metadata and tags are copied or replaced as the
// x-amz-metadata-directive and x-amz-tagging-directive headers say.

import assert from 'node:assert/strict';
import { releasePiece } from '../crypto/chunk-workers.ts';
import type { CustomerKey } from '../crypto/customer-key.ts';
import { digestWhileStreaming, digestWorkers } from '../digest/digest-workers.ts';
import { ObjectError } from './errors.ts';
import type { Multipart } from './multipart.ts';
import type { Objects, VersionAttributes, WriteConditions } from './objects.ts';
import type { RangeRequest } from './ranges.ts';
import type { ChecksumRecord, ObjectVersionRecord, PartRecord } from './records.ts';

/** S3: "You can create a copy of your object up to 5 GB in size in a single atomic action." */
export const maximumCopySourceBytes = 5 * 1024 ** 3;

export interface CopySource {
  bucket: string;
  key: string;
  versionId?: string;
}

export interface CopyObjectInput extends VersionAttributes, WriteConditions {
  source: CopySource;
  bucket: string;
  key: string;
  /** COPY (default) keeps the source's headers and user metadata; REPLACE takes this request's. */
  metadataDirective?: 'COPY' | 'REPLACE';
  /** COPY (default) keeps the source's tags; REPLACE takes this request's. */
  taggingDirective?: 'COPY' | 'REPLACE';
  signal?: AbortSignal;
  /** SSE-C: the source version's customer key (x-amz-copy-source-server-side-encryption-customer-key). */
  sourceCustomerKey?: CustomerKey | null;
}

export interface CopyObjectResult {
  version: ObjectVersionRecord;
  /** The source version that was read (x-amz-copy-source-version-id). */
  sourceVersionId: string;
}

export class Copies {
  readonly #objects: Objects;
  readonly #multipart: Multipart;

  constructor(objects: Objects, multipart: Multipart) {
    this.#objects = objects;
    this.#multipart = multipart;
  }

  async copyObject(input: CopyObjectInput): Promise<CopyObjectResult> {
    const source = this.#objects.resolve(input.source).record;
    if (source.sizeBytes > maximumCopySourceBytes) {
      throw new ObjectError(
        'InvalidRequest',
        `The specified copy source is larger than the maximum allowable size for a copy source: ${maximumCopySourceBytes}`,
        input.source,
      );
    }
    const replaceMetadata = input.metadataDirective === 'REPLACE';
    const sameObject = input.source.bucket === input.bucket && input.source.key === input.key;
    const changesSomething =
      replaceMetadata ||
      input.storageClass !== undefined ||
      input.encryption !== undefined ||
      Boolean(input.customerKey) ||
      Boolean(input.sourceCustomerKey);
    if (sameObject && !changesSomething) {
      // S3 refuses a copy onto itself that changes nothing.
      throw new ObjectError(
        'InvalidRequest',
        "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
        input.source,
      );
    }
    const { body } = await this.#objects.get({
      ...input.source,
      versionId: source.versionId,
      customerKey: input.sourceCustomerKey,
      lendPieces: true,
    });
    const hashed = hashedWhileStreaming(givenBackOnceUsed(body), source.sizeBytes);
    const version = await this.#objects.commit({
      bucket: input.bucket,
      key: input.key,
      body: hashed.body,
      declaredSizeBytes: source.sizeBytes,
      bodyMd5Hex: hashed.md5Hex,
      signal: input.signal,
      ifMatch: input.ifMatch,
      ifNoneMatch: input.ifNoneMatch,
      headers: replaceMetadata ? (input.headers ?? {}) : source.headers,
      userMetadata: replaceMetadata ? (input.userMetadata ?? {}) : source.userMetadata,
      tags: input.taggingDirective === 'REPLACE' ? (input.tags ?? {}) : source.tags,
      // As S3: a copy is STANDARD unless the request names a class (the source's is not kept).
      storageClass: input.storageClass ?? 'STANDARD',
      // The copy is encrypted anew: under the destination's SSE-C key if one is given, else the
      // tenant's key (a source's SSE-C key never carries over).
      encryption: input.encryption,
      customerKey: input.customerKey,
      // The protocol layer decides whether the source's checksum still describes the copy.
      checksum: input.checksum ?? null,
      retention: input.retention,
      legalHold: input.legalHold,
      // A copied multipart object becomes one part: its ETag is its bytes' (their MD5, sealed under SSE-C).
      describe: (summary) => ({ sizeBytes: summary.sizeBytes }),
    });
    return { version, sourceVersionId: source.versionId };
  }

  /**
   * S3 UploadPartCopy: a part whose bytes are (a range of) an existing version. In an upload created
   * with a checksum algorithm the part's checksum is computed as the bytes go by, as S3 does
   * (CopyPartResult ChecksumCRC32 and the others: "present if the multipart upload request was
   * created with the CRC32 checksum algorithm"), so the completion can list it.
   */
  async uploadPartCopy(input: {
    source: CopySource;
    range?: RangeRequest;
    bucket: string;
    key: string;
    uploadId: string;
    partNumber: number;
    signal?: AbortSignal;
    sourceCustomerKey?: CustomerKey | null;
    customerKey?: CustomerKey | null;
  }): Promise<{ part: PartRecord; sourceVersionId: string }> {
    const checksumAlgorithm = this.#multipart.getUpload(input).checksumAlgorithm ?? undefined;
    const { version, body, range } = await this.#objects.get({
      ...input.source,
      range: input.range,
      customerKey: input.sourceCustomerKey,
      lendPieces: true,
    });
    const sizeBytes = range?.lengthBytes ?? version.sizeBytes;
    const hashed = hashedWhileStreaming(givenBackOnceUsed(body), sizeBytes, checksumAlgorithm);
    // The layer reads `checksum` after `verify`, once the copied bytes have all gone by.
    const partInput = {
      bucket: input.bucket,
      key: input.key,
      uploadId: input.uploadId,
      partNumber: input.partNumber,
      body: hashed.body,
      declaredSizeBytes: sizeBytes,
      bodyMd5Hex: hashed.md5Hex,
      signal: input.signal,
      customerKey: input.customerKey,
      checksum: null as ChecksumRecord | null,
      verify: async () => {
        const value = await hashed.checksumBase64();
        if (checksumAlgorithm !== undefined && value !== undefined) {
          partInput.checksum = { algorithm: checksumAlgorithm, value, type: 'FULL_OBJECT' };
        }
      },
    };
    const part = await this.#multipart.uploadPart(partInput);
    return { part, sourceVersionId: version.versionId };
  }
}

/**
 * The source's pieces, each given back to its read (`releasePiece`) once the copy asks for the next
 * one or ends. The source is read with `lendPieces`, so a large one is decrypted by the decryption
 * workers into their rings rather than on the event loop. Giving a piece back when the next is asked
 * for is safe because everything downstream uses each piece before asking for the next: the digest
 * worker's ring copy, the encryption's reused buffer, and the store's stripe copy (see
 * ErasureSetContract.writeVersion).
 */
async function* givenBackOnceUsed(body: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
  for await (const piece of body) {
    try {
      yield piece;
    } finally {
      releasePiece(piece);
    }
  }
}

/**
 * A copy's bytes with their MD5 (the source of the new ETag, which etagOfBody seals under SSE-C),
 * and the additional checksum when one is asked for, computed as they stream by: in a digest worker
 * when the copy is large, so the event loop only re-encrypts, codes and writes.
 */
function hashedWhileStreaming(
  body: AsyncIterable<Uint8Array>,
  expectedSizeBytes: number,
  checksumAlgorithm?: ChecksumRecord['algorithm'],
): {
  body: AsyncIterable<Uint8Array>;
  md5Hex: () => Promise<string>;
  checksumBase64: () => Promise<string | undefined>;
} {
  const algorithms =
    checksumAlgorithm === undefined ? (['MD5'] as const) : (['MD5', checksumAlgorithm] as const);
  const streamed = digestWhileStreaming(body, () => digestWorkers.open(algorithms, expectedSizeBytes));
  const digests = async () => {
    const digested = streamed.digests();
    assert.ok(digested !== undefined, 'the digests of a copy are asked for only once its body has ended');
    return digested;
  };
  return {
    body: streamed.body,
    md5Hex: async () => Buffer.from((await digests())[0]).toString('hex'),
    checksumBase64: async () => {
      const checksum = (await digests())[1];
      return checksum === undefined ? undefined : Buffer.from(checksum).toString('base64');
    },
  };
}
