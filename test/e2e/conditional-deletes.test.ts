// S3 conditional deletes (https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-deletes.html),
// driven by the AWS SDK for JavaScript v3 against the real agent, with a raw signed request where the
// SDK would quote or shape the header itself: If-Match on DeleteObject and <ETag> in DeleteObjects are
// evaluated against the key's current version; a condition that does not hold leaves everything as it
// was, which each test reads back.
import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import anyTest, { type ExecutionContext, type TestFn } from 'ava';
import { type AgentProcess, startAgent } from '../support/agent-process.ts';
import { bodyBytes, clientFor, createSuiteBuckets, daysAhead, expectS3Error } from './object-lock-support.ts';
import { errorCode, rawRequest } from './raw-http.ts';

type Context = { agent: AgentProcess; s3: S3Client };
const test = anyTest as TestFn<Context>;
const bucket = 'conditional-deletes';
const versionedBucket = 'conditional-deletes-versioned';
const lockedBucket = 'conditional-deletes-locked';
const wrongEtag = '"00000000000000000000000000000000"';

test.before(async (t) => {
  const agent = await startAgent();
  const s3 = clientFor(agent);
  t.context = { agent, s3 };
  await createSuiteBuckets(s3, { plain: bucket, versioned: versionedBucket, locked: lockedBucket });
});

test.after.always(async (t) => {
  t.context.s3?.destroy();
  await t.context.agent?.destroy();
});

async function put(s3: S3Client, bucketName: string, key: string, body: string) {
  return s3.send(new PutObjectCommand({ Bucket: bucketName, Key: key, Body: body }));
}

async function bodyText(s3: S3Client, bucketName: string, key: string): Promise<string> {
  const got = await s3.send(new GetObjectCommand({ Bucket: bucketName, Key: key }));
  return (await bodyBytes(got.Body)).toString('utf8');
}

/** The key's versions and delete markers, newest first, as ListObjectVersions gives them. */
async function historyOf(s3: S3Client, bucketName: string, key: string) {
  const listed = await s3.send(new ListObjectVersionsCommand({ Bucket: bucketName, Prefix: key }));
  return {
    versions: (listed.Versions ?? []).filter((version) => version.Key === key),
    markers: (listed.DeleteMarkers ?? []).filter((marker) => marker.Key === key),
  };
}

function rawDelete(t: ExecutionContext<Context>, path: string, headers: Record<string, string>) {
  const { agent } = t.context;
  return rawRequest({
    endpoint: agent.endpoint,
    accessKeyId: agent.accessKeyId,
    secretAccessKey: agent.secretAccessKey,
    method: 'DELETE',
    path,
    headers,
  });
}

test('conditional delete: a matching If-Match ETag deletes (204), quoted as PutObject returned it or bare', async (t) => {
  const { s3 } = t.context;
  const quoted = await put(s3, bucket, 'match-quoted', 'one');
  const deleted = await s3.send(
    new DeleteObjectCommand({ Bucket: bucket, Key: 'match-quoted', IfMatch: quoted.ETag }),
  );
  t.is(deleted.$metadata.httpStatusCode, 204);
  await expectS3Error(
    t,
    s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'match-quoted' })),
    'NotFound',
    404,
  );

  const bare = await put(s3, bucket, 'match-bare', 'two');
  const answer = await rawDelete(t, `/${bucket}/match-bare`, { 'if-match': bare.ETag!.replaceAll('"', '') });
  t.is(answer?.status, 204);
  await expectS3Error(
    t,
    s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'match-bare' })),
    'NotFound',
    404,
  );
});

test('conditional delete: a wrong If-Match ETag is 412 PreconditionFailed and the object stays, byte for byte', async (t) => {
  const { s3 } = t.context;
  const written = await put(s3, bucket, 'mismatch', 'keep me');
  await expectS3Error(
    t,
    s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'mismatch', IfMatch: wrongEtag })),
    'PreconditionFailed',
    412,
  );
  t.is(await bodyText(s3, bucket, 'mismatch'), 'keep me');
  // An overwrite changes the ETag: the first object's ETag no longer deletes its replacement.
  await put(s3, bucket, 'mismatch', 'replacement');
  const stale = await rawDelete(t, `/${bucket}/mismatch`, { 'if-match': written.ETag! });
  t.is(stale?.status, 412);
  t.is(errorCode(stale), 'PreconditionFailed');
  t.is(await bodyText(s3, bucket, 'mismatch'), 'replacement');
});

