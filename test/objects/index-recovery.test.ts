import { rm, writeFile } from 'node:fs/promises';
import { DatabaseSync } from 'node:sqlite';
import test from 'ava';
import { openObjectLayer } from '../../agent/objects/object-layer.ts';
import { bucketIdOf } from '../../agent/objects/records.ts';
import type { ErasureSetContract } from '../../agent/objects/store.ts';
import { bodyOf, createBucket, type Harness, openHarness, readText, storeKinds, tenant } from './helpers.ts';

/** Everything a client can list, to compare before and after a rebuild. */
function snapshot(harness: Harness, buckets: string[]) {
  return buckets.map((bucket) => ({
    bucket: harness.layer.buckets.head(bucket),
    objects: harness.layer.listing.listObjectsV2({ bucket }),
    grouped: harness.layer.listing.listObjectsV2({ bucket, delimiter: '/' }),
    versions: harness.layer.listing.listObjectVersions({ bucket }),
    uploads: harness.layer.multipart.listUploads({ bucket }),
  }));
}

async function populate(harness: Harness): Promise<void> {
  await createBucket(harness, 'plain');
  await createBucket(harness, 'versioned', { versioning: 'Enabled' });
  for (const key of ['a', 'dir/b', 'dir/c', 'été/ü', '../x']) {
    await harness.layer.objects.put({
      bucket: bucketIdOf(tenant, 'plain'),
      key,
      body: bodyOf(key),
      tags: { k: key },
    });
    await harness.layer.objects.put({
      bucket: bucketIdOf(tenant, 'versioned'),
      key,
      body: bodyOf(`${key}1`),
    });
    await harness.layer.objects.put({
      bucket: bucketIdOf(tenant, 'versioned'),
      key,
      body: bodyOf(`${key}2`),
    });
  }
  await harness.layer.objects.delete({ bucket: bucketIdOf(tenant, 'versioned'), key: 'dir/b' });
  const upload = await harness.layer.multipart.create({
    bucket: bucketIdOf(tenant, 'versioned'),
    key: 'multi',
  });
  const part = await harness.layer.multipart.uploadPart({
    bucket: bucketIdOf(tenant, 'versioned'),
    key: 'multi',
    uploadId: upload.uploadId,
    partNumber: 1,
    body: bodyOf('m'),
  });
  await harness.layer.multipart.complete({
    bucket: bucketIdOf(tenant, 'versioned'),
    key: 'multi',
    uploadId: upload.uploadId,
    parts: [{ partNumber: 1, etag: part.etag }],
  });
  await harness.layer.multipart.create({ bucket: bucketIdOf(tenant, 'versioned'), key: 'pending' });
}

/** A store that commits writes (or deletes) and then fails as if the process died right after. */
function crashingAfter(store: ErasureSetContract, operation: 'write' | 'delete'): ErasureSetContract {
  return {
    writeVersion: async (address, body, options) => {
      const stored = await store.writeVersion(address, body, options);
      if (operation === 'write') throw new Error('crash after the store committed');
      return stored;
    },
    deleteVersion: async (address) => {
      if (operation === 'delete') throw new Error('crash before the store deleted');
      return store.deleteVersion(address);
    },
    statVersion: (address) => store.statVersion(address),
    readVersion: (address, range) => store.readVersion(address, range),
    updateMetadata: (address, update) => store.updateMetadata(address, update),
    listVersions: (options) => store.listVersions(options),
    close: () => store.close(),
  };
}

for (const kind of storeKinds) {
  test(`index file deleted (${kind} store): the next open rebuilds it from the store with the same listings`, async (t) => {
    const harness = await openHarness(t, kind);
    await populate(harness);
    const before = snapshot(harness, [bucketIdOf(tenant, 'plain'), bucketIdOf(tenant, 'versioned')]);
    harness.layer.close();
    for (const suffix of ['', '-wal', '-shm']) await rm(`${harness.indexPath}${suffix}`, { force: true });
    await harness.reopen();
    t.is(harness.layer.openRebuildReason, 'the index file is missing');
    t.deepEqual(snapshot(harness, [bucketIdOf(tenant, 'plain'), bucketIdOf(tenant, 'versioned')]), before);
    t.is(
      await readText(
        (await harness.layer.objects.get({ bucket: bucketIdOf(tenant, 'versioned'), key: 'multi' })).body,
      ),
      'm',
    );
  });
}

