// Markdown tables of the load generator's figures (pasteable into BENCHMARKS.md): one per server,
// one side by side when two servers ran, the issue's goals checked, and the machine described.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import type { BigUploadResult } from './big-upload.ts';
import type { CellResult } from './cell.ts';
import type { ClientCost } from './client-cost.ts';
import type { ListingResult } from './listing.ts';

export interface ServerReport {
  server: string;
  cells: CellResult[];
  mixedCounts: Record<string, number> | null;
  listing: ListingResult | null;
  bigUpload: BigUploadResult | null;
  etagIsMd5: boolean | null;
  notes: string[];
}

const megabyte = 1e6;
const mebibyte = 1024 * 1024;

function fixed(value: number, digits = 0): string {
  return Number.isFinite(value) ? value.toFixed(digits) : '-';
}

/** MB/s with a decimal below 10, so small-object cells do not all read 0. */
function rate(bytesPerSecond: number): string {
  const value = bytesPerSecond / megabyte;
  return fixed(value, value < 10 ? 1 : 0);
}

function milliseconds(value: number): string {
  return !Number.isFinite(value) ? '-' : value < 10 ? value.toFixed(2) : value.toFixed(0);
}

function cpuPercent(cpuSeconds: number, wallSeconds: number): string {
  return `${fixed((100 * cpuSeconds) / wallSeconds)}%`;
}

export function cellTable(cells: CellResult[]): string {
  const lines = [
    '| cell | conc | ops | median MB/s | avg MB/s | obj/s | p50 ms | p99 ms | server peak RSS MiB | server CPU | client CPU | errors |',
    '|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const cell of cells) {
    lines.push(
      `| ${cell.label} | ${cell.concurrency} | ${cell.operations} | ${rate(cell.medianBytesPerSecond)} | ${rate(cell.averageBytesPerSecond)} | ${fixed(cell.objectsPerSecond)} | ${milliseconds(cell.p50Ms)} | ${milliseconds(cell.p99Ms)} | ${fixed(cell.serverPeakRssBytes / mebibyte)} | ${cpuPercent(cell.serverCpuSeconds, cell.wallSeconds)} | ${cpuPercent(cell.clientCpuSeconds, cell.wallSeconds)} | ${cell.errors}${cell.firstError ? ` (${cell.firstError.slice(0, 80).replace(/\|/g, '/')})` : ''} |`,
    );
  }
  return lines.join('\n');
}

export function sideBySide(left: ServerReport, right: ServerReport): string {
  const names = `${left.server} / ${right.server}`;
  const lines = [
    `| cell | conc | median MB/s (${names}) | obj/s (${names}) | p50 ms (${names}) | p99 ms (${names}) | peak RSS MiB (${names}) |`,
    '|---|--:|--:|--:|--:|--:|--:|',
  ];
  for (const cell of left.cells) {
    const other = right.cells.find(
      (item) => item.label === cell.label && item.concurrency === cell.concurrency,
    );
    if (!other) continue;
    const pair = (a: string, b: string) => `${a} / ${b}`;
    lines.push(
      `| ${cell.label} | ${cell.concurrency} | ${pair(rate(cell.medianBytesPerSecond), rate(other.medianBytesPerSecond))} | ${pair(fixed(cell.objectsPerSecond), fixed(other.objectsPerSecond))} | ${pair(milliseconds(cell.p50Ms), milliseconds(other.p50Ms))} | ${pair(milliseconds(cell.p99Ms), milliseconds(other.p99Ms))} | ${pair(fixed(cell.serverPeakRssBytes / mebibyte), fixed(other.serverPeakRssBytes / mebibyte))} |`,
    );
  }
  return lines.join('\n');
}

export function describeListing(listing: ListingResult): string {
  return [
    `fill: ${listing.fill.operations} keys in ${fixed(listing.fill.wallSeconds, 1)} s (${fixed(listing.fill.objectsPerSecond)} PUT/s at concurrency ${listing.fill.concurrency}, p50 ${milliseconds(listing.fill.p50Ms)} ms, p99 ${milliseconds(listing.fill.p99Ms)} ms, ${listing.fill.errors} errors)`,
    `list: ${listing.passes} full pass(es), ${listing.pages.operations} pages, ${fixed(listing.keysPerSecond)} keys/s, page p50 ${milliseconds(listing.pages.p50Ms)} ms, p99 ${milliseconds(listing.pages.p99Ms)} ms, server peak RSS ${fixed(listing.pages.serverPeakRssBytes / mebibyte)} MiB, passes with a wrong key count: ${listing.inconsistentPasses}`,
  ].join('\n');
}

export function describeBigUpload(big: BigUploadResult): string {
  const growth = big.rssLargestSampleBytes - big.rssBeforeBytes;
  return `single streamed PutObject of ${fixed(big.objectBytes / 1024 ** 3, 2)} GiB: ${fixed(big.seconds, 1)} s, ${fixed(big.bytesPerSecond / megabyte)} MB/s; server RSS before ${fixed(big.rssBeforeBytes / mebibyte)} MiB, largest of ${big.samples} samples ${fixed(big.rssLargestSampleBytes / mebibyte)} MiB (growth ${fixed(growth / mebibyte)} MiB), VmHWM ${fixed(big.peakRssBytes / mebibyte)} MiB${big.peakWasReset ? ' (reset before the upload)' : ' (lifetime peak: clear_refs refused)'}; ETag ${big.etag}`;
}

