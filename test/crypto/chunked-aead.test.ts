import { randomBytes } from 'node:crypto';
import test from 'ava';
import {
  type ChunkParameters,
  type CiphertextDestination,
  ciphertextSizeFor,
  decryptChunks,
  encryptChunks,
  gcmTagBytes,
  plaintextSizeFor,
  planCiphertextRange,
} from '../../agent/crypto/chunked-aead.ts';
import { isCryptoError } from '../../agent/crypto/errors.ts';
import { nativeGcm } from '../../agent/crypto/native-gcm.ts';
import { collect, collectUntilError, piecesOf } from './helpers.ts';

const chunkSizeBytes = 64;

function parameters(): ChunkParameters {
  return { dataKey: randomBytes(32), noncePrefix: randomBytes(8), chunkSizeBytes };
}

async function encrypt(plaintext: Buffer, chunk: ChunkParameters, pieceBytes = 7): Promise<Buffer> {
  return collect(encryptChunks(piecesOf(plaintext, pieceBytes), chunk));
}

async function decryptWhole(ciphertext: Buffer, chunk: ChunkParameters, sizeBytes: number): Promise<Buffer> {
  const plan = planCiphertextRange({ offsetBytes: 0, lengthBytes: sizeBytes }, sizeBytes, chunkSizeBytes);
  return collect(decryptChunks(piecesOf(ciphertext, 13), chunk, plan));
}

const sizes = [0, 1, chunkSizeBytes - 1, chunkSizeBytes, chunkSizeBytes + 1, 10 * chunkSizeBytes + 17];

for (const sizeBytes of sizes) {
  test(`round trip: ${sizeBytes} bytes in ${chunkSizeBytes}-byte chunks decrypt to the same bytes`, async (t) => {
    const chunk = parameters();
    const plaintext = randomBytes(sizeBytes);
    const ciphertext = await encrypt(plaintext, chunk);
    t.is(ciphertext.length, ciphertextSizeFor(sizeBytes, chunkSizeBytes));
    t.is(plaintextSizeFor(ciphertext.length, chunkSizeBytes), sizeBytes);
    // A run of 16 plaintext bytes turns up in random ciphertext with negligible odds; a shorter one
    // (a single byte, say) turns up by chance, so only long enough plaintexts are looked for.
    t.false(sizeBytes >= 16 && ciphertext.includes(plaintext.subarray(0, 16)));
    t.deepEqual(await decryptWhole(ciphertext, chunk, sizeBytes), plaintext);
  });
}

test('round trip: input pieces larger than a chunk and of one byte give the same ciphertext', async (t) => {
  const chunk = parameters();
  const plaintext = randomBytes(5 * chunkSizeBytes + 3);
  const whole = await encrypt(plaintext, chunk, plaintext.length);
  const bytewise = await encrypt(plaintext, chunk, 1);
  t.deepEqual(whole, bytewise);
});

test('declared length: each piece sealed as it arrives gives the same ciphertext, byte for byte', async (t) => {
  const chunk = parameters();
  for (const sizeBytes of [...sizes, 2 * chunkSizeBytes, 3 * chunkSizeBytes + 7]) {
    const plaintext = randomBytes(sizeBytes);
    const gathered = await encrypt(plaintext, chunk);
    // Pieces of one byte, of odd sizes across chunk boundaries, and of several chunks at once.
    for (const pieceBytes of [1, 5, chunkSizeBytes, 3 * chunkSizeBytes + 1]) {
      const streamed = await collect(encryptChunks(piecesOf(plaintext, pieceBytes), chunk, sizeBytes));
      t.deepEqual(streamed, gathered, `${sizeBytes} bytes in pieces of ${pieceBytes}`);
    }
    t.deepEqual(await decryptWhole(gathered, chunk, sizeBytes), plaintext);
  }
});

