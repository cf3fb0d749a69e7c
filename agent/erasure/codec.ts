// The codec: the generator matrix of matrix.ts applied by one kernel. It validates the caller's
// shards, chooses the surviving shards and caches the prepared tables of recent decoding matrices
// (a drive loss makes many stripes lose the same shards, so the same matrix recurs).
import { ErasureError } from './errors.ts';
import type { Kernel, MatrixMultiplier } from './kernels/kernel.ts';
import { decodingMatrix, parityMatrix } from './matrix.ts';
import type { ErasureCodec, KernelName } from './types.ts';
import { checkGeometry, checkNoOverlap, checkShard, checkShardList } from './validate.ts';

/** Bound on cached decoding tables per codec: each is at most 8·16·32 bytes plus a closure. */
const decodingCacheEntries = 64;

/**
 * A shard buffer whose every byte the kernel is about to overwrite. Zero-filling 1 MiB buffers
 * (what `new Uint8Array` does) cost a third of a reconstruction's time in bench/erasure.ts, so
 * this takes Node's uninitialized allocation; it is a plain Uint8Array over its own ArrayBuffer,
 * not a view into Buffer's shared pool, so it can be kept or transferred safely.
 */
function uninitializedShard(lengthBytes: number): Uint8Array {
  const buffer = Buffer.allocUnsafeSlow(lengthBytes);
  return new Uint8Array(buffer.buffer, buffer.byteOffset, lengthBytes);
}

export class ReedSolomonCodec implements ErasureCodec {
  readonly dataShards: number;
  readonly parityShards: number;
  readonly kernel: KernelName;
  readonly #implementation: Kernel;
  readonly #encoder: MatrixMultiplier;
  readonly #decoders = new Map<string, MatrixMultiplier>();

  constructor(dataShards: number, parityShards: number, implementation: Kernel) {
    checkGeometry(dataShards, parityShards);
    this.dataShards = dataShards;
    this.parityShards = parityShards;
    this.kernel = implementation.name;
    this.#implementation = implementation;
    this.#encoder = implementation.prepare(parityMatrix(dataShards, parityShards), parityShards, dataShards);
  }

  encode(data: readonly Uint8Array[], parity: readonly Uint8Array[]): void {
    const dataBytes = checkShardList(data, this.dataShards, 'data');
    const parityBytes = checkShardList(parity, this.parityShards, 'parity');
    if (dataBytes !== parityBytes) {
      throw new ErasureError(
        'SHARD_SIZE_MISMATCH',
        `data shards are ${dataBytes} bytes, parity ${parityBytes}`,
      );
    }
    checkNoOverlap(parity, [...data, ...parity]);
    if (dataBytes > 0) this.#encoder(data, parity, dataBytes);
  }

  reconstruct(shards: (Uint8Array | null)[], options?: { dataOnly?: boolean }): void {
    const totalShards = this.dataShards + this.parityShards;
    if (!Array.isArray(shards) || shards.length !== totalShards) {
      const actual = Array.isArray(shards) ? shards.length : typeof shards;
      throw new ErasureError('SHARD_COUNT_MISMATCH', `expected ${totalShards} shards, got ${actual}`);
    }
    const present: number[] = [];
    const missing: number[] = [];
    let lengthBytes = -1;
    shards.forEach((shard, index) => {
      if (shard === null || shard === undefined) {
        missing.push(index);
        return;
      }
      const length = checkShard(shard, `shard ${index}`);
      if (lengthBytes === -1) lengthBytes = length;
      else if (length !== lengthBytes) {
        throw new ErasureError(
          'SHARD_SIZE_MISMATCH',
          `shard ${index} is ${length} bytes, others ${lengthBytes}`,
        );
      }
      present.push(index);
    });
    if (present.length < this.dataShards) {
      throw new ErasureError(
        'TOO_FEW_SHARDS',
        `${present.length} of ${totalShards} shards present, ${this.dataShards} needed`,
      );
    }
    const targets = options?.dataOnly ? missing.filter((index) => index < this.dataShards) : missing;
    if (targets.length === 0) return;
    // The first k present shards: data shards come first, so a stripe that lost only parity
    // reads no parity, and the decoding matrix is the identity on what it reads.
    const sources = present.slice(0, this.dataShards);
    const outputs = targets.map(() => uninitializedShard(lengthBytes));
    if (lengthBytes > 0) {
      this.#decoder(sources, targets)(
        sources.map((index) => shards[index] as Uint8Array),
        outputs,
        lengthBytes,
      );
    }
    targets.forEach((index, position) => {
      shards[index] = outputs[position];
    });
  }

  #decoder(sources: readonly number[], targets: readonly number[]): MatrixMultiplier {
    const key = `${sources.join(',')}>${targets.join(',')}`;
    let decoder = this.#decoders.get(key);
    if (decoder === undefined) {
      const coefficients = decodingMatrix(this.dataShards, this.parityShards, sources, targets);
      decoder = this.#implementation.prepare(coefficients, targets.length, this.dataShards);
      if (this.#decoders.size >= decodingCacheEntries) {
        this.#decoders.delete(this.#decoders.keys().next().value as string);
      }
    } else {
      this.#decoders.delete(key);
    }
    this.#decoders.set(key, decoder);
    return decoder;
  }
}
