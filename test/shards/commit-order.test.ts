// The order of a spilled write's commit on each drive: the shard file's fsync runs while the record
// is staged (they are independent), and the shard file is published (renamed into the version
// directory) only once both are durable. A drive whose fsync fails is out of the write; below the
// write quorum the write fails and publishes nothing anywhere.
import { existsSync } from 'node:fs';
import test, { type ExecutionContext } from 'ava';
import type { FileWriter } from '../../agent/disk/index.ts';
import { DriveError, FaultyDrive, LocalDrive } from '../../agent/disk/index.ts';
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

/** A local drive that logs the commit's steps and holds each shard file's fsync until released. */
class HeldSyncDrive extends LocalDrive {
  readonly events: string[] = [];
  /** Set: the held fsync fails once released (a disk error found late, during the commit). */
  failSync = false;
  #release!: () => void;
  readonly #gate = new Promise<void>((resolve) => {
    this.#release = resolve;
  });

  release(): void {
    this.#release();
  }

  override async createFileWriter(path: string): Promise<FileWriter> {
    const inner = await super.createFileWriter(path);
    return {
      write: (chunks) => inner.write(chunks),
      finish: async () => {
        this.events.push('shard fsync started');
        await this.#gate;
        if (this.failSync) {
          await inner.abort();
          this.events.push('shard fsync failed');
          throw new DriveError('DRIVE_OFFLINE', this.description, 'fsync failed');
        }
        await inner.finish();
        this.events.push('shard fsync done');
      },
      abort: () => inner.abort(),
    };
  }

  override async writeFile(
    path: string,
    data: Uint8Array,
    options?: { replace?: boolean; sync?: boolean },
  ): Promise<void> {
    await super.writeFile(path, data, options);
    if (path.startsWith('tmp/') && data.byteLength > 0) this.events.push('record staged');
  }

  override async rename(from: string, to: string, options?: { sync?: boolean }): Promise<void> {
    this.events.push('shard published');
    return super.rename(from, to, options);
  }
}

/** What a write leaves on a drive, apart from the journal and the drive's format file. */
const outsideJournalAndFormat = (path: string) => !path.startsWith('journal/') && path !== 'format';

const spilled = (key: string) => ({
  address: { bucket: 'b', key, versionId: 'v' },
  // Larger than the inline threshold: shard files, and their fsyncs.
  data: patternBytes(600 * 1024, key),
});

test('commit order: the record is staged while the shard fsync runs, and the shard is published only after both', async (t) => {
  const roots = await makeDriveDirectories(t);
  const drives = roots.map((root) => new HeldSyncDrive(root));
  const set = await openErasureSet({ drives, journal: checkpointHeldOff });
  t.teardown(() => set.close());
  const { address, data } = spilled('held fsync');
  const written = set.writeVersion(address, bodyOf(data), noMetadata);
  // Every drive stages its record while its shard fsync is still held. Before the change the
  // writer waited for every fsync before the commit began, so no record was staged here. The
  // polling is bounded by the test's own timeout; the events are the assertion.
  while (!drives.every((drive) => drive.events.includes('record staged')))
    await new Promise((resolve) => setTimeout(resolve, 5));
  for (const drive of drives) {
    t.deepEqual(drive.events, ['shard fsync started', 'record staged'], drive.description);
  }
  for (const drive of drives) drive.release();
  await written;
  for (const drive of drives) {
    t.deepEqual(
      drive.events,
      ['shard fsync started', 'record staged', 'shard fsync done', 'shard published'],
      drive.description,
    );
  }
  t.true((await readAll((await set.readVersion(address)).body)).equals(data));
});

test('commit order: a drive whose shard fsync fails publishes nothing; the write commits on the others', async (t) => {
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

test('commit order: fsyncs failing on more drives than the quorum allows fail the write, and nothing is published', async (t) => {
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

/** Writes with fsyncs that fail late on `failing` drives, released once every record is staged. */
async function writeWithLateSyncFailures(t: ExecutionContext, failing: number[], key: string) {
  const roots = await makeDriveDirectories(t);
  const drives = roots.map((root) => new HeldSyncDrive(root));
  for (const index of failing) drives[index].failSync = true;
  const set = await openErasureSet({ drives, journal: checkpointHeldOff, maxQueuedHeals: 0 });
  t.teardown(() => set.close());
  const { address, data } = spilled(key);
  const written = set.writeVersion(address, bodyOf(data), noMetadata);
  written.catch(() => {});
  while (!drives.every((drive) => drive.events.includes('record staged')))
    await new Promise((resolve) => setTimeout(resolve, 5));
  for (const drive of drives) drive.release();
  return { roots, drives, set, address, data, written };
}

test('commit order: an fsync that fails during the commit keeps that drive out; the write commits on the others', async (t) => {
  const { roots, drives, set, address, data, written } = await writeWithLateSyncFailures(
    t,
    [3],
    'late failure',
  );
  const stored = await written;
  t.true(drives[3].events.includes('shard fsync failed'));
  t.false(drives[3].events.includes('shard published'));
  t.is(set.metrics.degradedWrites, 1);
  t.true((await readAll((await set.readVersion(address)).body)).equals(data));
  for (let shardIndex = 0; shardIndex < roots.length; shardIndex += 1) {
    const { driveIndex, path } = shardFilePath(roots, stored, shardIndex);
    t.is(existsSync(path), driveIndex !== 3, `shard ${shardIndex} on drive ${driveIndex}`);
  }
  // Its staging directory is gone too.
  t.deepEqual((await filesBesideRecords(roots[3])).filter(outsideJournalAndFormat), []);
});

test('commit order: fsyncs failing during the commit on three drives fail the write, which leaves nothing once checkpointed', async (t) => {
  const { roots, set, address, written } = await writeWithLateSyncFailures(t, [0, 1, 5], 'late failures');
  await t.throwsAsync(written, { code: 'QUORUM_LOST' });
  t.is(await set.statVersion(address), null);
  // The three drives that had committed were undone: a removal in their journals, whose files the
  // checkpoint deletes (as after any write that lost its quorum while committing).
  await set.checkpoint();
  t.is(await set.statVersion(address), null);
  for (const root of roots)
    t.deepEqual((await filesBesideRecords(root)).filter(outsideJournalAndFormat), [], root);
});
