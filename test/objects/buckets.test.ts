import test from 'ava';
import { isObjectError } from '../../agent/objects/errors.ts';
import { bucketIdOf } from '../../agent/objects/records.ts';
import { bodyOf, createBucket, openHarness, readText, storeKinds, tenant } from './helpers.ts';

for (const kind of storeKinds) {
  test(`buckets (${kind} store): created, listed per tenant in name order, headed, and kept across a restart`, async (t) => {
    const harness = await openHarness(t, kind);
    await harness.layer.buckets.create({ name: 'zebra', ownerTenantId: 'tenant-a' });
    await harness.layer.buckets.create({ name: 'alpha', ownerTenantId: 'tenant-a', region: 'fr-gra' });
    await harness.layer.buckets.create({ name: 'other', ownerTenantId: 'tenant-b' });
    t.deepEqual(
      harness.layer.buckets.list('tenant-a').map((bucket) => bucket.name),
      ['alpha', 'zebra'],
    );
    t.deepEqual(
      harness.layer.buckets.list('tenant-b').map((bucket) => bucket.name),
      ['other'],
    );
    t.is(harness.layer.buckets.location(bucketIdOf('tenant-a', 'alpha')), 'fr-gra');
    t.like(harness.layer.buckets.head(bucketIdOf('tenant-a', 'zebra')), {
      ownerTenantId: 'tenant-a',
      versioning: 'Unversioned',
      createdMs: harness.clock.now(),
    });
    await harness.layer.buckets.setVersioning(bucketIdOf('tenant-a', 'alpha'), 'Enabled');
    await harness.layer.buckets.setTags(bucketIdOf('tenant-a', 'alpha'), { team: 'backup' });
    await harness.layer.buckets.setCors(bucketIdOf('tenant-a', 'alpha'), [
      { allowedMethods: ['GET'], allowedOrigins: ['*'] },
    ]);
    await harness.reopen();
    t.is(harness.layer.buckets.head(bucketIdOf('tenant-a', 'alpha')).versioning, 'Enabled');
    t.deepEqual(harness.layer.buckets.getTags(bucketIdOf('tenant-a', 'alpha')), { team: 'backup' });
    t.deepEqual(harness.layer.buckets.getCors(bucketIdOf('tenant-a', 'alpha')), [
      { allowedMethods: ['GET'], allowedOrigins: ['*'] },
    ]);
    // The configuration lives in the store: a rebuilt index finds it again.
    await harness.layer.rebuildIndex();
    t.deepEqual(harness.layer.buckets.getTags(bucketIdOf('tenant-a', 'alpha')), { team: 'backup' });
    t.deepEqual(
      harness.layer.buckets.list('tenant-a').map((bucket) => bucket.name),
      ['alpha', 'zebra'],
    );
  });
}

