// Opening the drives of a set: each drive's "format" file says which set it belongs to and at
// which position, so drives passed in the wrong order, or from another set, are refused rather
// than silently mixed. A drive without a format file beside formatted ones is a replacement: it
// is formatted and reported as needing a rebuild. Then each drive's journal is replayed and the
// leftovers of interrupted writes are cleaned.
import { type Drive, isDriveError } from '../disk/index.ts';
import { cleanTemporaryFiles } from './commit.ts';
import type { SetContext } from './context.ts';
import { type DriveFormat, decodeDriveFormat, encodeDriveFormat } from './formats.ts';
import { driveFormatFile, objectsDirectory, temporaryDirectory } from './layout.ts';

export type DriveCondition = 'online' | 'offline' | 'needs-rebuild';

interface Geometry {
  dataShards: number;
  parityShards: number;
}

async function readFormat(drive: Drive): Promise<DriveFormat | null> {
  try {
    return decodeDriveFormat(await drive.readFile(driveFormatFile));
  } catch (error) {
    if (isDriveError(error, 'NOT_FOUND')) return null;
    throw error;
  }
}

/** Writes the drive's format file and its directories (idempotent). */
export async function formatDrive(drive: Drive, format: DriveFormat): Promise<void> {
  await drive.ensureDirectory(temporaryDirectory);
  // Before objects/ exists: the new database then notes that this drive never held record files
  // (a drive replaced while the set runs is rebuilt before any checkpoint would create it).
  await drive.writeRecords([]);
  await drive.ensureDirectory(objectsDirectory);
  await drive.writeFileAtomic(driveFormatFile, encodeDriveFormat(format));
}

export async function prepareDrives(
  drives: readonly Drive[],
  geometry: Geometry,
  randomUUID: () => string,
): Promise<{ setId: string; conditions: DriveCondition[] }> {
  const formats = await Promise.all(
    drives.map(async (drive) => {
      try {
        await drive.checkOnline();
        return { online: true, format: await readFormat(drive) };
      } catch {
        return { online: false, format: null };
      }
    }),
  );
  const setIds = new Set(formats.flatMap((entry) => (entry.format === null ? [] : [entry.format.setId])));
  if (setIds.size > 1) throw new Error(`drives belong to different erasure sets: ${[...setIds].join(', ')}`);
  const setId = [...setIds][0] ?? randomUUID();
  const anyFormatted = setIds.size > 0;
  formats.forEach((entry, driveIndex) => {
    const format = entry.format;
    if (format === null) return;
    const expected = { driveIndex, driveCount: drives.length, ...geometry };
    if (
      format.driveIndex !== expected.driveIndex ||
      format.driveCount !== expected.driveCount ||
      format.dataShards !== expected.dataShards ||
      format.parityShards !== expected.parityShards
    ) {
      throw new Error(
        `${drives[driveIndex].description} was formatted as ${JSON.stringify(format)}, expected ${JSON.stringify(expected)}`,
      );
    }
  });
  const conditions = await Promise.all(
    formats.map(async (entry, driveIndex): Promise<DriveCondition> => {
      if (!entry.online) return 'offline';
      const drive = drives[driveIndex];
      try {
        if (entry.format === null) {
          await formatDrive(drive, { setId, driveIndex, driveCount: drives.length, ...geometry });
        }
        await drive.ensureDirectory(objectsDirectory);
        // Creates the record database now, before any write: it notes whether the drive already
        // held version directories (records in `meta` files, written before the database existed).
        await drive.writeRecords([]);
        return entry.format === null && anyFormatted ? 'needs-rebuild' : 'online';
      } catch {
        return 'offline';
      }
    }),
  );
  return { setId, conditions };
}

/**
 * Replays each answering drive's journal, then removes the leftovers of interrupted writes (which
 * needs the journal: it holds the newest committed records). Returns how many were removed; a
 * drive that fails here is marked offline.
 */
export async function replayAndClean(ctx: SetContext): Promise<number> {
  const cleaned = await Promise.all(
    ctx.drives.map(async (_, driveIndex) => {
      if (ctx.driveConditions[driveIndex] === 'offline') return 0;
      try {
        await ctx.journals[driveIndex].ready();
        return await cleanTemporaryFiles(ctx, driveIndex);
      } catch {
        ctx.driveConditions[driveIndex] = 'offline';
        return 0;
      }
    }),
  );
  return cleaned.reduce((sum, count) => sum + count, 0);
}
