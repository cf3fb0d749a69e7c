// The S3 object operations' finer rules, driven by the AWS SDK for JavaScript v3 against the real
// agent (raw signed requests where the SDK hides the answer): versions and delete markers, conditional
// reads and writes, stored headers and response overrides, metadata and tag limits, storage classes,
// Object Lock headers and documents, multipart errors and checksums, part reads, copies.
import { createHash, randomBytes } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  DeleteObjectTaggingCommand,
  GetObjectCommand,
  GetObjectLegalHoldCommand,
  GetObjectRetentionCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListPartsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
  PutObjectRetentionCommand,
  PutObjectTaggingCommand,
  S3Client,
  S3ServiceException,
  type StorageClass,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import anyTest, { type ExecutionContext, type TestFn } from 'ava';
import { type AgentProcess, startAgent } from '../support/agent-process.ts';
import { createSuiteBuckets } from './object-lock-support.ts';
import { crc32Base64, errorCode, rawRequest } from './raw-http.ts';

type Context = { agent: AgentProcess; s3: S3Client };
const test = anyTest as TestFn<Context>;
const bucket = 'semantics';
const versionedBucket = 'semantics-versioned';
const lockedBucket = 'semantics-locked';
const mebibyte = 1024 * 1024;

test.before(async (t) => {
  const agent = await startAgent();
  const s3 = new S3Client({
    endpoint: agent.endpoint,
    region: 'fr-par',
    forcePathStyle: true,
    credentials: { accessKeyId: agent.accessKeyId, secretAccessKey: agent.secretAccessKey },
  });
  t.context = { agent, s3 };
  await createSuiteBuckets(s3, { plain: bucket, versioned: versionedBucket, locked: lockedBucket });
});

test.after.always(async (t) => {
  t.context.s3?.destroy();
  await t.context.agent?.destroy();
});

async function bodyOf(body: unknown): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Uint8Array>) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

/** The S3 error a call fails with: its code, HTTP status and response headers. */
async function failure(
  promise: Promise<unknown>,
): Promise<{ name: string; status?: number; headers: Record<string, string> }> {
  try {
    await promise;
  } catch (error) {
    if (!(error instanceof S3ServiceException)) throw error;
    const response = (error as { $response?: { headers?: Record<string, string> } }).$response;
    return { name: error.name, status: error.$metadata.httpStatusCode, headers: response?.headers ?? {} };
  }
  throw new Error('expected the call to fail');
}

function raw(
  t: ExecutionContext<Context>,
  request: Parameters<typeof rawRequest>[0] extends infer R
    ? Omit<R, 'endpoint' | 'accessKeyId' | 'secretAccessKey'>
    : never,
) {
  const { agent } = t.context;
  return rawRequest({
    endpoint: agent.endpoint,
    accessKeyId: agent.accessKeyId,
    secretAccessKey: agent.secretAccessKey,
    ...request,
  });
}

test('semantics: versions, delete markers (404 with x-amz-delete-marker, 405 for the marker version) and undelete', async (t) => {
  const { s3 } = t.context;
  const first = await s3.send(new PutObjectCommand({ Bucket: versionedBucket, Key: 'doc', Body: 'one' }));
  const second = await s3.send(new PutObjectCommand({ Bucket: versionedBucket, Key: 'doc', Body: 'two' }));
  t.truthy(first.VersionId);
  t.not(first.VersionId, second.VersionId);
  const old = await s3.send(
    new GetObjectCommand({ Bucket: versionedBucket, Key: 'doc', VersionId: first.VersionId }),
  );
  t.is((await bodyOf(old.Body)).toString(), 'one');
  t.is(old.VersionId, first.VersionId);
  const deleted = await s3.send(new DeleteObjectCommand({ Bucket: versionedBucket, Key: 'doc' }));
  t.true(deleted.DeleteMarker);
  t.truthy(deleted.VersionId);
  const missing = await failure(s3.send(new GetObjectCommand({ Bucket: versionedBucket, Key: 'doc' })));
  t.is(missing.name, 'NoSuchKey');
  t.is(missing.status, 404);
  t.is(missing.headers['x-amz-delete-marker'], 'true');
  t.is(missing.headers['x-amz-version-id'] as string | undefined, deleted.VersionId);
  const marker = await failure(
    s3.send(
      new HeadObjectCommand({ Bucket: versionedBucket, Key: 'doc', VersionId: deleted.VersionId ?? '' }),
    ),
  );
  t.is(marker.status, 405);
  t.is(marker.headers['x-amz-delete-marker'], 'true');
  // S3: "the response returns a 405 Method Not Allowed error and the Last-Modified: timestamp".
  t.true(Number.isFinite(Date.parse(marker.headers['last-modified'] ?? '')), 'Last-Modified of the marker');
  // A copy whose source names the marker by its version id: InvalidRequest, in S3's words.
  const copySource = `${versionedBucket}/doc?versionId=${deleted.VersionId}`;
  const copied = await failure(
    s3.send(new CopyObjectCommand({ Bucket: versionedBucket, Key: 'doc-copy', CopySource: copySource })),
  );
  t.is(copied.name, 'InvalidRequest');
  t.is(copied.status, 400);
  t.false('x-amz-delete-marker' in copied.headers);
  const upload = await s3.send(
    new CreateMultipartUploadCommand({ Bucket: versionedBucket, Key: 'doc-part' }),
  );
  const partCopied = await failure(
    s3.send(
      new UploadPartCopyCommand({
        Bucket: versionedBucket,
        Key: 'doc-part',
        UploadId: upload.UploadId,
        PartNumber: 1,
        CopySource: copySource,
      }),
    ),
  );
  t.is(partCopied.name, 'InvalidRequest');
  await s3.send(
    new AbortMultipartUploadCommand({ Bucket: versionedBucket, Key: 'doc-part', UploadId: upload.UploadId }),
  );
  const undeleted = await s3.send(
    new DeleteObjectCommand({ Bucket: versionedBucket, Key: 'doc', VersionId: deleted.VersionId }),
  );
  t.true(undeleted.DeleteMarker);
  t.is(undeleted.VersionId, deleted.VersionId);
  const back = await s3.send(new GetObjectCommand({ Bucket: versionedBucket, Key: 'doc' }));
  t.is((await bodyOf(back.Body)).toString(), 'two');
});

