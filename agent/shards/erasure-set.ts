// One erasure set over the drives of a host: the API the object layer builds on. See the files
// beside this one for each mechanism (write.ts, read.ts, records.ts, commit.ts, heal.ts).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Drive, LocalDrive } from '../disk/index.ts';
import { createCodec, type ErasureCodec } from '../erasure/index.ts';
import { Checkpointer } from './checkpoint.ts';
import { commitOnDrive, removeOrphanShard, removeVersionDirectory } from './commit.ts';
import { emptyMetrics, lockName, type SetContext, type StoreMetrics, writeQuorumFor } from './context.ts';
import { writeQuorumError } from './errors.ts';
import { alignedShardFileVersion, type VersionRecord } from './formats.ts';
import { type HealReport, healVersion, holdsCurrent } from './heal.ts';
import { HealQueue } from './heal-queue.ts';
import { DriveJournal } from './journal.ts';
import { type JournalSettings, journalDefaults } from './journal-settings.ts';
import { distributionFor, type VersionAddress, versionDirectory } from './layout.ts';
import { KeyedLock } from './lock.ts';
import { type RebuildReport, rebuildDriveOf, type ScrubReport, scrubSet } from './maintenance.ts';
import { deleteRecords, updateRecords } from './mutate.ts';
import { type DriveCondition, prepareDrives, replayAndClean } from './open.ts';
import { BlockReader, readRange, shardSources } from './read.ts';
import { type Resolution, readRecordCopies, requireFound, resolveCopies } from './records.ts';
import { walkVersionDirectories } from './walk.ts';
import { type CommittedDrive, VersionWriter } from './write.ts';

export interface ErasureSetOptions {
  /** Drive root directories (each must exist) or Drive objects; k + m of them. */
  drives: (string | Drive)[];
  /** k, default 4. */
  dataShards?: number;
  /** m, default 2. */
  parityShards?: number;
  /** Object bytes per stripe, default 1 MiB. */
  blockSizeBytes?: number;
  /** Versions smaller than this live inside their record; default 128 KiB, at most blockSizeBytes. */
  inlineThresholdBytes?: number;
  clock?: () => number;
  /** Source of version data ids and temporary names (UUIDs). */
  randomUUID?: () => string;
  /** Used by scrub to pace itself. */
  sleep?: (milliseconds: number) => Promise<void>;
  /** Batches of blocks being written at once by one write, or blocks read ahead by one read; default 2. */
  maxBlocksInFlight?: number;
  /**
   * Blocks a write hands to each drive in one writev; default 4. A write holds up to
   * maxBlocksInFlight x blocksPerWrite + 1 stripes of block + parity (13.5 MiB with the defaults).
   */
  blocksPerWrite?: number;
  /**
   * The shard file format new versions are written in (formats.ts): 2 (the default: aligned, written
   * with O_DIRECT where the drive and build/coffre_aligned.node allow), or 1, as agents before 30
   * Nov 2026 wrote them (tests and benchmarks compare them). Both are always read.
   */
  shardFileVersion?: 1 | 2;
  /**
   * Format 2 shard files are written with O_DIRECT where the drive takes it and the aligned memory
   * addon is built (default true); false: through the page cache (tests compare both).
   */
  directWrites?: boolean;
  /** Bound on the background heal queue; default 10 000. */
  maxQueuedHeals?: number;
  /** Default: createCodec(dataShards, parityShards) from agent/erasure. */
  codec?: ErasureCodec;
  /** Group commit and checkpointing of the per-drive journals (see journal.ts, checkpoint.ts). */
  journal?: Partial<JournalSettings>;
}

export interface StoredVersion {
  address: VersionAddress;
  sizeBytes: number;
  /** The caller's metadata, as returned by finalize or updateMetadata. */
  metadata: Record<string, unknown>;
  dataId: string;
  committedAtMs: number;
  updatedAtMs: number;
  metadataRevision: number;
  inline: boolean;
  erasure: { dataShards: number; parityShards: number; blockSizeBytes: number };
}

