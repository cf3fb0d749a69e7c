import test from 'ava';
import { isObjectError } from '../../agent/objects/errors.ts';
import type { ObjectLayer } from '../../agent/objects/object-layer.ts';
import { bucketIdOf } from '../../agent/objects/records.ts';
import { bodyOf, createBucket, type Harness, openHarness, storeKinds, tenant } from './helpers.ts';

const utf8Order = (left: string, right: string) => Buffer.compare(Buffer.from(left), Buffer.from(right));

async function putKeys(harness: Harness, bucket: string, keys: string[]): Promise<void> {
  for (const key of keys) await harness.layer.objects.put({ bucket, key, body: bodyOf(key) });
}

const treeKeys = [
  'a.txt',
  'docs/2024/jan.pdf',
  'docs/2024/feb.pdf',
  'docs/2025/mar.pdf',
  'docs/readme.md',
  'docs-old/x',
  'photos/cat.jpg',
  'photos/dog.jpg',
  'z',
];

const prefixDelimiterCases: { prefix?: string; delimiter?: string; keys: string[]; prefixes: string[] }[] = [
  { keys: [...treeKeys].sort(utf8Order), prefixes: [] },
  { delimiter: '/', keys: ['a.txt', 'z'], prefixes: ['docs-old/', 'docs/', 'photos/'] },
  { prefix: 'docs/', delimiter: '/', keys: ['docs/readme.md'], prefixes: ['docs/2024/', 'docs/2025/'] },
  { prefix: 'docs/2024/', delimiter: '/', keys: ['docs/2024/feb.pdf', 'docs/2024/jan.pdf'], prefixes: [] },
  { prefix: 'docs', delimiter: '/', keys: [], prefixes: ['docs-old/', 'docs/'] },
  {
    prefix: 'docs',
    keys: ['docs-old/x', 'docs/2024/feb.pdf', 'docs/2024/jan.pdf', 'docs/2025/mar.pdf', 'docs/readme.md'],
    prefixes: [],
  },
  { prefix: 'nothing/', delimiter: '/', keys: [], prefixes: [] },
  {
    delimiter: '.',
    keys: ['docs-old/x', 'z'],
    prefixes: [
      'a.',
      'docs/2024/feb.',
      'docs/2024/jan.',
      'docs/2025/mar.',
      'docs/readme.',
      'photos/cat.',
      'photos/dog.',
    ],
  },
  {
    delimiter: 'docs/',
    keys: ['a.txt', 'docs-old/x', 'photos/cat.jpg', 'photos/dog.jpg', 'z'],
    prefixes: ['docs/'],
  },
  { prefix: 'photos/cat.jpg', delimiter: '/', keys: ['photos/cat.jpg'], prefixes: [] },
];

for (const kind of storeKinds) {
  test(`ListObjectsV2 prefix and delimiter table (${kind} store): Contents and CommonPrefixes as S3 returns them`, async (t) => {
    const harness = await openHarness(t, kind);
    await createBucket(harness, 'tree');
    await putKeys(harness, bucketIdOf(tenant, 'tree'), treeKeys);
    for (const { prefix, delimiter, keys, prefixes } of prefixDelimiterCases) {
      const result = harness.layer.listing.listObjectsV2({
        bucket: bucketIdOf(tenant, 'tree'),
        prefix,
        delimiter,
      });
      const label = JSON.stringify({ prefix, delimiter });
      t.deepEqual(
        result.contents.map((entry) => entry.key),
        keys,
        label,
      );
      t.deepEqual(result.commonPrefixes, [...prefixes].sort(utf8Order), label);
      t.false(result.isTruncated, label);
      t.is(result.keyCount, keys.length + prefixes.length, label);
    }
  });
}

test('ListObjectsV2 entries carry size, ETag, last-modified and storage class', async (t) => {
  const harness = await openHarness(t);
  await createBucket(harness, 'tree');
  const put = await harness.layer.objects.put({
    bucket: bucketIdOf(tenant, 'tree'),
    key: 'k',
    body: bodyOf('hello'),
  });
  t.deepEqual(harness.layer.listing.listObjectsV2({ bucket: bucketIdOf(tenant, 'tree') }).contents, [
    { key: 'k', sizeBytes: 5, etag: put.etag, lastModifiedMs: put.lastModifiedMs, storageClass: 'STANDARD' },
  ]);
});

