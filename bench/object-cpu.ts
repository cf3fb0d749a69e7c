import os from 'node:os';
import { PayloadPool } from './s3-load/payload.ts';
import { readMemory, threadCpuSeconds } from './s3-load/process-stats.ts';
import { suiteArguments, withAgent } from './s3-load/servers.ts';
import { SignedS3Client } from './s3-load/signed-client.ts';

const mebibyte = 1024 * 1024;

/** Whole milliseconds, or tenths below 10 (small objects). */
function formatMilliseconds(value: number): string {
  return value < 10 ? value.toFixed(1) : value.toFixed(0);
}

/** The CPU milliseconds each kind of thread used between two readings, the event loop (tid = pid) apart. */
function cpuByThreadKind(pid: number, before: Map<string, number>, after: Map<string, number>) {
  const byKind = new Map<string, number>();
  for (const [thread, seconds] of after) {
    const kind = thread.endsWith(`#${pid}`) ? 'main' : thread.split('#')[0];
    byKind.set(kind, (byKind.get(kind) ?? 0) + (seconds - (before.get(thread) ?? 0)) * 1000);
  }
  return byKind;
}

export async function run(): Promise<void> {
  const { values, agent } = suiteArguments(['mode', 'count', 'size-mib', 'concurrency', 'keys']);
  const mode = String(values.mode ?? 'put');
  const count = Number(values.count ?? 6);
  // Requests in flight at once (PUT only): each worker writes its own two keys in turn.
  const concurrency = Number(values.concurrency ?? 1);
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new Error('--concurrency must be a whole number >= 1');
  if (concurrency > 1 && mode !== 'put') throw new Error('--concurrency applies to --mode=put only');
  // PUT keys: 'two' (each worker overwrites its two keys in turn, so the agent also deletes what
  // each PUT replaced, as a long S3 cell does) or 'new' (a key per PUT: nothing is removed).
  const keys = String(values.keys ?? 'two');
  if (keys !== 'two' && keys !== 'new') throw new Error('--keys must be two or new');
  if (values.keys !== undefined && mode !== 'put') throw new Error('--keys applies to --mode=put only');
  const sizeBytes = Number(values['size-mib'] ?? 64) * mebibyte;
  await withAgent('object-cpu', agent, async (server) => {
    const client = new SignedS3Client(server.target, Math.max(2, concurrency));
    const pool = new PayloadPool();
    try {
      await client.request({ method: 'PUT', path: '/bench' });
      if (mode === 'get' || mode === 'copy')
        await client.request({ method: 'PUT', path: '/bench/object', body: pool.body(sizeBytes, 1) });
      const before = threadCpuSeconds(server.pid);
      const clientBefore = process.cpuUsage();
      const startMs = performance.now();
      if (mode === 'put') {
        let next = 0;
        await Promise.all(
          Array.from({ length: concurrency }, async (_, worker) => {
            for (let index = next++; index < count; index = next++) {
              const response = await client.request({
                method: 'PUT',
                path: `/bench/object${worker}-${keys === 'two' ? index % 2 : index}`,
                body: pool.body(sizeBytes, index),
              });
              if (response.status !== 200) throw new Error(`PutObject answered ${response.status}`);
            }
          }),
        );
      } else {
        for (let index = 0; index < count; index += 1) {
          if (mode === 'copy') {
            const response = await client.request({
              method: 'PUT',
              path: `/bench/copy${index % 2}`,
              headers: { 'x-amz-copy-source': '/bench/object' },
            });
            if (response.status !== 200) throw new Error(`CopyObject answered ${response.status}`);
          } else {
            const response = await client.request({ method: 'GET', path: '/bench/object' });
            if (response.bodyBytes !== sizeBytes) throw new Error(`GET returned ${response.bodyBytes} bytes`);
          }
        }
      }
      const elapsedMs = performance.now() - startMs;
      const byKind = cpuByThreadKind(server.pid, before, threadCpuSeconds(server.pid));
      const clientCpu = process.cpuUsage(clientBefore);
      const perObject = [...byKind]
        .filter(([, milliseconds]) => milliseconds > 0)
        .sort((left, right) => right[1] - left[1])
        .map(([kind, milliseconds]) => `${kind} ${formatMilliseconds(milliseconds / count)}`)
        .join(', ');
      console.log(
        `${mode.toUpperCase()} ${count} x ${sizeBytes / mebibyte} MiB, ${concurrency === 1 ? 'one at a time' : `${concurrency} at a time`}: ${((count * sizeBytes) / elapsedMs / 1000).toFixed(0)} MB/s; load average ${os
          .loadavg()
          .map((value) => value.toFixed(2))
          .join(' ')}`,
      );
      console.log(
        `agent CPU ms per object, by thread: ${perObject}; client (this process) ${formatMilliseconds((clientCpu.user + clientCpu.system) / 1000 / count)}; agent peak RSS ${Math.round(readMemory(server.pid).peakRssBytes / mebibyte)} MiB`,
      );
    } finally {
      client.close();
    }
  });
}