export interface WriteOptions {
  /** Called once the body is stored but not committed; throwing aborts the write. */
  finalize: (summary: { sizeBytes: number }) => Promise<Record<string, unknown>> | Record<string, unknown>;
  signal?: AbortSignal;
  /**
   * The caller never wrote this address before (the object layer gives every version a new
   * hybrid-clock id): the commit looks for a record to keep as "previous" only in the journals'
   * in-memory index, not in the drives' record databases: a 4 KiB PUT saves six lookups that would
   * find nothing. Were the address taken after
   * all, the overwrite would merely lose its atomicity across drives.
   */
  newAddress?: boolean;
  /**
   * The body's length when known in advance (a PUT's declared length): the writer sizes its first
   * stripe for it instead of growing one from 16 KiB (six allocations and copies for 1 MiB). A
   * hint, not a promise: a body of another length is still written whole.
   */
  sizeHintBytes?: number;
  /**
   * A body whose producer can write its bytes into the writer's memory (the object layer's
   * encryption seals each piece into it): while the body is read, `writable(maxBytes)` gives a view
   * of the stripe being filled, 1 to maxBytes long, where the next bytes of the body go; a piece
   * the body then yields that is that view (or its beginning) is kept where it is instead of being
   * copied. Unset again once the body has been read.
   */
  bodyDestination?: { writable?: (maxBytes: number) => Uint8Array };
}

export interface ByteRange {
  offsetBytes: number;
  lengthBytes: number;
}

export interface DriveStatus {
  driveIndex: number;
  description: string;
  state: DriveCondition;
  freeBytes?: number;
  totalBytes?: number;
}

const defaults = {
  dataShards: 4,
  parityShards: 2,
  blockSizeBytes: 1024 * 1024,
  inlineThresholdBytes: 128 * 1024,
  maxBlocksInFlight: 2,
  blocksPerWrite: 4,
  maxQueuedHeals: 10_000,
};

export async function openErasureSet(options: ErasureSetOptions): Promise<ErasureSet> {
  const dataShards = options.dataShards ?? defaults.dataShards;
  const parityShards = options.parityShards ?? defaults.parityShards;
  const blockSizeBytes = options.blockSizeBytes ?? defaults.blockSizeBytes;
  const inlineThresholdBytes = Math.min(
    options.inlineThresholdBytes ?? defaults.inlineThresholdBytes,
    blockSizeBytes,
  );
  assert.equal(options.drives.length, dataShards + parityShards, 'an erasure set needs k + m drives');
  assert.ok(
    Number.isInteger(blockSizeBytes) && blockSizeBytes > 0,
    'blockSizeBytes must be a positive integer',
  );
  assert.ok((options.maxBlocksInFlight ?? 1) >= 1, 'maxBlocksInFlight must be at least 1');
  assert.ok((options.blocksPerWrite ?? 1) >= 1, 'blocksPerWrite must be at least 1');
  const drives = options.drives.map((drive) => (typeof drive === 'string' ? new LocalDrive(drive) : drive));
  const newId = options.randomUUID ?? randomUUID;
  const prepared = await prepareDrives(drives, { dataShards, parityShards }, newId);
  const metrics = emptyMetrics();
  const settings: JournalSettings = { ...journalDefaults, ...options.journal };
  let healQueue: HealQueue | undefined;
  let checkpointer: Checkpointer | undefined;
  const journals = drives.map(
    (drive) =>
      new DriveJournal(drive, {
        maxBatchEntries: settings.maxBatchEntries,
        maxBatchBytes: settings.maxBatchBytes,
        segmentBytes: settings.segmentBytes,
        onCommitted: () => checkpointer?.noteCommitted(),
        onBatch: (entries) => {
          metrics.journalBatches += 1;
          metrics.journalEntries += entries;
        },
      }),
  );
  const ctx: SetContext = {
    drives,
    journals,
    codec: options.codec ?? createCodec(dataShards, parityShards),
    dataShards,
    parityShards,
    driveCount: drives.length,
    writeQuorum: writeQuorumFor(dataShards, parityShards),
    blockSizeBytes,
    inlineThresholdBytes,
    maxBlocksInFlight: options.maxBlocksInFlight ?? defaults.maxBlocksInFlight,
    blocksPerWrite: options.blocksPerWrite ?? defaults.blocksPerWrite,
    shardFileVersion: options.shardFileVersion ?? alignedShardFileVersion,
    directWrites: options.directWrites ?? true,
    clock: options.clock ?? Date.now,
    randomUUID: newId,
    metrics,
    driveConditions: prepared.conditions,
    lock: new KeyedLock(),
    requestHeal: (address) => healQueue?.request(address),
  };
  healQueue = new HealQueue(
    options.maxQueuedHeals ?? defaults.maxQueuedHeals,
    (address) => healVersion(ctx, address, { deep: true }),
    metrics,
  );
  metrics.temporaryEntriesCleaned = await replayAndClean(ctx);
  checkpointer = new Checkpointer(ctx, {
    intervalMs: settings.checkpointIntervalMs,
    indexedBytesTrigger: settings.checkpointTriggerBytes,
    maxConcurrentApplies: settings.maxConcurrentApplies,
    maxRecordsPerBatch: settings.maxRecordsPerBatch,
  });
  // What the journals replayed goes to the record databases soon.
  if (journals.some((journal) => journal.hasWork)) checkpointer.noteCommitted();
  const sleepFor = options.sleep ?? ((milliseconds: number) => sleep(milliseconds));
  return new ErasureSet(ctx, healQueue, checkpointer, settings.maxJournaledBytes, sleepFor);
}

