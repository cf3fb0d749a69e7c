// Publishing a version on one drive, removing one, and cleaning up after a crash.
//
// A write first fills tmp/<uuid>/ on each drive with its shard file (fsynced). The commit on a
// drive is: stage the record in tmp/<uuid>/meta (durable; a streaming write staged its intent
// there while its body was written, see prepareStaging), rename the shard file into the version
// directory under its unique name shard.<dataId> (durable), then append the record to the drive's
// journal (journal.ts). The journal append is the commit point: readers follow the journal, then
// "meta", so before it the new shard file is an invisible orphan and after it the version is
// whole. A crash in between leaves tmp/<uuid>/meta behind, which names the orphan: the startup
// cleanup removes it. Inline versions and metadata updates have no shard file: their commit is
// the journal append alone, batched with the other commits of the moment (group commit). The
// checkpointer (checkpoint.ts) later writes the record to "meta".
//
// Overwriting an address is atomic across drives too: the new record carries the drive's previous
// record ("previous") and the old shard file stays, so if the writer dies with the drives split
// between old and new (say 3 and 3 with k = 4), the old version is still held by all six and
// remains the one readers see. Once the new version has reached its write quorum, a second pass
// rewrites the records without "previous" and removes the old shard files; if that pass is
// interrupted, the next heal of the version finishes it.
import type { Drive } from '../disk/index.ts';
import type { SetContext } from './context.ts';
import {
  decodeVersionRecord,
  encodeVersionRecord,
  type PreviousVersion,
  type VersionRecord,
} from './formats.ts';
import {
  shardFileName,
  temporaryDirectory,
  type VersionAddress,
  versionDirectory,
  versionRecordFile,
} from './layout.ts';
import { readRecordCopy } from './records.ts';

export const temporaryShardFile = 'shard';

export function temporaryPath(name: string): string {
  return `${temporaryDirectory}/${name}`;
}

/**
 * Commits a version on one drive. `withShardFile`: tmp/<name>/shard holds this drive's shard
 * file (absent for inline versions and for metadata-only updates). `keepPrevious`: an overwrite
 * keeps the record it replaces inside the new one ('journaled': only a record the journal holds,
 * for an address the caller knows to be new, see WriteOptions.newAddress). `removeOtherShards`: the commit replaces a
 * write whose shard file must go (the second pass of an overwrite, the undo of a failed one).
 */
export async function commitOnDrive(
  ctx: SetContext,
  driveIndex: number,
  temporaryName: string,
  record: VersionRecord,
  inlinePayload: Uint8Array,
  withShardFile: boolean,
  options?: {
    keepPrevious?: boolean | 'journaled';
    removeOtherShards?: boolean;
    /**
     * Set when the staging directory was prepared by prepareStaging (the write's intent in its
     * record file and the directory entries, being made durable while the body is written): the
     * commit then writes no record file, and waits for this before publishing the shard file.
     */
    stagingDurable?: Promise<void>;
  },
): Promise<PreviousVersion | null> {
  const drive = ctx.drives[driveIndex];
  const staging = temporaryPath(temporaryName);
  const directory = versionDirectory(record);
  const keepPrevious = options?.keepPrevious ?? false;
  const previous =
    keepPrevious === false ||
    (keepPrevious === 'journaled' && (await ctx.journals[driveIndex].lookup(directory)) === undefined)
      ? null
      : await previousVersion(ctx, driveIndex, directory, record.dataId);
  const staged: VersionRecord = previous === null ? record : { ...record, previous };
  const recordBytes = encodeVersionRecord(staged, inlinePayload);
  if (withShardFile) {
    // Staging the record and creating the version directory are independent: both at once.
    // The staged record must be durable before the shard file is published: it is what tells the
    // startup cleanup which orphan to remove if we crash before the journal append.
    const stagingDurable = options?.stagingDurable;
    await Promise.all([
      stagingDurable === undefined
        ? (async () => {
            await drive.writeFile(`${staging}/${versionRecordFile}`, recordBytes);
            await drive.syncDirectory(staging);
          })()
        : // prepareStaging staged the write's intent (its address and data id, all the startup
          // cleanup reads) while the body was written: waiting for it to be durable is enough.
          stagingDurable,
      drive.ensureDirectory(directory),
    ]);
    await drive.rename(`${staging}/${temporaryShardFile}`, `${directory}/${shardFileName(record.dataId)}`, {
      sync: false,
    });
    // The shard file's name must be durable before the record that points at it.
    await drive.syncDirectory(directory);
  }
  const address = { bucket: record.bucket, key: record.key, versionId: record.versionId };
  await ctx.journals[driveIndex].append({ kind: 'record', directory, address, recordBytes });
  // Committed. What follows is tidying: if it fails, heal or the startup cleanup finish it. Only
  // a commit that replaces another write can leave a shard file behind (a small write to a new
  // address, the common case, skips the directory listing).
  if (withShardFile) {
    // The staging directory now holds only the staged record of a committed version: nothing
    // reads it, and if this removal never happens the startup cleanup removes it. So the commit
    // does not wait for it, and names the one file in it (an unlink and an rmdir, where a
    // recursive removal makes six trips to the thread pool).
    void drive.remove(staging, { entries: [versionRecordFile] }).catch(() => {});
  }
  // An address the caller never wrote before (keepPrevious 'journaled') whose journal holds no
  // previous version has no other write's shard file in its directory: no listing.
  const newAddress = keepPrevious === 'journaled' && previous === null;
  if ((withShardFile && !newAddress) || previous !== null || options?.removeOtherShards) {
    // Under the caller's lock on the address: another write to it may publish its shard file
    // in the same directory as soon as the lock is released.
    const keep = [record.dataId, ...(previous ? [previous.record.dataId] : [])];
    await removeUnreferencedShards(drive, directory, keep).catch(() => {});
  }
  return previous;
}

