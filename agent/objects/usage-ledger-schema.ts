// The usage ledger's tables and the SQLite triggers that keep them equal to the listing index.
// The triggers live in the index database itself, so every statement that changes what the index
// shows (a version, the key's current object, an upload or a part) changes the ledger in the same
// transaction: the ledger is exact at every commit, needs no scan, and is rebuilt for free when the
// index is rebuilt (clearIndex deletes row by row, which fires the triggers back to zero, and the
// rebuild's inserts count everything again). No trigger calls a JavaScript function, so any
// connection to the file (a test, a tool) keeps the ledger right.
//
// Accounting, per bucket: every object version starts as noncurrent; the current_objects triggers
// then move the current version's bytes from noncurrent to current. Deleting a current version
// therefore subtracts it from noncurrent, and the refresh of current_objects that follows moves it
// back out of current: the sum (current + noncurrent) is always the sum of the versions' sizes.
// INSERT OR REPLACE does not fire delete triggers (recursive_triggers is off), so the BEFORE
// INSERT triggers take the replaced row out first. No trigger statement has an OR clause of its
// own: SQLite replaces it with the outer statement's conflict policy.

/** Counter columns of usage_buckets; a figure is never stored anywhere else. */
export const usageColumns = [
  'current_bytes',
  'current_count',
  'noncurrent_bytes',
  'noncurrent_count',
  'delete_marker_count',
  'upload_count',
  'part_bytes',
  'part_count',
] as const;

export type UsageColumn = (typeof usageColumns)[number];

/** A tenant's daily usage peak: a row of usage_daily_peaks. */
export interface DailyPeak {
  tenantId: string;
  /** Paris calendar date, YYYY-MM-DD. */
  day: string;
  peakBytes: number;
  peakAtMs: number;
  /** The level after the day's last change, which holds until the next change. */
  lastBytes: number;
  lastAtMs: number;
}

/** An UPSERT adding the given expressions to a bucket's counters (columns left out add 0). */
function addToBucket(bucketExpression: string, deltas: Partial<Record<UsageColumn, string>>): string {
  const values = usageColumns.map((column) => deltas[column] ?? '0').join(', ');
  const updates = usageColumns
    .filter((column) => deltas[column] !== undefined)
    .map((column) => `${column} = ${column} + excluded.${column}`)
    .join(', ');
  // "WHERE true" resolves SQLite's parsing ambiguity between INSERT ... SELECT and an upsert clause.
  return `INSERT INTO usage_buckets (bucket, ${usageColumns.join(', ')})
    SELECT ${bucketExpression}, ${values} WHERE ${bucketExpression} IS NOT NULL
    ON CONFLICT (bucket) DO UPDATE SET ${updates};`;
}

const objectBytes = (row: 'new' | 'old') =>
  `CASE WHEN ${row}.is_delete_marker = 1 THEN 0 ELSE ${row}.size_bytes END`;
const objectCount = (row: 'new' | 'old') => `CASE WHEN ${row}.is_delete_marker = 1 THEN 0 ELSE 1 END`;
const negative = (expression: string) => `-(${expression})`;
const uploadBucket = (uploadId: string) => `(SELECT bucket FROM uploads WHERE upload_id = ${uploadId})`;
const partsOf = (uploadId: string, what: 'bytes' | 'count') =>
  `(SELECT ${what === 'bytes' ? 'coalesce(sum(size_bytes), 0)' : 'count(*)'} FROM parts WHERE upload_id = ${uploadId})`;

/** Versions under Object Lock (a retention date or a legal hold), with what decides if they still are. */
const lockedRow = (row: 'new') => `DELETE FROM usage_locked_versions
    WHERE bucket = ${row}.bucket AND key = ${row}.key AND version_id = ${row}.version_id;
  INSERT INTO usage_locked_versions
    (bucket, key, version_id, size_bytes, retain_until_ms, legal_hold)
    SELECT ${row}.bucket, ${row}.key, ${row}.version_id, ${row}.size_bytes,
      json_extract(${row}.record, '$.retention.retainUntilMs'),
      CASE WHEN json_extract(${row}.record, '$.legalHold') THEN 1 ELSE 0 END
    WHERE ${row}.is_delete_marker = 0 AND (json_extract(${row}.record, '$.retention') IS NOT NULL
      OR json_extract(${row}.record, '$.legalHold'));`;
const unlockedRow = (row: 'old' | 'new') =>
  `DELETE FROM usage_locked_versions WHERE bucket = ${row}.bucket AND key = ${row}.key AND version_id = ${row}.version_id;`;

export const usageLedgerFormatVersion = '1';

