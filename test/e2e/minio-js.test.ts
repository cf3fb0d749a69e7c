// minio-js (npm `minio`) against the real agent: makeBucket, putObject from a stream (one PUT and a
// multipart upload in 5 MiB parts), fGetObject and getObject, statObject, listObjectsV2,
// removeObjects and a presigned GET.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import anyTest, { type TestFn } from 'ava';
import * as Minio from 'minio';
import { type AgentProcess, startAgent } from '../support/agent-process.ts';

const test = anyTest as TestFn<{ agent: AgentProcess; client: Minio.Client; work: string }>;
const bucket = 'minio-suite';
const mebibyte = 1024 * 1024;

test.before(async (t) => {
  const agent = await startAgent();
  const url = new URL(agent.endpoint);
  const client = new Minio.Client({
    endPoint: url.hostname,
    port: Number(url.port),
    useSSL: false,
    accessKey: agent.accessKeyId,
    secretKey: agent.secretAccessKey,
    region: 'fr-par',
    pathStyle: true,
    partSize: 5 * mebibyte,
  });
  t.context = { agent, client, work: mkdtempSync(path.join(os.tmpdir(), 'coffre-minio-')) };
  await client.makeBucket(bucket, 'fr-par');
});

test.after.always(async (t) => {
  await t.context.agent?.destroy();
  if (t.context.work) rmSync(t.context.work, { recursive: true, force: true });
});

function md5Hex(bytes: Uint8Array): string {
  return createHash('md5').update(bytes).digest('hex');
}

async function streamBytes(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks);
}

/** A stream that hands out the bytes in uneven pieces, as a file or a socket would. */
function piecewise(bytes: Buffer): Readable {
  const pieces: Buffer[] = [];
  for (let offset = 0; offset < bytes.length; offset += 777_777)
    pieces.push(bytes.subarray(offset, offset + 777_777));
  return Readable.from(pieces);
}

test.serial(
  'minio-js: putObject from a stream, statObject and getObject give back the bytes and metadata',
  async (t) => {
    const { client } = t.context;
    const body = randomBytes(1 * mebibyte + 5);
    const uploaded = await client.putObject(bucket, 'docs/stream é.bin', piecewise(body), body.length, {
      'Content-Type': 'application/x-test',
      'X-Amz-Meta-Origin': 'minio-js',
    });
    t.is(uploaded.etag, md5Hex(body));
    const stat = await client.statObject(bucket, 'docs/stream é.bin');
    t.is(stat.size, body.length);
    t.is(stat.etag, md5Hex(body));
    t.is(stat.metaData['content-type'], 'application/x-test');
    t.is(stat.metaData.origin, 'minio-js');
    t.is(md5Hex(await streamBytes(await client.getObject(bucket, 'docs/stream é.bin'))), md5Hex(body));
    const partial = await client.getPartialObject(bucket, 'docs/stream é.bin', 1000, 500);
    t.deepEqual(await streamBytes(partial), body.subarray(1000, 1500));
  },
);

test.serial(
  'minio-js: a 12 MiB stream goes up in 5 MiB parts and fGetObject writes the same file',
  async (t) => {
    const { client, work } = t.context;
    const body = randomBytes(12 * mebibyte);
    const uploaded = await client.putObject(bucket, 'big/twelve.bin', piecewise(body), body.length);
    t.regex(uploaded.etag, /^[0-9a-f]{32}-3$/);
    const file = path.join(work, 'twelve.bin');
    await client.fGetObject(bucket, 'big/twelve.bin', file);
    t.is(md5Hex(readFileSync(file)), md5Hex(body));
  },
);

test.serial(
  'minio-js: listObjectsV2 lists every key under a prefix once; removeObjects removes them',
  async (t) => {
    const { client } = t.context;
    const keys = Array.from({ length: 12 }, (_, index) => `many/${String(index).padStart(2, '0')}.txt`);
    for (const key of keys) await client.putObject(bucket, key, Buffer.from(key));
    const listed: string[] = [];
    for await (const item of client.listObjectsV2(bucket, 'many/', true))
      listed.push((item as { name: string }).name);
    t.deepEqual(listed, keys);
    const removed = await client.removeObjects(bucket, keys);
    t.deepEqual(
      removed.filter((entry) => (entry as { Error?: unknown }).Error !== undefined),
      [],
    );
    const after: string[] = [];
    for await (const item of client.listObjectsV2(bucket, 'many/', true))
      after.push((item as { name: string }).name);
    t.deepEqual(after, []);
  },
);

test.serial('minio-js: a presigned GET URL fetches the object without credentials', async (t) => {
  const { client } = t.context;
  await client.putObject(bucket, 'shared/report.txt', Buffer.from('shared report'));
  const url = await client.presignedGetObject(bucket, 'shared/report.txt', 60);
  const response = await fetch(url);
  t.is(response.status, 200);
  t.is(await response.text(), 'shared report');
});
