// Server-side encryption as S3 clients use it, with the AWS SDK for JavaScript v3 against the real
// agent: every object answers x-amz-server-side-encryption: AES256 (it is encrypted at rest), the
// bucket reports AES256 default encryption, and SSE-C keys work on PUT, GET, HEAD, CopyObject and
// multipart uploads, with S3's answers for a missing or wrong key.
import { createHash, randomBytes } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetBucketEncryptionCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import anyTest, { type TestFn } from 'ava';
import { type AgentProcess, startAgent } from '../support/agent-process.ts';
import { bodyBytes, clientFor, expectS3Error } from './object-lock-support.ts';
import { signedRequest } from './signed-request.ts';

const test = anyTest as TestFn<{ agent: AgentProcess; s3: S3Client }>;
const bucket = 'encrypted';

test.before(async (t) => {
  const agent = await startAgent();
  const s3 = clientFor(agent);
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  t.context = { agent, s3 };
});

test.after.always(async (t) => {
  t.context.s3?.destroy();
  await t.context.agent?.destroy();
});

function customerKey() {
  const key = randomBytes(32);
  return {
    SSECustomerAlgorithm: 'AES256',
    SSECustomerKey: key.toString('base64'),
    SSECustomerKeyMD5: createHash('md5').update(key).digest('base64'),
  };
}

test('every object is AES256 at rest and says so; the bucket reports AES256 default encryption', async (t) => {
  const { s3 } = t.context;
  const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'plain', Body: 'hello' }));
  t.is(put.ServerSideEncryption, 'AES256');
  const explicit = await s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: 'explicit', Body: 'hello', ServerSideEncryption: 'AES256' }),
  );
  t.is(explicit.ServerSideEncryption, 'AES256');
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'plain' }));
  t.is(head.ServerSideEncryption, 'AES256');
  const configuration = await s3.send(new GetBucketEncryptionCommand({ Bucket: bucket }));
  t.is(
    configuration.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault
      ?.SSEAlgorithm,
    'AES256',
  );
  await expectS3Error(
    t,
    s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'kms', Body: 'x', ServerSideEncryption: 'aws:kms' })),
    'NotImplemented',
    501,
  );
});

test('SSE-C: PUT, GET and HEAD with the key; without it InvalidRequest, with another AccessDenied', async (t) => {
  const { s3 } = t.context;
  const key = customerKey();
  const bytes = randomBytes(400_000);
  const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'secret', Body: bytes, ...key }));
  t.is(put.SSECustomerAlgorithm, 'AES256');
  t.is(put.SSECustomerKeyMD5, key.SSECustomerKeyMD5);
  const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'secret', ...key }));
  t.deepEqual(await bodyBytes(got.Body), bytes);
  t.is(got.SSECustomerKeyMD5, key.SSECustomerKeyMD5);
  const ranged = await s3.send(
    new GetObjectCommand({ Bucket: bucket, Key: 'secret', Range: 'bytes=300000-300099', ...key }),
  );
  t.deepEqual(await bodyBytes(ranged.Body), bytes.subarray(300_000, 300_100));
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'secret', ...key }));
  t.is(head.ContentLength, bytes.length);
  await expectS3Error(
    t,
    s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'secret' })),
    'InvalidRequest',
    400,
  );
  await expectS3Error(
    t,
    s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'secret', ...customerKey() })),
    'AccessDenied',
    403,
  );
  await expectS3Error(
    t,
    s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'plain', ...key })),
    'InvalidRequest',
    400,
  );
});

test('SSE-C: the ETag is not the MD5 of the data (as S3), the same for the same bytes and key, another under another key', async (t) => {
  const { s3 } = t.context;
  const key = customerKey();
  const body = 'a secret whose MD5 must not show';
  const md5 = `"${createHash('md5').update(body).digest('hex')}"`;
  const first = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'etag-1', Body: body, ...key }));
  const second = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'etag-2', Body: body, ...key }));
  const otherKey = await s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: 'etag-3', Body: body, ...customerKey() }),
  );
  const plain = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'etag-4', Body: body }));
  t.is(plain.ETag, md5, 'without SSE-C the ETag is the MD5');
  t.not(first.ETag, md5);
  t.regex(first.ETag ?? '', /^"[0-9a-f]{32}"$/);
  t.is(second.ETag, first.ETag);
  t.not(otherKey.ETag, first.ETag);
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'etag-1', ...key }));
  t.is(head.ETag, first.ETag);
  // Conditional requests work on it as on any ETag.
  const got = await s3.send(
    new GetObjectCommand({ Bucket: bucket, Key: 'etag-1', IfMatch: first.ETag, ...key }),
  );
  t.is((await bodyBytes(got.Body)).toString(), body);
});

