// The usage ledger and the quotas, on the object layer itself: figures after every kind of write
// match their definition (and a recomputation from the index tables), peaks never go down within a
// day, a rebuild gives the same figures, and a quota refuses a commit with nothing stored.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path, { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import test, { type ExecutionContext } from 'ava';
import { LocalDrive } from '../../agent/disk/index.ts';
import { callerScope } from '../../agent/objects/caller-scope.ts';
import { isObjectError } from '../../agent/objects/errors.ts';
import { minimumPartSizeBytes } from '../../agent/objects/multipart.ts';
import { type ObjectLayer, openObjectLayer } from '../../agent/objects/object-layer.ts';
import { Quotas } from '../../agent/objects/quotas.ts';
import { bucketIdOf } from '../../agent/objects/records.ts';
import { parisDay } from '../../agent/objects/usage-ledger.ts';
import { restoreUsagePeaks, saveUsagePeaks } from '../../agent/objects/usage-peaks-file.ts';
import { bodyOf, patternBytes, type TestClock, testClock } from './helpers.ts';
import { MemoryErasureSet } from './memory-erasure-set.ts';

interface LedgerHarness {
  layer: ObjectLayer;
  store: MemoryErasureSet;
  quotas: Quotas;
  clock: TestClock;
  indexPath: string;
  reopen(): Promise<ObjectLayer>;
}

async function openLedgerHarness(t: ExecutionContext): Promise<LedgerHarness> {
  const directory = await mkdtemp(join(tmpdir(), 'coffre-ledger-'));
  const store = new MemoryErasureSet();
  const quotas = Quotas.inMemory();
  const clock = testClock(Date.UTC(2026, 2, 10, 12));
  const indexPath = join(directory, 'index.sqlite');
  const open = () => openObjectLayer({ store, indexPath, clock: clock.now, nodeId: '0000c0f1', quotas });
  const harness: LedgerHarness = {
    layer: await open(),
    store,
    quotas,
    clock,
    indexPath,
    reopen: async () => {
      harness.layer.close();
      harness.layer = await open();
      return harness.layer;
    },
  };
  t.teardown(async () => {
    harness.layer.close();
    await rm(directory, { recursive: true, force: true });
  });
  return harness;
}

const put = (layer: ObjectLayer, bucket: string, key: string, sizeBytes: number, seed = 1) =>
  layer.objects.put({ bucket, key, body: bodyOf(patternBytes(sizeBytes, seed)) });

function assertMatchesRecomputation(t: ExecutionContext, layer: ObjectLayer): void {
  for (const { bucketId, usage } of layer.usage.recomputed()) {
    t.deepEqual(layer.usage.bucketUsage(bucketId), usage, `bucket ${bucketId}`);
  }
}

test('versioned bucket: overwrites keep noncurrent bytes, delete markers weigh nothing, a version delete frees its bytes', async (t) => {
  const { layer } = await openLedgerHarness(t);
  await layer.buckets.create({ name: 'backups', ownerTenantId: 'acme' });
  await layer.buckets.setVersioning(bucketIdOf('acme', 'backups'), 'Enabled');
  await put(layer, bucketIdOf('acme', 'backups'), 'a', 100);
  const second = await put(layer, bucketIdOf('acme', 'backups'), 'a', 250);
  await put(layer, bucketIdOf('acme', 'backups'), 'bucket-quota', 40);
  await layer.objects.delete({ bucket: bucketIdOf('acme', 'backups'), key: 'bucket-quota' });
  let usage = layer.usage.bucketUsage(bucketIdOf('acme', 'backups'));
  t.like(usage, {
    storedBytes: 390,
    currentBytes: 250,
    currentCount: 1,
    noncurrentBytes: 140,
    noncurrentCount: 2,
    deleteMarkerCount: 1,
  });
  assertMatchesRecomputation(t, layer);
  // Removing the current version makes the older one current again.
  await layer.objects.delete({
    bucket: bucketIdOf('acme', 'backups'),
    key: 'a',
    versionId: second.versionId,
  });
  usage = layer.usage.bucketUsage(bucketIdOf('acme', 'backups'));
  t.like(usage, {
    storedBytes: 140,
    currentBytes: 100,
    currentCount: 1,
    noncurrentBytes: 40,
    noncurrentCount: 1,
  });
  assertMatchesRecomputation(t, layer);
  const tenantUsage = layer.usage.usageOf('acme');
  t.like(tenantUsage, { tenantId: 'acme', storedBytes: 140, currentBytes: 100, deleteMarkerCount: 1 });
  t.deepEqual(tenantUsage.buckets, [layer.usage.bucketUsage(bucketIdOf('acme', 'backups'))]);
  t.is(layer.usage.usageOf('someone-else').storedBytes, 0);
});

