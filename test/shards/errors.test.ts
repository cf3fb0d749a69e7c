import { rm } from 'node:fs/promises';
import test from 'ava';
import { FaultyDrive, LocalDrive } from '../../agent/disk/index.ts';
import { writeQuorumFor } from '../../agent/shards/context.ts';
import { openErasureSet, type StoreError } from '../../agent/shards/index.ts';
import { bodyOf, makeDriveDirectories, noMetadata, patternBytes, readAll } from './helpers.ts';

const address = { bucket: 'b', key: 'k', versionId: 'v' };

test('write quorum: k when k > m, a strict majority when k <= m', (t) => {
  t.is(writeQuorumFor(4, 2), 4);
  t.is(writeQuorumFor(8, 4), 8);
  t.is(writeQuorumFor(2, 2), 3);
  t.is(writeQuorumFor(3, 3), 4);
  t.is(writeQuorumFor(1, 2), 2);
});

test('a 2+2 set: a write with 2 drives offline misses the k+1 quorum and leaves nothing', async (t) => {
  const roots = await makeDriveDirectories(t, 4);
  const drives = roots.map((root, index) => new FaultyDrive(new LocalDrive(root), { seed: index }));
  const set = await openErasureSet({ drives, dataShards: 2, parityShards: 2 });
  t.teardown(() => set.close());
  t.is(set.writeQuorum, 3);
  drives[0].setOffline(true);
  drives[3].setOffline(true);
  const error = await t.throwsAsync<StoreError>(
    set.writeVersion(address, bodyOf(patternBytes(500_000, 'x')), noMetadata),
  );
  t.is(error?.code, 'QUORUM_LOST');
  drives[0].setOffline(false);
  drives[3].setOffline(false);
  t.is(await set.statVersion(address), null);
});

test('updateMetadata and deleteVersion with m+1 drives offline are QUORUM_LOST and change nothing', async (t) => {
  const roots = await makeDriveDirectories(t);
  const drives = roots.map((root, index) => new FaultyDrive(new LocalDrive(root), { seed: index }));
  const set = await openErasureSet({ drives });
  t.teardown(() => set.close());
  const data = patternBytes(300_000, 'kept');
  await set.writeVersion(address, bodyOf(data), { finalize: () => ({ n: 1 }) });
  for (const index of [0, 1, 2]) drives[index].setOffline(true);
  const update = await t.throwsAsync<StoreError>(set.updateMetadata(address, () => ({ n: 2 })));
  t.is(update?.code, 'QUORUM_LOST');
  const removal = await t.throwsAsync<StoreError>(set.deleteVersion(address));
  t.is(removal?.code, 'QUORUM_LOST');
  for (const index of [0, 1, 2]) drives[index].setOffline(false);
  const { version, body } = await set.readVersion(address);
  t.deepEqual(version.metadata, { n: 1 });
  t.true((await readAll(body)).equals(data));
});

test('rebuildDrive on a drive whose directory is gone is DRIVE_OFFLINE', async (t) => {
  const roots = await makeDriveDirectories(t);
  const set = await openErasureSet({ drives: roots });
  t.teardown(() => set.close());
  await rm(roots[2], { recursive: true });
  const error = await t.throwsAsync<StoreError>(set.rebuildDrive(2));
  t.is(error?.code, 'DRIVE_OFFLINE');
});

test('an erasure set refuses drives passed in another order than they were formatted in', async (t) => {
  const roots = await makeDriveDirectories(t);
  const set = await openErasureSet({ drives: roots });
  await set.close();
  await t.throwsAsync(openErasureSet({ drives: [roots[1], roots[0], ...roots.slice(2)] }), {
    message: /was formatted as/,
  });
});
