// `npm run bench s3 [-- --duration=SECONDS --servers=coffre,minio --list-keys=N --big-gib=N
//   --skip=client-cost,matrix,mixed,list,big --agent-commit=REV --list-fill-minutes=N
//   --save=FILE.json --compare=FILE.json --sizes=4KiB,1MiB,64MiB --concurrencies=1,16,64
//   --agent-node-args=--cpu-prof,--cpu-prof-dir=DIR]`:
// an S3 load generator shaped like MinIO's warp, against the Coffre agent (`node agent/main.ts`,
// 4+2 over six directories) and, when bench/minio.ts has built it, MinIO on the same drive with the
// same key and parity. Per server: PUT and GET of 4 KiB, 1 MiB and 64 MiB at concurrency 1, 16 and
// 64; a mixed 45% GET / 30% HEAD / 15% PUT / 10% DELETE run; ListObjectsV2 over 100,000 keys in
// pages of 1000; one streamed 5 GiB PutObject with the server's RSS sampled. Everything talks to
// 127.0.0.1 only, each cell is bounded in time and count, servers are stopped by PID, what was
// written is deleted as the run goes and the temp directory removed at the end. Options take the
// `--name=value` form (bench/main.ts reads bare words as suite names); BENCH_S3_* variables too.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, statfs, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { minioBinary, minioVersion } from './minio.ts';
import { createBucket } from './s3-load/bucket-ops.ts';
import { measureClientCost } from './s3-load/client-cost.ts';
import { sizeLabel } from './s3-load/matrix.ts';
import { PayloadPool } from './s3-load/payload.ts';
import * as report from './s3-load/report.ts';
import { runServerSteps, type ServerRunOptions } from './s3-load/server-steps.ts';
import { agentEntry, type BenchServer, startCoffre, startMinio } from './s3-load/servers.ts';
import { SignedS3Client } from './s3-load/signed-client.ts';
import { removeScratch, scratchDirectory } from './scratch.ts';

const repositoryRoot = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const mebibyte = 1024 * 1024;
const gibibyte = 1024 * mebibyte;
const steps = ['client-cost', 'matrix', 'mixed', 'list', 'big'] as const;

interface LoadOptions extends ServerRunOptions {
  /** Bench the agent as committed at this revision (a `git archive` copy) instead of the work tree. */
  agentCommit: string | null;
  /** Write the servers' figures to this JSON file. */
  saveFile: string | null;
  /** Add the servers' figures saved by an earlier run (--save) to the side-by-side table. */
  compareFile: string | null;
  servers: string[];
  /** Node options for the agent's process (e.g. --cpu-prof), comma-separated on the command line. */
  agentNodeArguments: string[];
}

function readOptions(): LoadOptions {
  const { values } = parseArgs({
    args: process.argv.slice(2).filter((argument) => argument.startsWith('--')),
    strict: false,
    options: {
      duration: { type: 'string' },
      servers: { type: 'string' },
      'list-keys': { type: 'string' },
      'big-gib': { type: 'string' },
      skip: { type: 'string' },
      'agent-commit': { type: 'string' },
      'list-fill-minutes': { type: 'string' },
      save: { type: 'string' },
      compare: { type: 'string' },
      sizes: { type: 'string' },
      concurrencies: { type: 'string' },
      'agent-node-args': { type: 'string' },
    },
  });
  const value = (name: string, variable: string, fallback: string) =>
    String(values[name] ?? process.env[variable] ?? fallback);
  const skip = new Set(value('skip', 'BENCH_S3_SKIP', '').split(',').filter(Boolean));
  return {
    durationMs: Number(value('duration', 'BENCH_S3_DURATION', '3')) * 1000,
    agentCommit: value('agent-commit', 'BENCH_S3_AGENT_COMMIT', '') || null,
    listFillTimeLimitMs: Number(value('list-fill-minutes', 'BENCH_S3_LIST_FILL_MINUTES', '10')) * 60_000,
    saveFile: value('save', 'BENCH_S3_SAVE', '') || null,
    compareFile: value('compare', 'BENCH_S3_COMPARE', '') || null,
    servers: value('servers', 'BENCH_S3_SERVERS', minioBinary() ? 'coffre,minio' : 'coffre').split(','),
    listKeys: Number(value('list-keys', 'BENCH_S3_LIST_KEYS', '100000')),
    bigUploadBytes: Math.round(Number(value('big-gib', 'BENCH_S3_BIG_GIB', '5')) * gibibyte),
    steps: new Set(steps.filter((step) => !skip.has(step))),
    sizesBytes: value('sizes', 'BENCH_S3_SIZES', '4KiB,1MiB,64MiB').split(',').map(parseSize),
    concurrencies: value('concurrencies', 'BENCH_S3_CONCURRENCIES', '1,16,64').split(',').map(Number),
    agentNodeArguments: value('agent-node-args', 'BENCH_S3_AGENT_NODE_ARGS', '').split(',').filter(Boolean),
  };
}

