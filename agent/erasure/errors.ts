// The codec's operating errors. Bad input from a caller (a wrong geometry, shards of unequal
// length, too few surviving shards) is an ErasureError with a stable `code` the shard store can
// switch on; a broken internal invariant is an assertion and crashes, as STYLE.md asks.

export type ErasureErrorCode =
  /** k is not an integer in 1..16 or m is not an integer in 1..8. */
  | 'INVALID_GEOMETRY'
  /** The number of shards passed is not k (data), m (parity) or k+m (reconstruct). */
  | 'SHARD_COUNT_MISMATCH'
  /** A shard is not a Uint8Array (a Node.js Buffer is one). */
  | 'INVALID_SHARD'
  /** The shards of one stripe do not all have the same length. */
  | 'SHARD_SIZE_MISMATCH'
  /** An output shard shares memory with another shard, which would corrupt the result. */
  | 'OVERLAPPING_SHARDS'
  /** Fewer than k shards survive: the stripe cannot be rebuilt. */
  | 'TOO_FEW_SHARDS'
  /** The kernel asked for is not present on this machine (not built, or not supported). */
  | 'KERNEL_UNAVAILABLE';

export class ErasureError extends Error {
  readonly code: ErasureErrorCode;

  constructor(code: ErasureErrorCode, message: string) {
    super(message);
    this.name = 'ErasureError';
    this.code = code;
  }
}
