// The load generator's HTTP/1.1 transport (bench/s3-load/http-connection.ts): the response parser
// fed every way a response can arrive in pieces, and the connection pool against real servers on
// 127.0.0.1 (node:http, and raw node:net for what node:http would not send).
import { createHash } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import test from 'ava';
import { ConnectionPool, ResponseParser } from '../../bench/s3-load/http-connection.ts';

const keepAll = () => true;

/** Feeds `text` to a parser in pieces of `pieceBytes`; returns the parser and the bytes left over. */
function parse(method: string, bytes: Buffer, pieceBytes: number) {
  const parser = new ResponseParser(method, keepAll);
  let offset = 0;
  let leftOver = 0;
  while (offset < bytes.byteLength) {
    const piece = bytes.subarray(offset, Math.min(offset + pieceBytes, bytes.byteLength));
    const used = parser.feed(piece);
    if (parser.done) leftOver += piece.byteLength - used;
    offset += piece.byteLength;
  }
  return { parser, leftOver };
}

const chunkedResponse = Buffer.from(
  'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Amz-Request-Id: 1\r\nX-Multi: a\r\nx-multi: b\r\n\r\n' +
    '5;name=value\r\nhello\r\n' +
    '1A\r\nabcdefghijklmnopqrstuvwxyz\r\n' +
    '0\r\nx-amz-checksum-crc32: AAAAAA==\r\n\r\n',
  'latin1',
);

test('parser: a chunked body (extensions, trailer) in pieces of every size from 1 byte', (t) => {
  for (const pieceBytes of [1, 2, 3, 7, 16, 64, chunkedResponse.byteLength]) {
    const { parser, leftOver } = parse('GET', chunkedResponse, pieceBytes);
    t.true(parser.done, `pieces of ${pieceBytes}`);
    t.is(leftOver, 0);
    t.is(parser.status, 200);
    t.is(parser.headers['x-amz-request-id'], '1');
    t.is(parser.headers['x-multi'], 'a, b');
    t.is(parser.body()?.toString('latin1'), 'helloabcdefghijklmnopqrstuvwxyz');
    t.is(parser.bodyBytes, 31);
    t.true(parser.keepAlive);
  }
});

test('parser: Content-Length bodies end at their length; what follows is not theirs', (t) => {
  const body = Buffer.alloc(100_000, 7);
  const bytes = Buffer.concat([
    Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n', 'latin1'),
    body,
    Buffer.from('HTTP/1.1 200 OK\r\n', 'latin1'),
  ]);
  for (const pieceBytes of [1000, 4096, bytes.byteLength]) {
    const { parser, leftOver } = parse('GET', bytes, pieceBytes);
    t.true(parser.done);
    t.is(parser.bodyBytes, 100_000);
    t.deepEqual(parser.body(), body);
    t.is(leftOver, 17);
  }
});

