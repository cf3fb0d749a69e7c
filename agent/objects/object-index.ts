// Reads and writes of the listing index, one prepared statement per question. Every method is
// synchronous (node:sqlite's DatabaseSync), short, and touches a bounded number of rows.
import assert from 'node:assert/strict';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { defaultCheckpointPages, fallbackCheckpointPages, IndexCheckpointer } from './index-checkpointer.ts';
import { inTransaction, run, WriteAheadLogSync } from './index-database.ts';
import { IndexGroupCommit } from './index-group-commit.ts';
import { keyToBytes } from './key-bytes.ts';
import type { BucketRecord, ObjectVersionRecord, PartRecord, UploadRecord } from './records.ts';
import type { VersionAddress } from './store.ts';

export interface IndexedVersion {
  record: ObjectVersionRecord;
  storeVersionId: string;
}

export interface IndexedPart {
  record: PartRecord;
  storeVersionId: string;
}

export interface Intent {
  id: number;
  action: 'write' | 'delete';
  address: VersionAddress;
}

/** What putVersion did when the key already had a "null" version. */
export type NullVersionOutcome =
  | { kind: 'none' }
  /** The new version replaced an older null version, whose store copy must now be deleted. */
  | { kind: 'replaced'; stale: IndexedVersion }
  /** A newer null version is already indexed: the incoming one is stale and was not indexed. */
  | { kind: 'superseded' };

export class ObjectIndex {
  readonly database: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();

  readonly #logSync: WriteAheadLogSync | null;
  readonly #checkpointer: IndexCheckpointer | null;
  readonly #groupCommit: IndexGroupCommit;

  constructor(database: DatabaseSync) {
    this.database = database;
    // The WAL is synced off the event loop only for a file database in WAL mode (the mode can
    // silently stay "delete" where WAL is unsupported); otherwise intents commit with FULL.
    const location = database.location();
    const mode = (database.prepare('PRAGMA journal_mode').get() as { journal_mode: string }).journal_mode;
    const walFile = location !== null && location !== '' && mode === 'wal';
    this.#logSync = walFile ? new WriteAheadLogSync(location) : null;
    this.#checkpointer = walFile
      ? new IndexCheckpointer(location, () => {
          // Without its worker the index checkpoints on the event loop again, at SQLite's default size.
          if (database.isOpen) run(database, `PRAGMA wal_autocheckpoint = ${defaultCheckpointPages}`);
        })
      : null;
    if (walFile) run(database, `PRAGMA wal_autocheckpoint = ${fallbackCheckpointPages}`);
    this.#groupCommit = new IndexGroupCommit(this, this.#logSync);
  }

  /** A cached prepared statement. */
  statement(sql: string): StatementSync {
    let prepared = this.#statements.get(sql);
    if (prepared === undefined) {
      prepared = this.database.prepare(sql);
      this.#statements.set(sql, prepared);
    }
    return prepared;
  }

  #inTransaction: 'durable' | 'fast' | null = null;
  readonly #commitHooks: (() => void)[] = [];

  /**
   * Runs `hook` at the end of every write transaction, inside it, after its work: what it writes
   * commits (or rolls back) with the transaction. The usage ledger folds its peaks there.
   */
  onCommit(hook: () => void): void {
    this.#commitHooks.push(hook);
  }

