// Requests refused before their body is read, against the real agent over raw sockets and with the
// AWS SDK: a client that sent `Expect: 100-continue` gets the answer without having to send its
// body (the agent says "100 Continue" only once it reads the body); a client that sent a small body
// anyway gets the whole answer and keeps its connection, since the agent reads the rest before it
// answers instead of closing a socket with unread bytes (which resets it, and the client may lose
// the answer: agent/http/server.ts, settleUnreadBody). A body refused midway (a chunk signature that
// does not match) is answered too, not cut: small, its rest is read and the connection kept; large,
// the connection closes after the answer without a reset (a lingering close).
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { NoSuchBucket, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import anyTest, { type ExecutionContext, type TestFn } from 'ava';
import { type AgentProcess, startAgent } from '../support/agent-process.ts';
import { errorCode, type RawRequestInput, rawRequest, signedChunkedPut, signHeaders } from './raw-http.ts';

const test = anyTest as TestFn<{ agent: AgentProcess }>;
const bucket = 'early';
const mebibyte = 1024 * 1024;

type Request = Omit<RawRequestInput, 'endpoint' | 'accessKeyId' | 'secretAccessKey'>;

function signed(agent: AgentProcess, request: Request): Promise<Record<string, string>> {
  return signHeaders({
    endpoint: agent.endpoint,
    accessKeyId: agent.accessKeyId,
    secretAccessKey: agent.secretAccessKey,
    ...request,
  });
}

/** A request that asks for 100 Continue; Expect is left unsigned, as the SDKs send it. */
function signedExpecting(agent: AgentProcess, request: Request): Promise<Record<string, string>> {
  return signed(agent, { ...request, unsignedHeaders: { expect: '100-continue' } });
}

/** The request line and headers of a keep-alive request, as a client writes them. */
function head(method: string, path: string, headers: Record<string, string>): Buffer {
  const lines = [`${method} ${path} HTTP/1.1`, ...Object.entries(headers).map(([n, v]) => `${n}: ${v}`)];
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
}

/** A connection whose received bytes, reset and close can be awaited. */
async function connect(agent: AgentProcess, options: { allowHalfOpen?: boolean } = {}) {
  const url = new URL(agent.endpoint);
  const socket = net.connect({ port: Number(url.port), host: url.hostname, ...options });
  let received = Buffer.alloc(0);
  let error: NodeJS.ErrnoException | undefined;
  let closed = false;
  let ended = false;
  socket.on('end', () => {
    ended = true;
  });
  socket.on('data', (chunk: Buffer) => {
    received = Buffer.concat([received, chunk]);
  });
  socket.on('error', (thrown) => {
    error = thrown;
  });
  socket.on('close', () => {
    closed = true;
  });
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  const until = async (condition: () => boolean, what: string): Promise<void> => {
    const deadline = Date.now() + 10_000;
    while (!condition()) {
      if (Date.now() > deadline)
        throw new Error(`waited 10 s for ${what}; received ${received.toString('latin1')}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  };
  return {
    socket,
    text: () => received.toString('latin1'),
    error: () => error,
    closed: () => closed,
    /** Whether the agent closed its side with a FIN (a reset alone does not). */
    ended: () => ended,
    until,
    /** Waits for the agent to close the connection, and asserts it was closed, not reset. */
    async closedCleanly(t: { is: (actual: unknown, expected: unknown, message?: string) => void }) {
      await until(() => closed, 'the connection to close');
      t.is(error, undefined, 'the connection was reset');
    },
    /** The answers completely received so far (status line, headers and Content-Length body each). */
    answers(): { status: number; headers: Record<string, string>; body: string }[] {
      const found = [];
      let rest = received;
      for (;;) {
        const end = rest.indexOf('\r\n\r\n');
        if (end === -1) break;
        const [statusLine, ...lines] = rest.subarray(0, end).toString('latin1').split('\r\n');
        const headers: Record<string, string> = {};
        for (const line of lines) {
          const colon = line.indexOf(':');
          headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
        }
        const length = Number(headers['content-length'] ?? 0);
        if (rest.length < end + 4 + length) break;
        found.push({
          status: Number(statusLine.split(' ')[1]),
          headers,
          body: rest.subarray(end + 4, end + 4 + length).toString('utf8'),
        });
        rest = rest.subarray(end + 4 + length);
      }
      return found;
    },
  };
}

test.before(async (t) => {
  const agent = await startAgent();
  t.context = { agent };
  const created = await rawRequest({ ...agent, method: 'PUT', path: `/${bucket}` });
  if (created?.status !== 200) throw new Error(`CreateBucket answered ${created?.status}`);
});

test.after.always(async (t) => {
  await t.context.agent?.destroy();
});

/**
 * A 5 MiB PUT to a bucket that does not exist, asking for 100 Continue, with or without its body
 * written right after the headers; returns the connection once the agent has closed it (asserted
 * clean, not reset).
 */
async function refusedExpecting(
  t: ExecutionContext<{ agent: AgentProcess }>,
  key: string,
  sendBodyAtOnce: boolean,
) {
  const { agent } = t.context;
  const body = randomBytes(5 * mebibyte);
  const path = `/no-such-bucket/${key}`;
  const headers = await signedExpecting(agent, { method: 'PUT', path, body });
  const connection = await connect(agent);
  connection.socket.write(
    sendBodyAtOnce ? Buffer.concat([head('PUT', path, headers), body]) : head('PUT', path, headers),
  );
  await connection.closedCleanly(t);
  return connection;
}

test('Expect: 100-continue, refused from its headers: the answer comes without 100 and before any body byte, then the connection closes cleanly', async (t) => {
  const connection = await refusedExpecting(t, 'key', false);
  t.false(connection.text().includes('100 Continue'));
  const [answer, ...more] = connection.answers();
  t.is(answer.status, 404);
  t.regex(answer.body, /<Code>NoSuchBucket<\/Code>/);
  t.is(answer.headers.connection, 'close');
  t.deepEqual(more, []);
});

test('Expect: 100-continue, accepted: 100 Continue once the agent reads the body, then 200, and the object is the body', async (t) => {
  const { agent } = t.context;
  const body = randomBytes(3 * mebibyte + 17);
  const path = `/${bucket}/accepted`;
  const headers = await signedExpecting(agent, {
    method: 'PUT',
    path,
    body,
  });
  const connection = await connect(agent);
  connection.socket.write(head('PUT', path, headers));
  await connection.until(() => connection.text().includes('\r\n\r\n'), 'an interim answer');
  t.true(connection.text().startsWith('HTTP/1.1 100 Continue\r\n\r\n'), connection.text());
  connection.socket.write(body);
  await connection.until(() => connection.text().includes('HTTP/1.1 200'), 'the final answer');
  connection.socket.destroy();
  const read = await rawRequest({ ...agent, method: 'GET', path });
  t.is(read?.status, 200);
  t.true(read?.body.equals(body));
});

test('Expect: 100-continue on a request answered without reading its body: no 100, and the connection closes after the answer', async (t) => {
  const { agent } = t.context;
  // Veeam's SOSAPI system.xml is answered from the headers alone (a GET, here with a body). Node
  // itself closes a connection whose 100 Continue was never sent, after the final answer.
  const path = `/${bucket}/.system-d26a9498-cb7c-4a87-a44a-8ae204f5ba6c/system.xml`;
  const headers = await signedExpecting(agent, {
    method: 'GET',
    path,
    body: 'hello',
  });
  const connection = await connect(agent);
  connection.socket.write(head('GET', path, headers));
  await connection.closedCleanly(t);
  t.false(connection.text().includes('100 Continue'));
  const [answer, ...more] = connection.answers();
  t.is(answer.status, 200);
  t.regex(answer.body, /SystemInfo/);
  t.is(answer.headers.connection, 'close');
  t.deepEqual(more, []);
});

test('Expect: 100-continue with an empty body (a CopyObject): 100 at once, the answer, and the connection stays open', async (t) => {
  const { agent } = t.context;
  const source = await rawRequest({
    ...agent,
    method: 'PUT',
    path: `/${bucket}/copy-source`,
    body: 'copied',
  });
  t.is(source?.status, 200);
  const path = `/${bucket}/copy-target`;
  const headers = await signedExpecting(agent, {
    method: 'PUT',
    path,
    headers: { 'x-amz-copy-source': `/${bucket}/copy-source` },
  });
  const nextPath = `/${bucket}/copy-source`;
  const next = await signed(agent, { method: 'GET', path: nextPath });
  const connection = await connect(agent);
  connection.socket.write(head('PUT', path, headers));
  await connection.until(() => connection.text().includes('HTTP/1.1 200'), 'the copy');
  connection.socket.write(head('GET', nextPath, next));
  await connection.until(() => connection.answers().length === 3, 'the next answer');
  const [interim, copied, read] = connection.answers();
  t.is(interim.status, 100);
  t.is(copied.status, 200);
  t.not(copied.headers.connection, 'close');
  t.is(read.status, 200);
  t.is(read.body, 'copied');
  t.is(connection.error(), undefined);
  connection.socket.destroy();
});

test('Expect: 100-continue, but the body sent without waiting and refused: it is read, and the answer arrives before a clean close', async (t) => {
  const connection = await refusedExpecting(t, 'eager', true);
  const [answer] = connection.answers().filter((each) => each.status !== 100);
  t.is(answer.status, 404);
  t.regex(answer.body, /<Code>NoSuchBucket<\/Code>/);
});

/**
 * Writes a request the agent refuses (head and body), waits for its answer, then sends a PUT of
 * "next" to `nextPath` on the same connection; returns both answers once the connection, never
 * reset, is let go.
 */
async function refusalThenNextPut(
  t: ExecutionContext<{ agent: AgentProcess }>,
  refused: Buffer,
  nextPath: string,
) {
  const { agent } = t.context;
  const next = await signed(agent, { method: 'PUT', path: nextPath, body: 'next' });
  const connection = await connect(agent);
  connection.socket.write(refused);
  await connection.until(() => connection.answers().length === 1, 'the refusal');
  connection.socket.write(Buffer.concat([head('PUT', nextPath, next), Buffer.from('next')]));
  await connection.until(() => connection.answers().length === 2, 'the next answer');
  t.is(connection.error(), undefined);
  connection.socket.destroy();
  return connection.answers();
}

test('no Expect, a 5 MiB body refused from its headers: the agent reads it, answers in full, and the connection serves the next request', async (t) => {
  const { agent } = t.context;
  const body = randomBytes(5 * mebibyte);
  const refusedPath = '/no-such-bucket/key';
  const refused = await signed(agent, { method: 'PUT', path: refusedPath, body });
  const nextPath = `/${bucket}/after-refusal`;
  const [first, second] = await refusalThenNextPut(
    t,
    Buffer.concat([head('PUT', refusedPath, refused), body]),
    nextPath,
  );
  t.is(first.status, 404);
  t.regex(first.body, /<Code>NoSuchBucket<\/Code>/);
  t.not(first.headers.connection, 'close');
  t.is(second.status, 200);
  const read = await rawRequest({ ...agent, method: 'GET', path: nextPath });
  t.is(read?.body.toString(), 'next');
  t.is(errorCode(await rawRequest({ ...agent, method: 'GET', path: `/${bucket}/key` })), 'NoSuchKey');
});

/** `count` chunks of 64 KiB of random bytes. */
function chunksOf(count: number): Buffer[] {
  return Array.from({ length: count }, () => randomBytes(64 * 1024));
}

test('a chunk signature that does not match, in a 192 KiB body: 403 SignatureDoesNotMatch, nothing stored, and the connection serves the next request', async (t) => {
  const { agent } = t.context;
  const path = `/${bucket}/forged-small`;
  const forged = await signedChunkedPut({ ...agent, path }, chunksOf(3), 1);
  const [refusal, stored] = await refusalThenNextPut(
    t,
    Buffer.concat([head('PUT', path, forged.headers), forged.body]),
    `/${bucket}/after-forged`,
  );
  t.is(refusal.status, 403);
  t.regex(refusal.body, /<Code>SignatureDoesNotMatch<\/Code>/);
  t.not(refusal.headers.connection, 'close');
  t.is(stored.status, 200);
  t.is(errorCode(await rawRequest({ ...agent, method: 'GET', path })), 'NoSuchKey');
});

test('a chunk signature that does not match, early in a 10 MiB body sent at once: the whole answer, then a clean close, and nothing stored', async (t) => {
  const { agent } = t.context;
  const path = `/${bucket}/forged-large`;
  const forged = await signedChunkedPut({ ...agent, path }, chunksOf(160), 2);
  const connection = await connect(agent);
  connection.socket.write(Buffer.concat([head('PUT', path, forged.headers), forged.body]));
  await connection.closedCleanly(t);
  const [refusal, ...more] = connection.answers();
  t.is(refusal.status, 403);
  t.regex(refusal.body, /<Code>SignatureDoesNotMatch<\/Code>/);
  t.is(refusal.headers.connection, 'close');
  t.deepEqual(more, []);
  t.is(errorCode(await rawRequest({ ...agent, method: 'GET', path })), 'NoSuchKey');
});

test('a request pipelined behind a refused 10 MiB body, on a connection the answer closes: not run, not answered', async (t) => {
  const { agent } = t.context;
  const kept = `/${bucket}/kept-after-close`;
  t.is((await rawRequest({ ...agent, method: 'PUT', path: kept, body: 'kept' }))?.status, 200);
  const path = `/${bucket}/forged-before-pipelined`;
  const forged = await signedChunkedPut({ ...agent, path }, chunksOf(160), 1);
  // A DELETE needs no body: it would run as soon as it is parsed.
  const pipelined = await signed(agent, { method: 'DELETE', path: kept });
  const connection = await connect(agent);
  connection.socket.write(
    Buffer.concat([head('PUT', path, forged.headers), forged.body, head('DELETE', kept, pipelined)]),
  );
  await connection.closedCleanly(t);
  const [refusal, ...more] = connection.answers();
  t.is(refusal.status, 403);
  t.is(refusal.headers.connection, 'close');
  t.deepEqual(more, [], 'nothing answered after the answer that closed the connection');
  t.is((await rawRequest({ ...agent, method: 'GET', path: kept }))?.text, 'kept', 'the DELETE did not run');
  t.is(errorCode(await rawRequest({ ...agent, method: 'GET', path })), 'NoSuchKey');
});

test('a chunk signature that does not match, in a body the client goes on sending after the answer: the agent closes the connection itself', async (t) => {
  const { agent } = t.context;
  const path = `/${bucket}/forged-endless`;
  const forged = await signedChunkedPut({ ...agent, path }, chunksOf(1024), 1);
  // A client that neither closes on the agent's FIN nor reads answers before its upload is done:
  // the first 1 MiB, then 256 KiB every 100 ms while the connection lasts. The agent drops what
  // comes for 2 s after its answer, then closes.
  const connection = await connect(agent, { allowHalfOpen: true });
  connection.socket.write(
    Buffer.concat([head('PUT', path, forged.headers), forged.body.subarray(0, mebibyte)]),
  );
  let offset = mebibyte;
  const feeder = setInterval(() => {
    if (connection.closed() || offset >= forged.body.length) return;
    connection.socket.write(forged.body.subarray(offset, offset + 256 * 1024));
    offset += 256 * 1024;
  }, 100);
  try {
    await connection.until(() => connection.closed(), 'the agent to close the connection');
  } finally {
    clearInterval(feeder);
  }
  const [refusal, ...more] = connection.answers();
  t.is(refusal.status, 403);
  t.regex(refusal.body, /<Code>SignatureDoesNotMatch<\/Code>/);
  t.is(refusal.headers.connection, 'close');
  t.deepEqual(more, []);
  t.true(connection.ended(), 'the agent sent its FIN after the answer');
  t.true(offset < forged.body.length, 'the client was still sending when the connection closed');
  t.is(errorCode(await rawRequest({ ...agent, method: 'GET', path })), 'NoSuchKey');
});

test('AWS SDK (it sends Expect: 100-continue): a refused 6 MiB PutObject is the S3 error, not a network failure', async (t) => {
  const { agent } = t.context;
  const client = (secretAccessKey: string) =>
    new S3Client({
      endpoint: agent.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      maxAttempts: 1,
      credentials: { accessKeyId: agent.accessKeyId, secretAccessKey },
    });
  const body = randomBytes(6 * mebibyte);
  const right = client(agent.secretAccessKey);
  const wrong = client(`${agent.secretAccessKey}x`);
  t.teardown(() => {
    right.destroy();
    wrong.destroy();
  });
  const noBucket = await t.throwsAsync(
    right.send(new PutObjectCommand({ Bucket: 'no-such-bucket', Key: 'k', Body: body })),
  );
  t.true(noBucket instanceof NoSuchBucket, String(noBucket));
  const badSignature = await t.throwsAsync(
    wrong.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: body })),
  );
  t.true(badSignature instanceof S3ServiceException, String(badSignature));
  t.is((badSignature as S3ServiceException).name, 'SignatureDoesNotMatch');
  const stored = await right.send(new PutObjectCommand({ Bucket: bucket, Key: 'sdk', Body: body }));
  t.truthy(stored.ETag);
});