test('conditional delete: If-Match * deletes an object that exists; on a missing key * and an ETag are 404 NoSuchKey', async (t) => {
  const { s3 } = t.context;
  await put(s3, bucket, 'star', 'x');
  const deleted = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'star', IfMatch: '*' }));
  t.is(deleted.$metadata.httpStatusCode, 204);
  await expectS3Error(t, s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'star' })), 'NotFound', 404);
  // The same key, now gone, and one never written: S3 answers 404, not the 204 of a plain delete.
  for (const key of ['star', 'never-written']) {
    for (const ifMatch of ['*', wrongEtag]) {
      await expectS3Error(
        t,
        s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key, IfMatch: ifMatch })),
        'NoSuchKey',
        404,
      );
    }
  }
  // Without a condition, deleting a missing key is still the idempotent 204.
  const plain = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'never-written' }));
  t.is(plain.$metadata.httpStatusCode, 204);
});

test('conditional delete, versioned bucket: a failed condition adds no delete marker; a matching one adds one', async (t) => {
  const { s3 } = t.context;
  const written = await put(s3, versionedBucket, 'doc', 'v1');
  await expectS3Error(
    t,
    s3.send(new DeleteObjectCommand({ Bucket: versionedBucket, Key: 'doc', IfMatch: wrongEtag })),
    'PreconditionFailed',
    412,
  );
  let history = await historyOf(s3, versionedBucket, 'doc');
  t.is(history.markers.length, 0);
  t.deepEqual(
    history.versions.map((version) => version.VersionId),
    [written.VersionId],
  );
  t.is(await bodyText(s3, versionedBucket, 'doc'), 'v1');

  const deleted = await s3.send(
    new DeleteObjectCommand({ Bucket: versionedBucket, Key: 'doc', IfMatch: written.ETag }),
  );
  t.true(deleted.DeleteMarker);
  t.truthy(deleted.VersionId);
  history = await historyOf(s3, versionedBucket, 'doc');
  t.deepEqual(
    history.markers.map((marker) => marker.VersionId),
    [deleted.VersionId],
  );
  t.true(history.markers[0].IsLatest);
});

test('conditional delete, versioned bucket: when the current version is a delete marker, * and the hidden version ETag are 404 NoSuchKey, and no marker is added', async (t) => {
  const { s3 } = t.context;
  const written = await put(s3, versionedBucket, 'hidden', 'under the marker');
  const marker = await s3.send(new DeleteObjectCommand({ Bucket: versionedBucket, Key: 'hidden' }));
  t.true(marker.DeleteMarker);
  for (const ifMatch of ['*', written.ETag!]) {
    await expectS3Error(
      t,
      s3.send(new DeleteObjectCommand({ Bucket: versionedBucket, Key: 'hidden', IfMatch: ifMatch })),
      'NoSuchKey',
      404,
    );
  }
  const history = await historyOf(s3, versionedBucket, 'hidden');
  t.deepEqual(
    history.markers.map((entry) => entry.VersionId),
    [marker.VersionId],
  );
  t.deepEqual(
    history.versions.map((version) => version.VersionId),
    [written.VersionId],
  );
});

test('conditional delete: If-Match with a versionId, and x-amz-if-match-size / -last-modified-time, are 501 NotImplemented and delete nothing', async (t) => {
  const { s3 } = t.context;
  const written = await put(s3, versionedBucket, 'refused', 'still here');
  for (const ifMatch of [written.ETag!, '*']) {
    await expectS3Error(
      t,
      s3.send(
        new DeleteObjectCommand({
          Bucket: versionedBucket,
          Key: 'refused',
          VersionId: written.VersionId,
          IfMatch: ifMatch,
        }),
      ),
      'NotImplemented',
      501,
    );
  }
  await expectS3Error(
    t,
    s3.send(new DeleteObjectCommand({ Bucket: versionedBucket, Key: 'refused', IfMatchSize: 10 })),
    'NotImplemented',
    501,
  );
  const lastModified = await rawDelete(t, `/${versionedBucket}/refused`, {
    'x-amz-if-match-last-modified-time': new Date().toUTCString(),
  });
  t.is(lastModified?.status, 501);
  t.is(errorCode(lastModified), 'NotImplemented');
  t.regex(lastModified?.text ?? '', /<Header>x-amz-if-match-last-modified-time<\/Header>/);
  const history = await historyOf(s3, versionedBucket, 'refused');
  t.is(history.markers.length, 0);
  t.deepEqual(
    history.versions.map((version) => version.VersionId),
    [written.VersionId],
  );
});

