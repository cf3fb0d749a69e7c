import { mkdir, readFile, rename, rm, truncate, unlink, writeFile } from 'node:fs/promises';
import test from 'ava';
import { FaultyDrive, LocalDrive } from '../../agent/disk/index.ts';
import { decodeVersionRecord } from '../../agent/shards/formats.ts';
import { openErasureSet, StoreError } from '../../agent/shards/index.ts';
import { type ShardFileLayout, versionDirectory } from '../../agent/shards/layout.ts';
import {
  bodyOf,
  checkpointHeldOff,
  databaseRecords,
  filesBesideRecords,
  filesUnder,
  makeDriveDirectories,
  noMetadata,
  patternBytes,
  readAll,
  rewriteDatabaseRecord,
  shardFileLayout,
  shardFilePath,
} from './helpers.ts';

const blockSizeBytes = 64 * 1024;
const address = { bucket: 'b', key: 'damaged object', versionId: 'v1' };

async function flipByte(path: string, offset: number): Promise<void> {
  const bytes = await readFile(path);
  bytes[offset] ^= 0x5a;
  await writeFile(path, bytes);
}

test('missing drives: with m drive directories removed every version reads byte-identical; m+1 is QUORUM_LOST', async (t) => {
  const drives = await makeDriveDirectories(t);
  // No background checkpoint: the small versions stay in the journals, whose in-memory index
  // must not answer for a drive that is gone (and no pass races the removal of the directories).
  const set = await openErasureSet({ drives, blockSizeBytes, journal: checkpointHeldOff });
  t.teardown(() => set.close());
  const versions = [0, 1, 5000, 3 * blockSizeBytes + 7].map((sizeBytes) => ({
    address: { bucket: 'b', key: `k${sizeBytes}`, versionId: 'v' },
    data: patternBytes(sizeBytes, `missing-${sizeBytes}`),
  }));
  for (const { address: where, data } of versions) await set.writeVersion(where, bodyOf(data), noMetadata);
  await rm(drives[1], { recursive: true });
  await rm(drives[4], { recursive: true });
  for (const { address: where, data } of versions) {
    t.true((await readAll((await set.readVersion(where)).body)).equals(data));
  }
  const states = await set.driveStates();
  t.deepEqual(
    states.map((state) => state.state),
    ['online', 'offline', 'online', 'online', 'offline', 'online'],
  );
  await rm(drives[5], { recursive: true });
  for (const { address: where } of versions) {
    await t.throwsAsync(set.readVersion(where), { instanceOf: StoreError, message: /quorum/ });
    const error = await t.throwsAsync<StoreError>(set.statVersion(where));
    t.is(error?.code, 'QUORUM_LOST');
  }
  const writeError = await t.throwsAsync<StoreError>(
    set.writeVersion({ bucket: 'b', key: 'new', versionId: 'v' }, bodyOf(patternBytes(10, 'n')), noMetadata),
  );
  t.is(writeError?.code, 'QUORUM_LOST');
});

test('degraded write: with m drives offline the write commits, and heal completes those drives when they return', async (t) => {
  const drives = (await makeDriveDirectories(t)).map(
    (root, index) => new FaultyDrive(new LocalDrive(root), { seed: index }),
  );
  const set = await openErasureSet({ drives, blockSizeBytes });
  t.teardown(() => set.close());
  drives[0].setOffline(true);
  drives[2].setOffline(true);
  const data = patternBytes(2 * blockSizeBytes + 99, 'degraded');
  await set.writeVersion(address, bodyOf(data), noMetadata);
  t.is(set.metrics.degradedWrites, 1);
  await set.settle();
  drives[0].setOffline(false);
  drives[2].setOffline(false);
  const report = await set.heal(address);
  t.deepEqual(report.shardsRewritten.sort(), [0, 2]);
  t.is(report.outcome, 'healed');
  // Now only the healed drives and two others hold the data: it must still read.
  drives[1].setOffline(true);
  drives[3].setOffline(true);
  t.true((await readAll((await set.readVersion(address)).body)).equals(data));
});

const damages = {
  'a flipped byte': (path: string, layout: ShardFileLayout) => flipByte(path, layout.blockOffset(0) + 1000),
  'a flipped byte in a checksum page': (path: string, layout: ShardFileLayout) =>
    flipByte(path, layout.checksumPageOffset(0) + 5),
  'a truncated shard file': (path: string, layout: ShardFileLayout) =>
    truncate(path, layout.blockOffset(0) + 100),
  'a deleted shard file': (path: string) => unlink(path),
};