export const usageLedgerSchema = `
-- The first version of the ledger kept its dirty-bucket marks in the file (now per connection).
DROP TRIGGER IF EXISTS main.usage_bucket_dirty_insert;
DROP TRIGGER IF EXISTS main.usage_bucket_dirty_update;
DROP TABLE IF EXISTS main.usage_dirty_buckets;
CREATE TABLE IF NOT EXISTS usage_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS usage_buckets (
  bucket TEXT PRIMARY KEY,
  ${usageColumns.map((column) => `${column} INTEGER NOT NULL DEFAULT 0`).join(',\n  ')}
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS usage_locked_versions (
  bucket TEXT NOT NULL, key BLOB NOT NULL, version_id TEXT NOT NULL, size_bytes INTEGER NOT NULL,
  retain_until_ms INTEGER, legal_hold INTEGER NOT NULL, PRIMARY KEY (bucket, key, version_id)
) WITHOUT ROWID;
-- Per tenant and Paris calendar day: the highest stored bytes reached that day and the level at the
-- day's last change. Not a cache: clearIndex leaves it alone, so a rebuild never lowers a peak.
CREATE TABLE IF NOT EXISTS usage_daily_peaks (
  tenant_id TEXT NOT NULL, day TEXT NOT NULL, peak_bytes INTEGER NOT NULL, peak_at_ms INTEGER NOT NULL,
  last_bytes INTEGER NOT NULL, last_at_ms INTEGER NOT NULL, PRIMARY KEY (tenant_id, day)
) WITHOUT ROWID;

CREATE TRIGGER IF NOT EXISTS usage_version_added AFTER INSERT ON versions BEGIN
  ${addToBucket('new.bucket', {
    noncurrent_bytes: objectBytes('new'),
    noncurrent_count: objectCount('new'),
    delete_marker_count: 'new.is_delete_marker',
  })}
  ${lockedRow('new')}
END;
CREATE TRIGGER IF NOT EXISTS usage_version_removed AFTER DELETE ON versions BEGIN
  ${addToBucket('old.bucket', {
    noncurrent_bytes: negative(objectBytes('old')),
    noncurrent_count: negative(objectCount('old')),
    delete_marker_count: negative('old.is_delete_marker'),
  })}
  ${unlockedRow('old')}
END;
CREATE TRIGGER IF NOT EXISTS usage_version_updated AFTER UPDATE OF record ON versions BEGIN
  ${unlockedRow('old')}
  ${lockedRow('new')}
END;

CREATE TRIGGER IF NOT EXISTS usage_current_replacing BEFORE INSERT ON current_objects BEGIN
  ${addToBucket('(SELECT bucket FROM current_objects WHERE bucket = new.bucket AND key = new.key)', {
    current_bytes: '-(SELECT size_bytes FROM current_objects WHERE bucket = new.bucket AND key = new.key)',
    current_count: '-1',
    noncurrent_bytes: '(SELECT size_bytes FROM current_objects WHERE bucket = new.bucket AND key = new.key)',
    noncurrent_count: '1',
  })}
END;
CREATE TRIGGER IF NOT EXISTS usage_current_added AFTER INSERT ON current_objects BEGIN
  ${addToBucket('new.bucket', {
    current_bytes: 'new.size_bytes',
    current_count: '1',
    noncurrent_bytes: '-new.size_bytes',
    noncurrent_count: '-1',
  })}
END;
CREATE TRIGGER IF NOT EXISTS usage_current_removed AFTER DELETE ON current_objects BEGIN
  ${addToBucket('old.bucket', {
    current_bytes: '-old.size_bytes',
    current_count: '-1',
    noncurrent_bytes: 'old.size_bytes',
    noncurrent_count: '1',
  })}
END;

-- An upload counts its parts while it is listed, whichever of the two rows arrives first.
CREATE TRIGGER IF NOT EXISTS usage_upload_replacing BEFORE INSERT ON uploads BEGIN
  ${addToBucket('(SELECT bucket FROM uploads WHERE upload_id = new.upload_id)', {
    upload_count: '-1',
    part_bytes: negative(partsOf('new.upload_id', 'bytes')),
    part_count: negative(partsOf('new.upload_id', 'count')),
  })}
END;
CREATE TRIGGER IF NOT EXISTS usage_upload_added AFTER INSERT ON uploads BEGIN
  ${addToBucket('new.bucket', {
    upload_count: '1',
    part_bytes: partsOf('new.upload_id', 'bytes'),
    part_count: partsOf('new.upload_id', 'count'),
  })}
END;
CREATE TRIGGER IF NOT EXISTS usage_upload_removed AFTER DELETE ON uploads BEGIN
  ${addToBucket('old.bucket', {
    upload_count: '-1',
    part_bytes: negative(partsOf('old.upload_id', 'bytes')),
    part_count: negative(partsOf('old.upload_id', 'count')),
  })}
END;
CREATE TRIGGER IF NOT EXISTS usage_part_replacing BEFORE INSERT ON parts BEGIN
  ${addToBucket(
    `(SELECT u.bucket FROM uploads u JOIN parts p ON p.upload_id = u.upload_id
       WHERE p.upload_id = new.upload_id AND p.part_number = new.part_number)`,
    {
      part_bytes:
        '-(SELECT size_bytes FROM parts WHERE upload_id = new.upload_id AND part_number = new.part_number)',
      part_count: '-1',
    },
  )}
END;
CREATE TRIGGER IF NOT EXISTS usage_part_added AFTER INSERT ON parts BEGIN
  ${addToBucket(uploadBucket('new.upload_id'), { part_bytes: 'new.size_bytes', part_count: '1' })}
END;
CREATE TRIGGER IF NOT EXISTS usage_part_removed AFTER DELETE ON parts BEGIN
  ${addToBucket(uploadBucket('old.upload_id'), { part_bytes: '-old.size_bytes', part_count: '-1' })}
END;

-- A deleted bucket is empty: its row of zeros has nothing more to say.
CREATE TRIGGER IF NOT EXISTS usage_bucket_deleted AFTER DELETE ON buckets BEGIN
  DELETE FROM usage_buckets WHERE bucket = old.id AND ${usageColumns.map((column) => `${column} = 0`).join(' AND ')};
END;
`;

