import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { decodeVersionRecord, encodeVersionRecord } from '../../agent/shards/formats.ts';
import { openErasureSet } from '../../agent/shards/index.ts';
import { versionDirectory } from '../../agent/shards/layout.ts';
import {
  bodyOf,
  databaseRecords,
  filesUnder,
  makeDriveDirectories,
  noMetadata,
  patternBytes,
  readAll,
} from './helpers.ts';

const address = { bucket: 'b', key: 'crashed overwrite', versionId: 'null' };

test('startup cleanup: a write that died between publishing its shard and its record leaves nothing behind', async (t) => {
  const drives = await makeDriveDirectories(t);
  const first = await openErasureSet({ drives, blockSizeBytes: 64 * 1024 });
  const data = patternBytes(200_000, 'committed');
  const committed = await first.writeVersion(address, bodyOf(data), noMetadata);
  await first.close();
  // Recreate, on every drive, the state of a second write killed after its first rename: the
  // staged record still in tmp/, its shard file already in the version directory.
  const orphanDataId = '00000000-0000-4000-8000-0000000000ff';
  const directory = versionDirectory(address);
  for (const drive of drives) {
    const current = decodeVersionRecord(databaseRecords(drive).get(directory) as Buffer);
    const staged = {
      ...current.record,
      dataId: orphanDataId,
      committedAtMs: current.record.committedAtMs + 1,
    };
    await mkdir(join(drive, 'tmp', 'interrupted'), { recursive: true });
    await writeFile(
      join(drive, 'tmp', 'interrupted', 'meta'),
      encodeVersionRecord(staged, current.inlinePayload),
    );
    await copyFile(
      join(drive, directory, `shard.${committed.dataId}`),
      join(drive, directory, `shard.${orphanDataId}`),
    );
  }
  const set = await openErasureSet({ drives, blockSizeBytes: 64 * 1024 });
  t.teardown(() => set.close());
  t.is(set.metrics.temporaryEntriesCleaned, drives.length);
  for (const drive of drives) {
    t.deepEqual(await filesUnder(join(drive, 'tmp')), []);
    const names = (await filesUnder(join(drive, directory))).sort();
    t.deepEqual(
      names,
      [`shard.${committed.dataId}`],
      'the orphan shard is gone; the record is in the database',
    );
    t.is(
      decodeVersionRecord(databaseRecords(drive).get(directory) as Buffer).record.dataId,
      committed.dataId,
    );
  }
  t.true((await readAll((await set.readVersion(address)).body)).equals(data));
});

test('a streaming write stages its intent (address and data id) on every drive while its body is written: the commit writes no record file of its own', async (t) => {
  const drives = await makeDriveDirectories(t);
  const set = await openErasureSet({ drives, blockSizeBytes: 64 * 1024 });
  t.teardown(() => set.close());
  const data = patternBytes(300_000, 'staged intent');
  let release: () => void = () => {};
  const paused = new Promise<void>((resolve) => {
    release = resolve;
  });
  let reachedPause: () => void = () => {};
  const atPause = new Promise<void>((resolve) => {
    reachedPause = resolve;
  });
  async function* body(): AsyncIterable<Uint8Array> {
    // Two full blocks: the version has spilled to shard files, and its staging is prepared.
    yield data.subarray(0, 128 * 1024);
    yield data.subarray(128 * 1024, 200 * 1024);
    reachedPause();
    await paused;
    yield data.subarray(200 * 1024);
  }
  const writing = set.writeVersion(address, body(), noMetadata);
  await atPause;
  // The intent is written in the background while the body streams (prepareStaging): poll for it.
  const intents = [];
  for (const drive of drives) {
    const [name] = await readdir(join(drive, 'tmp'));
    for (let attempt = 0; attempt < 500; attempt += 1) {
      const record = await readFile(join(drive, 'tmp', name, 'meta')).then(
        (bytes) => decodeVersionRecord(bytes).record,
        () => undefined,
      );
      if (record !== undefined) {
        intents.push(record);
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
  t.is(intents.length, drives.length);
  release();
  const stored = await writing;
  for (const intent of intents) {
    t.deepEqual(
      { bucket: intent.bucket, key: intent.key, versionId: intent.versionId, dataId: intent.dataId },
      { ...address, dataId: stored.dataId },
    );
  }
  t.deepEqual(await readAll((await set.readVersion(address)).body), data);
  for (const drive of drives) t.deepEqual(await filesUnder(join(drive, 'tmp')), [], 'the staging is gone');
});
