// The worker thread behind LocalDrive's record database (records/records.db on each drive).
//
// A checkpoint used to write each version's record as a `meta` file in the version's own
// directory: for a small version, two new directories and a file on each of six drives, about
// 18 inode creations per version, which bounded sustained small writes and left the kernel busy
// under every other request. Here the records of a drive are rows of one SQLite database (the
// classic embedded store for many small values): a checkpoint writes its batch in one transaction,
// and a read is one indexed lookup. node:sqlite is synchronous, so it runs here, off the event
// loop: one worker for all drives of the process, requests batched by the caller.
//
// Durability is the caller's: the database runs in WAL mode with synchronous=NORMAL (commits are
// not fsynced; SQLite's own WAL checkpoints are, so a crash can lose the latest commits but never
// corrupt the file, see sqlite.org/wal.html), and the checkpointer makes its writes durable with
// syncfs(2) before it trims the journal that still holds them.
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { parentPort } from 'node:worker_threads';

/** Where the database lives on a drive. */
export const recordDatabaseDirectory = 'records';
export const recordDatabaseFile = `${recordDatabaseDirectory}/records.db`;
/** "CFRD" in PRAGMA application_id, and the schema version in PRAGMA user_version. */
export const recordDatabaseApplicationId = 0x43465244;
export const recordDatabaseVersion = 1;

export type DriveWorkerOperation =
  | { kind: 'read'; directory: string; fallbackFile: string | null }
  | { kind: 'write'; records: { directory: string; data: Uint8Array }[] }
  | { kind: 'remove'; directories: string[] }
  | { kind: 'list'; after: string; before: string; limit: number }
  | { kind: 'close' };

export interface DriveWorkerRequest {
  id: number;
  /** The drive's root (absolute): never created here when it is missing. */
  root: string;
  operation: DriveWorkerOperation;
}

export interface DriveWorkerResponse {
  id: number;
  /** read: the record's bytes or null; list: the directories; remove: those that exist on disk. */
  result?: Uint8Array | null | string[];
  error?: { code?: string; message: string };
}

interface OpenDatabase {
  database: DatabaseSync;
  /** The database file's identity when opened: a replaced drive holds another file. */
  device: number;
  inode: number;
  /** The drive held version directories when the database was created: records may be in `meta` files. */
  recordFilesBefore: boolean;
  read: StatementSync;
  write: StatementSync;
  remove: StatementSync;
  list: StatementSync;
}

const databases = new Map<string, OpenDatabase>();