/** "4KiB", "1MiB", "64MiB" or a plain number of bytes. */
function parseSize(text: string): number {
  const match = /^(\d+)(KiB|MiB|GiB)?$/.exec(text.trim());
  if (match === null) throw new Error(`--sizes: "${text}" is not a size such as 4KiB, 1MiB or 64MiB`);
  const unit = { KiB: 1024, MiB: mebibyte, GiB: gibibyte }[match[2] ?? ''] ?? 1;
  return Number(match[1]) * unit;
}

/**
 * The largest disk footprint of one server's run, erasure overhead (6/4) included: the biggest
 * PUT cell's objects plus as many again being written over them, or the big upload.
 */
function diskNeedBytes(options: LoadOptions): number {
  const largestCell = Math.max(...options.sizesBytes) * Math.max(...options.concurrencies) * 2;
  return Math.max(largestCell, options.bigUploadBytes) * 1.5 + options.listKeys * 64 * 1024;
}

/** Scales the run down, saying so, when the temp directory's filesystem cannot hold it. */
async function fitToDisk(options: LoadOptions, directory: string, notes: string[]): Promise<void> {
  const stats = await statfs(directory);
  const freeBytes = stats.bavail * stats.bsize;
  const usable = freeBytes * 0.8;
  notes.push(`free space under ${directory}: ${(freeBytes / gibibyte).toFixed(1)} GiB`);
  if (diskNeedBytes(options) <= usable) return;
  while (diskNeedBytes(options) > usable && options.concurrencies.length > 1) options.concurrencies.pop();
  if (options.bigUploadBytes * 1.5 > usable)
    options.bigUploadBytes = Math.floor(usable / 1.5 / mebibyte) * mebibyte;
  if (diskNeedBytes(options) > usable)
    options.sizesBytes = options.sizesBytes.filter((size) => size <= mebibyte);
  notes.push(
    `NOTE: scaled down to fit the disk: concurrencies ${options.concurrencies.join(', ')}, sizes ${options.sizesBytes.map(sizeLabel).join(', ')}, big upload ${(options.bigUploadBytes / gibibyte).toFixed(2)} GiB`,
  );
}

function describeRevision(revision: string): string {
  const shown = spawnSync('git', ['log', '-1', '--format=%h %cI %s', revision], {
    cwd: repositoryRoot,
    encoding: 'utf8',
  });
  return shown.status === 0 ? shown.stdout.trim().slice(0, 120) : revision;
}

async function etagIsMd5(client: SignedS3Client, bucket: string, pool: PayloadPool): Promise<boolean> {
  const body = pool.bytes(mebibyte, 12345);
  const response = await client.request({ method: 'PUT', path: `/${bucket}/etag-check`, body });
  await client.request({ method: 'DELETE', path: `/${bucket}/etag-check` });
  return response.headers.etag === `"${createHash('md5').update(body).digest('hex')}"`;
}

async function startServer(
  name: string,
  agentMain: string,
  directory: string,
  options: LoadOptions,
): Promise<BenchServer> {
  if (name === 'coffre') return startCoffre(agentMain, directory, options.agentNodeArguments);
  const binary = minioBinary();
  if (name === 'minio' && binary) return startMinio(binary, directory);
  throw new Error(`unknown or unbuilt server "${name}" (build MinIO with: node bench/minio.ts)`);
}