/**
 * Per connection (TEMP, never written to the file): the buckets whose figures changed in the open
 * transaction, which the commit hook folds into the tenants' daily peaks and then forgets. Kept out
 * of the database file so that marking them costs no page write; a connection without them still
 * keeps the counters right, it only leaves the peaks to the next change.
 */
export const usageDirtyTrackingSql = `
CREATE TEMP TABLE IF NOT EXISTS usage_dirty_buckets (bucket TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TEMP TRIGGER IF NOT EXISTS usage_bucket_dirty_insert AFTER INSERT ON main.usage_buckets BEGIN
  INSERT INTO usage_dirty_buckets (bucket)
    SELECT new.bucket WHERE NOT EXISTS (SELECT 1 FROM usage_dirty_buckets WHERE bucket = new.bucket);
END;
CREATE TEMP TRIGGER IF NOT EXISTS usage_bucket_dirty_update AFTER UPDATE ON main.usage_buckets BEGIN
  INSERT INTO usage_dirty_buckets (bucket)
    SELECT new.bucket WHERE NOT EXISTS (SELECT 1 FROM usage_dirty_buckets WHERE bucket = new.bucket);
END;
`;

/**
 * The same figures computed from scratch from the index tables: used to seed the ledger in an
 * index that predates it, and by the tests that check the triggers against the definition.
 */
export const recomputeUsageSql = `
WITH all_buckets AS (
  SELECT bucket FROM versions UNION SELECT bucket FROM uploads
),
version_totals AS (
  SELECT bucket,
    sum(CASE WHEN is_delete_marker = 0 THEN size_bytes ELSE 0 END) AS object_bytes,
    sum(CASE WHEN is_delete_marker = 0 THEN 1 ELSE 0 END) AS object_count,
    sum(is_delete_marker) AS delete_marker_count
  FROM versions GROUP BY bucket
),
current_totals AS (
  SELECT bucket, sum(size_bytes) AS current_bytes, count(*) AS current_count FROM current_objects GROUP BY bucket
),
upload_totals AS (
  SELECT u.bucket, count(DISTINCT u.upload_id) AS upload_count,
    coalesce(sum(p.size_bytes), 0) AS part_bytes, count(p.part_number) AS part_count
  FROM uploads u LEFT JOIN parts p ON p.upload_id = u.upload_id GROUP BY u.bucket
)
SELECT b.bucket AS bucket,
  coalesce(c.current_bytes, 0) AS current_bytes, coalesce(c.current_count, 0) AS current_count,
  coalesce(v.object_bytes, 0) - coalesce(c.current_bytes, 0) AS noncurrent_bytes,
  coalesce(v.object_count, 0) - coalesce(c.current_count, 0) AS noncurrent_count,
  coalesce(v.delete_marker_count, 0) AS delete_marker_count,
  coalesce(u.upload_count, 0) AS upload_count, coalesce(u.part_bytes, 0) AS part_bytes,
  coalesce(u.part_count, 0) AS part_count
FROM all_buckets b
LEFT JOIN version_totals v ON v.bucket = b.bucket
LEFT JOIN current_totals c ON c.bucket = b.bucket
LEFT JOIN upload_totals u ON u.bucket = b.bucket
ORDER BY b.bucket`;