const awkwardKeys = [
  '../etc/passwd',
  './a',
  '%2F',
  '%',
  'a+b',
  'a b',
  'a/b/../c',
  'été',
  'ｆｕｌｌ',
  '😀 emoji',
  '\u0001control',
  'a/',
  'a//b',
  '日本語/ファイル',
  '~tilde',
  'Z-upper',
];

test('keys with "../", "%", "+", spaces and non-ASCII list in UTF-8 byte order (not UTF-16 order)', async (t) => {
  const harness = await openHarness(t);
  await createBucket(harness, 'odd');
  await putKeys(harness, bucketIdOf(tenant, 'odd'), awkwardKeys);
  const listed = harness.layer.listing
    .listObjectsV2({ bucket: bucketIdOf(tenant, 'odd') })
    .contents.map((entry) => entry.key);
  t.deepEqual(listed, [...awkwardKeys].sort(utf8Order));
  // U+FF46 sorts before U+1F600 in UTF-8 bytes, after it in UTF-16 code units.
  t.true(listed.indexOf('ｆｕｌｌ') < listed.indexOf('😀 emoji'));
  for (const key of awkwardKeys)
    t.is(
      harness.layer.objects.head({ bucket: bucketIdOf(tenant, 'odd'), key }).sizeBytes,
      Buffer.byteLength(key),
    );
  const underEmojiPrefix = harness.layer.listing.listObjectsV2({
    bucket: bucketIdOf(tenant, 'odd'),
    prefix: '😀',
  }).contents;
  t.deepEqual(
    underEmojiPrefix.map((entry) => entry.key),
    ['😀 emoji'],
  );
});

/** Pages through ListObjectsV2 with continuation tokens; returns every name (keys and prefixes) seen. */
function pageV2(
  layer: ObjectLayer,
  input: { bucket: string; prefix?: string; delimiter?: string; maxKeys: number },
) {
  const names: string[] = [];
  let token: string | undefined;
  let pages = 0;
  do {
    const page = layer.listing.listObjectsV2({ ...input, continuationToken: token });
    pages += 1;
    const pageNames = [...page.contents.map((entry) => entry.key), ...page.commonPrefixes].sort(utf8Order);
    names.push(...pageNames);
    if (page.isTruncated && page.keyCount !== input.maxKeys) throw new Error('a truncated page must be full');
    token = page.nextContinuationToken;
    if (page.isTruncated !== (token !== undefined)) throw new Error('token iff truncated');
  } while (token !== undefined);
  return { names, pages };
}

test('pagination over many pages returns every key exactly once, in order (v2 tokens and v1 markers)', async (t) => {
  const harness = await openHarness(t);
  await createBucket(harness, 'many');
  const keys: string[] = [];
  for (let folder = 0; folder < 12; folder += 1) {
    for (let file = 0; file < 25; file += 1) keys.push(`dir${String(folder).padStart(2, '0')}/file-${file}`);
  }
  keys.push(...awkwardKeys);
  await putKeys(harness, bucketIdOf(tenant, 'many'), keys);
  const expected = [...keys].sort(utf8Order);
  for (const maxKeys of [1, 7, 100, 1000]) {
    const { names, pages } = pageV2(harness.layer, { bucket: bucketIdOf(tenant, 'many'), maxKeys });
    t.deepEqual(names, expected, `maxKeys ${maxKeys}`);
    t.is(pages, Math.max(1, Math.ceil(expected.length / maxKeys)));
  }
  // With a delimiter, folders come back as one common prefix each, across page boundaries.
  const folders = pageV2(harness.layer, {
    bucket: bucketIdOf(tenant, 'many'),
    delimiter: '/',
    maxKeys: 3,
  }).names;
  const expectedFolders = [
    ...new Set(expected.map((key) => (key.includes('/') ? key.slice(0, key.indexOf('/') + 1) : key))),
  ];
  t.deepEqual(folders, expectedFolders.sort(utf8Order));
  // v1: NextMarker (with a delimiter) or the last key (without) continues the listing.
  for (const delimiter of [undefined, '/']) {
    const seen: string[] = [];
    let marker: string | undefined;
    for (;;) {
      const page = harness.layer.listing.listObjects({
        bucket: bucketIdOf(tenant, 'many'),
        delimiter,
        maxKeys: 5,
        marker,
      });
      seen.push(...[...page.contents.map((entry) => entry.key), ...page.commonPrefixes].sort(utf8Order));
      if (!page.isTruncated) break;
      t.is(page.nextMarker !== undefined, delimiter !== undefined, 'NextMarker only with a delimiter');
      marker = page.nextMarker ?? page.contents.at(-1)!.key;
    }
    t.deepEqual(seen, delimiter ? expectedFolders.sort(utf8Order) : expected, `v1 delimiter ${delimiter}`);
  }
});

