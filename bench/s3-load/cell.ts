// One cell of the benchmark, shaped like MinIO warp's: `concurrency` workers each run an operation
// in a loop until the cell's duration has passed (or its operation count is reached), then the
// cell waits for the requests in flight. Throughput is reported as warp does, the median over
// one-second segments with each operation's bytes spread over its own start..end, beside the
// plain average; latency as p50/p99 of each request's start-to-last-byte time.
import { readCpuSeconds, readMemory, resetPeakRss } from './process-stats.ts';

export interface CellOptions {
  label: string;
  concurrency: number;
  durationMs: number;
  /** A bound on operations whatever the duration. */
  maximumOperations: number;
  /** The server's PID, for its peak RSS and CPU time over the cell. */
  serverPid: number;
  /** While this says true the cell goes on past its duration (a listing finishes its first pass). */
  unfinished?: () => boolean;
  /** Runs one operation and returns the payload bytes it moved (0 for HEAD, DELETE, LIST). */
  operation: (worker: number, sequence: number) => Promise<number>;
}

export interface CellResult {
  label: string;
  concurrency: number;
  operations: number;
  errors: number;
  firstError: string | null;
  bytes: number;
  wallSeconds: number;
  medianBytesPerSecond: number;
  averageBytesPerSecond: number;
  objectsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  serverPeakRssBytes: number;
  serverCpuSeconds: number;
  clientCpuSeconds: number;
}

/** A cell that fails this often is broken, not slow: stop it rather than spin on errors. */
const maximumErrors = 20;

export function percentile(sorted: Float64Array | number[], fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1));
  return sorted[index];
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

interface Completed {
  startMs: number;
  endMs: number;
  bytes: number;
}

/** Median bytes/s over the whole one-second segments of the cell (the average if there are none). */
export function medianSegmentRate(completed: Completed[], wallMs: number): number {
  const segments = Math.floor(wallMs / 1000);
  if (segments < 1) return completed.reduce((sum, item) => sum + item.bytes, 0) / (wallMs / 1000);
  const bytesPerSegment = new Array<number>(segments).fill(0);
  for (const item of completed) {
    const durationMs = Math.max(item.endMs - item.startMs, 1e-3);
    const first = Math.floor(item.startMs / 1000);
    const last = Math.min(segments - 1, Math.floor(item.endMs / 1000));
    for (let segment = first; segment <= last; segment += 1) {
      const overlapMs = Math.min(item.endMs, (segment + 1) * 1000) - Math.max(item.startMs, segment * 1000);
      if (overlapMs > 0) bytesPerSegment[segment] += (item.bytes * overlapMs) / durationMs;
    }
  }
  return median(bytesPerSegment);
}

export async function runCell(options: CellOptions): Promise<CellResult> {
  resetPeakRss(options.serverPid);
  const serverCpuBefore = readCpuSeconds(options.serverPid);
  const clientCpuBefore = process.cpuUsage();
  const completed: Completed[] = [];
  let errors = 0;
  let firstError: string | null = null;
  let launched = 0;
  const origin = performance.now();
  const deadline = origin + options.durationMs;
  const worker = async (workerIndex: number) => {
    for (let sequence = 0; ; sequence += 1) {
      const timeUp = performance.now() >= deadline && !options.unfinished?.();
      if (timeUp || launched >= options.maximumOperations || errors >= maximumErrors) return;
      launched += 1;
      const startMs = performance.now() - origin;
      try {
        const bytes = await options.operation(workerIndex, sequence);
        completed.push({ startMs, endMs: performance.now() - origin, bytes });
      } catch (error) {
        errors += 1;
        firstError ??= (error as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, (_, index) => worker(index)));
  const wallMs = performance.now() - origin;
  const clientCpu = process.cpuUsage(clientCpuBefore);
  const latencies = Float64Array.from(completed, (item) => item.endMs - item.startMs).sort();
  const bytes = completed.reduce((sum, item) => sum + item.bytes, 0);
  return {
    label: options.label,
    concurrency: options.concurrency,
    operations: completed.length,
    errors,
    firstError,
    bytes,
    wallSeconds: wallMs / 1000,
    medianBytesPerSecond: medianSegmentRate(completed, wallMs),
    averageBytesPerSecond: bytes / (wallMs / 1000),
    objectsPerSecond: completed.length / (wallMs / 1000),
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    serverPeakRssBytes: readMemory(options.serverPid).peakRssBytes,
    serverCpuSeconds: readCpuSeconds(options.serverPid) - serverCpuBefore,
    clientCpuSeconds: (clientCpu.user + clientCpu.system) / 1e6,
  };
}
