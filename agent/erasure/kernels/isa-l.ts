// The native kernel: Intel ISA-L through the small N-API addon of native/coffre_isal.c, built by
// scripts/build-native.ts into build/coffre_isal.node when a C compiler and ISA-L are present.
// ISA-L is the reference implementation of this very code (its gf_gen_cauchy1_matrix is our
// generator), and the fastest here by far (about 20 GB/s for 4+2 on one core with AVX2/GFNI).
import { fileURLToPath } from 'node:url';
import { requireAddon } from '../../native/addon.ts';
import type { Kernel, MatrixMultiplier } from './kernel.ts';

/** The addon's exports; it re-checks every argument and throws rather than trust them. */
interface IsalAddon {
  initTables(rows: number, cols: number, coefficients: Uint8Array): Uint8Array;
  multiply(
    tables: Uint8Array,
    rows: number,
    cols: number,
    inputs: readonly Uint8Array[],
    outputs: readonly Uint8Array[],
    lengthBytes: number,
  ): void;
}

export const nativeKernelPath = fileURLToPath(new URL('../../../build/coffre_isal.node', import.meta.url));

/** The ISA-L kernel, or undefined when the addon is not built or does not load here. */
export function loadIsalKernel(addonPath: string = nativeKernelPath): Kernel | undefined {
  const addon = requireAddon<IsalAddon>(addonPath, ['initTables', 'multiply']);
  if (addon === undefined) return undefined;
  return {
    name: 'isa-l',
    description: `isa-l (native Intel ISA-L, ${addonPath})`,
    prepare(coefficients, rows, cols): MatrixMultiplier {
      const tables = addon.initTables(rows, cols, coefficients);
      return (inputs, outputs, lengthBytes) =>
        addon.multiply(tables, rows, cols, inputs, outputs, lengthBytes);
    },
  };
}
