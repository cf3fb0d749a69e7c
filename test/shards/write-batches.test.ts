import test from 'ava';
import { FaultyDrive, LocalDrive } from '../../agent/disk/index.ts';
import { openErasureSet } from '../../agent/shards/index.ts';
import { bodyOf, makeDriveDirectories, noMetadata, patternBytes, readAll } from './helpers.ts';

const blockSizeBytes = 64 * 1024;

test('write batches: a 10-block version reaches each drive in one writev per 4 blocks, the shard header in the first, and reads back', async (t) => {
  const roots = await makeDriveDirectories(t);
  const drives = roots.map((root, index) => new FaultyDrive(new LocalDrive(root), { seed: index }));
  const set = await openErasureSet({ drives, blockSizeBytes, blocksPerWrite: 4 });
  t.teardown(() => set.close());
  const address = { bucket: 'b', key: 'batched', versionId: 'v' };
  const data = patternBytes(9 * blockSizeBytes + 1234, 'batched');
  await set.writeVersion(address, bodyOf(data), noMetadata);
  // The header with blocks 0-3, then 4-7, then 8-9 at the end of the body.
  for (const drive of drives) t.is(drive.calls.get('write'), 3);
  t.true((await readAll((await set.readVersion(address)).body)).equals(data));
});

test('write batches: a drive whose batch write fails is dropped, the version commits on the others and reads back', async (t) => {
  const roots = await makeDriveDirectories(t);
  const drives = roots.map((root, index) => new FaultyDrive(new LocalDrive(root), { seed: index }));
  // The second batch of one drive fails (after its first, which carried the header).
  drives[2].addFault({ operations: ['write'], afterCalls: 1, times: 1, effect: { fail: 'DISK_FULL' } });
  // No background heal: the degraded write asks for one, which rewrites the failed drive's shard
  // at once (more writes to it), while this test counts the write's own calls.
  const set = await openErasureSet({ drives, blockSizeBytes, blocksPerWrite: 4, maxQueuedHeals: 0 });
  t.teardown(() => set.close());
  const address = { bucket: 'b', key: 'one drive fails', versionId: 'v' };
  const data = patternBytes(13 * blockSizeBytes + 5, 'one drive fails');
  await set.writeVersion(address, bodyOf(data), noMetadata);
  t.is(set.metrics.degradedWrites, 1, 'a degraded write, which asks for a heal');
  t.is(drives[2].faultsInjected, 1);
  t.is(drives[2].calls.get('write'), 2, 'no more writes to the failed drive');
  t.true((await readAll((await set.readVersion(address)).body)).equals(data));
});
