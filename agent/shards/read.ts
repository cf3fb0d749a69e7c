// Reading blocks back: each drive holding the version is a source of one shard; a block is read
// from the k data shards first and from parity only when a data shard is missing, short or fails
// its checksum. Missing data shards are rebuilt by the codec; the caller never notices, but the
// damage is counted and a background heal is requested.
// Shard files of either format version are read (formats.ts): in version 2 a block's CRC-32 is in
// its group's checksum page, read with the group's last block (one read: the page follows it) or
// on its own, once per group and source, for the other blocks.
import { crc32 } from '../digest/crc32.ts';
import { isDriveError, type RangeReader } from '../disk/index.ts';
import type { SetContext } from './context.ts';
import { StoreError } from './errors.ts';
import {
  blockChecksumBytes,
  blocksPerChecksumPage,
  shardAlignmentBytes,
  type VersionRecord,
} from './formats.ts';
import { type Geometry, ShardFileLayout, shardFileName, versionDirectory } from './layout.ts';
import type { Resolution } from './records.ts';

/** Reads and verifies one shard block from one drive. */
export interface ShardSource {
  readonly driveIndex: number;
  /** `into`: a buffer of at least ShardFileLayout.readBufferBytes to read into (reused). */
  read(blockIndex: number, into?: Uint8Array): Promise<Uint8Array>;
  /** Closes the shard file when the source keeps it open (`keepFilesOpen`). Never throws. */
  close?(): Promise<void>;
}

function checkLength(bytes: Uint8Array, expectedBytes: number, where: string, what: string): void {
  if (bytes.byteLength !== expectedBytes) throw new StoreError('CORRUPT', `${where}: truncated ${what}`);
}

function checkShard(shard: Uint8Array, expectedChecksum: number, where: string): Uint8Array {
  if (crc32(shard) !== expectedChecksum) throw new StoreError('CORRUPT', `${where}: shard checksum mismatch`);
  return shard;
}

/** A block framed as in version 1 files and inline payloads: its CRC-32, then its shard. */
function verifyFramedBlock(bytes: Uint8Array, expectedShardBytes: number, where: string): Uint8Array {
  checkLength(bytes, blockChecksumBytes + expectedShardBytes, where, 'shard block');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return checkShard(bytes.subarray(blockChecksumBytes), view.getUint32(0), where);
}

/** The CRC-32 of block `blockIndex` in its group's checksum page. */
function checksumIn(page: Uint8Array, blockIndex: number): number {
  return new DataView(page.buffer, page.byteOffset, page.byteLength).getUint32(
    (blockIndex % blocksPerChecksumPage) * 4,
  );
}

/** Sources indexed by shard index; null where no usable copy is known. */
export function shardSources(
  ctx: SetContext,
  resolution: Extract<Resolution, { kind: 'found' }>,
  onBytesRead?: (bytes: number) => void,
  options?: {
    /**
     * Open each shard file once, on its first read, and keep it open until `close` (a whole-object
     * GET reads every block: an open and a close per block and drive cost the event loop ~8 % of a
     * 64 MiB GET's time in a profile). Without it each read opens and closes the file.
     */
    keepFilesOpen?: boolean;
  },
): (ShardSource | null)[] {
  const { record } = resolution;
  const layout = ShardFileLayout.of(record);
  const { geometry } = layout;
  const sources: (ShardSource | null)[] = new Array(ctx.driveCount).fill(null);
  const path = `${versionDirectory(record)}/${shardFileName(record.dataId)}`;
  for (const driveIndex of resolution.holders) {
    const inlinePayload = resolution.inlinePayloads[driveIndex] ?? new Uint8Array(0);
    const shardIndex = record.erasure.distribution[driveIndex];
    const where = `${ctx.drives[driveIndex].description} shard ${shardIndex}`;
    const drive = ctx.drives[driveIndex];
    let opened: Promise<RangeReader> | undefined;
    const readStored = options?.keepFilesOpen
      ? async (offsetBytes: number, lengthBytes: number, into?: Uint8Array) => {
          if (opened === undefined) {
            opened = drive.openRangeReader(path);
            opened.catch(() => {});
          }
          return (await opened).read(offsetBytes, lengthBytes, into);
        }
      : (offsetBytes: number, lengthBytes: number) => drive.readRange(path, offsetBytes, lengthBytes);
    const readCounted = async (offsetBytes: number, lengthBytes: number, into?: Uint8Array) => {
      const bytes = await readStored(offsetBytes, lengthBytes, into);
      onBytesRead?.(bytes.byteLength);
      return bytes;
    };
    // Version 2: the checksum page of the group last asked for (reads go forward, a group at a time).
    let cachedPage: { group: number; page: Promise<Uint8Array> } | undefined;
    const checksumPage = (group: number): Promise<Uint8Array> => {
      if (cachedPage?.group !== group) {
        const page = readCounted(layout.checksumPageOffset(group), shardAlignmentBytes).then((bytes) => {
          checkLength(bytes, shardAlignmentBytes, where, 'checksum page');
          return bytes;
        });
        page.catch(() => {});
        cachedPage = { group, page };
      }
      return cachedPage.page;
    };
    const readAligned = async (blockIndex: number, into?: Uint8Array): Promise<Uint8Array> => {
      const shardBytes = geometry.shardBytes(blockIndex);
      const storedBytes = layout.storedBlockBytes(blockIndex);
      const offset = layout.blockOffset(blockIndex);
      const group = layout.groupOf(blockIndex);
      if (blockIndex === layout.lastBlockOf(group)) {
        // The group's page follows its last block: one read for both.
        const bytes = await readCounted(offset, storedBytes + shardAlignmentBytes, into);
        checkLength(bytes, storedBytes + shardAlignmentBytes, where, 'shard block');
        return checkShard(
          bytes.subarray(0, shardBytes),
          checksumIn(bytes.subarray(storedBytes), blockIndex),
          where,
        );
      }
      const page = checksumPage(group);
      // The block's read settles first: a failed page must not free `into` while it is read into.
      const bytes = await readCounted(offset, storedBytes, into);
      checkLength(bytes, storedBytes, where, 'shard block');
      return checkShard(bytes.subarray(0, shardBytes), checksumIn(await page, blockIndex), where);
    };
    const read = record.inline
      ? async (blockIndex: number) => {
          const offset = geometry.payloadOffset(blockIndex);
          const length = blockChecksumBytes + geometry.shardBytes(blockIndex);
          return verifyFramedBlock(
            inlinePayload.subarray(offset, offset + length),
            geometry.shardBytes(blockIndex),
            where,
          );
        }
      : layout.aligned
        ? readAligned
        : async (blockIndex: number, into?: Uint8Array) => {
            const length = layout.storedBlockBytes(blockIndex);
            const bytes = await readCounted(layout.blockOffset(blockIndex), length, into);
            return verifyFramedBlock(bytes, geometry.shardBytes(blockIndex), where);
          };
    sources[shardIndex] = {
      driveIndex,
      read,
      close: async () => {
        if (opened !== undefined)
          await opened.then(
            (reader) => reader.close(),
            () => {},
          );
      },
    };
  }
  return sources;
}