test('index file corrupt: the open detects it and rebuilds the same listings', async (t) => {
  const harness = await openHarness(t);
  await populate(harness);
  const before = snapshot(harness, [bucketIdOf(tenant, 'plain'), bucketIdOf(tenant, 'versioned')]);
  harness.layer.close();
  for (const suffix of ['-wal', '-shm']) await rm(`${harness.indexPath}${suffix}`, { force: true });
  await writeFile(harness.indexPath, Buffer.alloc(8192, 0x5a));
  await harness.reopen();
  t.regex(harness.layer.openRebuildReason ?? '', /cannot be read|integrity|not a Coffre/);
  t.deepEqual(snapshot(harness, [bucketIdOf(tenant, 'plain'), bucketIdOf(tenant, 'versioned')]), before);
});

test('index left half-rebuilt (complete flag unset): the open rebuilds it', async (t) => {
  const harness = await openHarness(t);
  await populate(harness);
  const before = snapshot(harness, [bucketIdOf(tenant, 'plain'), bucketIdOf(tenant, 'versioned')]);
  harness.layer.close();
  const database = new DatabaseSync(harness.indexPath);
  database.exec("DELETE FROM versions; UPDATE meta SET value = '0' WHERE name = 'complete'");
  database.close();
  await harness.reopen();
  t.is(harness.layer.openRebuildReason, 'the last index rebuild did not finish');
  t.deepEqual(snapshot(harness, [bucketIdOf(tenant, 'plain'), bucketIdOf(tenant, 'versioned')]), before);
});

test('index missing an entry the store has: rebuildIndex() puts it back', async (t) => {
  const harness = await openHarness(t);
  await populate(harness);
  const before = snapshot(harness, [bucketIdOf(tenant, 'plain'), bucketIdOf(tenant, 'versioned')]);
  const database = new DatabaseSync(harness.indexPath);
  database.exec(
    "DELETE FROM versions WHERE bucket = 'tenant-a/plain'; DELETE FROM current_objects WHERE bucket = 'tenant-a/plain'",
  );
  database.close();
  t.is(
    harness.layer.listing.listObjectsV2({ bucket: bucketIdOf(tenant, 'plain') }).keyCount,
    0,
    'the index lost the bucket’s entries',
  );
  const report = await harness.layer.rebuildIndex();
  t.true(report.versions > 0);
  t.deepEqual(snapshot(harness, [bucketIdOf(tenant, 'plain'), bucketIdOf(tenant, 'versioned')]), before);
});

for (const kind of storeKinds) {
  test(`crash after the store committed a put, before the index followed (${kind} store): the next open indexes it`, async (t) => {
    const harness = await openHarness(t, kind);
    await createBucket(harness, 'plain');
    harness.layer.close();
    const crashing = await openObjectLayer({
      store: crashingAfter(harness.store, 'write'),
      indexPath: harness.indexPath,
      clock: harness.clock.now,
    });
    await t.throwsAsync(
      crashing.objects.put({
        bucket: bucketIdOf(tenant, 'plain'),
        key: 'survivor',
        body: bodyOf('committed'),
      }),
      {
        message: 'crash after the store committed',
      },
    );
    t.is(
      crashing.listing.listObjectsV2({ bucket: bucketIdOf(tenant, 'plain') }).keyCount,
      0,
      'not indexed before the restart',
    );
    crashing.close();
    await harness.reopen();
    t.is(harness.layer.openRebuildReason, null, 'the intent alone repairs it, without a full rebuild');
    t.deepEqual(
      harness.layer.listing
        .listObjectsV2({ bucket: bucketIdOf(tenant, 'plain') })
        .contents.map((entry) => entry.key),
      ['survivor'],
    );
    t.is(
      await readText(
        (await harness.layer.objects.get({ bucket: bucketIdOf(tenant, 'plain'), key: 'survivor' })).body,
      ),
      'committed',
    );
  });
}

test('crash after a multipart completion committed its manifest: the next open shows the object and finishes the upload', async (t) => {
  const harness = await openHarness(t);
  await createBucket(harness, 'plain');
  const upload = await harness.layer.multipart.create({ bucket: bucketIdOf(tenant, 'plain'), key: 'multi' });
  const base = { bucket: bucketIdOf(tenant, 'plain'), key: 'multi', uploadId: upload.uploadId };
  const part = await harness.layer.multipart.uploadPart({
    ...base,
    partNumber: 1,
    body: bodyOf('parts data'),
  });
  harness.layer.close();
  const crashing = await openObjectLayer({
    store: crashingAfter(harness.store, 'write'),
    indexPath: harness.indexPath,
    clock: harness.clock.now,
  });
  await t.throwsAsync(crashing.multipart.complete({ ...base, parts: [{ partNumber: 1, etag: part.etag }] }));
  crashing.close();
  await harness.reopen();
  t.is(
    await readText(
      (await harness.layer.objects.get({ bucket: bucketIdOf(tenant, 'plain'), key: 'multi' })).body,
    ),
    'parts data',
  );
  t.deepEqual(
    harness.layer.multipart.listUploads({ bucket: bucketIdOf(tenant, 'plain') }).uploads,
    [],
    'an abort can no longer take its parts',
  );
});

