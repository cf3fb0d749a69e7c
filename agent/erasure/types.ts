// The contract between the Reed-Solomon codec and its users (the shard store). Every kernel
// (native ISA-L, WebAssembly SIMD, portable JavaScript) implements it and must produce
// byte-identical shards, so a shard written by one kernel decodes with any other, forever.

/** Which implementation does the arithmetic. */
export type KernelName = 'isa-l' | 'wasm-simd' | 'js';

export interface ErasureCodec {
  /** k: data shards per stripe (1..16). */
  readonly dataShards: number;
  /** m: parity shards per stripe (1..8). */
  readonly parityShards: number;
  readonly kernel: KernelName;
  /**
   * Computes the m parity shards of k data shards. All shards have the same length (any length,
   * zero included). `parity` holds m output buffers of that length, overwritten.
   */
  encode(data: readonly Uint8Array[], parity: readonly Uint8Array[]): void;
  /**
   * Rebuilds missing shards in place. `shards` has k+m entries in order (data 0..k-1, then
   * parity); a missing one is null. Needs at least k present shards, all of one length; fills
   * every null entry with a new buffer (or, with `dataOnly`, only the missing data shards).
   * Throws an ErasureError with code 'TOO_FEW_SHARDS' when fewer than k are present.
   */
  reconstruct(shards: (Uint8Array | null)[], options?: { dataOnly?: boolean }): void;
}
