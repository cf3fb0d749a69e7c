// Arithmetic in GF(2^8) with the reducing polynomial x^8 + x^4 + x^3 + x^2 + 1 (0x11d), the field
// of Intel ISA-L's erasure code (and of most Reed-Solomon storage codes). It is part of the
// on-disk format: changing it would make every stored shard undecodable.
import assert from 'node:assert/strict';

/** The field's reducing polynomial, fixed forever (see README.md). */
export const fieldPolynomial = 0x11d;

const fieldOrder = 256;
const generatorCycle = 255;

// exponentTable[i] = 2^i, doubled in length so that exponentTable[log a + log b] needs no modulo.
const exponentTable = new Uint8Array(2 * generatorCycle);
const logarithmTable = new Uint8Array(fieldOrder);
{
  let element = 1;
  for (let power = 0; power < generatorCycle; power++) {
    exponentTable[power] = element;
    exponentTable[power + generatorCycle] = element;
    logarithmTable[element] = power;
    element <<= 1;
    if (element & 0x100) element ^= fieldPolynomial;
  }
}

export function multiply(left: number, right: number): number {
  if (left === 0 || right === 0) return 0;
  return exponentTable[logarithmTable[left] + logarithmTable[right]];
}

export function inverse(element: number): number {
  assert.ok(element > 0 && element < fieldOrder, `GF(2^8) has no inverse of ${element}`);
  return exponentTable[generatorCycle - logarithmTable[element]];
}

/**
 * Row c (bytes 256c..256c+255) holds c·x for every byte x: the portable kernel's whole
 * multiplication is one lookup per byte.
 */
export const multiplicationTable: Uint8Array = (() => {
  const table = new Uint8Array(fieldOrder * fieldOrder);
  for (let left = 0; left < fieldOrder; left++) {
    for (let right = 0; right < fieldOrder; right++) table[left * fieldOrder + right] = multiply(left, right);
  }
  return table;
})();

/**
 * The 32-byte "split nibble" table of a constant c, the layout of ISA-L's gf_vect_mul_init and of
 * the PSHUFB method: bytes 0..15 are c·x for x = 0..15 (the low nibble), bytes 16..31 are c·(x<<4)
 * (the high nibble). Since multiplication distributes over XOR, c·b = low[b & 15] ^ high[b >> 4].
 */
export function nibbleTables(constant: number): Uint8Array {
  const tables = new Uint8Array(32);
  for (let nibble = 0; nibble < 16; nibble++) {
    tables[nibble] = multiply(constant, nibble);
    tables[16 + nibble] = multiply(constant, nibble << 4);
  }
  return tables;
}