test('semantics: conditional reads follow S3 precedence (412 before 304; If-Match wins over If-Unmodified-Since)', async (t) => {
  const { s3 } = t.context;
  const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'conditional', Body: 'body' }));
  const etag = put.ETag ?? '';
  const past = new Date(Date.now() - 86_400_000);
  const future = new Date(Date.now() + 86_400_000);
  const notModified = await failure(
    s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'conditional', IfNoneMatch: etag })),
  );
  t.is(notModified.status, 304);
  const failed = await failure(
    s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'conditional', IfMatch: '"0000"' })),
  );
  t.is(failed.name, 'PreconditionFailed');
  t.is(failed.status, 412);
  const unmodifiedSince = await failure(
    s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'conditional', IfUnmodifiedSince: past })),
  );
  t.is(unmodifiedSince.status, 412);
  // "If-Match evaluates to true and If-Unmodified-Since evaluates to false: 200 OK".
  const matched = await s3.send(
    new GetObjectCommand({ Bucket: bucket, Key: 'conditional', IfMatch: etag, IfUnmodifiedSince: past }),
  );
  t.is((await bodyOf(matched.Body)).toString(), 'body');
  // "If-None-Match evaluates to false and If-Modified-Since evaluates to true: 304".
  const both = await failure(
    s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: 'conditional', IfNoneMatch: etag, IfModifiedSince: past }),
    ),
  );
  t.is(both.status, 304);
  const modifiedSince = await failure(
    s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'conditional', IfModifiedSince: future })),
  );
  t.is(modifiedSince.status, 304);
});

test('semantics: conditional writes: If-None-Match * on an existing key and a wrong If-Match are 412', async (t) => {
  const { s3 } = t.context;
  const created = await s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: 'write-once', Body: 'first', IfNoneMatch: '*' }),
  );
  const again = await failure(
    s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'write-once', Body: 'second', IfNoneMatch: '*' })),
  );
  t.is(again.name, 'PreconditionFailed');
  t.is(again.status, 412);
  const wrong = await failure(
    s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'write-once', Body: 'second', IfMatch: '"abc"' })),
  );
  t.is(wrong.status, 412);
  await s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: 'write-once', Body: 'third', IfMatch: created.ETag }),
  );
  const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'write-once' }));
  t.is((await bodyOf(got.Body)).toString(), 'third');
});

test('semantics: stored headers come back on GET and HEAD; response-* parameters override them', async (t) => {
  const { s3 } = t.context;
  const expires = new Date('2030-01-01T00:00:00Z');
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: 'headers',
      Body: 'text',
      ContentType: 'text/plain; charset=utf-8',
      CacheControl: 'max-age=60',
      ContentDisposition: 'attachment; filename="a.txt"',
      ContentEncoding: 'identity',
      ContentLanguage: 'fr-FR',
      Expires: expires,
      Metadata: { project: 'coffre', 'two-words': 'a b' },
    }),
  );
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'headers' }));
  t.is(head.ContentType, 'text/plain; charset=utf-8');
  t.is(head.CacheControl, 'max-age=60');
  t.is(head.ContentDisposition, 'attachment; filename="a.txt"');
  t.is(head.ContentEncoding, 'identity');
  t.is(head.ContentLanguage, 'fr-FR');
  t.is(head.Expires?.toISOString(), expires.toISOString());
  t.deepEqual(head.Metadata, { project: 'coffre', 'two-words': 'a b' });
  t.is(head.AcceptRanges, 'bytes');
  const overridden = await s3.send(
    new GetObjectCommand({
      Bucket: bucket,
      Key: 'headers',
      ResponseContentType: 'application/json',
      ResponseContentDisposition: 'inline',
      ResponseCacheControl: 'no-store',
      ResponseContentLanguage: 'en',
    }),
  );
  t.is(overridden.ContentType, 'application/json');
  t.is(overridden.ContentDisposition, 'inline');
  t.is(overridden.CacheControl, 'no-store');
  t.is(overridden.ContentLanguage, 'en');
  // Stored without a Content-Type (the SDK would send application/octet-stream): S3 answers its default.
  const plain = await raw(t, { method: 'PUT', path: `/${bucket}/no-type`, body: 'x' });
  t.is(plain?.status, 200);
  const raw_ = await raw(t, { method: 'HEAD', path: `/${bucket}/no-type` });
  t.is(raw_?.headers['content-type'], 'binary/octet-stream');
  t.regex(
    raw_?.headers['last-modified'] ?? '',
    /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/,
  );
});

