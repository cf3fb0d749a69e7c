// Bodies of a few MiB against the real agent: their digests (the MD5 of the ETag, Content-MD5,
// x-amz-content-sha256, x-amz-checksum-*) run in the agent's digest worker thread rather than on
// the event loop (agent/digest/digest-workers.ts), and every check still concludes before the
// commit: a body that fails one stores nothing. The smaller bodies of hostile-input.test.ts take
// the in-place path. Their GETs are decrypted by the agent's decryption worker into lent slots
// (agent/crypto/chunk-workers.ts), given back as the socket takes them: whole reads, ranges, and
// clients that go away midway.
import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import anyTest, { type TestFn } from 'ava';
import { createDigest } from '../../agent/digest/algorithms.ts';
import { offloadThresholdBytes } from '../../agent/digest/digest-workers.ts';
import { type AgentProcess, startAgent } from '../support/agent-process.ts';
import { errorCode, type RawRequestInput, rawRequest, sha256Hex, signHeaders } from './raw-http.ts';

const test = anyTest as TestFn<{ agent: AgentProcess }>;
const bucket = 'large';
/** Above the offload threshold and not a multiple of any block, chunk or ring size. */
const largeBytes = 3 * offloadThresholdBytes + 12_345;

type Request = Omit<RawRequestInput, 'endpoint' | 'accessKeyId' | 'secretAccessKey'>;

function send(agent: AgentProcess, request: Request) {
  return rawRequest({
    endpoint: agent.endpoint,
    accessKeyId: agent.accessKeyId,
    secretAccessKey: agent.secretAccessKey,
    ...request,
  });
}

async function read(agent: AgentProcess, key: string): Promise<Buffer | string> {
  const response = await send(agent, { method: 'GET', path: `/${bucket}/${key}` });
  if (response === null) throw new Error('no answer');
  return response.status === 200 ? response.body : (errorCode(response) ?? String(response.status));
}

function base64Digest(algorithm: 'CRC64NVME' | 'SHA256', bytes: Uint8Array): string {
  const digest = createDigest(algorithm);
  digest.update(bytes);
  return Buffer.from(digest.digest()).toString('base64');
}

test.before(async (t) => {
  const agent = await startAgent();
  t.context = { agent };
  const created = await send(agent, { method: 'PUT', path: `/${bucket}` });
  if (created?.status !== 200) throw new Error(`CreateBucket failed: ${created?.text}`);
});

test.after.always(async (t) => {
  await t.context.agent?.destroy();
});

test('large body: the ETag is its MD5, the declared digests are checked and echoed, the bytes read back', async (t) => {
  const body = randomBytes(largeBytes);
  const md5 = createHash('md5').update(body).digest();
  const response = await send(t.context.agent, {
    method: 'PUT',
    path: `/${bucket}/whole`,
    body,
    headers: {
      'content-md5': md5.toString('base64'),
      'x-amz-checksum-crc64nvme': base64Digest('CRC64NVME', body),
    },
  });
  t.is(response?.status, 200, response?.text);
  t.is(response?.headers.etag, `"${md5.toString('hex')}"`);
  t.is(response?.headers['x-amz-checksum-crc64nvme'], base64Digest('CRC64NVME', body));
  t.true((await read(t.context.agent, 'whole')) instanceof Buffer);
  t.true(body.equals((await read(t.context.agent, 'whole')) as Buffer));
});

test('large body: a wrong Content-MD5 is 400 BadDigest and the previous version stays', async (t) => {
  const first = randomBytes(largeBytes);
  t.is((await send(t.context.agent, { method: 'PUT', path: `/${bucket}/md5`, body: first }))?.status, 200);
  const response = await send(t.context.agent, {
    method: 'PUT',
    path: `/${bucket}/md5`,
    body: randomBytes(largeBytes),
    headers: { 'content-md5': createHash('md5').update('something else').digest('base64') },
  });
  t.is(response?.status, 400);
  t.is(errorCode(response), 'BadDigest');
  t.true(first.equals((await read(t.context.agent, 'md5')) as Buffer));
});

test('large body: a wrong x-amz-content-sha256 is 400 XAmzContentSHA256Mismatch and stores nothing', async (t) => {
  const response = await send(t.context.agent, {
    method: 'PUT',
    path: `/${bucket}/sha`,
    body: randomBytes(largeBytes),
    payloadHash: sha256Hex('something else'),
  });
  t.is(response?.status, 400);
  t.is(errorCode(response), 'XAmzContentSHA256Mismatch');
  t.is(await read(t.context.agent, 'sha'), 'NoSuchKey');
});

test('large body: a wrong x-amz-checksum-sha256 is 400 BadDigest and stores nothing', async (t) => {
  const response = await send(t.context.agent, {
    method: 'PUT',
    path: `/${bucket}/checksum`,
    body: randomBytes(largeBytes),
    headers: { 'x-amz-checksum-sha256': base64Digest('SHA256', Buffer.from('something else')) },
  });
  t.is(response?.status, 400);
  t.is(errorCode(response), 'BadDigest');
  t.is(await read(t.context.agent, 'checksum'), 'NoSuchKey');
});

