// `npm run bench burst-rss`: the agent's resident memory after a burst of large requests, and how
// much of it it gives back once idle. One agent (as `npm start` runs it) gets `--concurrency`
// (64) PUTs of `--size-mib` (64) MiB at once, then as many GETs, `--rounds` (2) times; VmRSS is read
// at the start, right after, and after 10, 30 and 60 s without a request. `--agent-node-args=A,B`
// passes node arguments to the agent (say, --no-external-memory-accounted-in-global-limit).
import { PayloadPool } from './s3-load/payload.ts';
import { readMemory } from './s3-load/process-stats.ts';
import { agentNodeArguments, suiteArguments, withAgent } from './s3-load/servers.ts';
import { SignedS3Client } from './s3-load/signed-client.ts';

const mebibyte = 1024 * 1024;

export async function run(): Promise<void> {
  const { values, agent } = suiteArguments(['concurrency', 'size-mib', 'rounds']);
  const concurrency = Number(values.concurrency ?? 64);
  const sizeBytes = Number(values['size-mib'] ?? 64) * mebibyte;
  const rounds = Number(values.rounds ?? 2);
  const nodeArguments = agentNodeArguments(agent);
  await withAgent('burst-rss', agent, async (server) => {
    const client = new SignedS3Client(server.target, concurrency);
    const pool = new PayloadPool();
    const rssMiB = () => Math.round(readMemory(server.pid).rssBytes / mebibyte);
    try {
      await client.request({ method: 'PUT', path: '/burst' });
      const readings = [`start ${rssMiB()}`];
      const keys = Array.from({ length: concurrency }, (_, index) => `/burst/object-${index}`);
      for (let round = 0; round < rounds; round += 1) {
        await Promise.all(
          keys.map((key, index) =>
            client.request({
              method: 'PUT',
              path: key,
              body: pool.body(sizeBytes, round * concurrency + index),
            }),
          ),
        );
        await Promise.all(keys.map((key) => client.request({ method: 'GET', path: key })));
      }
      readings.push(
        `after the burst ${rssMiB()} (peak ${Math.round(readMemory(server.pid).peakRssBytes / mebibyte)})`,
      );
      let idleSeconds = 0;
      for (const untilSeconds of [10, 30, 60]) {
        await new Promise((resolve) => setTimeout(resolve, (untilSeconds - idleSeconds) * 1000));
        idleSeconds = untilSeconds;
        readings.push(`idle ${untilSeconds} s ${rssMiB()}`);
      }
      console.log(
        `${rounds} x (${concurrency} PUTs then ${concurrency} GETs of ${sizeBytes / mebibyte} MiB at once)${nodeArguments.length > 0 ? `, agent node ${nodeArguments.join(' ')}` : ''}`,
      );
      console.log(`agent RSS MiB: ${readings.join(', ')}`);
    } finally {
      client.close();
    }
  });
}