for (const [damage, apply] of Object.entries(damages)) {
  test(`bitrot: ${damage} in a data shard is detected, counted, read around, and healed on disk`, async (t) => {
    const drives = await makeDriveDirectories(t);
    const set = await openErasureSet({ drives, blockSizeBytes });
    t.teardown(() => set.close());
    const data = patternBytes(3 * blockSizeBytes + 500, damage);
    const version = await set.writeVersion(address, bodyOf(data), noMetadata);
    const { path } = shardFilePath(drives, version, 0);
    const original = await readFile(path);
    await apply(path, shardFileLayout(version));
    t.true((await readAll((await set.readVersion(address)).body)).equals(data));
    t.true(set.metrics.corruptionsDetected >= 1);
    await set.settle();
    t.true(set.metrics.shardsHealed >= 1);
    t.true((await readFile(path)).equals(original));
  });
}

test('bitrot: a corrupt inline record on one drive is read around and healed', async (t) => {
  const drives = await makeDriveDirectories(t);
  const set = await openErasureSet({ drives });
  t.teardown(() => set.close());
  const data = patternBytes(4000, 'inline');
  const version = await set.writeVersion(address, bodyOf(data), { finalize: () => ({ a: 1 }) });
  // The record reaches the drives' record databases at a checkpoint (before, it is in their journals).
  await set.checkpoint();
  const { driveIndex } = shardFilePath(drives, version, 1);
  const directory = versionDirectory(address);
  const original = databaseRecords(drives[driveIndex]).get(directory) as Buffer;
  rewriteDatabaseRecord(drives[driveIndex], directory, (bytes) => {
    const damaged = Buffer.from(bytes);
    damaged[damaged.byteLength - 10] ^= 0xff;
    return damaged;
  });
  t.false((databaseRecords(drives[driveIndex]).get(directory) as Buffer).equals(original));
  t.true((await readAll((await set.readVersion(address)).body)).equals(data));
  t.is(set.metrics.corruptionsDetected, 1);
  await set.settle();
  t.is(set.metrics.shardsHealed, 1, 'the damaged row (an inline shard) is rewritten, through the journal');
  await set.checkpoint();
  t.true((databaseRecords(drives[driveIndex]).get(directory) as Buffer).equals(original));
});

test('bitrot beyond repair: m+1 damaged shards of one block is CORRUPT, not wrong data; a heal fails and leaves no file open nor staging behind', async (t) => {
  const drives = await makeDriveDirectories(t);
  const set = await openErasureSet({ drives, blockSizeBytes });
  t.teardown(() => set.close());
  const version = await set.writeVersion(
    address,
    bodyOf(patternBytes(blockSizeBytes * 2, 'lost')),
    noMetadata,
  );
  for (const shardIndex of [0, 4, 5])
    await flipByte(
      shardFilePath(drives, version, shardIndex).path,
      shardFileLayout(version).blockOffset(0) + 50,
    );
  const { body } = await set.readVersion(address);
  const error = await t.throwsAsync<StoreError>(readAll(body));
  t.is(error?.code, 'CORRUPT');
  // The rebuild opens its new shard files, then finds the block unreadable: the heal fails instead
  // of reporting, and closes and removes what it began.
  const outcome = await set.heal(address).then(
    (report) => `report ${JSON.stringify(report)}`,
    (healError: StoreError) => healError.code,
  );
  t.regex(outcome, /^(CORRUPT|QUORUM_LOST)$/);
  for (const drive of drives) t.deepEqual(await filesUnder(`${drive}/tmp`), [], drive);
});

test('faulty drive: corrupted reads from a data drive are detected and the data is still exact', async (t) => {
  const roots = await makeDriveDirectories(t);
  const drives = roots.map((root, index) => new FaultyDrive(new LocalDrive(root), { seed: 42 + index }));
  const set = await openErasureSet({ drives, blockSizeBytes });
  t.teardown(() => set.close());
  const data = patternBytes(5 * blockSizeBytes, 'faulty');
  const version = await set.writeVersion(address, bodyOf(data), noMetadata);
  const { driveIndex } = shardFilePath(roots, version, 2);
  drives[driveIndex].addFault({ operations: ['readRange'], effect: 'corrupt', probability: 0.5 });
  t.true((await readAll((await set.readVersion(address)).body)).equals(data));
  t.true(set.metrics.corruptionsDetected >= 1);
  t.true(drives[driveIndex].faultsInjected >= 1);
});

