// The usage ledger: what each tenant and bucket stores, exact at every commit, and the highest
// value each tenant reached on each Paris calendar day (from which the peak of any billing period
// follows). The figures are kept by triggers in the listing index's own database (see
// usage-ledger-schema.ts), so they change in the very transaction that makes a version visible;
// this class reads them and, at the end of each index transaction, folds the changed tenants'
// totals into their daily peaks.
//
// Stored bytes, the billed quantity: the logical size of every stored version (current and
// noncurrent) plus the parts of incomplete multipart uploads (they occupy the drives until
// completed or aborted, as S3 bills them too); delete markers weigh nothing. Replication and
// erasure-coding overhead are not counted.
import assert from 'node:assert/strict';
import type { ObjectIndex } from './object-index.ts';
import { bucketNameOfId } from './records.ts';
import {
  type DailyPeak,
  recomputeUsageSql,
  type UsageColumn,
  usageColumns,
  usageDirtyTrackingSql,
  usageLedgerFormatVersion,
  usageLedgerSchema,
} from './usage-ledger-schema.ts';

export interface UsageFigures {
  /** current + noncurrent + incomplete multipart bytes: what quotas and bills count. */
  storedBytes: number;
  currentBytes: number;
  currentCount: number;
  noncurrentBytes: number;
  noncurrentCount: number;
  /** Versions (current or not) under a retention date still in the future or a legal hold. */
  retainedBytes: number;
  retainedCount: number;
  deleteMarkerCount: number;
  incompleteUploadCount: number;
  incompletePartBytes: number;
  incompletePartCount: number;
}

export interface BucketUsage extends UsageFigures {
  /** The bucket's S3 name (its owner's namespace is the tenant the figures are reported under). */
  bucket: string;
}

export interface TenantUsage extends UsageFigures {
  tenantId: string;
  buckets: BucketUsage[];
}

export type { DailyPeak } from './usage-ledger-schema.ts';

type UsageRow = { bucket: string } & Record<UsageColumn, number>;

const parisDayFormat = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'Europe/Paris',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
});

/** The Europe/Paris calendar date of an instant, YYYY-MM-DD (billing periods are Paris dates). */
export function parisDay(instantMs: number): string {
  return parisDayFormat.format(new Date(instantMs));
}

const zeroFigures = (): UsageFigures => ({
  storedBytes: 0,
  currentBytes: 0,
  currentCount: 0,
  noncurrentBytes: 0,
  noncurrentCount: 0,
  retainedBytes: 0,
  retainedCount: 0,
  deleteMarkerCount: 0,
  incompleteUploadCount: 0,
  incompletePartBytes: 0,
  incompletePartCount: 0,
});

function figuresOf(row: UsageRow, retained: { bytes: number; count: number }): UsageFigures {
  return {
    storedBytes: row.current_bytes + row.noncurrent_bytes + row.part_bytes,
    currentBytes: row.current_bytes,
    currentCount: row.current_count,
    noncurrentBytes: row.noncurrent_bytes,
    noncurrentCount: row.noncurrent_count,
    retainedBytes: retained.bytes,
    retainedCount: retained.count,
    deleteMarkerCount: row.delete_marker_count,
    incompleteUploadCount: row.upload_count,
    incompletePartBytes: row.part_bytes,
    incompletePartCount: row.part_count,
  };
}

const figureNames = Object.keys(zeroFigures()) as (keyof UsageFigures)[];

function addFigures(total: UsageFigures, more: UsageFigures): void {
  for (const name of figureNames) total[name] += more[name];
}

const storedBytesSql = '(u.current_bytes + u.noncurrent_bytes + u.part_bytes)';

export class UsageLedger {
  readonly #index: ObjectIndex;
  readonly #clock: () => number;

  private constructor(index: ObjectIndex, clock: () => number) {
    this.#index = index;
    this.#clock = clock;
  }

  /**
   * Creates the ledger's tables and triggers in the index database if absent (seeding them from the
   * index when it predates the ledger) and hooks the daily peaks into every index transaction.
   * Call before the index is rebuilt or its intents replayed, so those count too.
   */
  static install(index: ObjectIndex, clock: () => number = Date.now): UsageLedger {
    const ledger = new UsageLedger(index, clock);
    index.transaction(
      () => {
        index.database.exec(usageLedgerSchema);
        index.database.exec(usageDirtyTrackingSql);
        const format = index.statement("SELECT value FROM usage_meta WHERE name = 'format_version'").get() as
          | { value: string }
          | undefined;
        if (format?.value !== usageLedgerFormatVersion) ledger.#seed();
      },
      { durable: true },
    );
    index.onCommit(() => ledger.#foldPeaks());
    return ledger;
  }

  /** Rewrites the counters from the index tables (an index that predates the ledger). */
  #seed(): void {
    const database = this.#index.database;
    database.exec('DELETE FROM usage_buckets; DELETE FROM usage_locked_versions;');
    const columns = usageColumns.join(', ');
    database.exec(
      `INSERT INTO usage_buckets (bucket, ${columns}) SELECT bucket, ${columns} FROM (${recomputeUsageSql})`,
    );
    database.exec(`INSERT INTO usage_locked_versions (bucket, key, version_id, size_bytes, retain_until_ms, legal_hold)
      SELECT bucket, key, version_id, size_bytes, json_extract(record, '$.retention.retainUntilMs'),
        CASE WHEN json_extract(record, '$.legalHold') THEN 1 ELSE 0 END
      FROM versions WHERE is_delete_marker = 0 AND (json_extract(record, '$.retention') IS NOT NULL
        OR json_extract(record, '$.legalHold'))`);
    this.#index
      .statement("INSERT OR REPLACE INTO usage_meta (name, value) VALUES ('format_version', ?)")
      .run(usageLedgerFormatVersion);
  }

