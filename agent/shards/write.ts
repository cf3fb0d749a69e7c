// The streaming write of one version: the body is cut into blocks of blockSizeBytes, each block
// is coded into k data + m parity shards, and each drive appends its shard to its own file in tmp/,
// in the shard file format of ctx.shardFileVersion (formats.ts, shard-file.ts). In format 2 every
// shard is a 4096-aligned view of the stripe, written with O_DIRECT where the drive takes it (see
// "Direct writes" below). Blocks are written in batches of blocksPerWrite: one
// writev per drive per batch, as each write is a hand-off to libuv's thread pool that wakes a
// thread (per block and drive, the wake-ups were ~13 % of a large PUT's event loop). At most
// maxBlocksInFlight batches are being written while the next one fills, and the buffers come from
// a pool of stripes (block + parity), reused once the write holding them has finished: memory stays
// at maxBlocksInFlight x blocksPerWrite + 1 stripes whatever the object size.
// A drive that fails is dropped from this write; the write goes on while a quorum remains.
import assert from 'node:assert/strict';
import { alignedMemory, type FileWriter } from '../disk/index.ts';
import { commitOnDrive, prepareStaging, temporaryPath, temporaryShardFile } from './commit.ts';
import type { SetContext } from './context.ts';
import { writeQuorumError } from './errors.ts';
import {
  alignedShardFileVersion,
  blockChecksumBytes,
  encodeVersionRecord,
  type PreviousVersion,
  shardAlignmentBytes,
  type VersionRecord,
} from './formats.ts';
import { alignUp, type VersionAddress } from './layout.ts';
import { blockChecksum, ShardFileEncoder } from './shard-file.ts';

export interface CommittedDrive {
  driveIndex: number;
  /** The record this drive held before (an overwrite), kept until the quorum is reached. */
  previous: PreviousVersion | null;
}

/** The first stripe of a write: enough for most small versions; it doubles as the body grows. */
const firstStripeBytes = 16 * 1024;

/** One block's buffers: the data (k shards, views of `block`) and m parity shards. */
interface Stripe {
  block: Uint8Array;
  parity: Uint8Array[];
  /** In aligned memory (direct writes). */
  aligned: boolean;
}

/**
 * Full-size stripes of finished writes, for the next writes, by geometry (block bytes, k, m). Every
 * write used to allocate its own (1.5 MiB for a 1 MiB PUT in 4+2): fresh memory outside V8's heap,
 * which is what drives its full collections (BENCHMARKS.md, run 9). A stripe comes back only
 * once no write of its shards can still be running. The smaller first stripes of small versions
 * (sized to each body) are not kept: their sizes are as many as the bodies'.
 */
const freeStripes = new Map<string, Stripe[]>();
/** Stripes kept per geometry (32 full 4+2 stripes of 1 MiB blocks: 48 MiB). */
const maxPooledStripes = 32;

function geometryKey(blockBytes: number, dataShards: number, parityShards: number, direct: boolean): string {
  return `${blockBytes}/${dataShards}/${parityShards}/${direct ? 'aligned' : 'any'}`;
}

// Direct writes. A format 2 file is all whole pages at page offsets, so a drive can write it with
// O_DIRECT (agent/disk: createFileWriter's `direct`) when its memory is aligned too: the stripes,
// header and checksum pages then come from build/coffre_aligned.node. The disk takes the bytes
// from the stripe itself: no copy into the page cache (~30 ms of the thread pool per 64 MiB
// object, BENCHMARKS.md run 15) and no dirty pages for the final fsync to wait for. Without the
// addon, or on a file system that refuses O_DIRECT (ramfs; tmpfs before Linux 6.6), the same bytes go through the page cache.
/** Header and checksum pages of finished batches, aligned, for the next writes (4 MiB). */
const freePages: Uint8Array[] = [];
const maxPooledPages = 1024;
/** Pages are allocated this many at a time (one allocation, cut into pages). */
const pagesPerSlab = 64;

