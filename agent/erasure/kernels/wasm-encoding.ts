// Just enough of the WebAssembly binary format (https://webassembly.github.io/spec/core/binary/)
// to emit the SIMD kernel of wasm-simd-module.ts. Emitting the bytes from TypeScript keeps the
// kernel's source in the repository and needs no assembler at install time: there is no binary
// to commit, and what runs is always what the source says.

/** Unsigned LEB128, the encoding of every index, count and size. */
export function unsigned(value: number): number[] {
  const bytes: number[] = [];
  let rest = value >>> 0;
  do {
    const byte = rest & 0x7f;
    rest >>>= 7;
    bytes.push(rest === 0 ? byte : byte | 0x80);
  } while (rest !== 0);
  return bytes;
}

/** Signed LEB128, the encoding of i32.const immediates. */
export function signed(value: number): number[] {
  const bytes: number[] = [];
  let rest = value | 0;
  for (;;) {
    const byte = rest & 0x7f;
    rest >>= 7;
    const done = (rest === 0 && (byte & 0x40) === 0) || (rest === -1 && (byte & 0x40) !== 0);
    bytes.push(done ? byte : byte | 0x80);
    if (done) return bytes;
  }
}

export function utf8Name(name: string): number[] {
  const bytes = [...new TextEncoder().encode(name)];
  return [...unsigned(bytes.length), ...bytes];
}

/** A vector: its element count, then the elements. */
export function vector(elements: readonly number[][]): number[] {
  return [...unsigned(elements.length), ...elements.flat()];
}

export function section(id: number, content: readonly number[]): number[] {
  return [id, ...unsigned(content.length), ...content];
}

export const sectionId = { type: 1, function: 3, memory: 5, export: 7, code: 10 } as const;
export const valueType = { i32: 0x7f, v128: 0x7b } as const;
export const exportKind = { function: 0x00, memory: 0x02 } as const;
export const moduleHeader = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

const simdPrefix = 0xfd;
/** log2 of a v128's 16-byte alignment, the memarg's alignment hint. */
const v128AlignmentLog2 = 4;

/** The instructions the kernel uses; each returns its encoding. */
export const op = {
  block: (): number[] => [0x02, 0x40],
  loop: (): number[] => [0x03, 0x40],
  end: (): number[] => [0x0b],
  br: (depth: number): number[] => [0x0c, ...unsigned(depth)],
  brIf: (depth: number): number[] => [0x0d, ...unsigned(depth)],
  localGet: (index: number): number[] => [0x20, ...unsigned(index)],
  localSet: (index: number): number[] => [0x21, ...unsigned(index)],
  i32Const: (value: number): number[] => [0x41, ...signed(value)],
  i32GeU: (): number[] => [0x4f],
  i32Ne: (): number[] => [0x47],
  i32Add: (): number[] => [0x6a],
  v128Load: (offset: number): number[] => [
    simdPrefix,
    ...unsigned(0x00),
    v128AlignmentLog2,
    ...unsigned(offset),
  ],
  v128Store: (offset: number): number[] => [
    simdPrefix,
    ...unsigned(0x0b),
    v128AlignmentLog2,
    ...unsigned(offset),
  ],
  v128Const: (bytes: readonly number[]): number[] => [simdPrefix, ...unsigned(0x0c), ...bytes],
  i8x16Swizzle: (): number[] => [simdPrefix, ...unsigned(0x0e)],
  /** Like i8x16.swizzle, but unspecified for indices >= 16 (never used here): a bare PSHUFB on x86. */
  i8x16RelaxedSwizzle: (): number[] => [simdPrefix, ...unsigned(0x100)],
  v128And: (): number[] => [simdPrefix, ...unsigned(0x4e)],
  v128Xor: (): number[] => [simdPrefix, ...unsigned(0x51)],
  i8x16ShrU: (): number[] => [simdPrefix, ...unsigned(0x6d)],
};
