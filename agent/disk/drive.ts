// The interface of one drive (one directory, one mount on a real host). The shard store only
// sees this interface, so a test can put a fault-injecting twin (faulty-drive.ts) in its place.
// Paths are relative to the drive's root, '/'-separated, built by the store from hashes: a path
// that climbs out of the root ('..') or is absolute is a programmer error and asserts.

/** A file being written sequentially; nothing is durable before `finish` resolves. */
export interface FileWriter {
  /** Appends the chunks in order (one writev). */
  write(chunks: readonly Uint8Array[]): Promise<void>;
  /** Flushes to stable storage (fsync) and closes. */
  finish(): Promise<void>;
  /** Closes and removes the partial file; never throws. */
  abort(): Promise<void>;
}

/**
 * A file that only grows (a journal segment): appends are made durable together by one
 * fdatasync, which is what makes group commit cheap.
 */
export interface AppendLog {
  /** Appends the chunks at the end of the file, in order (one writev). */
  append(chunks: readonly Uint8Array[]): Promise<void>;
  /** fdatasync: the bytes appended so far, and the file size, reach stable storage. */
  syncData(): Promise<void>;
  /** Closes the file; never throws. */
  close(): Promise<void>;
}

/** An open file to read ranges of (one open for many reads: a whole-object GET reads every block). */
export interface RangeReader {
  /**
   * Up to `lengthBytes` bytes from `offsetBytes`; shorter only at the end of the file. With `into`
   * (at least `lengthBytes` long) the bytes are read into it and the result is a view of it, so a
   * caller can reuse its buffers instead of allocating one per read.
   */
  read(offsetBytes: number, lengthBytes: number, into?: Uint8Array): Promise<Uint8Array>;
  /** Waits for reads in flight, then closes the file. Never throws. */
  close(): Promise<void>;
}

export interface DriveSpace {
  freeBytes: number;
  totalBytes: number;
}

export interface DriveEntryStat {
  sizeBytes: number;
  isDirectory: boolean;
}

/** The calls a drive answers; FaultyDrive names them to inject faults. */
export type DriveOperation =
  | 'ensureDirectory'
  | 'writeFile'
  | 'writeFileAtomic'
  | 'createFileWriter'
  | 'write'
  | 'finish'
  | 'openAppendLog'
  | 'append'
  | 'syncData'
  | 'readFile'
  | 'readRange'
  | 'stat'
  | 'rename'
  | 'remove'
  | 'list'
  | 'syncDirectory'
  | 'freeSpace'
  | 'syncFileSystem'
  | 'readRecord'
  | 'writeRecords'
  | 'removeRecords'
  | 'listRecords'
  | 'checkOnline';

export interface Drive {
  /** Where the drive is, for logs and errors (its root directory). */
  readonly description: string;
  /** Throws DRIVE_OFFLINE unless the root directory is there and answers. */
  checkOnline(): Promise<void>;
  /**
   * Creates the directory and its missing parents, durably (each new entry's parent is fsynced)
   * unless `durable` is false (scratch directories that a crash may lose).
   */
  ensureDirectory(path: string, options?: { durable?: boolean }): Promise<void>;
  /**
   * Creates a new file (it must not exist) with these bytes, fsynced; the name is not made durable.
   * `replace`: an existing file is truncated and rewritten in place instead. `sync: false`: no
   * fsync (the caller makes it durable later, e.g. with syncFileSystem).
   */
  writeFile(path: string, data: Uint8Array, options?: { replace?: boolean; sync?: boolean }): Promise<void>;
  /** Replaces the file atomically and durably: temp file, write, fsync, rename, fsync the directory. */
  writeFileAtomic(path: string, data: Uint8Array): Promise<void>;
  /**
   * Opens a new file (it must not exist) for streaming writes. `direct`: the caller gives only
   * chunks whose address and length are multiples of 4096, and the drive may write them with
   * O_DIRECT (straight from that memory to the disk); a drive that cannot writes them as usual.
   */
  createFileWriter(path: string, options?: { direct?: boolean }): Promise<FileWriter>;
  /**
   * Creates a new file (it must not exist) to append to; its name is not made durable. With
   * `durableAppends`, each append resolves only once its bytes and the file's size are on stable
   * storage (as append + syncData, in one system call where the drive can: O_DSYNC).
   */
  openAppendLog(path: string, options?: { durableAppends?: boolean }): Promise<AppendLog>;
  /** The whole file. NOT_FOUND when it does not exist. */
  readFile(path: string): Promise<Uint8Array>;
  /** Up to `lengthBytes` bytes from `offsetBytes`; shorter only at the end of the file. */
  readRange(path: string, offsetBytes: number, lengthBytes: number): Promise<Uint8Array>;
  /** Opens a file for many `readRange`s (faults are injected per read, as for readRange). */
  openRangeReader(path: string): Promise<RangeReader>;
  stat(path: string): Promise<DriveEntryStat>;
  /**
   * Renames atomically (replacing a file at `to`). With `sync` (the default) the directories of
   * both names are fsynced afterwards, so the rename survives a power loss.
   */
  rename(from: string, to: string, options?: { sync?: boolean }): Promise<void>;
  /**
   * Removes a file or a whole directory tree; a missing path is not an error. `entries`: the names
   * the caller expects in the directory (a faster removal, two trips to the thread pool instead of
   * six for one file: each unlinked, then the directory; anything else found there falls back to
   * the whole-tree removal).
   */
  remove(path: string, options?: { entries?: readonly string[] }): Promise<void>;
  /** Names of the entries of a directory, sorted. NOT_FOUND when it does not exist. */
  list(path: string): Promise<string[]>;
  /** fsyncs a directory, making the creations, renames and removals in it durable. */
  syncDirectory(path: string): Promise<void>;
  /**
   * The record of a version directory in the drive's record database (records/records.db), or
   * null when it holds none. With `fallbackFile`, a drive that held version directories before
   * its database existed answers from `<directory>/<fallbackFile>` when the database has no row
   * (records written by agents from before the database, until a checkpoint rewrites them).
   */
  readRecord(directory: string, options?: { fallbackFile?: string }): Promise<Uint8Array | null>;
  /**
   * Writes records into the database in one transaction (each created or replaced), creating the
   * database when the drive has none. Not durable: the caller makes it so with syncFileSystem.
   */
  writeRecords(records: readonly { directory: string; data: Uint8Array }[]): Promise<void>;
  /**
   * Deletes these directories' records from the database (a missing one is not an error) and
   * resolves with those of the directories that exist on the drive (the caller removes them).
   */
  removeRecords(directories: readonly string[]): Promise<string[]>;
  /** Directories holding a record in the database, `after` < directory < `before`, in order. */
  listRecords(range: { after: string; before: string; limit: number }): Promise<string[]>;
  /** Closes the record database (it is opened again on the next call). Never throws. */
  closeRecords(): Promise<void>;
  /**
   * syncfs(2): everything written, created, renamed or removed on the drive's file system so far
   * reaches stable storage, in one call instead of one fsync per file and directory.
   */
  syncFileSystem(): Promise<void>;
  /** Free and total bytes of the file system holding the drive (statfs). */
  freeSpace(): Promise<DriveSpace>;
}
