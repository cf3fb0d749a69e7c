import test from 'ava';
import { isObjectError } from '../../agent/objects/errors.ts';
import { bodyOf, createBucket, openHarness, storeKinds } from './helpers.ts';

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
    t.is(harness.layer.buckets.location('alpha'), 'fr-gra');
    t.like(harness.layer.buckets.head('zebra'), {
      ownerTenantId: 'tenant-a',
      versioning: 'Unversioned',
      createdMs: harness.clock.now(),
    });
    await harness.layer.buckets.setVersioning('alpha', 'Enabled');
    await harness.layer.buckets.setTags('alpha', { team: 'backup' });
    await harness.layer.buckets.setCors('alpha', [{ allowedMethods: ['GET'], allowedOrigins: ['*'] }]);
    await harness.reopen();
    t.is(harness.layer.buckets.head('alpha').versioning, 'Enabled');
    t.deepEqual(harness.layer.buckets.getTags('alpha'), { team: 'backup' });
    t.deepEqual(harness.layer.buckets.getCors('alpha'), [{ allowedMethods: ['GET'], allowedOrigins: ['*'] }]);
    // The configuration lives in the store: a rebuilt index finds it again.
    await harness.layer.rebuildIndex();
    t.deepEqual(harness.layer.buckets.getTags('alpha'), { team: 'backup' });
    t.deepEqual(
      harness.layer.buckets.list('tenant-a').map((bucket) => bucket.name),
      ['alpha', 'zebra'],
    );
  });
}

test('create: an existing name is BucketAlreadyOwnedByYou for its owner and BucketAlreadyExists for anyone else', async (t) => {
  const harness = await openHarness(t);
  await harness.layer.buckets.create({ name: 'taken', ownerTenantId: 'tenant-a' });
  const mine = await t.throwsAsync(
    harness.layer.buckets.create({ name: 'taken', ownerTenantId: 'tenant-a' }),
  );
  t.true(isObjectError(mine, 'BucketAlreadyOwnedByYou'));
  const theirs = await t.throwsAsync(
    harness.layer.buckets.create({ name: 'taken', ownerTenantId: 'tenant-b' }),
  );
  t.true(isObjectError(theirs, 'BucketAlreadyExists'));
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
  const put = await harness.layer.objects.put({ bucket: 'full', key: 'k', body: bodyOf('x') });
  const notEmpty = async (label: string) => {
    const error = await t.throwsAsync(harness.layer.buckets.delete('full'));
    t.true(isObjectError(error, 'BucketNotEmpty'), label);
  };
  await notEmpty('object');
  const marker = await harness.layer.objects.delete({ bucket: 'full', key: 'k' });
  await notEmpty('old version under a delete marker');
  await harness.layer.objects.delete({ bucket: 'full', key: 'k', versionId: put.versionId });
  await notEmpty('a lone delete marker');
  await harness.layer.objects.delete({ bucket: 'full', key: 'k', versionId: marker.versionId });
  const upload = await harness.layer.multipart.create({ bucket: 'full', key: 'u' });
  await notEmpty('a multipart upload');
  await harness.layer.multipart.abort({ bucket: 'full', key: 'u', uploadId: upload.uploadId });
  await harness.layer.buckets.delete('full');
  t.true(
    isObjectError(
      t.throws(() => harness.layer.buckets.head('full')),
      'NoSuchBucket',
    ),
  );
  t.true(isObjectError(await t.throwsAsync(harness.layer.buckets.delete('full')), 'NoSuchBucket'));
  await harness.reopen();
  t.deepEqual(harness.layer.buckets.list('tenant-a'), []);
  // The name is free again.
  await t.notThrowsAsync(harness.layer.buckets.create({ name: 'full', ownerTenantId: 'tenant-b' }));
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
  const suspend = await t.throwsAsync(harness.layer.buckets.setVersioning('vault', 'Suspended'));
  t.true(isObjectError(suspend, 'InvalidBucketState'));
  await harness.layer.buckets.setObjectLockConfiguration('vault', { mode: 'GOVERNANCE', years: 1 });
  t.deepEqual(harness.layer.buckets.getObjectLockConfiguration('vault'), {
    enabled: true,
    defaultRetention: { mode: 'GOVERNANCE', years: 1 },
  });
  const both = await t.throwsAsync(
    harness.layer.buckets.setObjectLockConfiguration('vault', { mode: 'GOVERNANCE', years: 1, days: 1 }),
  );
  t.true(isObjectError(both, 'MalformedXML'));
  await createBucket(harness, 'plain');
  t.true(
    isObjectError(
      t.throws(() => harness.layer.buckets.getObjectLockConfiguration('plain')),
      'ObjectLockConfigurationNotFoundError',
    ),
  );
  const unversioned = await t.throwsAsync(harness.layer.buckets.setObjectLockConfiguration('plain', null));
  t.true(isObjectError(unversioned, 'InvalidBucketState'));
});

test('CORS and tags: absent configurations answer NoSuchCORSConfiguration and NoSuchTagSet; null removes them', async (t) => {
  const harness = await openHarness(t);
  await createBucket(harness, 'conf');
  t.true(
    isObjectError(
      t.throws(() => harness.layer.buckets.getCors('conf')),
      'NoSuchCORSConfiguration',
    ),
  );
  t.true(
    isObjectError(
      t.throws(() => harness.layer.buckets.getTags('conf')),
      'NoSuchTagSet',
    ),
  );
  await harness.layer.buckets.setTags('conf', { a: 'b' });
  await harness.layer.buckets.setTags('conf', null);
  t.true(
    isObjectError(
      t.throws(() => harness.layer.buckets.getTags('conf')),
      'NoSuchTagSet',
    ),
  );
});