test('parser: HEAD, 204 and 304 have no body whatever their headers; 100 Continue is skipped', (t) => {
  const head = parse('HEAD', Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n'), 1);
  t.true(head.parser.done);
  t.is(head.parser.bodyBytes, 0);
  t.is(head.parser.headers['content-length'], '5000');
  for (const status of [204, 304]) {
    const { parser } = parse('GET', Buffer.from(`HTTP/1.1 ${status} X\r\nContent-Length: 9\r\n\r\n`), 4);
    t.true(parser.done);
    t.is(parser.status, status);
    t.is(parser.bodyBytes, 0);
  }
  const continued = parse(
    'PUT',
    Buffer.from(
      'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok',
    ),
    5,
  );
  t.true(continued.parser.done);
  t.is(continued.parser.status, 200);
  t.is(continued.parser.body()?.toString(), 'ok');
  t.false(continued.parser.keepAlive);
});

test('parser: a body without length runs until the server closes; a cut body is an error', (t) => {
  const untilClose = parse('GET', Buffer.from('HTTP/1.0 200 OK\r\n\r\nall of it'), 3);
  t.false(untilClose.parser.done);
  untilClose.parser.end();
  t.true(untilClose.parser.done);
  t.false(untilClose.parser.keepAlive);
  t.is(untilClose.parser.body()?.toString(), 'all of it');
  const cut = parse('GET', Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort'), 64);
  t.throws(() => cut.parser.end(), { message: /closed in the response's length/ });
  t.throws(() => new ResponseParser('GET', keepAll).feed(Buffer.from('SSH-2.0-OpenSSH\r\n\r\n')), {
    message: /not an HTTP\/1.x status line/,
  });
  t.throws(
    () => parse('GET', Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'), 64),
    {
      message: /bad chunk size/,
    },
  );
});

test('parser: an unkept body is counted, not kept', (t) => {
  const parser = new ResponseParser('GET', (status) => status >= 300);
  parser.feed(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc'));
  t.true(parser.done);
  t.is(parser.bodyBytes, 3);
  t.is(parser.body(), null);
});

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

async function close(server: net.Server): Promise<void> {
  (server as http.Server).closeAllConnections?.();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

test('pool against node:http: bodies both ways, keep-alive reuse, at most N connections', async (t) => {
  let connections = 0;
  let open = 0;
  let mostOpen = 0;
  const server = http.createServer((request, response) => {
    const hash = createHash('sha256');
    let received = 0;
    request.on('data', (chunk: Buffer) => {
      received += chunk.byteLength;
      hash.update(chunk);
    });
    request.on('end', () => {
      if (request.url === '/big') {
        response.writeHead(200, { 'content-length': 8 * 1024 * 1024 });
        for (let index = 0; index < 8; index += 1) response.write(Buffer.alloc(1024 * 1024, index));
        response.end();
        return;
      }
      if (request.url === '/chunked') {
        response.write('one,');
        setTimeout(() => response.end('two'), 5);
        return;
      }
      response.end(`${request.method} ${request.url} ${received} ${hash.digest('hex')}`);
    });
  });
  server.on('connection', (socket) => {
    connections += 1;
    open += 1;
    mostOpen = Math.max(mostOpen, open);
    socket.on('close', () => {
      open -= 1;
    });
  });
  const port = await listen(server);
  const pool = new ConnectionPool('127.0.0.1', port, 3);
  try {
    const keep = () => true;
    const headers = { host: `127.0.0.1:${port}` };
    const body = Buffer.alloc(3 * 1024 * 1024 + 5, 1);
    const streamed = {
      lengthBytes: body.byteLength,
      chunks: () => [body.subarray(0, 1_000_000), body.subarray(1_000_000)],
    };
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, index) =>
        pool.request({
          method: 'PUT',
          target: `/put/${index}`,
          headers: { ...headers, 'content-length': String(body.byteLength) },
          body: index % 2 === 0 ? body : streamed,
          keepBody: keep,
        }),
      ),
    );
    const digest = createHash('sha256').update(body).digest('hex');
    results.forEach((result, index) => {
      t.is(result.status, 200);
      t.is(result.body?.toString(), `PUT /put/${index} ${body.byteLength} ${digest}`);
    });
    const big = await pool.request({ method: 'GET', target: '/big', headers, keepBody: () => false });
    t.is(big.bodyBytes, 8 * 1024 * 1024);
    t.is(big.body, null);
    const chunked = await pool.request({ method: 'GET', target: '/chunked', headers, keepBody: keep });
    t.is(chunked.headers['transfer-encoding'], 'chunked');
    t.is(chunked.body?.toString(), 'one,two');
    const head = await pool.request({ method: 'HEAD', target: '/big', headers, keepBody: keep });
    t.is(head.status, 200);
    t.is(head.bodyBytes, 0);
    t.is(mostOpen, 3, 'twelve requests over at most three connections');
    t.is(connections, 3, 'and the same three for the requests after them');
  } finally {
    pool.close();
    await close(server);
  }
});

test('pool: a reused connection the server drops unanswered is replaced; Connection: close is honoured', async (t) => {
  // The first connection answers one request, then drops the next without a byte (as a server
  // does when its keep-alive timeout meets a request in flight): that request goes again on a new one.
  let connections = 0;
  const server = net.createServer((socket) => {
    connections += 1;
    const number = connections;
    let requests = 0;
    socket.on('data', (data) => {
      requests += 1;
      if (number === 1 && requests === 2) {
        socket.destroy();
        return;
      }
      const target = data.toString('latin1').split(' ')[1] ?? '';
      const close = target === '/close' ? 'Connection: close\r\n' : '';
      socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${target.length}\r\n${close}\r\n${target}`);
      if (close) socket.end();
    });
    socket.on('error', () => {});
  });
  const port = await listen(server);
  const pool = new ConnectionPool('127.0.0.1', port, 1);
  const request = (target: string) =>
    pool.request({ method: 'GET', target, headers: { host: `127.0.0.1:${port}` }, keepBody: () => true });
  try {
    t.is((await request('/a')).body?.toString(), '/a');
    t.is((await request('/b')).body?.toString(), '/b');
    t.is(connections, 2, '/b went again on a second connection');
    t.is((await request('/close')).body?.toString(), '/close');
    t.is((await request('/c')).body?.toString(), '/c');
    t.is(connections, 3, 'a new connection after Connection: close');
  } finally {
    pool.close();
    await close(server);
  }
});

test('pool: an error answered before the body is sent, then a close, is the answer', async (t) => {
  // As S3 servers do with a refused upload: answer at once, close, read no more of the body.
  const server = net.createServer((socket) => {
    socket.once('data', () => {
      socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 12\r\nConnection: close\r\n\r\nEntityTooBig');
    });
    socket.on('error', () => {});
  });
  const port = await listen(server);
  const pool = new ConnectionPool('127.0.0.1', port, 1);
  try {
    const bigBody = Buffer.alloc(64 * 1024 * 1024);
    const response = await pool.request({
      method: 'PUT',
      target: '/x',
      headers: { host: `127.0.0.1:${port}`, 'content-length': String(bigBody.byteLength) },
      body: {
        lengthBytes: bigBody.byteLength,
        chunks: () => [bigBody.subarray(0, 1 << 20), bigBody.subarray(1 << 20)],
      },
      keepBody: () => true,
    });
    t.is(response.status, 400);
    t.is(response.body?.toString(), 'EntityTooBig');
  } finally {
    pool.close();
    await close(server);
  }
});

test('pool: a server that closes without answering fails the request; only a reused connection is retried', async (t) => {
  let connections = 0;
  const server = net.createServer((socket) => {
    connections += 1;
    socket.once('data', () => socket.destroy());
  });
  const port = await listen(server);
  const pool = new ConnectionPool('127.0.0.1', port, 1);
  try {
    await t.throwsAsync(
      pool.request({ method: 'GET', target: '/', headers: { host: 'x' }, keepBody: () => true }),
      { message: /connection closed in the response's head|ECONNRESET/ },
    );
    t.is(connections, 1, 'a new connection is not retried');
  } finally {
    pool.close();
    await close(server);
  }
});
