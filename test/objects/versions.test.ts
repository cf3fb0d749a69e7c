import { createHash } from 'node:crypto';
import test from 'ava';
import { isObjectError } from '../../agent/objects/errors.ts';
import { bucketIdOf } from '../../agent/objects/records.ts';
import {
  bodyOf,
  createBucket,
  openHarness,
  patternBytes,
  readAll,
  readText,
  storeKinds,
  tenant,
} from './helpers.ts';

const md5Hex = (data: string | Buffer) => createHash('md5').update(data).digest('hex');

for (const kind of storeKinds) {
  test(`put then get (${kind} store): the body streams back with ETag = MD5, size and a "null" version id`, async (t) => {
    const harness = await openHarness(t, kind);
    await createBucket(harness, 'photos');
    const body = patternBytes(200_000, 1);
    const put = await harness.layer.objects.put({
      bucket: bucketIdOf(tenant, 'photos'),
      key: 'a/b.jpg',
      body: bodyOf(body.subarray(0, 70_000), body.subarray(70_000)),
      headers: { contentType: 'image/jpeg', cacheControl: 'no-cache' },
      userMetadata: { camera: 'x100' },
    });
    t.is(put.etag, md5Hex(body));
    t.is(put.sizeBytes, 200_000);
    t.is(put.versionId, 'null');
    t.is(put.lastModifiedMs, harness.clock.now());
    const got = await harness.layer.objects.get({ bucket: bucketIdOf(tenant, 'photos'), key: 'a/b.jpg' });
    t.deepEqual(await readAll(got.body), body);
    t.is(got.version.headers.contentType, 'image/jpeg');
    t.deepEqual(got.version.userMetadata, { camera: 'x100' });
    t.is(got.range, null);
  });

  test(`ranges (${kind} store): first-last, open-ended and suffix ranges return exactly those bytes`, async (t) => {
    const harness = await openHarness(t, kind);
    await createBucket(harness, 'photos');
    const body = patternBytes(100_000, 2);
    await harness.layer.objects.put({ bucket: bucketIdOf(tenant, 'photos'), key: 'k', body: bodyOf(body) });
    const cases = [
      { range: { firstByte: 0, lastByte: 0 }, expected: body.subarray(0, 1) },
      { range: { firstByte: 65_530, lastByte: 65_545 }, expected: body.subarray(65_530, 65_546) },
      { range: { firstByte: 99_000 }, expected: body.subarray(99_000) },
      { range: { firstByte: 99_990, lastByte: 2_000_000 }, expected: body.subarray(99_990) },
      { range: { suffixLengthBytes: 10 }, expected: body.subarray(99_990) },
      { range: { suffixLengthBytes: 500_000 }, expected: body },
    ];
    for (const { range, expected } of cases) {
      const got = await harness.layer.objects.get({ bucket: bucketIdOf(tenant, 'photos'), key: 'k', range });
      t.deepEqual(await readAll(got.body), expected, JSON.stringify(range));
      t.is(got.range?.totalSizeBytes, 100_000);
    }
    t.deepEqual(
      await harness.layer.objects.partRange({
        bucket: bucketIdOf(tenant, 'photos'),
        key: 'k',
        partNumber: 1,
      }),
      { offsetBytes: 0, lengthBytes: 100_000 },
      'an object that is not multipart is its own part 1',
    );
    const unsatisfiable = await t.throwsAsync(
      harness.layer.objects.get({
        bucket: bucketIdOf(tenant, 'photos'),
        key: 'k',
        range: { firstByte: 100_000 },
      }),
    );
    t.true(isObjectError(unsatisfiable, 'InvalidRange'));
    t.is(
      (unsatisfiable as unknown as { details: { objectSizeBytes?: number } }).details.objectSizeBytes,
      100_000,
    );
  });
}

