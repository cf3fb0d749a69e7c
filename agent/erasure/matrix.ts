// The generator matrix and the decoding matrices derived from it.
//
// THE GENERATOR MATRIX IS PART OF THE ON-DISK FORMAT AND FIXED FOREVER. It is the (k+m) x k matrix
// of Intel ISA-L's gf_gen_cauchy1_matrix over GF(2^8) with polynomial 0x11d:
//   - rows 0..k-1 are the identity (the code is systematic: data shards are stored as they are);
//   - row i in k..k+m-1, column j in 0..k-1 is inverse(i XOR j).
// Parity shard p (0-based) is therefore the sum over j of inverse((k+p) XOR j) · data[j]. Every
// square submatrix of a Cauchy matrix is invertible (x_i = i and y_j = j are distinct because
// i >= k > j), so any k of the k+m rows form an invertible matrix: any m lost shards, data or
// parity, can be rebuilt. test/erasure/vectors.json pins the parity bytes this produces.
import assert from 'node:assert/strict';
import { inverse, multiply } from './galois.ts';

/** Row-major (k+m) x k generator matrix, as described above. */
export function generatorMatrix(dataShards: number, parityShards: number): Uint8Array {
  const totalShards = dataShards + parityShards;
  const matrix = new Uint8Array(totalShards * dataShards);
  for (let row = 0; row < dataShards; row++) matrix[row * dataShards + row] = 1;
  for (let row = dataShards; row < totalShards; row++) {
    for (let column = 0; column < dataShards; column++) {
      matrix[row * dataShards + column] = inverse(row ^ column);
    }
  }
  return matrix;
}

/** The m x k parity part of the generator matrix: the coefficients `encode` applies. */
export function parityMatrix(dataShards: number, parityShards: number): Uint8Array {
  return generatorMatrix(dataShards, parityShards).slice(dataShards * dataShards);
}

/** Inverts a row-major n x n matrix by Gauss-Jordan elimination; the input is not modified. */
export function invert(matrix: Uint8Array, size: number): Uint8Array {
  const work = matrix.slice();
  const result = new Uint8Array(size * size);
  for (let index = 0; index < size; index++) result[index * size + index] = 1;
  for (let column = 0; column < size; column++) {
    let pivotRow = column;
    while (pivotRow < size && work[pivotRow * size + column] === 0) pivotRow++;
    // Unreachable for submatrices of the Cauchy generator: they are all invertible.
    assert.ok(pivotRow < size, 'singular matrix in erasure decoding');
    if (pivotRow !== column) {
      swapRows(work, size, pivotRow, column);
      swapRows(result, size, pivotRow, column);
    }
    const scale = inverse(work[column * size + column]);
    scaleRow(work, size, column, scale);
    scaleRow(result, size, column, scale);
    for (let row = 0; row < size; row++) {
      const factor = work[row * size + column];
      if (row === column || factor === 0) continue;
      addScaledRow(work, size, column, row, factor);
      addScaledRow(result, size, column, row, factor);
    }
  }
  return result;
}

function swapRows(matrix: Uint8Array, size: number, first: number, second: number): void {
  for (let column = 0; column < size; column++) {
    const saved = matrix[first * size + column];
    matrix[first * size + column] = matrix[second * size + column];
    matrix[second * size + column] = saved;
  }
}

function scaleRow(matrix: Uint8Array, size: number, row: number, factor: number): void {
  for (let column = 0; column < size; column++) {
    matrix[row * size + column] = multiply(matrix[row * size + column], factor);
  }
}

/** Row `target` += factor · row `source`. */
function addScaledRow(
  matrix: Uint8Array,
  size: number,
  source: number,
  target: number,
  factor: number,
): void {
  for (let column = 0; column < size; column++) {
    matrix[target * size + column] ^= multiply(factor, matrix[source * size + column]);
  }
}

/**
 * The coefficients that rebuild shards `targets` from the k surviving shards `sources` (indices
 * into the k+m shards): a targets.length x k row-major matrix. With S the k x k rows of the
 * generator for `sources`, data = S^-1 · sources, so a data target d is row d of S^-1 and a parity
 * target p is (generator row p) · S^-1.
 */
export function decodingMatrix(
  dataShards: number,
  parityShards: number,
  sources: readonly number[],
  targets: readonly number[],
): Uint8Array {
  assert.equal(sources.length, dataShards);
  const generator = generatorMatrix(dataShards, parityShards);
  const surviving = new Uint8Array(dataShards * dataShards);
  sources.forEach((shard, row) => {
    surviving.set(generator.subarray(shard * dataShards, (shard + 1) * dataShards), row * dataShards);
  });
  const recovery = invert(surviving, dataShards);
  const result = new Uint8Array(targets.length * dataShards);
  targets.forEach((shard, row) => {
    for (let column = 0; column < dataShards; column++) {
      let sum = 0;
      for (let inner = 0; inner < dataShards; inner++) {
        sum ^= multiply(generator[shard * dataShards + inner], recovery[inner * dataShards + column]);
      }
      result[row * dataShards + column] = sum;
    }
  });
  return result;
}
