// Per-tenant bucket namespaces over data written when bucket names were global (record format 1,
// index format 1, quotas file version 1): fixtures/global-names-v1 was written by the code of that
// time (fixtures/make-global-names-sample.ts) and is frozen. Opened today, every bucket is in its
// owner's namespace under its old name, with its objects, uploads and usage, and nothing is rewritten.
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { LocalDrive } from '../../agent/disk/index.ts';
import { isObjectError } from '../../agent/objects/errors.ts';
import { openObjectLayer } from '../../agent/objects/object-layer.ts';
import { Quotas } from '../../agent/objects/quotas.ts';
import { fromMetadata, recordFormatVersion, toMetadata } from '../../agent/objects/records.ts';
import { parisDay } from '../../agent/objects/usage-ledger.ts';
import { openErasureSet } from '../../agent/shards/index.ts';
import { globalNamesSample as sample } from './fixtures/make-global-names-sample.ts';
import { bodyOf, readText } from './helpers.ts';

const sampleDirectory = join(import.meta.dirname, 'fixtures', 'global-names-v1');
/** The clock the sample was written at (make-global-names-sample.ts). */
const sampleClockMs = 1_764_000_000_000;

/** A copy of the frozen sample (the store and index are written to), with its old index or without. */
async function openSample(t: ExecutionContext, options: { keepOldIndex: boolean }) {
  const directory = await mkdtemp(join(tmpdir(), 'coffre-global-names-'));
  await cp(sampleDirectory, directory, { recursive: true });
  if (!options.keepOldIndex) await rm(join(directory, 'index.sqlite'));
  const drives = Array.from({ length: 6 }, (_, index) => join(directory, `drive-${index}`));
  const store = await openErasureSet({ drives, blockSizeBytes: 4096, inlineThresholdBytes: 1024 });
  const indexPath = join(directory, 'index.sqlite');
  const open = () => openObjectLayer({ store, indexPath, nodeId: '0000c0f2' });
  const layer = await open();
  t.teardown(async () => {
    layer.close();
    await store.close();
    await rm(directory, { recursive: true, force: true });
  });
  return { layer, directory, open };
}

for (const keepOldIndex of [true, false]) {
  test(`global names (format 1, ${keepOldIndex ? 'old index kept' : 'index lost'}): each bucket opens in its owner's namespace with its objects, upload and usage`, async (t) => {
    const { layer } = await openSample(t, { keepOldIndex });
    t.is(
      layer.openRebuildReason,
      keepOldIndex ? 'the index has another format version' : 'the index file is missing',
    );
    const backups = layer.buckets.find('acme', sample.acmeBucket);
    // A format 1 bucket keeps its name as its id: its versions stay where they are.
    t.like(backups, {
      id: sample.acmeBucket,
      name: sample.acmeBucket,
      ownerTenantId: 'acme',
      versioning: 'Enabled',
    });
    t.like(layer.buckets.find('initech', sample.initechBucket), { id: sample.initechBucket });
    // Not in anyone else's namespace.
    t.is(layer.buckets.find('initech', sample.acmeBucket), undefined);
    t.is(layer.buckets.find('acme', sample.initechBucket), undefined);
    t.deepEqual(
      layer.buckets.list('acme').map((bucket) => bucket.name),
      [sample.acmeBucket],
    );
    const id = layer.buckets.resolve('acme', sample.acmeBucket);
    const object = await layer.objects.get({ bucket: id, key: sample.acmeObject.key });
    t.is(await readText(object.body), sample.acmeObject.body);
    const initechId = layer.buckets.resolve('initech', sample.initechBucket);
    t.is(
      await readText((await layer.objects.get({ bucket: initechId, key: sample.initechObject.key })).body),
      sample.initechObject.body,
    );
    // The upload begun then completes now.
    const [upload] = layer.multipart.listUploads({ bucket: id }).uploads;
    t.is(upload.key, sample.acmeUploadKey);
    const { parts } = layer.multipart.listParts({ bucket: id, key: upload.key, uploadId: upload.uploadId });
    await layer.multipart.complete({
      bucket: id,
      key: upload.key,
      uploadId: upload.uploadId,
      parts: parts.map((part) => ({ partNumber: part.partNumber, etag: part.etag })),
    });
    t.is(await readText((await layer.objects.get({ bucket: id, key: upload.key })).body), sample.acmePart);
    // The daily peaks of the old index are billing history: they come across with it, and only then.
    const sampleDay = parisDay(sampleClockMs);
    const acmePeaks = layer.usage.dailyPeaks('acme').filter((peak) => peak.day === sampleDay);
    t.deepEqual(
      acmePeaks.map((peak) => peak.peakBytes),
      keepOldIndex ? [sample.acmeObject.body.length + sample.acmePart.length] : [],
    );
    t.like(layer.usage.usageOf('acme'), {
      currentBytes: sample.acmeObject.body.length + sample.acmePart.length,
      buckets: [{ bucket: sample.acmeBucket }],
    });
  });
}

