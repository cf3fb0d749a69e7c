// The decryption workers (agent/crypto/chunk-workers.ts): a large read is opened by a worker thread
// through a ring of slots and yielded in LENT pieces, each valid until given back. These tests hold
// pieces as a slow socket would, check that no lent piece is ever overwritten, and that a read
// gives the same bytes and the same errors as decryption in place.
import { randomBytes } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import test, { type ExecutionContext } from 'ava';
import { ChunkWorkers, releasePiece, slotsPerRead } from '../../agent/crypto/chunk-workers.ts';
import {
  type ChunkParameters,
  decryptChunks,
  encryptChunks,
  gcmTagBytes,
  planCiphertextRange,
} from '../../agent/crypto/chunked-aead.ts';
import { isCryptoError } from '../../agent/crypto/errors.ts';
import { eventually } from '../support/eventually.ts';
import { collect, piecesOf } from './helpers.ts';

const chunkSizeBytes = 1024;

function parameters(): ChunkParameters {
  return { dataKey: randomBytes(32), noncePrefix: randomBytes(8), chunkSizeBytes };
}

async function sealed(plaintext: Buffer, chunk: ChunkParameters): Promise<Buffer> {
  return collect(encryptChunks(piecesOf(plaintext, 777), chunk));
}

/** A random object of `sizeBytes` sealed under fresh parameters, and the plan of its whole read. */
async function sealedObject(sizeBytes: number) {
  const chunk = parameters();
  const plaintext = randomBytes(sizeBytes);
  const ciphertext = await sealed(plaintext, chunk);
  const plan = planCiphertextRange({ offsetBytes: 0, lengthBytes: sizeBytes }, sizeBytes, chunkSizeBytes);
  return { chunk, plaintext, ciphertext, plan };
}

/** Decryption workers of the test's own, stopped when it ends. */
function startWorkers(t: ExecutionContext, workerCount = 1): ChunkWorkers {
  const workers = new ChunkWorkers({ workerCount });
  t.teardown(() => workers.close());
  return workers;
}

/**
 * Reads as a slow socket would: each piece is kept, copied, and given back only `holdPieces` pieces
 * later, when its bytes are checked against the copy made on arrival (a slot overwritten while
 * lent would show here). Returns the bytes read.
 */
async function readHolding(body: AsyncIterable<Uint8Array>, holdPieces: number): Promise<Buffer> {
  const held: { piece: Uint8Array; copy: Buffer }[] = [];
  const received: Buffer[] = [];
  const giveBack = () => {
    const oldest = held.shift();
    if (oldest === undefined) return;
    if (!Buffer.from(oldest.piece).equals(oldest.copy))
      throw new Error('a lent piece changed before it was given back');
    releasePiece(oldest.piece);
  };
  for await (const piece of body) {
    const copy = Buffer.from(piece);
    received.push(copy);
    held.push({ piece, copy });
    if (held.length > holdPieces) giveBack();
  }
  while (held.length > 0) giveBack();
  return Buffer.concat(received);
}

test('decryption workers: a whole object read through the ring, pieces held as a slow socket holds them, gives its exact bytes', async (t) => {
  const workers = startWorkers(t);
  const sizeBytes = 37 * chunkSizeBytes + 123;
  const { chunk, plaintext, ciphertext, plan } = await sealedObject(sizeBytes);
  for (const holdPieces of [0, 1, slotsPerRead - 1]) {
    const read = await readHolding(workers.decryptLent(piecesOf(ciphertext, 1000), chunk, plan), holdPieces);
    t.true(read.equals(plaintext), `holding ${holdPieces} pieces`);
  }
  t.is(workers.runningWorkers, 1);
  t.is(workers.ringsInUse, 0);
  t.true(await eventually(() => workers.idleRings === 1), 'the ring went back to the pool for the next read');
});

