import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { FaultyDrive, LocalDrive } from '../../agent/disk/index.ts';
import { openErasureSet, type StoreError } from '../../agent/shards/index.ts';
import {
  bodyOf,
  filesBesideRecords,
  filesUnder,
  makeDriveDirectories,
  noMetadata,
  patternBytes,
  readAll,
} from './helpers.ts';

/** Six drive directories on a real 8 MiB tmpfs, or null when this machine does not allow mount. */
async function drivesOnSmallFilesystem(t: ExecutionContext): Promise<string[] | null> {
  const mountPoint = await mkdtemp(join(tmpdir(), 'coffre-full-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', mountPoint], { stdio: 'pipe' });
  } catch (error) {
    await rm(mountPoint, { recursive: true, force: true });
    t.log(`mount not permitted here (${String(error)}); using the fault-injecting drive instead`);
    return null;
  }
  t.teardown(async () => {
    execFileSync('umount', [mountPoint]);
    await rm(mountPoint, { recursive: true, force: true });
  });
  const drives: string[] = [];
  for (let index = 0; index < 6; index += 1) {
    drives.push(join(mountPoint, `drive-${index}`));
    await mkdir(drives[index]);
  }
  return drives;
}

test('disk full: a write that does not fit fails with DISK_FULL, earlier versions are intact, the partial write is cleaned', async (t) => {
  const realDrives = await drivesOnSmallFilesystem(t);
  let drives: (string | FaultyDrive)[];
  if (realDrives === null) {
    // Fallback: every drive answers ENOSPC after a few megabytes of shard writes.
    drives = (await makeDriveDirectories(t)).map((root, index) => {
      const drive = new FaultyDrive(new LocalDrive(root), { seed: index });
      drive.addFault({ operations: ['write'], afterCalls: 8, effect: { fail: 'DISK_FULL' } });
      return drive;
    });
  } else {
    drives = realDrives;
  }
  const set = await openErasureSet({ drives });
  t.teardown(() => set.close());
  const earlier = [3000, 300_000, 1_500_000].map((sizeBytes) => ({
    address: { bucket: 'b', key: `earlier-${sizeBytes}`, versionId: 'v' },
    data: patternBytes(sizeBytes, `earlier-${sizeBytes}`),
  }));
  for (const { address, data } of earlier) await set.writeVersion(address, bodyOf(data), noMetadata);

  const tooBig = { bucket: 'b', key: 'too-big', versionId: 'v' };
  const error = await t.throwsAsync<StoreError>(
    set.writeVersion(tooBig, bodyOf(patternBytes(40 * 1024 * 1024, 'big'), 1024 * 1024), noMetadata),
  );
  t.is(error?.code, 'DISK_FULL');
  t.is(await set.statVersion(tooBig), null);
  for (const { address, data } of earlier) {
    t.true((await readAll((await set.readVersion(address)).body)).equals(data));
  }
  if (realDrives !== null) {
    for (const drive of realDrives) t.deepEqual(await filesUnder(join(drive, 'tmp')), []);
    // The space of the failed write came back: a small write fits again.
    const after = { bucket: 'b', key: 'after', versionId: 'v' };
    await set.writeVersion(after, bodyOf(patternBytes(200_000, 'after')), noMetadata);
    t.true((await readAll((await set.readVersion(after)).body)).equals(patternBytes(200_000, 'after')));
  }
});

test('disk full on the fault-injecting drive: ENOSPC on m+1 drives is DISK_FULL and nothing is left', async (t) => {
  const roots = await makeDriveDirectories(t);
  const drives = roots.map((root, index) => new FaultyDrive(new LocalDrive(root), { seed: index }));
  for (const index of [0, 1, 2])
    drives[index].addFault({ operations: ['write'], afterCalls: 3, effect: { fail: 'DISK_FULL' } });
  const set = await openErasureSet({ drives, blockSizeBytes: 64 * 1024 });
  t.teardown(() => set.close());
  const address = { bucket: 'b', key: 'k', versionId: 'v' };
  const error = await t.throwsAsync<StoreError>(
    set.writeVersion(address, bodyOf(patternBytes(1_000_000, 'x')), noMetadata),
  );
  t.is(error?.code, 'DISK_FULL');
  for (const root of roots) t.deepEqual(await filesBesideRecords(root), ['format']);
});