test('global names (format 1): the owner cannot create its old bucket again; another tenant creates its own of that name, independent, and both survive a rebuild', async (t) => {
  const { layer: opened, open } = await openSample(t, { keepOldIndex: true });
  let layer = opened;
  const again = await t.throwsAsync(layer.buckets.create({ name: sample.acmeBucket, ownerTenantId: 'acme' }));
  t.true(isObjectError(again, 'BucketAlreadyOwnedByYou'));
  const theirs = await layer.buckets.create({ name: sample.acmeBucket, ownerTenantId: 'initech' });
  t.is(theirs.id, `initech/${sample.acmeBucket}`);
  await layer.objects.put({ bucket: theirs.id, key: sample.acmeObject.key, body: bodyOf('initech data') });
  await layer.objects.put({ bucket: sample.acmeBucket, key: 'written-after', body: bodyOf('new acme data') });
  await layer.rebuildIndex();
  layer.close();
  layer = await open();
  t.teardown(() => layer.close());
  const acmeId = layer.buckets.resolve('acme', sample.acmeBucket);
  const initechId = layer.buckets.resolve('initech', sample.acmeBucket);
  t.not(acmeId, initechId);
  t.is(
    await readText((await layer.objects.get({ bucket: acmeId, key: sample.acmeObject.key })).body),
    sample.acmeObject.body,
  );
  t.is(
    await readText((await layer.objects.get({ bucket: acmeId, key: 'written-after' })).body),
    'new acme data',
  );
  t.is(
    await readText((await layer.objects.get({ bucket: initechId, key: sample.acmeObject.key })).body),
    'initech data',
  );
  t.deepEqual(
    layer.buckets.list('initech').map((bucket) => bucket.name),
    [sample.acmeBucket, sample.initechBucket],
  );
});

test('records: format 2 is written; a format 1 bucket record reads with its name as its id, a format 2 one with its own id', (t) => {
  const record = {
    name: 'backups',
    ownerTenantId: 'acme',
    createdMs: 0,
    region: 'fr-par',
    versioning: 'Unversioned' as const,
    objectLock: { enabled: false, defaultRetention: null },
    cors: null,
    tags: null,
  };
  const written = toMetadata({ kind: 'bucket', record: { ...record, id: 'acme/backups' } });
  t.is(recordFormatVersion, 2);
  t.like(written, { 'coffre.objects': { formatVersion: 2 } });
  t.like(fromMetadata(written), { kind: 'bucket', record: { id: 'acme/backups' } });
  const formatOne = { 'coffre.objects': { formatVersion: 1, kind: 'bucket', record } };
  t.like(fromMetadata(formatOne), { kind: 'bucket', record: { id: 'backups', name: 'backups' } });
  t.throws(() => fromMetadata({ 'coffre.objects': { formatVersion: 3, kind: 'bucket', record } }), {
    message: /unknown object record format 3/,
  });
});

test('quotas file version 1 (bucket quotas by global name) is read: each applies to the format 1 bucket of that name', async (t) => {
  const { layer, directory } = await openSample(t, { keepOldIndex: true });
  const drive = new LocalDrive(directory);
  await writeFile(
    join(directory, 'quotas.json'),
    JSON.stringify({ magic: 'coffre.quotas', version: 1, tenants: {}, buckets: { [sample.acmeBucket]: 50 } }),
  );
  const quotas = await Quotas.open(drive);
  const id = layer.buckets.resolve('acme', sample.acmeBucket);
  t.is(quotas.quotaOfBucket(id), 50);
  layer.admission.useQuotas(quotas);
  const refused = await t.throwsAsync(
    layer.objects.put({ bucket: id, key: 'too-big', body: bodyOf('x'.repeat(60)) }),
  );
  t.true(isObjectError(refused, 'QuotaExceeded'));
  // Saving writes version 2, keyed by bucket id.
  await quotas.setTenantQuota('acme', 1_000_000);
  const saved = JSON.parse(await readFile(join(directory, 'quotas.json'), 'utf8'));
  t.like(saved, { version: 2, buckets: { [id]: 50 } });
  const reopened = await Quotas.open(drive);
  t.is(reopened.quotaOfBucket(id), 50);
});
