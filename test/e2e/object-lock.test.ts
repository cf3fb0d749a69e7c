// Object Lock end to end, with the AWS SDK for JavaScript v3 against the real agent: every path that
// could remove or alter a locked version is tried, is refused with S3's error, and the version then
// reads back byte-identical with its lock. ("Cannot be erased or modified, even by us.")
import { randomBytes } from 'node:crypto';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectLegalHoldCommand,
  GetObjectLockConfigurationCommand,
  GetObjectRetentionCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectLegalHoldCommand,
  PutObjectLockConfigurationCommand,
  PutObjectRetentionCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import anyTest, { type TestFn } from 'ava';
import { type AgentProcess, startAgent } from '../support/agent-process.ts';
import { assertIntact, clientFor, daysAhead, expectS3Error, putLocked } from './object-lock-support.ts';
import { signedRequest } from './signed-request.ts';

const test = anyTest as TestFn<{ agent: AgentProcess; s3: S3Client }>;

test.before(async (t) => {
  const agent = await startAgent();
  t.context = { agent, s3: clientFor(agent) };
});

test.after.always(async (t) => {
  t.context.s3?.destroy();
  await t.context.agent?.destroy();
});

let bucketCounter = 0;
async function lockedBucket(s3: S3Client): Promise<string> {
  bucketCounter += 1;
  const bucket = `lock-${bucketCounter}-${randomBytes(3).toString('hex')}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket, ObjectLockEnabledForBucket: true }));
  return bucket;
}

test('lock-enabled bucket: Object Lock configuration Enabled, versioning Enabled, default retention applied', async (t) => {
  const { s3 } = t.context;
  const bucket = await lockedBucket(s3);
  const configuration = await s3.send(new GetObjectLockConfigurationCommand({ Bucket: bucket }));
  t.is(configuration.ObjectLockConfiguration?.ObjectLockEnabled, 'Enabled');
  await s3.send(
    new PutObjectLockConfigurationCommand({
      Bucket: bucket,
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 3 } },
      },
    }),
  );
  const before = Date.now();
  const version = await putLocked(s3, bucket, 'defaulted', null);
  const retention = await s3.send(
    new GetObjectRetentionCommand({ Bucket: bucket, Key: 'defaulted', VersionId: version.versionId }),
  );
  t.is(retention.Retention?.Mode, 'COMPLIANCE');
  const untilMs = retention.Retention!.RetainUntilDate!.getTime();
  t.true(untilMs >= before + 3 * 86_400_000 - 1000 && untilMs <= Date.now() + 3 * 86_400_000 + 1000);
  await expectS3Error(
    t,
    s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'defaulted', VersionId: version.versionId })),
    'AccessDenied',
    403,
  );
  await assertIntact(t, s3, version);
});

test('versioning cannot be suspended on a lock-enabled bucket (InvalidBucketState)', async (t) => {
  const { s3 } = t.context;
  const bucket = await lockedBucket(s3);
  const lock = { mode: 'COMPLIANCE' as const, until: daysAhead(2) };
  const version = await putLocked(s3, bucket, 'kept', lock);
  await expectS3Error(
    t,
    s3.send(
      new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Suspended' } }),
    ),
    'InvalidBucketState',
    409,
  );
  await assertIntact(t, s3, version, lock);
});

test('COMPLIANCE: DeleteObject by version id is AccessDenied, with or without the governance bypass', async (t) => {
  const { s3 } = t.context;
  const bucket = await lockedBucket(s3);
  const lock = { mode: 'COMPLIANCE' as const, until: daysAhead(1) };
  const version = await putLocked(s3, bucket, 'deep/prefix/block', lock);
  const remove = (bypass: boolean) =>
    s3.send(
      new DeleteObjectCommand({
        Bucket: bucket,
        Key: version.key,
        VersionId: version.versionId,
        BypassGovernanceRetention: bypass || undefined,
      }),
    );
  await expectS3Error(t, remove(false), 'AccessDenied', 403);
  await expectS3Error(t, remove(true), 'AccessDenied', 403);
  await assertIntact(t, s3, version, lock);
});

test('GOVERNANCE: delete without bypass is AccessDenied; the first tenant key with bypass removes it', async (t) => {
  const { s3 } = t.context;
  const bucket = await lockedBucket(s3);
  const lock = { mode: 'GOVERNANCE' as const, until: daysAhead(1) };
  const version = await putLocked(s3, bucket, 'governed', lock);
  await expectS3Error(
    t,
    s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: version.key, VersionId: version.versionId })),
    'AccessDenied',
    403,
  );
  await assertIntact(t, s3, version, lock);
  await s3.send(
    new DeleteObjectCommand({
      Bucket: bucket,
      Key: version.key,
      VersionId: version.versionId,
      BypassGovernanceRetention: true,
    }),
  );
  await expectS3Error(
    t,
    s3.send(new HeadObjectCommand({ Bucket: bucket, Key: version.key, VersionId: version.versionId })),
    'NotFound',
    404,
  );
});

test('DeleteObjects: locked versions come back as AccessDenied errors, unlocked ones are deleted', async (t) => {
  const { s3 } = t.context;
  const bucket = await lockedBucket(s3);
  const lock = { mode: 'COMPLIANCE' as const, until: daysAhead(1) };
  const locked = await putLocked(s3, bucket, 'batch/locked', lock);
  const held = await putLocked(s3, bucket, 'batch/held', null, { legalHold: true });
  const free = await putLocked(s3, bucket, 'batch/free', null);
  const result = await s3.send(
    new DeleteObjectsCommand({
      Bucket: bucket,
      BypassGovernanceRetention: true,
      Delete: {
        Objects: [locked, held, free].map((version) => ({ Key: version.key, VersionId: version.versionId })),
      },
    }),
  );
  t.deepEqual((result.Errors ?? []).map((error) => [error.Key, error.Code]).sort(), [
    ['batch/held', 'AccessDenied'],
    ['batch/locked', 'AccessDenied'],
  ]);
  t.deepEqual(
    (result.Deleted ?? []).map((deleted) => deleted.Key),
    ['batch/free'],
  );
  await assertIntact(t, s3, locked, lock);
  await assertIntact(t, s3, held);
});

test('a delete without version id only adds a delete marker; the locked version stays readable by id', async (t) => {
  const { s3 } = t.context;
  const bucket = await lockedBucket(s3);
  const lock = { mode: 'COMPLIANCE' as const, until: daysAhead(1) };
  const version = await putLocked(s3, bucket, 'marked', lock);
  const deleted = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'marked' }));
  t.true(deleted.DeleteMarker);
  t.not(deleted.VersionId, version.versionId);
  const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: 'marked' }));
  t.deepEqual(
    versions.Versions?.map((entry) => entry.VersionId),
    [version.versionId],
  );
  t.is(versions.DeleteMarkers?.length, 1);
  await assertIntact(t, s3, version, lock);
});

test('PUT, CopyObject and multipart completion onto a locked key add versions; the locked one is unchanged', async (t) => {
  const { s3 } = t.context;
  const bucket = await lockedBucket(s3);
  const lock = { mode: 'COMPLIANCE' as const, until: daysAhead(1) };
  const version = await putLocked(s3, bucket, 'target', lock);
  const overwritten = await putLocked(s3, bucket, 'target', null);
  t.not(overwritten.versionId, version.versionId);
  const other = await putLocked(s3, bucket, 'other', null);
  const copied = await s3.send(
    new CopyObjectCommand({
      Bucket: bucket,
      Key: 'target',
      CopySource: `${bucket}/other?versionId=${other.versionId}`,
    }),
  );
  t.not(copied.VersionId, version.versionId);
  const upload = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'target' }));
  const part = await s3.send(
    new UploadPartCommand({
      Bucket: bucket,
      Key: 'target',
      UploadId: upload.UploadId,
      PartNumber: 1,
      Body: randomBytes(1000),
    }),
  );
  const completed = await s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: bucket,
      Key: 'target',
      UploadId: upload.UploadId,
      MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
    }),
  );
  t.not(completed.VersionId, version.versionId);
  const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: 'target' }));
  t.is(versions.Versions?.length, 4);
  await assertIntact(t, s3, version, lock);
});

test('DeleteBucket of a bucket holding locked versions is refused (BucketNotEmpty)', async (t) => {
  const { s3 } = t.context;
  const bucket = await lockedBucket(s3);
  const lock = { mode: 'COMPLIANCE' as const, until: daysAhead(1) };
  const version = await putLocked(s3, bucket, 'pinned', lock);
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'pinned' }));
  await expectS3Error(t, s3.send(new DeleteBucketCommand({ Bucket: bucket })), 'BucketNotEmpty', 409);
  await assertIntact(t, s3, version, lock);
});

test('editing the lock configuration (shorter default, rule removed) releases no existing version', async (t) => {
  const { s3 } = t.context;
  const bucket = await lockedBucket(s3);
  await s3.send(
    new PutObjectLockConfigurationCommand({
      Bucket: bucket,
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 30 } },
      },
    }),
  );
  const version = await putLocked(s3, bucket, 'configured', null);
  const retention = await s3.send(new GetObjectRetentionCommand({ Bucket: bucket, Key: 'configured' }));
  await s3.send(
    new PutObjectLockConfigurationCommand({
      Bucket: bucket,
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 1 } },
      },
    }),
  );
  await s3.send(
    new PutObjectLockConfigurationCommand({
      Bucket: bucket,
      ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled' },
    }),
  );
  await expectS3Error(
    t,
    s3.send(
      new DeleteObjectCommand({
        Bucket: bucket,
        Key: 'configured',
        VersionId: version.versionId,
        BypassGovernanceRetention: true,
      }),
    ),
    'AccessDenied',
    403,
  );
  await assertIntact(t, s3, version, { mode: 'COMPLIANCE', until: retention.Retention!.RetainUntilDate! });
});

test('PutObjectRetention: COMPLIANCE can only be extended; shortening, changing mode or removing is AccessDenied', async (t) => {
  const { s3 } = t.context;
  const bucket = await lockedBucket(s3);
  const lock = { mode: 'COMPLIANCE' as const, until: daysAhead(2) };
  const version = await putLocked(s3, bucket, 'retained', lock);
  const putRetention = (mode: 'COMPLIANCE' | 'GOVERNANCE', until: Date, bypass = false) =>
    s3.send(
      new PutObjectRetentionCommand({
        Bucket: bucket,
        Key: 'retained',
        VersionId: version.versionId,
        Retention: { Mode: mode, RetainUntilDate: until },
        BypassGovernanceRetention: bypass || undefined,
      }),
    );
  await expectS3Error(t, putRetention('COMPLIANCE', daysAhead(1)), 'AccessDenied', 403);
  await expectS3Error(t, putRetention('COMPLIANCE', daysAhead(1), true), 'AccessDenied', 403);
  await expectS3Error(t, putRetention('GOVERNANCE', daysAhead(5), true), 'AccessDenied', 403);
  // Removing it (an empty <Retention/>) is refused too, bypass or not.
  for (const bypass of [false, true]) {
    await expectS3Error(
      t,
      s3.send(
        new PutObjectRetentionCommand({
          Bucket: bucket,
          Key: 'retained',
          VersionId: version.versionId,
          Retention: {},
          BypassGovernanceRetention: bypass || undefined,
        }),
      ),
      'AccessDenied',
      403,
    );
  }
  await assertIntact(t, s3, version, lock);
  const extended = daysAhead(4);
  await putRetention('COMPLIANCE', extended);
  await assertIntact(t, s3, version, { mode: 'COMPLIANCE', until: extended });
});

test('PutObjectRetention: GOVERNANCE is shortened only with bypass; extending or moving to COMPLIANCE needs none', async (t) => {
  const { s3 } = t.context;
  const bucket = await lockedBucket(s3);
  const original = { mode: 'GOVERNANCE' as const, until: daysAhead(3) };
  const version = await putLocked(s3, bucket, 'governed', original);
  const putRetention = (mode: 'COMPLIANCE' | 'GOVERNANCE', until: Date, bypass = false) =>
    s3.send(
      new PutObjectRetentionCommand({
        Bucket: bucket,
        Key: 'governed',
        VersionId: version.versionId,
        Retention: { Mode: mode, RetainUntilDate: until },
        BypassGovernanceRetention: bypass || undefined,
      }),
    );
  await expectS3Error(t, putRetention('GOVERNANCE', daysAhead(1)), 'AccessDenied', 403);
  await assertIntact(t, s3, version, original);
  const shorter = daysAhead(2);
  await putRetention('GOVERNANCE', shorter, true);
  await assertIntact(t, s3, version, { mode: 'GOVERNANCE', until: shorter });
  await putRetention('GOVERNANCE', daysAhead(5));
  const compliance = daysAhead(6);
  await putRetention('COMPLIANCE', compliance);
  await expectS3Error(t, putRetention('GOVERNANCE', daysAhead(7), true), 'AccessDenied', 403);
  await assertIntact(t, s3, version, { mode: 'COMPLIANCE', until: compliance });
});

test('PutObjectRetention: an empty <Retention/> removes a GOVERNANCE retention with bypass only; the version can then be deleted', async (t) => {
  const { s3 } = t.context;
  const bucket = await lockedBucket(s3);
  const original = { mode: 'GOVERNANCE' as const, until: daysAhead(3) };
  const version = await putLocked(s3, bucket, 'released', original);
  const remove = (bypass: boolean) =>
    s3.send(
      new PutObjectRetentionCommand({
        Bucket: bucket,
        Key: 'released',
        VersionId: version.versionId,
        Retention: {},
        BypassGovernanceRetention: bypass || undefined,
      }),
    );
  await expectS3Error(t, remove(false), 'AccessDenied', 403);
  await assertIntact(t, s3, version, original);
  await remove(true);
  await expectS3Error(
    t,
    s3.send(new GetObjectRetentionCommand({ Bucket: bucket, Key: 'released', VersionId: version.versionId })),
    'NoSuchObjectLockConfiguration',
    404,
  );
  // No retention left: the version is deleted without any bypass.
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'released', VersionId: version.versionId }));
  await expectS3Error(
    t,
    s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'released', VersionId: version.versionId })),
    'NotFound',
    404,
  );
});

test('legal hold: a held version cannot be deleted even with bypass; once lifted it can', async (t) => {
  const { s3 } = t.context;
  const bucket = await lockedBucket(s3);
  const version = await putLocked(s3, bucket, 'held', null, { legalHold: true });
  const hold = await s3.send(
    new GetObjectLegalHoldCommand({ Bucket: bucket, Key: 'held', VersionId: version.versionId }),
  );
  t.is(hold.LegalHold?.Status, 'ON');
  await expectS3Error(
    t,
    s3.send(
      new DeleteObjectCommand({
        Bucket: bucket,
        Key: 'held',
        VersionId: version.versionId,
        BypassGovernanceRetention: true,
      }),
    ),
    'AccessDenied',
    403,
  );
  await assertIntact(t, s3, version);
  await s3.send(
    new PutObjectLegalHoldCommand({
      Bucket: bucket,
      Key: 'held',
      VersionId: version.versionId,
      LegalHold: { Status: 'OFF' },
    }),
  );
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'held', VersionId: version.versionId }));
  t.pass();
});

test('lock headers on a bucket without Object Lock are refused (InvalidRequest)', async (t) => {
  const { s3 } = t.context;
  const bucket = `plain-${randomBytes(3).toString('hex')}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await expectS3Error(
    t,
    putLocked(s3, bucket, 'x', { mode: 'COMPLIANCE', until: daysAhead(1) }),
    'InvalidRequest',
    400,
  );
});