test('scrub: finds damage in parity and data shards that no read touched, heals it, at the requested rate', async (t) => {
  const drives = await makeDriveDirectories(t);
  let nowMs = 0;
  const sleeps: number[] = [];
  const set = await openErasureSet({
    drives,
    blockSizeBytes,
    clock: () => nowMs,
    sleep: async (milliseconds) => {
      sleeps.push(milliseconds);
      nowMs += milliseconds;
    },
  });
  t.teardown(() => set.close());
  const first = await set.writeVersion(address, bodyOf(patternBytes(4 * blockSizeBytes, 'one')), noMetadata);
  const second = await set.writeVersion(
    { bucket: 'c', key: 'two', versionId: 'v' },
    bodyOf(patternBytes(blockSizeBytes + 1, 'two')),
    noMetadata,
  );
  await set.writeVersion(
    { bucket: 'c', key: 'three', versionId: 'v' },
    bodyOf(patternBytes(10, '3')),
    noMetadata,
  );
  const parity = shardFilePath(drives, first, 5).path;
  const data = shardFilePath(drives, second, 3).path;
  const originals = [await readFile(parity), await readFile(data)];
  await flipByte(parity, shardFileLayout(first).blockOffset(0) + 7);
  await truncate(data, 1000);
  const bytesPerSecond = 1024 * 1024;
  const report = await set.scrub({ bytesPerSecond });
  t.is(report.versionsChecked, 3);
  t.is(report.versionsHealed, 2);
  t.true(report.bytesRead > 6 * blockSizeBytes);
  t.true((await readFile(parity)).equals(originals[0]));
  t.true((await readFile(data)).equals(originals[1]));
  // Pacing: the scrub slept until the clock caught up with bytesRead / rate.
  t.true(sleeps.length > 0);
  t.true(Math.abs(nowMs - (report.bytesRead / bytesPerSecond) * 1000) < 1);
  const again = await set.scrub({ bytesPerSecond });
  t.is(again.versionsHealed, 0);
});

test('rebuild: an emptied (replaced) drive gets back exactly the files it had', async (t) => {
  const drives = await makeDriveDirectories(t);
  const first = await openErasureSet({ drives, blockSizeBytes });
  const versions = [];
  for (const sizeBytes of [0, 77, 2 * blockSizeBytes + 3]) {
    const where = { bucket: 'b', key: `r${sizeBytes}`, versionId: 'v' };
    versions.push({ where, data: patternBytes(sizeBytes, `r${sizeBytes}`) });
    await first.writeVersion(where, bodyOf(versions.at(-1)!.data), { finalize: () => ({ sizeBytes }) });
  }
  await first.close();
  const before = new Map<string, Buffer>();
  for (const file of await filesBesideRecords(drives[3])) {
    before.set(file, await readFile(`${drives[3]}/${file}`));
  }
  const recordsBefore = databaseRecords(drives[3]);
  t.is(recordsBefore.size, 3);
  await rm(drives[3], { recursive: true });
  await mkdir(drives[3]);
  const set = await openErasureSet({ drives, blockSizeBytes });
  t.teardown(() => set.close());
  t.is((await set.driveStates())[3].state, 'needs-rebuild');
  const report = await set.rebuildDrive(3);
  t.is(report.versionsChecked, 3);
  t.is(report.shardsRewritten, 3);
  t.is((await set.driveStates())[3].state, 'online');
  await set.checkpoint();
  const after = await filesBesideRecords(drives[3]);
  t.deepEqual(after, [...before.keys()]);
  for (const [file, bytes] of before) t.true((await readFile(`${drives[3]}/${file}`)).equals(bytes), file);
  t.deepEqual(databaseRecords(drives[3]), recordsBefore, 'the same records, byte for byte');
});

test('failed mounts: drives that come back empty make versions unavailable, never deleted, until they return', async (t) => {
  const drives = await makeDriveDirectories(t);
  const first = await openErasureSet({ drives, blockSizeBytes });
  const data = patternBytes(3 * blockSizeBytes, 'mounts');
  await first.writeVersion(address, bodyOf(data), noMetadata);
  await first.close();
  // Three drives' mounts fail: their mount points are empty directories.
  const hidden = drives.slice(0, 3).map((drive) => `${drive}-unmounted`);
  for (const [index, drive] of drives.slice(0, 3).entries()) {
    await rename(drive, hidden[index]);
    await mkdir(drive);
  }
  const blind = await openErasureSet({ drives, blockSizeBytes });
  t.deepEqual(
    (await blind.driveStates()).map((state) => state.state),
    ['needs-rebuild', 'needs-rebuild', 'needs-rebuild', 'online', 'online', 'online'],
  );
  const error = await t.throwsAsync<StoreError>(blind.statVersion(address));
  t.is(error?.code, 'QUORUM_LOST');
  const report = await blind.scrub({ bytesPerSecond: 1e9 });
  t.is(report.leftoversRemoved, 0);
  t.is(report.failures, 1);
  await blind.close();
  // The mounts come back: the version is whole.
  for (const [index, drive] of drives.slice(0, 3).entries()) {
    await rm(drive, { recursive: true });
    await rename(hidden[index], drive);
  }
  const healed = await openErasureSet({ drives, blockSizeBytes });
  t.teardown(() => healed.close());
  t.true((await readAll((await healed.readVersion(address)).body)).equals(data));
});

