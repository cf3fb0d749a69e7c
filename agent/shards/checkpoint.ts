// The checkpointer: moves journaled changes into the drives' record databases, then trims the
// journal.
//
// One pass, on each drive: seal the segment being appended to; write every indexed entry of the
// sealed segments (records: rows of the drive's record database, records/records.db, written by
// the drives' worker thread in transactions of up to maxRecordsPerBatch; removals: the row deleted
// and the version directory, if any, renamed away and deleted), none of it fsynced; then one
// syncfs(2) of the drive's file system makes all of it durable at once; then drop the entries from
// the index, and only then delete the sealed segments.
//
// Why not one file per record: a small version's record used to become a `meta` file in a new
// version directory, two directories and a file per version on each drive, and the kernel work of
// those creations bounded sustained small writes and slowed every read meanwhile (BENCHMARKS.md,
// run 8). Why not fsync per write: a per-file fsync costs three to four per version per drive.
//
// Why a commit without fsync is safe: until the pass has made the rows durable and dropped the
// entry, readers take the record from the journal index, never from the database; a crash at any
// point leaves the segments in place, the next open replays them (the journal is always the
// newest truth, so replay is idempotent) and a later pass writes the rows again. The database
// itself runs in WAL mode with synchronous=NORMAL, which a crash cannot corrupt.
//
// Only the checkpointer writes the record databases and removes version directories. Commits
// (which may place a shard file in a version directory before journaling its record) and the
// rename that takes a removed directory out of its key's directory hold the key's lock, so a
// removal never deletes a shard file a commit just placed; the renamed-away files belong to no
// address, and are deleted after the lock is released.
import { type Drive, isDriveError } from '../disk/index.ts';
import { lockName, type SetContext } from './context.ts';
import type { DriveJournal, JournalEntry } from './journal.ts';
import { journalStagingDirectory } from './journal-format.ts';

export interface CheckpointOptions {
  /** A pass starts this long after the first change it would cover. */
  intervalMs: number;
  /** A pass starts at once when a drive's journal index holds this many bytes. */
  indexedBytesTrigger: number;
  /** Named bound on the keys whose removed directories are renamed away at once per drive. */
  maxConcurrentApplies: number;
  /** Named bound on the records written to a drive's record database in one transaction. */
  maxRecordsPerBatch: number;
}

/**
 * Renamed-away version directories deleted at once per drive. Their shard files are large: a
 * deletion holds a thread of libuv's pool while the commits of new writes wait for one.
 */
const trashRemovalsPerDrive = 2;

export class Checkpointer {
  readonly #ctx: SetContext;
  readonly #options: CheckpointOptions;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | null = null;
  #stopped = false;
  /** After a failed pass (a drive offline), passes wait for the timer instead of running back to back. */
  #lastPassFailed = false;
  /** Drives whose part of the last pass failed: a pass cannot shrink their journals for now. */
  readonly failedDrives = new Set<number>();

  constructor(ctx: SetContext, options: CheckpointOptions) {
    this.#ctx = ctx;
    this.#options = options;
  }