test('PutObjectRetention and PutObjectLegalHold without Content-MD5 or a checksum are InvalidRequest', async (t) => {
  const { s3, agent } = t.context;
  const bucket = await lockedBucket(s3);
  const lock = { mode: 'COMPLIANCE' as const, until: daysAhead(1) };
  const version = await putLocked(s3, bucket, 'unsummed', lock);
  for (const [query, body] of [
    [
      'retention',
      `<Retention><Mode>COMPLIANCE</Mode><RetainUntilDate>${daysAhead(9).toISOString()}</RetainUntilDate></Retention>`,
    ],
    ['legal-hold', '<LegalHold><Status>ON</Status></LegalHold>'],
  ]) {
    const response = await signedRequest({
      endpoint: agent.endpoint,
      accessKeyId: agent.accessKeyId,
      secretAccessKey: agent.secretAccessKey,
      method: 'PUT',
      path: `/${bucket}/unsummed`,
      query: { [query]: '', versionId: version.versionId },
      body,
    });
    t.is(response.status, 400, query);
    t.regex(response.text, /<Code>InvalidRequest<\/Code>/);
  }
  await assertIntact(t, s3, version, lock);
});

test('lock headers on CopyObject and CreateMultipartUpload lock the new version as on PutObject', async (t) => {
  const { s3 } = t.context;
  const bucket = await lockedBucket(s3);
  const lock = { mode: 'COMPLIANCE' as const, until: daysAhead(2) };
  const source = await putLocked(s3, bucket, 'source', null);
  const copied = await s3.send(
    new CopyObjectCommand({
      Bucket: bucket,
      Key: 'copied',
      CopySource: `${bucket}/source`,
      ObjectLockMode: lock.mode,
      ObjectLockRetainUntilDate: lock.until,
    }),
  );
  const upload = await s3.send(
    new CreateMultipartUploadCommand({
      Bucket: bucket,
      Key: 'assembled',
      ObjectLockMode: lock.mode,
      ObjectLockRetainUntilDate: lock.until,
      ChecksumAlgorithm: 'CRC32',
    }),
  );
  const partBytes = randomBytes(2000);
  const part = await s3.send(
    new UploadPartCommand({
      Bucket: bucket,
      Key: 'assembled',
      UploadId: upload.UploadId,
      PartNumber: 1,
      Body: partBytes,
      ChecksumAlgorithm: 'CRC32',
    }),
  );
  const completed = await s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: bucket,
      Key: 'assembled',
      UploadId: upload.UploadId,
      MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag, ChecksumCRC32: part.ChecksumCRC32 }] },
    }),
  );
  for (const [key, versionId] of [
    ['copied', copied.VersionId!],
    ['assembled', completed.VersionId!],
  ]) {
    const retention = await s3.send(
      new GetObjectRetentionCommand({ Bucket: bucket, Key: key, VersionId: versionId }),
    );
    t.is(retention.Retention?.Mode, 'COMPLIANCE');
    t.is(retention.Retention?.RetainUntilDate?.getTime(), lock.until.getTime());
    await expectS3Error(
      t,
      s3.send(
        new DeleteObjectCommand({
          Bucket: bucket,
          Key: key,
          VersionId: versionId,
          BypassGovernanceRetention: true,
        }),
      ),
      'AccessDenied',
      403,
    );
  }
  await assertIntact(t, s3, { ...source, key: 'copied', versionId: copied.VersionId! }, lock);
});
