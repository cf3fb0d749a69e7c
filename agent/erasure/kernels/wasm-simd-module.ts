// The WebAssembly SIMD kernel, emitted as bytes (see wasm-encoding.ts for the format).
//
// It multiplies GF(2^8) constants by shards with the "split nibble" method of ISA-L and of
// Plank, Greenan and Miller ("Screaming Fast Galois Field Arithmetic Using Intel SIMD
// Instructions", FAST 2013): since multiplication by a constant c distributes over XOR,
// c·b = c·(b & 15) ^ c·(b >> 4 << 4), and each half is a lookup in a 16-entry table, which
// i8x16.swizzle (PSHUFB on x86, TBL on ARM) does for 16 bytes at once.
//
// The module exports its memory and one function per output-row count n = 1..8:
//   multiply<n>(tables, inputs, outputs, strideBytes, columns, lengthBytes)
// For every 16-byte position below lengthBytes (a multiple of 16·vectorsPerStep(n)), it loads each input once,
// splits its nibbles once, and updates n accumulators kept in locals, so an input vector is read
// once for all rows. Input c starts at inputs + c·strideBytes, output r at outputs + r·strideBytes;
// the 32-byte table of coefficient (r, c) (16 low-nibble products, then 16 high-nibble products)
// is at tables + (c·n + r)·32, in the order the loop reads them.
import {
  exportKind,
  moduleHeader,
  op,
  section,
  sectionId,
  unsigned,
  utf8Name,
  valueType,
  vector,
} from './wasm-encoding.ts';

/** Output rows a function handles at once: m, or the missing shards of a reconstruction. */
export const maximumRows = 8;
export const vectorBytes = 16;
export const tableBytes = 32;
const pageBytes = 65_536;

// Parameter and local indices of every multiply<n> function.
const tables = 0;
const inputs = 1;
const outputs = 2;
const strideBytes = 3;
const columns = 4;
const lengthBytes = 5;
const position = 6;
const column = 7;
const inputPointer = 8;
const tablePointer = 9;
const outputPointer = 10;
const nibbleMask = 11;
const firstVectorLocal = 12;

/**
 * Vectors each step of the loop handles: two for up to 4 rows (more independent work per step),
 * one above, where 2·rows accumulators would no longer fit the 16 SIMD registers of x86-64.
 */
export function vectorsPerStep(rows: number): number {
  return rows <= 4 ? 2 : 1;
}

