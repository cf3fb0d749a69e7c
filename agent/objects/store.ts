// The part of the shard store's API (agent/shards/) that the object layer uses. It is written as
// a structural interface so the layer depends on the contract, not on one implementation: the
// real erasure set satisfies it, and so does the in-memory twin used beside it in unit tests.

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
}

export interface ByteRange {
  offsetBytes: number;
  lengthBytes: number;
}

export interface ErasureSetContract {
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
