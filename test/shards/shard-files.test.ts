// Shard files in format version 2 (aligned, formats.ts): written with O_DIRECT from the stripes on
// a file system that takes it (the test drives are on the machine's disk), laid out block by block
// as the layout says, and format version 1 files, as agents wrote them before, still read and healed.
import { readFile, unlink } from 'node:fs/promises';
import test from 'ava';
import { LocalDrive } from '../../agent/disk/index.ts';
import {
  decodeShardHeader,
  decodeVersionRecord,
  encodeVersionRecord,
  shardHeaderBytes,
} from '../../agent/shards/formats.ts';
import { openErasureSet, StoreError } from '../../agent/shards/index.ts';
import { versionDirectory } from '../../agent/shards/layout.ts';
import {
  bodyOf,
  makeDriveDirectories,
  noMetadata,
  patternBytes,
  readAll,
  rewriteDatabaseRecord,
  shardFileLayout,
  shardFilePath,
} from './helpers.ts';

const blockSizeBytes = 64 * 1024;

// Around the checksum page groups of 16 blocks: short of one, exactly one (its page ends the
// last batch), one block into the next, and a short last block in the second group.
const blockCounts = { 'one block short of a group': 15, 'one group': 16, 'a group and one block': 17 };

for (const [name, blocks] of Object.entries(blockCounts)) {
  for (const tail of [0, 1, 40_000]) {
    test(`format 2: ${name}${tail ? ` and ${tail} byte${tail === 1 ? '' : 's'}` : ''} is written with O_DIRECT on every drive, as the layout says, and reads back`, async (t) => {
      const drives = (await makeDriveDirectories(t)).map((root) => new LocalDrive(root));
      const set = await openErasureSet({ drives, blockSizeBytes });
      t.teardown(() => set.close());
      const address = { bucket: 'b', key: `${blocks}+${tail}`, versionId: 'v' };
      const data = patternBytes(blocks * blockSizeBytes + tail, address.key);
      const version = await set.writeVersion(address, bodyOf(data, 10_000), noMetadata);
      for (const drive of drives) t.deepEqual(drive.directWrites, { files: 1, refused: 0 });
      const layout = shardFileLayout(version);
      for (let shardIndex = 0; shardIndex < 6; shardIndex += 1) {
        const bytes = await readFile(
          shardFilePath(
            drives.map((drive) => drive.description),
            version,
            shardIndex,
          ).path,
        );
        t.is(bytes.byteLength, layout.fileBytes());
        t.like(decodeShardHeader(bytes.subarray(0, shardHeaderBytes)), { formatVersion: 2, shardIndex });
      }
      t.true((await readAll((await set.readVersion(address)).body)).equals(data));
      // From the middle of the second-last block to the end: the last block's page comes with it.
      const offsetBytes = data.byteLength - blockSizeBytes - 3;
      const { body } = await set.readVersion(address, { offsetBytes, lengthBytes: blockSizeBytes + 3 });
      t.true((await readAll(body)).equals(data.subarray(offsetBytes)));
    });
  }
}

test('format 2 without direct writes (directWrites: false) is the same file, through the page cache', async (t) => {
  const roots = [await makeDriveDirectories(t), await makeDriveDirectories(t)];
  const address = { bucket: 'b', key: 'same bytes', versionId: 'v' };
  const data = patternBytes(17 * blockSizeBytes + 5, 'same bytes');
  const files: Buffer[][] = [];
  for (const [index, directWrites] of [true, false].entries()) {
    const drives = roots[index].map((root) => new LocalDrive(root));
    let counter = 0;
    const set = await openErasureSet({
      drives,
      blockSizeBytes,
      directWrites,
      randomUUID: () => `00000000-0000-4000-8000-${(counter++).toString(16).padStart(12, '0')}`,
    });
    t.teardown(() => set.close());
    const version = await set.writeVersion(address, bodyOf(data), noMetadata);
    for (const drive of drives) t.is(drive.directWrites.files, directWrites ? 1 : 0);
    t.true((await readAll((await set.readVersion(address)).body)).equals(data));
    files.push(
      await Promise.all(
        [0, 1, 2, 3, 4, 5].map((shardIndex) =>
          readFile(shardFilePath(roots[index], version, shardIndex).path),
        ),
      ),
    );
  }
  for (let shardIndex = 0; shardIndex < 6; shardIndex += 1)
    t.true(files[0][shardIndex].equals(files[1][shardIndex]));
});

