// A durable copy of the daily peaks beside the index. The peaks live in the index database, in
// the same transactions as the commits; but the index is a cache that is recreated from the drives
// when its file is lost or corrupt, and the past levels cannot be recreated from the drives. So
// the agent copies them to this small file now and then and at shutdown, and merges the copy back
// at start: after losing the index, at most the peaks since the last copy are lost (and the
// rebuilt level becomes the day's floor).
import type { Drive } from '../disk/index.ts';
import { isDriveError } from '../disk/index.ts';
import type { DailyPeak, UsageLedger } from './usage-ledger.ts';

const fileMagic = 'coffre.usage-peaks';
const fileVersion = 1;
const fileName = 'usage-peaks.json';

interface PeaksFile {
  magic: typeof fileMagic;
  version: typeof fileVersion;
  peaks: DailyPeak[];
}

export class UsagePeaksFileError extends Error {
  override name = 'UsagePeaksFileError';
}

/** Merges the saved copy (if any) into the ledger; returns how many days it held. */
export async function restoreUsagePeaks(drive: Drive, ledger: UsageLedger): Promise<number> {
  let text: string;
  try {
    text = Buffer.from(await drive.readFile(fileName)).toString('utf8');
  } catch (error) {
    if (isDriveError(error, 'NOT_FOUND')) return 0;
    throw error;
  }
  const parsed = JSON.parse(text) as PeaksFile;
  if (parsed.magic !== fileMagic || parsed.version !== fileVersion) {
    throw new UsagePeaksFileError(
      `${drive.description}/${fileName}: not a version ${fileVersion} usage peaks file`,
    );
  }
  ledger.mergeDailyPeaks(parsed.peaks);
  return parsed.peaks.length;
}

/** Replaces the copy, atomically and durably, with the ledger's daily peaks. */
export async function saveUsagePeaks(drive: Drive, ledger: UsageLedger): Promise<void> {
  const file: PeaksFile = { magic: fileMagic, version: fileVersion, peaks: ledger.allDailyPeaks() };
  await drive.writeFileAtomic(fileName, Buffer.from(`${JSON.stringify(file)}\n`));
}
