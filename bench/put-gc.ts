// `npm run bench put-gc`: what V8's collector does during a stream of large PUTs. One agent (with
// the flags of agent/node-flags.ts, then `--agent-node-args=A,B`, which win) runs with
// `--trace-gc`; `--count` (16) PUTs of `--size-mib` (64) MiB go one at a time, `--runs` (3) times,
// each run on a fresh agent (V8's heuristics settle differently from one process to the next).
// Printed per run: MB/s, and the mark-compacts and scavenges the agent reported during the PUTs.
// Compare with V8's defaults: --agent-node-args=--max-semi-space-size=0,--min-semi-space-size=0,--initial-old-space-size=0
import os from 'node:os';
import { PayloadPool } from './s3-load/payload.ts';
import { agentNodeArguments, suiteArguments, withAgent } from './s3-load/servers.ts';
import { SignedS3Client } from './s3-load/signed-client.ts';

const mebibyte = 1024 * 1024;

/** Counts --trace-gc lines by kind, from the moment `counting` is set. */
class GcCounter {
  counting = false;
  markCompacts = 0;
  scavenges = 0;
  #partial = '';

  take(text: string): void {
    const lines = (this.#partial + text).split('\n');
    this.#partial = lines.pop() ?? '';
    if (!this.counting) return;
    for (const line of lines) {
      if (line.includes(' Mark-Compact ')) this.markCompacts += 1;
      else if (line.includes(' Scavenge ') || line.includes(' Minor Mark-Sweep ')) this.scavenges += 1;
    }
  }
}

export async function run(): Promise<void> {
  const { values, agent } = suiteArguments(['count', 'size-mib', 'runs']);
  const count = Number(values.count ?? 16);
  const sizeBytes = Number(values['size-mib'] ?? 64) * mebibyte;
  const runs = Number(values.runs ?? 3);
  console.log(`agent node arguments after its own: ${agentNodeArguments(agent).join(' ') || '(none)'}`);
  for (let runIndex = 1; runIndex <= runs; runIndex += 1) {
    const counter = new GcCounter();
    const traced = {
      ...agent,
      nodeArguments: ['--trace-gc'],
      onOutput: (text: string) => counter.take(text),
    };
    await withAgent('put-gc', traced, async (server) => {
      const client = new SignedS3Client(server.target, 2);
      try {
        const pool = new PayloadPool();
        await client.request({ method: 'PUT', path: '/bench' });
        counter.counting = true;
        const startMs = performance.now();
        for (let index = 0; index < count; index += 1) {
          await client.request({
            method: 'PUT',
            path: `/bench/object${index % 2}`,
            body: pool.body(sizeBytes, index),
          });
        }
        const elapsedMs = performance.now() - startMs;
        counter.counting = false;
        console.log(
          `run ${runIndex}: ${count} x ${sizeBytes / mebibyte} MiB PUT one at a time, ${((count * sizeBytes) / elapsedMs / 1000).toFixed(0)} MB/s; mark-compacts ${counter.markCompacts}, scavenges ${counter.scavenges}; load average ${os.loadavg()[0].toFixed(2)}`,
        );
      } finally {
        client.close();
      }
    });
  }
}
