// The Reed-Solomon codec of Coffre: systematic, GF(2^8), k data + m parity shards (k in 1..16,
// m in 1..8), with the Cauchy generator matrix of ISA-L (see matrix.ts and README.md). Several
// kernels do the arithmetic and produce byte-identical shards; createCodec picks the fastest one
// present on this machine.
import { ReedSolomonCodec } from './codec.ts';
import { ErasureError } from './errors.ts';
import { loadIsalKernel } from './kernels/isa-l.ts';
import { javascriptKernel } from './kernels/js.ts';
import type { Kernel } from './kernels/kernel.ts';
import { loadWasmSimdKernel } from './kernels/wasm-simd.ts';
import type { ErasureCodec, KernelName } from './types.ts';
import { checkGeometry } from './validate.ts';

export type { ErasureErrorCode } from './errors.ts';
export { ErasureError } from './errors.ts';
export { fieldPolynomial } from './galois.ts';
export { generatorMatrix } from './matrix.ts';
export type { ErasureCodec, KernelName } from './types.ts';
export { maximumDataShards, maximumParityShards } from './validate.ts';

export interface CodecOptions {
  /** Forces one kernel; without it, the fastest available. */
  kernel?: KernelName;
}

let loadedKernels: Kernel[] | undefined;

/** The kernels that work on this machine, fastest first; loaded once, on first use. */
function kernels(): Kernel[] {
  loadedKernels ??= [loadIsalKernel(), loadWasmSimdKernel(), javascriptKernel].filter(
    (kernel) => kernel !== undefined,
  );
  return loadedKernels;
}

/** Names of the kernels present on this machine, fastest first ('js' is always last). */
export function availableKernels(): KernelName[] {
  return kernels().map((kernel) => kernel.name);
}

/** One line for the agent to log at start: which kernel codecs will use, and the others. */
export function describeKernels(): string {
  const [chosen, ...others] = kernels();
  const rest = others.length > 0 ? `; also ${others.map((kernel) => kernel.name).join(', ')}` : '';
  return `${chosen.description}${rest}`;
}

export function createCodec(dataShards: number, parityShards: number, options?: CodecOptions): ErasureCodec {
  checkGeometry(dataShards, parityShards);
  const wanted = options?.kernel;
  const kernel =
    wanted === undefined ? kernels()[0] : kernels().find((candidate) => candidate.name === wanted);
  if (kernel === undefined) {
    throw new ErasureError(
      'KERNEL_UNAVAILABLE',
      `erasure kernel "${String(wanted)}" is not available here (have ${availableKernels().join(', ')})`,
    );
  }
  return new ReedSolomonCodec(dataShards, parityShards, kernel);
}