test('large body: a part of a multipart upload gets its MD5 as ETag; a wrong Content-MD5 stores no part', async (t) => {
  const { agent } = t.context;
  const created = await send(agent, { method: 'POST', path: `/${bucket}/multi`, query: { uploads: '' } });
  const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(created?.text ?? '')?.[1];
  t.truthy(uploadId, created?.text);
  const part = randomBytes(largeBytes);
  const good = await send(agent, {
    method: 'PUT',
    path: `/${bucket}/multi`,
    query: { partNumber: '1', uploadId: uploadId! },
    body: part,
  });
  t.is(good?.headers.etag, `"${createHash('md5').update(part).digest('hex')}"`);
  const bad = await send(agent, {
    method: 'PUT',
    path: `/${bucket}/multi`,
    query: { partNumber: '2', uploadId: uploadId! },
    body: randomBytes(largeBytes),
    headers: { 'content-md5': createHash('md5').update('something else').digest('base64') },
  });
  t.is(errorCode(bad), 'BadDigest');
  const listed = await send(agent, {
    method: 'GET',
    path: `/${bucket}/multi`,
    query: { uploadId: uploadId! },
  });
  t.deepEqual(
    [...(listed?.text.matchAll(/<PartNumber>(\d+)<\/PartNumber>/g) ?? [])].map((match) => match[1]),
    ['1'],
  );
});

test('large copy: CopyObject and UploadPartCopy (range) of a large object get the MD5 of their bytes as ETag', async (t) => {
  const { agent } = t.context;
  const body = randomBytes(largeBytes);
  t.is((await send(agent, { method: 'PUT', path: `/${bucket}/copy-source`, body }))?.status, 200);
  const copied = await send(agent, {
    method: 'PUT',
    path: `/${bucket}/copy-target`,
    headers: { 'x-amz-copy-source': `/${bucket}/copy-source` },
  });
  t.is(copied?.status, 200, copied?.text);
  t.true(
    copied?.text.includes(`<ETag>&quot;${createHash('md5').update(body).digest('hex')}&quot;</ETag>`),
    copied?.text,
  );
  t.true(body.equals((await read(agent, 'copy-target')) as Buffer));
  const created = await send(agent, {
    method: 'POST',
    path: `/${bucket}/copy-multi`,
    query: { uploads: '' },
  });
  const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(created?.text ?? '')?.[1] ?? '';
  const lastByte = 2 * offloadThresholdBytes + 99;
  const part = await send(agent, {
    method: 'PUT',
    path: `/${bucket}/copy-multi`,
    query: { partNumber: '1', uploadId },
    headers: {
      'x-amz-copy-source': `/${bucket}/copy-source`,
      'x-amz-copy-source-range': `bytes=100-${lastByte}`,
    },
  });
  t.is(part?.status, 200, part?.text);
  const expected = createHash('md5')
    .update(body.subarray(100, lastByte + 1))
    .digest('hex');
  t.true(part?.text.includes(expected), part?.text);
});

/** A GET whose client reads `keepBytes` of the answer and then drops the connection. */
async function dropMidway(agent: AgentProcess, path: string, keepBytes: number): Promise<number> {
  const url = new URL(agent.endpoint);
  const headers = await signHeaders({
    endpoint: agent.endpoint,
    accessKeyId: agent.accessKeyId,
    secretAccessKey: agent.secretAccessKey,
    method: 'GET',
    path,
  });
  const head = [
    `GET ${path} HTTP/1.1`,
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ];
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(url.port), url.hostname);
    let received = 0;
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received >= keepBytes) socket.destroy();
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(received));
    socket.write(`${head.join('\r\n')}\r\n\r\n`);
  });
}

test('large read: ranges within one chunk, across chunks and to the end give exactly their bytes', async (t) => {
  const body = randomBytes(largeBytes);
  t.is((await send(t.context.agent, { method: 'PUT', path: `/${bucket}/ranges`, body }))?.status, 200);
  const chunk = 256 * 1024;
  const ranges: [number, number][] = [
    [0, 0],
    [chunk - 1, chunk],
    [10, 3 * chunk + 10],
    [chunk + 5, largeBytes - 2 * chunk],
    [largeBytes - chunk - 3, largeBytes - 1],
  ];
  for (const [first, last] of ranges) {
    const response = await send(t.context.agent, {
      method: 'GET',
      path: `/${bucket}/ranges`,
      headers: { range: `bytes=${first}-${last}` },
    });
    t.is(response?.status, 206, `${first}-${last}`);
    t.is(response?.headers['content-range'], `bytes ${first}-${last}/${largeBytes}`);
    t.true(response?.body.equals(body.subarray(first, last + 1)), `${first}-${last}`);
  }
});

test('large read: clients that drop large GETs midway leave every later read whole', async (t) => {
  const body = randomBytes(largeBytes);
  t.is((await send(t.context.agent, { method: 'PUT', path: `/${bucket}/dropped`, body }))?.status, 200);
  // More dropped reads at once than the agent keeps rings for (32): a ring held for good by a
  // dropped read would show as a read that hangs or comes back wrong.
  const dropped = await Promise.all(
    Array.from({ length: 40 }, (_, index) =>
      dropMidway(t.context.agent, `/${bucket}/dropped`, 1000 + index * 20_000),
    ),
  );
  t.true(dropped.every((received) => received < largeBytes));
  const reads = await Promise.all(Array.from({ length: 4 }, () => read(t.context.agent, 'dropped')));
  for (const bytes of reads) t.true(bytes instanceof Buffer && body.equals(bytes));
});

test('graceful stop: after large uploads, SIGTERM stops the digest workers and the agent exits 0', async (t) => {
  const agent = await startAgent();
  t.teardown(() => agent.destroy());
  t.is((await send(agent, { method: 'PUT', path: '/stopping' }))?.status, 200);
  const bodies = [randomBytes(largeBytes), randomBytes(largeBytes)];
  const puts = await Promise.all(
    bodies.map((body, index) => send(agent, { method: 'PUT', path: `/stopping/${index}`, body })),
  );
  t.deepEqual(
    puts.map((response) => response?.status),
    [200, 200],
  );
  // Within the stop's grace period (no SIGKILL): a live worker thread would hold the exit.
  t.is(await agent.stop(20_000), 0);
  t.notRegex(agent.output(), /unclean stop/);
});