function toStoredVersion(record: VersionRecord): StoredVersion {
  return {
    address: { bucket: record.bucket, key: record.key, versionId: record.versionId },
    sizeBytes: record.sizeBytes,
    metadata: record.metadata,
    dataId: record.dataId,
    committedAtMs: record.committedAtMs,
    updatedAtMs: record.updatedAtMs,
    metadataRevision: record.metadataRevision,
    inline: record.inline,
    erasure: {
      dataShards: record.erasure.dataShards,
      parityShards: record.erasure.parityShards,
      blockSizeBytes: record.erasure.blockSizeBytes,
    },
  };
}

function asJson(metadata: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(JSON.stringify(metadata)) as Record<string, unknown>;
}

function checkAddress(address: VersionAddress): void {
  for (const field of ['bucket', 'key', 'versionId'] as const) {
    if (typeof address[field] !== 'string' || address[field].length === 0) {
      throw new TypeError(`version address needs a non-empty ${field}`);
    }
  }
}

export class ErasureSet {
  readonly #ctx: SetContext;
  readonly #healQueue: HealQueue;
  readonly #checkpointer: Checkpointer;
  readonly #maxJournaledBytes: number;
  readonly #sleep: (milliseconds: number) => Promise<void>;
  #closed = false;

  constructor(
    ctx: SetContext,
    healQueue: HealQueue,
    checkpointer: Checkpointer,
    maxJournaledBytes: number,
    sleepFor: (milliseconds: number) => Promise<void>,
  ) {
    this.#ctx = ctx;
    this.#healQueue = healQueue;
    this.#checkpointer = checkpointer;
    this.#maxJournaledBytes = maxJournaledBytes;
    this.#sleep = sleepFor;
  }