  /** Called after each durable journal batch: start a pass now, or soon. */
  noteCommitted(): void {
    if (this.#stopped) return;
    const urgent =
      !this.#lastPassFailed &&
      this.#ctx.journals.some(
        (journal) => journal.sealedSegments > 0 || journal.indexedBytes >= this.#options.indexedBytesTrigger,
      );
    if (urgent && this.#running === null) {
      void this.run().catch(() => {});
      return;
    }
    if (this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (!this.#stopped) void this.run().catch(() => {});
    }, this.#options.intervalMs);
    // Background work must not keep a process alive.
    this.#timer.unref();
  }

  /** Runs a full pass (after the one in progress, if any). Rejects when a drive failed its part. */
  async run(): Promise<void> {
    while (this.#running !== null) await this.#running.catch(() => {});
    const pass = this.#pass();
    this.#running = pass;
    try {
      await pass;
      this.#lastPassFailed = false;
    } catch (error) {
      this.#lastPassFailed = true;
      throw error;
    } finally {
      this.#running = null;
    }
  }

  async #pass(): Promise<void> {
    const journals = this.#ctx.journals;
    const applied = await Promise.allSettled(journals.map((journal) => this.#applyDrive(journal)));
    // All drives ask at once, so that one syncfs run covers them (see LocalDrive.syncFileSystem).
    const synced = await Promise.allSettled(
      applied.map(async (result, driveIndex) => {
        if (result.status === 'rejected') throw result.reason;
        if (result.value === null) return;
        await journals[driveIndex].drive.syncFileSystem();
        const { upTo, entries } = result.value;
        for (const entry of entries) journals[driveIndex].forget(entry);
        this.#ctx.metrics.checkpointedEntries += entries.length;
        await journals[driveIndex].trimUpTo(upTo);
      }),
    );
    this.failedDrives.clear();
    synced.forEach((result, driveIndex) => {
      if (result.status === 'rejected') this.failedDrives.add(driveIndex);
    });
    const failed = synced.find((result) => result.status === 'rejected');
    if (failed !== undefined) {
      this.#ctx.metrics.checkpointFailures += 1;
      throw failed.reason;
    }
  }

  /** Writes a drive's sealed entries into its record database and removes the removed (not yet durable); null when it has none. */
  async #applyDrive(journal: DriveJournal): Promise<{ upTo: number; entries: JournalEntry[] } | null> {
    if (!journal.isReplayed) return null;
    await journal.ready();
    if (!journal.hasWork) return null;
    const drive = journal.drive;
    const upTo = await journal.seal();
    const entries = journal.entriesUpTo(upTo);
    const records = entries.filter((entry) => entry.kind === 'record');
    for (let start = 0; start < records.length; start += this.#options.maxRecordsPerBatch) {
      await drive.writeRecords(
        records.slice(start, start + this.#options.maxRecordsPerBatch).map((entry) => ({
          directory: entry.directory,
          data: entry.recordBytes,
        })),
      );
    }
    const removals = entries.filter((entry) => entry.kind === 'removal');
    // Only the checkpointer writes the database: no lock needed for its rows. (A newer entry of a
    // directory, if one came meanwhile, is read from the journal and written by the next pass.)
    const onDisk = new Set<string>();
    for (let start = 0; start < removals.length; start += this.#options.maxRecordsPerBatch) {
      const batch = removals.slice(start, start + this.#options.maxRecordsPerBatch);
      for (const directory of await drive.removeRecords(batch.map((entry) => entry.directory)))
        onDisk.add(directory);
    }
    // A small version has no directory: only those on the disk are renamed away and deleted. (One
    // created after this look belongs to a newer entry of its address, which this removal must
    // not touch anyway.)
    const withDirectories = removals.filter((entry) => onDisk.has(entry.directory));
    if (withDirectories.length > 0) await drive.ensureDirectory(journalStagingDirectory, { durable: false });
    // The key's lock is held for the renames alone, taken once per key: a commit of the same key
    // waits for a few renames, not for the unlinks of large versions' shard files. (A pass after
    // 30 overwrites of one 64 MiB key, one lock and one removal per version, held the next PUT of
    // that key for 0.6-0.8 s.) Renamed away, the files belong to no address; their deletion goes
    // afterwards, a few at a time, so that it does not fill the thread pool the commits use.
    const byKey = Map.groupBy(withDirectories, (entry) => lockName(entry.address));
    const trashes: string[] = [];
    await forEachBounded([...byKey], this.#options.maxConcurrentApplies, ([name, keyEntries]) =>
      this.#ctx.lock.run(name, async () => {
        const latest = keyEntries.filter((entry) => journal.isLatest(entry));
        const moved = await moveDirectoriesAway(
          drive,
          latest.map((entry) => entry.directory),
          () => this.#ctx.randomUUID(),
        );
        trashes.push(...moved);
      }),
    );
    await forEachBounded(trashes, trashRemovalsPerDrive, (trash) => drive.remove(trash));
    return { upTo, entries };
  }

  /** Stops scheduling passes and waits for the one in progress. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running?.catch(() => {});
  }
}

/**
 * Takes version directories of one key out of its directory on one drive, atomically each (a rename
 * into the journal's staging directory), and removes the key's directory when it is left empty.
 * Returns where the directories went, for the caller to delete outside the key's lock; a directory
 * that was not there is skipped. A pass cut short leaves them in the staging directory, which the
 * journal's open empties.
 */
export async function moveDirectoriesAway(
  drive: Drive,
  directories: readonly string[],
  trashName: () => string,
): Promise<string[]> {
  const moved = await Promise.all(
    directories.map(async (directory) => {
      const trash = `${journalStagingDirectory}/${trashName()}`;
      try {
        await drive.rename(directory, trash, { sync: false });
        return trash;
      } catch (error) {
        if (isDriveError(error, 'NOT_FOUND')) return null;
        throw error;
      }
    }),
  );
  for (const keyDirectory of new Set(
    directories.map((directory) => directory.slice(0, directory.lastIndexOf('/'))),
  )) {
    const rest = await drive.list(keyDirectory).catch(() => ['?']);
    if (rest.length === 0) await drive.remove(keyDirectory);
  }
  return moved.filter((trash) => trash !== null);
}

/** Runs `action` on every item, at most `limit` at once; rejects with the first failure. */
async function forEachBounded<T>(
  items: T[],
  limit: number,
  action: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++];
      await action(item);
    }
  });
  await Promise.all(workers);
}
