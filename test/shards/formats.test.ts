import { createHash } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { crc32 } from 'node:zlib';
import test from 'ava';
import {
  decodeDriveFormat,
  decodeShardHeader,
  decodeVersionRecord,
  encodeVersionRecord,
  shardHeaderBytes,
} from '../../agent/shards/formats.ts';
import { openErasureSet, StoreError } from '../../agent/shards/index.ts';
import { Geometry, ShardFileLayout, versionDirectory } from '../../agent/shards/layout.ts';
import { databaseRecords, filesUnder, makeDriveDirectories, readAll } from './helpers.ts';

// fixtures/v1, v2 and v3 were written by fixtures/make-sample.ts and are frozen: these tests
// prove that today's code still reads them. v1 (until 29 Nov 2026) keeps each record in a `meta`
// file of its version directory; v2 keeps them in each drive's record database
// (records/records.db); v3 (30 Nov 2026) has shard files in format version 2 (aligned, checksum
// pages) and a fourth version, of two checksum page groups. The contents are pinned by their SHA-256.
const sampleDirectory = join(import.meta.dirname, 'fixtures', 'v1');
const sample = [
  {
    address: { bucket: 'sample', key: 'inline ../%', versionId: 'v1' },
    sizeBytes: 300,
    sha256: 'a54441d89b98fd52c88d23aaaa10ad559ea09de2c05709dac45efc02cf9d75d9',
    metadata: { label: 'inline', contentType: 'application/octet-stream' },
  },
  {
    address: { bucket: 'sample', key: 'two-blocks', versionId: 'v1' },
    sizeBytes: 9_000,
    sha256: 'd1c484c041833106e0054f064df3ad745ee0d4e92ff85dc2257c0c587c914958',
    metadata: { label: 'blocks', contentType: 'application/octet-stream', retainUntilMs: 1_800_000_000_000 },
  },
  {
    address: { bucket: 'sample', key: 'empty', versionId: 'null' },
    sizeBytes: 0,
    sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    metadata: { label: 'empty', contentType: 'application/octet-stream' },
  },
];
const twoGroups = {
  address: { bucket: 'sample', key: 'two-groups', versionId: 'v1' },
  sizeBytes: 17 * 4096 + 1,
  sha256: 'cbc95f01fe008a9f5dfe5a8e2de420c2e847b40beb3e34ee53c7427887bc0099',
  metadata: { label: 'groups', contentType: 'application/octet-stream' },
};
const samples = {
  v1: { directory: sampleDirectory, versions: sample },
  v2: { directory: join(import.meta.dirname, 'fixtures', 'v2'), versions: sample },
  v3: { directory: join(import.meta.dirname, 'fixtures', 'v3'), versions: [...sample, twoGroups] },
};

async function copySample(
  t: Parameters<typeof makeDriveDirectories>[0],
  directory: string = sampleDirectory,
): Promise<string[]> {
  const drives = await makeDriveDirectories(t);
  for (const [index, drive] of drives.entries())
    await cp(join(directory, `drive-${index}`), drive, { recursive: true });
  return drives;
}

for (const [name, { directory, versions }] of Object.entries(samples)) {
  test(`format ${name}: a committed sample erasure set opens and every version reads back byte-identical`, async (t) => {
    const drives = await copySample(t, directory);
    const set = await openErasureSet({ drives });
    t.teardown(() => set.close());
    for (const expected of versions) {
      const { version, body } = await set.readVersion(expected.address);
      t.is(version.sizeBytes, expected.sizeBytes);
      t.deepEqual(version.metadata, expected.metadata);
      t.is(
        createHash('sha256')
          .update(await readAll(body))
          .digest('hex'),
        expected.sha256,
      );
    }
    const listed = [];
    for await (const version of set.listVersions()) listed.push(version.address.key);
    t.deepEqual(listed.sort(), versions.map((entry) => entry.address.key).sort());
  });

  test(`format ${name}: with m drives of the sample gone, the versions still read (its parity decodes)`, async (t) => {
    const drives = await copySample(t, directory);
    await rm(drives[0], { recursive: true });
    await rm(drives[1], { recursive: true });
    const set = await openErasureSet({ drives });
    t.teardown(() => set.close());
    for (const expected of versions) {
      const { body } = await set.readVersion(expected.address);
      t.is(
        createHash('sha256')
          .update(await readAll(body))
          .digest('hex'),
        expected.sha256,
      );
    }
  });
}