test('semantics: more than 2 KB of user metadata is 400 MetadataTooLarge', async (t) => {
  const { s3 } = t.context;
  const refused = await failure(
    s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'fat-metadata',
        Body: 'x',
        Metadata: { big: 'm'.repeat(2100) },
      }),
    ),
  );
  t.is(refused.name, 'MetadataTooLarge');
  t.is(refused.status, 400);
  t.is((await failure(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'fat-metadata' })))).status, 404);
});

test('semantics: storage classes: STANDARD accepted, an unknown one is 400 InvalidStorageClass, a copy is STANDARD unless it names one', async (t) => {
  const { s3 } = t.context;
  await s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: 'standard', Body: 'x', StorageClass: 'STANDARD' }),
  );
  const refused = await failure(
    s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'bogus',
        Body: 'x',
        StorageClass: 'BOGUS' as StorageClass,
      }),
    ),
  );
  t.is(refused.name, 'InvalidStorageClass');
  t.is(refused.status, 400);
  // The archive classes too: their objects would read as not restored to every client.
  for (const StorageClass of ['GLACIER', 'DEEP_ARCHIVE'] as const) {
    const archived = await failure(
      s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'archived', Body: 'x', StorageClass })),
    );
    t.is(archived.name, 'InvalidStorageClass', StorageClass);
    const multipart = await failure(
      s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'archived', StorageClass })),
    );
    t.is(multipart.name, 'InvalidStorageClass', StorageClass);
  }
  t.is((await failure(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'archived' })))).status, 404);
  // A copy is STANDARD unless it names a class: the source's class is not carried over (as S3).
  await s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: 'infrequent', Body: 'x', StorageClass: 'STANDARD_IA' }),
  );
  const classOf = async (key: string) =>
    (await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).StorageClass ?? 'STANDARD';
  t.is(await classOf('infrequent'), 'STANDARD_IA');
  for (const MetadataDirective of ['COPY', 'REPLACE'] as const) {
    await s3.send(
      new CopyObjectCommand({
        Bucket: bucket,
        Key: `copied-${MetadataDirective}`,
        CopySource: `${bucket}/infrequent`,
        MetadataDirective,
      }),
    );
    t.is(await classOf(`copied-${MetadataDirective}`), 'STANDARD', MetadataDirective);
  }
  await s3.send(
    new CopyObjectCommand({
      Bucket: bucket,
      Key: 'copied-named',
      CopySource: `${bucket}/infrequent`,
      StorageClass: 'GLACIER_IR',
    }),
  );
  t.is(await classOf('copied-named'), 'GLACIER_IR');
});

test('semantics: a tag key or metadata name such as __proto__ is kept like any other, through a copy too', async (t) => {
  const { s3 } = t.context;
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: 'proto-named',
      Body: 'x',
      Tagging: '__proto__=p&constructor=c',
      // A literal's __proto__ would set its prototype: the metadata is built from entries.
      Metadata: Object.fromEntries([
        ['__proto__', 'm'],
        ['plain', 'n'],
      ]),
    }),
  );
  const expectedTags = [
    { Key: '__proto__', Value: 'p' },
    { Key: 'constructor', Value: 'c' },
  ];
  const sortedTags = async (key: string) =>
    ((await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key }))).TagSet ?? []).sort((a, b) =>
      String(a.Key).localeCompare(String(b.Key)),
    );
  t.deepEqual(await sortedTags('proto-named'), expectedTags);
  // The SDK's own parser drops a "__proto__" header: the answer is read raw.
  const head = await raw(t, { method: 'HEAD', path: `/${bucket}/proto-named` });
  t.is(head?.status, 200);
  t.is(head?.headers['x-amz-meta-__proto__'], 'm');
  t.is(head?.headers['x-amz-meta-plain'], 'n');
  await s3.send(
    new CopyObjectCommand({ Bucket: bucket, Key: 'proto-copied', CopySource: `${bucket}/proto-named` }),
  );
  t.deepEqual(await sortedTags('proto-copied'), expectedTags);
  await s3.send(
    new PutObjectTaggingCommand({
      Bucket: bucket,
      Key: 'proto-copied',
      Tagging: { TagSet: [{ Key: '__proto__', Value: 'q' }] },
    }),
  );
  t.deepEqual(await sortedTags('proto-copied'), [{ Key: '__proto__', Value: 'q' }]);
});

