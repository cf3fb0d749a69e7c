// GetObjectAttributes against a real agent, driven by the AWS SDK for JavaScript v3: only the
// attributes asked for, the ETag unquoted, a CRC32 multipart object's parts paged with MaxParts and
// PartNumberMarker, versions by versionId and delete markers, SSE-C objects, the required header.
import { createHash, randomBytes } from 'node:crypto';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectAttributesCommand,
  type ObjectAttributes,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import anyTest, { type TestFn } from 'ava';
import { type AgentProcess, startAgent } from '../support/agent-process.ts';
import { clientFor, createSuiteBuckets, expectS3Error } from './object-lock-support.ts';
import { crc32Base64 } from './raw-http.ts';

const test = anyTest as TestFn<{ agent: AgentProcess; s3: S3Client }>;
const bucket = 'attributes';
const versionedBucket = 'attributes-versioned';
const mebibyte = 1024 * 1024;

test.before(async (t) => {
  const agent = await startAgent();
  const s3 = clientFor(agent);
  await createSuiteBuckets(s3, { plain: bucket, versioned: versionedBucket });
  t.context = { agent, s3 };
});

test.after.always(async (t) => {
  t.context.s3?.destroy();
  await t.context.agent?.destroy();
});

const everything: ObjectAttributes[] = ['ETag', 'Checksum', 'ObjectParts', 'StorageClass', 'ObjectSize'];

test('attributes: a simple object answers ETag (unquoted), StorageClass, ObjectSize and Last-Modified; only those asked', async (t) => {
  const { s3 } = t.context;
  const body = Buffer.from('eleven byte');
  const put = await s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: 'simple', Body: body, StorageClass: 'STANDARD_IA' }),
  );
  const md5 = createHash('md5').update(body).digest('hex');
  t.is(put.ETag, `"${md5}"`);
  const all = await s3.send(
    new GetObjectAttributesCommand({ Bucket: bucket, Key: 'simple', ObjectAttributes: everything }),
  );
  t.is(all.ETag, md5);
  t.is(all.StorageClass, 'STANDARD_IA');
  t.is(all.ObjectSize, 11);
  // The SDK sends a CRC32 of every PUT body by default: it is stored and answered, FULL_OBJECT.
  t.deepEqual(all.Checksum, { ChecksumCRC32: crc32Base64(body), ChecksumType: 'FULL_OBJECT' });
  t.is(all.ObjectParts, undefined, 'not uploaded in parts: no ObjectParts');
  t.true(all.LastModified instanceof Date);
  t.is(all.VersionId, undefined, 'an unversioned bucket shows no version id');
  const some = await s3.send(
    new GetObjectAttributesCommand({ Bucket: bucket, Key: 'simple', ObjectAttributes: ['ObjectSize'] }),
  );
  t.is(some.ObjectSize, 11);
  t.is(some.ETag, undefined);
  t.is(some.StorageClass, undefined);
});

test('attributes: a CRC32 multipart object lists its parts with their checksums, paged by MaxParts and PartNumberMarker', async (t) => {
  const { s3 } = t.context;
  const key = 'multipart';
  const parts = [randomBytes(5 * mebibyte), randomBytes(5 * mebibyte), randomBytes(4321)];
  const created = await s3.send(
    new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ChecksumAlgorithm: 'CRC32' }),
  );
  const uploaded = [];
  for (const [index, part] of parts.entries()) {
    const result = await s3.send(
      new UploadPartCommand({
        Bucket: bucket,
        Key: key,
        UploadId: created.UploadId,
        PartNumber: index + 1,
        Body: part,
        ChecksumAlgorithm: 'CRC32',
      }),
    );
    uploaded.push({ PartNumber: index + 1, ETag: result.ETag, ChecksumCRC32: result.ChecksumCRC32 });
  }
  const completed = await s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: bucket,
      Key: key,
      UploadId: created.UploadId,
      MultipartUpload: { Parts: uploaded },
    }),
  );
  t.regex(completed.ChecksumCRC32 ?? '', /-3$/);
  const first = await s3.send(
    new GetObjectAttributesCommand({ Bucket: bucket, Key: key, ObjectAttributes: everything, MaxParts: 2 }),
  );
  t.is(first.ETag, completed.ETag?.replaceAll('"', ''));
  t.is(first.ObjectSize, 10 * mebibyte + 4321);
  t.deepEqual(first.Checksum, {
    ChecksumCRC32: completed.ChecksumCRC32?.replace(/-3$/, ''),
    ChecksumType: 'COMPOSITE',
  });
  t.is(first.ObjectParts?.TotalPartsCount, 3);
  t.is(first.ObjectParts?.MaxParts, 2);
  t.is(first.ObjectParts?.IsTruncated, true);
  t.is(String(first.ObjectParts?.PartNumberMarker), '0');
  t.is(String(first.ObjectParts?.NextPartNumberMarker), '2');
  t.deepEqual(
    first.ObjectParts?.Parts?.map((part) => [part.PartNumber, part.Size, part.ChecksumCRC32]),
    [
      [1, 5 * mebibyte, crc32Base64(parts[0])],
      [2, 5 * mebibyte, crc32Base64(parts[1])],
    ],
  );
  const rest = await s3.send(
    new GetObjectAttributesCommand({
      Bucket: bucket,
      Key: key,
      ObjectAttributes: ['ObjectParts'],
      MaxParts: 2,
      PartNumberMarker: first.ObjectParts?.NextPartNumberMarker,
    }),
  );
  t.is(rest.ObjectParts?.IsTruncated, false);
  t.is(String(rest.ObjectParts?.PartNumberMarker), '2');
  t.deepEqual(
    rest.ObjectParts?.Parts?.map((part) => [part.PartNumber, part.Size, part.ChecksumCRC32]),
    [[3, 4321, crc32Base64(parts[2])]],
  );
  t.is(rest.ETag, undefined);
  t.is(rest.Checksum, undefined);
});