async function benchServer(
  name: string,
  agentMain: string,
  options: LoadOptions,
  directory: string,
  pool: PayloadPool,
): Promise<report.ServerReport> {
  const server = await startServer(name, agentMain, directory, options);
  const client = new SignedS3Client(server.target, Math.max(...options.concurrencies, 64));
  try {
    return await runServerSteps(server, client, options, pool, () => etagIsMd5(client, 'bench', pool));
  } finally {
    client.close();
    await server.stop();
  }
}

/** Starts an agent of its own for the SDK-or-raw comparison and prints both clients' CPU cost. */
async function compareClients(agentMain: string, directory: string, pool: PayloadPool, durationMs: number) {
  await mkdir(directory);
  const server = await startCoffre(agentMain, directory);
  const client = new SignedS3Client(server.target, 16);
  try {
    await createBucket(client, 'bench');
    const costs = await measureClientCost({
      target: server.target,
      rawClient: client,
      bucket: 'bench',
      serverPid: server.pid,
      pool,
      durationMs: Math.min(durationMs, 3000),
    });
    console.log('\nClient CPU per request (the load generator uses the raw signed client, the cheaper):');
    console.log(report.describeClientCost(costs));
  } finally {
    client.close();
    await server.stop();
    await rm(directory, { recursive: true, force: true });
  }
}

function printReports(reports: report.ServerReport[]): void {
  for (const item of reports) {
    console.log(`\n### ${item.server}: cells (MB = 10^6 bytes)\n`);
    console.log(report.cellTable(item.cells));
    if (item.listing) console.log(`\nListObjectsV2:\n${report.describeListing(item.listing)}`);
    if (item.bigUpload) console.log(`\nBig upload: ${report.describeBigUpload(item.bigUpload)}`);
    console.log(`\nGoals:\n${report.goals(item)}`);
    for (const note of item.notes) console.log(`NOTE: ${note}`);
  }
}

export async function run(): Promise<void> {
  const options = readOptions();
  const root = await scratchDirectory('coffre-bench-s3-');
  const notes: string[] = [];
  const reports: report.ServerReport[] = [];
  try {
    await fitToDisk(options, root, notes);
    const agentMain = await agentEntry(options.agentCommit, root);
    if (options.servers.includes('coffre')) {
      notes.push(
        `agent: ${options.agentCommit ? `committed revision ${describeRevision(options.agentCommit)}` : `work tree at ${describeRevision('HEAD')} (with uncommitted edits, if any)`}`,
      );
    }
    const minio = minioBinary();
    if (options.servers.includes('minio') && minio) notes.push(`minio: ${minioVersion(minio)}`);
    console.log(
      `S3 load (${new Date().toISOString()}), ${options.durationMs / 1000} s per cell, servers: ${options.servers.join(', ')}`,
    );
    console.log(report.describeMachine());
    for (const note of notes) console.log(note);
    const pool = new PayloadPool();
    if (options.steps.has('client-cost') && options.servers.includes('coffre')) {
      await compareClients(agentMain, path.join(root, 'client-cost'), pool, options.durationMs);
    }
    for (const name of options.servers) {
      const directory = path.join(root, name);
      await mkdir(directory);
      console.log(`\n### ${name}`);
      try {
        reports.push(await benchServer(name, agentMain, options, directory, pool));
      } finally {
        await rm(directory, { recursive: true, force: true });
      }
    }
    printReports(reports);
    console.log(`\nat the end: ${report.md5Reference()}`);
    if (options.saveFile) await writeFile(options.saveFile, JSON.stringify(reports, null, 1));
    if (options.compareFile) {
      const earlier = JSON.parse(await readFile(options.compareFile, 'utf8')) as report.ServerReport[];
      reports.push(...earlier.filter((item) => !reports.some((current) => current.server === item.server)));
      // Coffre first, then the server it is compared with.
      reports.sort((left, right) => Number(right.server === 'coffre') - Number(left.server === 'coffre'));
    }
    if (reports.length === 2) {
      console.log(`\n### side by side\n\n${report.sideBySide(reports[0], reports[1])}`);
    }
  } finally {
    await removeScratch(root);
  }
}
