// Walking the version directories of the set: the union over all drives (a drive may miss some
// versions, or be empty after a replacement), level by level, so memory holds one directory
// listing at a time, never the whole tree.
import { isDriveError } from '../disk/index.ts';
import type { SetContext } from './context.ts';
import { bucketDirectory, objectsDirectory, type VersionAddress } from './layout.ts';
import { readRecordCopies } from './records.ts';

/** Entries of a directory on any drive, sorted; drives that are offline or lack it add nothing. */
async function unionList(ctx: SetContext, path: string, driveIndexes: number[]): Promise<string[]> {
  const listings = await Promise.all(
    driveIndexes.map((driveIndex) =>
      ctx.drives[driveIndex].list(path).catch((error: unknown) => {
        if (isDriveError(error, 'NOT_FOUND') || isDriveError(error, 'DRIVE_OFFLINE')) return [] as string[];
        throw error;
      }),
    ),
  );
  return [...new Set(listings.flat())].sort();
}

/** Every version directory, as a drive-relative path. */
export async function* walkVersionDirectories(
  ctx: SetContext,
  options: { bucket?: string; driveIndexes?: number[] } = {},
): AsyncGenerator<string> {
  const driveIndexes = options.driveIndexes ?? ctx.drives.map((_, index) => index);
  const buckets =
    options.bucket === undefined
      ? (await unionList(ctx, objectsDirectory, driveIndexes)).map((name) => `${objectsDirectory}/${name}`)
      : [bucketDirectory(options.bucket)];
  for (const bucket of buckets) {
    for (const fanOut of await unionList(ctx, bucket, driveIndexes)) {
      for (const key of await unionList(ctx, `${bucket}/${fanOut}`, driveIndexes)) {
        for (const version of await unionList(ctx, `${bucket}/${fanOut}/${key}`, driveIndexes)) {
          yield `${bucket}/${fanOut}/${key}/${version}`;
        }
      }
    }
  }
}

/** The address recorded in any drive's copy of the record in this directory, or null. */
export async function addressOf(ctx: SetContext, directory: string): Promise<VersionAddress | null> {
  for (const copy of await readRecordCopies(ctx, directory)) {
    if (copy.state === 'present') {
      const { bucket, key, versionId } = copy.record;
      return { bucket, key, versionId };
    }
  }
  return null;
}

/** Paces a reader to a rate, with the set's clock and an injectable sleep. */
export class Throttle {
  readonly #bytesPerSecond: number;
  readonly #clock: () => number;
  readonly #sleep: (milliseconds: number) => Promise<void>;
  readonly #startMs: number;
  #bytes = 0;

  constructor(bytesPerSecond: number, clock: () => number, sleep: (milliseconds: number) => Promise<void>) {
    this.#bytesPerSecond = bytesPerSecond;
    this.#clock = clock;
    this.#sleep = sleep;
    this.#startMs = clock();
  }

  async consume(bytes: number, signal?: AbortSignal): Promise<void> {
    this.#bytes += bytes;
    signal?.throwIfAborted();
    const dueMs = (this.#bytes / this.#bytesPerSecond) * 1000;
    const aheadMs = dueMs - (this.#clock() - this.#startMs);
    if (aheadMs > 0) await this.#sleep(aheadMs);
    signal?.throwIfAborted();
  }
}