test('format v1: each file of the sample begins with its magic and version 1 and decodes', async (t) => {
  const files = await filesUnder(join(sampleDirectory, 'drive-0'));
  const read = (path: string) => readFile(join(sampleDirectory, 'drive-0', path));
  const format = await read('format');
  t.is(format.subarray(0, 8).toString('latin1'), 'COFFREDF');
  t.is(format.readUInt16BE(8), 1);
  t.like(decodeDriveFormat(format), { driveIndex: 0, driveCount: 6, dataShards: 4, parityShards: 2 });
  const records = files.filter((path) => path.endsWith('/meta'));
  t.is(records.length, 3);
  for (const path of records) {
    const bytes = await read(path);
    t.is(bytes.subarray(0, 8).toString('latin1'), 'COFFREVM');
    t.is(bytes.readUInt16BE(8), 1);
    t.is(decodeVersionRecord(bytes).record.bucket, 'sample');
  }
  const shards = files.filter((path) => path.includes('/shard.'));
  t.is(shards.length, 1);
  const shard = await read(shards[0]);
  t.is(shard.subarray(0, 8).toString('latin1'), 'COFFRESH');
  t.is(shard.readUInt16BE(8), 1);
  t.like(decodeShardHeader(shard.subarray(0, shardHeaderBytes)), {
    dataShards: 4,
    parityShards: 2,
    blockSizeBytes: 4096,
    dataId: '00000000-0000-4000-8000-000000000003',
  });
});

test('format v2: the sample records are rows of each drive record database, CFRD version 1, and decode', async (t) => {
  const drive = join(samples.v2.directory, 'drive-0');
  const files = await filesUnder(drive);
  t.deepEqual(
    files.filter((path) => path.endsWith('/meta')),
    [],
    'no record files',
  );
  // Opened in a copy: even a read-only open of a WAL database writes its -shm beside it, and the
  // frozen sample must stay as committed.
  const copy = await mkdtemp(join(tmpdir(), 'coffre-v2-sample-'));
  t.teardown(() => rm(copy, { recursive: true, force: true }));
  await cp(join(drive, 'records', 'records.db'), join(copy, 'records.db'));
  const database = new DatabaseSync(join(copy, 'records.db'), { readOnly: true });
  t.teardown(() => database.close());
  t.is(
    (database.prepare('PRAGMA application_id').get() as { application_id: number }).application_id,
    0x43465244,
  );
  t.is((database.prepare('PRAGMA user_version').get() as { user_version: number }).user_version, 1);
  const rows = database.prepare('SELECT directory, record FROM records').all() as {
    directory: string;
    record: Uint8Array;
  }[];
  t.deepEqual(
    rows.map((row) => row.directory).sort(),
    sample.map((entry) => versionDirectory(entry.address)).sort(),
  );
  for (const row of rows) {
    const bytes = Buffer.from(row.record);
    t.is(bytes.subarray(0, 8).toString('latin1'), 'COFFREVM');
    t.is(decodeVersionRecord(bytes).record.bucket, 'sample');
  }
  t.is(
    files.filter((path) => path.includes('/shard.')).length,
    1,
    'the one version past the inline threshold',
  );
});