test('start-after and marker: listing resumes strictly after them; a marker equal to a common prefix skips it', async (t) => {
  const harness = await openHarness(t);
  await createBucket(harness, 'tree');
  await putKeys(harness, bucketIdOf(tenant, 'tree'), treeKeys);
  const afterDocs = harness.layer.listing.listObjectsV2({
    bucket: bucketIdOf(tenant, 'tree'),
    startAfter: 'docs/2024/jan.pdf',
  });
  t.deepEqual(
    afterDocs.contents.map((entry) => entry.key),
    ['docs/2025/mar.pdf', 'docs/readme.md', 'photos/cat.jpg', 'photos/dog.jpg', 'z'],
  );
  const afterPrefix = harness.layer.listing.listObjects({
    bucket: bucketIdOf(tenant, 'tree'),
    delimiter: '/',
    marker: 'docs/',
  });
  t.deepEqual(afterPrefix.commonPrefixes, ['photos/']);
  t.deepEqual(
    afterPrefix.contents.map((entry) => entry.key),
    ['z'],
  );
  const tokenWins = harness.layer.listing.listObjectsV2({ bucket: bucketIdOf(tenant, 'tree'), maxKeys: 2 });
  const next = harness.layer.listing.listObjectsV2({
    bucket: bucketIdOf(tenant, 'tree'),
    startAfter: 'photos/',
    continuationToken: tokenWins.nextContinuationToken,
  });
  t.is(next.contents[0].key, 'docs/2024/feb.pdf', 'the continuation token takes precedence over start-after');
});

test('max-keys: 0 returns nothing, above 1000 is capped at 1000, negative is InvalidArgument; a bad token is refused', async (t) => {
  const harness = await openHarness(t);
  await createBucket(harness, 'tree');
  await putKeys(harness, bucketIdOf(tenant, 'tree'), treeKeys);
  const none = harness.layer.listing.listObjectsV2({ bucket: bucketIdOf(tenant, 'tree'), maxKeys: 0 });
  t.is(none.keyCount, 0);
  t.false(none.isTruncated);
  t.is(none.nextContinuationToken, undefined);
  t.false(
    harness.layer.listing.listObjectVersions({ bucket: bucketIdOf(tenant, 'tree'), maxKeys: 0 }).isTruncated,
  );
  t.is(
    harness.layer.listing.listObjectsV2({ bucket: bucketIdOf(tenant, 'tree'), maxKeys: 5000 }).keyCount,
    treeKeys.length,
  );
  t.true(
    isObjectError(
      t.throws(() =>
        harness.layer.listing.listObjectsV2({ bucket: bucketIdOf(tenant, 'tree'), maxKeys: -1 }),
      ),
      'InvalidArgument',
    ),
  );
  t.true(
    isObjectError(
      t.throws(() =>
        harness.layer.listing.listObjectsV2({
          bucket: bucketIdOf(tenant, 'tree'),
          continuationToken: 'not-a-token!',
        }),
      ),
      'InvalidArgument',
    ),
  );
  t.true(
    isObjectError(
      t.throws(() => harness.layer.listing.listObjectsV2({ bucket: 'missing' })),
      'NoSuchBucket',
    ),
  );
});

