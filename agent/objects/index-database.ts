// The listing index: a SQLite database (Node's built-in node:sqlite) that orders every version
// by (bucket, key as UTF-8 bytes, newest first), so a page of a listing is one B-tree seek and a
// short forward read whatever the bucket's size. It is a cache of the shard store: the store's
// version metadata is the truth, and the index is rebuilt from it when it is missing, corrupt,
// of another format, or was left half-built.
import { existsSync, rmSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import type { DailyPeak } from './usage-ledger-schema.ts';

const indexMagic = 'coffre.objects.index';
// 2: buckets are keyed by id (per-tenant namespaces); a version 1 index is rebuilt from the store.
const indexFormatVersion = '2';

const schema = `
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
-- A bucket's id (BucketRecord.id) is the "bucket" of every other table; its S3 name is unique
-- only within its owner's namespace.
CREATE TABLE buckets (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, owner_tenant_id TEXT NOT NULL, store_version_id TEXT NOT NULL,
  record TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX buckets_by_owner ON buckets (owner_tenant_id, name);
-- Keys are BLOBs of their UTF-8 bytes: SQLite compares BLOBs with memcmp, which is the byte order
-- S3 lists in ("List results are always returned in UTF-8 binary order").
CREATE TABLE versions (
  bucket TEXT NOT NULL, key BLOB NOT NULL, sequence TEXT NOT NULL, version_id TEXT NOT NULL,
  store_version_id TEXT NOT NULL, is_delete_marker INTEGER NOT NULL, size_bytes INTEGER NOT NULL,
  etag TEXT NOT NULL, last_modified_ms INTEGER NOT NULL, storage_class TEXT NOT NULL, record TEXT NOT NULL,
  PRIMARY KEY (bucket, key, sequence DESC)
) WITHOUT ROWID;
CREATE UNIQUE INDEX versions_by_id ON versions (bucket, key, version_id);
CREATE INDEX versions_by_store_id ON versions (bucket, key, store_version_id);
-- The keys whose newest version is an object (not a delete marker), with the fields a listing
-- shows: ListObjects reads one contiguous range of this table and nothing else, so a page never
-- wades through deleted keys or old versions, nor looks each key up in another B-tree.
CREATE TABLE current_objects (
  bucket TEXT NOT NULL, key BLOB NOT NULL, sequence TEXT NOT NULL, size_bytes INTEGER NOT NULL,
  etag TEXT NOT NULL, last_modified_ms INTEGER NOT NULL, storage_class TEXT NOT NULL,
  PRIMARY KEY (bucket, key)
) WITHOUT ROWID;
CREATE TABLE uploads (
  bucket TEXT NOT NULL, key BLOB NOT NULL, upload_id TEXT NOT NULL, initiated_ms INTEGER NOT NULL,
  record TEXT NOT NULL, PRIMARY KEY (bucket, key, upload_id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX uploads_by_id ON uploads (upload_id);
CREATE TABLE parts (
  upload_id TEXT NOT NULL, part_number INTEGER NOT NULL, store_version_id TEXT NOT NULL,
  size_bytes INTEGER NOT NULL, etag TEXT NOT NULL, last_modified_ms INTEGER NOT NULL, record TEXT NOT NULL,
  PRIMARY KEY (upload_id, part_number)
) WITHOUT ROWID;
-- Store addresses about to change. Written (and fsynced) before the store write or delete and
-- cleared after the index follows it, so after a crash in between, open() reconciles exactly
-- those addresses with the store instead of trusting a stale index.
CREATE TABLE intents (
  id INTEGER PRIMARY KEY, action TEXT NOT NULL, bucket TEXT NOT NULL, key TEXT NOT NULL, version_id TEXT NOT NULL
);
`;

const anotherFormatVersion = 'the index has another format version';

export interface OpenedIndex {
  database: DatabaseSync;
  /** Why the index must be rebuilt from the store, or null when it can be trusted. */
  rebuildReason: string | null;
  /**
   * The daily usage peaks of a sound index of another format version, which is replaced: unlike the
   * rest of the index they cannot be recomputed from the store (they are billing history), so they
   * go into the new one (UsageLedger.mergeDailyPeaks). Empty otherwise.
   */
  carriedDailyPeaks: DailyPeak[];
}

function configure(database: DatabaseSync): void {
  // WAL lets listings read while a commit writes. Durability is chosen per transaction (see
  // inTransaction): FULL for the intents, which must reach the disk before the store changes,
  // NORMAL for the index updates that an intent already covers.
  database.exec('PRAGMA journal_mode = WAL');
  database.exec('PRAGMA synchronous = FULL');
  database.exec('PRAGMA busy_timeout = 5000');
}

function removeDatabaseFiles(path: string): void {
  for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(`${path}${suffix}`, { force: true });
}

function createFresh(path: string): DatabaseSync {
  removeDatabaseFiles(path);
  const database = new DatabaseSync(path);
  configure(database);
  database.exec('BEGIN');
  database.exec(schema);
  const insert = database.prepare('INSERT INTO meta (name, value) VALUES (?, ?)');
  insert.run('magic', indexMagic);
  insert.run('format_version', indexFormatVersion);
  insert.run('complete', '0');
  insert.run('closed_cleanly', '0');
  database.exec('COMMIT');
  return database;
}

/**
 * Why an existing index file must be rebuilt, or null when it looks sound; `reusable` says whether
 * the file itself (and its intents) can be kept, as after an interrupted rebuild.
 */
function inspect(database: DatabaseSync): { reason: string; reusable: boolean } | null {
  const rows = database.prepare('SELECT name, value FROM meta').all() as { name: string; value: string }[];
  const meta = new Map(rows.map((row) => [row.name, row.value]));
  // The integrity check reads the whole file (seconds at millions of keys): it runs only when the
  // last process did not close the index cleanly, the case where damage can have gone unseen.
  if (meta.get('closed_cleanly') !== '1') {
    const integrity = database.prepare('PRAGMA quick_check').all() as { quick_check: string }[];
    if (integrity.length !== 1 || integrity[0].quick_check !== 'ok') {
      return { reason: 'the index failed its integrity check', reusable: false };
    }
  }
  if (meta.get('magic') !== indexMagic)
    return { reason: 'the index file is not a Coffre object index', reusable: false };
  if (meta.get('format_version') !== indexFormatVersion)
    return { reason: anotherFormatVersion, reusable: false };
  if (meta.get('complete') !== '1')
    return { reason: 'the last index rebuild did not finish', reusable: true };
  return null;
}

export function openIndexDatabase(path: string): OpenedIndex {
  if (!existsSync(path)) {
    return { database: createFresh(path), rebuildReason: 'the index file is missing', carriedDailyPeaks: [] };
  }
  let database: DatabaseSync | undefined;
  let verdict: { reason: string; reusable: boolean } | null;
  try {
    database = new DatabaseSync(path);
    configure(database);
    verdict = inspect(database);
  } catch (error) {
    verdict = { reason: `the index cannot be read (${(error as Error).message})`, reusable: false };
  }
  if (database !== undefined && (verdict === null || verdict.reusable)) {
    setClosedCleanly(database, false);
    return { database, rebuildReason: verdict?.reason ?? null, carriedDailyPeaks: [] };
  }
  const carriedDailyPeaks =
    database !== undefined && verdict?.reason === anotherFormatVersion ? readDailyPeaks(database) : [];
  database?.close();
  return { database: createFresh(path), rebuildReason: verdict?.reason ?? null, carriedDailyPeaks };
}

/** The usage ledger's daily peaks of an index (none when it has no ledger). */
function readDailyPeaks(database: DatabaseSync): DailyPeak[] {
  const hasPeaks = database
    .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'usage_daily_peaks'")
    .get();
  if (hasPeaks === undefined) return [];
  return database
    .prepare(
      `SELECT tenant_id AS tenantId, day, peak_bytes AS peakBytes, peak_at_ms AS peakAtMs,
         last_bytes AS lastBytes, last_at_ms AS lastAtMs FROM usage_daily_peaks ORDER BY tenant_id, day`,
    )
    .all() as unknown as DailyPeak[];
}

/** Records whether the index was closed cleanly (set at close, cleared while it is open). */
export function setClosedCleanly(database: DatabaseSync, closedCleanly: boolean): void {
  database.exec('PRAGMA synchronous = FULL');
  database
    .prepare("INSERT OR REPLACE INTO meta (name, value) VALUES ('closed_cleanly', ?)")
    .run(closedCleanly ? '1' : '0');
}

/**
 * Empties the cached tables and marks the index incomplete until markComplete(). Intents stay:
 * they belong to writes in flight (their commit will index them) or to a crash (replaying them
 * again later is harmless).
 */
export function clearIndex(database: DatabaseSync): void {
  database.exec(`
    DELETE FROM buckets; DELETE FROM versions; DELETE FROM current_objects;
    DELETE FROM uploads; DELETE FROM parts;
    UPDATE meta SET value = '0' WHERE name = 'complete';
  `);
}

export function markComplete(database: DatabaseSync): void {
  database.prepare("UPDATE meta SET value = '1' WHERE name = 'complete'").run();
}

/**
 * Runs `work` in one write transaction (BEGIN IMMEDIATE: the write lock is taken up front). Only
 * a durable transaction fsyncs the WAL at its commit (synchronous=FULL); the others do not
 * (NORMAL), and a power cut may drop the last of them. That is safe because every index change
 * that follows a store change is covered by an intent committed durably before it: a lost index
 * update is redone from the store at the next open. One fsync per write instead of two.
 */
export function inTransaction<T>(database: DatabaseSync, work: () => T, durable: boolean): T {
  run(database, durable ? 'PRAGMA synchronous = FULL' : 'PRAGMA synchronous = NORMAL');
  run(database, 'BEGIN IMMEDIATE');
  try {
    const result = work();
    run(database, 'COMMIT');
    return result;
  } catch (error) {
    run(database, 'ROLLBACK');
    throw error;
  }
}

const preparedControls = new WeakMap<DatabaseSync, Map<string, StatementSync>>();

/**
 * Runs a transaction-control statement (BEGIN, COMMIT, SAVEPOINT, a PRAGMA), prepared once per
 * database: every index update runs several, and `exec` would compile each every time.
 */
export function run(database: DatabaseSync, sql: string): void {
  let statements = preparedControls.get(database);
  if (statements === undefined) {
    statements = new Map();
    preparedControls.set(database, statements);
  }
  let statement = statements.get(sql);
  if (statement === undefined) {
    statement = database.prepare(sql);
    statements.set(sql, statement);
  }
  statement.run();
}

/**
 * Makes the index's committed transactions durable off the event loop: an fdatasync of the
 * write-ahead log on libuv's thread pool. A transaction committed with synchronous=NORMAL has its
 * frames in the WAL file (written, not synced); fdatasync of that file afterwards gives it the
 * durability synchronous=FULL gives, without node:sqlite blocking every other request for the
 * length of the fsync. If a checkpoint copied the frames into the database meanwhile, SQLite
 * synced them there itself ("the database file is synchronized after each completed checkpoint",
 * sqlite.org/pragma.html#pragma_synchronous), and the WAL header written at the log's restart is
 * synced together with the frames that follow it. Calls that arrive while a sync runs share the
 * next one (group commit): at most one sync runs and one waits.
 */
export class WriteAheadLogSync {
  readonly #walPath: string;
  #running: Promise<void> | null = null;
  #queued: Promise<void> | null = null;
  /**
   * Kept open: SQLite keeps the WAL file (restarting it in place after a checkpoint) for as long as
   * a connection is open, and removes it only when the last one closes, after close() here.
   */
  #handle: FileHandle | null = null;
  /** fdatasync calls made (each covers every transaction committed before it started). */
  syncs = 0;

  constructor(databasePath: string) {
    this.#walPath = `${databasePath}-wal`;
  }

  /** Resolves once every transaction committed before this call is durable. */
  sync(): Promise<void> {
    if (this.#queued !== null) return this.#queued;
    if (this.#running === null) return this.#start();
    const queued = this.#running
      .catch(() => {})
      .then(() => {
        this.#queued = null;
        return this.#start();
      });
    this.#queued = queued;
    return queued;
  }

  #start(): Promise<void> {
    const running = this.#syncOnce().finally(() => {
      if (this.#running === running) this.#running = null;
    });
    this.#running = running;
    return running;
  }

  async #syncOnce(): Promise<void> {
    this.syncs += 1;
    // A committed transaction in WAL mode is in the WAL file, so it exists by now: its absence is
    // an error (the commit could not be made durable), not a reason to skip the sync.
    this.#handle ??= await open(this.#walPath, 'r+');
    await this.#handle.datasync();
  }

  /** Closes the log's handle; call when the database closes (SQLite then removes the WAL). */
  async close(): Promise<void> {
    await this.#running?.catch(() => {});
    await this.#queued?.catch(() => {});
    const handle = this.#handle;
    this.#handle = null;
    await handle?.close();
  }
}
