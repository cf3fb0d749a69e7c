// A spilled write whose shard file fsync fails on a drive: that drive is out of the write and
// publishes nothing; the write commits on the others while they make the write quorum, and below
// it fails and publishes nothing anywhere.
import { existsSync } from 'node:fs';
import test from 'ava';
import { FaultyDrive, LocalDrive } from '../../agent/disk/index.ts';
import { openErasureSet } from '../../agent/shards/index.ts';
import {
  bodyOf,
  checkpointHeldOff,
  filesBesideRecords,
  makeDriveDirectories,
  noMetadata,
  patternBytes,
  readAll,
  shardFilePath,
} from './helpers.ts';

/** What a write leaves on a drive, apart from the journal and the drive's format file. */
const outsideJournalAndFormat = (path: string) => !path.startsWith('journal/') && path !== 'format';

const spilled = (key: string) => ({
  address: { bucket: 'b', key, versionId: 'v' },
  // Larger than the inline threshold: shard files, and their fsyncs.
  data: patternBytes(600 * 1024, key),
});

test('fsync failures: a drive whose shard fsync fails publishes nothing; the write commits on the others', async (t) => {
  const roots = await makeDriveDirectories(t);
  const drives = roots.map((root, index) => new FaultyDrive(new LocalDrive(root), { seed: index }));
  drives[1].addFault({ operations: ['finish'], times: 1, effect: { fail: 'DRIVE_OFFLINE' } });
  const set = await openErasureSet({ drives, journal: checkpointHeldOff, maxQueuedHeals: 0 });
  t.teardown(() => set.close());
  const { address, data } = spilled('one fsync fails');
  const stored = await set.writeVersion(address, bodyOf(data), noMetadata);
  t.is(drives[1].faultsInjected, 1);
  t.is(set.metrics.degradedWrites, 1);
  t.true((await readAll((await set.readVersion(address)).body)).equals(data));
  // Nothing of this write on the failed drive: no shard file published, no staging left.
  t.deepEqual((await filesBesideRecords(roots[1])).filter(outsideJournalAndFormat), []);
  t.false(stored.inline);
  // The five other drives hold their shard files.
  for (let shardIndex = 0; shardIndex < roots.length; shardIndex += 1) {
    const { driveIndex, path } = shardFilePath(roots, stored, shardIndex);
    t.is(existsSync(path), driveIndex !== 1, `shard ${shardIndex} on drive ${driveIndex}`);
  }
});

test('fsync failures: fsyncs failing on more drives than the quorum allows fail the write, and nothing is published', async (t) => {
  const roots = await makeDriveDirectories(t);
  const drives = roots.map((root, index) => new FaultyDrive(new LocalDrive(root), { seed: index }));
  for (const index of [0, 2, 4])
    drives[index].addFault({ operations: ['finish'], effect: { fail: 'DRIVE_OFFLINE' } });
  const set = await openErasureSet({ drives, journal: checkpointHeldOff, maxQueuedHeals: 0 });
  t.teardown(() => set.close());
  const { address, data } = spilled('three fsyncs fail');
  await t.throwsAsync(set.writeVersion(address, bodyOf(data), noMetadata), { code: 'QUORUM_LOST' });
  t.is(await set.statVersion(address), null);
  for (const root of roots) {
    t.deepEqual((await filesBesideRecords(root)).filter(outsideJournalAndFormat), [], root);
  }
});