  /**
   * Backpressure: when a drive's journal holds more than maxJournaledBytes of records in memory,
   * a new change waits for one checkpoint pass. Taken before the key's lock, never under it (a
   * checkpoint takes key locks).
   */
  async #journalRoom(): Promise<void> {
    // A drive whose part of the last pass failed (offline) takes no new entries either: its
    // journal does not grow, and waiting for it would only slow every write down.
    const full = this.#ctx.journals.some(
      (journal, driveIndex) =>
        journal.indexedBytes > this.#maxJournaledBytes && !this.#checkpointer.failedDrives.has(driveIndex),
    );
    if (!full) return;
    await this.#checkpointer.run().catch(() => {});
  }

  /**
   * Writes every journaled change into the record databases and trims the journals now (it also
   * happens in the background). Rejects if a drive failed its part (its changes stay journaled).
   */
  checkpoint(): Promise<void> {
    this.#checkOpen();
    return this.#checkpointer.run();
  }

  /** Counters since open (live object: read it at any time). */
  get metrics(): StoreMetrics {
    return this.#ctx.metrics;
  }

  get writeQuorum(): number {
    return this.#ctx.writeQuorum;
  }

  #checkOpen(): void {
    if (this.#closed) throw new Error('erasure set is closed');
  }

  async writeVersion(
    address: VersionAddress,
    body: AsyncIterable<Uint8Array>,
    options: WriteOptions,
  ): Promise<StoredVersion> {
    this.#checkOpen();
    checkAddress(address);
    const ctx = this.#ctx;
    const dataId = ctx.randomUUID();
    const distribution = distributionFor(address, ctx.driveCount);
    const writer = new VersionWriter(
      ctx,
      address,
      dataId,
      ctx.randomUUID(),
      distribution,
      options.newAddress === true,
      options.sizeHintBytes,
    );
    if (options.bodyDestination) options.bodyDestination.writable = (maxBytes) => writer.writable(maxBytes);
    try {
      for await (const chunk of body) {
        options.signal?.throwIfAborted();
        await writer.push(chunk);
      }
      options.signal?.throwIfAborted();
      await writer.end();
      // Stored as JSON: what the caller gets back is what a later read returns.
      const metadata = asJson(await options.finalize({ sizeBytes: writer.sizeBytes }));
      options.signal?.throwIfAborted();
      await this.#journalRoom();
      const nowMs = ctx.clock();
      const record: VersionRecord = {
        ...address,
        sizeBytes: writer.sizeBytes,
        dataId,
        committedAtMs: nowMs,
        metadataRevision: 0,
        updatedAtMs: nowMs,
        inline: writer.inline,
        erasure: {
          dataShards: ctx.dataShards,
          parityShards: ctx.parityShards,
          blockSizeBytes: ctx.blockSizeBytes,
          distribution,
          checksumAlgorithm: 'crc32',
          ...(writer.inline ? {} : { shardFileVersion: writer.shardFileVersion }),
        },
        metadata,
      };
      return await ctx.lock.run(lockName(address), () => this.#commit(writer, record));
    } finally {
      // The stripes go back to the pool: nothing may write into them through this any more.
      if (options.bodyDestination) options.bodyDestination.writable = undefined;
      await writer.discard();
    }
  }

  async #commit(writer: VersionWriter, record: VersionRecord): Promise<StoredVersion> {
    const ctx = this.#ctx;
    const { committed, failures } = await writer.commit(record);
    const committedDrives = new Set(committed.map((entry) => entry.driveIndex));
    await Promise.all(
      ctx.drives.map((_, driveIndex) =>
        committedDrives.has(driveIndex)
          ? undefined
          : removeOrphanShard(ctx, driveIndex, record).catch(() => {}),
      ),
    );
    if (committed.length < ctx.writeQuorum) {
      // Take back the drives that did commit, so that the version is not half there: restore
      // the record they held before, or remove the version.
      await Promise.all(committed.map((entry) => undoCommit(ctx, record, entry).catch(() => {})));
      throw writeQuorumError(failures, ctx.writeQuorum, 'write');
    }
    // The new version is on a quorum: the previous one it overwrote can go.
    const dropped = await Promise.allSettled(
      committed
        .filter((entry) => entry.previous !== null)
        .map((entry) => {
          const payload = writer.inlinePayload(entry.driveIndex);
          return commitOnDrive(ctx, entry.driveIndex, ctx.randomUUID(), record, payload, false, {
            removeOtherShards: true,
          });
        }),
    );
    if (committed.length < ctx.driveCount || dropped.some((result) => result.status === 'rejected')) {
      ctx.metrics.degradedWrites += 1;
      ctx.requestHeal(record);
    }
    return toStoredVersion(record);
  }

  async #resolve(address: VersionAddress): Promise<Resolution> {
    checkAddress(address);
    const resolution = resolveCopies(this.#ctx, await readRecordCopies(this.#ctx, versionDirectory(address)));
    if (resolution.kind === 'found' && needsHeal(resolution)) this.#ctx.requestHeal(address);
    return resolution;
  }

  async statVersion(address: VersionAddress): Promise<StoredVersion | null> {
    this.#checkOpen();
    const resolution = await this.#resolve(address);
    if (resolution.kind === 'absent') return null;
    return toStoredVersion(requireFound(resolution, 'stat').record);
  }

  /**
   * `reuseBuffers`: the body's pieces are read into buffers that are reused, so each piece is valid
   * only until the next one is asked for (for a caller that copies or consumes each piece at once).
   */
  async readVersion(
    address: VersionAddress,
    range?: ByteRange,
    options?: { reuseBuffers?: boolean },
  ): Promise<{ version: StoredVersion; body: AsyncIterable<Uint8Array> }> {
    this.#checkOpen();
    const found = requireFound(await this.#resolve(address), 'read');
    const { record } = found;
    const offsetBytes = range?.offsetBytes ?? 0;
    const lengthBytes = range?.lengthBytes ?? record.sizeBytes - offsetBytes;
    if (
      !Number.isInteger(offsetBytes) ||
      !Number.isInteger(lengthBytes) ||
      offsetBytes < 0 ||
      lengthBytes < 0 ||
      offsetBytes + lengthBytes > record.sizeBytes
    ) {
      throw new RangeError(
        `range ${offsetBytes}+${lengthBytes} is outside a ${record.sizeBytes}-byte version`,
      );
    }
    const reader = new BlockReader(
      this.#ctx,
      record,
      shardSources(this.#ctx, found, undefined, { keepFilesOpen: true }),
      { reuseBuffers: options?.reuseBuffers },
    );
    const onDone = (damaged: boolean) => {
      if (damaged) this.#ctx.requestHeal(address);
    };
    const body = readRange(reader, offsetBytes, lengthBytes, onDone, this.#ctx.maxBlocksInFlight);
    return { version: toStoredVersion(record), body };
  }

  async updateMetadata(
    address: VersionAddress,
    update: (old: Record<string, unknown>) => Record<string, unknown>,
  ): Promise<StoredVersion> {
    this.#checkOpen();
    checkAddress(address);
    await this.#journalRoom();
    const record = await this.#ctx.lock.run(lockName(address), () =>
      updateRecords(this.#ctx, address, update),
    );
    return toStoredVersion(record);
  }

  async deleteVersion(address: VersionAddress): Promise<void> {
    this.#checkOpen();
    checkAddress(address);
    await this.#journalRoom();
    await this.#ctx.lock.run(lockName(address), () => deleteRecords(this.#ctx, address));
  }

  async *listVersions(options?: { bucket?: string }): AsyncIterable<StoredVersion> {
    this.#checkOpen();
    for await (const directory of walkVersionDirectories(this.#ctx, { bucket: options?.bucket })) {
      const resolution = resolveCopies(this.#ctx, await readRecordCopies(this.#ctx, directory));
      if (resolution.kind === 'absent') continue;
      yield toStoredVersion(requireFound(resolution, `list ${directory}`).record);
    }
  }

  /** Verifies every shard of the version and rewrites the damaged, missing or stale ones. */
  heal(address: VersionAddress): Promise<HealReport> {
    this.#checkOpen();
    checkAddress(address);
    return healVersion(this.#ctx, address, { deep: true });
  }

  /** Walks every version, verifying and healing, reading at most bytesPerSecond. */
  scrub(options: { bytesPerSecond: number; signal?: AbortSignal }): Promise<ScrubReport> {
    this.#checkOpen();
    return scrubSet(this.#ctx, this.#sleep, options);
  }

  /** Rewrites onto a replaced (empty) drive everything it should hold. */
  rebuildDrive(driveIndex: number): Promise<RebuildReport> {
    this.#checkOpen();
    return rebuildDriveOf(this.#ctx, driveIndex);
  }

  /** Each drive's state as of now (a live check) and its free space. */
  async driveStates(): Promise<DriveStatus[]> {
    return Promise.all(
      this.#ctx.drives.map(async (drive, driveIndex): Promise<DriveStatus> => {
        const status = { driveIndex, description: drive.description };
        try {
          await drive.checkOnline();
          const space = await drive.freeSpace();
          const conditions = this.#ctx.driveConditions;
          if (conditions[driveIndex] === 'offline') conditions[driveIndex] = 'online';
          const state = conditions[driveIndex];
          return { ...status, state, ...space };
        } catch {
          return { ...status, state: 'offline' };
        }
      }),
    );
  }

  /** Resolves when the background heals requested so far are done. */
  settle(): Promise<void> {
    return this.#healQueue.settle();
  }

  /**
   * Stops background work (queued heals are dropped; scrub finds them again), writes the journals
   * into the record databases (a drive that fails keeps its journal, replayed at the next open) and
   * closes them.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#healQueue.stop();
    await this.#checkpointer.stop();
    await this.#checkpointer.run().catch(() => {});
    await Promise.all(this.#ctx.journals.map((journal) => journal.close()));
    await Promise.all(this.#ctx.drives.map((drive) => drive.closeRecords()));
  }
}

/** Reverts one drive's commit of a write that missed its quorum. */
async function undoCommit(ctx: SetContext, record: VersionRecord, entry: CommittedDrive): Promise<void> {
  if (entry.previous === null) {
    await removeVersionDirectory(ctx, entry.driveIndex, record);
    return;
  }
  const payload = Buffer.from(entry.previous.inlinePayloadBase64, 'base64');
  await commitOnDrive(ctx, entry.driveIndex, ctx.randomUUID(), entry.previous.record, payload, false, {
    removeOtherShards: true,
  });
}

/** True when a drive that answers holds a missing, stale or unreadable copy of the record. */
function needsHeal(resolution: Extract<Resolution, { kind: 'found' }>): boolean {
  return resolution.copies.some((copy) => copy.state !== 'offline' && !holdsCurrent(copy, resolution.record));
}