/** Shard read buffers kept for reuse, all reads together, per size (256 of 260 KiB: 65 MiB). */
const maxPooledBuffers = 256;
/** Free shard read buffers of every read, by size (ShardFileLayout.readBufferBytes). */
const freeReadBuffers = new Map<number, Uint8Array[]>();

function pooledBuffers(bufferBytes: number): Uint8Array[] {
  let free = freeReadBuffers.get(bufferBytes);
  if (free === undefined) {
    free = [];
    freeReadBuffers.set(bufferBytes, free);
  }
  return free;
}

/** Reads blocks of one version, k shards at a time, falling back to parity on failure. */
export class BlockReader {
  readonly #ctx: SetContext;
  readonly #sources: (ShardSource | null)[];
  readonly #layout: ShardFileLayout;
  /** Shard indexes found bad during this read; they are not asked again. */
  readonly failedShards = new Set<number>();
  #offlineFailures = 0;
  #corruptFailures = 0;
  /**
   * With `reuseBuffers`: shard read buffers given back by `releaseBlock`, read into again, by this
   * read and the next ones (a pool shared by all reads, per buffer size). A 64 MiB GET otherwise
   * allocates 64 MiB of fresh read buffers, and a 1 MiB GET 1 MiB: fresh external memory is what
   * drives V8's full collections (BENCHMARKS.md, runs 4 and 9).
   */
  readonly #freeBuffers: Uint8Array[] | null;
  /** The pooled buffers each block returned by readBlock was read into, until released. */
  readonly #blockBuffers = new WeakMap<(Uint8Array | null)[], Uint8Array[]>();