/** Drives whose tmp/ prepareStaging has made sure of (the directories under it are created with `recursive`). */
const drivesWithTemporaryDirectory = new WeakSet<Drive>();

/**
 * Creates a write's staging directory tmp/<name>/, then, without waiting, its record file holding
 * `intent` (fsynced) and the fsyncs of tmp/<name>/ and tmp/ that make both names durable. Returns
 * once the directory exists; `durable` settles when all of it is on stable storage. The fsyncs
 * then run while the body is being written instead of in line before the first shard write and
 * before the publication (three of the six fsync rounds of a 1 MiB PUT on each drive). `intent` is
 * a version record naming the write's address and data id (the rest of it is not read): all the
 * startup cleanup needs to find the shard file a crash between publication and journal append
 * would leave, so the commit has no record file to write. Pass `durable` to commitOnDrive, and
 * wait for it before removing the directory.
 */
export async function prepareStaging(
  drive: Drive,
  name: string,
  intent: Uint8Array,
): Promise<{ durable: Promise<void> }> {
  const staging = temporaryPath(name);
  // tmp/ itself exists from the startup cleanup: if it was created now, make that durable first.
  // Once per drive object: afterwards it is a trip to the thread pool before every write's first
  // shard write that finds it there.
  if (!drivesWithTemporaryDirectory.has(drive)) {
    await drive.ensureDirectory(temporaryDirectory);
    drivesWithTemporaryDirectory.add(drive);
  }
  await drive.ensureDirectory(staging, { durable: false });
  const durable = (async () => {
    // A crash before this is durable leaves an empty or partial record, which the startup cleanup
    // cannot decode and simply removes: nothing was published yet.
    await drive.writeFile(`${staging}/${versionRecordFile}`, intent);
    await Promise.all([drive.syncDirectory(staging), drive.syncDirectory(temporaryDirectory)]);
  })();
  // Awaited by the commit; a write that fails before it must not leave an unhandled rejection.
  durable.catch(() => {});
  return { durable };
}

/** The committed record this drive holds for the directory, if it belongs to another write. */
async function previousVersion(
  ctx: SetContext,
  driveIndex: number,
  directory: string,
  dataId: string,
): Promise<PreviousVersion | null> {
  const current = await readRecordCopy(ctx, driveIndex, directory);
  if (current.state === 'offline') throw current.error;
  if (current.state !== 'present' || current.record.dataId === dataId) return null;
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

/**
 * Removes a version from one drive: a removal committed to its journal (the checkpointer deletes
 * the directory later; until then readers see the version as missing there).
 */
export async function removeVersionDirectory(
  ctx: SetContext,
  driveIndex: number,
  address: VersionAddress,
): Promise<void> {
  const { bucket, key, versionId } = address;
  const directory = versionDirectory(address);
  await ctx.journals[driveIndex].append({ kind: 'removal', directory, address: { bucket, key, versionId } });
}

/**
 * Startup cleanup of one drive: every entry of tmp/ is a write, heal or delete that did not
 * finish. A staged record that is still there was never committed: the shard file it may have
 * published is removed, unless the committed record points at that dataId (a heal rewriting a
 * shard in place, or an interrupted undo of an overwrite). Then the entry goes. Returns how many entries were removed.
 */
export async function cleanTemporaryFiles(ctx: SetContext, driveIndex: number): Promise<number> {
  const drive = ctx.drives[driveIndex];
  await drive.ensureDirectory(temporaryDirectory);
  const names = await drive.list(temporaryDirectory);
  for (const name of names) {
    const staged = await readRecordIfAny(drive, `${temporaryPath(name)}/${versionRecordFile}`);
    if (staged !== null) {
      const directory = versionDirectory(staged);
      const committed = await committedRecord(ctx, driveIndex, directory);
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
export async function removeOrphanShard(
  ctx: SetContext,
  driveIndex: number,
  record: VersionRecord,
): Promise<void> {
  const drive = ctx.drives[driveIndex];
  const directory = versionDirectory(record);
  const current = await committedRecord(ctx, driveIndex, directory);
  if (current?.dataId === record.dataId || current?.previous?.record.dataId === record.dataId) return;
  await drive.remove(`${directory}/${shardFileName(record.dataId)}`);
  if (current === null && (await drive.list(directory).catch(() => ['?'])).length === 0) {
    await drive.remove(directory);
  }
}

/** The record the drive holds for a directory (journal first), or null; throws if it is offline. */
async function committedRecord(ctx: SetContext, driveIndex: number, directory: string) {
  const copy = await readRecordCopy(ctx, driveIndex, directory);
  if (copy.state === 'offline') throw copy.error;
  return copy.state === 'present' ? copy.record : null;
}

async function readRecordIfAny(drive: Drive, path: string): Promise<VersionRecord | null> {
  try {
    return decodeVersionRecord(await drive.readFile(path)).record;
  } catch {
    return null;
  }
}
