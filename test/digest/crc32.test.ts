// The CRC-32 of every shard block (agent/digest/crc32.ts): ISA-L's through the erasure addon when it
// is built (the project's own scripts build it: see the build test), else @node-rs/crc32, else
// zlib's; all give zlib's values, in one call or continued across pieces.
import { randomBytes } from 'node:crypto';
import { crc32 as zlibCrc32 } from 'node:zlib';
import test from 'ava';
import { crc32, loadIsalCrc32 } from '../../agent/digest/crc32.ts';

test('crc32: continues across pieces and matches zlib for known values', (t) => {
  const body = Buffer.from('123456789');
  // The CRC-32 check value of "123456789" (ISO-HDLC / zlib).
  t.is(crc32(body), 0xcbf43926);
  t.is(crc32(body.subarray(4), crc32(body.subarray(0, 4))), 0xcbf43926);
  t.is(crc32(new Uint8Array(0)), 0);
  t.is(crc32(new Uint8Array(0), 0xcbf43926), 0xcbf43926);
});

test("crc32 through ISA-L: zlib's values for every length to 300 bytes, shard sizes, odd offsets and any split", (t) => {
  const isal = loadIsalCrc32();
  if (isal === undefined)
    throw new Error('build/coffre_isal.node is not built or has no crc32 (see the build test)');
  const data = randomBytes(256 * 1024 + 301);
  for (let length = 0; length <= 300; length += 1) {
    const bytes = data.subarray(1, 1 + length);
    t.is(isal(bytes), zlibCrc32(bytes), `${length} bytes`);
  }
  for (const length of [4096, 65_536, 256 * 1024, 256 * 1024 + 300]) {
    const bytes = data.subarray(data.byteLength - length);
    t.is(isal(bytes), zlibCrc32(bytes), `${length} bytes`);
    const cut = Math.floor(length / 3) + 1;
    t.is(
      isal(bytes.subarray(cut), isal(bytes.subarray(0, cut))),
      zlibCrc32(bytes),
      `${length} bytes cut at ${cut}`,
    );
  }
});

test('crc32 through ISA-L: an addon path that does not load, or a file that is not the addon, gives none', (t) => {
  t.is(loadIsalCrc32('/nonexistent/coffre_isal.node'), undefined);
  t.is(loadIsalCrc32(new URL('../../package.json', import.meta.url).pathname), undefined);
});

test('crc32 through ISA-L: a call with bad arguments throws instead of reading memory it was not given', (t) => {
  const isal = loadIsalCrc32();
  if (isal === undefined)
    throw new Error('build/coffre_isal.node is not built or has no crc32 (see the build test)');
  t.throws(() => isal('not bytes' as unknown as Uint8Array));
  t.throws(() => isal(new Uint8Array(4), 'x' as unknown as number));
});