test('interrupted overwrite: drives split 3/3 between old and new still show the old version whole, and heal tidies up', async (t) => {
  const roots = await makeDriveDirectories(t);
  const drives = roots.map((root, index) => new FaultyDrive(new LocalDrive(root), { seed: index }));
  const set = await openErasureSet({ drives, blockSizeBytes });
  t.teardown(() => set.close());
  const old = patternBytes(3 * blockSizeBytes + 1, 'old');
  await set.writeVersion(address, bodyOf(old), { finalize: () => ({ label: 'old' }) });
  // The overwrite commits (its journal append) on drives 0-2 only, and undoing it there fails
  // too, as if the writer had died right after those three commits.
  for (const index of [0, 1, 2]) {
    drives[index].addFault({
      operations: ['append'],
      pathIncludes: 'journal/',
      afterCalls: 1,
      effect: { fail: 'DRIVE_OFFLINE' },
    });
  }
  for (const index of [3, 4, 5]) {
    drives[index].addFault({
      operations: ['append'],
      pathIncludes: 'journal/',
      effect: { fail: 'DRIVE_OFFLINE' },
    });
  }
  const error = await t.throwsAsync<StoreError>(
    set.writeVersion(address, bodyOf(patternBytes(2 * blockSizeBytes, 'new')), {
      finalize: () => ({ label: 'new' }),
    }),
  );
  t.is(error?.code, 'QUORUM_LOST');
  for (const drive of drives) drive.clearFaults();
  const { version, body } = await set.readVersion(address);
  t.deepEqual(version.metadata, { label: 'old' });
  t.true((await readAll(body)).equals(old));
  await set.settle();
  await set.heal(address);
  await set.checkpoint();
  for (const root of roots) {
    const shards = (await filesUnder(root)).filter((path) => path.includes('/shard.'));
    t.is(shards.length, 1, `${root}: only the old version's shard file remains`);
  }
});

test('overwrite: the previous version is dropped from every drive once the new one is committed', async (t) => {
  const drives = await makeDriveDirectories(t);
  const set = await openErasureSet({ drives, blockSizeBytes });
  t.teardown(() => set.close());
  await set.writeVersion(address, bodyOf(patternBytes(blockSizeBytes * 2, 'a')), noMetadata);
  const second = await set.writeVersion(address, bodyOf(patternBytes(blockSizeBytes * 2, 'b')), noMetadata);
  await set.checkpoint();
  for (const root of drives) {
    const files = (await filesUnder(root)).filter((path) => path.startsWith('objects/'));
    t.deepEqual(
      files.map((path) => path.slice(path.lastIndexOf('/') + 1)),
      [`shard.${second.dataId}`],
    );
    const record = databaseRecords(root).get(versionDirectory(address)) as Buffer;
    t.is(decodeVersionRecord(record).record.dataId, second.dataId);
    t.false(record.includes('"previous"'));
  }
  t.is(set.metrics.degradedWrites, 0);
});

test('scrub: an aborted scrub stops with the abort reason', async (t) => {
  const drives = await makeDriveDirectories(t);
  const controller = new AbortController();
  const set = await openErasureSet({
    drives,
    blockSizeBytes,
    clock: () => 0,
    sleep: async () => {
      controller.abort(new Error('scrub window over'));
    },
  });
  t.teardown(() => set.close());
  for (const key of ['a', 'b', 'c']) {
    await set.writeVersion(
      { bucket: 'b', key, versionId: 'v' },
      bodyOf(patternBytes(blockSizeBytes, key)),
      noMetadata,
    );
  }
  await t.throwsAsync(set.scrub({ bytesPerSecond: 1000, signal: controller.signal }), {
    message: 'scrub window over',
  });
  t.true(set.metrics.scrubbedVersions < 3);
});