function takePage(): Uint8Array {
  if (freePages.length === 0) {
    const slab = alignedMemory!.allocate(pagesPerSlab * shardAlignmentBytes);
    for (let index = 0; index < pagesPerSlab; index += 1)
      freePages.push(slab.subarray(index * shardAlignmentBytes, (index + 1) * shardAlignmentBytes));
  }
  return freePages.pop()!;
}

function givePagesBack(pages: Uint8Array[]): void {
  for (const page of pages) if (freePages.length < maxPooledPages) freePages.push(page);
}

interface ShardOutput {
  driveIndex: number;
  shardIndex: number;
  writer?: FileWriter;
  /** Set when this drive failed; it gets no more work in this write. */
  error?: unknown;
  /** What this drive's file gets, in the version's format. */
  encoder: ShardFileEncoder;
  /** Chunks of the blocks coded since this drive's last write (the next batch). */
  queued: Uint8Array[];
  /** The drive's writes, in order. */
  tail: Promise<void>;
  /** Inline versions: this drive's shard payload. */
  inlinePayload: Uint8Array;
  /** Spilled versions: settles when the staging directory's names are durable (prepareStaging). */
  stagingDurable?: Promise<void>;
  /** Set once this drive committed: its commit removed the staging directory, discard skips it. */
  committed?: boolean;
}

export class VersionWriter {
  readonly #ctx: SetContext;
  readonly #address: VersionAddress;
  readonly #distribution: number[];
  readonly #dataId: string;
  readonly #temporaryName: string;
  readonly #outputs: ShardOutput[];
  readonly #blockCapacityBytes: number;
  /** The stripe being filled; the others are in flight or free. */
  #stripe: Stripe;
  readonly #freeStripes: Stripe[] = [];
  #blockFilledBytes = 0;
  #sizeBytes = 0;
  #spilled = false;
  /** Batches being written, oldest first, with the stripes and pages they hold. */
  #inFlight: { done: Promise<unknown>; stripes: Stripe[]; pages: Uint8Array[] }[] = [];
  /** Stripes coded and queued on the outputs, not yet handed to a write. */
  #unwritten: Stripe[] = [];
  /** Pooled pages queued on the outputs, not yet handed to a write. */
  #unwrittenPages: Uint8Array[] = [];
  readonly #newAddress: boolean;
  readonly shardFileVersion: number;
  /** Format 2 files: every shard padded to whole pages. */
  readonly #aligned: boolean;
  /** Aligned memory, and the drives asked to write with O_DIRECT. */
  readonly #direct: boolean;