test('DeleteObjects with ETags: per-key results in one request; only the keys whose condition holds are deleted', async (t) => {
  const { s3 } = t.context;
  const good = await put(s3, bucket, 'batch-good', 'g');
  const star = await put(s3, bucket, 'batch-star', 's');
  await put(s3, bucket, 'batch-bad', 'b');
  await put(s3, bucket, 'batch-size', 'z');
  await put(s3, bucket, 'batch-plain', 'p');
  t.truthy(star.ETag);
  const result = await s3.send(
    new DeleteObjectsCommand({
      Bucket: bucket,
      Delete: {
        Objects: [
          { Key: 'batch-good', ETag: good.ETag },
          { Key: 'batch-bad', ETag: wrongEtag },
          { Key: 'batch-star', ETag: '*' },
          { Key: 'batch-missing', ETag: wrongEtag },
          { Key: 'batch-size', Size: 1 },
          { Key: 'batch-plain' },
        ],
      },
    }),
  );
  t.deepEqual((result.Deleted ?? []).map((entry) => entry.Key).sort(), [
    'batch-good',
    'batch-plain',
    'batch-star',
  ]);
  const errors = Object.fromEntries((result.Errors ?? []).map((entry) => [entry.Key, entry.Code]));
  t.deepEqual(errors, {
    'batch-bad': 'PreconditionFailed',
    'batch-missing': 'NoSuchKey',
    'batch-size': 'NotImplemented',
  });
  for (const key of ['batch-good', 'batch-star', 'batch-plain']) {
    await expectS3Error(t, s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })), 'NotFound', 404);
  }
  t.is(await bodyText(s3, bucket, 'batch-bad'), 'b');
  t.is(await bodyText(s3, bucket, 'batch-size'), 'z');
});

test('DeleteObjects with ETags, versioned bucket: a matching key gets its delete marker, a failing one none, an ETag with a VersionId is NotImplemented', async (t) => {
  const { s3 } = t.context;
  const matched = await put(s3, versionedBucket, 'vbatch-good', 'g');
  const kept = await put(s3, versionedBucket, 'vbatch-bad', 'b');
  const named = await put(s3, versionedBucket, 'vbatch-version', 'v');
  const result = await s3.send(
    new DeleteObjectsCommand({
      Bucket: versionedBucket,
      Delete: {
        Objects: [
          { Key: 'vbatch-good', ETag: matched.ETag },
          { Key: 'vbatch-bad', ETag: wrongEtag },
          { Key: 'vbatch-version', VersionId: named.VersionId, ETag: named.ETag },
        ],
      },
    }),
  );
  t.is(result.Deleted?.length, 1);
  t.is(result.Deleted?.[0].Key, 'vbatch-good');
  t.true(result.Deleted?.[0].DeleteMarker);
  t.deepEqual(
    (result.Errors ?? []).map((entry) => [entry.Key, entry.Code, entry.VersionId]),
    [
      ['vbatch-bad', 'PreconditionFailed', undefined],
      ['vbatch-version', 'NotImplemented', named.VersionId],
    ],
  );
  t.is((await historyOf(s3, versionedBucket, 'vbatch-good')).markers.length, 1);
  for (const [key, version] of [
    ['vbatch-bad', kept],
    ['vbatch-version', named],
  ] as const) {
    const history = await historyOf(s3, versionedBucket, key);
    t.is(history.markers.length, 0, key);
    t.deepEqual(
      history.versions.map((entry) => entry.VersionId),
      [version.VersionId],
      key,
    );
  }
});

test('conditional delete, Object Lock bucket: the condition is judged first (412, no marker); a matching one adds the marker Object Lock allows, and the locked version still refuses deletion', async (t) => {
  const { s3 } = t.context;
  const locked = await s3.send(
    new PutObjectCommand({
      Bucket: lockedBucket,
      Key: 'locked',
      Body: 'retained',
      ChecksumAlgorithm: 'CRC32',
      ObjectLockMode: 'COMPLIANCE',
      ObjectLockRetainUntilDate: daysAhead(1),
    }),
  );
  await expectS3Error(
    t,
    s3.send(new DeleteObjectCommand({ Bucket: lockedBucket, Key: 'locked', IfMatch: wrongEtag })),
    'PreconditionFailed',
    412,
  );
  t.is((await historyOf(s3, lockedBucket, 'locked')).markers.length, 0);
  const marker = await s3.send(
    new DeleteObjectCommand({ Bucket: lockedBucket, Key: 'locked', IfMatch: locked.ETag }),
  );
  t.true(marker.DeleteMarker);
  await expectS3Error(
    t,
    s3.send(new DeleteObjectCommand({ Bucket: lockedBucket, Key: 'locked', VersionId: locked.VersionId })),
    'AccessDenied',
    403,
  );
  const got = await s3.send(
    new GetObjectCommand({ Bucket: lockedBucket, Key: 'locked', VersionId: locked.VersionId }),
  );
  t.is((await bodyBytes(got.Body)).toString('utf8'), 'retained');
});