function multiplyBody(rows: number, relaxed: boolean): number[] {
  const vectors = vectorsPerStep(rows);
  const swizzle = relaxed ? op.i8x16RelaxedSwizzle() : op.i8x16Swizzle();
  const lowNibbles = (vector: number): number => firstVectorLocal + vector;
  const highNibbles = (vector: number): number => firstVectorLocal + vectors + vector;
  const accumulator = (row: number, vector: number): number =>
    firstVectorLocal + 2 * vectors + row * vectors + vector;
  const each = (count: number, emit: (index: number) => number[]): number[] =>
    Array.from({ length: count }, (_, index) => emit(index)).flat();
  const eachAccumulator = (emit: (row: number, vector: number) => number[]): number[] =>
    each(rows, (row) => each(vectors, (vector) => emit(row, vector)));
  const code = [
    ...op.v128Const(new Array(vectorBytes).fill(0x0f)),
    ...op.localSet(nibbleMask),
    ...op.i32Const(0),
    ...op.localSet(position),
    ...op.block(),
    ...op.loop(),
    // while (position < lengthBytes)
    ...[...op.localGet(position), ...op.localGet(lengthBytes), ...op.i32GeU(), ...op.brIf(1)],
    ...eachAccumulator((row, vector) => [
      ...op.v128Const(new Array(vectorBytes).fill(0)),
      ...op.localSet(accumulator(row, vector)),
    ]),
    ...[...op.i32Const(0), ...op.localSet(column)],
    ...[...op.localGet(tables), ...op.localSet(tablePointer)],
    ...[...op.localGet(inputs), ...op.localGet(position), ...op.i32Add(), ...op.localSet(inputPointer)],
    ...op.loop(),
    // Split the input bytes into low and high nibbles, once for all rows.
    ...each(vectors, (vector) => [
      ...[
        ...op.localGet(inputPointer),
        ...op.v128Load(vector * vectorBytes),
        ...op.localSet(highNibbles(vector)),
      ],
      ...[...op.localGet(highNibbles(vector)), ...op.localGet(nibbleMask), ...op.v128And()],
      ...op.localSet(lowNibbles(vector)),
      ...[...op.localGet(highNibbles(vector)), ...op.i32Const(4), ...op.i8x16ShrU()],
      ...op.localSet(highNibbles(vector)),
    ]),
    ...eachAccumulator((row, vector) => [
      ...op.localGet(accumulator(row, vector)),
      ...[...op.localGet(tablePointer), ...op.v128Load(row * tableBytes)],
      ...[...op.localGet(lowNibbles(vector)), ...swizzle, ...op.v128Xor()],
      ...[...op.localGet(tablePointer), ...op.v128Load(row * tableBytes + vectorBytes)],
      ...[...op.localGet(highNibbles(vector)), ...swizzle, ...op.v128Xor()],
      ...op.localSet(accumulator(row, vector)),
    ]),
    ...[
      ...op.localGet(tablePointer),
      ...op.i32Const(rows * tableBytes),
      ...op.i32Add(),
      ...op.localSet(tablePointer),
    ],
    ...[
      ...op.localGet(inputPointer),
      ...op.localGet(strideBytes),
      ...op.i32Add(),
      ...op.localSet(inputPointer),
    ],
    ...[...op.localGet(column), ...op.i32Const(1), ...op.i32Add(), ...op.localSet(column)],
    ...[...op.localGet(column), ...op.localGet(columns), ...op.i32Ne(), ...op.brIf(0)],
    ...op.end(),
    ...[...op.localGet(outputs), ...op.localGet(position), ...op.i32Add(), ...op.localSet(outputPointer)],
    ...each(rows, (row) => [
      ...each(vectors, (vector) => [
        ...op.localGet(outputPointer),
        ...op.localGet(accumulator(row, vector)),
        ...op.v128Store(vector * vectorBytes),
      ]),
      ...[
        ...op.localGet(outputPointer),
        ...op.localGet(strideBytes),
        ...op.i32Add(),
        ...op.localSet(outputPointer),
      ],
    ]),
    ...[
      ...op.localGet(position),
      ...op.i32Const(vectors * vectorBytes),
      ...op.i32Add(),
      ...op.localSet(position),
    ],
    ...op.br(0),
    ...op.end(),
    ...op.end(),
    ...op.end(),
  ];
  // Locals after the 6 parameters: 5 i32 (position .. outputPointer), then the mask, the nibbles
  // and the accumulators (v128).
  const locals = vector([
    [...unsigned(5), valueType.i32],
    [...unsigned(1 + 2 * vectors + rows * vectors), valueType.v128],
  ]);
  const body = [...locals, ...code];
  return [...unsigned(body.length), ...body];
}

/** The module's bytes; `relaxed` uses i8x16.relaxed_swizzle (a bare PSHUFB) where supported. */
export function simdModuleBytes(memoryBytes: number, relaxed: boolean): Uint8Array {
  const rowCounts = Array.from({ length: maximumRows }, (_, index) => index + 1);
  const parameters = new Array(6).fill(valueType.i32);
  const functionType = [0x60, ...unsigned(parameters.length), ...parameters, ...unsigned(0)];
  const memoryPages = Math.ceil(memoryBytes / pageBytes);
  return Uint8Array.from([
    ...moduleHeader,
    ...section(sectionId.type, vector([functionType])),
    ...section(sectionId.function, vector(rowCounts.map(() => unsigned(0)))),
    ...section(sectionId.memory, vector([[0x01, ...unsigned(memoryPages), ...unsigned(memoryPages)]])),
    ...section(
      sectionId.export,
      vector([
        [...utf8Name('memory'), exportKind.memory, ...unsigned(0)],
        ...rowCounts.map((rows) => [
          ...utf8Name(`multiply${rows}`),
          exportKind.function,
          ...unsigned(rows - 1),
        ]),
      ]),
    ),
    ...section(sectionId.code, vector(rowCounts.map((rows) => multiplyBody(rows, relaxed)))),
  ]);
}