test('unversioned bucket: an overwrite replaces the bytes, a delete frees them', async (t) => {
  const { layer } = await openLedgerHarness(t);
  await layer.buckets.create({ name: 'plain', ownerTenantId: 'acme' });
  await put(layer, bucketIdOf('acme', 'plain'), 'x', 1000);
  await put(layer, bucketIdOf('acme', 'plain'), 'x', 300);
  t.like(layer.usage.bucketUsage(bucketIdOf('acme', 'plain')), {
    storedBytes: 300,
    currentCount: 1,
    noncurrentCount: 0,
  });
  await layer.objects.delete({ bucket: bucketIdOf('acme', 'plain'), key: 'x' });
  t.like(layer.usage.bucketUsage(bucketIdOf('acme', 'plain')), {
    storedBytes: 0,
    currentCount: 0,
    deleteMarkerCount: 0,
  });
  assertMatchesRecomputation(t, layer);
});

test('multipart: parts count as incomplete until completion moves them into the object; unused parts and aborts free bytes', async (t) => {
  const { layer } = await openLedgerHarness(t);
  await layer.buckets.create({ name: 'multipart-bucket', ownerTenantId: 'acme' });
  const upload = await layer.multipart.create({ bucket: bucketIdOf('acme', 'multipart-bucket'), key: 'big' });
  const parts = [];
  for (const [partNumber, sizeBytes] of [
    [1, minimumPartSizeBytes],
    [2, 1000],
    [3, 777],
  ] as const) {
    parts.push(
      await layer.multipart.uploadPart({
        bucket: bucketIdOf('acme', 'multipart-bucket'),
        key: 'big',
        uploadId: upload.uploadId,
        partNumber,
        body: bodyOf(patternBytes(sizeBytes, partNumber)),
      }),
    );
  }
  t.like(layer.usage.bucketUsage(bucketIdOf('acme', 'multipart-bucket')), {
    storedBytes: minimumPartSizeBytes + 1777,
    incompleteUploadCount: 1,
    incompletePartCount: 3,
    incompletePartBytes: minimumPartSizeBytes + 1777,
    currentBytes: 0,
  });
  assertMatchesRecomputation(t, layer);
  const peakBefore = layer.usage.peakOf('acme', { fromDay: '2026-03-01', toDay: '2026-04-01' });
  await layer.multipart.complete({
    bucket: bucketIdOf('acme', 'multipart-bucket'),
    key: 'big',
    uploadId: upload.uploadId,
    parts: parts.slice(0, 2).map((part) => ({ partNumber: part.partNumber, etag: part.etag })),
  });
  t.like(layer.usage.bucketUsage(bucketIdOf('acme', 'multipart-bucket')), {
    storedBytes: minimumPartSizeBytes + 1000,
    currentBytes: minimumPartSizeBytes + 1000,
    incompleteUploadCount: 0,
    incompletePartBytes: 0,
  });
  // The object and its parts are never counted twice, not even inside the completing transaction.
  t.is(layer.usage.peakOf('acme', { fromDay: '2026-03-01', toDay: '2026-04-01' }), peakBefore);
  const aborted = await layer.multipart.create({
    bucket: bucketIdOf('acme', 'multipart-bucket'),
    key: 'gone',
  });
  await layer.multipart.uploadPart({
    bucket: bucketIdOf('acme', 'multipart-bucket'),
    key: 'gone',
    uploadId: aborted.uploadId,
    partNumber: 1,
    body: bodyOf(patternBytes(500, 9)),
  });
  await layer.multipart.abort({
    bucket: bucketIdOf('acme', 'multipart-bucket'),
    key: 'gone',
    uploadId: aborted.uploadId,
  });
  t.like(layer.usage.bucketUsage(bucketIdOf('acme', 'multipart-bucket')), {
    storedBytes: minimumPartSizeBytes + 1000,
    incompleteUploadCount: 0,
  });
  assertMatchesRecomputation(t, layer);
});