test('unversioned bucket: a second put replaces the "null" version and the old data is deleted from the store', async (t) => {
  const harness = await openHarness(t);
  await createBucket(harness, 'bkt');
  await harness.layer.objects.put({ bucket: bucketIdOf(tenant, 'bkt'), key: 'k', body: bodyOf('one') });
  await harness.layer.objects.put({ bucket: bucketIdOf(tenant, 'bkt'), key: 'k', body: bodyOf('two') });
  t.is(
    await readText((await harness.layer.objects.get({ bucket: bucketIdOf(tenant, 'bkt'), key: 'k' })).body),
    'two',
  );
  const listing = harness.layer.listing.listObjectVersions({ bucket: bucketIdOf(tenant, 'bkt') });
  t.deepEqual(
    listing.versions.map((version) => [version.versionId, version.isLatest]),
    [['null', true]],
  );
  t.is([...harness.memory!.entries.keys()].filter((key) => key.startsWith('["tenant-a/bkt"')).length, 1);
});

test('versioning Enabled: every put is a new version, newest first, each readable by its id', async (t) => {
  const harness = await openHarness(t);
  await createBucket(harness, 'bkt', { versioning: 'Enabled' });
  const ids = [];
  for (const text of ['v1', 'v2', 'v3']) {
    ids.push(
      (await harness.layer.objects.put({ bucket: bucketIdOf(tenant, 'bkt'), key: 'k', body: bodyOf(text) }))
        .versionId,
    );
  }
  t.is(new Set(ids).size, 3);
  t.deepEqual([...ids].sort(), ids, 'version ids sort in the order they were written');
  t.is(
    await readText((await harness.layer.objects.get({ bucket: bucketIdOf(tenant, 'bkt'), key: 'k' })).body),
    'v3',
  );
  t.is(
    await readText(
      (await harness.layer.objects.get({ bucket: bucketIdOf(tenant, 'bkt'), key: 'k', versionId: ids[0] }))
        .body,
    ),
    'v1',
  );
  const listing = harness.layer.listing.listObjectVersions({ bucket: bucketIdOf(tenant, 'bkt') });
  t.deepEqual(
    listing.versions.map((version) => [version.versionId, version.isLatest]),
    [
      [ids[2], true],
      [ids[1], false],
      [ids[0], false],
    ],
  );
});

test('versioning Enabled: a delete adds a delete marker; GET answers NoSuchKey with isDeleteMarker, old versions stay', async (t) => {
  const harness = await openHarness(t);
  await createBucket(harness, 'bkt', { versioning: 'Enabled' });
  const v1 = await harness.layer.objects.put({
    bucket: bucketIdOf(tenant, 'bkt'),
    key: 'k',
    body: bodyOf('v1'),
  });
  const deleted = await harness.layer.objects.delete({ bucket: bucketIdOf(tenant, 'bkt'), key: 'k' });
  t.true(deleted.isDeleteMarker);
  t.truthy(deleted.versionId);
  const error = await t.throwsAsync(
    harness.layer.objects.get({ bucket: bucketIdOf(tenant, 'bkt'), key: 'k' }),
  );
  t.true(isObjectError(error, 'NoSuchKey'));
  t.like((error as unknown as { details: object }).details, {
    isDeleteMarker: true,
    versionId: deleted.versionId,
  });
  const byMarkerId = await t.throwsAsync(
    harness.layer.objects.get({ bucket: bucketIdOf(tenant, 'bkt'), key: 'k', versionId: deleted.versionId }),
  );
  t.true(isObjectError(byMarkerId, 'MethodNotAllowed'));
  t.is(
    await readText(
      (
        await harness.layer.objects.get({
          bucket: bucketIdOf(tenant, 'bkt'),
          key: 'k',
          versionId: v1.versionId,
        })
      ).body,
    ),
    'v1',
  );
  t.deepEqual(harness.layer.listing.listObjectsV2({ bucket: bucketIdOf(tenant, 'bkt') }).contents, []);
  const versions = harness.layer.listing.listObjectVersions({ bucket: bucketIdOf(tenant, 'bkt') }).versions;
  t.deepEqual(
    versions.map((version) => [version.versionId, version.isDeleteMarker, version.isLatest]),
    [
      [deleted.versionId, true, true],
      [v1.versionId, false, false],
    ],
  );
  // Deleting the marker by its id brings the object back (S3's "undelete").
  const removed = await harness.layer.objects.delete({
    bucket: bucketIdOf(tenant, 'bkt'),
    key: 'k',
    versionId: deleted.versionId,
  });
  t.deepEqual(removed, { versionId: deleted.versionId, isDeleteMarker: true });
  t.is(
    await readText((await harness.layer.objects.get({ bucket: bucketIdOf(tenant, 'bkt'), key: 'k' })).body),
    'v1',
  );
});