test('format v3: shard files are format version 2: a header page, shards padded to pages, a checksum page per 16 blocks', async (t) => {
  const drive = join(samples.v3.directory, 'drive-0');
  const shards = (await filesUnder(drive)).filter((path) => path.includes('/shard.'));
  t.is(shards.length, 2, 'two-blocks and two-groups');
  for (const path of shards) {
    const bytes = await readFile(join(drive, path));
    const header = decodeShardHeader(bytes.subarray(0, shardHeaderBytes));
    t.like(header, { formatVersion: 2, dataShards: 4, parityShards: 2, blockSizeBytes: 4096 });
    t.is(bytes.readUInt16BE(14), 16, 'blocks per checksum page');
    t.true(
      bytes.subarray(shardHeaderBytes, 4096).every((byte) => byte === 0),
      'the header page is padded with zeros',
    );
    const sizeBytes = path.includes(versionDirectory(twoGroups.address))
      ? twoGroups.sizeBytes
      : sample[1].sizeBytes;
    const layout = new ShardFileLayout(new Geometry(sizeBytes, 4096, 4), 2);
    t.is(bytes.byteLength, layout.fileBytes());
    t.is(bytes.byteLength % 4096, 0);
    // Every block's CRC-32 is in its group's page, in order; its padding is zeros.
    for (let blockIndex = 0; blockIndex < layout.geometry.blockCount; blockIndex += 1) {
      const offset = layout.blockOffset(blockIndex);
      t.is(offset % 4096, 0);
      const shardBytes = layout.geometry.shardBytes(blockIndex);
      const page = layout.checksumPageOffset(layout.groupOf(blockIndex));
      t.is(
        bytes.readUInt32BE(page + (blockIndex % 16) * 4),
        crc32(bytes.subarray(offset, offset + shardBytes)),
      );
      t.true(
        bytes
          .subarray(offset + shardBytes, offset + layout.storedBlockBytes(blockIndex))
          .every((byte) => byte === 0),
      );
    }
  }
});

test('format v1 upgraded: untouched versions are still read from their files; a changed one moves to the database and survives a reopen', async (t) => {
  const drives = await copySample(t);
  const changed = sample[1].address;
  const set = await openErasureSet({ drives });
  await set.updateMetadata(changed, (old) => ({ ...old, label: 'changed after the upgrade' }));
  await set.checkpoint();
  for (const drive of drives) {
    t.deepEqual([...databaseRecords(drive).keys()], [versionDirectory(changed)]);
    const file = await readFile(join(drive, versionDirectory(changed), 'meta'));
    t.is(decodeVersionRecord(file).record.metadata.label, 'blocks', 'the old file is left, shadowed');
  }
  await set.close();
  const reopened = await openErasureSet({ drives });
  t.teardown(() => reopened.close());
  for (const expected of sample) {
    const { version, body } = await reopened.readVersion(expected.address);
    t.deepEqual(
      version.metadata,
      expected.address === changed
        ? { ...expected.metadata, label: 'changed after the upgrade' }
        : expected.metadata,
    );
    t.is(
      createHash('sha256')
        .update(await readAll(body))
        .digest('hex'),
      expected.sha256,
    );
  }
  await reopened.deleteVersion(sample[0].address);
  await reopened.checkpoint();
  t.is(await reopened.statVersion(sample[0].address), null, 'a version read from its files can be removed');
  for (const drive of drives) await t.throwsAsync(stat(join(drive, versionDirectory(sample[0].address))));
});

test('formats: a record with a wrong magic, a future version or a flipped bit is CORRUPT', (t) => {
  const record = {
    bucket: 'b',
    key: 'k',
    versionId: 'v',
    sizeBytes: 0,
    dataId: '00000000-0000-4000-8000-000000000000',
    committedAtMs: 0,
    metadataRevision: 0,
    updatedAtMs: 0,
    inline: true,
    erasure: {
      dataShards: 4,
      parityShards: 2,
      blockSizeBytes: 1,
      distribution: [0],
      checksumAlgorithm: 'crc32' as const,
    },
    metadata: {},
  };
  const good = Buffer.from(encodeVersionRecord(record, new Uint8Array(0)));
  t.deepEqual(decodeVersionRecord(good).record, record);
  const damaged = [Buffer.from(good), Buffer.from(good), Buffer.from(good)];
  damaged[0][0] = 0x58;
  damaged[1].writeUInt16BE(2, 8);
  damaged[2][30] ^= 1;
  for (const bytes of damaged) t.throws(() => decodeVersionRecord(bytes), { instanceOf: StoreError });
});
