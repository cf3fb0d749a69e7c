// warp's "mixed" benchmark: a prefilled set of objects, then workers that each pick an operation
// with the issue's weights (45% GET, 30% HEAD, 15% PUT, 10% DELETE). A DELETE takes a key that no
// request is reading out of the live set first, and a PUT adds its new key once it is stored, so no
// read ever races a delete of the same key. Randomness comes from a seeded generator (replayable).
import { deletePrefix } from './bucket-ops.ts';
import { type CellResult, runCell } from './cell.ts';
import type { PayloadPool } from './payload.ts';
import type { SignedS3Client } from './signed-client.ts';

export interface MixedOptions {
  client: SignedS3Client;
  bucket: string;
  serverPid: number;
  pool: PayloadPool;
  objectBytes: number;
  prefilledObjects: number;
  concurrency: number;
  durationMs: number;
  maximumOperations: number;
  seed: number;
}

export const mixedWeights = [
  { operation: 'GET', percent: 45 },
  { operation: 'HEAD', percent: 30 },
  { operation: 'PUT', percent: 15 },
  { operation: 'DELETE', percent: 10 },
] as const;

type MixedOperation = (typeof mixedWeights)[number]['operation'];

/** mulberry32: small, fast, good enough to choose operations and keys reproducibly. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = Math.imul(state ^ (state >>> 15), 1 | state);
    mixed = (mixed + Math.imul(mixed ^ (mixed >>> 7), 61 | mixed)) ^ mixed;
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
  };
}

function pickOperation(random: () => number): MixedOperation {
  let roll = random() * 100;
  for (const weight of mixedWeights) {
    roll -= weight.percent;
    if (roll < 0) return weight.operation;
  }
  return 'GET';
}

export async function runMixed(
  options: MixedOptions,
): Promise<{ total: CellResult; counts: Record<string, number> }> {
  const { client, bucket, objectBytes } = options;
  const prefix = 'mixed/';
  const random = seededRandom(options.seed);
  const live: string[] = [];
  const readers = new Map<string, number>();
  let nextKey = 0;
  const putNew = async (seed: number) => {
    const key = `${prefix}${String(nextKey++).padStart(7, '0')}`;
    await client.request({
      method: 'PUT',
      path: `/${bucket}/${key}`,
      body: options.pool.body(objectBytes, seed),
    });
    live.push(key);
  };
  const prefill = Array.from({ length: options.prefilledObjects }, (_, index) => index);
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      for (let index = prefill.pop(); index !== undefined; index = prefill.pop()) await putNew(index);
    }),
  );
  const counts: Record<string, number> = { GET: 0, HEAD: 0, PUT: 0, DELETE: 0 };
  const read = async (method: 'GET' | 'HEAD') => {
    const key = live[Math.floor(random() * live.length)];
    readers.set(key, (readers.get(key) ?? 0) + 1);
    try {
      await client.request({ method, path: `/${bucket}/${key}` });
    } finally {
      const left = (readers.get(key) ?? 1) - 1;
      if (left === 0) readers.delete(key);
      else readers.set(key, left);
    }
    return method === 'GET' ? objectBytes : 0;
  };
  const total = await runCell({
    label: `mixed ${mixedWeights.map((weight) => `${weight.percent}% ${weight.operation}`).join(' / ')}`,
    concurrency: options.concurrency,
    durationMs: options.durationMs,
    maximumOperations: options.maximumOperations,
    serverPid: options.serverPid,
    operation: async (_worker, sequence) => {
      let operation = pickOperation(random);
      // Keep the set from draining: a DELETE with too few idle keys becomes a PUT.
      const index = Math.floor(random() * live.length);
      if (operation === 'DELETE' && (live.length < options.concurrency * 2 || readers.has(live[index]))) {
        operation = 'PUT';
      }
      counts[operation] += 1;
      if (operation === 'GET' || operation === 'HEAD') return read(operation);
      if (operation === 'PUT') {
        await putNew(sequence);
        return objectBytes;
      }
      const [key] = live.splice(index, 1);
      await client.request({ method: 'DELETE', path: `/${bucket}/${key}` });
      return 0;
    },
  });
  await deletePrefix(client, bucket, prefix);
  return { total, counts };
}