test('semantics: tags from x-amz-tagging and PutObjectTagging, with S3 limits (10 tags, keys 128, values 256)', async (t) => {
  const { s3 } = t.context;
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: 'tagged',
      Body: 'x',
      Tagging: 'team=backup&tier=gold%20plus',
    }),
  );
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'tagged' }));
  t.is(head.TagCount, 2);
  const tags = await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'tagged' }));
  t.deepEqual(tags.TagSet, [
    { Key: 'team', Value: 'backup' },
    { Key: 'tier', Value: 'gold plus' },
  ]);
  const eleven = Array.from({ length: 11 }, (_, index) => ({ Key: `k${index}`, Value: 'v' }));
  // Too many tags is BadRequest "Object tags cannot be greater than 10" on S3, a bad tag InvalidTag.
  for (const [TagSet, code] of [
    [eleven, 'BadRequest'],
    [[{ Key: 'k'.repeat(129), Value: 'v' }], 'InvalidTag'],
    [[{ Key: 'k', Value: 'v'.repeat(257) }], 'InvalidTag'],
  ] as const) {
    const refused = await failure(
      s3.send(
        new PutObjectTaggingCommand({ Bucket: bucket, Key: 'tagged', Tagging: { TagSet: [...TagSet] } }),
      ),
    );
    t.is(refused.name, code);
    t.is(refused.status, 400);
  }
  const tooManyOnPut = await failure(
    s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'tagged-too-much',
        Body: 'x',
        Tagging: eleven.map((tag) => `${tag.Key}=${tag.Value}`).join('&'),
      }),
    ),
  );
  t.is(tooManyOnPut.name, 'BadRequest');
  await s3.send(new DeleteObjectTaggingCommand({ Bucket: bucket, Key: 'tagged' }));
  t.deepEqual((await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'tagged' }))).TagSet, []);
});

test('semantics: Object Lock headers are stored and returned in a lock bucket, refused elsewhere', async (t) => {
  const { s3 } = t.context;
  const until = new Date(Date.now() + 3 * 86_400_000);
  until.setMilliseconds(0);
  const refused = await failure(
    s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'locked',
        Body: 'x',
        ObjectLockMode: 'GOVERNANCE',
        ObjectLockRetainUntilDate: until,
      }),
    ),
  );
  t.is(refused.name, 'InvalidRequest');
  await s3.send(
    new PutObjectCommand({
      Bucket: lockedBucket,
      Key: 'locked',
      Body: 'x',
      ObjectLockMode: 'GOVERNANCE',
      ObjectLockRetainUntilDate: until,
      ObjectLockLegalHoldStatus: 'ON',
    }),
  );
  const head = await s3.send(new HeadObjectCommand({ Bucket: lockedBucket, Key: 'locked' }));
  t.is(head.ObjectLockMode, 'GOVERNANCE');
  t.is(head.ObjectLockRetainUntilDate?.toISOString(), until.toISOString());
  t.is(head.ObjectLockLegalHoldStatus, 'ON');
  const retention = await s3.send(new GetObjectRetentionCommand({ Bucket: lockedBucket, Key: 'locked' }));
  t.is(retention.Retention?.Mode, 'GOVERNANCE');
  const later = new Date(until.getTime() + 86_400_000);
  await s3.send(
    new PutObjectRetentionCommand({
      Bucket: lockedBucket,
      Key: 'locked',
      Retention: { Mode: 'COMPLIANCE', RetainUntilDate: later },
    }),
  );
  const extended = await s3.send(new GetObjectRetentionCommand({ Bucket: lockedBucket, Key: 'locked' }));
  t.is(extended.Retention?.Mode, 'COMPLIANCE');
  t.is(extended.Retention?.RetainUntilDate?.toISOString(), later.toISOString());
  await s3.send(
    new PutObjectLegalHoldCommand({ Bucket: lockedBucket, Key: 'locked', LegalHold: { Status: 'OFF' } }),
  );
  const hold = await s3.send(new GetObjectLegalHoldCommand({ Bucket: lockedBucket, Key: 'locked' }));
  t.is(hold.LegalHold?.Status, 'OFF');
  const noLock = await failure(s3.send(new GetObjectRetentionCommand({ Bucket: bucket, Key: 'tagged' })));
  t.is(noLock.name, 'InvalidRequest');
  t.is(noLock.status, 400);
  const badMode = await raw(t, {
    method: 'PUT',
    path: `/${lockedBucket}/bad-mode`,
    body: 'x',
    headers: {
      'content-md5': createHash('md5').update('x').digest('base64'),
      'x-amz-object-lock-mode': 'FOREVER',
      'x-amz-object-lock-retain-until-date': until.toISOString(),
    },
  });
  t.is(badMode?.status, 400);
  t.is(errorCode(badMode), 'InvalidArgument');
  const noDigest = await raw(t, {
    method: 'PUT',
    path: `/${lockedBucket}/no-digest`,
    body: 'x',
    headers: { 'x-amz-object-lock-legal-hold': 'ON' },
  });
  t.is(noDigest?.status, 400);
  t.is(errorCode(noDigest), 'InvalidRequest');
});

