// One drive's journal: where version records and removals are committed, by group commit.
//
// A commit on a drive used to be temp file -> fsync -> rename -> fsync the directory: two or three
// fsyncs of ~2 ms each per version per drive, one version at a time. Here it is one entry
// appended to the drive's current journal segment; the entries that arrive while a batch is being
// made durable wait and form the next batch, which costs one durable writev for all of them (the
// segment is opened O_DSYNC: the writev returns as a write + fdatasync would; classic group
// commit, bounded by maxBatchEntries and maxBatchBytes). A commit resolves once
// its batch is durable, so callers keep their promise: resolved = on stable storage.
//
// The journal is the newest truth of the drive: the in-memory index holds the latest entry per
// version directory, and readers consult it before the record databases (records.ts). The
// checkpointer (checkpoint.ts) later writes the indexed entries to the record databases, durably, and
// then trims the segments it covered. On open, the remaining segments are replayed in order.
import assert from 'node:assert/strict';
import type { AppendLog, Drive } from '../disk/index.ts';
import { isDriveError } from '../disk/index.ts';
import {
  encodeJournalEntry,
  encodeSegmentHeader,
  type JournalChange,
  journalDirectory,
  journalStagingDirectory,
  parseSegment,
  segmentFileName,
  segmentNumberOf,
} from './journal-format.ts';

export type JournalEntry = JournalChange & {
  /** Log sequence number: the order of entries on this drive (in this process). */
  sequence: number;
};

export interface JournalOptions {
  /** Named bound on the entries of one batch (one durable writev). */
  maxBatchEntries: number;
  /** Named bound on the bytes of one batch. */
  maxBatchBytes: number;
  /** A segment that reaches this size is sealed and a new one started. */
  segmentBytes: number;
  /** Told after each durable batch (the checkpointer decides when to run). */
  onCommitted: () => void;
  /** Counts batches and entries. */
  onBatch: (entries: number) => void;
}

interface Segment {
  number: number;
  /** Sequence of its last entry (0 when it holds none). */
  lastSequence: number;
}

interface ActiveSegment extends Segment {
  log: AppendLog;
  sizeBytes: number;
}