test('retention: versions under a future retain-until date or a legal hold are reported as retained until the date passes', async (t) => {
  const { layer, clock } = await openLedgerHarness(t);
  await layer.buckets.create({ name: 'locked', ownerTenantId: 'acme', objectLockEnabled: true });
  const untilMs = clock.now() + 86_400_000;
  await layer.objects.put({
    bucket: bucketIdOf('acme', 'locked'),
    key: 'rebuilt-bucket',
    body: bodyOf(patternBytes(64, 1)),
    retention: { mode: 'COMPLIANCE', retainUntilMs: untilMs },
  });
  await layer.objects.put({
    bucket: bucketIdOf('acme', 'locked'),
    key: 'h',
    body: bodyOf(patternBytes(32, 2)),
    legalHold: true,
  });
  await put(layer, bucketIdOf('acme', 'locked'), 'free', 8);
  t.like(layer.usage.bucketUsage(bucketIdOf('acme', 'locked')), {
    storedBytes: 104,
    retainedBytes: 96,
    retainedCount: 2,
  });
  clock.advance(2 * 86_400_000);
  t.like(layer.usage.bucketUsage(bucketIdOf('acme', 'locked')), { retainedBytes: 32, retainedCount: 1 });
});

test('peaks: the highest level of each Paris day is kept after deletes, and a period peak includes the level carried into it', async (t) => {
  const { layer, clock } = await openLedgerHarness(t);
  await layer.buckets.create({ name: 'peak-bucket', ownerTenantId: 'acme' });
  clock.set(Date.UTC(2026, 2, 31, 12)); // 31 March, Paris
  await put(layer, bucketIdOf('acme', 'peak-bucket'), 'a', 5000);
  await layer.objects.delete({ bucket: bucketIdOf('acme', 'peak-bucket'), key: 'a' });
  await put(layer, bucketIdOf('acme', 'peak-bucket'), 'bucket-quota', 700);
  clock.set(Date.UTC(2026, 2, 31, 22, 30)); // 00:30 on 1 April in Paris (summer time)
  t.is(parisDay(clock.now()), '2026-04-01');
  await put(layer, bucketIdOf('acme', 'peak-bucket'), 'concurrent-bucket', 100);
  const peaks = layer.usage.dailyPeaks('acme');
  t.deepEqual(
    peaks.map((peak) => [peak.day, peak.peakBytes, peak.lastBytes]),
    [
      ['2026-03-31', 5000, 700],
      ['2026-04-01', 800, 800],
    ],
  );
  t.is(layer.usage.peakOf('acme', { fromDay: '2026-03-01', toDay: '2026-04-01' }), 5000);
  t.is(layer.usage.peakOf('acme', { fromDay: '2026-04-01', toDay: '2026-05-01' }), 800);
  // May has no change at all: the level carried from April is its peak.
  t.is(layer.usage.peakOf('acme', { fromDay: '2026-05-01', toDay: '2026-06-01' }), 800);
});

test('rebuild: the ledger is rebuilt with the index to the same figures, and peaks survive it', async (t) => {
  const harness = await openLedgerHarness(t);
  const { layer } = harness;
  await layer.buckets.create({ name: 'rebuilt-bucket', ownerTenantId: 'acme' });
  await layer.buckets.setVersioning(bucketIdOf('acme', 'rebuilt-bucket'), 'Enabled');
  await put(layer, bucketIdOf('acme', 'rebuilt-bucket'), 'a', 10);
  await put(layer, bucketIdOf('acme', 'rebuilt-bucket'), 'a', 20);
  await layer.objects.delete({ bucket: bucketIdOf('acme', 'rebuilt-bucket'), key: 'a' });
  const upload = await layer.multipart.create({ bucket: bucketIdOf('acme', 'rebuilt-bucket'), key: 'm' });
  await layer.multipart.uploadPart({
    bucket: bucketIdOf('acme', 'rebuilt-bucket'),
    key: 'm',
    uploadId: upload.uploadId,
    partNumber: 1,
    body: bodyOf(patternBytes(33, 3)),
  });
  const before = layer.usage.bucketUsage(bucketIdOf('acme', 'rebuilt-bucket'));
  const peaksBefore = layer.usage.dailyPeaks('acme');
  await layer.rebuildIndex();
  t.deepEqual(layer.usage.bucketUsage(bucketIdOf('acme', 'rebuilt-bucket')), before);
  t.deepEqual(layer.usage.dailyPeaks('acme'), peaksBefore);
  // An index written before the ledger existed is seeded from its tables at open.
  harness.layer.close();
  const database = new DatabaseSync(harness.indexPath);
  database.exec('DELETE FROM usage_buckets; DELETE FROM usage_locked_versions; DELETE FROM usage_meta;');
  database.close();
  const reopened = await harness.reopen();
  t.deepEqual(reopened.usage.bucketUsage(bucketIdOf('acme', 'rebuilt-bucket')), before);
});

