// The committed vectors pin the on-disk format: ISA-L computed their parity once, and every
// kernel must reproduce it and decode it, forever.
import { readFileSync } from 'node:fs';
import test from 'ava';
import { availableKernels, createCodec } from '../../agent/erasure/index.ts';
import { hex, withLost } from './stripes.ts';

interface Vector {
  dataShards: number;
  parityShards: number;
  data: string[];
  parity: string[];
}

const { vectors } = JSON.parse(readFileSync(new URL('./vectors.json', import.meta.url), 'utf8')) as {
  vectors: Vector[];
};
const fromHex = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'hex'));

for (const kernel of availableKernels()) {
  test(`vectors (${kernel}): encoding reproduces the parity ISA-L wrote for all ${vectors.length} vectors`, (t) => {
    for (const vector of vectors) {
      const codec = createCodec(vector.dataShards, vector.parityShards, { kernel });
      const data = vector.data.map(fromHex);
      const parity = vector.parity.map((text) => new Uint8Array(text.length / 2));
      codec.encode(data, parity);
      t.deepEqual(parity.map(hex), vector.parity, `${vector.dataShards}+${vector.parityShards}`);
    }
  });

  test(`vectors (${kernel}): losing the first m data shards of each vector rebuilds them`, (t) => {
    for (const vector of vectors) {
      const codec = createCodec(vector.dataShards, vector.parityShards, { kernel });
      const stripe = [...vector.data, ...vector.parity].map(fromHex);
      const lost = Array.from(
        { length: Math.min(vector.parityShards, vector.dataShards) },
        (_, index) => index,
      );
      const shards = withLost(stripe, lost);
      codec.reconstruct(shards);
      t.deepEqual(
        shards.map((shard) => hex(shard!)),
        [...vector.data, ...vector.parity],
      );
    }
  });
}

test('vectors: the parity rows of 4+2 are inverse(i XOR j) for i in 4..5, j in 0..3', (t) => {
  const codec = createCodec(4, 2, { kernel: 'js' });
  // A unit data shard j (a single byte 1) yields parity byte = the generator coefficient.
  const coefficients = [0, 1, 2, 3].map((column) => {
    const data = [0, 1, 2, 3].map((index) => Uint8Array.of(index === column ? 1 : 0));
    const parity = [new Uint8Array(1), new Uint8Array(1)];
    codec.encode(data, parity);
    return parity.map((shard) => shard[0]);
  });
  // inverse(4)=0x47, inverse(5)=0xa7, inverse(6)=0x7a, inverse(7)=0xba in GF(2^8)/0x11d.
  t.deepEqual(coefficients, [
    [0x47, 0xa7],
    [0xa7, 0x47],
    [0x7a, 0xba],
    [0xba, 0x7a],
  ]);
});