test('declared length with a destination: each piece is sealed into the view the consumer offers and yielded as that view; the same ciphertext', async (t) => {
  const gcm = nativeGcm();
  if (gcm === null) throw new Error('build/coffre_gcm.node is not built (see the build test)');
  const chunk = parameters();
  for (const sizeBytes of [1, chunkSizeBytes, 10 * chunkSizeBytes + 17]) {
    const plaintext = randomBytes(sizeBytes);
    const gathered = await encrypt(plaintext, chunk);
    // The consumer's memory, handed out in views of 1, 3 or 200 bytes at most, as a writer's
    // stripe is (up to the end of its block).
    for (const viewBytes of [1, 3, 200]) {
      const memory = Buffer.alloc(2 * gathered.length);
      let filled = 0;
      let offered: Uint8Array | undefined;
      const destination: CiphertextDestination = {
        writable: (maxBytes) => {
          offered = memory.subarray(filled, filled + Math.min(maxBytes, viewBytes));
          return offered;
        },
      };
      const pieces: Buffer[] = [];
      let inPlace = 0;
      for await (const piece of encryptChunks(piecesOf(plaintext, 7), chunk, sizeBytes, gcm, destination)) {
        if (piece.buffer === memory.buffer && piece.byteOffset === memory.byteOffset + filled) {
          t.true(piece.byteLength <= (offered?.byteLength ?? 0), 'within the view offered');
          inPlace += piece.byteLength;
        } else memory.set(piece, filled);
        pieces.push(Buffer.from(piece));
        filled += piece.byteLength;
      }
      t.deepEqual(Buffer.concat(pieces), gathered, `${sizeBytes} bytes, views of ${viewBytes}`);
      t.deepEqual(memory.subarray(0, filled), gathered);
      // Everything but the tags (yielded from the sealer's own buffer) was sealed in place.
      t.is(inPlace, sizeBytes, `${sizeBytes} bytes, views of ${viewBytes}`);
    }
  }
});

test('declared length: a body longer or shorter than declared fails before its last chunk is sealed', async (t) => {
  const chunk = parameters();
  const plaintext = randomBytes(2 * chunkSizeBytes + 10);
  for (const declaredBytes of [plaintext.length - 1, plaintext.length + 1, 0, 2 * chunkSizeBytes]) {
    const { bytes: partial, error } = await collectUntilError(
      encryptChunks(piecesOf(plaintext, 7), chunk, declaredBytes),
    );
    t.regex(String(error), /declared/, `declared ${declaredBytes} of ${plaintext.length}`);
    // The last chunk was never sealed: what came out is no object of the declared length.
    await t.throwsAsync(decryptWhole(partial, chunk, declaredBytes));
  }
});

test('ranges: every range of a 3.5-chunk object decrypts to exactly its bytes, reading only its chunks', async (t) => {
  const chunk = parameters();
  const sizeBytes = 3 * chunkSizeBytes + chunkSizeBytes / 2;
  const plaintext = randomBytes(sizeBytes);
  const ciphertext = await encrypt(plaintext, chunk);
  let checked = 0;
  for (let offsetBytes = 0; offsetBytes < sizeBytes; offsetBytes += 1) {
    for (let lengthBytes = 1; offsetBytes + lengthBytes <= sizeBytes; lengthBytes += 1) {
      const plan = planCiphertextRange({ offsetBytes, lengthBytes }, sizeBytes, chunkSizeBytes);
      const sealedChunkBytes = chunkSizeBytes + gcmTagBytes;
      const expectedChunks =
        Math.floor((offsetBytes + lengthBytes - 1) / chunkSizeBytes) -
        Math.floor(offsetBytes / chunkSizeBytes) +
        1;
      if (plan.chunkCount !== expectedChunks || plan.ciphertext.offsetBytes % sealedChunkBytes !== 0) {
        t.fail(`range ${offsetBytes}+${lengthBytes} plans ${plan.chunkCount} chunks`);
      }
      const stored = ciphertext.subarray(
        plan.ciphertext.offsetBytes,
        plan.ciphertext.offsetBytes + plan.ciphertext.lengthBytes,
      );
      const decrypted = await collect(decryptChunks(piecesOf(stored, 11), chunk, plan));
      if (!decrypted.equals(plaintext.subarray(offsetBytes, offsetBytes + lengthBytes))) {
        t.fail(`range ${offsetBytes}+${lengthBytes} decrypts wrongly`);
      }
      checked += 1;
    }
  }
  t.is(checked, (sizeBytes * (sizeBytes + 1)) / 2);
});

test('ranges: a range inside the last chunk reads only that chunk and its tag', (t) => {
  const plan = planCiphertextRange({ offsetBytes: 130, lengthBytes: 5 }, 150, chunkSizeBytes);
  t.deepEqual(plan.ciphertext, {
    offsetBytes: 2 * (chunkSizeBytes + gcmTagBytes),
    lengthBytes: 22 + gcmTagBytes,
  });
  t.is(plan.skipBytes, 2);
  t.is(plan.totalChunkCount, 3);
});

