import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { FaultyDrive, LocalDrive } from '../../agent/disk/index.ts';
import { openErasureSet, StoreError } from '../../agent/shards/index.ts';
import { versionDirectory } from '../../agent/shards/layout.ts';
import {
  bodyOf,
  databaseRecords,
  filesBesideRecords,
  filesUnder,
  makeDriveDirectories,
  noMetadata,
  patternBytes,
  readAll,
} from './helpers.ts';

const kibibyte = 1024;
const mebibyte = 1024 * kibibyte;

const sizes = [
  0,
  1,
  17,
  128 * kibibyte - 1,
  128 * kibibyte,
  128 * kibibyte + 1,
  mebibyte - 1,
  mebibyte,
  mebibyte + 1,
  3 * mebibyte + 12_345,
];

for (const sizeBytes of sizes) {
  test(`round trip: a ${sizeBytes}-byte version reads back byte-identical with its metadata`, async (t) => {
    const set = await openErasureSet({ drives: await makeDriveDirectories(t) });
    t.teardown(() => set.close());
    const address = { bucket: 'photos', key: `a/../b %20 é ${sizeBytes}`, versionId: 'v1' };
    const data = patternBytes(sizeBytes, `size-${sizeBytes}`);
    const stored = await set.writeVersion(address, bodyOf(data), {
      finalize: (summary) => ({ etag: 'x', seenSizeBytes: summary.sizeBytes }),
    });
    t.is(stored.sizeBytes, sizeBytes);
    t.is(stored.inline, sizeBytes < 128 * kibibyte);
    const { version, body } = await set.readVersion(address);
    t.deepEqual(version.metadata, { etag: 'x', seenSizeBytes: sizeBytes });
    t.true((await readAll(body)).equals(data));
    t.deepEqual((await set.statVersion(address))?.address, address);
  });
}

test("inline threshold: a version below it is one row of each drive's record database, and no file", async (t) => {
  const drives = await makeDriveDirectories(t);
  const set = await openErasureSet({ drives });
  t.teardown(() => set.close());
  const address = { bucket: 'b', key: 'small', versionId: 'v' };
  await set.writeVersion(address, bodyOf(patternBytes(1000, 's')), noMetadata);
  // Committed to the drives' journals first; a checkpoint writes the record databases.
  await set.checkpoint();
  for (const drive of drives) {
    t.deepEqual(
      (await filesUnder(drive)).filter((path) => path.startsWith('objects/')),
      [],
      'no directory or file for a small version',
    );
    t.deepEqual(await readdir(join(drive, 'objects')), [], 'not even an empty directory');
    t.deepEqual([...databaseRecords(drive).keys()], [versionDirectory(address)]);
  }
  t.deepEqual(await readAll((await set.readVersion(address)).body), patternBytes(1000, 's'));
});

test('ranged reads: any range returns exactly those bytes, across block edges', async (t) => {
  const set = await openErasureSet({ drives: await makeDriveDirectories(t), blockSizeBytes: 64 * kibibyte });
  t.teardown(() => set.close());
  const address = { bucket: 'b', key: 'ranged', versionId: 'v' };
  const data = patternBytes(5 * 64 * kibibyte + 333, 'ranged');
  await set.writeVersion(address, bodyOf(data, 10_000), noMetadata);
  const block = 64 * kibibyte;
  const ranges = [
    [0, 0],
    [0, 1],
    [1, 1],
    [block - 1, 2],
    [block, block],
    [block - 5, 3 * block + 10],
    [data.byteLength - 1, 1],
    [data.byteLength - 400, 400],
    [0, data.byteLength],
    [12_345, 1],
  ];
  for (const [offsetBytes, lengthBytes] of ranges) {
    const { body } = await set.readVersion(address, { offsetBytes, lengthBytes });
    t.true(
      (await readAll(body)).equals(data.subarray(offsetBytes, offsetBytes + lengthBytes)),
      `${offsetBytes}+${lengthBytes}`,
    );
  }
  await t.throwsAsync(set.readVersion(address, { offsetBytes: data.byteLength, lengthBytes: 1 }), {
    instanceOf: RangeError,
  });
});