test('format 1: a set asked for it writes it (no O_DIRECT); a set writing format 2 reads both, and heals a format 1 file as format 1, byte-identical', async (t) => {
  const roots = await makeDriveDirectories(t);
  const old = { bucket: 'b', key: 'written in format 1', versionId: 'v' };
  const oldData = patternBytes(5 * blockSizeBytes + 77, 'format 1');
  const drives = roots.map((root) => new LocalDrive(root));
  const before = await openErasureSet({ drives, blockSizeBytes, shardFileVersion: 1 });
  const oldVersion = await before.writeVersion(old, bodyOf(oldData), noMetadata);
  for (const drive of drives) t.is(drive.directWrites.files, 0);
  await before.close();
  const { path } = shardFilePath(roots, oldVersion, 2);
  const original = await readFile(path);
  t.is(decodeShardHeader(original.subarray(0, shardHeaderBytes)).formatVersion, 1);
  t.is(original.byteLength, shardFileLayout(oldVersion, 1).fileBytes());

  const set = await openErasureSet({ drives: roots, blockSizeBytes });
  t.teardown(() => set.close());
  const current = { bucket: 'b', key: 'written in format 2', versionId: 'v' };
  const currentData = patternBytes(3 * blockSizeBytes + 1, 'format 2');
  const currentVersion = await set.writeVersion(current, bodyOf(currentData), noMetadata);
  const currentFile = await readFile(shardFilePath(roots, currentVersion, 2).path);
  t.is(decodeShardHeader(currentFile.subarray(0, shardHeaderBytes)).formatVersion, 2);
  t.true((await readAll((await set.readVersion(old)).body)).equals(oldData));
  t.true((await readAll((await set.readVersion(current)).body)).equals(currentData));

  await unlink(path);
  const report = await set.heal(old);
  t.is(report.outcome, 'healed');
  t.true((await readFile(path)).equals(original), 'rewritten in format 1, as its record says');
  t.true((await readAll((await set.readVersion(old)).body)).equals(oldData));
});

test('a record naming a shard file format this agent does not know is CORRUPT at once: nothing is read as another format, and heal rewrites nothing', async (t) => {
  const roots = await makeDriveDirectories(t);
  const address = { bucket: 'b', key: 'from a newer agent', versionId: 'v' };
  const data = patternBytes(3 * blockSizeBytes + 9, 'newer');
  const writer = await openErasureSet({ drives: roots, blockSizeBytes });
  const version = await writer.writeVersion(address, bodyOf(data), noMetadata);
  await writer.close();
  // As a newer agent would have written it: the same record, another shard file format.
  for (const root of roots)
    rewriteDatabaseRecord(root, versionDirectory(address), (bytes) => {
      const { record, inlinePayload } = decodeVersionRecord(bytes);
      return Buffer.from(
        encodeVersionRecord(
          { ...record, erasure: { ...record.erasure, shardFileVersion: 3 } },
          inlinePayload,
        ),
      );
    });
  const files = await Promise.all(
    [0, 1, 2, 3, 4, 5].map((index) => readFile(shardFilePath(roots, version, index).path)),
  );
  const set = await openErasureSet({ drives: roots, blockSizeBytes });
  t.teardown(() => set.close());
  await t.throwsAsync(set.readVersion(address), { instanceOf: StoreError, message: /format version 3/ });
  await t.throwsAsync(set.heal(address), { message: /format version 3/ });
  await set.settle();
  t.is(set.metrics.shardsHealed, 0);
  for (const [index, bytes] of files.entries())
    t.true(
      (await readFile(shardFilePath(roots, version, index).path)).equals(bytes),
      `shard ${index} untouched`,
    );
});