test('namespaces: two tenants each have a bucket of one name, independent; a tenant finds only its own, and an existing name is BucketAlreadyOwnedByYou for its owner only', async (t) => {
  const harness = await openHarness(t, 'real');
  const mine = await harness.layer.buckets.create({ name: 'taken', ownerTenantId: 'tenant-a' });
  const again = await t.throwsAsync(
    harness.layer.buckets.create({ name: 'taken', ownerTenantId: 'tenant-a' }),
  );
  t.true(isObjectError(again, 'BucketAlreadyOwnedByYou'));
  const theirs = await harness.layer.buckets.create({ name: 'taken', ownerTenantId: 'tenant-b' });
  t.is(mine.id, 'tenant-a/taken');
  t.is(theirs.id, 'tenant-b/taken');
  t.is(harness.layer.buckets.find('tenant-a', 'taken')?.id, mine.id);
  t.is(harness.layer.buckets.find('tenant-b', 'taken')?.id, theirs.id);
  t.is(harness.layer.buckets.find('tenant-c', 'taken'), undefined);
  // An id is no name: another tenant's bucket cannot be reached by spelling its id.
  t.is(harness.layer.buckets.find('tenant-a', 'tenant-b/taken'), undefined);
  t.is(harness.layer.buckets.find('tenant-a/taken', 'taken'), undefined);
  const missing = t.throws(() => harness.layer.buckets.resolve('tenant-c', 'taken'));
  t.true(isObjectError(missing, 'NoSuchBucket'));
  t.like(missing, { details: { bucket: 'taken' } });
  await harness.layer.buckets.setVersioning(mine.id, 'Enabled');
  await harness.layer.objects.put({ bucket: mine.id, key: 'k', body: bodyOf('of tenant a') });
  await harness.layer.objects.put({ bucket: theirs.id, key: 'k', body: bodyOf('of tenant b') });
  await harness.layer.multipart.create({ bucket: theirs.id, key: 'upload' });
  t.is(harness.layer.buckets.head(theirs.id).versioning, 'Unversioned');
  t.deepEqual(
    harness.layer.listing.listObjectsV2({ bucket: mine.id }).contents.map((entry) => entry.key),
    ['k'],
  );
  // Each one's usage is its own, reported under the S3 name.
  t.like(harness.layer.usage.usageOf('tenant-a'), {
    currentBytes: 11,
    buckets: [{ bucket: 'taken', currentBytes: 11 }],
  });
  t.like(harness.layer.usage.usageOf('tenant-b'), { currentBytes: 11, incompleteUploadCount: 1 });
  // Deleting one leaves the other, also after a rebuild of the index from the store.
  await harness.layer.objects.delete({
    bucket: mine.id,
    key: 'k',
    versionId: harness.layer.objects.head({ bucket: mine.id, key: 'k' }).versionId,
  });
  await harness.layer.buckets.delete(mine.id);
  await harness.layer.rebuildIndex();
  t.is(harness.layer.buckets.find('tenant-a', 'taken'), undefined);
  t.is(harness.layer.buckets.find('tenant-b', 'taken')?.id, theirs.id);
  t.is(
    await readText((await harness.layer.objects.get({ bucket: theirs.id, key: 'k' })).body),
    'of tenant b',
  );
  t.deepEqual(
    harness.layer.buckets.named('taken').map((record) => record.ownerTenantId),
    ['tenant-b'],
  );
});

test('create: names breaking the AWS naming rules are InvalidBucketName', async (t) => {
  const harness = await openHarness(t);
  const invalid = [
    'ab',
    'a'.repeat(64),
    'Upper',
    'under_score',
    '-start',
    'end-',
    'two..dots',
    '192.168.1.1',
    'xn--punycode',
    'sthree-x',
    'name-s3alias',
    'name--ol-s3',
    '.dot',
  ];
  for (const name of invalid) {
    const error = await t.throwsAsync(harness.layer.buckets.create({ name, ownerTenantId: 'tenant-a' }));
    t.true(isObjectError(error, 'InvalidBucketName'), name);
  }
  for (const name of ['abc', 'my.bucket-1', 'a'.repeat(63)]) {
    await t.notThrowsAsync(harness.layer.buckets.create({ name, ownerTenantId: 'tenant-a' }), name);
  }
});