function failure(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

function requireRoot(root: string): void {
  let isDirectory = false;
  try {
    isDirectory = statSync(root).isDirectory();
  } catch {}
  // ENOENT on the root itself: the caller reports the drive as offline.
  if (!isDirectory) throw failure('ENOENT', `drive root ${root} is missing`);
}

/** SQLite's primary result codes that mean something to the drive's caller (sqlite.org/rescode.html). */
const sqliteCorrupt = 11;
const sqliteFull = 13;
const sqliteNotADatabase = 26;

/** The code the drive reports: file-system errors keep theirs; a damaged database is CORRUPT, a full one ENOSPC. */
function errorCode(error: NodeJS.ErrnoException & { errcode?: number }): string {
  if (error.code !== 'ERR_SQLITE_ERROR' || error.errcode === undefined) return error.code ?? 'EIO';
  const primary = error.errcode & 0xff;
  if (primary === sqliteCorrupt || primary === sqliteNotADatabase) return 'CORRUPT';
  if (primary === sqliteFull) return 'ENOSPC';
  return 'EIO';
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function closeDatabase(root: string): void {
  const open = databases.get(root);
  databases.delete(root);
  try {
    open?.database.close();
  } catch {}
}

/**
 * The drive's database, opened or created. `create: false` returns null when the drive has none
 * (a new or replaced drive before its first checkpoint: no records).
 */
function databaseOf(root: string, create: boolean): OpenDatabase | null {
  requireRoot(root);
  const path = join(root, recordDatabaseFile);
  let identity: { dev: number; ino: number } | null = null;
  try {
    identity = statSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const cached = databases.get(root);
  if (
    cached !== undefined &&
    identity !== null &&
    cached.device === identity.dev &&
    cached.inode === identity.ino
  )
    return cached;
  if (cached !== undefined) closeDatabase(root);
  if (identity === null && !create) return null;
  const isNew = identity === null;
  if (isNew) {
    try {
      mkdirSync(join(root, recordDatabaseDirectory));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  const database = new DatabaseSync(path);
  try {
    database.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;');
    const applicationId = (database.prepare('PRAGMA application_id').get() as { application_id: number })
      .application_id;
    const version = (database.prepare('PRAGMA user_version').get() as { user_version: number }).user_version;
    if (applicationId === 0 && version === 0) {
      // Stored for good, so only a missing directory means "no files before": any other error (EIO,
      // EACCES) fails the open instead of hiding an upgraded drive's records.
      let recordFilesBefore = false;
      try {
        recordFilesBefore = readdirSync(join(root, 'objects')).length > 0;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
      database.exec(`
        BEGIN;
        CREATE TABLE IF NOT EXISTS records (directory TEXT PRIMARY KEY, record BLOB NOT NULL);
        CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
        INSERT OR REPLACE INTO settings VALUES ('record_files_before', ${recordFilesBefore ? 1 : 0});
        PRAGMA application_id = ${recordDatabaseApplicationId};
        PRAGMA user_version = ${recordDatabaseVersion};
        COMMIT;`);
    } else if (applicationId !== recordDatabaseApplicationId || version !== recordDatabaseVersion) {
      throw failure(
        'CORRUPT',
        `${path}: not a record database of a version this agent reads (application_id ${applicationId}, version ${version})`,
      );
    }
    const setting = database.prepare("SELECT value FROM settings WHERE name = 'record_files_before'").get() as
      | { value: number }
      | undefined;
    const stat = statSync(path);
    const open: OpenDatabase = {
      database,
      device: stat.dev,
      inode: stat.ino,
      recordFilesBefore: setting?.value === 1,
      read: database.prepare('SELECT record FROM records WHERE directory = ?'),
      write: database.prepare('INSERT OR REPLACE INTO records (directory, record) VALUES (?, ?)'),
      remove: database.prepare('DELETE FROM records WHERE directory = ?'),
      list: database.prepare(
        'SELECT directory FROM records WHERE directory > ? AND directory < ? ORDER BY directory LIMIT ?',
      ),
    };
    databases.set(root, open);
    return open;
  } catch (error) {
    database.close();
    throw error;
  }
}

function readRecord(root: string, directory: string, fallbackFile: string | null): Uint8Array | null {
  const open = databaseOf(root, false);
  const row = open?.read.get(directory) as { record: Uint8Array } | undefined;
  if (row !== undefined) return row.record;
  // Written before the database existed: the record is in its file, until a checkpoint rewrites it.
  if (fallbackFile === null || open?.recordFilesBefore === false) return null;
  try {
    return readFileSync(join(root, directory, fallbackFile));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw error;
  }
}

function transaction(open: OpenDatabase, action: () => void): void {
  open.database.exec('BEGIN');
  try {
    action();
    open.database.exec('COMMIT');
  } catch (error) {
    try {
      open.database.exec('ROLLBACK');
    } catch {}
    throw error;
  }
}

function run(root: string, operation: DriveWorkerOperation): DriveWorkerResponse['result'] {
  switch (operation.kind) {
    case 'read':
      return readRecord(root, operation.directory, operation.fallbackFile);
    case 'write': {
      const open = databaseOf(root, true) as OpenDatabase;
      transaction(open, () => {
        for (const record of operation.records) open.write.run(record.directory, record.data);
      });
      return undefined;
    }
    case 'remove': {
      const open = databaseOf(root, false);
      if (open !== null) {
        transaction(open, () => {
          for (const directory of operation.directories) open.remove.run(directory);
        });
      }
      // Which of them also exist as directories (spilled versions, or records in files): a small
      // version has none, and sparing the caller a failed rename for each is the point of asking here.
      return operation.directories.filter((directory) => isDirectory(join(root, directory)));
    }
    case 'list': {
      const open = databaseOf(root, false);
      if (open === null) return [];
      const rows = open.list.all(operation.after, operation.before, operation.limit) as {
        directory: string;
      }[];
      return rows.map((row) => row.directory);
    }
    case 'close':
      closeDatabase(root);
      return undefined;
  }
}

parentPort?.on('message', (requests: DriveWorkerRequest[]) => {
  const responses = requests.map((request): DriveWorkerResponse => {
    try {
      return { id: request.id, result: run(request.root, request.operation) };
    } catch (error) {
      const failed = error as NodeJS.ErrnoException & { errcode?: number };
      return { id: request.id, error: { code: errorCode(failed), message: failed.message } };
    }
  });
  parentPort?.postMessage(responses);
});
