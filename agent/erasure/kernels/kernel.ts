// What a kernel does: multiply a small matrix of GF(2^8) constants by a column of shards. Encoding
// applies the parity rows of the generator to the data shards; reconstruction applies a decoding
// matrix to k surviving shards. The codec validates every argument before calling a kernel, so a
// kernel may assume well-formed input.
import type { KernelName } from '../types.ts';

/**
 * Computes outputs[r][i] = XOR over c of coefficients[r·cols + c] · inputs[c][i], for i below
 * `lengthBytes`. There are `cols` inputs and `rows` outputs, every one at least `lengthBytes`
 * long; outputs do not overlap inputs. lengthBytes may be 0 and may be odd; buffers may start at
 * any byte offset.
 */
export type MatrixMultiplier = (
  inputs: readonly Uint8Array[],
  outputs: readonly Uint8Array[],
  lengthBytes: number,
) => void;

export interface Kernel {
  readonly name: KernelName;
  /** One line for the agent's start-up log: what this kernel is and where it came from. */
  readonly description: string;
  /** Prepares the tables of a rows x cols row-major coefficient matrix, once, for many calls. */
  prepare(coefficients: Uint8Array, rows: number, cols: number): MatrixMultiplier;
}