test('versioning Suspended: puts and deletes use the "null" version, replacing the earlier null one, keeping Enabled-era versions', async (t) => {
  const harness = await openHarness(t);
  await createBucket(harness, 'bkt');
  await harness.layer.objects.put({
    bucket: bucketIdOf(tenant, 'bkt'),
    key: 'k',
    body: bodyOf('unversioned'),
  });
  await harness.layer.buckets.setVersioning(bucketIdOf(tenant, 'bkt'), 'Enabled');
  const kept = await harness.layer.objects.put({
    bucket: bucketIdOf(tenant, 'bkt'),
    key: 'k',
    body: bodyOf('enabled'),
  });
  await harness.layer.buckets.setVersioning(bucketIdOf(tenant, 'bkt'), 'Suspended');
  const suspended = await harness.layer.objects.put({
    bucket: bucketIdOf(tenant, 'bkt'),
    key: 'k',
    body: bodyOf('suspended'),
  });
  t.is(suspended.versionId, 'null');
  const versionsAfterPut = harness.layer.listing.listObjectVersions({
    bucket: bucketIdOf(tenant, 'bkt'),
  }).versions;
  t.deepEqual(
    versionsAfterPut.map((version) => version.versionId),
    ['null', kept.versionId],
    'the Suspended null version replaced the unversioned one and sorts as newest',
  );
  const marker = await harness.layer.objects.delete({ bucket: bucketIdOf(tenant, 'bkt'), key: 'k' });
  t.deepEqual(marker, { versionId: 'null', isDeleteMarker: true });
  const versionsAfterDelete = harness.layer.listing.listObjectVersions({
    bucket: bucketIdOf(tenant, 'bkt'),
  }).versions;
  t.deepEqual(
    versionsAfterDelete.map((version) => [version.versionId, version.isDeleteMarker]),
    [
      ['null', true],
      [kept.versionId, false],
    ],
  );
});

test('unversioned bucket: delete removes the object; deleting a missing key or version succeeds (idempotent); a malformed version id is InvalidArgument', async (t) => {
  const harness = await openHarness(t);
  await createBucket(harness, 'bkt');
  await harness.layer.objects.put({ bucket: bucketIdOf(tenant, 'bkt'), key: 'k', body: bodyOf('x') });
  t.deepEqual(await harness.layer.objects.delete({ bucket: bucketIdOf(tenant, 'bkt'), key: 'k' }), {
    isDeleteMarker: false,
  });
  t.true(
    isObjectError(
      await t.throwsAsync(harness.layer.objects.get({ bucket: bucketIdOf(tenant, 'bkt'), key: 'k' })),
      'NoSuchKey',
    ),
  );
  t.deepEqual(await harness.layer.objects.delete({ bucket: bucketIdOf(tenant, 'bkt'), key: 'k' }), {
    isDeleteMarker: false,
  });
  const wellFormedUnknown = '0000000000010000c0ffee01';
  t.deepEqual(
    await harness.layer.objects.delete({
      bucket: bucketIdOf(tenant, 'bkt'),
      key: 'k',
      versionId: wellFormedUnknown,
    }),
    {
      versionId: wellFormedUnknown,
      isDeleteMarker: false,
    },
  );
  const missingVersion = await t.throwsAsync(
    harness.layer.objects.get({ bucket: bucketIdOf(tenant, 'bkt'), key: 'k', versionId: wellFormedUnknown }),
  );
  t.true(isObjectError(missingVersion, 'NoSuchVersion'));
  // A version id this layer could never have minted is malformed, as S3 answers it.
  for (const attempt of [
    () => harness.layer.objects.get({ bucket: bucketIdOf(tenant, 'bkt'), key: 'k', versionId: 'nope' }),
    () => harness.layer.objects.delete({ bucket: bucketIdOf(tenant, 'bkt'), key: 'k', versionId: 'nope' }),
  ]) {
    t.true(isObjectError(await t.throwsAsync(attempt()), 'InvalidArgument'));
  }
});

