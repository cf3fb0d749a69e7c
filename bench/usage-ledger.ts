// `npm run bench usage-ledger`: what the usage ledger adds to each commit. The same object
// versions are indexed (ObjectIndex.putVersion, one non-durable transaction each, so the figure is
// the CPU of SQLite and the triggers, not an fsync) into an index without the ledger and into one
// with it (triggers + the end-of-transaction daily-peak fold); then the cost of the quota check's
// read of a tenant's stored bytes. BENCH_USAGE_LEDGER sets the count (default 20000).
import { join } from 'node:path';
import { markComplete, openIndexDatabase } from '../agent/objects/index-database.ts';
import { ObjectIndex } from '../agent/objects/object-index.ts';
import type { BucketRecord, ObjectVersionRecord } from '../agent/objects/records.ts';
import { UsageLedger } from '../agent/objects/usage-ledger.ts';
import { removeScratch, scratchDirectory } from './scratch.ts';

const count = Number(process.env.BENCH_USAGE_LEDGER ?? 20_000);

const bucket: BucketRecord = {
  id: 'bench',
  name: 'bench',
  ownerTenantId: 'tenant',
  createdMs: 0,
  region: 'fr-par',
  versioning: 'Enabled',
  objectLock: { enabled: false, defaultRetention: null },
  cors: null,
  tags: null,
};

function version(index: number): ObjectVersionRecord {
  const sequence = String(1_000_000_000 + index);
  return {
    bucket: 'bench',
    key: `key-${index % 1000}`,
    versionId: sequence,
    sequence,
    isDeleteMarker: false,
    sizeBytes: 4096 + index,
    etag: 'e',
    lastModifiedMs: index,
    storageClass: 'STANDARD',
    headers: {},
    userMetadata: {},
    tags: {},
    checksum: null,
    multipart: null,
    retention: null,
    legalHold: false,
    encryption: null,
  };
}

function indexRange(index: ObjectIndex, first: number, length: number): number {
  const started = process.hrtime.bigint();
  for (let position = first; position < first + length; position += 1) {
    index.transaction(() => index.putVersion(version(position), `s${position}`));
  }
  return Number(process.hrtime.bigint() - started) / 1e9;
}

/** Alternates the two indexes in rounds, so load from other processes falls on both alike. */
const rounds = 4;

export async function run(): Promise<void> {
  const directory = await scratchDirectory('coffre-bench-usage-ledger-');
  try {
    const indexes = [false, true].map((withLedger) => {
      const opened = openIndexDatabase(join(directory, `index-${withLedger}.sqlite`));
      const index = new ObjectIndex(opened.database);
      const ledger = withLedger ? UsageLedger.install(index, () => Date.UTC(2026, 3, 1)) : null;
      index.transaction(() => {
        index.putBucket(bucket, 'b');
        markComplete(index.database);
      });
      return { index, ledger, database: opened.database, seconds: 0 };
    });
    const perRound = Math.ceil(count / rounds);
    for (let round = 0; round < rounds; round += 1) {
      for (const entry of indexes) entry.seconds += indexRange(entry.index, round * perRound, perRound);
    }
    const ledger = indexes[1].ledger!;
    const started = process.hrtime.bigint();
    for (let position = 0; position < count; position += 1) ledger.storedBytesOfTenant('tenant');
    const quotaReadSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    for (const entry of indexes) entry.database.close();
    const total = perRound * rounds;
    const microseconds = (seconds: number, operations = total) => ((seconds / operations) * 1e6).toFixed(1);
    const [without, withLedger] = indexes;
    console.log(
      `usage-ledger: ${total} versions indexed, one transaction each (4 KiB+, 1000 keys, versioned)`,
    );
    console.log(`  index without ledger: ${microseconds(without.seconds)} µs per commit`);
    console.log(`  index with ledger:    ${microseconds(withLedger.seconds)} µs per commit`);
    console.log(
      `  ledger cost:          ${microseconds(withLedger.seconds - without.seconds)} µs per commit`,
    );
    console.log(`  quota read (tenant stored bytes): ${microseconds(quotaReadSeconds, count)} µs`);
  } finally {
    await removeScratch(directory);
  }
}
