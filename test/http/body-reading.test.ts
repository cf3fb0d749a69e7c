// Bodies read at the same time share the event loop (readBodyPieces, agent/http/server.ts): three
// 8 MiB bodies sent at once over real sockets on 127.0.0.1, each consumed as fast as it comes, as
// the PUT path does. Counted per turn of the event loop: once past its first MiB, a body takes at
// most its share of a turn while the others are read too. Serial: the count of bodies being read
// is the process's.
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import net from 'node:net';
import test from 'ava';
import {
  bodiesInReading,
  bodyBytesBeforeTurns,
  bodyBytesPerTurn,
  listen,
  readBodyPieces,
} from '../../agent/http/server.ts';

const bodyBytes = 8 * 1024 * 1024;
const clients = 3;
/** A piece as Node's parser hands it over is at most one socket read: 64 KiB. */
const largestPieceBytes = 64 * 1024;

/** Sends one PUT with a body of `bodyBytes` as fast as the socket takes it; resolves with the answer. */
async function put(port: number, path: string): Promise<string> {
  const socket = net.connect({ host: '127.0.0.1', port });
  socket.on('error', () => {});
  let answer = '';
  socket.on('data', (chunk: Buffer) => {
    answer += chunk.toString('latin1');
  });
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  socket.write(
    `PUT ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${bodyBytes}\r\nConnection: close\r\n\r\n`,
  );
  const slice = Buffer.alloc(256 * 1024, path);
  for (let sent = 0; sent < bodyBytes; sent += slice.byteLength) {
    if (!socket.write(slice)) await new Promise((resolve) => socket.once('drain', resolve));
  }
  await closed;
  return answer;
}

test.serial(
  'bodies read together: past its first MiB, a body takes at most its share of each turn of the event loop',
  async (t) => {
    let turn = 0;
    let counting = true;
    const countTurns = () => {
      turn += 1;
      if (counting) setImmediate(countTurns);
    };
    setImmediate(countTurns);
    /** Per body: bytes taken in each turn, and the bytes it had taken before that turn. */
    const takes = new Map<string, Map<number, { bytes: number; before: number }>>();
    const finishedAtTurn = new Map<string, number>();
    const server = await listen(
      async (request, response) => {
        const name = request.url ?? '';
        const perTurn = new Map<number, { bytes: number; before: number }>();
        takes.set(name, perTurn);
        let total = 0;
        for await (const piece of readBodyPieces(request)) {
          const entry = perTurn.get(turn) ?? { bytes: 0, before: total };
          entry.bytes += piece.byteLength;
          perTurn.set(turn, entry);
          total += piece.byteLength;
        }
        finishedAtTurn.set(name, turn);
        response.end(String(total));
      },
      { host: '127.0.0.1', port: 0 },
    );
    t.teardown(async () => {
      counting = false;
      await server.close();
    });
    const answers = await Promise.all(
      Array.from({ length: clients }, (_, index) => put(server.port, `/body-${index}`)),
    );
    for (const answer of answers) {
      t.regex(answer, /^HTTP\/1\.1 200 /);
      t.true(answer.endsWith(`\r\n\r\n${bodyBytes}`), 'every byte of every body was read');
    }
    t.is(takes.size, clients);
    let turnsCounted = 0;
    for (const [name, perTurn] of takes) {
      for (const [at, { bytes, before }] of perTurn) {
        const othersReading = [...takes.keys()].some(
          (other) =>
            other !== name && takes.get(other)!.size > 0 && (finishedAtTurn.get(other) ?? Infinity) > at,
        );
        if (before < bodyBytesBeforeTurns || !othersReading) continue;
        turnsCounted += 1;
        // The share is checked after each piece, and the turn the test counts may straddle the
        // reader's own: at most two shares and a piece, against up to 2 MiB a socket gives at once.
        t.true(
          bytes <= 2 * bodyBytesPerTurn + largestPieceBytes,
          `${name} took ${bytes} bytes in turn ${at} while another body was being read`,
        );
      }
    }
    t.true(turnsCounted > 0, 'the bodies were read at the same time');
  },
);

test.serial(
  'a body whose reader is dropped unfinished stops counting as being read when its request is destroyed',
  async (t) => {
    let dropped: ((request: IncomingMessage) => void) | undefined;
    const tookOnePiece = new Promise<IncomingMessage>((resolve) => {
      dropped = resolve;
    });
    const server = await listen(
      async (request, response) => {
        const reader = readBodyPieces(request);
        await reader.next();
        // Neither read to its end nor returned: its socket is no longer read, and only the end of
        // the request (Node destroys it at its request timeout) can end its count.
        dropped?.(request);
        await new Promise((resolve) => request.once('close', resolve));
        response.destroy();
      },
      { host: '127.0.0.1', port: 0 },
    );
    t.teardown(() => server.close());
    const socket = net.connect({ host: '127.0.0.1', port: server.port });
    socket.on('error', () => {});
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(`PUT /dropped HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${bodyBytes}\r\n\r\n`);
    socket.write(Buffer.alloc(256 * 1024, 'd'));
    const request = await tookOnePiece;
    t.is(bodiesInReading(), 1);
    const closed = once(request, 'close');
    request.destroy();
    await closed;
    t.is(bodiesInReading(), 0);
    socket.destroy();
  },
);
