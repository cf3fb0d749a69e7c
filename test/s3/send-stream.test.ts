// sendStream (agent/s3/responses.ts) writes an object body to the HTTP response and gives every lent
// piece back (releasePiece) once the socket is done with it, including when the client goes away
// midway and Node never calls the write's callback. A real HTTP server on 127.0.0.1 sends a body
// decrypted by the decryption workers (agent/crypto/chunk-workers.ts) to clients that drop it.
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import test from 'ava';
import { ChunkWorkers } from '../../agent/crypto/chunk-workers.ts';
import { type ChunkParameters, encryptChunks, planCiphertextRange } from '../../agent/crypto/chunked-aead.ts';
import { sendStream } from '../../agent/s3/responses.ts';
import { collect, piecesOf } from '../crypto/helpers.ts';
import { eventually } from '../support/eventually.ts';

const chunkSizeBytes = 64 * 1024;

/** Reads `keepBytes` of the answer to GET /, then drops the connection; resolves with what arrived. */
function dropAfter(port: number, keepBytes: number): Promise<number> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let received = 0;
    socket.on('data', (data: Buffer) => {
      received += data.length;
      if (received >= keepBytes) socket.destroy();
    });
    socket.on('error', () => {});
    socket.on('close', () => resolve(received));
    socket.write('GET / HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n');
  });
}

test('sendStream: clients that drop a lent body at any point get every piece given back, and a whole read still works', async (t) => {
  const workers = new ChunkWorkers({ workerCount: 1 });
  const chunk: ChunkParameters = { dataKey: randomBytes(32), noncePrefix: randomBytes(8), chunkSizeBytes };
  const plaintext = randomBytes(40 * chunkSizeBytes + 1234);
  const ciphertext = await collect(encryptChunks(piecesOf(plaintext, 100_000), chunk));
  const plan = planCiphertextRange(
    { offsetBytes: 0, lengthBytes: plaintext.length },
    plaintext.length,
    chunkSizeBytes,
  );
  const outcomes: string[] = [];
  const server = http.createServer((_request, response) => {
    sendStream(response, 200, workers.decryptLent(piecesOf(ciphertext, 50_000), chunk, plan), {
      'Content-Length': plaintext.length,
    }).then(
      () => outcomes.push('sent'),
      () => outcomes.push('cut'),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(async () => {
    await new Promise((resolve) => server.close(resolve));
    await workers.close();
  });
  const { port } = server.address() as net.AddressInfo;
  const dropped = await Promise.all(
    Array.from({ length: 24 }, (_, index) => dropAfter(port, 1 + index * 97_000)),
  );
  t.true(dropped.every((received) => received < plaintext.length));
  t.true(await eventually(() => outcomes.length === 24), 'every response settled');
  t.true(
    await eventually(() => workers.attachedReads === 0),
    `reads still attached: ${workers.attachedReads}`,
  );
  t.is(workers.ringsInUse, 0);
  // And the ring the reads gave back serves a whole read.
  const whole = await new Promise<Buffer>((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/' }, (response) => {
        const parts: Buffer[] = [];
        response.on('data', (data: Buffer) => parts.push(data));
        response.on('end', () => resolve(Buffer.concat(parts)));
      })
      .on('error', reject);
  });
  t.true(whole.equals(plaintext));
  t.true(await eventually(() => workers.attachedReads === 0));
});

test('sendStream: a socket torn down between two pieces (a write Node never calls back) still gets its lent pieces given back', async (t) => {
  const workers = new ChunkWorkers({ workerCount: 1 });
  const chunk: ChunkParameters = { dataKey: randomBytes(32), noncePrefix: randomBytes(8), chunkSizeBytes };
  const plaintext = randomBytes(20 * chunkSizeBytes);
  const ciphertext = await collect(encryptChunks(piecesOf(plaintext, 100_000), chunk));
  const plan = planCiphertextRange(
    { offsetBytes: 0, lengthBytes: plaintext.length },
    plaintext.length,
    chunkSizeBytes,
  );
  /** The body, with the connection destroyed by the server itself just before piece `at` is yielded. */
  async function* tearingDown(response: http.ServerResponse, at: number): AsyncGenerator<Uint8Array> {
    let index = 0;
    for await (const piece of workers.decryptLent(piecesOf(ciphertext, 50_000), chunk, plan)) {
      if (index === at) response.socket?.destroy();
      index += 1;
      yield piece;
    }
  }
  let cut = 0;
  const tearAt = [1, 3, 6];
  const server = http.createServer((_request, response) => {
    sendStream(response, 200, tearingDown(response, tearAt[cut % tearAt.length]), {
      'Content-Length': plaintext.length,
    }).catch(() => {
      cut += 1;
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(async () => {
    await new Promise((resolve) => server.close(resolve));
    await workers.close();
  });
  const { port } = server.address() as net.AddressInfo;
  for (const _ of tearAt) await dropAfter(port, plaintext.length + 1);
  t.true(await eventually(() => cut === tearAt.length), 'every response was cut');
  t.true(
    await eventually(() => workers.attachedReads === 0),
    `reads still attached: ${workers.attachedReads}`,
  );
  t.is(workers.ringsInUse, 0);
});
