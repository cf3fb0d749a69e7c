// Walking the version directories of the set: the union over all drives (a drive may miss some
// versions, or be empty after a replacement) of the directories on disk, level by level, so
// memory holds one directory listing at a time, never the whole tree (plus the journaled versions
// not yet checkpointed, a bounded set), merged with the drives' record databases read in pages.
import { isDriveError } from '../disk/index.ts';
import type { SetContext } from './context.ts';
import { bucketDirectory, objectsDirectory, type VersionAddress } from './layout.ts';
import { readRecordCopies } from './records.ts';

/** Entries of a directory on any drive, sorted; drives that are offline or lack it add nothing. */
async function unionList(
  ctx: SetContext,
  path: string,
  driveIndexes: number[],
  journaled: Map<string, Set<string>>,
): Promise<string[]> {
  const listings = await Promise.all(
    driveIndexes.map((driveIndex) =>
      ctx.drives[driveIndex].list(path).catch((error: unknown) => {
        if (isDriveError(error, 'NOT_FOUND') || isDriveError(error, 'DRIVE_OFFLINE')) return [] as string[];
        throw error;
      }),
    ),
  );
  return [...new Set([...listings.flat(), ...(journaled.get(path) ?? [])])].sort();
}

/**
 * The version directories whose records are journaled but maybe not yet in the files, as
 * parent path -> child names at every level. A snapshot: versions committed during the walk may
 * be missed, as with the directory listings themselves.
 */
async function journaledTree(ctx: SetContext, driveIndexes: number[]): Promise<Map<string, Set<string>>> {
  const tree = new Map<string, Set<string>>();
  for (const driveIndex of driveIndexes) {
    const journal = ctx.journals[driveIndex];
    try {
      await journal.ready();
    } catch {
      continue; // An offline drive adds nothing, as in unionList.
    }
    for (const directory of journal.recordDirectories()) {
      let child = directory;
      while (child.includes('/')) {
        const parent = child.slice(0, child.lastIndexOf('/'));
        const names = tree.get(parent) ?? new Set<string>();
        names.add(child.slice(parent.length + 1));
        tree.set(parent, names);
        child = parent;
      }
    }
  }
  return tree;
}

/** Version directories that hold (or held) a file on any drive, in order. */
async function* walkFileDirectories(
  ctx: SetContext,
  bucket: string | undefined,
  driveIndexes: number[],
): AsyncGenerator<string> {
  const journaled = await journaledTree(ctx, driveIndexes);
  const buckets =
    bucket === undefined
      ? (await unionList(ctx, objectsDirectory, driveIndexes, journaled)).map(
          (name) => `${objectsDirectory}/${name}`,
        )
      : [bucketDirectory(bucket)];
  for (const bucket of buckets) {
    for (const fanOut of await unionList(ctx, bucket, driveIndexes, journaled)) {
      for (const key of await unionList(ctx, `${bucket}/${fanOut}`, driveIndexes, journaled)) {
        for (const version of await unionList(ctx, `${bucket}/${fanOut}/${key}`, driveIndexes, journaled)) {
          yield `${bucket}/${fanOut}/${key}/${version}`;
        }
      }
    }
  }
}

/** Named bound on the directories asked of a record database at a time. */
const recordPageSize = 1000;

/** Version directories with a row in one drive's record database under `prefix`, in order. */
async function* databaseDirectories(
  ctx: SetContext,
  driveIndex: number,
  prefix: string,
): AsyncGenerator<string> {
  // Every path component is fixed-length hex, so a prefix ending in '/' bounds a range: '0'
  // follows '/' in byte order.
  const before = `${prefix.slice(0, -1)}0`;
  let after = prefix;
  for (;;) {
    let page: string[];
    try {
      page = await ctx.drives[driveIndex].listRecords({ after, before, limit: recordPageSize });
    } catch (error) {
      if (isDriveError(error, 'NOT_FOUND') || isDriveError(error, 'DRIVE_OFFLINE')) return;
      throw error;
    }
    yield* page;
    if (page.length < recordPageSize) return;
    after = page[page.length - 1];
  }
}

/** Merges sorted streams into one sorted stream without repeats. */
async function* mergeSorted(streams: AsyncGenerator<string>[]): AsyncGenerator<string> {
  const heads = await Promise.all(streams.map((stream) => stream.next()));
  let last: string | undefined;
  for (;;) {
    let smallest = -1;
    heads.forEach((head, index) => {
      if (head.done) return;
      if (smallest === -1 || head.value < (heads[smallest].value as string)) smallest = index;
    });
    if (smallest === -1) return;
    const value = heads[smallest].value as string;
    if (value !== last) yield value;
    last = value;
    heads[smallest] = await streams[smallest].next();
  }
}

/**
 * Every version directory, as a drive-relative path, in order: the union of the directories on
 * the drives, the journaled versions and the rows of the drives' record databases (a small
 * version has no directory at all once checkpointed).
 */
export function walkVersionDirectories(
  ctx: SetContext,
  options: { bucket?: string; driveIndexes?: number[] } = {},
): AsyncGenerator<string> {
  const driveIndexes = options.driveIndexes ?? ctx.drives.map((_, index) => index);
  const prefix =
    options.bucket === undefined ? `${objectsDirectory}/` : `${bucketDirectory(options.bucket)}/`;
  return mergeSorted([
    walkFileDirectories(ctx, options.bucket, driveIndexes),
    ...driveIndexes.map((driveIndex) => databaseDirectories(ctx, driveIndex, prefix)),
  ]);
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
