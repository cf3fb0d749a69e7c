// The checkpointer: moves journaled changes into the record files, then trims the journal.
//
// One pass, on each drive: seal the segment being appended to, write every indexed entry of the
// sealed segments to its version directory (a record: staged in journal/staging/, fsynced, renamed over
// "meta"; a removal: the directory renamed away and deleted), fsync the directories touched, drop
// the entries from the index, and only then delete the sealed segments. A crash at any point
// leaves the segments in place: the next open replays them over whatever the pass had written,
// and replay is idempotent because the journal is always the newest truth.
//
// Only the checkpointer writes "meta" files and removes version directories. Commits (which may
// place a shard file in a version directory before journaling its record) and the removal of a
// directory take the key's lock, so a removal never deletes a shard file a commit just placed.
import { type Drive, isDriveError } from '../disk/index.ts';
import { lockName, type SetContext } from './context.ts';
import type { JournalEntry } from './journal.ts';
import { journalStagingDirectory } from './journal-format.ts';
import { versionRecordFile } from './layout.ts';

export interface CheckpointOptions {
  /** A pass starts this long after the first change it would cover. */
  intervalMs: number;
  /** A pass starts at once when a drive's journal index holds this many bytes. */
  indexedBytesTrigger: number;
  /** Named bound on the record files written at once per drive. */
  maxConcurrentApplies: number;
}

export class Checkpointer {
  readonly #ctx: SetContext;
  readonly #options: CheckpointOptions;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | null = null;
  #stopped = false;

  constructor(ctx: SetContext, options: CheckpointOptions) {
    this.#ctx = ctx;
    this.#options = options;
  }

  /** Called after each durable journal batch: start a pass now, or soon. */
  noteCommitted(): void {
    if (this.#stopped) return;
    const urgent = this.#ctx.journals.some(
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
    } finally {
      this.#running = null;
    }
  }

  async #pass(): Promise<void> {
    const results = await Promise.allSettled(
      this.#ctx.journals.map((_, driveIndex) => this.#checkpointDrive(driveIndex)),
    );
    const failed = results.filter((result) => result.status === 'rejected');
    if (failed.length > 0) {
      this.#ctx.metrics.checkpointFailures += 1;
      throw (failed[0] as PromiseRejectedResult).reason;
    }
  }

  async #checkpointDrive(driveIndex: number): Promise<void> {
    const journal = this.#ctx.journals[driveIndex];
    if (!journal.isReplayed) return;
    await journal.ready();
    if (!journal.hasWork) return;
    const drive = journal.drive;
    const upTo = await journal.seal();
    await drive.ensureDirectory(journalStagingDirectory, { durable: false });
    const entries = journal.entriesUpTo(upTo);
    await forEachBounded(entries, this.#options.maxConcurrentApplies, (entry) =>
      entry.kind === 'record'
        ? applyRecord(drive, entry, this.#ctx.randomUUID())
        : this.#ctx.lock.run(lockName(entry.address), async () => {
            if (journal.isLatest(entry))
              await removeDirectoryFiles(drive, entry.directory, this.#ctx.randomUUID());
          }),
    );
    // The renames into place are durable once their directories are: one fsync per directory.
    const directories = [
      ...new Set(entries.filter((entry) => entry.kind === 'record').map((e) => e.directory)),
    ];
    await forEachBounded(directories, this.#options.maxConcurrentApplies, (directory) =>
      drive.syncDirectory(directory),
    );
    for (const entry of entries) journal.forget(entry);
    this.#ctx.metrics.checkpointedEntries += entries.length;
    await journal.trimUpTo(upTo);
  }

  /** Stops scheduling passes and waits for the one in progress. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running?.catch(() => {});
  }
}

/** Writes a journaled record into its version directory (durable once the directory is fsynced). */
async function applyRecord(
  drive: Drive,
  entry: JournalEntry & { kind: 'record' },
  name: string,
): Promise<void> {
  // Staged in journal/staging/, which the next open empties if we crash before the rename.
  const staged = `${journalStagingDirectory}/${name}`;
  try {
    await Promise.all([drive.writeFile(staged, entry.recordBytes), drive.ensureDirectory(entry.directory)]);
    await drive.rename(staged, `${entry.directory}/${versionRecordFile}`, { sync: false });
  } catch (error) {
    await drive.remove(staged).catch(() => {});
    throw error;
  }
}

/** Removes a version directory from one drive: renamed away first, so it vanishes atomically. */
export async function removeDirectoryFiles(
  drive: Drive,
  directory: string,
  trashName: string,
): Promise<void> {
  const trash = `${journalStagingDirectory}/${trashName}`;
  try {
    await drive.rename(directory, trash);
  } catch (error) {
    if (isDriveError(error, 'NOT_FOUND')) return;
    throw error;
  }
  await drive.remove(trash);
  const keyDirectory = directory.slice(0, directory.lastIndexOf('/'));
  const rest = await drive.list(keyDirectory).catch(() => ['?']);
  if (rest.length === 0) await drive.remove(keyDirectory);
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