  /**
   * One write transaction. `durable` ones fsync at commit; they are required for any that records
   * an intent, since the store is changed right after on the strength of it.
   */
  transaction<T>(work: () => T, options: { durable?: boolean } = {}): T {
    assert.equal(this.#inTransaction, null, 'index transactions do not nest');
    this.#inTransaction = options.durable ? 'durable' : 'fast';
    try {
      const workThenHooks = () => {
        const result = work();
        for (const hook of this.#commitHooks) hook();
        return result;
      };
      const result = inTransaction(this.database, workThenHooks, options.durable === true);
      this.#checkpointer?.committed();
      return result;
    } finally {
      this.#inTransaction = null;
    }
  }

  // Buckets.

  putBucket(record: BucketRecord, storeVersionId: string): void {
    this.statement(
      `INSERT INTO buckets (id, name, owner_tenant_id, store_version_id, record) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET name = excluded.name, owner_tenant_id = excluded.owner_tenant_id,
         store_version_id = excluded.store_version_id, record = excluded.record`,
    ).run(record.id, record.name, record.ownerTenantId, storeVersionId, JSON.stringify(record));
  }

  removeBucket(id: string): void {
    this.statement('DELETE FROM buckets WHERE id = ?').run(id);
  }

  allBuckets(): { record: BucketRecord; storeVersionId: string }[] {
    const rows = this.statement('SELECT record, store_version_id FROM buckets ORDER BY id').all() as {
      record: string;
      store_version_id: string;
    }[];
    return rows.map((row) => ({
      record: JSON.parse(row.record) as BucketRecord,
      storeVersionId: row.store_version_id,
    }));
  }

  /** True when the bucket holds any version, delete marker or multipart upload. */
  bucketHasEntries(bucket: string): boolean {
    const version = this.statement('SELECT 1 FROM versions WHERE bucket = ? LIMIT 1').get(bucket);
    const upload = this.statement('SELECT 1 FROM uploads WHERE bucket = ? LIMIT 1').get(bucket);
    return version !== undefined || upload !== undefined;
  }

  // Object versions.

  /**
   * Indexes a committed version and refreshes the key's current object. A "null" version
   * replaces the key's older "null" version (S3 keeps at most one per key).
   */
  putVersion(record: ObjectVersionRecord, storeVersionId: string): NullVersionOutcome {
    const keyBytes = keyToBytes(record.key);
    let outcome: NullVersionOutcome = { kind: 'none' };
    const existing = this.statement(
      'SELECT sequence, store_version_id, record FROM versions WHERE bucket = ? AND key = ? AND version_id = ?',
    ).get(record.bucket, keyBytes, record.versionId) as
      | { sequence: string; store_version_id: string; record: string }
      | undefined;
    if (existing !== undefined) {
      if (existing.store_version_id === storeVersionId) {
        outcome = { kind: 'none' };
      } else if (existing.sequence > record.sequence) {
        return { kind: 'superseded' };
      } else {
        assert.equal(record.versionId, 'null', 'only the null version can be replaced');
        const stale = {
          record: JSON.parse(existing.record) as ObjectVersionRecord,
          storeVersionId: existing.store_version_id,
        };
        outcome = { kind: 'replaced', stale };
      }
      this.statement('DELETE FROM versions WHERE bucket = ? AND key = ? AND version_id = ?').run(
        record.bucket,
        keyBytes,
        record.versionId,
      );
    }
    this.statement(
      `INSERT INTO versions (bucket, key, sequence, version_id, store_version_id, is_delete_marker, size_bytes,
         etag, last_modified_ms, storage_class, record) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      record.bucket,
      keyBytes,
      record.sequence,
      record.versionId,
      storeVersionId,
      record.isDeleteMarker ? 1 : 0,
      record.sizeBytes,
      record.etag,
      record.lastModifiedMs,
      record.storageClass,
      JSON.stringify(record),
    );
    this.refreshCurrent(record.bucket, keyBytes);
    return outcome;
  }

  /** Replaces the stored record of an indexed version (tags, retention, legal hold changes). */
  updateVersionRecord(record: ObjectVersionRecord): void {
    this.statement('UPDATE versions SET record = ? WHERE bucket = ? AND key = ? AND version_id = ?').run(
      JSON.stringify(record),
      record.bucket,
      keyToBytes(record.key),
      record.versionId,
    );
  }

  removeVersionByStoreId(bucket: string, key: string, storeVersionId: string): void {
    const keyBytes = keyToBytes(key);
    this.statement('DELETE FROM versions WHERE bucket = ? AND key = ? AND store_version_id = ?').run(
      bucket,
      keyBytes,
      storeVersionId,
    );
    this.refreshCurrent(bucket, keyBytes);
  }

  /** Points current_objects at the key's newest version, or drops the key when that is a delete marker. */
  refreshCurrent(bucket: string, keyBytes: Uint8Array): void {
    const newest = this.statement(
      `SELECT sequence, is_delete_marker, size_bytes, etag, last_modified_ms, storage_class FROM versions
       WHERE bucket = ? AND key = ? ORDER BY sequence DESC LIMIT 1`,
    ).get(bucket, keyBytes) as
      | {
          sequence: string;
          is_delete_marker: number;
          size_bytes: number;
          etag: string;
          last_modified_ms: number;
          storage_class: string;
        }
      | undefined;
    if (newest === undefined || newest.is_delete_marker === 1) {
      this.statement('DELETE FROM current_objects WHERE bucket = ? AND key = ?').run(bucket, keyBytes);
      return;
    }
    this.statement(
      `INSERT OR REPLACE INTO current_objects (bucket, key, sequence, size_bytes, etag, last_modified_ms, storage_class)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      bucket,
      keyBytes,
      newest.sequence,
      newest.size_bytes,
      newest.etag,
      newest.last_modified_ms,
      newest.storage_class,
    );
  }

  /** The key's newest version (versionId undefined) or the named one; null when there is none. */
  getVersion(bucket: string, key: string, versionId?: string): IndexedVersion | null {
    const keyBytes = keyToBytes(key);
    const row = (
      versionId === undefined
        ? this.statement(
            'SELECT record, store_version_id FROM versions WHERE bucket = ? AND key = ? ORDER BY sequence DESC LIMIT 1',
          ).get(bucket, keyBytes)
        : this.statement(
            'SELECT record, store_version_id FROM versions WHERE bucket = ? AND key = ? AND version_id = ?',
          ).get(bucket, keyBytes, versionId)
    ) as { record: string; store_version_id: string } | undefined;
    if (row === undefined) return null;
    return { record: JSON.parse(row.record) as ObjectVersionRecord, storeVersionId: row.store_version_id };
  }

  // Multipart uploads.

  putUpload(record: UploadRecord): void {
    this.statement(
      `INSERT OR REPLACE INTO uploads (bucket, key, upload_id, initiated_ms, record) VALUES (?, ?, ?, ?, ?)`,
    ).run(record.bucket, keyToBytes(record.key), record.uploadId, record.initiatedMs, JSON.stringify(record));
  }

  getUpload(uploadId: string): UploadRecord | null {
    const row = this.statement('SELECT record FROM uploads WHERE upload_id = ?').get(uploadId) as
      | { record: string }
      | undefined;
    return row === undefined ? null : (JSON.parse(row.record) as UploadRecord);
  }

  /** Forgets an upload and its parts' rows (the caller deletes their store versions). */
  removeUpload(uploadId: string): void {
    this.statement('DELETE FROM uploads WHERE upload_id = ?').run(uploadId);
    this.statement('DELETE FROM parts WHERE upload_id = ?').run(uploadId);
  }

  /**
   * Indexes a part and returns the store version of the part it replaces, if any. A live upload
   * replaces (the last part committed wins, as in S3); a rebuild, which meets the store versions
   * in no particular order, keeps the later committed one (last-modified, then id).
   */
  putPart(
    record: PartRecord,
    storeVersionId: string,
    rule: 'replace' | 'keep-latest' = 'replace',
  ): string | null {
    const previous = this.statement(
      'SELECT store_version_id, last_modified_ms FROM parts WHERE upload_id = ? AND part_number = ?',
    ).get(record.uploadId, record.partNumber) as
      | { store_version_id: string; last_modified_ms: number }
      | undefined;
    if (previous?.store_version_id === storeVersionId) return null;
    if (previous !== undefined && rule === 'keep-latest') {
      const previousIsLater =
        previous.last_modified_ms > record.lastModifiedMs ||
        (previous.last_modified_ms === record.lastModifiedMs && previous.store_version_id > storeVersionId);
      if (previousIsLater) return null;
    }
    this.statement(
      `INSERT OR REPLACE INTO parts (upload_id, part_number, store_version_id, size_bytes, etag, last_modified_ms, record)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      record.uploadId,
      record.partNumber,
      storeVersionId,
      record.sizeBytes,
      record.etag,
      record.lastModifiedMs,
      JSON.stringify(record),
    );
    return previous === undefined ? null : previous.store_version_id;
  }

  removePartByStoreId(uploadId: string, partNumber: number, storeVersionId: string): void {
    this.statement('DELETE FROM parts WHERE upload_id = ? AND part_number = ? AND store_version_id = ?').run(
      uploadId,
      partNumber,
      storeVersionId,
    );
  }

  /** Up to `limit` parts with a number above `afterPartNumber`, in part-number order. */
  listParts(uploadId: string, afterPartNumber: number, limit: number): IndexedPart[] {
    const rows = this.statement(
      `SELECT record, store_version_id FROM parts WHERE upload_id = ? AND part_number > ?
       ORDER BY part_number LIMIT ?`,
    ).all(uploadId, afterPartNumber, limit) as { record: string; store_version_id: string }[];
    return rows.map((row) => ({
      record: JSON.parse(row.record) as PartRecord,
      storeVersionId: row.store_version_id,
    }));
  }

  // Intents: the crash-safety log between the store and this index.

  /** Records an intent durably: in the caller's durable transaction, or in one of its own. */
  addIntent(action: Intent['action'], address: VersionAddress): number {
    if (this.#inTransaction === null) {
      return this.transaction(() => this.addIntent(action, address), { durable: true });
    }
    assert.equal(
      this.#inTransaction,
      'durable',
      'an intent must be committed durably before the store changes',
    );
    const result = this.statement(
      'INSERT INTO intents (action, bucket, key, version_id) VALUES (?, ?, ?, ?)',
    ).run(action, address.bucket, address.key, address.versionId);
    return Number(result.lastInsertRowid);
  }

  /** Inserts an intent in the current transaction, whatever its durability (see IndexGroupCommit). */
  insertIntent(action: Intent['action'], address: VersionAddress): number {
    assert.notEqual(this.#inTransaction, null, 'an intent is inserted inside a transaction');
    const result = this.statement(
      'INSERT INTO intents (action, bucket, key, version_id) VALUES (?, ?, ?, ?)',
    ).run(action, address.bucket, address.key, address.versionId);
    return Number(result.lastInsertRowid);
  }

  /** Runs `work` in a savepoint of the current transaction: if it throws, only its changes go. */
  isolated<T>(work: () => T): T {
    assert.notEqual(this.#inTransaction, null, 'a savepoint lives inside a transaction');
    run(this.database, 'SAVEPOINT isolated');
    try {
      const result = work();
      run(this.database, 'RELEASE isolated');
      return result;
    } catch (error) {
      run(this.database, 'ROLLBACK TO isolated');
      run(this.database, 'RELEASE isolated');
      throw error;
    }
  }

  /**
   * Records an intent durably, in one transaction with every other intent and index update asked
   * for meanwhile and one fsync of the write-ahead log off the event loop (IndexGroupCommit).
   */
  recordIntent(action: Intent['action'], address: VersionAddress): Promise<number> {
    return this.#groupCommit.recordIntent(action, address);
  }

  /**
   * Runs `work` in the next group transaction (not durable: callers are covered by an intent)
   * and resolves with what it returned once that transaction committed.
   */
  updateLater<T>(work: () => T): Promise<T> {
    return this.#groupCommit.update(work);
  }

  /** Transactions and log syncs of the group commit since open. */
  get groupCommitMetrics(): { commits: number; logSyncs: number } {
    return { commits: this.#groupCommit.commits, logSyncs: this.#logSync?.syncs ?? 0 };
  }

  /** Checkpoints of the log run by the checkpoint worker, and its last failure (null: none). */
  get checkpointMetrics(): { checkpoints: number; lastError: string | null } {
    return {
      checkpoints: this.#checkpointer?.checkpoints ?? 0,
      lastError: this.#checkpointer?.lastError ?? null,
    };
  }

  /** Fails the queued intents and updates (the database is about to close). */
  close(): void {
    this.#groupCommit.close(new Error('the object index is closed'));
    this.#checkpointer?.close();
    void this.#logSync?.close();
  }

  clearIntent(id: number): void {
    if (this.#inTransaction === null) {
      this.transaction(() => this.clearIntent(id));
      return;
    }
    this.statement('DELETE FROM intents WHERE id = ?').run(id);
  }

  allIntents(): Intent[] {
    const rows = this.statement(
      'SELECT id, action, bucket, key, version_id FROM intents ORDER BY id',
    ).all() as {
      id: number;
      action: Intent['action'];
      bucket: string;
      key: string;
      version_id: string;
    }[];
    return rows.map((row) => ({
      id: row.id,
      action: row.action,
      address: { bucket: row.bucket, key: row.key, versionId: row.version_id },
    }));
  }
}
