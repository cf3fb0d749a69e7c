// The AWS SDK for JavaScript v3, as backup software uses it, against the agent `npm start` runs:
// default request checksums on (CRC32 in an aws-chunked trailer), multipart through lib-storage,
// presigned URLs, listings with pagination.
import { createHash, randomBytes } from 'node:crypto';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  PutObjectTaggingCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import anyTest, { type TestFn } from 'ava';
import { type AgentProcess, startAgent } from '../support/agent-process.ts';
import { expectS3Error } from './expect-s3-error.ts';

const test = anyTest as TestFn<{ agent: AgentProcess; s3: S3Client }>;

test.before(async (t) => {
  const agent = await startAgent();
  const s3 = new S3Client({
    endpoint: agent.endpoint,
    region: 'fr-par',
    forcePathStyle: true,
    credentials: { accessKeyId: agent.accessKeyId, secretAccessKey: agent.secretAccessKey },
  });
  t.context = { agent, s3 };
});

test.after.always(async (t) => {
  t.context.s3?.destroy();
  await t.context.agent?.destroy();
});

async function bodyBytes(body: unknown): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Uint8Array>) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

function md5Hex(bytes: Uint8Array): string {
  return createHash('md5').update(bytes).digest('hex');
}

test.serial('aws-sdk-js: create a bucket, see it listed and headed', async (t) => {
  const { s3 } = t.context;
  await s3.send(new CreateBucketCommand({ Bucket: 'sdk-basics' }));
  const listed = await s3.send(new ListBucketsCommand({}));
  t.true(listed.Buckets?.some((bucket) => bucket.Name === 'sdk-basics'));
  const head = await s3.send(new HeadBucketCommand({ Bucket: 'sdk-basics' }));
  t.is(head.$metadata.httpStatusCode, 200);
  await expectS3Error(
    t,
    s3.send(new CreateBucketCommand({ Bucket: 'sdk-basics' })),
    'BucketAlreadyOwnedByYou',
    409,
  );
});

test.serial(
  'aws-sdk-js: a PUT with the default CRC32 trailer reads back byte-identical with its checksum',
  async (t) => {
    const { s3 } = t.context;
    const body = randomBytes(300_000);
    const put = await s3.send(
      new PutObjectCommand({
        Bucket: 'sdk-basics',
        Key: 'dir/a b+c%d/ünïcode.bin',
        Body: body,
        Metadata: { owner: 'veeam' },
      }),
    );
    t.is(put.ETag, `"${md5Hex(body)}"`);
    t.truthy(put.ChecksumCRC32);
    const got = await s3.send(
      new GetObjectCommand({ Bucket: 'sdk-basics', Key: 'dir/a b+c%d/ünïcode.bin', ChecksumMode: 'ENABLED' }),
    );
    t.deepEqual(await bodyBytes(got.Body), body);
    t.is(got.ChecksumCRC32, put.ChecksumCRC32);
    t.is(got.Metadata?.owner, 'veeam');
    const head = await s3.send(
      new HeadObjectCommand({ Bucket: 'sdk-basics', Key: 'dir/a b+c%d/ünïcode.bin' }),
    );
    t.is(head.ContentLength, body.length);
  },
);

test.serial('aws-sdk-js: ranged GETs return exactly the asked bytes', async (t) => {
  const { s3 } = t.context;
  const body = randomBytes(3 * 1024 * 1024 + 17);
  await s3.send(new PutObjectCommand({ Bucket: 'sdk-basics', Key: 'ranged', Body: body }));
  for (const [range, start, end] of [
    ['bytes=0-0', 0, 0],
    ['bytes=1048570-2097160', 1048570, 2097160],
    ['bytes=-100', body.length - 100, body.length - 1],
    [`bytes=${body.length - 5}-`, body.length - 5, body.length - 1],
  ] as const) {
    const got = await s3.send(new GetObjectCommand({ Bucket: 'sdk-basics', Key: 'ranged', Range: range }));
    t.deepEqual(await bodyBytes(got.Body), body.subarray(start, end + 1), range);
    t.is(got.ContentRange, `bytes ${start}-${end}/${body.length}`);
  }
  await expectS3Error(
    t,
    s3.send(new GetObjectCommand({ Bucket: 'sdk-basics', Key: 'ranged', Range: `bytes=${body.length}-` })),
    'InvalidRange',
    416,
  );
});