test('verify hook: a rejected checksum stores nothing and keeps the previous version', async (t) => {
  const harness = await openHarness(t);
  await createBucket(harness, 'bkt');
  await harness.layer.objects.put({ bucket: bucketIdOf(tenant, 'bkt'), key: 'k', body: bodyOf('good') });
  const entriesBefore = harness.memory!.entries.size;
  let seen: { sizeBytes: number; md5Hex: string } | undefined;
  const error = await t.throwsAsync(
    harness.layer.objects.put({
      bucket: bucketIdOf(tenant, 'bkt'),
      key: 'k',
      body: bodyOf('bad body'),
      verify: (summary) => {
        seen = summary;
        throw new Error('XAmzContentChecksumMismatch');
      },
    }),
  );
  t.is(error.message, 'XAmzContentChecksumMismatch');
  t.deepEqual(seen, { sizeBytes: 8, md5Hex: md5Hex('bad body') });
  t.is(harness.memory!.entries.size, entriesBefore);
  t.is(
    await readText((await harness.layer.objects.get({ bucket: bucketIdOf(tenant, 'bkt'), key: 'k' })).body),
    'good',
  );
  t.is(harness.layer.objects.head({ bucket: bucketIdOf(tenant, 'bkt'), key: 'k' }).etag, md5Hex('good'));
});

test('a caller-supplied ETag is recorded instead of the MD5', async (t) => {
  const harness = await openHarness(t);
  await createBucket(harness, 'bkt');
  const put = await harness.layer.objects.put({
    bucket: bucketIdOf(tenant, 'bkt'),
    key: 'k',
    body: bodyOf('x'),
    etag: '"abc123"',
  });
  t.is(put.etag, 'abc123');
});

test('If-None-Match "*": refused with PreconditionFailed when the key exists, allowed after a delete marker', async (t) => {
  const harness = await openHarness(t);
  await createBucket(harness, 'bkt', { versioning: 'Enabled' });
  await harness.layer.objects.put({
    bucket: bucketIdOf(tenant, 'bkt'),
    key: 'k',
    body: bodyOf('1'),
    ifNoneMatch: '*',
  });
  const error = await t.throwsAsync(
    harness.layer.objects.put({
      bucket: bucketIdOf(tenant, 'bkt'),
      key: 'k',
      body: bodyOf('2'),
      ifNoneMatch: '*',
    }),
  );
  t.true(isObjectError(error, 'PreconditionFailed'));
  await harness.layer.objects.delete({ bucket: bucketIdOf(tenant, 'bkt'), key: 'k' });
  await t.notThrowsAsync(
    harness.layer.objects.put({
      bucket: bucketIdOf(tenant, 'bkt'),
      key: 'k',
      body: bodyOf('3'),
      ifNoneMatch: '*',
    }),
  );
});

test('If-None-Match "*": of concurrent conditional puts of one key, exactly one commits', async (t) => {
  const harness = await openHarness(t);
  await createBucket(harness, 'bkt', { versioning: 'Enabled' });
  // Slow bodies make the puts overlap: all pass the early check, then race to commit.
  const slowBody = async function* (text: string) {
    for (let index = 0; index < 5; index += 1) {
      await new Promise((resolve) => setImmediate(resolve));
      yield Buffer.from(text);
    }
  };
  const results = await Promise.allSettled(
    ['a', 'bkt', 'c', 'd'].map((text) =>
      harness.layer.objects.put({
        bucket: bucketIdOf(tenant, 'bkt'),
        key: 'k',
        body: slowBody(text),
        ifNoneMatch: '*',
      }),
    ),
  );
  t.is(results.filter((result) => result.status === 'fulfilled').length, 1);
  for (const result of results) {
    if (result.status === 'rejected') t.true(isObjectError(result.reason, 'PreconditionFailed'));
  }
  t.is(harness.layer.listing.listObjectVersions({ bucket: bucketIdOf(tenant, 'bkt') }).versions.length, 1);
});