test('crash before the store deleted a version: the object stays gone and the next open finishes the deletion', async (t) => {
  const harness = await openHarness(t);
  await createBucket(harness, 'plain');
  await harness.layer.objects.put({ bucket: bucketIdOf(tenant, 'plain'), key: 'doomed', body: bodyOf('x') });
  harness.layer.close();
  const crashing = await openObjectLayer({
    store: crashingAfter(harness.store, 'delete'),
    indexPath: harness.indexPath,
    clock: harness.clock.now,
  });
  await t.throwsAsync(crashing.objects.delete({ bucket: bucketIdOf(tenant, 'plain'), key: 'doomed' }));
  t.is(crashing.listing.listObjectsV2({ bucket: bucketIdOf(tenant, 'plain') }).keyCount, 0);
  crashing.close();
  t.is(
    [...harness.memory!.entries.keys()].filter((key) => key.includes('doomed')).length,
    1,
    'still in the store',
  );
  await harness.reopen();
  t.is(
    [...harness.memory!.entries.keys()].filter((key) => key.includes('doomed')).length,
    0,
    'deleted at open',
  );
  t.is(harness.layer.listing.listObjectsV2({ bucket: bucketIdOf(tenant, 'plain') }).keyCount, 0);
});

test('two "null" versions of one key in the store (a crash mid-replacement): the rebuild keeps the newer and deletes the older', async (t) => {
  const harness = await openHarness(t);
  await createBucket(harness, 'plain');
  await harness.layer.objects.put({ bucket: bucketIdOf(tenant, 'plain'), key: 'k', body: bodyOf('older') });
  harness.clock.advance(1000);
  harness.layer.close();
  // Another process (own index) replaces the null version and dies before deleting the old one.
  const other = await openObjectLayer({
    store: crashingAfter(harness.store, 'write'),
    indexPath: `${harness.indexPath}.other`,
    clock: harness.clock.now,
  });
  await t.throwsAsync(
    other.objects.put({ bucket: bucketIdOf(tenant, 'plain'), key: 'k', body: bodyOf('newer') }),
  );
  other.close();
  t.is(
    [...harness.memory!.entries.keys()].filter((key) => key.startsWith('["tenant-a/plain","k"')).length,
    2,
  );
  await harness.reopen();
  await harness.layer.rebuildIndex();
  t.is(
    await readText((await harness.layer.objects.get({ bucket: bucketIdOf(tenant, 'plain'), key: 'k' })).body),
    'newer',
  );
  t.is(harness.layer.listing.listObjectVersions({ bucket: bucketIdOf(tenant, 'plain') }).versions.length, 1);
  t.is(
    [...harness.memory!.entries.keys()].filter((key) => key.startsWith('["tenant-a/plain","k"')).length,
    1,
  );
});

test('crash before the store deleted a version, then a full rebuild: the unfinished deletion is redone first, nothing comes back', async (t) => {
  const harness = await openHarness(t);
  await createBucket(harness, 'plain');
  await harness.layer.objects.put({ bucket: bucketIdOf(tenant, 'plain'), key: 'doomed', body: bodyOf('x') });
  harness.layer.close();
  const crashing = await openObjectLayer({
    store: crashingAfter(harness.store, 'delete'),
    indexPath: harness.indexPath,
    clock: harness.clock.now,
  });
  await t.throwsAsync(crashing.objects.delete({ bucket: bucketIdOf(tenant, 'plain'), key: 'doomed' }));
  crashing.close();
  const database = new DatabaseSync(harness.indexPath);
  database.exec("UPDATE meta SET value = '0' WHERE name = 'complete'");
  database.close();
  await harness.reopen();
  t.is(harness.layer.openRebuildReason, 'the last index rebuild did not finish');
  t.is(harness.layer.listing.listObjectsV2({ bucket: bucketIdOf(tenant, 'plain') }).keyCount, 0);
  t.is([...harness.memory!.entries.keys()].filter((key) => key.includes('doomed')).length, 0);
});

test('the index records a clean close: set by close(), cleared while open, so only an unclean stop pays for the integrity check', async (t) => {
  const harness = await openHarness(t);
  const closedCleanly = () => {
    const database = new DatabaseSync(harness.indexPath);
    const row = database.prepare("SELECT value FROM meta WHERE name = 'closed_cleanly'").get() as {
      value: string;
    };
    database.close();
    return row.value;
  };
  t.is(closedCleanly(), '0');
  harness.layer.close();
  t.is(closedCleanly(), '1');
  await harness.reopen();
  t.is(closedCleanly(), '0');
  t.is(harness.layer.openRebuildReason, null);
});
