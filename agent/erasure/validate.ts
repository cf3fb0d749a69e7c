// Checks on everything a caller passes, so that bad input becomes an ErasureError and never
// reaches a kernel (a native kernel given a short buffer would read or write out of bounds).
import { ErasureError } from './errors.ts';

/** ISA-L's ec_encode_data and every kernel here handle up to 16 data shards per stripe... */
export const maximumDataShards = 16;
/** ...and up to 8 parity shards. */
export const maximumParityShards = 8;

export function checkGeometry(dataShards: number, parityShards: number): void {
  const valid =
    Number.isInteger(dataShards) &&
    Number.isInteger(parityShards) &&
    dataShards >= 1 &&
    dataShards <= maximumDataShards &&
    parityShards >= 1 &&
    parityShards <= maximumParityShards;
  if (!valid) {
    throw new ErasureError(
      'INVALID_GEOMETRY',
      `need 1..${maximumDataShards} data and 1..${maximumParityShards} parity shards, ` +
        `got ${String(dataShards)}+${String(parityShards)}`,
    );
  }
}

/** Checks a list of shards of one role and returns their common length in bytes. */
export function checkShardList(shards: readonly unknown[], expectedCount: number, role: string): number {
  if (!Array.isArray(shards) || shards.length !== expectedCount) {
    const actual = Array.isArray(shards) ? shards.length : typeof shards;
    throw new ErasureError('SHARD_COUNT_MISMATCH', `expected ${expectedCount} ${role} shards, got ${actual}`);
  }
  let lengthBytes = -1;
  shards.forEach((shard, index) => {
    const length = checkShard(shard, `${role} shard ${index}`);
    if (lengthBytes === -1) lengthBytes = length;
    else if (length !== lengthBytes) {
      throw new ErasureError(
        'SHARD_SIZE_MISMATCH',
        `${role} shard ${index} is ${length} bytes, the others ${lengthBytes}`,
      );
    }
  });
  return lengthBytes;
}

export function checkShard(shard: unknown, label: string): number {
  if (!(shard instanceof Uint8Array)) {
    throw new ErasureError('INVALID_SHARD', `${label} is not a Uint8Array`);
  }
  return shard.byteLength;
}

/**
 * Outputs must not share memory with any other shard: a kernel reads its inputs while writing
 * its outputs, and ISA-L makes no promise about the order, so overlap would corrupt parity.
 */
export function checkNoOverlap(outputs: readonly Uint8Array[], all: readonly Uint8Array[]): void {
  for (const output of outputs) {
    if (output.byteLength === 0) continue;
    for (const other of all) {
      if (other === output || other.buffer !== output.buffer || other.byteLength === 0) continue;
      const disjoint =
        other.byteOffset + other.byteLength <= output.byteOffset ||
        output.byteOffset + output.byteLength <= other.byteOffset;
      if (!disjoint) throw new ErasureError('OVERLAPPING_SHARDS', 'an output shard overlaps another shard');
    }
    if (all.filter((other) => other === output).length > 1) {
      throw new ErasureError('OVERLAPPING_SHARDS', 'the same buffer is passed as two shards');
    }
  }
}