test('delete: BucketNotEmpty while it holds an object, a delete marker, an old version or an upload; then it goes', async (t) => {
  const harness = await openHarness(t);
  await createBucket(harness, 'full', { versioning: 'Enabled' });
  const put = await harness.layer.objects.put({
    bucket: bucketIdOf(tenant, 'full'),
    key: 'k',
    body: bodyOf('x'),
  });
  const notEmpty = async (label: string) => {
    const error = await t.throwsAsync(harness.layer.buckets.delete(bucketIdOf(tenant, 'full')));
    t.true(isObjectError(error, 'BucketNotEmpty'), label);
  };
  await notEmpty('object');
  const marker = await harness.layer.objects.delete({ bucket: bucketIdOf(tenant, 'full'), key: 'k' });
  await notEmpty('old version under a delete marker');
  await harness.layer.objects.delete({
    bucket: bucketIdOf(tenant, 'full'),
    key: 'k',
    versionId: put.versionId,
  });
  await notEmpty('a lone delete marker');
  await harness.layer.objects.delete({
    bucket: bucketIdOf(tenant, 'full'),
    key: 'k',
    versionId: marker.versionId,
  });
  const upload = await harness.layer.multipart.create({ bucket: bucketIdOf(tenant, 'full'), key: 'u' });
  await notEmpty('a multipart upload');
  await harness.layer.multipart.abort({
    bucket: bucketIdOf(tenant, 'full'),
    key: 'u',
    uploadId: upload.uploadId,
  });
  await harness.layer.buckets.delete(bucketIdOf(tenant, 'full'));
  t.true(
    isObjectError(
      t.throws(() => harness.layer.buckets.head(bucketIdOf(tenant, 'full'))),
      'NoSuchBucket',
    ),
  );
  t.true(
    isObjectError(
      await t.throwsAsync(harness.layer.buckets.delete(bucketIdOf(tenant, 'full'))),
      'NoSuchBucket',
    ),
  );
  await harness.reopen();
  t.deepEqual(harness.layer.buckets.list('tenant-a'), []);
  // The name is free again.
  await t.notThrowsAsync(harness.layer.buckets.create({ name: 'full', ownerTenantId: 'tenant-a' }));
});

test('versioning and Object Lock: a lock-enabled bucket is versioned and cannot be suspended; default retention round-trips', async (t) => {
  const harness = await openHarness(t);
  const vault = await harness.layer.buckets.create({
    name: 'vault',
    ownerTenantId: 'tenant-a',
    objectLockEnabled: true,
  });
  t.is(vault.versioning, 'Enabled');
  t.true(vault.objectLock.enabled);
  const suspend = await t.throwsAsync(
    harness.layer.buckets.setVersioning(bucketIdOf('tenant-a', 'vault'), 'Suspended'),
  );
  t.true(isObjectError(suspend, 'InvalidBucketState'));
  await harness.layer.buckets.setObjectLockConfiguration(bucketIdOf('tenant-a', 'vault'), {
    mode: 'GOVERNANCE',
    years: 1,
  });
  t.deepEqual(harness.layer.buckets.getObjectLockConfiguration(bucketIdOf('tenant-a', 'vault')), {
    enabled: true,
    defaultRetention: { mode: 'GOVERNANCE', years: 1 },
  });
  const both = await t.throwsAsync(
    harness.layer.buckets.setObjectLockConfiguration(bucketIdOf('tenant-a', 'vault'), {
      mode: 'GOVERNANCE',
      years: 1,
      days: 1,
    }),
  );
  t.true(isObjectError(both, 'MalformedXML'));
  await createBucket(harness, 'plain');
  t.true(
    isObjectError(
      t.throws(() => harness.layer.buckets.getObjectLockConfiguration(bucketIdOf(tenant, 'plain'))),
      'ObjectLockConfigurationNotFoundError',
    ),
  );
  const unversioned = await t.throwsAsync(
    harness.layer.buckets.setObjectLockConfiguration(bucketIdOf(tenant, 'plain'), null),
  );
  t.true(isObjectError(unversioned, 'InvalidBucketState'));
});

test('CORS and tags: absent configurations answer NoSuchCORSConfiguration and NoSuchTagSet; null removes them', async (t) => {
  const harness = await openHarness(t);
  await createBucket(harness, 'conf');
  t.true(
    isObjectError(
      t.throws(() => harness.layer.buckets.getCors(bucketIdOf(tenant, 'conf'))),
      'NoSuchCORSConfiguration',
    ),
  );
  t.true(
    isObjectError(
      t.throws(() => harness.layer.buckets.getTags(bucketIdOf(tenant, 'conf'))),
      'NoSuchTagSet',
    ),
  );
  await harness.layer.buckets.setTags(bucketIdOf(tenant, 'conf'), { a: 'b' });
  await harness.layer.buckets.setTags(bucketIdOf(tenant, 'conf'), null);
  t.true(
    isObjectError(
      t.throws(() => harness.layer.buckets.getTags(bucketIdOf(tenant, 'conf'))),
      'NoSuchTagSet',
    ),
  );
});
