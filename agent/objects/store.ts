// The part of the shard store's API (agent/shards/) that the object layer uses. It is written as
// a structural interface so the layer depends on the contract, not on one implementation: the
// real erasure set satisfies it, and so does the in-memory twin used beside it in unit tests.
import type { CustomerKey } from '../crypto/customer-key.ts';
import type { KeySource } from '../crypto/object-encryption.ts';

export interface VersionAddress {
  bucket: string;
  key: string;
  versionId: string;
}

/** One committed version as the store reports it; `metadata` is what finalize returned. */
export interface StoredVersion {
  address: VersionAddress;
  sizeBytes: number;
  metadata: Record<string, unknown>;
}

export interface WriteSummary {
  sizeBytes: number;
}

export interface WriteVersionOptions {
  /**
   * Called once the whole body is stored, before the commit. What it returns is the version's
   * metadata; if it throws, nothing is committed and writeVersion rejects with that error.
   */
  finalize: (summary: WriteSummary) => Promise<Record<string, unknown>> | Record<string, unknown>;
  signal?: AbortSignal;
  /**
   * Encryption at rest (EncryptedStore): whose key wraps this version's data key, when not the
   * default of its address (the bucket owner's tenant); with SSE-C, the customer's key.
   */
  keySource?: KeySource;
  /**
   * This address was never written before (a version with a new hybrid-clock id): the shard
   * store need not look for a previous record in its files. See the erasure set's WriteOptions.
   */
  newAddress?: boolean;
  /** The body's length when known in advance: see the shard store's WriteOptions.sizeHintBytes. */
  sizeHintBytes?: number;
  /**
   * Set by a body's producer that can write its bytes where the store wants them (EncryptedStore's
   * encryption): the store fills in `writable` (see the shard store's WriteOptions.bodyDestination).
   */
  bodyDestination?: { writable?: (maxBytes: number) => Uint8Array };
  /**
   * The body's exact length, when the request declared it (Content-Length, or
   * x-amz-decoded-content-length for aws-chunked bodies; the S3 layer refuses a body of any other
   * length as IncompleteBody). Encryption (EncryptedStore) then seals each piece as it arrives; a
   * body of another length fails the write. The shard store ignores it (it takes the hint).
   */
  declaredSizeBytes?: number;
}

/** Encryption at rest: SSE-C reads need the customer's key (never stored). */
export interface ReadVersionOptions {
  customerKey?: CustomerKey | null;
  /**
   * The body's pieces may be read into reused buffers: each is valid only until the next piece is
   * asked for. Only for a consumer that copies or consumes every piece at once (decryption does).
   */
  reuseBuffers?: boolean;
  /**
   * The caller gives every piece back with `releasePiece` (agent/crypto) once it is done with it,
   * so a large read may be decrypted by a worker thread into reused memory: a piece stays valid
   * until given back. For a consumer that sends the pieces on and releases them (GetObject).
   */
  lendPieces?: boolean;
}

export interface ByteRange {
  offsetBytes: number;
  lengthBytes: number;
}

export interface ErasureSetContract {
  /**
   * Stores `body`. Each piece is copied or consumed before the next is asked for, so a body may
   * lend its pieces from a reused buffer (encryption does: encryptChunks in agent/crypto).
   */
  writeVersion(
    address: VersionAddress,
    body: AsyncIterable<Uint8Array>,
    options: WriteVersionOptions,
  ): Promise<StoredVersion>;
  statVersion(address: VersionAddress): Promise<StoredVersion | null>;
  /** Rejects with an error whose code is 'NOT_FOUND' when no such version exists. */
  readVersion(
    address: VersionAddress,
    range?: ByteRange,
    options?: ReadVersionOptions,
  ): Promise<{ version: StoredVersion; body: AsyncIterable<Uint8Array> }>;
  updateMetadata(
    address: VersionAddress,
    update: (old: Record<string, unknown>) => Record<string, unknown>,
  ): Promise<StoredVersion>;
  /** Rejects with an error whose code is 'NOT_FOUND' when no such version exists. */
  deleteVersion(address: VersionAddress): Promise<void>;
  listVersions(options?: { bucket?: string }): AsyncIterable<StoredVersion>;
  close(): Promise<void>;
}
