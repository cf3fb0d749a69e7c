// `npm run bench listing`: the cost of one ListObjectsV2 page of 1000 entries in a bucket of 1,000
// keys and in one of 1,000,000 keys, through the object layer's real listing code on its real
// SQLite index. The index is filled directly with SQL (not through puts, which would take hours
// at fsync speed and measure the store, not the listing); a bulk fill with synchronous=OFF, then
// the index is reopened by openObjectLayer with its normal settings. BENCH_LISTING_KEYS overrides
// the large bucket's size. Pages: the first page; a middle page (continuation token); a page of
// 1000 CommonPrefixes with delimiter "/" (one seek per prefix); a page inside one folder.
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { Listing } from '../agent/objects/listing.ts';
import { type ObjectLayer, openObjectLayer } from '../agent/objects/object-layer.ts';
import type { BucketRecord } from '../agent/objects/records.ts';
import type { ErasureSetContract } from '../agent/objects/store.ts';

const largeKeyCount = Number(process.env.BENCH_LISTING_KEYS ?? 1_000_000);
const filesPerFolder = 1000;

/** The listing never touches the store; any call to it is a bug in this benchmark. */
const noStore: ErasureSetContract = new Proxy({} as ErasureSetContract, {
  get: (_target, name) => {
    if (name === 'listVersions') return async function* () {};
    return () => {
      throw new Error(`the listing benchmark must not call the store (${String(name)})`);
    };
  },
});

function keyOf(index: number): string {
  const folder = Math.floor(index / filesPerFolder);
  return `backups/host-${String(folder).padStart(5, '0')}/chunk-${String(index % filesPerFolder).padStart(4, '0')}.bin`;
}

function bucketRecord(name: string): BucketRecord {
  // The id is the bare name (a bucket of the global-names era): the rows below are keyed by it.
  return {
    id: name,
    name,
    ownerTenantId: 'bench',
    createdMs: 0,
    region: 'fr-par',
    versioning: 'Unversioned',
    objectLock: { enabled: false, defaultRetention: null },
    cors: null,
    tags: null,
  };
}

/** Fills the index file with `keyCount` keys in `bucket`, one null version each. */
function fill(indexPath: string, bucket: string, keyCount: number): void {
  const database = new DatabaseSync(indexPath);
  database.exec('PRAGMA synchronous = OFF');
  const insertVersion = database.prepare(
    `INSERT INTO versions (bucket, key, sequence, version_id, store_version_id, is_delete_marker, size_bytes, etag,
       last_modified_ms, storage_class, record) VALUES (?, ?, ?, 'null', ?, 0, 4096, ?, 0, 'STANDARD', '{}')`,
  );
  const insertCurrent = database.prepare(
    `INSERT INTO current_objects (bucket, key, sequence, size_bytes, etag, last_modified_ms, storage_class)
     VALUES (?, ?, ?, 4096, '0123456789abcdef0123456789abcdef', 0, 'STANDARD')`,
  );
  database
    .prepare(
      "INSERT INTO buckets (name, owner_tenant_id, store_version_id, record) VALUES (?, 'bench', 'x', ?)",
    )
    .run(bucket, JSON.stringify(bucketRecord(bucket)));
  const batch = 50_000;
  for (let start = 0; start < keyCount; start += batch) {
    database.exec('BEGIN');
    for (let index = start; index < Math.min(keyCount, start + batch); index += 1) {
      const key = Buffer.from(keyOf(index));
      const sequence = `${index.toString(16).padStart(16, '0')}0000beef`;
      insertVersion.run(bucket, key, sequence, sequence, '0123456789abcdef0123456789abcdef');
      insertCurrent.run(bucket, key, sequence);
    }
    database.exec('COMMIT');
  }
  database.close();
}

function timePage(
  label: string,
  listing: Listing,
  input: Parameters<Listing['listObjectsV2']>[0],
  expected: number,
) {
  const iterations = 30;
  listing.listObjectsV2(input); // warm the page cache and statement cache
  const started = process.hrtime.bigint();
  let entries = 0;
  for (let round = 0; round < iterations; round += 1) entries = listing.listObjectsV2(input).keyCount;
  const microseconds = Number(process.hrtime.bigint() - started) / 1e3 / iterations;
  if (entries !== expected) throw new Error(`${label}: ${entries} entries, expected ${expected}`);
  return { label, microseconds, entries };
}

async function measure(keyCount: number) {
  const indexPath = join(tmpdir(), `coffre-bench-listing-${process.pid}-${keyCount}.sqlite`);
  // Create the schema through the layer, fill, then reopen through the layer.
  const fresh = await openObjectLayer({ store: noStore, indexPath });
  fresh.close();
  const fillStarted = process.hrtime.bigint();
  fill(indexPath, 'bench', keyCount);
  const fillSeconds = Number(process.hrtime.bigint() - fillStarted) / 1e9;
  // Opening checks the index (PRAGMA quick_check, format, completeness) before trusting it.
  const openStarted = process.hrtime.bigint();
  const layer: ObjectLayer = await openObjectLayer({ store: noStore, indexPath });
  const openSeconds = Number(process.hrtime.bigint() - openStarted) / 1e9;
  if (layer.openRebuildReason !== null)
    throw new Error(`the filled index was rebuilt: ${layer.openRebuildReason}`);
  const listing = layer.listing;
  const middle = keyOf(Math.floor(keyCount / 2));
  const token = listing.listObjectsV2({
    bucket: 'bench',
    startAfter: middle,
    maxKeys: 1,
  }).nextContinuationToken;
  const folders = Math.ceil(keyCount / filesPerFolder);
  const results = [
    timePage('first page', listing, { bucket: 'bench' }, Math.min(1000, keyCount)),
    timePage(
      'middle page (token)',
      listing,
      { bucket: 'bench', continuationToken: token },
      Math.min(1000, keyCount - Math.floor(keyCount / 2) - 2),
    ),
    timePage(
      'delimiter "/" under backups/',
      listing,
      { bucket: 'bench', prefix: 'backups/', delimiter: '/' },
      Math.min(1000, folders),
    ),
    timePage(
      'prefix of one folder',
      listing,
      { bucket: 'bench', prefix: keyOf(0).slice(0, keyOf(0).lastIndexOf('/') + 1) },
      Math.min(1000, keyCount),
    ),
  ];
  layer.close();
  for (const suffix of ['', '-wal', '-shm']) await rm(`${indexPath}${suffix}`, { force: true });
  return { keyCount, fillSeconds, openSeconds, results };
}

export async function run(): Promise<void> {
  for (const keyCount of [1000, largeKeyCount]) {
    const { fillSeconds, openSeconds, results } = await measure(keyCount);
    console.log(
      `bucket of ${keyCount.toLocaleString('en')} keys (index filled by SQL in ${fillSeconds.toFixed(1)} s, opened and checked in ${openSeconds.toFixed(2)} s):`,
    );
    for (const result of results) {
      console.log(
        `  ${result.label.padEnd(32)} ${String(result.entries).padStart(5)} entries  ${(result.microseconds / 1000).toFixed(2)} ms/page`,
      );
    }
  }
}
