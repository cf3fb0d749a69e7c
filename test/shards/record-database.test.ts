// The drives' record databases (records/records.db) as the shard store uses them: faults in them,
// and walks over more rows than one page of the database.
import test from 'ava';
import { FaultyDrive, LocalDrive } from '../../agent/disk/index.ts';
import { openErasureSet } from '../../agent/shards/index.ts';
import { versionDirectory } from '../../agent/shards/layout.ts';
import {
  bodyOf,
  checkpointHeldOff,
  databaseRecords,
  makeDriveDirectories,
  noMetadata,
  patternBytes,
  readAll,
} from './helpers.ts';

test('record database: a row read corrupt from one drive (a transient fault) is detected, the version still reads whole, and heal finds the stored row intact', async (t) => {
  const roots = await makeDriveDirectories(t);
  const drives = roots.map((root, index) => new FaultyDrive(new LocalDrive(root), { seed: 7 + index }));
  const set = await openErasureSet({ drives, journal: checkpointHeldOff });
  t.teardown(() => set.close());
  const address = { bucket: 'db', key: 'small', versionId: 'v' };
  const data = patternBytes(3000, 'small');
  await set.writeVersion(address, bodyOf(data), noMetadata);
  await set.checkpoint();
  const before = databaseRecords(roots[2]).get(versionDirectory(address));
  t.truthy(before, 'the record is a row of drive 2 after the checkpoint');
  drives[2].addFault({ operations: ['readRecord'], effect: 'corrupt', times: 1 });
  t.deepEqual(await readAll((await set.readVersion(address)).body), data);
  t.is(drives[2].faultsInjected, 1);
  t.is(set.metrics.corruptionsDetected, 1);
  const entriesBefore = set.metrics.journalEntries;
  await set.settle();
  // The heal queued by the read looks again: the row on the drive is sound, nothing is rewritten.
  t.is(set.metrics.recordsHealed + set.metrics.shardsHealed, 0);
  t.is(set.metrics.journalEntries, entriesBefore);
  await set.checkpoint();
  t.deepEqual(databaseRecords(roots[2]).get(versionDirectory(address)), before);
  t.deepEqual(await readAll((await set.readVersion(address)).body), data);
});

test('record database: a drive whose rows cannot be written keeps its journal; the pass fails, the next one completes it', async (t) => {
  const roots = await makeDriveDirectories(t);
  const drives = roots.map((root, index) => new FaultyDrive(new LocalDrive(root), { seed: index }));
  const set = await openErasureSet({ drives, journal: checkpointHeldOff });
  t.teardown(() => set.close());
  const addresses = Array.from({ length: 5 }, (_, index) => ({
    bucket: 'db',
    key: `k${index}`,
    versionId: 'v',
  }));
  for (const [index, address] of addresses.entries())
    await set.writeVersion(address, bodyOf(patternBytes(500 + index, `k${index}`)), noMetadata);
  drives[4].addFault({ operations: ['writeRecords'], effect: { fail: 'DRIVE_OFFLINE' }, times: 1 });
  await t.throwsAsync(set.checkpoint());
  t.is(set.metrics.checkpointFailures, 1);
  t.is(databaseRecords(roots[4]).size, 0, 'nothing written on the failing drive');
  t.is(databaseRecords(roots[0]).size, 5);
  // Still readable: drive 4's records are in its journal, which the failed pass did not trim.
  for (const [index, address] of addresses.entries())
    t.deepEqual(await readAll((await set.readVersion(address)).body), patternBytes(500 + index, `k${index}`));
  await set.checkpoint();
  t.deepEqual(
    [...databaseRecords(roots[4]).keys()].sort(),
    addresses.map((address) => versionDirectory(address)).sort(),
  );
});

test('record database: a walk lists every version once across more rows than one page, with journaled and spilled ones', async (t) => {
  const drives = await makeDriveDirectories(t);
  const set = await openErasureSet({
    drives,
    blockSizeBytes: 4096,
    inlineThresholdBytes: 1024,
    journal: checkpointHeldOff,
  });
  t.teardown(() => set.close());
  // 1,050 rows: more than the 1,000 a walk asks a database for at a time.
  const keys: string[] = [];
  for (let index = 0; index < 1050; index += 1) {
    const key = `row-${index}`;
    keys.push(key);
    await set.writeVersion(
      { bucket: 'walk', key, versionId: 'v' },
      bodyOf(patternBytes(10, key)),
      noMetadata,
    );
  }
  // Spilled versions have a directory beside their row.
  for (let index = 0; index < 3; index += 1) {
    const key = `spilled-${index}`;
    keys.push(key);
    await set.writeVersion(
      { bucket: 'walk', key, versionId: 'v' },
      bodyOf(patternBytes(9000, key)),
      noMetadata,
    );
  }
  await set.checkpoint();
  t.is(databaseRecords(drives[0]).size, 1053);
  // Journaled only, not yet in the databases.
  for (let index = 0; index < 4; index += 1) {
    const key = `journaled-${index}`;
    keys.push(key);
    await set.writeVersion(
      { bucket: 'walk', key, versionId: 'v' },
      bodyOf(patternBytes(10, key)),
      noMetadata,
    );
  }
  // Another bucket, which a walk of this one must not include.
  await set.writeVersion(
    { bucket: 'other', key: 'row-0', versionId: 'v' },
    bodyOf(patternBytes(10, 'x')),
    noMetadata,
  );
  const listed: string[] = [];
  for await (const version of set.listVersions({ bucket: 'walk' })) listed.push(version.address.key);
  t.is(listed.length, keys.length);
  t.deepEqual([...listed].sort(), [...keys].sort());
  let all = 0;
  for await (const _ of set.listVersions()) all += 1;
  t.is(all, keys.length + 1);
});