test('decryption workers: ranges across chunk boundaries give exactly their bytes, like decryption in place', async (t) => {
  const workers = startWorkers(t, 2);
  const chunk = parameters();
  const sizeBytes = 9 * chunkSizeBytes + 500;
  const plaintext = randomBytes(sizeBytes);
  const ciphertext = await sealed(plaintext, chunk);
  const ranges = [
    { offsetBytes: 1, lengthBytes: chunkSizeBytes },
    { offsetBytes: chunkSizeBytes - 1, lengthBytes: 2 },
    { offsetBytes: 3 * chunkSizeBytes + 7, lengthBytes: 4 * chunkSizeBytes },
    { offsetBytes: sizeBytes - chunkSizeBytes - 1, lengthBytes: chunkSizeBytes + 1 },
    { offsetBytes: 0, lengthBytes: sizeBytes },
  ];
  // Several reads at once, spread over both workers.
  const reads = await Promise.all(
    ranges.map(async (range) => {
      const plan = planCiphertextRange(range, sizeBytes, chunkSizeBytes);
      const stored = ciphertext.subarray(
        plan.ciphertext.offsetBytes,
        plan.ciphertext.offsetBytes + plan.ciphertext.lengthBytes,
      );
      const lent = await readHolding(workers.decryptLent(piecesOf(stored, 333), chunk, plan), 2);
      const inPlace = await collect(decryptChunks(piecesOf(stored, 333), chunk, plan));
      return { range, lent, inPlace };
    }),
  );
  for (const { range, lent, inPlace } of reads) {
    const expected = plaintext.subarray(range.offsetBytes, range.offsetBytes + range.lengthBytes);
    t.true(lent.equals(expected), `range ${range.offsetBytes}+${range.lengthBytes}`);
    t.true(inPlace.equals(expected));
  }
  t.is(workers.runningWorkers, 2);
});

test('decryption workers: with every slot lent the read waits for a piece to come back, and never overwrites one', async (t) => {
  const workers = startWorkers(t);
  const sizeBytes = (slotsPerRead + 4) * chunkSizeBytes;
  const { chunk, plaintext, ciphertext, plan } = await sealedObject(sizeBytes);
  const pieces = workers.decryptLent(piecesOf(ciphertext, chunkSizeBytes + gcmTagBytes), chunk, plan);
  const lent: Uint8Array[] = [];
  for (let index = 0; index < slotsPerRead; index += 1) {
    const next = await pieces.next();
    t.false(next.done);
    lent.push(next.value as Uint8Array);
  }
  let nextArrived = false;
  const next = pieces.next().then((result) => {
    nextArrived = true;
    return result;
  });
  // Another whole read through the same worker completes meanwhile: the worker is not what the
  // first read waits for.
  const otherPlan = planCiphertextRange(
    { offsetBytes: 0, lengthBytes: sizeBytes },
    sizeBytes,
    chunkSizeBytes,
  );
  const other = await readHolding(workers.decryptLent(piecesOf(ciphertext, 500), chunk, otherPlan), 0);
  t.true(other.equals(plaintext));
  t.false(nextArrived, 'no piece while every slot is lent');
  for (const [index, piece] of lent.entries()) {
    t.true(
      Buffer.from(piece).equals(plaintext.subarray(index * chunkSizeBytes, (index + 1) * chunkSizeBytes)),
    );
  }
  releasePiece(lent[0]);
  const after = await next;
  t.false(after.done);
  t.true(
    Buffer.from(after.value as Uint8Array).equals(
      plaintext.subarray(slotsPerRead * chunkSizeBytes, (slotsPerRead + 1) * chunkSizeBytes),
    ),
  );
  releasePiece(after.value as Uint8Array);
  for (const piece of lent.slice(1)) releasePiece(piece);
  const rest = await readHolding({ [Symbol.asyncIterator]: () => pieces }, 0);
  t.true(rest.equals(plaintext.subarray((slotsPerRead + 1) * chunkSizeBytes)));
});

test('decryption workers: a tampered chunk fails the read at that chunk as TAMPERED; no byte of it is yielded', async (t) => {
  const workers = startWorkers(t);
  const sizeBytes = 20 * chunkSizeBytes;
  const { chunk, plaintext, ciphertext, plan } = await sealedObject(sizeBytes);
  const tamperedChunk = 13;
  ciphertext[tamperedChunk * (chunkSizeBytes + gcmTagBytes) + 5] ^= 1;
  const received: Buffer[] = [];
  const error = await t.throwsAsync(async () => {
    for await (const piece of workers.decryptLent(piecesOf(ciphertext, 4096), chunk, plan)) {
      received.push(Buffer.from(piece));
      releasePiece(piece);
    }
  });
  t.true(isCryptoError(error, 'TAMPERED'), String(error));
  t.true(Buffer.concat(received).equals(plaintext.subarray(0, tamperedChunk * chunkSizeBytes)));
  t.is(workers.ringsInUse, 0);
});