test('If-Match: commits when the ETag matches, PreconditionFailed when not, NoSuchKey when there is no object', async (t) => {
  const harness = await openHarness(t);
  await createBucket(harness, 'bkt');
  const missing = await t.throwsAsync(
    harness.layer.objects.put({
      bucket: bucketIdOf(tenant, 'bkt'),
      key: 'k',
      body: bodyOf('1'),
      ifMatch: '"x"',
    }),
  );
  t.true(isObjectError(missing, 'NoSuchKey'));
  const first = await harness.layer.objects.put({
    bucket: bucketIdOf(tenant, 'bkt'),
    key: 'k',
    body: bodyOf('1'),
  });
  const wrong = await t.throwsAsync(
    harness.layer.objects.put({
      bucket: bucketIdOf(tenant, 'bkt'),
      key: 'k',
      body: bodyOf('2'),
      ifMatch: '"0000"',
    }),
  );
  t.true(isObjectError(wrong, 'PreconditionFailed'));
  await t.notThrowsAsync(
    harness.layer.objects.put({
      bucket: bucketIdOf(tenant, 'bkt'),
      key: 'k',
      body: bodyOf('2'),
      ifMatch: `"${first.etag}"`,
    }),
  );
});

test('conditional delete: If-Match decides on the current version (NoSuchKey without one, PreconditionFailed on another ETag); only a holding condition deletes', async (t) => {
  const harness = await openHarness(t);
  await createBucket(harness, 'plain');
  await createBucket(harness, 'versioned', { versioning: 'Enabled' });
  const plain = bucketIdOf(tenant, 'plain');
  const versioned = bucketIdOf(tenant, 'versioned');
  const missing = await t.throwsAsync(
    harness.layer.objects.delete({ bucket: plain, key: 'k', ifMatch: '*' }),
  );
  t.true(isObjectError(missing, 'NoSuchKey'));
  const object = await harness.layer.objects.put({ bucket: plain, key: 'k', body: bodyOf('1') });
  const wrong = await t.throwsAsync(
    harness.layer.objects.delete({ bucket: plain, key: 'k', ifMatch: '"0000"' }),
  );
  t.true(isObjectError(wrong, 'PreconditionFailed'));
  t.is(harness.layer.objects.head({ bucket: plain, key: 'k' }).etag, object.etag);
  // Quoted or not, and "*", as S3 compares ETags.
  t.deepEqual(await harness.layer.objects.delete({ bucket: plain, key: 'k', ifMatch: object.etag }), {
    isDeleteMarker: false,
  });
  t.true(
    isObjectError(
      t.throws(() => harness.layer.objects.head({ bucket: plain, key: 'k' })),
      'NoSuchKey',
    ),
  );

  const version = await harness.layer.objects.put({ bucket: versioned, key: 'k', body: bodyOf('1') });
  const marker = await harness.layer.objects.delete({ bucket: versioned, key: 'k', ifMatch: '*' });
  t.true(marker.isDeleteMarker);
  // A delete marker is no current object: neither "*" nor the hidden version's ETag holds.
  for (const ifMatch of ['*', `"${version.etag}"`]) {
    const hidden = await t.throwsAsync(
      harness.layer.objects.delete({ bucket: versioned, key: 'k', ifMatch }),
    );
    t.true(isObjectError(hidden, 'NoSuchKey'));
  }
  const history = harness.layer.listing.listObjectVersions({ bucket: versioned, prefix: 'k' }).versions;
  t.deepEqual(
    history.map((entry) => [entry.versionId, entry.isDeleteMarker]),
    [
      [marker.versionId, true],
      [version.versionId, false],
    ],
  );
  // With a versionId the condition has no meaning here: the protocol layer refuses the pair first.
  await t.throwsAsync(
    harness.layer.objects.delete({ bucket: versioned, key: 'k', versionId: version.versionId, ifMatch: '*' }),
    { message: /If-Match names the current version/ },
  );
  t.is(
    harness.layer.objects.head({ bucket: versioned, key: 'k', versionId: version.versionId }).etag,
    version.etag,
  );
});

