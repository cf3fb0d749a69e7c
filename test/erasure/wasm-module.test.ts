// The WebAssembly kernel is emitted from TypeScript source: no binary is committed, so what runs
// is always what wasm-simd-module.ts says. These tests pin the encoder it is built with.
import test from 'ava';
import { signed, unsigned } from '../../agent/erasure/kernels/wasm-encoding.ts';
import { maximumRows, simdModuleBytes } from '../../agent/erasure/kernels/wasm-simd-module.ts';

const webAssembly = (
  globalThis as unknown as {
    WebAssembly: {
      validate(bytes: Uint8Array): boolean;
      Module: { new (bytes: Uint8Array): object; exports(module: object): { name: string; kind: string }[] };
    };
  }
).WebAssembly;

test('wasm encoding: LEB128 matches the examples of the WebAssembly spec', (t) => {
  t.deepEqual(unsigned(0), [0x00]);
  t.deepEqual(unsigned(127), [0x7f]);
  t.deepEqual(unsigned(128), [0x80, 0x01]);
  t.deepEqual(unsigned(256), [0x80, 0x02]);
  t.deepEqual(unsigned(624_485), [0xe5, 0x8e, 0x26]);
  t.deepEqual(signed(-1), [0x7f]);
  t.deepEqual(signed(63), [0x3f]);
  t.deepEqual(signed(64), [0xc0, 0x00]);
  t.deepEqual(signed(-64), [0x40]);
  t.deepEqual(signed(-123_456), [0xc0, 0xbb, 0x78]);
});

for (const relaxed of [false, true]) {
  const variant = relaxed ? 'relaxed swizzle' : 'swizzle';
  test(`wasm module (${variant}): the emitted bytes are a valid module exporting memory and multiply1..8`, (t) => {
    const bytes = simdModuleBytes(1 << 20, relaxed);
    t.true(webAssembly.validate(bytes));
    const names = webAssembly.Module.exports(new webAssembly.Module(bytes)).map((entry) => entry.name);
    t.deepEqual(names, [
      'memory',
      ...Array.from({ length: maximumRows }, (_, index) => `multiply${index + 1}`),
    ]);
  });

  test(`wasm module (${variant}): emitting twice gives the same bytes`, (t) => {
    t.deepEqual(simdModuleBytes(1 << 20, relaxed), simdModuleBytes(1 << 20, relaxed));
  });
}