test('tampering: a flipped bit anywhere is detected and no byte of the bad chunk is returned', async (t) => {
  const chunk = parameters();
  const sizeBytes = 3 * chunkSizeBytes + 5;
  const plaintext = randomBytes(sizeBytes);
  const ciphertext = await encrypt(plaintext, chunk);
  for (let position = 0; position < ciphertext.length; position += 1) {
    const damaged = Buffer.from(ciphertext);
    damaged[position] ^= 1 << (position % 8);
    const { bytes, error } = await collectUntilError(
      decryptChunks(
        piecesOf(damaged, 29),
        chunk,
        planCiphertextRange({ offsetBytes: 0, lengthBytes: sizeBytes }, sizeBytes, chunkSizeBytes),
      ),
    );
    const badChunk = Math.floor(position / (chunkSizeBytes + gcmTagBytes));
    if (!isCryptoError(error, 'TAMPERED')) t.fail(`flip at ${position} not detected`);
    // Only the chunks before the damaged one were returned, and they are correct.
    if (!bytes.equals(plaintext.subarray(0, badChunk * chunkSizeBytes))) t.fail(`flip at ${position} leaked`);
  }
  t.pass();
});

test('tampering: a ciphertext cut at a chunk boundary fails as the last chunk is not marked final', async (t) => {
  const chunk = parameters();
  const plaintext = randomBytes(3 * chunkSizeBytes);
  const ciphertext = await encrypt(plaintext, chunk);
  const cut = ciphertext.subarray(0, 2 * (chunkSizeBytes + gcmTagBytes));
  // A record edited to the shorter size still fails: chunk 1 was sealed as not final.
  const { bytes, error } = await collectUntilError(
    decryptChunks(
      piecesOf(cut, 50),
      chunk,
      planCiphertextRange(
        { offsetBytes: 0, lengthBytes: 2 * chunkSizeBytes },
        2 * chunkSizeBytes,
        chunkSizeBytes,
      ),
    ),
  );
  t.true(isCryptoError(error, 'TAMPERED'));
  t.deepEqual(bytes, plaintext.subarray(0, chunkSizeBytes));
  // With the true size, the short stream is TRUNCATED.
  const truncated = await collectUntilError(
    decryptChunks(
      piecesOf(cut, 50),
      chunk,
      planCiphertextRange(
        { offsetBytes: 0, lengthBytes: plaintext.length },
        plaintext.length,
        chunkSizeBytes,
      ),
    ),
  );
  t.true(isCryptoError(truncated.error, 'TRUNCATED'));
});

test('tampering: two chunks swapped, or one duplicated, fail authentication', async (t) => {
  const chunk = parameters();
  const plaintext = randomBytes(3 * chunkSizeBytes);
  const ciphertext = await encrypt(plaintext, chunk);
  const sealed = chunkSizeBytes + gcmTagBytes;
  const [first, second, third] = [0, 1, 2].map((index) =>
    ciphertext.subarray(index * sealed, (index + 1) * sealed),
  );
  const plan = planCiphertextRange(
    { offsetBytes: 0, lengthBytes: plaintext.length },
    plaintext.length,
    chunkSizeBytes,
  );
  for (const reordered of [
    Buffer.concat([second, first, third]),
    Buffer.concat([first, first, third]),
    Buffer.concat([first, third, second]),
  ]) {
    const { bytes, error } = await collectUntilError(decryptChunks(piecesOf(reordered, 64), chunk, plan));
    t.true(isCryptoError(error, 'TAMPERED'));
    t.true(plaintext.subarray(0, bytes.length).equals(bytes));
  }
});

test('tampering: an empty object whose tag is removed is TRUNCATED, and extra bytes are refused', async (t) => {
  const chunk = parameters();
  const ciphertext = await encrypt(Buffer.alloc(0), chunk);
  t.is(ciphertext.length, gcmTagBytes);
  const plan = planCiphertextRange({ offsetBytes: 0, lengthBytes: 0 }, 0, chunkSizeBytes);
  t.true(
    isCryptoError(
      (await collectUntilError(decryptChunks(piecesOf(Buffer.alloc(0), 1), chunk, plan))).error,
      'TRUNCATED',
    ),
  );
  const longer = Buffer.concat([ciphertext, Buffer.from([0])]);
  t.true(
    isCryptoError(
      (await collectUntilError(decryptChunks(piecesOf(longer, 4), chunk, plan))).error,
      'TRUNCATED',
    ),
  );
});

test('keys: the same plaintext under another data key or nonce prefix is another ciphertext, and the wrong key fails', async (t) => {
  const plaintext = randomBytes(100);
  const one = parameters();
  const other = { ...one, noncePrefix: randomBytes(8) };
  const first = await encrypt(plaintext, one);
  t.notDeepEqual(first, await encrypt(plaintext, other));
  const plan = planCiphertextRange({ offsetBytes: 0, lengthBytes: 100 }, 100, chunkSizeBytes);
  const { bytes, error } = await collectUntilError(decryptChunks(piecesOf(first, 100), other, plan));
  t.true(isCryptoError(error, 'TAMPERED'));
  t.is(bytes.length, 0);
});
