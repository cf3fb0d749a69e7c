// Helpers shared by the erasure tests: a freshly encoded stripe, and every set of lost shards.
import type { ErasureCodec } from '../../agent/erasure/index.ts';
import type { Random } from './random.ts';

/** k random data shards of `lengthBytes` and their m parity shards, encoded by `codec`. */
export function encodedStripe(codec: ErasureCodec, random: Random, lengthBytes: number): Uint8Array[] {
  const data = Array.from({ length: codec.dataShards }, () => random.bytes(lengthBytes));
  const parity = Array.from({ length: codec.parityShards }, () => new Uint8Array(lengthBytes));
  codec.encode(data, parity);
  return [...data, ...parity];
}

/** Every subset of {0..total-1} with 1..maximumSize elements, each in increasing order. */
export function lostSets(total: number, maximumSize: number): number[][] {
  const result: number[][] = [];
  const extend = (chosen: number[], next: number): void => {
    if (chosen.length > 0) result.push(chosen);
    if (chosen.length === maximumSize) return;
    for (let index = next; index < total; index++) extend([...chosen, index], index + 1);
  };
  extend([], 0);
  return result;
}

/** The stripe with the shards of `lost` replaced by null. */
export function withLost(stripe: readonly Uint8Array[], lost: readonly number[]): (Uint8Array | null)[] {
  return stripe.map((shard, index) => (lost.includes(index) ? null : shard));
}

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}