test('SSE-C: a key whose MD5 header does not match is InvalidArgument, with S3 message', async (t) => {
  const { agent } = t.context;
  const key = customerKey();
  const response = await signedRequest({
    endpoint: agent.endpoint,
    accessKeyId: agent.accessKeyId,
    secretAccessKey: agent.secretAccessKey,
    method: 'PUT',
    path: `/${bucket}/bad-md5`,
    headers: {
      'x-amz-server-side-encryption-customer-algorithm': 'AES256',
      'x-amz-server-side-encryption-customer-key': key.SSECustomerKey,
      'x-amz-server-side-encryption-customer-key-md5': createHash('md5').update('other').digest('base64'),
    },
    body: 'x',
  });
  t.is(response.status, 400);
  t.regex(response.text, /<Code>InvalidArgument<\/Code>/);
  t.regex(response.text, /The calculated MD5 hash of the key did not match the hash that was provided\./);
});

test('SSE-C CopyObject: the source key opens the source, the copy is under the new key', async (t) => {
  const { s3 } = t.context;
  const sourceKey = customerKey();
  const destinationKey = customerKey();
  const bytes = randomBytes(100_000);
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'copy-source', Body: bytes, ...sourceKey }));
  await expectS3Error(
    t,
    s3.send(
      new CopyObjectCommand({ Bucket: bucket, Key: 'copy-target', CopySource: `${bucket}/copy-source` }),
    ),
    'InvalidRequest',
    400,
  );
  const copied = await s3.send(
    new CopyObjectCommand({
      Bucket: bucket,
      Key: 'copy-target',
      CopySource: `${bucket}/copy-source`,
      CopySourceSSECustomerAlgorithm: 'AES256',
      CopySourceSSECustomerKey: sourceKey.SSECustomerKey,
      CopySourceSSECustomerKeyMD5: sourceKey.SSECustomerKeyMD5,
      ...destinationKey,
    }),
  );
  t.is(copied.SSECustomerKeyMD5, destinationKey.SSECustomerKeyMD5);
  const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'copy-target', ...destinationKey }));
  t.deepEqual(await bodyBytes(got.Body), bytes);
  await expectS3Error(
    t,
    s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'copy-target', ...sourceKey })),
    'AccessDenied',
    403,
  );
});

test('SSE-C multipart upload: a part without the key, or with another, is InvalidRequest in S3 words for each case', async (t) => {
  const { s3 } = t.context;
  const key = customerKey();
  const created = await s3.send(
    new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'part-keys', ...key }),
  );
  const upload = { Bucket: bucket, Key: 'part-keys', UploadId: created.UploadId, PartNumber: 1, Body: 'x' };
  const missing = await expectS3Error(t, s3.send(new UploadPartCommand(upload)), 'InvalidRequest', 400);
  t.is(
    missing.message,
    'The multipart upload initiate requested encryption. Subsequent part requests must include the appropriate encryption parameters.',
  );
  const other = await expectS3Error(
    t,
    s3.send(new UploadPartCommand({ ...upload, ...customerKey() })),
    'InvalidRequest',
    400,
  );
  t.is(other.message, 'The provided encryption parameters did not match the ones used originally.');
  await s3.send(new UploadPartCommand({ ...upload, ...key }));
  await s3.send(
    new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'part-keys', UploadId: created.UploadId }),
  );
});

test('SSE-C multipart upload (lib-storage): parts and the completed object under the customer key', async (t) => {
  const { s3 } = t.context;
  const key = customerKey();
  const bytes = randomBytes(11 * 1024 * 1024 + 3);
  await new Upload({
    client: s3,
    params: { Bucket: bucket, Key: 'multipart-secret', Body: bytes, ...key },
    partSize: 5 * 1024 * 1024,
    queueSize: 2,
  }).done();
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'multipart-secret', ...key }));
  t.is(head.SSECustomerKeyMD5, key.SSECustomerKeyMD5);
  const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'multipart-secret', ...key }));
  t.deepEqual(await bodyBytes(got.Body), bytes);
  await expectS3Error(
    t,
    s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'multipart-secret' })),
    'InvalidRequest',
    400,
  );
});