test('copy: COPY keeps the source metadata and tags, REPLACE takes the new ones; data streams across', async (t) => {
  const harness = await openHarness(t);
  await createBucket(harness, 'source');
  await createBucket(harness, 'destination', { versioning: 'Enabled' });
  const data = patternBytes(50_000, 3);
  await harness.layer.objects.put({
    bucket: bucketIdOf(tenant, 'source'),
    key: 'k',
    body: bodyOf(data),
    headers: { contentType: 'text/plain' },
    userMetadata: { a: '1' },
    tags: { t: 'v' },
  });
  const copied = await harness.layer.copies.copyObject({
    source: { bucket: bucketIdOf(tenant, 'source'), key: 'k' },
    bucket: bucketIdOf(tenant, 'destination'),
    key: 'copy',
  });
  t.is(copied.sourceVersionId, 'null');
  t.is(copied.version.etag, md5Hex(data));
  t.deepEqual(copied.version.userMetadata, { a: '1' });
  t.deepEqual(copied.version.tags, { t: 'v' });
  t.deepEqual(
    await readAll(
      (await harness.layer.objects.get({ bucket: bucketIdOf(tenant, 'destination'), key: 'copy' })).body,
    ),
    data,
  );
  const replaced = await harness.layer.copies.copyObject({
    source: { bucket: bucketIdOf(tenant, 'source'), key: 'k' },
    bucket: bucketIdOf(tenant, 'destination'),
    key: 'copy',
    metadataDirective: 'REPLACE',
    headers: { contentType: 'application/json' },
    userMetadata: { b: '2' },
  });
  t.deepEqual(replaced.version.userMetadata, { b: '2' });
  t.is(replaced.version.headers.contentType, 'application/json');
  t.deepEqual(replaced.version.tags, { t: 'v' });
  const onto = await t.throwsAsync(
    harness.layer.copies.copyObject({
      source: { bucket: bucketIdOf(tenant, 'source'), key: 'k' },
      bucket: bucketIdOf(tenant, 'source'),
      key: 'k',
    }),
  );
  t.true(isObjectError(onto, 'InvalidRequest'), 'a copy onto itself that changes nothing is refused');
});

test('tagging: tags change in place (same version id, same ETag) and are validated', async (t) => {
  const harness = await openHarness(t);
  await createBucket(harness, 'bkt', { versioning: 'Enabled' });
  const put = await harness.layer.objects.put({
    bucket: bucketIdOf(tenant, 'bkt'),
    key: 'k',
    body: bodyOf('x'),
    tags: { a: '1' },
  });
  t.deepEqual(harness.layer.tagging.get({ bucket: bucketIdOf(tenant, 'bkt'), key: 'k' }), {
    tags: { a: '1' },
    versionId: put.versionId,
  });
  await harness.layer.tagging.put({ bucket: bucketIdOf(tenant, 'bkt'), key: 'k' }, { b: '2' });
  const head = harness.layer.objects.head({ bucket: bucketIdOf(tenant, 'bkt'), key: 'k' });
  t.deepEqual(head.tags, { b: '2' });
  t.is(head.versionId, put.versionId);
  t.is(head.etag, put.etag);
  const tooMany = Object.fromEntries(Array.from({ length: 11 }, (_, index) => [`k${index}`, 'v']));
  t.true(
    isObjectError(
      await t.throwsAsync(
        harness.layer.tagging.put({ bucket: bucketIdOf(tenant, 'bkt'), key: 'k' }, tooMany),
      ),
      'InvalidTag',
    ),
  );
  // The change survives an index rebuild: it is in the store's metadata, not only the index.
  await harness.layer.rebuildIndex();
  t.deepEqual(harness.layer.tagging.get({ bucket: bucketIdOf(tenant, 'bkt'), key: 'k' }).tags, { b: '2' });
});

test('Object Lock: a version under COMPLIANCE retention or legal hold cannot be deleted by id; GOVERNANCE yields to bypass', async (t) => {
  const harness = await openHarness(t);
  await harness.layer.buckets.create({ name: 'vault', ownerTenantId: 'tenant-a', objectLockEnabled: true });
  const day = 86_400_000;
  const compliance = await harness.layer.objects.put({
    bucket: bucketIdOf('tenant-a', 'vault'),
    key: 'c',
    body: bodyOf('c'),
    retention: { mode: 'COMPLIANCE', retainUntilMs: harness.clock.now() + day },
  });
  const governance = await harness.layer.objects.put({
    bucket: bucketIdOf('tenant-a', 'vault'),
    key: 'g',
    body: bodyOf('g'),
    retention: { mode: 'GOVERNANCE', retainUntilMs: harness.clock.now() + day },
  });
  const held = await harness.layer.objects.put({
    bucket: bucketIdOf('tenant-a', 'vault'),
    key: 'h',
    body: bodyOf('h'),
    legalHold: true,
  });
  for (const [key, versionId] of [
    ['c', compliance.versionId],
    ['g', governance.versionId],
    ['h', held.versionId],
  ]) {
    const error = await t.throwsAsync(
      harness.layer.objects.delete({ bucket: bucketIdOf('tenant-a', 'vault'), key, versionId }),
    );
    t.true(isObjectError(error, 'AccessDenied'), key);
  }
  await t.throwsAsync(
    harness.layer.objects.delete({
      bucket: bucketIdOf('tenant-a', 'vault'),
      key: 'c',
      versionId: compliance.versionId,
      bypassGovernanceRetention: true,
    }),
  );
  await t.notThrowsAsync(
    harness.layer.objects.delete({
      bucket: bucketIdOf('tenant-a', 'vault'),
      key: 'g',
      versionId: governance.versionId,
      bypassGovernanceRetention: true,
    }),
  );
  // A plain delete only adds a delete marker, which Object Lock allows.
  t.true(
    (await harness.layer.objects.delete({ bucket: bucketIdOf('tenant-a', 'vault'), key: 'c' }))
      .isDeleteMarker,
  );
  harness.clock.advance(day + 1);
  await t.notThrowsAsync(
    harness.layer.objects.delete({
      bucket: bucketIdOf('tenant-a', 'vault'),
      key: 'c',
      versionId: compliance.versionId,
    }),
  );
});