test('overwrite: writing the same address again replaces the version atomically and leaves one shard file', async (t) => {
  const drives = await makeDriveDirectories(t);
  const set = await openErasureSet({ drives, blockSizeBytes: 64 * kibibyte, inlineThresholdBytes: 1024 });
  t.teardown(() => set.close());
  const address = { bucket: 'b', key: 'null-version', versionId: 'null' };
  await set.writeVersion(address, bodyOf(patternBytes(200_000, 'first')), { finalize: () => ({ n: 1 }) });
  const second = patternBytes(150_000, 'second');
  await set.writeVersion(address, bodyOf(second), { finalize: () => ({ n: 2 }) });
  const { version, body } = await set.readVersion(address);
  t.deepEqual(version.metadata, { n: 2 });
  t.true((await readAll(body)).equals(second));
  for (const drive of drives) {
    const shards = (await filesUnder(drive)).filter((path) => path.includes('/shard.'));
    t.is(shards.length, 1);
  }
});

test('a new address (newAddress): one shard file per drive, and the staging directories go once committed', async (t) => {
  const drives = await makeDriveDirectories(t);
  const set = await openErasureSet({ drives, blockSizeBytes: 64 * kibibyte, inlineThresholdBytes: 1024 });
  t.teardown(() => set.close());
  const address = { bucket: 'b', key: 'fresh', versionId: 'v-new' };
  const data = patternBytes(300_000, 'fresh');
  await set.writeVersion(address, bodyOf(data), { finalize: () => ({ n: 1 }), newAddress: true });
  t.true((await readAll((await set.readVersion(address)).body)).equals(data));
  for (const drive of drives) {
    const shards = (await filesUnder(drive)).filter((path) => path.includes('/shard.'));
    t.is(shards.length, 1, drive);
  }
  // The commit does not wait for the removal of its staging directories (tmp/<name>/meta).
  const deadline = Date.now() + 10_000;
  const leftInTmp = async () =>
    (await Promise.all(drives.map((drive) => readdir(join(drive, 'tmp'))))).flat();
  while ((await leftInTmp()).length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  t.deepEqual(await leftInTmp(), []);
});

test('updateMetadata: rewrites only the record, bumps the revision, keeps the data', async (t) => {
  const drives = await makeDriveDirectories(t);
  let nowMs = 1_000;
  const set = await openErasureSet({ drives, clock: () => nowMs });
  t.teardown(() => set.close());
  const address = { bucket: 'b', key: 'locked', versionId: 'v' };
  const data = patternBytes(2 * mebibyte, 'locked');
  const written = await set.writeVersion(address, bodyOf(data), { finalize: () => ({ retainUntilMs: 5 }) });
  nowMs = 2_000;
  const updated = await set.updateMetadata(address, (old) => ({ ...old, retainUntilMs: 9 }));
  t.is(updated.metadataRevision, written.metadataRevision + 1);
  t.is(updated.dataId, written.dataId);
  t.is(updated.updatedAtMs, 2_000);
  t.is(updated.committedAtMs, 1_000);
  const { version, body } = await set.readVersion(address);
  t.deepEqual(version.metadata, { retainUntilMs: 9 });
  t.true((await readAll(body)).equals(data));
});

test('delete: the version is gone from every drive; deleting again is NOT_FOUND', async (t) => {
  const drives = await makeDriveDirectories(t);
  const set = await openErasureSet({ drives });
  t.teardown(() => set.close());
  const address = { bucket: 'b', key: 'gone', versionId: 'v' };
  await set.writeVersion(address, bodyOf(patternBytes(300_000, 'gone')), noMetadata);
  await set.deleteVersion(address);
  t.is(await set.statVersion(address), null);
  await t.throwsAsync(set.readVersion(address), { instanceOf: StoreError, message: /no such version/ });
  await t.throwsAsync(set.deleteVersion(address), { instanceOf: StoreError, message: /no such version/ });
  // Removals are committed to the drives' journals; a checkpoint deletes the files.
  await set.checkpoint();
  for (const drive of drives)
    t.deepEqual(
      (await filesUnder(drive)).filter((path) => path.startsWith('objects/')),
      [],
    );
});

test('listVersions: walks the drives and returns every version with its address, per bucket', async (t) => {
  const set = await openErasureSet({ drives: await makeDriveDirectories(t) });
  t.teardown(() => set.close());
  const keys = ['a', 'a/b', '../etc/passwd', '%2F', 'with space', ''.padEnd(1024, 'k')];
  for (const key of keys) {
    await set.writeVersion(
      { bucket: 'one', key, versionId: 'v1' },
      bodyOf(patternBytes(10, key)),
      noMetadata,
    );
    await set.writeVersion(
      { bucket: 'one', key, versionId: 'v2' },
      bodyOf(patternBytes(10, key)),
      noMetadata,
    );
  }
  await set.writeVersion({ bucket: 'two', key: 'x', versionId: 'v1' }, bodyOf(new Uint8Array(3)), noMetadata);
  const listed: string[] = [];
  for await (const version of set.listVersions({ bucket: 'one' })) {
    listed.push(`${version.address.key}@${version.address.versionId}`);
  }
  const expected = keys.flatMap((key) => [`${key}@v1`, `${key}@v2`]);
  t.deepEqual(listed.sort(), expected.sort());
  let all = 0;
  for await (const _ of set.listVersions()) all += 1;
  t.is(all, expected.length + 1);
});

test('finalize throws: nothing is committed, the error propagates, temp files are gone', async (t) => {
  const drives = await makeDriveDirectories(t);
  const set = await openErasureSet({ drives });
  t.teardown(() => set.close());
  const address = { bucket: 'b', key: 'bad-checksum', versionId: 'v' };
  await t.throwsAsync(
    set.writeVersion(address, bodyOf(patternBytes(2 * mebibyte, 'x')), {
      finalize: () => {
        throw new Error('checksum mismatch');
      },
    }),
    { message: 'checksum mismatch' },
  );
  t.is(await set.statVersion(address), null);
  await set.checkpoint();
  for (const drive of drives) {
    t.deepEqual(await filesBesideRecords(drive), ['format']);
    t.is(databaseRecords(drive).size, 0);
  }
});

test('a body that throws mid-stream leaves nothing', async (t) => {
  const drives = await makeDriveDirectories(t);
  const set = await openErasureSet({ drives });
  t.teardown(() => set.close());
  async function* failing() {
    yield patternBytes(mebibyte + 5, 'part');
    throw new Error('client went away');
  }
  const address = { bucket: 'b', key: 'broken', versionId: 'v' };
  await t.throwsAsync(set.writeVersion(address, failing(), noMetadata), { message: 'client went away' });
  t.is(await set.statVersion(address), null);
  await set.checkpoint();
  for (const drive of drives) {
    t.deepEqual(await filesBesideRecords(drive), ['format']);
    t.is(databaseRecords(drive).size, 0);
  }
});

test('an aborted write leaves nothing and rejects with the abort reason', async (t) => {
  const drives = await makeDriveDirectories(t);
  const set = await openErasureSet({ drives });
  t.teardown(() => set.close());
  const controller = new AbortController();
  async function* slow() {
    yield patternBytes(2 * mebibyte, 'a');
    controller.abort(new Error('aborted by caller'));
    yield patternBytes(10, 'b');
  }
  const address = { bucket: 'b', key: 'aborted', versionId: 'v' };
  await t.throwsAsync(set.writeVersion(address, slow(), { ...noMetadata, signal: controller.signal }), {
    message: 'aborted by caller',
  });
  t.is(await set.statVersion(address), null);
  await set.checkpoint();
  for (const drive of drives) {
    t.deepEqual(await filesBesideRecords(drive), ['format']);
    t.is(databaseRecords(drive).size, 0);
  }
});

test('ranged reads touch only the blocks they need, and only the k data shards of each', async (t) => {
  const roots = await makeDriveDirectories(t);
  const drives = roots.map((root, index) => new FaultyDrive(new LocalDrive(root), { seed: index }));
  const blockSizeBytes = 64 * kibibyte;
  const set = await openErasureSet({ drives, blockSizeBytes });
  t.teardown(() => set.close());
  const address = { bucket: 'b', key: 'sparse', versionId: 'v' };
  const data = patternBytes(20 * blockSizeBytes, 'sparse');
  await set.writeVersion(address, bodyOf(data), noMetadata);
  const shardReads = () => drives.reduce((sum, drive) => sum + (drive.calls.get('readRange') ?? 0), 0);
  const before = shardReads();
  // Bytes from the end of block 7 into block 8: two blocks, k = 4 shard reads each, and one read
  // of each of those shard files' checksum page for blocks 0-15 (format 2; read once per source).
  const offsetBytes = 8 * blockSizeBytes - 10;
  const { body } = await set.readVersion(address, { offsetBytes, lengthBytes: 20 });
  t.true((await readAll(body)).equals(data.subarray(offsetBytes, offsetBytes + 20)));
  t.is(shardReads() - before, 2 * 4 + 4);
});

test('a size hint only sizes the first buffers: bodies shorter, longer or equal to it read back whole', async (t) => {
  const set = await openErasureSet({ drives: await makeDriveDirectories(t), blockSizeBytes: 64 * kibibyte });
  t.teardown(() => set.close());
  const cases = [
    { sizeBytes: 300_000, sizeHintBytes: 300_000 },
    { sizeBytes: 300_000, sizeHintBytes: 1000 },
    { sizeBytes: 1000, sizeHintBytes: 300_000 },
    { sizeBytes: 0, sizeHintBytes: 5 * mebibyte },
    { sizeBytes: 200_001, sizeHintBytes: 64 * kibibyte + 1 },
  ];
  for (const [index, { sizeBytes, sizeHintBytes }] of cases.entries()) {
    const address = { bucket: 'b', key: `hinted-${index}`, versionId: 'v' };
    const data = patternBytes(sizeBytes, `hint ${index}`);
    const stored = await set.writeVersion(address, bodyOf(data, 7_919), { ...noMetadata, sizeHintBytes });
    t.is(stored.sizeBytes, sizeBytes);
    t.deepEqual(await readAll((await set.readVersion(address)).body), data, `case ${index}`);
  }
});

test('a body written through bodyDestination (views of the stripe being filled) reads back whole, with pieces copied in between', async (t) => {
  const set = await openErasureSet({ drives: await makeDriveDirectories(t), blockSizeBytes: 64 * kibibyte });
  t.teardown(() => set.close());
  // Across block edges, from a small first stripe (no hint) that grows, below the inline threshold.
  for (const [index, sizeBytes] of [100, 200_000, 3 * 64 * kibibyte + 5].entries()) {
    const address = { bucket: 'b', key: `in place ${index}`, versionId: 'v' };
    const data = patternBytes(sizeBytes, `in place ${index}`);
    const destination: { writable?: (maxBytes: number) => Uint8Array } = {};
    const views: Uint8Array[] = [];
    async function* body(): AsyncIterable<Uint8Array> {
      let offset = 0;
      for (let piece = 0; offset < sizeBytes; piece += 1) {
        const take = Math.min(piece % 3 === 2 ? 16 : 5_003, sizeBytes - offset);
        if (piece % 3 === 2) {
          // Every third piece comes from memory of its own (as a chunk's tag does): copied.
          yield data.subarray(offset, offset + take);
          offset += take;
          continue;
        }
        const view = destination.writable!(take);
        t.true(view.byteLength >= 1 && view.byteLength <= take);
        view.set(data.subarray(offset, offset + view.byteLength));
        views.push(view);
        yield view;
        offset += view.byteLength;
      }
    }
    const stored = await set.writeVersion(address, body(), { ...noMetadata, bodyDestination: destination });
    t.is(stored.sizeBytes, sizeBytes);
    t.is(destination.writable, undefined, 'withdrawn once the body is read');
    t.true(views.length > 0);
    t.deepEqual(await readAll((await set.readVersion(address)).body), data, `${sizeBytes} bytes`);
  }
});