  constructor(
    ctx: SetContext,
    address: VersionAddress,
    dataId: string,
    temporaryName: string,
    distribution: number[],
    newAddress = false,
    sizeHintBytes = 0,
  ) {
    this.#ctx = ctx;
    this.#address = address;
    this.#distribution = distribution;
    this.#newAddress = newAddress;
    this.#dataId = dataId;
    this.#temporaryName = temporaryName;
    this.shardFileVersion = ctx.shardFileVersion;
    this.#aligned = ctx.shardFileVersion === alignedShardFileVersion;
    this.#direct = this.#aligned && ctx.directWrites && alignedMemory !== undefined;
    const newPage = this.#direct
      ? () => {
          const page = takePage();
          this.#unwrittenPages.push(page);
          return page;
        }
      : undefined;
    this.#outputs = distribution.map((shardIndex, driveIndex) => ({
      driveIndex,
      shardIndex,
      encoder: new ShardFileEncoder(ctx.shardFileVersion, newPage),
      tail: Promise.resolve(),
      queued: [],
      inlinePayload: new Uint8Array(0),
    }));
    // Room for k shards of a full block, so the data shards are views of the block, no copy
    // (format 2: k shards each padded to whole pages).
    this.#blockCapacityBytes = this.#roundToShards(ctx.blockSizeBytes);
    // A small version never needs a full block: start at the announced size, or small, and double
    // as the body grows, up to a full stripe (many small versions must not each cost a 1.5 MiB
    // allocation).
    this.#stripe = this.#newStripe(
      this.#roundToShards(Math.min(this.#blockCapacityBytes, Math.max(firstStripeBytes, sizeHintBytes))),
    );
  }

  /**
   * The smallest multiple of k at least `bytes`, so that k shards are views of the block; in format
   * 2, of k pages, so that k shards padded to whole pages are (see #encodeBlock).
   */
  #roundToShards(bytes: number): number {
    const shardBytes = Math.ceil(bytes / this.#ctx.dataShards);
    return this.#ctx.dataShards * (this.#aligned ? alignUp(shardBytes) : shardBytes);
  }

  /**
   * Stripes are not zero-filled (a 1 MiB PUT's 1.5 MiB of memset and fresh pages were ~10 % of the
   * event loop at 16 in flight): every byte is written before it is used. The block is filled by
   * push() and its short tail zero-padded by #encodeBlock; the parity is overwritten by the codec.
   */
  #newStripe(capacityBytes = this.#blockCapacityBytes): Stripe {
    const pooled =
      capacityBytes === this.#blockCapacityBytes ? freeStripes.get(this.#geometry())?.pop() : undefined;
    if (pooled !== undefined) return pooled;
    const shardBytes = capacityBytes / this.#ctx.dataShards;
    // Aligned memory (an allocation of the addon) only where it may be written: a stripe smaller
    // than the inline threshold holds a version that stays inline or grows into a bigger stripe
    // before anything is written (so a 4 KiB PUT costs no aligned allocation).
    const aligned = this.#direct && capacityBytes >= this.#ctx.inlineThresholdBytes;
    const allocate = (bytes: number) =>
      aligned ? alignedMemory!.allocate(bytes) : Buffer.allocUnsafeSlow(bytes);
    return {
      block: allocate(capacityBytes),
      parity: Array.from({ length: this.#ctx.parityShards }, () => allocate(shardBytes)),
      aligned,
    };
  }

  #geometry(): string {
    return geometryKey(this.#blockCapacityBytes, this.#ctx.dataShards, this.#ctx.parityShards, this.#direct);
  }

  /** Keeps a full-size stripe that nothing uses any more for the next writes. */
  #poolStripe(stripe: Stripe): void {
    if (stripe.block.byteLength !== this.#blockCapacityBytes) return;
    const free = freeStripes.get(this.#geometry()) ?? [];
    if (free.length < maxPooledStripes) free.push(stripe);
    freeStripes.set(this.#geometry(), free);
  }

  /** Replaces a small stripe by one at least `neededBytes` big, keeping the bytes already in it. */
  #growStripe(neededBytes: number): void {
    const capacityBytes = this.#roundToShards(
      Math.min(this.#blockCapacityBytes, Math.max(neededBytes, 2 * this.#stripe.block.byteLength)),
    );
    const grown = this.#newStripe(capacityBytes);
    grown.block.set(this.#stripe.block.subarray(0, this.#blockFilledBytes));
    this.#stripe = grown;
  }

  get sizeBytes(): number {
    return this.#sizeBytes;
  }

  get inline(): boolean {
    return !this.#spilled;
  }

  /** Drives still in the write. */
  liveDrives(): number[] {
    return this.#outputs.filter((output) => output.error === undefined).map((output) => output.driveIndex);
  }

  failures(): unknown[] {
    return this.#outputs.filter((output) => output.error !== undefined).map((output) => output.error);
  }

  /**
   * A view of the stripe being filled where the next bytes of the body go, 1 to `maxBytes` long
   * (up to the end of the block, the stripe grown first if it is small); push() of that view, or of
   * its beginning, then keeps the bytes in place instead of copying them (see
   * WriteOptions.bodyDestination).
   */
  writable(maxBytes: number): Uint8Array {
    const room = Math.max(1, Math.min(maxBytes, this.#ctx.blockSizeBytes - this.#blockFilledBytes));
    if (this.#blockFilledBytes + room > this.#stripe.block.byteLength)
      this.#growStripe(this.#blockFilledBytes + room);
    return this.#stripe.block.subarray(this.#blockFilledBytes, this.#blockFilledBytes + room);
  }

  async push(chunk: Uint8Array): Promise<void> {
    const { block } = this.#stripe;
    if (
      chunk.buffer === block.buffer &&
      chunk.byteOffset === block.byteOffset + this.#blockFilledBytes &&
      this.#blockFilledBytes + chunk.byteLength <= this.#ctx.blockSizeBytes
    ) {
      // Written in place through writable(): nothing to copy.
      this.#blockFilledBytes += chunk.byteLength;
      this.#sizeBytes += chunk.byteLength;
      if (this.#blockFilledBytes === this.#ctx.blockSizeBytes) await this.#flushBlock();
      return;
    }
    let offset = 0;
    while (offset < chunk.byteLength) {
      const room = this.#ctx.blockSizeBytes - this.#blockFilledBytes;
      const take = Math.min(room, chunk.byteLength - offset);
      if (this.#blockFilledBytes + take > this.#stripe.block.byteLength) {
        this.#growStripe(this.#blockFilledBytes + take);
      }
      this.#stripe.block.set(chunk.subarray(offset, offset + take), this.#blockFilledBytes);
      this.#blockFilledBytes += take;
      this.#sizeBytes += take;
      offset += take;
      if (this.#blockFilledBytes === this.#ctx.blockSizeBytes) await this.#flushBlock();
    }
  }

  /** Codes the last block and makes every shard file durable. */
  async end(): Promise<void> {
    if (!this.#spilled && this.#sizeBytes < this.#ctx.inlineThresholdBytes) {
      if (this.#blockFilledBytes > 0) this.#encodeInline();
      // The inline payloads are copies: the stripe is free.
      this.#poolStripe(this.#stripe);
      return;
    }
    if (this.#blockFilledBytes > 0) await this.#flushBlock();
    // Format 2: the last group's checksum page.
    for (const output of this.#live()) output.queued.push(...output.encoder.finish());
    this.#writeQueued();
    await Promise.all(this.#inFlight.map((entry) => entry.done));
    // Every write of this version's shards has settled: its stripes and pages serve the next writes.
    for (const stripe of [
      this.#stripe,
      ...this.#freeStripes,
      ...this.#inFlight.flatMap((entry) => entry.stripes),
    ])
      this.#poolStripe(stripe);
    for (const entry of this.#inFlight) givePagesBack(entry.pages);
    this.#freeStripes.length = 0;
    this.#inFlight = [];
    await Promise.all(
      this.#live().map(async (output) => {
        await output.tail;
        if (output.error === undefined)
          await output.writer?.finish().catch((error) => this.#fail(output, error));
      }),
    );
    this.#checkQuorum();
  }

  /** Publishes the version on every drive still in the write; returns the drives that committed. */
  async commit(record: VersionRecord): Promise<{ committed: CommittedDrive[]; failures: unknown[] }> {
    const results = await Promise.allSettled(
      this.#live().map((output) =>
        commitOnDrive(
          this.#ctx,
          output.driveIndex,
          this.#temporaryName,
          record,
          output.inlinePayload,
          this.#spilled,
          { keepPrevious: this.#newAddress ? 'journaled' : true, stagingDurable: output.stagingDurable },
        ).then((previous) => ({ driveIndex: output.driveIndex, previous })),
      ),
    );
    const committed: CommittedDrive[] = [];
    const failures = this.failures();
    for (const result of results) {
      if (result.status === 'fulfilled') {
        committed.push(result.value);
        this.#outputs[result.value.driveIndex].committed = true;
      } else failures.push(result.reason);
    }
    return { committed, failures };
  }

  /** The inline payload this write gave a drive (empty unless inline). */
  inlinePayload(driveIndex: number): Uint8Array {
    return this.#outputs[driveIndex].inlinePayload;
  }

  /** Drops everything this write staged, on every drive; never throws. */
  async discard(): Promise<void> {
    // An inline version staged nothing on the drives.
    if (!this.#spilled) return;
    await Promise.all(this.#inFlight.map((entry) => entry.done.catch(() => {})));
    await Promise.all(
      this.#outputs.map(async (output) => {
        // A drive that committed has published its shard file and tidied its staging directory:
        // aborting its writer would only repeat an unlink and a removal (six trips per PUT).
        if (output.committed) return;
        await output.tail.catch(() => {});
        // The staging directory may still be gaining its record file: removing it first would leave it.
        await output.stagingDurable?.catch(() => {});
        await output.writer?.abort();
        await this.#ctx.drives[output.driveIndex].remove(temporaryPath(this.#temporaryName)).catch(() => {});
      }),
    );
  }

  #live(): ShardOutput[] {
    return this.#outputs.filter((output) => output.error === undefined);
  }

  #fail(output: ShardOutput, error: unknown): void {
    output.error ??= error;
  }

  #checkQuorum(): void {
    if (this.liveDrives().length < this.#ctx.writeQuorum) {
      throw writeQuorumError(this.failures(), this.#ctx.writeQuorum, 'write');
    }
  }

  /**
   * The k+m shards of the current block, views of the stripe, each `shardBytes` long and, with
   * `padded` (format 2 files), followed in its view by zeros up to a whole number of pages: `stride`.
   */
  #encodeBlock(padded: boolean): { shards: Uint8Array[]; shardBytes: number; stride: number } {
    const { dataShards, parityShards } = this.#ctx;
    const { block } = this.#stripe;
    const shardBytes = Math.ceil(this.#blockFilledBytes / dataShards);
    const stride = padded ? alignUp(shardBytes) : shardBytes;
    // A short last block is zero-padded to k equal shards (a reused buffer holds old bytes there).
    block.fill(0, this.#blockFilledBytes, dataShards * shardBytes);
    if (stride !== shardBytes) {
      // Shards that are not whole pages (a short last block) move apart to page boundaries, the
      // last first (each moves right, over bytes already moved), and get zeros up to the next.
      // The stripe has room: its capacity is k shards of whole pages (#roundToShards).
      for (let index = dataShards - 1; index > 0; index -= 1)
        block.copyWithin(index * stride, index * shardBytes, (index + 1) * shardBytes);
      for (let index = 0; index < dataShards; index += 1)
        block.fill(0, index * stride + shardBytes, (index + 1) * stride);
    }
    const shards: Uint8Array[] = [];
    for (let index = 0; index < dataShards; index += 1) {
      shards.push(block.subarray(index * stride, index * stride + stride));
    }
    const parity = this.#stripe.parity.slice(0, parityShards);
    this.#ctx.codec.encode(
      shards.map((shard) => shard.subarray(0, shardBytes)),
      parity.map((buffer) => buffer.subarray(0, shardBytes)),
    );
    for (const buffer of parity) {
      buffer.fill(0, shardBytes, stride);
      shards.push(buffer.subarray(0, stride));
    }
    return { shards, shardBytes, stride };
  }

  #encodeInline(): void {
    const { shards } = this.#encodeBlock(false);
    for (const output of this.#outputs) {
      const shard = shards[output.shardIndex];
      const payload = new Uint8Array(blockChecksumBytes + shard.byteLength);
      payload.set(blockChecksum(shard), 0);
      payload.set(shard, blockChecksumBytes);
      output.inlinePayload = payload;
    }
  }

  /**
   * What a drive's staging directory says of this write until it commits: a record naming its
   * address and data id, which is all the startup cleanup reads (commit.ts, prepareStaging). The
   * rest is known only at the end (size, metadata) and left empty.
   */
  #intent(): Uint8Array {
    const { dataShards, parityShards, blockSizeBytes } = this.#ctx;
    return encodeVersionRecord(
      {
        ...this.#address,
        sizeBytes: 0,
        dataId: this.#dataId,
        committedAtMs: 0,
        metadataRevision: 0,
        updatedAtMs: 0,
        inline: false,
        erasure: {
          dataShards,
          parityShards,
          blockSizeBytes,
          distribution: this.#distribution,
          checksumAlgorithm: 'crc32',
          shardFileVersion: this.shardFileVersion,
        },
        metadata: {},
      },
      new Uint8Array(0),
    );
  }

  /** Opens the shard files on first use: a version below the inline threshold never has any. */
  async #spill(): Promise<void> {
    this.#spilled = true;
    const intent = this.#intent();
    const header = (output: ShardOutput) =>
      output.encoder.header({
        shardIndex: output.shardIndex,
        dataShards: this.#ctx.dataShards,
        parityShards: this.#ctx.parityShards,
        blockSizeBytes: this.#ctx.blockSizeBytes,
        dataId: this.#dataId,
      });
    await Promise.all(
      this.#outputs.map(async (output) => {
        const drive = this.#ctx.drives[output.driveIndex];
        const staging = temporaryPath(this.#temporaryName);
        try {
          output.stagingDurable = (await prepareStaging(drive, this.#temporaryName, intent)).durable;
          output.writer = await drive.createFileWriter(`${staging}/${temporaryShardFile}`, {
            direct: this.#direct,
          });
          // Written with the first batch of blocks, in the same writev.
          output.queued.push(header(output));
        } catch (error) {
          this.#fail(output, error);
        }
      }),
    );
    this.#checkQuorum();
  }

  async #flushBlock(): Promise<void> {
    if (!this.#spilled) await this.#spill();
    // A block is written once it is full (at least the inline threshold) or at the end of a version
    // that did not stay inline: its stripe is one of those that #newStripe aligns.
    assert.ok(this.#stripe.aligned || !this.#direct, 'a direct write from unaligned memory');
    const { shards, shardBytes } = this.#encodeBlock(this.#aligned);
    for (const output of this.#live()) {
      output.queued.push(...output.encoder.block(shards[output.shardIndex], shardBytes));
    }
    // The stripe now belongs to the outputs' queues, then to the write of its batch, until that
    // write finishes; the next block takes a free one, waiting for the oldest batch when
    // maxBlocksInFlight batches are being written.
    this.#unwritten.push(this.#stripe);
    this.#blockFilledBytes = 0;
    if (this.#unwritten.length >= this.#ctx.blocksPerWrite) this.#writeQueued();
    while (this.#inFlight.length >= this.#ctx.maxBlocksInFlight) {
      const oldest = this.#inFlight.shift()!;
      await oldest.done;
      this.#freeStripes.push(...oldest.stripes);
      givePagesBack(oldest.pages);
    }
    this.#stripe = this.#freeStripes.pop() ?? this.#newStripe();
    this.#checkQuorum();
  }

  /** Hands each live drive's queued blocks to one writev, after that drive's previous write. */
  #writeQueued(): void {
    if (this.#live().every((output) => output.queued.length === 0)) return;
    const writes = this.#live().map((output) => {
      const chunks = output.queued;
      output.queued = [];
      output.tail = output.tail.then(async () => {
        if (output.error !== undefined) return;
        await output.writer!.write(chunks).catch((error) => this.#fail(output, error));
      });
      return output.tail;
    });
    this.#inFlight.push({ done: Promise.all(writes), stripes: this.#unwritten, pages: this.#unwrittenPages });
    this.#unwritten = [];
    this.#unwrittenPages = [];
  }
}