test('semantics: multipart with CRC32 parts completes with a COMPOSITE checksum "-2"; partNumber reads one part', async (t) => {
  const { s3 } = t.context;
  const parts = [randomBytes(5 * mebibyte), randomBytes(1234)];
  const created = await s3.send(
    new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'composite', ChecksumAlgorithm: 'CRC32' }),
  );
  const uploaded = [];
  for (const [index, part] of parts.entries()) {
    const result = await s3.send(
      new UploadPartCommand({
        Bucket: bucket,
        Key: 'composite',
        UploadId: created.UploadId,
        PartNumber: index + 1,
        Body: part,
        ChecksumAlgorithm: 'CRC32',
      }),
    );
    t.is(result.ChecksumCRC32, crc32Base64(part));
    uploaded.push({ PartNumber: index + 1, ETag: result.ETag, ChecksumCRC32: result.ChecksumCRC32 });
  }
  const listed = await s3.send(
    new ListPartsCommand({ Bucket: bucket, Key: 'composite', UploadId: created.UploadId }),
  );
  t.deepEqual(
    listed.Parts?.map((part) => [part.PartNumber, part.Size]),
    [
      [1, 5 * mebibyte],
      [2, 1234],
    ],
  );
  const completed = await s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: bucket,
      Key: 'composite',
      UploadId: created.UploadId,
      MultipartUpload: { Parts: uploaded },
    }),
  );
  const expected = `${crc32Base64(Buffer.concat(parts.map((part) => Buffer.from(crc32Base64(part), 'base64'))))}-2`;
  t.is(completed.ChecksumCRC32, expected);
  t.regex(completed.ETag ?? '', /^"[0-9a-f]{32}-2"$/);
  const second = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'composite', PartNumber: 2 }));
  t.deepEqual(await bodyOf(second.Body), parts[1]);
  t.is(second.PartsCount, 2);
  t.is(second.ContentRange, `bytes ${5 * mebibyte}-${5 * mebibyte + 1233}/${5 * mebibyte + 1234}`);
  const beyond = await failure(
    s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'composite', PartNumber: 3 })),
  );
  t.is(beyond.status, 416);
  const head = await s3.send(
    new HeadObjectCommand({ Bucket: bucket, Key: 'composite', ChecksumMode: 'ENABLED' }),
  );
  t.is(head.ChecksumCRC32, expected);
});

test('semantics: a Complete retried after its success gets the same answer (as S3); other parts, an overwrite or an abort do not', async (t) => {
  const { s3 } = t.context;
  const key = 'retried-complete';
  const start = async () => {
    const created = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    const upload = { Bucket: bucket, Key: key, UploadId: created.UploadId };
    const one = await s3.send(
      new UploadPartCommand({ ...upload, PartNumber: 1, Body: randomBytes(5 * 1024 * 1024) }),
    );
    const two = await s3.send(new UploadPartCommand({ ...upload, PartNumber: 2, Body: randomBytes(1000) }));
    const parts = [
      { PartNumber: 1, ETag: one.ETag },
      { PartNumber: 2, ETag: two.ETag },
    ];
    return { upload, parts };
  };
  const { upload, parts } = await start();
  const complete = (Parts: { PartNumber: number; ETag?: string }[]) =>
    s3.send(new CompleteMultipartUploadCommand({ ...upload, MultipartUpload: { Parts } }));
  const first = await complete(parts);
  const again = await complete(parts);
  t.is(again.ETag, first.ETag);
  t.is(again.Key, key);
  t.is(again.Location, first.Location);
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  t.is(head.ETag, first.ETag);
  t.is(head.ContentLength, 5 * 1024 * 1024 + 1000);
  // A retry listing other parts than the completion did is no such upload.
  t.is((await failure(complete(parts.slice(0, 1)))).name, 'NoSuchUpload');
  // Once another version is the key's newest, the upload is only gone.
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'newer' }));
  const gone = await failure(complete(parts));
  t.is(gone.name, 'NoSuchUpload');
  t.is(gone.status, 404);
  t.is(
    Buffer.from(
      await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToByteArray(),
    ).toString(),
    'newer',
  );
  // An aborted upload's Complete is no such upload either.
  const aborted = await start();
  await s3.send(new AbortMultipartUploadCommand(aborted.upload));
  const refused = await failure(
    s3.send(
      new CompleteMultipartUploadCommand({ ...aborted.upload, MultipartUpload: { Parts: aborted.parts } }),
    ),
  );
  t.is(refused.name, 'NoSuchUpload');
});

