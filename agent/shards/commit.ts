// Publishing a version on one drive, removing one, and cleaning up after a crash.
//
// A write first fills tmp/<uuid>/ on each drive (shard file, then the record), all fsynced. The
// commit on a drive is two renames: the shard file into the version directory under its unique
// name shard.<dataId>, then the record over "meta". The record's rename is the commit point: a
// reader only follows "meta", so before it the new shard file is an invisible orphan and after
// it the version is whole. A crash in between leaves tmp/<uuid>/meta behind, which names the
// orphan: the startup cleanup removes it.
//
// Overwriting an address is atomic across drives too: the new record carries the drive's previous
// record ("previous") and the old shard file stays, so if the writer dies with the drives split
// between old and new (say 3 and 3 with k = 4), the old version is still held by all six and
// remains the one readers see. Once the new version has reached its write quorum, a second pass
// rewrites the records without "previous" and removes the old shard files; if that pass is
// interrupted, the next heal of the version finishes it.
import type { Drive } from '../disk/index.ts';
import { isDriveError } from '../disk/index.ts';
import { StoreError } from './errors.ts';
import {
  decodeVersionRecord,
  encodeVersionRecord,
  type PreviousVersion,
  type VersionRecord,
} from './formats.ts';
import { shardFileName, temporaryDirectory, versionDirectory, versionRecordFile } from './layout.ts';

export const temporaryShardFile = 'shard';

export function temporaryPath(name: string): string {
  return `${temporaryDirectory}/${name}`;
}

/**
 * Commits a version on one drive. `withShardFile`: tmp/<name>/shard holds this drive's shard
 * file (absent for inline versions and for metadata-only updates).
 */
export async function commitOnDrive(
  drive: Drive,
  temporaryName: string,
  record: VersionRecord,
  inlinePayload: Uint8Array,
  withShardFile: boolean,
  options?: { keepPrevious?: boolean },
): Promise<PreviousVersion | null> {
  const staging = temporaryPath(temporaryName);
  const directory = versionDirectory(record);
  const previous = options?.keepPrevious ? await previousVersion(drive, directory, record.dataId) : null;
  const staged: VersionRecord = previous === null ? record : { ...record, previous };
  // With a shard file the writer already made the staging directory durably (the startup cleanup
  // must find it after a power loss to remove an orphan); without one it is mere scratch space.
  await drive.ensureDirectory(staging, { durable: false });
  // Staging the record and creating the version directory are independent: both at once (each
  // waits for its own fsyncs), so a small write costs two rounds of fsync latency, not four.
  await Promise.all([
    (async () => {
      await drive.writeFile(`${staging}/${versionRecordFile}`, encodeVersionRecord(staged, inlinePayload));
      // The staged record must be durable before the shard file is published: it is what tells
      // the startup cleanup which orphan to remove if we crash between the two renames.
      if (withShardFile) await drive.syncDirectory(staging);
    })(),
    drive.ensureDirectory(directory),
  ]);
  if (withShardFile) {
    await drive.rename(`${staging}/${temporaryShardFile}`, `${directory}/${shardFileName(record.dataId)}`, {
      sync: false,
    });
    // The shard file's name must be durable before the record that points at it.
    await drive.syncDirectory(directory);
  }
  await drive.rename(`${staging}/${versionRecordFile}`, `${directory}/${versionRecordFile}`, { sync: false });
  await drive.syncDirectory(directory);
  // Committed. What follows is tidying: if it fails, heal or the startup cleanup finish it.
  const keep = [record.dataId, ...(previous ? [previous.record.dataId] : [])];
  await removeUnreferencedShards(drive, directory, keep).catch(() => {});
  await drive.remove(staging).catch(() => {});
  return previous;
}

/** The committed record this drive holds for the directory, if it belongs to another write. */
async function previousVersion(
  drive: Drive,
  directory: string,
  dataId: string,
): Promise<PreviousVersion | null> {
  let current: ReturnType<typeof decodeVersionRecord>;
  try {
    current = decodeVersionRecord(await drive.readFile(`${directory}/${versionRecordFile}`));
  } catch (error) {
    if (isDriveError(error, 'NOT_FOUND') || error instanceof StoreError) return null;
    throw error;
  }
  if (current.record.dataId === dataId) return null;
  const { previous: _, ...record } = current.record;
  return { record, inlinePayloadBase64: Buffer.from(current.inlinePayload).toString('base64') };
}

/** Removes shard files in a version directory other than the ones named by `keepDataIds`. */
export async function removeUnreferencedShards(drive: Drive, directory: string, keepDataIds: string[]) {
  const keep = new Set(keepDataIds.map(shardFileName));
  const names = await drive.list(directory).catch(() => [] as string[]);
  for (const name of names) {
    if (name.startsWith('shard.') && !keep.has(name)) await drive.remove(`${directory}/${name}`);
  }
}

/** Removes a version directory from one drive: renamed away first, so it vanishes atomically. */
export async function removeVersionDirectory(
  drive: Drive,
  directory: string,
  trashName: string,
): Promise<void> {
  try {
    await drive.rename(directory, temporaryPath(trashName));
  } catch (error) {
    if (isDriveError(error, 'NOT_FOUND')) return;
    throw error;
  }
  await drive.remove(temporaryPath(trashName));
  const keyDirectory = directory.slice(0, directory.lastIndexOf('/'));
  const rest = await drive.list(keyDirectory).catch(() => ['?']);
  if (rest.length === 0) await drive.remove(keyDirectory);
}

/**
 * Startup cleanup of one drive: every entry of tmp/ is a write, heal or delete that did not
 * finish. A staged record that is still there was never committed: the shard file it may have
 * published is removed, unless the committed record points at that dataId (a heal rewriting a
 * shard in place, or an interrupted undo of an overwrite). Then the entry goes. Returns how many entries were removed.
 */
export async function cleanTemporaryFiles(drive: Drive): Promise<number> {
  await drive.ensureDirectory(temporaryDirectory);
  const names = await drive.list(temporaryDirectory);
  for (const name of names) {
    const staged = await readRecordIfAny(drive, `${temporaryPath(name)}/${versionRecordFile}`);
    if (staged !== null) {
      const directory = versionDirectory(staged);
      const committed = await readRecordIfAny(drive, `${directory}/${versionRecordFile}`);
      const referenced = [committed?.dataId, committed?.previous?.record.dataId];
      if (!referenced.includes(staged.dataId)) {
        await drive.remove(`${directory}/${shardFileName(staged.dataId)}`);
      }
      if (committed === null && (await drive.list(directory).catch(() => ['?'])).length === 0) {
        await drive.remove(directory);
      }
    }
    await drive.remove(temporaryPath(name));
  }
  return names.length;
}

/**
 * After a commit failed on a drive: removes the shard file this write may have published there,
 * unless the drive's record does reference it after all. Best effort.
 */
export async function removeOrphanShard(drive: Drive, record: VersionRecord): Promise<void> {
  const directory = versionDirectory(record);
  const current = await readRecordIfAny(drive, `${directory}/${versionRecordFile}`);
  if (current?.dataId === record.dataId || current?.previous?.record.dataId === record.dataId) return;
  await drive.remove(`${directory}/${shardFileName(record.dataId)}`);
  if (current === null && (await drive.list(directory).catch(() => ['?'])).length === 0) {
    await drive.remove(directory);
  }
}

async function readRecordIfAny(drive: Drive, path: string): Promise<VersionRecord | null> {
  try {
    return decodeVersionRecord(await drive.readFile(path)).record;
  } catch {
    return null;
  }
}