export function describeClientCost(costs: ClientCost[]): string {
  const lines = [
    '| cell | SDK v3 client CPU µs/op | raw signed client CPU µs/op | SDK obj/s | raw obj/s | errors (SDK/raw) |',
    '|---|--:|--:|--:|--:|--:|',
  ];
  for (const cost of costs) {
    const perOperation = (cell: CellResult) => (1e6 * cell.clientCpuSeconds) / Math.max(cell.operations, 1);
    lines.push(
      `| ${cost.label} | ${fixed(perOperation(cost.sdk))} | ${fixed(perOperation(cost.raw))} | ${fixed(cost.sdk.objectsPerSecond)} | ${fixed(cost.raw.objectsPerSecond)} | ${cost.sdk.errors}/${cost.raw.errors} |`,
    );
  }
  return lines.join('\n');
}

function best(cells: CellResult[], label: string, value: (cell: CellResult) => number): number {
  return Math.max(...cells.filter((cell) => cell.label === label).map(value), 0);
}

/** The issue's goals for this machine class, each with the figure that answers it. */
export function goals(report: ServerReport): string {
  const putOneStream = report.cells.find((cell) => cell.label === 'PUT 64 MiB' && cell.concurrency === 1);
  const bestGet = Math.max(
    best(report.cells, 'GET 64 MiB', (cell) => cell.medianBytesPerSecond),
    best(report.cells, 'GET 1 MiB', (cell) => cell.medianBytesPerSecond),
  );
  const smallPuts = best(report.cells, 'PUT 4 KiB', (cell) => cell.objectsPerSecond);
  const big = report.bigUpload;
  const growth = big ? big.rssLargestSampleBytes - big.rssBeforeBytes : Number.NaN;
  const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');
  const lines = [
    `- one PUT stream (64 MiB, c1) >= 500 MB/s with MD5 ETags: ${putOneStream ? fixed(putOneStream.medianBytesPerSecond / megabyte) : '-'} MB/s, ETag is the body's MD5: ${report.etagIsMd5 ?? '-'} -> ${verdict((putOneStream?.medianBytesPerSecond ?? 0) >= 500 * megabyte && report.etagIsMd5 === true)}`,
    `- GET >= 1000 MB/s (best GET cell): ${fixed(bestGet / megabyte)} MB/s -> ${verdict(bestGet >= 1000 * megabyte)}`,
    `- 4 KiB PUTs >= 1000/s durable (best 4 KiB PUT cell): ${fixed(smallPuts)}/s -> ${verdict(smallPuts >= 1000)}`,
    `- 5 GiB upload with RSS growth < 256 MiB: ${big ? `${fixed(growth / mebibyte)} MiB over ${fixed(big.objectBytes / 1024 ** 3, 2)} GiB` : '-'} -> ${big ? verdict(growth < 256 * mebibyte && big.objectBytes >= 5 * 1024 ** 3) : 'not run'}`,
  ];
  return lines.join('\n');
}

function diskKinds(): string {
  try {
    return readdirSync('/sys/block')
      .filter((name) => !name.startsWith('loop') && !name.startsWith('ram'))
      .map((name) => {
        const rotational = readFileSync(`/sys/block/${name}/queue/rotational`, 'utf8').trim();
        const sectors = Number(readFileSync(`/sys/block/${name}/size`, 'utf8'));
        return `${name} ${fixed((sectors * 512) / 1e9)} GB ${rotational === '1' ? 'rotational' : 'non-rotational'}${name.startsWith('vd') ? ' virtio' : ''}`;
      })
      .join(', ');
  } catch {
    return 'unknown';
  }
}

/**
 * MD5 of 64 MiB in this process, now: the issue quotes ~750 MB/s for this machine class when idle,
 * so this one figure says how much of a core the run was getting (the machine may be shared).
 */
export function md5Reference(): string {
  const bytes = Buffer.alloc(64 * mebibyte, 0x5a);
  const started = performance.now();
  const hash = createHash('md5');
  for (let offset = 0; offset < bytes.byteLength; offset += mebibyte)
    hash.update(bytes.subarray(offset, offset + mebibyte));
  hash.digest();
  const seconds = (performance.now() - started) / 1000;
  return `MD5 reference (one core, this process): ${fixed(bytes.byteLength / seconds / megabyte)} MB/s; load average ${os
    .loadavg()
    .map((value) => value.toFixed(2))
    .join(' ')}`;
}

export function describeMachine(): string {
  const cpuModel = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown';
  return [
    `- ${os.availableParallelism()} cores (nproc), ${cpuModel}`,
    `- memory ${fixed(os.totalmem() / 1024 ** 3, 1)} GiB, kernel ${os.release()}, Node ${process.version}`,
    `- disks: ${diskKinds()}`,
    `- ${md5Reference()}`,
  ].join('\n');
}