test('quota: a tenant quota refuses the commit that would exceed it with QuotaExceeded, and nothing is stored', async (t) => {
  const { layer, quotas, store } = await openLedgerHarness(t);
  await layer.buckets.create({ name: 'quota-bucket', ownerTenantId: 'acme' });
  await quotas.setTenantQuota('acme', 1000);
  await put(layer, bucketIdOf('acme', 'quota-bucket'), 'fits', 600);
  const storedBefore = store.entries.size;
  const error = await t.throwsAsync(put(layer, bucketIdOf('acme', 'quota-bucket'), 'too-much', 401));
  t.true(isObjectError(error, 'QuotaExceeded'));
  t.is(store.entries.size, storedBefore);
  t.throws(() => layer.objects.head({ bucket: bucketIdOf('acme', 'quota-bucket'), key: 'too-much' }), {
    message: /does not exist/,
  });
  await put(layer, bucketIdOf('acme', 'quota-bucket'), 'exactly', 400);
  t.is(layer.usage.usageOf('acme').storedBytes, 1000);
  t.is(layer.admission.remainingBytesOfTenant('acme'), 0);
  // Overwriting in an unversioned bucket only adds the difference.
  await put(layer, bucketIdOf('acme', 'quota-bucket'), 'fits', 500);
  t.is(layer.usage.usageOf('acme').storedBytes, 900);
});

test('quota: a bucket quota, parts of multipart uploads and copies all count; the declared-size precheck refuses early', async (t) => {
  const { layer, quotas } = await openLedgerHarness(t);
  await layer.buckets.create({ name: 'bucket-quota', ownerTenantId: 'acme' });
  await quotas.setBucketQuota(bucketIdOf('acme', 'bucket-quota'), 300);
  await put(layer, bucketIdOf('acme', 'bucket-quota'), 'one', 200);
  t.throws(() => layer.admission.precheck(bucketIdOf('acme', 'bucket-quota'), 101), {
    code: 'QuotaExceeded',
  } as never);
  t.notThrows(() => layer.admission.precheck(bucketIdOf('acme', 'bucket-quota'), 100));
  const copy = layer.copies.copyObject({
    source: { bucket: bucketIdOf('acme', 'bucket-quota'), key: 'one' },
    bucket: bucketIdOf('acme', 'bucket-quota'),
    key: 'two',
  });
  t.true(isObjectError(await t.throwsAsync(copy), 'QuotaExceeded'));
  const upload = await layer.multipart.create({ bucket: bucketIdOf('acme', 'bucket-quota'), key: 'm' });
  const part = layer.multipart.uploadPart({
    bucket: bucketIdOf('acme', 'bucket-quota'),
    key: 'm',
    uploadId: upload.uploadId,
    partNumber: 1,
    body: bodyOf(patternBytes(101, 1)),
  });
  t.true(isObjectError(await t.throwsAsync(part), 'QuotaExceeded'));
  t.like(layer.usage.bucketUsage(bucketIdOf('acme', 'bucket-quota')), {
    storedBytes: 200,
    incompletePartCount: 0,
  });
});

test('quota: uploads committing at the same time cannot together overshoot it', async (t) => {
  const { layer, quotas } = await openLedgerHarness(t);
  await layer.buckets.create({ name: 'concurrent-bucket', ownerTenantId: 'acme' });
  await quotas.setTenantQuota('acme', 1000);
  const results = await Promise.allSettled(
    Array.from({ length: 8 }, (_, index) =>
      put(layer, bucketIdOf('acme', 'concurrent-bucket'), `k${index}`, 300, index),
    ),
  );
  const accepted = results.filter((result) => result.status === 'fulfilled').length;
  t.is(accepted, 3);
  t.is(layer.usage.usageOf('acme').storedBytes, 900);
  t.true(
    results.every((result) => result.status === 'fulfilled' || isObjectError(result.reason, 'QuotaExceeded')),
  );
});