test('decryption workers: a ciphertext cut short or running long is TRUNCATED, as in place', async (t) => {
  const workers = startWorkers(t);
  const { chunk, ciphertext, plan } = await sealedObject(6 * chunkSizeBytes + 10);
  for (const stored of [
    ciphertext.subarray(0, ciphertext.length - 3),
    Buffer.concat([ciphertext, Buffer.alloc(1)]),
  ]) {
    const error = await t.throwsAsync(() =>
      readHolding(workers.decryptLent(piecesOf(stored, 999), chunk, plan), 0),
    );
    t.true(isCryptoError(error, 'TRUNCATED'), String(error));
  }
});

test('decryption workers: a read abandoned midway gives its ring back once the worker answered and the pieces came back', async (t) => {
  const workers = startWorkers(t);
  const { chunk, ciphertext, plan } = await sealedObject(30 * chunkSizeBytes);
  const pieces = workers.decryptLent(piecesOf(ciphertext, 10_000), chunk, plan);
  const first = await pieces.next();
  const second = await pieces.next();
  t.is(workers.ringsInUse, 1);
  await pieces.return(undefined);
  t.is(workers.ringsInUse, 0, 'an abandoned read no longer counts against the budget');
  t.is(workers.idleRings, 0, 'two pieces are still lent: the ring is not reused');
  releasePiece(first.value as Uint8Array);
  releasePiece(second.value as Uint8Array);
  t.true(await eventually(() => workers.idleRings === 1));
});

test('decryption workers: a read of one chunk is decrypted in place, in pieces that are not lent', async (t) => {
  const workers = startWorkers(t);
  const sizeBytes = chunkSizeBytes - 1;
  const { chunk, plaintext, ciphertext, plan } = await sealedObject(sizeBytes);
  const pieces: Uint8Array[] = [];
  for await (const piece of workers.decryptLent(piecesOf(ciphertext, 100), chunk, plan)) pieces.push(piece);
  t.true(Buffer.concat(pieces).equals(plaintext));
  t.is(workers.runningWorkers, 0, 'no worker was started');
  t.is(workers.idleRings, 0);
});

test('decryption workers: stopped while a read waits on them, the read fails instead of hanging', async (t) => {
  const workers = startWorkers(t);
  const { chunk, ciphertext, plan } = await sealedObject(40 * chunkSizeBytes);
  const pieces = workers.decryptLent(piecesOf(ciphertext, 50_000), chunk, plan);
  const first = await pieces.next();
  t.false(first.done);
  await workers.close();
  await t.throwsAsync(() => readHolding({ [Symbol.asyncIterator]: () => pieces }, 0), {
    message: /decryption workers stopped|exited/,
  });
});

// Serial: it counts every Worker#postMessage of the process while it runs, which the other tests
// of this file, run concurrently, would add to.
test.serial(
  'decryption workers: a read of four chunks is one message to its worker (session, chunks and close together); a range too',
  async (t) => {
    const workers = startWorkers(t);
    const { chunk, plaintext, ciphertext, plan } = await sealedObject(4 * chunkSizeBytes);
    // Started once first, so that the count below is the read's alone.
    t.true(
      (await readHolding(workers.decryptLent(piecesOf(ciphertext, 1000), chunk, plan), 0)).equals(plaintext),
    );
    const posted: unknown[] = [];
    const original = Worker.prototype.postMessage;
    Worker.prototype.postMessage = function (this: Worker, message: unknown, ...rest: unknown[]) {
      posted.push(message);
      return (original as (...args: unknown[]) => void).call(this, message, ...rest);
    };
    t.teardown(() => {
      Worker.prototype.postMessage = original;
    });
    const read = await readHolding(workers.decryptLent(piecesOf(ciphertext, 1000), chunk, plan), 1);
    t.true(read.equals(plaintext));
    t.is(posted.length, 1);
    t.like(posted[0], { kind: 'open-chunks', close: true });
    t.is((posted[0] as { tasks: unknown[] }).tasks.length, 4);
    // Bytes 1,500-2,600: chunks 1 and 2 only, still one message.
    posted.length = 0;
    const range = planCiphertextRange(
      { offsetBytes: 1500, lengthBytes: 1100 },
      plaintext.length,
      chunkSizeBytes,
    );
    const skipped = range.ciphertext.offsetBytes;
    const part = ciphertext.subarray(skipped, skipped + range.ciphertext.lengthBytes);
    t.true(
      (await readHolding(workers.decryptLent(piecesOf(part, 500), chunk, range), 0)).equals(
        plaintext.subarray(1500, 2600),
      ),
    );
    t.is(posted.length, 1);
    t.like(posted[0], { kind: 'open-chunks', close: true });
    // Closed sessions leave nothing attached.
    t.true(await eventually(() => workers.attachedReads === 0));
  },
);
