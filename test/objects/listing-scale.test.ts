import test from 'ava';
import { bucketIdOf, type ObjectVersionRecord, toMetadata } from '../../agent/objects/records.ts';
import { bodyOf, createBucket, openHarness, tenant } from './helpers.ts';

const utf8Order = (left: string, right: string) => Buffer.compare(Buffer.from(left), Buffer.from(right));
const folderCount = 200;
const filesPerFolder = 100;

function versionRecord(key: string, sequence: string): ObjectVersionRecord {
  return {
    bucket: bucketIdOf(tenant, 'scale'),
    key,
    versionId: 'null',
    sequence,
    isDeleteMarker: false,
    sizeBytes: 0,
    etag: 'd41d8cd98f00b204e9800998ecf8427e',
    lastModifiedMs: 0,
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

test('scale: 20,000 keys written to the store, indexed by a rebuild, page out every key exactly once in UTF-8 order', async (t) => {
  const harness = await openHarness(t);
  await createBucket(harness, 'scale');
  // The keys go straight into the store (as a replica or a restore would put them), then the
  // index is rebuilt from it: 20,000 layer puts would mostly measure fsyncs.
  const keys: string[] = [];
  for (let folder = 0; folder < folderCount; folder += 1) {
    for (let file = 0; file < filesPerFolder; file += 1) {
      const key = `${folder % 2 === 0 ? 'é' : 'e'}${String(folder).padStart(3, '0')}/${file}.dat`;
      keys.push(key);
      const sequence = `${(1_000_000 + keys.length).toString(16).padStart(16, '0')}0000c0f1`;
      const record = versionRecord(key, sequence);
      await harness.store.writeVersion(
        { bucket: bucketIdOf(tenant, 'scale'), key, versionId: sequence },
        bodyOf(),
        {
          finalize: () => toMetadata({ kind: 'object-version', record }),
        },
      );
    }
  }
  const report = await harness.layer.rebuildIndex();
  t.is(report.versions, keys.length);
  const expected = [...keys].sort(utf8Order);

  const seen: string[] = [];
  let token: string | undefined;
  let pages = 0;
  do {
    const page = harness.layer.listing.listObjectsV2({
      bucket: bucketIdOf(tenant, 'scale'),
      continuationToken: token,
    });
    pages += 1;
    seen.push(...page.contents.map((entry) => entry.key));
    token = page.nextContinuationToken;
  } while (token !== undefined);
  t.is(pages, keys.length / 1000);
  t.deepEqual(seen, expected);

  const folders: string[] = [];
  token = undefined;
  do {
    const page = harness.layer.listing.listObjectsV2({
      bucket: bucketIdOf(tenant, 'scale'),
      delimiter: '/',
      maxKeys: 37,
      continuationToken: token,
    });
    t.deepEqual(page.contents, []);
    folders.push(...page.commonPrefixes);
    token = page.nextContinuationToken;
  } while (token !== undefined);
  t.deepEqual(folders, [...new Set(expected.map((key) => key.slice(0, key.indexOf('/') + 1)))]);
  t.is(folders.length, folderCount);

  const inFolder = harness.layer.listing.listObjectsV2({
    bucket: bucketIdOf(tenant, 'scale'),
    prefix: 'é100/',
    maxKeys: 10,
  });
  t.deepEqual(
    inFolder.contents.map((entry) => entry.key),
    expected.filter((key) => key.startsWith('é100/')).slice(0, 10),
  );
  t.true(inFolder.isTruncated);

  // The layer keeps working on top of the rebuilt index.
  await harness.layer.objects.put({
    bucket: bucketIdOf(tenant, 'scale'),
    key: 'e000/0.dat',
    body: bodyOf('replaced'),
  });
  t.is(harness.layer.objects.head({ bucket: bucketIdOf(tenant, 'scale'), key: 'e000/0.dat' }).sizeBytes, 8);
  t.is(
    harness.layer.listing.listObjectVersions({ bucket: bucketIdOf(tenant, 'scale'), prefix: 'e000/0.dat' })
      .versions.length,
    1,
  );
});