test('write-only key: an overwrite of an existing object in an unversioned bucket is AccessDenied; a new key or a versioned bucket is fine', async (t) => {
  const { layer } = await openLedgerHarness(t);
  await layer.buckets.create({ name: 'unversioned-bucket', ownerTenantId: 'acme' });
  await layer.buckets.create({ name: 'versioned-bucket', ownerTenantId: 'acme' });
  await layer.buckets.setVersioning(bucketIdOf('acme', 'versioned-bucket'), 'Enabled');
  await put(layer, bucketIdOf('acme', 'unversioned-bucket'), 'existing', 10, 1);
  await put(layer, bucketIdOf('acme', 'versioned-bucket'), 'existing', 10, 1);
  const asWriteOnly = <T>(work: () => Promise<T>) =>
    callerScope.run({ tenantId: 'acme', accessKeyId: 'BACKUPJOBKEY0000', role: 'write-only' }, work);
  const overwrite = asWriteOnly(() => put(layer, bucketIdOf('acme', 'unversioned-bucket'), 'existing', 5, 2));
  t.true(isObjectError(await t.throwsAsync(overwrite), 'AccessDenied'));
  t.is(
    layer.objects.head({ bucket: bucketIdOf('acme', 'unversioned-bucket'), key: 'existing' }).sizeBytes,
    10,
  );
  await t.notThrowsAsync(asWriteOnly(() => put(layer, bucketIdOf('acme', 'unversioned-bucket'), 'new', 5)));
  await t.notThrowsAsync(
    asWriteOnly(() => put(layer, bucketIdOf('acme', 'versioned-bucket'), 'existing', 5, 2)),
  );
  const copy = asWriteOnly(() =>
    layer.copies.copyObject({
      source: { bucket: bucketIdOf('acme', 'unversioned-bucket'), key: 'new' },
      bucket: bucketIdOf('acme', 'unversioned-bucket'),
      key: 'existing',
    }),
  );
  t.true(isObjectError(await t.throwsAsync(copy), 'AccessDenied'));
  // A full key may still overwrite.
  await t.notThrowsAsync(
    callerScope.run({ tenantId: 'acme', accessKeyId: 'FULLKEY000000000', role: 'full' }, () =>
      put(layer, bucketIdOf('acme', 'unversioned-bucket'), 'existing', 7, 3),
    ),
  );
});

test('peaks copy: after the index file is lost and rebuilt from the drives, the saved copy brings the month peak back', async (t) => {
  const harness = await openLedgerHarness(t);
  const ownDrive = new LocalDrive(path.dirname(harness.indexPath));
  await harness.layer.buckets.create({ name: 'copied-bucket', ownerTenantId: 'acme' });
  await put(harness.layer, bucketIdOf('acme', 'copied-bucket'), 'big', 5000);
  await harness.layer.objects.delete({ bucket: bucketIdOf('acme', 'copied-bucket'), key: 'big' });
  await put(harness.layer, bucketIdOf('acme', 'copied-bucket'), 'small', 10);
  await saveUsagePeaks(ownDrive, harness.layer.usage);
  harness.layer.close();
  await rm(harness.indexPath);
  const rebuilt = await harness.reopen();
  t.regex(rebuilt.openRebuildReason ?? '', /missing/);
  const month = { fromDay: '2026-03-01', toDay: '2026-04-01' };
  t.is(rebuilt.usage.peakOf('acme', month), 10);
  t.true((await restoreUsagePeaks(ownDrive, rebuilt.usage)) > 0);
  t.is(rebuilt.usage.peakOf('acme', month), 5000);
  // Restoring again changes nothing.
  await restoreUsagePeaks(ownDrive, rebuilt.usage);
  t.deepEqual(
    rebuilt.usage.dailyPeaks('acme').map((peak) => [peak.day, peak.peakBytes, peak.lastBytes]),
    [['2026-03-10', 5000, 10]],
  );
});

test('crash: a version the store committed before the index followed is counted when the next open replays its intent', async (t) => {
  const harness = await openLedgerHarness(t);
  await harness.layer.buckets.create({ name: 'crash-bucket', ownerTenantId: 'acme' });
  await put(harness.layer, bucketIdOf('acme', 'crash-bucket'), 'before', 100);
  harness.store.afterCommit = () => {
    throw new Error('crash after the store committed');
  };
  await t.throwsAsync(put(harness.layer, bucketIdOf('acme', 'crash-bucket'), 'survivor', 250), {
    message: 'crash after the store committed',
  });
  harness.store.afterCommit = null;
  t.is(
    harness.layer.usage.bucketUsage(bucketIdOf('acme', 'crash-bucket')).storedBytes,
    100,
    'not counted before the restart',
  );
  const reopened = await harness.reopen();
  t.like(reopened.usage.bucketUsage(bucketIdOf('acme', 'crash-bucket')), {
    storedBytes: 350,
    currentCount: 2,
  });
  assertMatchesRecomputation(t, reopened);
  t.is(reopened.usage.peakOf('acme', { fromDay: '2026-03-01', toDay: '2026-04-01' }), 350);
});