  constructor(
    ctx: SetContext,
    record: VersionRecord,
    sources: (ShardSource | null)[],
    options?: { reuseBuffers?: boolean },
  ) {
    this.#ctx = ctx;
    this.#sources = sources;
    this.#layout = ShardFileLayout.of(record);
    this.#freeBuffers =
      options?.reuseBuffers && !record.inline ? pooledBuffers(this.#layout.readBufferBytes) : null;
  }

  #takeBuffer(taken: Uint8Array[]): Uint8Array | undefined {
    if (this.#freeBuffers === null) return undefined;
    const buffer = this.#freeBuffers.pop() ?? Buffer.allocUnsafeSlow(this.#layout.readBufferBytes);
    taken.push(buffer);
    return buffer;
  }

  /**
   * Gives the buffers of a block returned by readBlock back to the pool: its shards must no longer
   * be used (the next reads overwrite them). Only buffers whose read completed are pooled (a read
   * still running could write into a buffer after its reuse).
   */
  releaseBlock(shards: (Uint8Array | null)[]): void {
    const buffers = this.#blockBuffers.get(shards);
    if (buffers === undefined || this.#freeBuffers === null) return;
    this.#blockBuffers.delete(shards);
    // A bound: never more than the blocks a reader keeps in flight, whatever the caller does.
    for (const buffer of buffers) {
      if (this.#freeBuffers.length < maxPooledBuffers) this.#freeBuffers.push(buffer);
    }
  }

  /** True when a shard was found missing, short or corrupt on a drive that answers (heal is due). */
  get damaged(): boolean {
    return this.#corruptFailures > 0;
  }

  /**
   * The k+m shards of a block, with every data shard present (`all`: every shard present).
   * Throws CORRUPT when fewer than k shards are intact, QUORUM_LOST when that is because drives
   * are offline.
   */
  async readBlock(blockIndex: number, options?: { all?: boolean }): Promise<(Uint8Array | null)[]> {
    const { dataShards } = this.#ctx;
    const shards: (Uint8Array | null)[] = new Array(this.#sources.length).fill(null);
    const completedBuffers: Uint8Array[] = [];
    let good = 0;
    let next = 0;
    while (good < dataShards) {
      const batch: number[] = [];
      for (; next < this.#sources.length && batch.length < dataShards - good; next += 1) {
        if (this.#sources[next] !== null && !this.failedShards.has(next)) batch.push(next);
      }
      if (batch.length === 0) throw this.#lostError(blockIndex);
      const buffers: Uint8Array[] = [];
      const results = await Promise.allSettled(
        batch.map((index) => this.#sources[index]!.read(blockIndex, this.#takeBuffer(buffers))),
      );
      // allSettled: every read of the batch has finished with its buffer, failed ones included.
      completedBuffers.push(...buffers);
      results.forEach((result, position) => {
        const shardIndex = batch[position];
        if (result.status === 'fulfilled') {
          shards[shardIndex] = result.value;
          good += 1;
          return;
        }
        this.failedShards.add(shardIndex);
        if (isDriveError(result.reason, 'DRIVE_OFFLINE')) this.#offlineFailures += 1;
        else {
          this.#corruptFailures += 1;
          this.#ctx.metrics.corruptionsDetected += 1;
        }
      });
    }
    const needsRebuild = options?.all
      ? shards.some((shard) => shard === null)
      : shards.slice(0, dataShards).some((shard) => shard === null);
    if (needsRebuild) {
      this.#ctx.codec.reconstruct(shards, { dataOnly: !options?.all });
      if (!options?.all) this.#ctx.metrics.degradedReads += 1;
    }
    if (this.#freeBuffers !== null) this.#blockBuffers.set(shards, completedBuffers);
    return shards;
  }

  #lostError(blockIndex: number): StoreError {
    const unavailable = this.#sources.filter((source) => source === null).length + this.#offlineFailures;
    const where = `block ${blockIndex}: fewer than ${this.#ctx.dataShards} intact shards`;
    return unavailable > this.#ctx.parityShards
      ? new StoreError('QUORUM_LOST', `${where} (${unavailable} drives unavailable)`)
      : new StoreError('CORRUPT', `${where} (data lost beyond repair)`);
  }

  get geometry(): Geometry {
    return this.#layout.geometry;
  }

  /** Closes the shard files the sources keep open (after the reads in flight). Never throws. */
  async close(): Promise<void> {
    await Promise.all(this.#sources.map((source) => source?.close?.()));
  }
}

/**
 * The bytes [offsetBytes, offsetBytes + lengthBytes) of a version, block by block. When the reader
 * reuses its buffers, each piece yielded is valid only until the next one is asked for: the
 * caller must copy (or consume) it before that.
 */
export async function* readRange(
  reader: BlockReader,
  offsetBytes: number,
  lengthBytes: number,
  onDone: (damaged: boolean) => void,
  maxBlocksInFlight: number,
): AsyncGenerator<Uint8Array> {
  const geometry = reader.geometry;
  try {
    if (lengthBytes === 0) return;
    const endBytes = offsetBytes + lengthBytes;
    const firstBlock = Math.floor(offsetBytes / geometry.blockSizeBytes);
    const lastBlock = Math.floor((endBytes - 1) / geometry.blockSizeBytes);
    // Read ahead up to maxBlocksInFlight blocks while the caller consumes the current one.
    const pending: Promise<(Uint8Array | null)[]>[] = [];
    let nextToRead = firstBlock;
    for (let blockIndex = firstBlock; blockIndex <= lastBlock; blockIndex += 1) {
      while (nextToRead <= lastBlock && pending.length < maxBlocksInFlight) {
        const promise = reader.readBlock(nextToRead);
        promise.catch(() => {});
        pending.push(promise);
        nextToRead += 1;
      }
      const shards = await pending.shift()!;
      const blockStart = blockIndex * geometry.blockSizeBytes;
      const from = Math.max(offsetBytes, blockStart) - blockStart;
      const to = Math.min(endBytes, blockStart + geometry.blockDataBytes(blockIndex)) - blockStart;
      const shardBytes = geometry.shardBytes(blockIndex);
      for (let index = 0; index < geometry.dataShards; index += 1) {
        const shardStart = index * shardBytes;
        const start = Math.max(from, shardStart);
        const end = Math.min(to, shardStart + shardBytes);
        if (start < end) yield shards[index]!.subarray(start - shardStart, end - shardStart);
      }
      reader.releaseBlock(shards);
    }
  } finally {
    onDone(reader.damaged);
    await reader.close();
  }
}
