// Every kernel against the JavaScript reference: random geometries, lengths (0, 1, 15, 17, ...)
// and shards that start at odd byte offsets inside larger buffers, from a fixed seed.
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import test from 'ava';
import { availableKernels, createCodec, describeKernels } from '../../agent/erasure/index.ts';
import { nativeKernelPath } from '../../agent/erasure/kernels/isa-l.ts';
import { type Random, seededRandom } from './random.ts';

const awkwardLengths = [0, 1, 2, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 255, 256, 257, 4095, 65_537];

/** A shard of `lengthBytes` at an odd offset inside a larger buffer, filled with noise. */
function misaligned(random: Random, lengthBytes: number): Uint8Array {
  const offset = 1 + 2 * random.below(8);
  return random.bytes(offset + lengthBytes + 3).subarray(offset, offset + lengthBytes);
}

for (const kernel of availableKernels().filter((name) => name !== 'js')) {
  const seed = 4242;
  test(`kernels (${kernel} vs js, seed ${seed}): 150 random geometries and lengths, misaligned, give identical parity and rebuilds`, (t) => {
    const random = seededRandom(seed);
    for (let round = 0; round < 150; round++) {
      const dataShards = 1 + random.below(16);
      const parityShards = 1 + random.below(8);
      const lengthBytes = round < awkwardLengths.length ? awkwardLengths[round] : random.below(20_000);
      const fast = createCodec(dataShards, parityShards, { kernel });
      const reference = createCodec(dataShards, parityShards, { kernel: 'js' });
      const data = Array.from({ length: dataShards }, () => misaligned(random, lengthBytes));
      const fastParity = Array.from({ length: parityShards }, () => misaligned(random, lengthBytes));
      const referenceParity = Array.from({ length: parityShards }, () => new Uint8Array(lengthBytes));
      fast.encode(data, fastParity);
      reference.encode(data, referenceParity);
      const label = `${dataShards}+${parityShards}, ${lengthBytes} bytes`;
      t.deepEqual(fastParity.map(Buffer.from), referenceParity.map(Buffer.from), label);

      const stripe = [...data, ...fastParity];
      const lost = random.distinct(1 + random.below(parityShards), dataShards + parityShards);
      const shards = stripe.map((shard, index) => (lost.includes(index) ? null : shard));
      fast.reconstruct(shards);
      t.deepEqual(
        shards.map((shard) => Buffer.from(shard!)),
        stripe.map(Buffer.from),
        `${label}, lost ${lost}`,
      );
    }
  });
}

test('kernels: js is always available, last; describeKernels names the kernel codecs use first', (t) => {
  const kernels = availableKernels();
  t.is(kernels.at(-1), 'js');
  t.is(createCodec(4, 2).kernel, kernels[0]);
  t.true(describeKernels().startsWith(`${kernels[0]} (`), describeKernels());
});

if (availableKernels().includes('isa-l')) {
  const addon = createRequire(import.meta.url)(nativeKernelPath) as {
    initTables(rows: number, cols: number, coefficients: Uint8Array): Uint8Array;
    multiply(...args: unknown[]): void;
  };
  const tables = addon.initTables(2, 4, new Uint8Array(8).fill(3));
  const buffers = (count: number, lengthBytes: number): Uint8Array[] =>
    Array.from({ length: count }, () => new Uint8Array(lengthBytes));
  const misuses: [string, unknown[]][] = [
    [
      'an output shorter than the length',
      [tables, 2, 4, buffers(4, 64), [new Uint8Array(64), new Uint8Array(63)], 64],
    ],
    [
      'an input shorter than the length',
      [tables, 2, 4, [...buffers(3, 64), new Uint8Array(1)], buffers(2, 64), 64],
    ],
    ['fewer inputs than columns', [tables, 2, 4, buffers(3, 64), buffers(2, 64), 64]],
    ['tables too small for the matrix', [tables, 8, 16, buffers(16, 64), buffers(8, 64), 64]],
    ['a negative length', [tables, 2, 4, buffers(4, 64), buffers(2, 64), -1]],
    [
      'a Float64Array as a shard',
      [tables, 2, 4, [...buffers(3, 64), new Float64Array(64)], buffers(2, 64), 64],
    ],
  ];
  for (const [scenario, args] of misuses) {
    test(`native addon: ${scenario} is refused with an exception, never a write out of bounds`, (t) => {
      t.throws(() => addon.multiply(...args), { instanceOf: RangeError });
    });
  }
}

test('kernels: a worker thread loads the same kernel as the main thread and encodes the same parity', async (t) => {
  const indexUrl = new URL('../../agent/erasure/index.ts', import.meta.url).href;
  const source = `
    const { parentPort } = require('node:worker_threads');
    import(${JSON.stringify(indexUrl)}).then(({ createCodec }) => {
      const codec = createCodec(4, 2);
      const data = [1, 2, 3, 4].map((value) => new Uint8Array(100).fill(value));
      const parity = [new Uint8Array(100), new Uint8Array(100)];
      codec.encode(data, parity);
      parentPort.postMessage({ kernel: codec.kernel, parity });
    });`;
  const worker = new Worker(source, { eval: true });
  const [message] = (await once(worker, 'message')) as [{ kernel: string; parity: Uint8Array[] }];
  await worker.terminate();
  const codec = createCodec(4, 2, { kernel: 'js' });
  const parity = [new Uint8Array(100), new Uint8Array(100)];
  codec.encode(
    [1, 2, 3, 4].map((value) => new Uint8Array(100).fill(value)),
    parity,
  );
  t.is(message.kernel, availableKernels()[0]);
  t.deepEqual(message.parity, parity);
});