  /**
   * Runs inside every index transaction, last: the tenants whose buckets changed get their daily
   * peak raised to their new total. Skipped while the index is being rebuilt (incomplete), whose
   * intermediate states are not real levels; the rebuild's last transaction folds them all.
   */
  #foldPeaks(): void {
    const dirty = this.#index.statement('SELECT bucket FROM usage_dirty_buckets').all() as {
      bucket: string;
    }[];
    if (dirty.length === 0) return;
    const complete = this.#index.statement("SELECT value FROM main.meta WHERE name = 'complete'").get() as
      | { value: string }
      | undefined;
    if (complete?.value !== '1') return;
    const tenants = this.#index
      .statement(
        `SELECT DISTINCT b.owner_tenant_id AS tenant FROM usage_dirty_buckets d JOIN main.buckets b ON b.id = d.bucket`,
      )
      .all() as { tenant: string }[];
    const nowMs = this.#clock();
    for (const { tenant } of tenants) this.#recordLevel(tenant, this.storedBytesOfTenant(tenant), nowMs);
    this.#index.statement('DELETE FROM usage_dirty_buckets').run();
  }

  /**
   * Raises the tenant's peak of the day and records its last level, in one statement. A day's first
   * change starts from the level before it (the last one of an earlier day), which held since
   * midnight. (In an upsert's SET, every column named on the right is the row's old value.)
   */
  #recordLevel(tenantId: string, storedBytes: number, nowMs: number): void {
    const day = parisDay(nowMs);
    this.#index
      .statement(
        `INSERT INTO usage_daily_peaks (tenant_id, day, peak_bytes, peak_at_ms, last_bytes, last_at_ms)
         VALUES (?, ?, max(?, coalesce((SELECT last_bytes FROM usage_daily_peaks
           WHERE tenant_id = ? AND day < ? ORDER BY day DESC LIMIT 1), 0)), ?, ?, ?)
         ON CONFLICT (tenant_id, day) DO UPDATE SET
           peak_at_ms = CASE WHEN excluded.last_bytes > peak_bytes THEN excluded.last_at_ms ELSE peak_at_ms END,
           peak_bytes = max(peak_bytes, excluded.last_bytes),
           last_bytes = excluded.last_bytes,
           last_at_ms = excluded.last_at_ms`,
      )
      .run(tenantId, day, storedBytes, tenantId, day, nowMs, storedBytes, nowMs);
  }

  /** The tenant's stored bytes now (quota checks): current + noncurrent + incomplete multipart. */
  storedBytesOfTenant(tenantId: string): number {
    const row = this.#index
      .statement(
        `SELECT coalesce(sum(${storedBytesSql}), 0) AS stored FROM usage_buckets u
         JOIN buckets b ON b.id = u.bucket WHERE b.owner_tenant_id = ?`,
      )
      .get(tenantId) as { stored: number };
    return row.stored;
  }

  storedBytesOfBucket(bucket: string): number {
    const row = this.#index
      .statement(`SELECT ${storedBytesSql} AS stored FROM usage_buckets u WHERE u.bucket = ?`)
      .get(bucket) as { stored: number } | undefined;
    return row?.stored ?? 0;
  }

  /**
   * A bucket's figures now, by bucket id ("under retention" is judged at `nowMs`, default the
   * ledger's clock).
   */
  bucketUsage(bucketId: string, nowMs: number = this.#clock()): BucketUsage {
    const row = this.#index.statement('SELECT * FROM usage_buckets WHERE bucket = ?').get(bucketId) as
      | UsageRow
      | undefined;
    const bucket = bucketNameOfId(bucketId);
    if (row === undefined) return { bucket, ...zeroFigures() };
    return { bucket, ...figuresOf(row, this.#retained(bucketId, nowMs)) };
  }

  /** S3-facing name for engineers building on the ledger (SOSAPI capacity.xml): the tenant's usage now. */
  usageOf(tenantId: string, nowMs: number = this.#clock()): TenantUsage {
    const ids = this.#index
      .statement('SELECT id FROM buckets WHERE owner_tenant_id = ? ORDER BY name')
      .all(tenantId) as { id: string }[];
    const total: TenantUsage = { tenantId, ...zeroFigures(), buckets: [] };
    for (const { id } of ids) {
      const bucket = this.bucketUsage(id, nowMs);
      total.buckets.push(bucket);
      addFigures(total, bucket);
    }
    return total;
  }

  /** The tenants with any bucket or any recorded level, in id order. */
  tenantIds(): string[] {
    const rows = this.#index
      .statement(
        'SELECT owner_tenant_id AS id FROM buckets UNION SELECT tenant_id AS id FROM usage_daily_peaks ORDER BY id',
      )
      .all() as { id: string }[];
    return rows.map((row) => row.id);
  }

  #retained(bucket: string, nowMs: number): { bytes: number; count: number } {
    const row = this.#index
      .statement(
        `SELECT coalesce(sum(size_bytes), 0) AS bytes, count(*) AS count FROM usage_locked_versions
         WHERE bucket = ? AND (legal_hold = 1 OR retain_until_ms > ?)`,
      )
      .get(bucket, nowMs) as { bytes: number; count: number };
    return row;
  }

  /** The tenant's daily peaks from `fromDay` (inclusive) to `toDay` (exclusive), Paris dates. */
  dailyPeaks(tenantId: string, range: { fromDay?: string; toDay?: string } = {}): DailyPeak[] {
    const rows = this.#index
      .statement(
        `SELECT tenant_id, day, peak_bytes, peak_at_ms, last_bytes, last_at_ms FROM usage_daily_peaks
         WHERE tenant_id = ? AND day >= ? AND day < ? ORDER BY day`,
      )
      .all(tenantId, range.fromDay ?? '0000-00-00', range.toDay ?? '9999-99-99') as {
      tenant_id: string;
      day: string;
      peak_bytes: number;
      peak_at_ms: number;
      last_bytes: number;
      last_at_ms: number;
    }[];
    return rows.map((row) => ({
      tenantId: row.tenant_id,
      day: row.day,
      peakBytes: row.peak_bytes,
      peakAtMs: row.peak_at_ms,
      lastBytes: row.last_bytes,
      lastAtMs: row.last_at_ms,
    }));
  }

  /**
   * The highest stored bytes of the tenant over the Paris dates [fromDay, toDay): the days' peaks,
   * and the level left by the last change before the period, which still held when it opened.
   */
  peakOf(tenantId: string, range: { fromDay: string; toDay: string }): number {
    assert.ok(range.fromDay <= range.toDay, 'a period ends after it starts');
    const before = this.#index
      .statement(
        'SELECT last_bytes FROM usage_daily_peaks WHERE tenant_id = ? AND day < ? ORDER BY day DESC LIMIT 1',
      )
      .get(tenantId, range.fromDay) as { last_bytes: number } | undefined;
    const inside = this.#index
      .statement(
        'SELECT max(peak_bytes) AS peak FROM usage_daily_peaks WHERE tenant_id = ? AND day >= ? AND day < ?',
      )
      .get(tenantId, range.fromDay, range.toDay) as { peak: number | null };
    return Math.max(before?.last_bytes ?? 0, inside.peak ?? 0);
  }

  /** Every tenant's daily peaks (for the durable copy kept beside the index, see mergeDailyPeaks). */
  allDailyPeaks(): DailyPeak[] {
    return this.tenantIds().flatMap((tenantId) => this.dailyPeaks(tenantId));
  }

  /**
   * Folds in daily peaks kept elsewhere (the agent's copy, after the index file was lost and
   * rebuilt): a day keeps the higher peak and the later last level. Merging twice changes nothing.
   */
  mergeDailyPeaks(peaks: Iterable<DailyPeak>): void {
    this.#index.transaction(
      () => {
        for (const peak of peaks) {
          this.#index
            .statement(
              `INSERT INTO usage_daily_peaks (tenant_id, day, peak_bytes, peak_at_ms, last_bytes, last_at_ms)
               VALUES (?, ?, ?, ?, ?, ?)
               ON CONFLICT (tenant_id, day) DO UPDATE SET
                 peak_at_ms = CASE WHEN excluded.peak_bytes > peak_bytes THEN excluded.peak_at_ms ELSE peak_at_ms END,
                 peak_bytes = max(peak_bytes, excluded.peak_bytes),
                 last_bytes = CASE WHEN excluded.last_at_ms > last_at_ms THEN excluded.last_bytes ELSE last_bytes END,
                 last_at_ms = max(last_at_ms, excluded.last_at_ms)`,
            )
            .run(peak.tenantId, peak.day, peak.peakBytes, peak.peakAtMs, peak.lastBytes, peak.lastAtMs);
        }
      },
      { durable: true },
    );
  }

  /** The same figures recomputed from the index tables, per bucket id (for checks and tests). */
  recomputed(): { bucketId: string; usage: BucketUsage }[] {
    const rows = this.#index.statement(recomputeUsageSql).all() as UsageRow[];
    return rows.map((row) => ({
      bucketId: row.bucket,
      usage: {
        bucket: bucketNameOfId(row.bucket),
        ...figuresOf(row, this.#retained(row.bucket, this.#clock())),
      },
    }));
  }
}
