// The steps of one server's run, each alone: a failed step is reported with the server's last
// words and the run goes on to the next. Called by bench/s3-load.ts with the options it parsed.
import { runBigUpload } from './big-upload.ts';
import { createBucket } from './bucket-ops.ts';
import type { CellResult } from './cell.ts';
import { runListing } from './listing.ts';
import { runPutGetMatrix } from './matrix.ts';
import { runMixed } from './mixed.ts';
import type { PayloadPool } from './payload.ts';
import { settle } from './process-stats.ts';
import * as report from './report.ts';
import type { BenchServer } from './servers.ts';
import type { SignedS3Client } from './signed-client.ts';

const mebibyte = 1024 * 1024;
const gibibyte = 1024 * mebibyte;
/** A bound on any one cell's operations, whatever its duration. */
const maximumOperationsPerCell = 200_000;
/** Logical bytes a PUT cell may leave stored before the GET cells read them back. */
const matrixStoredBytesBound = 2 * gibibyte;

export interface ServerRunOptions {
  steps: Set<string>;
  durationMs: number;
  sizesBytes: number[];
  concurrencies: number[];
  bigUploadBytes: number;
  listKeys: number;
  listFillTimeLimitMs: number;
}

interface StepContext {
  server: BenchServer;
  client: SignedS3Client;
  bucket: string;
  pool: PayloadPool;
  options: ServerRunOptions;
  result: report.ServerReport;
  onCell: (cell: CellResult) => void;
  say: (text: string) => void;
}

async function bigUploadStep(context: StepContext): Promise<void> {
  const { server, client, bucket, pool, options, result } = context;
  result.bigUpload = await runBigUpload({
    client,
    bucket,
    serverPid: server.pid,
    pool,
    objectBytes: options.bigUploadBytes,
  });
  context.say(report.describeBigUpload(result.bigUpload));
}

async function matrixStep(context: StepContext): Promise<void> {
  const { server, client, bucket, pool, options } = context;
  await runPutGetMatrix({
    client,
    bucket,
    serverPid: server.pid,
    serverDirectory: server.directory,
    pool,
    sizesBytes: options.sizesBytes,
    concurrencies: options.concurrencies,
    durationMs: options.durationMs,
    maximumOperationsPerCell,
    storedBytesBound: matrixStoredBytesBound,
    onCell: context.onCell,
  });
}

async function mixedStep(context: StepContext): Promise<void> {
  const { server, client, bucket, pool, options, result } = context;
  const mixed = await runMixed({
    client,
    bucket,
    serverPid: server.pid,
    pool,
    objectBytes: mebibyte,
    prefilledObjects: 500,
    concurrency: 16,
    durationMs: options.durationMs,
    maximumOperations: maximumOperationsPerCell,
    seed: 1,
  });
  result.mixedCounts = mixed.counts;
  context.onCell(mixed.total);
  context.say(`mixed operation counts: ${JSON.stringify(mixed.counts)}`);
}

async function listingStep(context: StepContext): Promise<void> {
  const { server, client, pool, options, result } = context;
  const bucket = `${context.bucket}-list`;
  await createBucket(client, bucket);
  result.listing = await runListing({
    client,
    bucket,
    serverPid: server.pid,
    pool,
    keyCount: options.listKeys,
    objectBytes: 64,
    fillConcurrency: 64,
    fillTimeLimitMs: options.listFillTimeLimitMs,
    durationMs: options.durationMs,
    pageKeys: 1000,
  });
  for (const line of report.describeListing(result.listing).split('\n')) context.say(line);
}

function describeCell(cell: CellResult): string {
  return `${cell.label} c${cell.concurrency}: ${(cell.medianBytesPerSecond / 1e6).toFixed(0)} MB/s median, ${cell.objectsPerSecond.toFixed(0)} obj/s, p50 ${cell.p50Ms.toFixed(2)} ms, p99 ${cell.p99Ms.toFixed(2)} ms, peak RSS ${(cell.serverPeakRssBytes / mebibyte).toFixed(0)} MiB, ${cell.errors} errors${cell.firstError ? ` (${cell.firstError.slice(0, 200)})` : ''}`;
}

/** Runs the chosen steps against a started server; the caller starts and stops it. */
export async function runServerSteps(
  server: BenchServer,
  client: SignedS3Client,
  options: ServerRunOptions,
  pool: PayloadPool,
  etagIsMd5: () => Promise<boolean>,
): Promise<report.ServerReport> {
  const result: report.ServerReport = {
    server: server.name,
    cells: [],
    mixedCounts: null,
    listing: null,
    bigUpload: null,
    etagIsMd5: null,
    notes: [],
  };
  const say = (text: string) => console.log(`  ${server.name} ${text}`);
  const context: StepContext = {
    server,
    client,
    bucket: 'bench',
    pool,
    options,
    result,
    say,
    onCell: (cell) => {
      result.cells.push(cell);
      say(describeCell(cell));
    },
  };
  const step = async (label: string, work: () => Promise<void>) => {
    try {
      say(`settled in ${(await settle(server.pid, server.directory)).toFixed(1)} s before the ${label} step`);
      await work();
    } catch (error) {
      const message = `${label} failed: ${(error as Error).message.slice(0, 400)}`;
      result.notes.push(message);
      say(`${message}\n  server output (last lines):\n${server.output().slice(-2000)}`);
    }
  };
  await createBucket(client, context.bucket);
  await step('ETag check', async () => {
    result.etagIsMd5 = await etagIsMd5();
  });
  if (options.steps.has('big') && options.bigUploadBytes > 0)
    await step('big upload', () => bigUploadStep(context));
  if (options.steps.has('matrix')) await step('PUT/GET matrix', () => matrixStep(context));
  if (options.steps.has('mixed')) await step('mixed', () => mixedStep(context));
  if (options.steps.has('list') && options.listKeys > 0) await step('listing', () => listingStep(context));
  return result;
}