test('ListObjectVersions pages by key-marker and version-id-marker through every version exactly once, newest first per key', async (t) => {
  const harness = await openHarness(t);
  await createBucket(harness, 'ver', { versioning: 'Enabled' });
  const expected: { key: string; versionId: string; isDeleteMarker: boolean }[] = [];
  for (const key of ['alpha', 'beta/one', 'beta/two', 'gamma']) {
    const versions = [];
    for (let index = 0; index < 4; index += 1) {
      if (key === 'gamma' && index === 2) {
        const marker = await harness.layer.objects.delete({ bucket: bucketIdOf(tenant, 'ver'), key });
        versions.push({ key, versionId: marker.versionId!, isDeleteMarker: true });
      } else {
        const put = await harness.layer.objects.put({
          bucket: bucketIdOf(tenant, 'ver'),
          key,
          body: bodyOf(`${key}${index}`),
        });
        versions.push({ key, versionId: put.versionId, isDeleteMarker: false });
      }
    }
    expected.push(...versions.reverse());
  }
  for (const maxKeys of [1, 3, 5, 1000]) {
    const seen: typeof expected = [];
    const latest: string[] = [];
    let keyMarker: string | undefined;
    let versionIdMarker: string | undefined;
    for (;;) {
      const page = harness.layer.listing.listObjectVersions({
        bucket: bucketIdOf(tenant, 'ver'),
        maxKeys,
        keyMarker,
        versionIdMarker,
      });
      for (const version of page.versions) {
        seen.push({ key: version.key, versionId: version.versionId, isDeleteMarker: version.isDeleteMarker });
        if (version.isLatest) latest.push(`${version.key}@${version.versionId}`);
      }
      if (!page.isTruncated) break;
      keyMarker = page.nextKeyMarker;
      versionIdMarker = page.nextVersionIdMarker;
    }
    t.deepEqual(seen, expected, `maxKeys ${maxKeys}`);
    t.deepEqual(
      latest,
      ['alpha', 'beta/one', 'beta/two', 'gamma'].map((key) => {
        const newest = expected.find((entry) => entry.key === key)!;
        return `${key}@${newest.versionId}`;
      }),
      `exactly one latest version per key (maxKeys ${maxKeys})`,
    );
  }
  const grouped = harness.layer.listing.listObjectVersions({
    bucket: bucketIdOf(tenant, 'ver'),
    delimiter: '/',
  });
  t.deepEqual(grouped.commonPrefixes, ['beta/']);
  t.deepEqual([...new Set(grouped.versions.map((version) => version.key))], ['alpha', 'gamma']);
  t.true(
    isObjectError(
      t.throws(() =>
        harness.layer.listing.listObjectVersions({
          bucket: bucketIdOf(tenant, 'ver'),
          versionIdMarker: expected[0].versionId,
        }),
      ),
      'InvalidArgument',
    ),
  );
});

test('a folder whose keys are all deleted (delete markers on top) is not listed as a common prefix', async (t) => {
  const harness = await openHarness(t);
  await createBucket(harness, 'ver', { versioning: 'Enabled' });
  await putKeys(harness, bucketIdOf(tenant, 'ver'), ['gone/a', 'gone/b', 'kept/a']);
  await harness.layer.objects.delete({ bucket: bucketIdOf(tenant, 'ver'), key: 'gone/a' });
  await harness.layer.objects.delete({ bucket: bucketIdOf(tenant, 'ver'), key: 'gone/b' });
  t.deepEqual(
    harness.layer.listing.listObjectsV2({ bucket: bucketIdOf(tenant, 'ver'), delimiter: '/' }).commonPrefixes,
    ['kept/'],
  );
  // ListObjectVersions still shows the folder: it holds versions and delete markers.
  t.deepEqual(
    harness.layer.listing.listObjectVersions({ bucket: bucketIdOf(tenant, 'ver'), delimiter: '/' })
      .commonPrefixes,
    ['gone/', 'kept/'],
  );
});

test('ListObjectVersions resumes after a "null" version id marker (a Suspended-era version between others)', async (t) => {
  const harness = await openHarness(t);
  await createBucket(harness, 'ver', { versioning: 'Enabled' });
  const first = await harness.layer.objects.put({
    bucket: bucketIdOf(tenant, 'ver'),
    key: 'k',
    body: bodyOf('1'),
  });
  await harness.layer.buckets.setVersioning(bucketIdOf(tenant, 'ver'), 'Suspended');
  await harness.layer.objects.put({ bucket: bucketIdOf(tenant, 'ver'), key: 'k', body: bodyOf('2') });
  await harness.layer.buckets.setVersioning(bucketIdOf(tenant, 'ver'), 'Enabled');
  const third = await harness.layer.objects.put({
    bucket: bucketIdOf(tenant, 'ver'),
    key: 'k',
    body: bodyOf('3'),
  });
  const ids: string[] = [];
  let keyMarker: string | undefined;
  let versionIdMarker: string | undefined;
  for (;;) {
    const page = harness.layer.listing.listObjectVersions({
      bucket: bucketIdOf(tenant, 'ver'),
      maxKeys: 1,
      keyMarker,
      versionIdMarker,
    });
    ids.push(...page.versions.map((version) => version.versionId));
    if (!page.isTruncated) break;
    keyMarker = page.nextKeyMarker;
    versionIdMarker = page.nextVersionIdMarker;
  }
  t.deepEqual(ids, [third.versionId, 'null', first.versionId]);
});
