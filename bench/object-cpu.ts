import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { PayloadPool } from './s3-load/payload.ts';
import { agentEntry, startCoffre } from './s3-load/servers.ts';
import { SignedS3Client } from './s3-load/signed-client.ts';

const mebibyte = 1024 * 1024;

/** CPU milliseconds (user + system) of each thread of a process, by "name#tid". */
async function threadCpuMs(pid: number): Promise<Map<string, number>> {
  const ticksPerSecond = 100; // USER_HZ on Linux
  const usage = new Map<string, number>();
  for (const tid of await readdir(`/proc/${pid}/task`)) {
    const stat = await readFile(`/proc/${pid}/task/${tid}/stat`, 'utf8').catch(() => null);
    if (stat === null) continue;
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    usage.set(`${name}#${tid}`, ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond);
  }
  return usage;
}

/** The CPU each kind of thread used between two readings, the event loop (tid = pid) apart. */
function cpuByThreadKind(pid: number, before: Map<string, number>, after: Map<string, number>) {
  const byKind = new Map<string, number>();
  for (const [thread, milliseconds] of after) {
    const kind = thread.endsWith(`#${pid}`) ? 'main' : thread.split('#')[0];
    byKind.set(kind, (byKind.get(kind) ?? 0) + milliseconds - (before.get(thread) ?? 0));
  }
  return byKind;
}

export async function run(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2).filter((argument) => argument.startsWith('--')),
    strict: false,
    options: {
      mode: { type: 'string' },
      count: { type: 'string' },
      'size-mib': { type: 'string' },
      'agent-commit': { type: 'string' },
      'agent-node-args': { type: 'string' },
    },
  });
  const mode = String(values.mode ?? 'put');
  const count = Number(values.count ?? 6);
  const sizeBytes = Number(values['size-mib'] ?? 64) * mebibyte;
  const nodeArguments = String(values['agent-node-args'] ?? '')
    .split(',')
    .filter(Boolean);
  const root = await mkdtemp(path.join(os.tmpdir(), 'coffre-bench-object-cpu-'));
  try {
    const agentMain = await agentEntry(values['agent-commit'] ? String(values['agent-commit']) : null, root);
    const data = path.join(root, 'data');
    await mkdir(data);
    const server = await startCoffre(agentMain, data, nodeArguments);
    const client = new SignedS3Client(server.target, 2);
    const pool = new PayloadPool();
    try {
      await client.request({ method: 'PUT', path: '/bench' });
      if (mode === 'get')
        await client.request({ method: 'PUT', path: '/bench/object', body: pool.body(sizeBytes, 1) });
      const before = await threadCpuMs(server.pid);
      const startMs = performance.now();
      for (let index = 0; index < count; index += 1) {
        if (mode === 'put') {
          await client.request({
            method: 'PUT',
            path: `/bench/object${index % 2}`,
            body: pool.body(sizeBytes, index),
          });
        } else {
          const response = await client.request({ method: 'GET', path: '/bench/object' });
          if (response.bodyBytes !== sizeBytes) throw new Error(`GET returned ${response.bodyBytes} bytes`);
        }
      }
      const elapsedMs = performance.now() - startMs;
      const byKind = cpuByThreadKind(server.pid, before, await threadCpuMs(server.pid));
      const perObject = [...byKind]
        .filter(([, milliseconds]) => milliseconds > 0)
        .sort((left, right) => right[1] - left[1])
        .map(([kind, milliseconds]) => `${kind} ${(milliseconds / count).toFixed(0)}`)
        .join(', ');
      console.log(
        `${mode.toUpperCase()} ${count} x ${sizeBytes / mebibyte} MiB, one at a time: ${((count * sizeBytes) / elapsedMs / 1000).toFixed(0)} MB/s; load average ${os
          .loadavg()
          .map((value) => value.toFixed(2))
          .join(' ')}`,
      );
      const status = await readFile(`/proc/${server.pid}/status`, 'utf8');
      const peakRss = /VmHWM:\s+(\d+) kB/.exec(status)?.[1];
      console.log(
        `agent CPU ms per object, by thread: ${perObject}; agent peak RSS ${Math.round(Number(peakRss) / 1024)} MiB`,
      );
    } finally {
      client.close();
      await server.stop();
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
