// The S3 load generator's own arithmetic and plumbing (bench/s3-load): how it summarises a cell,
// the bodies it streams, the mixed run's dice, and one short cell against the real agent.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { listPage } from '../../bench/s3-load/bucket-ops.ts';
import { median, medianSegmentRate, percentile, runCell } from '../../bench/s3-load/cell.ts';
import { mixedWeights, seededRandom } from '../../bench/s3-load/mixed.ts';
import { PayloadPool } from '../../bench/s3-load/payload.ts';
import { startCoffre } from '../../bench/s3-load/servers.ts';
import { SignedS3Client } from '../../bench/s3-load/signed-client.ts';
import { repositoryRoot } from '../support/agent-process.ts';

test('percentile: p50 and p99 of 1..100 are 50 and 99; of nothing, NaN', (t) => {
  const values = Float64Array.from({ length: 100 }, (_, index) => index + 1);
  t.is(percentile(values, 0.5), 50);
  t.is(percentile(values, 0.99), 99);
  t.true(Number.isNaN(percentile([], 0.5)));
  t.is(median([3, 1, 2, 10]), 2.5);
});

test('median segment rate: an operation spanning two seconds counts half its bytes in each', (t) => {
  // 1000 bytes over 0.5..1.5 s and 3000 bytes over 1.0..2.0 s in a 3 s cell: segments 500, 2000, 1500.
  const completed = [
    { startMs: 500, endMs: 1500, bytes: 1000 },
    { startMs: 1000, endMs: 2000, bytes: 3000 },
    { startMs: 2000, endMs: 3000, bytes: 1500 },
  ];
  t.is(medianSegmentRate(completed, 3000), 1500);
  // Under one whole second, the plain average.
  t.is(medianSegmentRate([{ startMs: 0, endMs: 400, bytes: 400 }], 500), 800);
});

test('payload pool: a streamed body yields exactly its length, bodies differ by seed', (t) => {
  const pool = new PayloadPool((size) => {
    const bytes = Buffer.alloc(size);
    for (let index = 0; index < size; index += 1) bytes[index] = index % 251;
    return bytes;
  });
  for (const lengthBytes of [0, 4096, 256 * 1024 + 1, 40 * 1024 * 1024]) {
    const body = pool.body(lengthBytes, 3);
    const produced =
      body instanceof Uint8Array
        ? body.byteLength
        : [...body.chunks()].reduce((sum, chunk) => sum + chunk.byteLength, 0);
    t.is(produced, lengthBytes, `${lengthBytes} bytes`);
  }
  t.notDeepEqual(pool.bytes(4096, 1), pool.bytes(4096, 2));
});

test('mixed run: the weights are 45/30/15/10 and the dice replay from a seed', (t) => {
  t.deepEqual(
    mixedWeights.map((weight) => `${weight.percent} ${weight.operation}`),
    ['45 GET', '30 HEAD', '15 PUT', '10 DELETE'],
  );
  const first = seededRandom(7);
  const second = seededRandom(7);
  const rolls = Array.from({ length: 1000 }, () => first());
  t.deepEqual(
    rolls,
    Array.from({ length: 1000 }, () => second()),
  );
  t.true(rolls.every((roll) => roll >= 0 && roll < 1));
});

test('a PUT and a GET cell against the real agent: every request succeeds, the server is measured', async (t) => {
  const directory = await mkdtemp(path.join(os.tmpdir(), 'coffre-test-s3-load-'));
  const server = await startCoffre(path.join(repositoryRoot, 'agent', 'main.ts'), directory);
  const client = new SignedS3Client(server.target, 4);
  try {
    await client.request({ method: 'PUT', path: '/bench' });
    const pool = new PayloadPool();
    const common = { concurrency: 2, durationMs: 200, maximumOperations: 6, serverPid: server.pid };
    const puts = await runCell({
      ...common,
      label: 'PUT 1 MiB',
      operation: async (worker) => {
        await client.request({
          method: 'PUT',
          path: `/bench/k ${worker}`,
          body: pool.body(1024 * 1024, worker),
        });
        return 1024 * 1024;
      },
    });
    t.is(puts.errors, 0, puts.firstError ?? '');
    t.true(puts.operations >= 2);
    t.true(puts.serverPeakRssBytes > 0);
    const gets = await runCell({
      ...common,
      label: 'GET 1 MiB',
      operation: async (worker) =>
        (await client.request({ method: 'GET', path: `/bench/k ${worker}` })).bodyBytes,
    });
    t.is(gets.errors, 0, gets.firstError ?? '');
    t.is(gets.bytes, gets.operations * 1024 * 1024);
    t.deepEqual((await listPage(client, 'bench', { maximumKeys: 1000 })).keys, ['k 0', 'k 1']);
  } finally {
    client.close();
    await server.stop();
    await rm(directory, { recursive: true, force: true });
  }
});