test('semantics: x-amz-expected-bucket-owner: the bucket owner passes, any other owner is 403 AccessDenied and nothing is stored', async (t) => {
  const { s3 } = t.context;
  // The owner's id, as every listing shows it.
  const ownerId = (await s3.send(new ListBucketsCommand({}))).Owner?.ID;
  t.truthy(ownerId);
  await s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: 'owned', Body: 'x', ExpectedBucketOwner: ownerId }),
  );
  const refused = await failure(
    s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'not-owned',
        Body: 'x',
        ExpectedBucketOwner: '111122223333',
      }),
    ),
  );
  t.is(refused.name, 'AccessDenied');
  t.is(refused.status, 403);
  t.is((await failure(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'not-owned' })))).status, 404);
  const readRefused = await failure(
    s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'owned', ExpectedBucketOwner: '111122223333' })),
  );
  t.is(readRefused.name, 'AccessDenied');
  const copyRefused = await failure(
    s3.send(
      new CopyObjectCommand({
        Bucket: bucket,
        Key: 'copied-owned',
        CopySource: `${bucket}/owned`,
        ExpectedSourceBucketOwner: '111122223333',
      }),
    ),
  );
  t.is(copyRefused.name, 'AccessDenied');
  await s3.send(
    new CopyObjectCommand({
      Bucket: bucket,
      Key: 'copied-owned',
      CopySource: `${bucket}/owned`,
      ExpectedBucketOwner: ownerId,
      ExpectedSourceBucketOwner: ownerId,
    }),
  );
  t.is((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'copied-owned' }))).ContentLength, 1);
});

test('semantics: multipart errors: EntityTooSmall, InvalidPart, InvalidPartOrder, NoSuchUpload after abort', async (t) => {
  const { s3 } = t.context;
  const created = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'errors' }));
  const upload = { Bucket: bucket, Key: 'errors', UploadId: created.UploadId };
  const one = await s3.send(new UploadPartCommand({ ...upload, PartNumber: 1, Body: randomBytes(1000) }));
  const two = await s3.send(new UploadPartCommand({ ...upload, PartNumber: 2, Body: randomBytes(1000) }));
  const tooSmall = await failure(
    s3.send(
      new CompleteMultipartUploadCommand({
        ...upload,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: one.ETag },
            { PartNumber: 2, ETag: two.ETag },
          ],
        },
      }),
    ),
  );
  t.is(tooSmall.name, 'EntityTooSmall');
  t.is(tooSmall.status, 400);
  const invalidPart = await failure(
    s3.send(
      new CompleteMultipartUploadCommand({
        ...upload,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: '"00000000000000000000000000000000"' }] },
      }),
    ),
  );
  t.is(invalidPart.name, 'InvalidPart');
  const order = await failure(
    s3.send(
      new CompleteMultipartUploadCommand({
        ...upload,
        MultipartUpload: {
          Parts: [
            { PartNumber: 2, ETag: two.ETag },
            { PartNumber: 1, ETag: one.ETag },
          ],
        },
      }),
    ),
  );
  t.is(order.name, 'InvalidPartOrder');
  await s3.send(new AbortMultipartUploadCommand(upload));
  const gone = await failure(s3.send(new ListPartsCommand(upload)));
  t.is(gone.name, 'NoSuchUpload');
  t.is(gone.status, 404);
  t.is((await failure(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'errors' })))).status, 404);
});

test('semantics: UploadPartCopy copies a byte range of another object into a part', async (t) => {
  const { s3 } = t.context;
  const source = randomBytes(6 * mebibyte);
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'copy-source', Body: source }));
  const created = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'from-copies' }));
  const upload = { Bucket: bucket, Key: 'from-copies', UploadId: created.UploadId };
  const first = await s3.send(
    new UploadPartCopyCommand({
      ...upload,
      PartNumber: 1,
      CopySource: `${bucket}/copy-source`,
      CopySourceRange: `bytes=0-${5 * mebibyte - 1}`,
    }),
  );
  const second = await s3.send(
    new UploadPartCopyCommand({
      ...upload,
      PartNumber: 2,
      CopySource: `${bucket}/copy-source`,
      CopySourceRange: `bytes=${5 * mebibyte}-${6 * mebibyte - 1}`,
    }),
  );
  await s3.send(
    new CompleteMultipartUploadCommand({
      ...upload,
      MultipartUpload: {
        Parts: [
          { PartNumber: 1, ETag: first.CopyPartResult?.ETag },
          { PartNumber: 2, ETag: second.CopyPartResult?.ETag },
        ],
      },
    }),
  );
  const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'from-copies' }));
  // Buffer.equals: ava's deepEqual would format 6 MiB to compare them.
  t.true((await bodyOf(got.Body)).equals(source));
  const outside = await failure(
    s3.send(
      new UploadPartCopyCommand({
        ...upload,
        PartNumber: 3,
        CopySource: `${bucket}/copy-source`,
        CopySourceRange: `bytes=0-${6 * mebibyte}`,
      }),
    ),
  );
  t.is(outside.name, 'InvalidArgument');
  t.is(outside.status, 400);
});