test.serial(
  'aws-sdk-js: lib-storage multipart upload of 17 MiB in 5 MiB parts reads back identical',
  async (t) => {
    const { s3 } = t.context;
    const body = randomBytes(17 * 1024 * 1024);
    const upload = new Upload({
      client: s3,
      params: { Bucket: 'sdk-basics', Key: 'multipart/big.bin', Body: body },
      partSize: 5 * 1024 * 1024,
      queueSize: 2,
    });
    const result = await upload.done();
    t.regex(result.ETag ?? '', /^"[0-9a-f]{32}-4"$/);
    const got = await s3.send(new GetObjectCommand({ Bucket: 'sdk-basics', Key: 'multipart/big.bin' }));
    t.is(md5Hex(await bodyBytes(got.Body)), md5Hex(body));
  },
);

test.serial(
  'aws-sdk-js: ListObjectsV2 pages through every key once, in order, with common prefixes',
  async (t) => {
    const { s3 } = t.context;
    await s3.send(new CreateBucketCommand({ Bucket: 'sdk-listing' }));
    const keys = Array.from({ length: 25 }, (_, index) => `logs/${String(index).padStart(3, '0')}.log`);
    keys.push('photos/2026/a.jpg', 'photos/2026/b.jpg', 'readme.txt');
    for (const key of keys)
      await s3.send(new PutObjectCommand({ Bucket: 'sdk-listing', Key: key, Body: key }));
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({ Bucket: 'sdk-listing', MaxKeys: 7, ContinuationToken: token }),
      );
      for (const object of page.Contents ?? []) seen.push(object.Key ?? '');
      token = page.NextContinuationToken;
    } while (token);
    t.deepEqual(seen, [...keys].sort());
    const grouped = await s3.send(new ListObjectsV2Command({ Bucket: 'sdk-listing', Delimiter: '/' }));
    t.deepEqual(
      grouped.CommonPrefixes?.map((prefix) => prefix.Prefix),
      ['logs/', 'photos/'],
    );
    t.deepEqual(
      grouped.Contents?.map((object) => object.Key),
      ['readme.txt'],
    );
  },
);

test.serial('aws-sdk-js: copy, tag, presign, delete one and many', async (t) => {
  const { s3 } = t.context;
  await s3.send(new PutObjectCommand({ Bucket: 'sdk-basics', Key: 'source.txt', Body: 'copy me' }));
  await s3.send(
    new CopyObjectCommand({ Bucket: 'sdk-basics', Key: 'copied.txt', CopySource: 'sdk-basics/source.txt' }),
  );
  const copied = await s3.send(new GetObjectCommand({ Bucket: 'sdk-basics', Key: 'copied.txt' }));
  t.is((await bodyBytes(copied.Body)).toString(), 'copy me');
  await s3.send(
    new PutObjectTaggingCommand({
      Bucket: 'sdk-basics',
      Key: 'copied.txt',
      Tagging: { TagSet: [{ Key: 'retention', Value: '30d' }] },
    }),
  );
  const tags = await s3.send(new GetObjectTaggingCommand({ Bucket: 'sdk-basics', Key: 'copied.txt' }));
  t.deepEqual(tags.TagSet, [{ Key: 'retention', Value: '30d' }]);
  const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: 'sdk-basics', Key: 'copied.txt' }), {
    expiresIn: 60,
  });
  const fetched = await fetch(url);
  t.is(fetched.status, 200);
  t.is(await fetched.text(), 'copy me');
  await s3.send(new DeleteObjectCommand({ Bucket: 'sdk-basics', Key: 'copied.txt' }));
  await expectS3Error(
    t,
    s3.send(new GetObjectCommand({ Bucket: 'sdk-basics', Key: 'copied.txt' })),
    'NoSuchKey',
    404,
  );
  const deleted = await s3.send(
    new DeleteObjectsCommand({
      Bucket: 'sdk-basics',
      Delete: { Objects: [{ Key: 'source.txt' }, { Key: 'ranged' }, { Key: 'never-existed' }] },
    }),
  );
  t.deepEqual(deleted.Deleted?.map((entry) => entry.Key).sort(), ['never-existed', 'ranged', 'source.txt']);
});

test.serial(
  'aws-sdk-js: a bucket that still holds objects cannot be deleted; an empty one can',
  async (t) => {
    const { s3 } = t.context;
    await expectS3Error(
      t,
      s3.send(new DeleteBucketCommand({ Bucket: 'sdk-listing' })),
      'BucketNotEmpty',
      409,
    );
    await s3.send(new CreateBucketCommand({ Bucket: 'sdk-empty' }));
    await s3.send(new DeleteBucketCommand({ Bucket: 'sdk-empty' }));
    await expectS3Error(t, s3.send(new HeadBucketCommand({ Bucket: 'sdk-empty' })), 'NotFound', 404);
  },
);