test('Object Lock: the bucket default retention applies to new versions; retention on a bucket without Object Lock is refused', async (t) => {
  const harness = await openHarness(t);
  await harness.layer.buckets.create({ name: 'vault', ownerTenantId: 'tenant-a', objectLockEnabled: true });
  await harness.layer.buckets.setObjectLockConfiguration(bucketIdOf('tenant-a', 'vault'), {
    mode: 'COMPLIANCE',
    days: 30,
  });
  const put = await harness.layer.objects.put({
    bucket: bucketIdOf('tenant-a', 'vault'),
    key: 'k',
    body: bodyOf('x'),
  });
  t.deepEqual(put.retention, { mode: 'COMPLIANCE', retainUntilMs: harness.clock.now() + 30 * 86_400_000 });
  await createBucket(harness, 'plain');
  const error = await t.throwsAsync(
    harness.layer.objects.put({
      bucket: bucketIdOf(tenant, 'plain'),
      key: 'k',
      body: bodyOf('x'),
      legalHold: true,
    }),
  );
  t.true(isObjectError(error, 'InvalidRequest'));
});

test('keys: empty, over 1024 UTF-8 bytes, or in a missing bucket are refused with S3 codes', async (t) => {
  const harness = await openHarness(t);
  await createBucket(harness, 'bkt');
  t.true(
    isObjectError(
      await t.throwsAsync(
        harness.layer.objects.put({ bucket: bucketIdOf(tenant, 'bkt'), key: '', body: bodyOf('') }),
      ),
      'InvalidArgument',
    ),
  );
  const long = 'é'.repeat(513);
  t.true(
    isObjectError(
      await t.throwsAsync(
        harness.layer.objects.put({ bucket: bucketIdOf(tenant, 'bkt'), key: long, body: bodyOf('') }),
      ),
      'KeyTooLongError',
    ),
  );
  t.true(
    isObjectError(
      await t.throwsAsync(harness.layer.objects.put({ bucket: 'nope', key: 'k', body: bodyOf('') })),
      'NoSuchBucket',
    ),
  );
});

test('version ids stay ordered when the wall clock steps back, also across a restart', async (t) => {
  const harness = await openHarness(t);
  await createBucket(harness, 'bkt', { versioning: 'Enabled' });
  const first = await harness.layer.objects.put({
    bucket: bucketIdOf(tenant, 'bkt'),
    key: 'k',
    body: bodyOf('1'),
  });
  harness.clock.advance(-3_600_000);
  const second = await harness.layer.objects.put({
    bucket: bucketIdOf(tenant, 'bkt'),
    key: 'k',
    body: bodyOf('2'),
  });
  await harness.reopen();
  const third = await harness.layer.objects.put({
    bucket: bucketIdOf(tenant, 'bkt'),
    key: 'k',
    body: bodyOf('3'),
  });
  t.true(first.versionId < second.versionId && second.versionId < third.versionId);
  t.is(
    await readText((await harness.layer.objects.get({ bucket: bucketIdOf(tenant, 'bkt'), key: 'k' })).body),
    '3',
  );
});