test('semantics: CopyObject conditions, tagging directive and source version id', async (t) => {
  const { s3 } = t.context;
  const first = await s3.send(
    new PutObjectCommand({ Bucket: versionedBucket, Key: 'original', Body: 'v1', Tagging: 'a=1' }),
  );
  await s3.send(new PutObjectCommand({ Bucket: versionedBucket, Key: 'original', Body: 'v2' }));
  const copied = await s3.send(
    new CopyObjectCommand({
      Bucket: versionedBucket,
      Key: 'copy-of-v1',
      CopySource: `${versionedBucket}/original?versionId=${first.VersionId}`,
      CopySourceIfMatch: first.ETag,
    }),
  );
  t.is(copied.CopySourceVersionId, first.VersionId);
  t.is(copied.CopyObjectResult?.ETag, first.ETag);
  t.truthy(copied.VersionId);
  const body = await s3.send(new GetObjectCommand({ Bucket: versionedBucket, Key: 'copy-of-v1' }));
  t.is((await bodyOf(body.Body)).toString(), 'v1');
  t.deepEqual(
    (await s3.send(new GetObjectTaggingCommand({ Bucket: versionedBucket, Key: 'copy-of-v1' }))).TagSet,
    [{ Key: 'a', Value: '1' }],
  );
  const retagged = await s3.send(
    new CopyObjectCommand({
      Bucket: versionedBucket,
      Key: 'retagged',
      CopySource: `${versionedBucket}/copy-of-v1`,
      TaggingDirective: 'REPLACE',
      Tagging: 'b=2',
    }),
  );
  t.truthy(retagged.CopyObjectResult?.LastModified);
  t.deepEqual(
    (await s3.send(new GetObjectTaggingCommand({ Bucket: versionedBucket, Key: 'retagged' }))).TagSet,
    [{ Key: 'b', Value: '2' }],
  );
  const failed = await failure(
    s3.send(
      new CopyObjectCommand({
        Bucket: versionedBucket,
        Key: 'never',
        CopySource: `${versionedBucket}/original`,
        CopySourceIfNoneMatch: '*',
      }),
    ),
  );
  t.is(failed.name, 'PreconditionFailed');
  t.is(failed.status, 412);
});

test('semantics: Range edge cases: several ranges serve the whole object, an unsatisfiable one is 416 bytes */size', async (t) => {
  const { s3 } = t.context;
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'ranges', Body: '0123456789' }));
  const several = await raw(t, {
    method: 'GET',
    path: `/${bucket}/ranges`,
    headers: { range: 'bytes=0-1,4-5' },
  });
  t.is(several?.status, 200);
  t.is(several?.text, '0123456789');
  const beyond = await raw(t, { method: 'GET', path: `/${bucket}/ranges`, headers: { range: 'bytes=10-' } });
  t.is(beyond?.status, 416);
  t.is(errorCode(beyond), 'InvalidRange');
  t.is(beyond?.headers['content-range'], 'bytes */10');
  const headRange = await raw(t, {
    method: 'HEAD',
    path: `/${bucket}/ranges`,
    headers: { range: 'bytes=2-4' },
  });
  t.is(headRange?.status, 206);
  t.is(headRange?.headers['content-range'], 'bytes 2-4/10');
  t.is(headRange?.headers['content-length'], '3');
});

test('semantics: DeleteObjects in Quiet mode answers only errors; versioned deletes report markers', async (t) => {
  const { s3 } = t.context;
  for (const key of ['q1', 'q2'])
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: key }));
  const quiet = await s3.send(
    new DeleteObjectsCommand({
      Bucket: bucket,
      Delete: { Quiet: true, Objects: [{ Key: 'q1' }, { Key: 'q2' }] },
    }),
  );
  t.is(quiet.Deleted, undefined);
  t.is(quiet.Errors, undefined);
  await s3.send(new PutObjectCommand({ Bucket: versionedBucket, Key: 'vq', Body: 'x' }));
  const loud = await s3.send(
    new DeleteObjectsCommand({ Bucket: versionedBucket, Delete: { Objects: [{ Key: 'vq' }] } }),
  );
  t.is(loud.Deleted?.[0].Key, 'vq');
  t.true(loud.Deleted?.[0].DeleteMarker);
  t.truthy(loud.Deleted?.[0].DeleteMarkerVersionId);
});

