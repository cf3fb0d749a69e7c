// An in-memory twin of the shard store's ErasureSet contract, for the object layer's fast unit
// tests beside the ones on the real store. It keeps whole bodies in memory: test data only.
import type {
  ByteRange,
  ErasureSetContract,
  StoredVersion,
  VersionAddress,
  WriteVersionOptions,
} from '../../agent/objects/store.ts';

interface Entry {
  version: StoredVersion;
  data: Buffer;
}

const addressKey = (address: VersionAddress) =>
  JSON.stringify([address.bucket, address.key, address.versionId]);

export class MemoryErasureSet implements ErasureSetContract {
  readonly entries = new Map<string, Entry>();
  /** Test hook: runs after a version is committed and before writeVersion returns. */
  afterCommit: ((address: VersionAddress) => void) | null = null;

  async writeVersion(
    address: VersionAddress,
    body: AsyncIterable<Uint8Array>,
    options: WriteVersionOptions,
  ): Promise<StoredVersion> {
    const chunks: Buffer[] = [];
    for await (const chunk of body) {
      options.signal?.throwIfAborted();
      chunks.push(Buffer.from(chunk));
    }
    const data = Buffer.concat(chunks);
    const metadata = await options.finalize({ sizeBytes: data.length });
    const version: StoredVersion = {
      address: { ...address },
      sizeBytes: data.length,
      metadata: structuredClone(metadata),
    };
    this.entries.set(addressKey(address), { version, data });
    this.afterCommit?.(address);
    return structuredClone(version);
  }

  async statVersion(address: VersionAddress): Promise<StoredVersion | null> {
    const entry = this.entries.get(addressKey(address));
    return entry === undefined ? null : structuredClone(entry.version);
  }

  async readVersion(address: VersionAddress, range?: ByteRange) {
    const entry = this.entries.get(addressKey(address));
    if (entry === undefined) throw Object.assign(new Error('no such version'), { code: 'NOT_FOUND' });
    const slice =
      range === undefined
        ? entry.data
        : entry.data.subarray(range.offsetBytes, range.offsetBytes + range.lengthBytes);
    async function* body() {
      // Small chunks, so readers meet chunk boundaries as they would on the real store.
      for (let offset = 0; offset < slice.length; offset += 7919) yield slice.subarray(offset, offset + 7919);
    }
    return { version: structuredClone(entry.version), body: body() };
  }

  async updateMetadata(
    address: VersionAddress,
    update: (old: Record<string, unknown>) => Record<string, unknown>,
  ) {
    const entry = this.entries.get(addressKey(address));
    if (entry === undefined) throw Object.assign(new Error('no such version'), { code: 'NOT_FOUND' });
    entry.version.metadata = structuredClone(update(structuredClone(entry.version.metadata)));
    return structuredClone(entry.version);
  }

  async deleteVersion(address: VersionAddress): Promise<void> {
    if (!this.entries.delete(addressKey(address))) {
      throw Object.assign(new Error('no such version'), { code: 'NOT_FOUND' });
    }
  }

  async *listVersions(options: { bucket?: string } = {}): AsyncIterable<StoredVersion> {
    for (const entry of [...this.entries.values()]) {
      if (options.bucket === undefined || entry.version.address.bucket === options.bucket) {
        yield structuredClone(entry.version);
      }
    }
  }

  async close(): Promise<void> {}
}
