// The WebAssembly SIMD kernel: portable (any engine with fixed-width SIMD), several GB/s per core.
// WebAssembly reads only its own linear memory, so each call copies its shards through in slices
// of `sliceBytes`: k input slices, n output slices and the tables fit in L2 cache, and the copies
// cost far less than the arithmetic.
import assert from 'node:assert/strict';
import { nibbleTables } from '../galois.ts';
import type { Kernel, MatrixMultiplier } from './kernel.ts';
import { maximumRows, simdModuleBytes, tableBytes, vectorBytes, vectorsPerStep } from './wasm-simd-module.ts';

/** The widest stripe: 16 data shards (an encoder's or decoder's inputs). */
const maximumColumns = 16;
/** Bytes of each shard processed per call into WebAssembly (measured best of 16, 32, 64 KiB). */
const defaultSliceBytes = 32 * 1024;
const tablesOffset = 0;
const inputsOffset = tablesOffset + maximumRows * maximumColumns * tableBytes;

// The project's TypeScript libraries (ES2024 + @types/node) do not declare the WebAssembly global,
// so this file declares the little of it that it uses.
interface WebAssemblyApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: Record<string, unknown> };
}
const webAssembly = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;

type MultiplyFunction = (
  tables: number,
  inputs: number,
  outputs: number,
  strideBytes: number,
  columns: number,
  lengthBytes: number,
) => void;

/** The kernel, or undefined where the engine lacks WebAssembly (SIMD). */
export function loadWasmSimdKernel(sliceBytes: number = defaultSliceBytes): Kernel | undefined {
  try {
    return instantiate(sliceBytes);
  } catch {
    // No WebAssembly at all (a --jitless engine, for one): the JavaScript kernel remains.
    return undefined;
  }
}

function instantiate(sliceBytes: number): Kernel | undefined {
  assert.ok(sliceBytes > 0 && sliceBytes % (maximumRows * vectorBytes) === 0, 'slices must hold whole steps');
  const outputsOffset = inputsOffset + maximumColumns * sliceBytes;
  const memoryBytes = outputsOffset + maximumRows * sliceBytes;
  const relaxedBytes = simdModuleBytes(memoryBytes, true);
  const relaxed = webAssembly.validate(relaxedBytes);
  const bytes = relaxed ? relaxedBytes : simdModuleBytes(memoryBytes, false);
  if (!webAssembly.validate(bytes)) return undefined;
  const { exports } = new webAssembly.Instance(new webAssembly.Module(bytes));
  const memory = new Uint8Array((exports.memory as { buffer: ArrayBuffer }).buffer);
  const functions = Array.from(
    { length: maximumRows },
    (_, index) => exports[`multiply${index + 1}`] as MultiplyFunction,
  );
  return {
    name: 'wasm-simd',
    description: `wasm-simd (WebAssembly SIMD, ${relaxed ? 'relaxed ' : ''}swizzle)`,
    prepare(coefficients, rows, cols): MatrixMultiplier {
      // Tables in the order the loop reads them: column by column, then row by row.
      const tables = new Uint8Array(rows * cols * tableBytes);
      for (let column = 0; column < cols; column++) {
        for (let row = 0; row < rows; row++) {
          tables.set(nibbleTables(coefficients[row * cols + column]), (column * rows + row) * tableBytes);
        }
      }
      assert.ok(rows >= 1 && rows <= maximumRows && cols >= 1 && cols <= maximumColumns);
      const multiply = functions[rows - 1];
      const stepBytes = vectorsPerStep(rows) * vectorBytes;
      return (inputs, outputs, lengthBytes) => {
        memory.set(tables, tablesOffset);
        for (let done = 0; done < lengthBytes; done += sliceBytes) {
          const slice = Math.min(sliceBytes, lengthBytes - done);
          for (let column = 0; column < cols; column++) {
            memory.set(inputs[column].subarray(done, done + slice), inputsOffset + column * sliceBytes);
          }
          // Rounded up to whole steps of the loop: the bytes past `slice` are stale but independent
          // of the ones kept (each output byte depends only on the input bytes at its position).
          const vectorAligned = Math.ceil(slice / stepBytes) * stepBytes;
          multiply(tablesOffset, inputsOffset, outputsOffset, sliceBytes, cols, vectorAligned);
          for (let row = 0; row < rows; row++) {
            const start = outputsOffset + row * sliceBytes;
            outputs[row].set(memory.subarray(start, start + slice), done);
          }
        }
      };
    },
  };
}
