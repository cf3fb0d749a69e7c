// What the listener (agent/http/server.ts) answers to requests Node's HTTP parser refuses, over raw
// sockets on 127.0.0.1: oversized headers get the protocol's own answer on a fresh connection;
// any other parse error gets Node's; and nothing is ever written into a response already under way.
import net from 'node:net';
import test from 'ava';
import { listen, type RunningServer } from '../../agent/http/server.ts';

const bodyBytes = 1024 * 1024;

async function startServer(): Promise<RunningServer> {
  return listen(
    async (request, response) => {
      if (request.url !== '/slow') {
        response.end('ok');
        return;
      }
      // A response under way for a while: headers and a first piece, then the rest later.
      response.writeHead(200, { 'content-length': String(bodyBytes) });
      response.write(Buffer.alloc(64 * 1024, 'b'));
      await new Promise((resolve) => setTimeout(resolve, 300));
      if (!response.destroyed) response.end(Buffer.alloc(bodyBytes - 64 * 1024, 'b'));
    },
    {
      host: '127.0.0.1',
      port: 0,
      headersTooLarge: (requestId, maximumHeaderBytes) => ({
        status: 400,
        headers: { 'Content-Type': 'application/xml' },
        body: `<Error><Code>RequestHeaderSectionTooLarge</Code><MaxSizeAllowed>${maximumHeaderBytes}</MaxSizeAllowed><RequestId>${requestId}</RequestId></Error>`,
      }),
    },
  );
}

/** Opens a connection, runs `script` with a way to send, and returns all it received until closed. */
async function converse(
  port: number,
  script: (send: (text: string) => void, received: () => string) => Promise<void>,
): Promise<string> {
  const socket = net.connect({ host: '127.0.0.1', port });
  let text = '';
  socket.on('data', (chunk: Buffer) => {
    text += chunk.toString('latin1');
  });
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  await script(
    (chunk) => socket.write(chunk),
    () => text,
  );
  await closed;
  return text;
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

test('headers over the limit on a fresh connection: the protocol answer, then the connection closes', async (t) => {
  const server = await startServer();
  try {
    const text = await converse(server.port, async (send) => {
      send(`GET /x HTTP/1.1\r\nHost: a\r\nX-Pad: ${'p'.repeat(20 * 1024)}\r\n\r\n`);
    });
    t.regex(text, /^HTTP\/1\.1 400 Bad Request\r\n/);
    t.regex(text, /<Code>RequestHeaderSectionTooLarge<\/Code><MaxSizeAllowed>16384<\/MaxSizeAllowed>/);
    t.regex(text, /\r\nConnection: close\r\n/i);
  } finally {
    await server.close();
  }
});

test("any other request the parser refuses gets Node's own 400, and the connection closes", async (t) => {
  const server = await startServer();
  try {
    const text = await converse(server.port, async (send) => {
      send('NOT A REQUEST LINE\r\n\r\n');
    });
    t.is(text, 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
  } finally {
    await server.close();
  }
});

test('a refused request pipelined behind a response under way cuts the connection and writes nothing into that response', async (t) => {
  const server = await startServer();
  try {
    const text = await converse(server.port, async (send, received) => {
      send('GET /slow HTTP/1.1\r\nHost: a\r\n\r\n');
      await until(() => received().includes('\r\n\r\n'));
      send(`GET /next HTTP/1.1\r\nHost: a\r\nX-Pad: ${'p'.repeat(20 * 1024)}\r\n\r\n`);
    });
    const [head = '', ...rest] = text.split('\r\n\r\n');
    const body = rest.join('\r\n\r\n');
    t.regex(head, /^HTTP\/1\.1 200 OK\r\n/);
    t.true(body.length < bodyBytes, `the response was cut (${body.length} of ${bodyBytes} bytes)`);
    t.regex(body, /^b*$/, "only the response's own bytes: no answer written into it");
  } finally {
    await server.close();
  }
});