interface Pending {
  change: JournalChange;
  frame: Uint8Array;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export class DriveJournal {
  readonly drive: Drive;
  readonly #options: JournalOptions;
  readonly #index = new Map<string, JournalEntry>();
  /** Segments on disk that are no longer appended to, oldest first. */
  readonly #sealed: Segment[] = [];
  #active: ActiveSegment | null = null;
  #nextSegmentNumber = 1;
  #nextSequence = 1;
  #replayed: Promise<void> | null = null;
  #pending: Pending[] = [];
  #batchScheduled = false;
  /** Batches, seals and closes run one after the other in this lane. */
  #lane: Promise<void> = Promise.resolve();
  /** Bytes of record entries held by the index. */
  #indexedBytes = 0;
  #closed = false;

  constructor(drive: Drive, options: JournalOptions) {
    this.drive = drive;
    this.#options = options;
  }

  /** Replays the segments on disk, once (again after a failure, e.g. the drive was offline). */
  ready(): Promise<void> {
    this.#replayed ??= this.#replay().catch((error: unknown) => {
      this.#replayed = null;
      throw error;
    });
    return this.#replayed;
  }

  get isReplayed(): boolean {
    return this.#replayed !== null;
  }

  get indexedBytes(): number {
    return this.#indexedBytes;
  }

  get indexedEntries(): number {
    return this.#index.size;
  }

  /** Segments no longer appended to and not yet trimmed. */
  get sealedSegments(): number {
    return this.#sealed.length;
  }

  /** True when entries wait in sealed segments or the index (a checkpoint has work). */
  get hasWork(): boolean {
    return this.#index.size > 0 || this.#sealed.length > 0;
  }

  async #replay(): Promise<void> {
    // Leftovers of a checkpoint pass cut short: their entries are still in the segments.
    await this.drive.remove(journalStagingDirectory);
    let names: string[];
    try {
      names = await this.drive.list(journalDirectory);
    } catch (error) {
      if (!isDriveError(error, 'NOT_FOUND')) throw error;
      names = [];
    }
    const numbers = names.flatMap((name) => {
      const number = segmentNumberOf(name);
      return number === null ? [] : [number];
    });
    numbers.sort((a, b) => a - b);
    this.#index.clear();
    this.#indexedBytes = 0;
    this.#sealed.length = 0;
    for (const number of numbers) {
      const parsed = parseSegment(
        await this.drive.readFile(`${journalDirectory}/${segmentFileName(number)}`),
      );
      for (const change of parsed.changes) this.#remember({ ...change, sequence: this.#nextSequence++ });
      this.#sealed.push({ number, lastSequence: this.#nextSequence - 1 });
      this.#nextSegmentNumber = number + 1;
    }
  }

  #remember(entry: JournalEntry): void {
    const replaced = this.#index.get(entry.directory);
    if (replaced?.kind === 'record') this.#indexedBytes -= replaced.recordBytes.byteLength;
    if (entry.kind === 'record') this.#indexedBytes += entry.recordBytes.byteLength;
    this.#index.set(entry.directory, entry);
  }

  /** The latest journaled change of a version directory on this drive, if any. */
  async lookup(directory: string): Promise<JournalEntry | undefined> {
    await this.ready();
    return this.#index.get(directory);
  }

  /** Directories of the versions whose record is journaled (for walks). */
  recordDirectories(): string[] {
    return [...this.#index.values()]
      .filter((entry) => entry.kind === 'record')
      .map((entry) => entry.directory);
  }

  /** Commits one change: resolves once it is durable on this drive. */
  append(change: JournalChange): Promise<void> {
    assert.ok(!this.#closed, 'journal is closed');
    const frame = encodeJournalEntry(change);
    return new Promise<void>((resolve, reject) => {
      this.#pending.push({ change, frame, resolve, reject });
      this.#scheduleBatch();
    });
  }

  #scheduleBatch(): void {
    if (this.#batchScheduled || this.#pending.length === 0) return;
    this.#batchScheduled = true;
    // The batch starts when the lane is free, i.e. when the previous batch is durable:
    // everything that arrived meanwhile goes in it.
    this.#lane = this.#lane.then(() => this.#writeBatch()).catch(() => {});
  }

  #takeBatch(): Pending[] {
    let bytes = 0;
    let count = 0;
    while (count < this.#pending.length && count < this.#options.maxBatchEntries) {
      const next = this.#pending[count].frame.byteLength;
      if (count > 0 && bytes + next > this.#options.maxBatchBytes) break;
      bytes += next;
      count += 1;
    }
    return this.#pending.splice(0, count);
  }

  async #writeBatch(): Promise<void> {
    this.#batchScheduled = false;
    const batch = this.#takeBatch();
    this.#scheduleBatch();
    if (batch.length === 0) return;
    const batchBytes = batch.reduce((sum, pending) => sum + pending.frame.byteLength, 0);
    try {
      await this.ready();
      const segment = await this.#segmentFor(batchBytes);
      // Durable when it returns: the segment is opened with durable appends (O_DSYNC).
      await segment.log.append(batch.map((pending) => pending.frame));
      // An open file descriptor keeps working after its drive was unmounted or removed: check
      // that the segment is still where a restart will look for it.
      await this.drive.stat(`${journalDirectory}/${segmentFileName(segment.number)}`);
      segment.sizeBytes += batchBytes;
      for (const pending of batch) {
        const entry = { ...pending.change, sequence: this.#nextSequence++ };
        this.#remember(entry);
        segment.lastSequence = entry.sequence;
      }
    } catch (error) {
      // The segment may now end with part of this batch: never append to it again.
      await this.#sealActive();
      if (isDriveError(error, 'NOT_FOUND')) {
        // The segment vanished from a drive that answers (a disk swapped under us): what the
        // index says of this drive is no longer on it. Start again from what the drive holds.
        this.#forgetState();
      }
      for (const pending of batch) pending.reject(error);
      return;
    }
    this.#options.onBatch(batch.length);
    for (const pending of batch) pending.resolve();
    this.#options.onCommitted();
  }

  /** The segment to append to: a new one when there is none or this batch would overflow it. */
  async #segmentFor(batchBytes: number): Promise<ActiveSegment> {
    const active = this.#active;
    if (
      active !== null &&
      (active.sizeBytes + batchBytes <= this.#options.segmentBytes || active.lastSequence === 0)
    )
      return active;
    await this.#sealActive();
    const number = this.#nextSegmentNumber++;
    const path = `${journalDirectory}/${segmentFileName(number)}`;
    await this.drive.ensureDirectory(journalDirectory);
    const log = await this.drive.openAppendLog(path, { durableAppends: true });
    try {
      const header = encodeSegmentHeader();
      await log.append([header]);
      // The segment's name must be durable before anything in it is acknowledged.
      await this.drive.syncDirectory(journalDirectory);
      this.#active = { number, lastSequence: 0, log, sizeBytes: header.byteLength };
      return this.#active;
    } catch (error) {
      await log.close();
      this.#sealed.push({ number, lastSequence: 0 });
      throw error;
    }
  }

  async #sealActive(): Promise<void> {
    const active = this.#active;
    if (active === null) return;
    this.#active = null;
    await active.log.close();
    this.#sealed.push({ number: active.number, lastSequence: active.lastSequence });
  }

  /**
   * Seals the segment being appended to (at a batch boundary) and returns the sequence of the
   * last entry in a sealed segment: a checkpoint covers everything up to it.
   */
  seal(): Promise<number> {
    const sealed = this.#lane.then(async () => {
      await this.#sealActive();
      return this.#nextSequence - 1;
    });
    this.#lane = sealed.then(
      () => {},
      () => {},
    );
    return sealed;
  }

  /** The indexed entries with a sequence up to `sequence`, oldest first. */
  entriesUpTo(sequence: number): JournalEntry[] {
    return [...this.#index.values()]
      .filter((entry) => entry.sequence <= sequence)
      .sort((a, b) => a.sequence - b.sequence);
  }

  /** True while `entry` is still the latest change of its directory. */
  isLatest(entry: JournalEntry): boolean {
    return this.#index.get(entry.directory) === entry;
  }

  /** Drops an entry that the record database now holds (unless a newer one replaced it). */
  forget(entry: JournalEntry): void {
    if (!this.isLatest(entry)) return;
    this.#index.delete(entry.directory);
    if (entry.kind === 'record') this.#indexedBytes -= entry.recordBytes.byteLength;
  }

  /**
   * Deletes the sealed segments whose entries are all up to `sequence` (their entries are in the
   * record database or replaced by newer ones), oldest first, each deletion made durable before the
   * next: what remains after a crash is always the newest segments.
   */
  async trimUpTo(sequence: number): Promise<number> {
    let removed = 0;
    while (this.#sealed.length > 0 && this.#sealed[0].lastSequence <= sequence) {
      const segment = this.#sealed[0];
      await this.drive.remove(`${journalDirectory}/${segmentFileName(segment.number)}`);
      await this.drive.syncDirectory(journalDirectory);
      this.#sealed.shift();
      removed += 1;
    }
    return removed;
  }

  /**
   * Forgets what this journal knew of its drive, which was replaced: the index described a disk
   * that is gone. The next use replays whatever the drive holds now (nothing, when it is new).
   */
  async reset(): Promise<void> {
    await this.seal().catch(() => {});
    this.#forgetState();
  }

  #forgetState(): void {
    this.#index.clear();
    this.#indexedBytes = 0;
    this.#sealed.length = 0;
    this.#replayed = null;
  }

  /** Waits for the batches in flight and closes the segment (entries stay for the next open). */
  async close(): Promise<void> {
    this.#closed = true;
    await this.seal().catch(() => {});
  }
}