test('attributes: a version by versionId; a delete marker as newest is 404 NoSuchKey with x-amz-delete-marker, by its id 405', async (t) => {
  const { s3 } = t.context;
  const key = 'versioned';
  const older = await s3.send(new PutObjectCommand({ Bucket: versionedBucket, Key: key, Body: 'first' }));
  const newer = await s3.send(new PutObjectCommand({ Bucket: versionedBucket, Key: key, Body: 'second!' }));
  const byId = await s3.send(
    new GetObjectAttributesCommand({
      Bucket: versionedBucket,
      Key: key,
      VersionId: older.VersionId,
      ObjectAttributes: ['ETag', 'ObjectSize'],
    }),
  );
  t.is(byId.VersionId, older.VersionId);
  t.is(byId.ObjectSize, 5);
  t.is(byId.ETag, older.ETag?.replaceAll('"', ''));
  const newest = await s3.send(
    new GetObjectAttributesCommand({ Bucket: versionedBucket, Key: key, ObjectAttributes: ['ObjectSize'] }),
  );
  t.is(newest.VersionId, newer.VersionId);
  t.is(newest.ObjectSize, 7);
  const marker = await s3.send(new DeleteObjectCommand({ Bucket: versionedBucket, Key: key }));
  t.true(marker.DeleteMarker);
  const hidden = await expectS3Error(
    t,
    s3.send(
      new GetObjectAttributesCommand({ Bucket: versionedBucket, Key: key, ObjectAttributes: ['ETag'] }),
    ),
    'NoSuchKey',
    404,
  );
  t.is(hidden.$response?.headers['x-amz-delete-marker'], 'true');
  const named = await expectS3Error(
    t,
    s3.send(
      new GetObjectAttributesCommand({
        Bucket: versionedBucket,
        Key: key,
        VersionId: marker.VersionId,
        ObjectAttributes: ['ETag'],
      }),
    ),
    'MethodNotAllowed',
    405,
  );
  t.is(named.$response?.headers['x-amz-delete-marker'], 'true');
});

test('attributes: an SSE-C object needs its key (InvalidRequest without it), and answers with it', async (t) => {
  const { s3 } = t.context;
  const secret = randomBytes(32);
  const customerKey = {
    SSECustomerAlgorithm: 'AES256',
    SSECustomerKey: secret.toString('base64'),
    SSECustomerKeyMD5: createHash('md5').update(secret).digest('base64'),
  };
  const put = await s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: 'secret', Body: 'protected', ...customerKey }),
  );
  await expectS3Error(
    t,
    s3.send(new GetObjectAttributesCommand({ Bucket: bucket, Key: 'secret', ObjectAttributes: ['ETag'] })),
    'InvalidRequest',
    400,
  );
  const answered = await s3.send(
    new GetObjectAttributesCommand({
      Bucket: bucket,
      Key: 'secret',
      ObjectAttributes: ['ETag', 'ObjectSize'],
      ...customerKey,
    }),
  );
  t.is(answered.ObjectSize, 9);
  t.is(answered.ETag, put.ETag?.replaceAll('"', ''));
});

test('attributes: without x-amz-object-attributes, InvalidRequest (400); an unknown name, InvalidArgument (400)', async (t) => {
  const { s3 } = t.context;
  const missing = await expectS3Error(
    t,
    s3.send(new GetObjectAttributesCommand({ Bucket: bucket, Key: 'simple', ObjectAttributes: [] })),
    'InvalidRequest',
    400,
  );
  t.is(
    missing.message,
    'The x-amz-object-attributes header specifying the attributes to be retrieved is either missing or empty',
  );
  const unknown = await expectS3Error(
    t,
    s3.send(
      new GetObjectAttributesCommand({
        Bucket: bucket,
        Key: 'simple',
        ObjectAttributes: ['Owner' as ObjectAttributes],
      }),
    ),
    'InvalidArgument',
    400,
  );
  t.is(unknown.message, 'Invalid attribute name specified.');
});