test('semantics: CRC64NVME in the SDK trailer is verified, stored, returned and copied; a multipart upload gets FULL_OBJECT', async (t) => {
  const { s3 } = t.context;
  const body = randomBytes(100_000);
  const put = await s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: 'crc64', Body: body, ChecksumAlgorithm: 'CRC64NVME' }),
  );
  t.truthy(put.ChecksumCRC64NVME);
  const head = await s3.send(
    new HeadObjectCommand({ Bucket: bucket, Key: 'crc64', ChecksumMode: 'ENABLED' }),
  );
  t.is(head.ChecksumCRC64NVME, put.ChecksumCRC64NVME);
  t.is(head.ChecksumType, 'FULL_OBJECT');
  // A copy has the same bytes: the whole-object checksum comes along.
  const copied = await s3.send(
    new CopyObjectCommand({ Bucket: bucket, Key: 'crc64-copy', CopySource: `${bucket}/crc64` }),
  );
  t.is(copied.CopyObjectResult?.ChecksumCRC64NVME, put.ChecksumCRC64NVME);
  const copyHead = await s3.send(
    new HeadObjectCommand({ Bucket: bucket, Key: 'crc64-copy', ChecksumMode: 'ENABLED' }),
  );
  t.is(copyHead.ChecksumCRC64NVME, put.ChecksumCRC64NVME);
  const parts = [randomBytes(5 * mebibyte), randomBytes(4321)];
  const created = await s3.send(
    new CreateMultipartUploadCommand({
      Bucket: bucket,
      Key: 'crc64-multipart',
      ChecksumAlgorithm: 'CRC64NVME',
    }),
  );
  t.is(created.ChecksumType, 'FULL_OBJECT');
  const upload = { Bucket: bucket, Key: 'crc64-multipart', UploadId: created.UploadId };
  const uploaded = [];
  for (const [index, part] of parts.entries()) {
    const result = await s3.send(
      new UploadPartCommand({ ...upload, PartNumber: index + 1, Body: part, ChecksumAlgorithm: 'CRC64NVME' }),
    );
    uploaded.push({ PartNumber: index + 1, ETag: result.ETag, ChecksumCRC64NVME: result.ChecksumCRC64NVME });
  }
  const completed = await s3.send(
    new CompleteMultipartUploadCommand({ ...upload, MultipartUpload: { Parts: uploaded } }),
  );
  // The whole object's CRC64NVME, the same value a single PUT of the same bytes gets.
  const whole = await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: 'crc64-whole',
      Body: Buffer.concat(parts),
      ChecksumAlgorithm: 'CRC64NVME',
    }),
  );
  t.is(completed.ChecksumCRC64NVME, whole.ChecksumCRC64NVME);
  t.is(completed.ChecksumType, 'FULL_OBJECT');
  const got = await s3.send(
    new GetObjectCommand({ Bucket: bucket, Key: 'crc64-multipart', ChecksumMode: 'ENABLED' }),
  );
  // The SDK validates the FULL_OBJECT checksum of the whole body it reads.
  t.true((await bodyOf(got.Body)).equals(Buffer.concat(parts)));
  t.is(got.ChecksumCRC64NVME, whole.ChecksumCRC64NVME);
});

test('semantics: CRC32 with ChecksumType FULL_OBJECT at creation completes with the whole object CRC32', async (t) => {
  const { s3 } = t.context;
  const parts = [randomBytes(5 * mebibyte), randomBytes(999)];
  const created = await s3.send(
    new CreateMultipartUploadCommand({
      Bucket: bucket,
      Key: 'crc32-full',
      ChecksumAlgorithm: 'CRC32',
      ChecksumType: 'FULL_OBJECT',
    }),
  );
  t.is(created.ChecksumType, 'FULL_OBJECT');
  const upload = { Bucket: bucket, Key: 'crc32-full', UploadId: created.UploadId };
  const uploaded = [];
  for (const [index, part] of parts.entries()) {
    const result = await s3.send(
      new UploadPartCommand({ ...upload, PartNumber: index + 1, Body: part, ChecksumAlgorithm: 'CRC32' }),
    );
    uploaded.push({ PartNumber: index + 1, ETag: result.ETag, ChecksumCRC32: result.ChecksumCRC32 });
  }
  const completed = await s3.send(
    new CompleteMultipartUploadCommand({ ...upload, MultipartUpload: { Parts: uploaded } }),
  );
  t.is(completed.ChecksumCRC32, crc32Base64(Buffer.concat(parts)));
  t.is(completed.ChecksumType, 'FULL_OBJECT');
  const refused = await failure(
    s3.send(
      new CreateMultipartUploadCommand({
        Bucket: bucket,
        Key: 'sha-full',
        ChecksumAlgorithm: 'SHA256',
        ChecksumType: 'FULL_OBJECT',
      }),
    ),
  );
  t.is(refused.name, 'InvalidRequest');
  t.is(refused.status, 400);
});

test('semantics: in a versioning-suspended bucket writes are the "null" version and say so', async (t) => {
  const { s3 } = t.context;
  await s3.send(new CreateBucketCommand({ Bucket: 'semantics-suspended' }));
  await s3.send(
    new PutBucketVersioningCommand({
      Bucket: 'semantics-suspended',
      VersioningConfiguration: { Status: 'Enabled' },
    }),
  );
  const versioned = await s3.send(
    new PutObjectCommand({ Bucket: 'semantics-suspended', Key: 'k', Body: 'v1' }),
  );
  await s3.send(
    new PutBucketVersioningCommand({
      Bucket: 'semantics-suspended',
      VersioningConfiguration: { Status: 'Suspended' },
    }),
  );
  const put = await s3.send(new PutObjectCommand({ Bucket: 'semantics-suspended', Key: 'k', Body: 'v2' }));
  t.is(put.VersionId, 'null');
  const got = await s3.send(new GetObjectCommand({ Bucket: 'semantics-suspended', Key: 'k' }));
  t.is(got.VersionId, 'null');
  t.is((await bodyOf(got.Body)).toString(), 'v2');
  const older = await s3.send(
    new GetObjectCommand({ Bucket: 'semantics-suspended', Key: 'k', VersionId: versioned.VersionId }),
  );
  t.is((await bodyOf(older.Body)).toString(), 'v1');
  // Unversioned buckets show no version id at all.
  const plain = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'plain', Body: 'x' }));
  t.is(plain.VersionId, undefined);
});
