// ListObjectsV2 over many keys: fill a bucket with small objects at high concurrency (timed, and
// bounded in time: the listing then covers what was written), then walk it in pages of 1000 with
// continuation tokens, one pass after another for the cell's duration, timing each page.
import { listPage } from './bucket-ops.ts';
import { type CellResult, runCell } from './cell.ts';
import type { PayloadPool } from './payload.ts';
import type { SignedS3Client } from './signed-client.ts';

export interface ListingOptions {
  client: SignedS3Client;
  bucket: string;
  serverPid: number;
  pool: PayloadPool;
  keyCount: number;
  objectBytes: number;
  fillConcurrency: number;
  fillTimeLimitMs: number;
  durationMs: number;
  pageKeys: number;
}

export interface ListingResult {
  fill: CellResult;
  keysListed: number;
  passes: number;
  pages: CellResult;
  /** Keys per second over the listing passes. */
  keysPerSecond: number;
  /** Passes that returned a key count other than what was written (should be 0). */
  inconsistentPasses: number;
}

/** Keys spread over 100 "folders", as a backup tool's chunk store would be. */
export function listingKey(index: number): string {
  return `d${String(index % 100).padStart(2, '0')}/obj-${String(index).padStart(8, '0')}`;
}

export async function runListing(options: ListingOptions): Promise<ListingResult> {
  const { client, bucket } = options;
  let nextIndex = 0;
  const fill = await runCell({
    label: `fill ${options.keyCount} keys`,
    concurrency: options.fillConcurrency,
    durationMs: options.fillTimeLimitMs,
    maximumOperations: options.keyCount,
    serverPid: options.serverPid,
    operation: async () => {
      const index = nextIndex++;
      await client.request({
        method: 'PUT',
        path: `/${bucket}/${listingKey(index)}`,
        body: options.pool.body(options.objectBytes, index),
      });
      return options.objectBytes;
    },
  });
  // One walker: pages of one listing follow each other (each needs the previous page's token).
  let token: string | null = null;
  let keysThisPass = 0;
  let keysListed = 0;
  let inconsistentPasses = 0;
  let passes = 0;
  const pages = await runCell({
    label: `ListObjectsV2 pages of ${options.pageKeys}`,
    concurrency: 1,
    durationMs: options.durationMs,
    maximumOperations: 1_000_000,
    serverPid: options.serverPid,
    unfinished: () => passes === 0,
    operation: async () => {
      const page = await listPage(client, bucket, {
        maximumKeys: options.pageKeys,
        continuationToken: token,
      });
      keysThisPass += page.keys.length;
      keysListed += page.keys.length;
      token = page.nextContinuationToken;
      if (token === null) {
        if (keysThisPass !== fill.operations) inconsistentPasses += 1;
        keysThisPass = 0;
        passes += 1;
      }
      return 0;
    },
  });
  return {
    fill,
    keysListed,
    passes,
    pages,
    keysPerSecond: keysListed / pages.wallSeconds,
    inconsistentPasses,
  };
}
