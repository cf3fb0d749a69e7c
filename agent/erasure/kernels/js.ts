// The portable kernel and the reference the others are tested against: one table lookup per
// byte and coefficient, the simplest correct code (about 0.25 GB/s).
import { multiplicationTable } from '../galois.ts';
import type { Kernel, MatrixMultiplier } from './kernel.ts';

const tableRowBytes = 256;

function prepare(coefficients: Uint8Array, rows: number, cols: number): MatrixMultiplier {
  const products: Uint8Array[] = Array.from(coefficients.subarray(0, rows * cols), (constant) =>
    multiplicationTable.subarray(constant * tableRowBytes, (constant + 1) * tableRowBytes),
  );
  return (inputs, outputs, lengthBytes) => {
    for (let row = 0; row < rows; row++) {
      const output = outputs[row];
      const first = products[row * cols];
      const firstInput = inputs[0];
      for (let index = 0; index < lengthBytes; index++) output[index] = first[firstInput[index]];
      for (let column = 1; column < cols; column++) {
        const product = products[row * cols + column];
        const input = inputs[column];
        for (let index = 0; index < lengthBytes; index++) output[index] ^= product[input[index]];
      }
    }
  };
}

export const javascriptKernel: Kernel = {
  name: 'js',
  description: 'js (portable table lookup)',
  prepare,
};
