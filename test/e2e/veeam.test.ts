// The call pattern of Veeam Backup & Replication on an immutable object storage repository, replayed
// with the AWS SDK under Veeam's User-Agent: SOSAPI discovery (system.xml, capacity.xml, their
// folder listed), a lock-enabled bucket without default retention, ~1 MiB blocks under deep
// prefixes each with its own COMPLIANCE retention, periodic retention extensions, version listings,
// and DeleteObjects in batches of 1000 on the blocks whose retention has expired.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import {
  CreateBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  GetObjectRetentionCommand,
  HeadObjectCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutObjectCommand,
  PutObjectRetentionCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import anyTest, { type TestFn } from 'ava';
import { XMLParser } from 'fast-xml-parser';
import { type AgentProcess, startAgent } from '../support/agent-process.ts';
import { bodyBytes, daysAhead } from './object-lock-support.ts';

const test = anyTest as TestFn<{ agent: AgentProcess; s3: S3Client }>;
const sosapiFolder = '.system-d26a9498-cb7c-4a87-a44a-8ae204f5ba6c/';
const bucket = 'veeam-immutable';
const blockBytes = 1024 * 1024;

test.before(async (t) => {
  const agent = await startAgent();
  const s3 = new S3Client({
    endpoint: agent.endpoint,
    region: 'fr-par',
    forcePathStyle: true,
    credentials: { accessKeyId: agent.accessKeyId, secretAccessKey: agent.secretAccessKey },
    customUserAgent: 'APN/1.0 Veeam/1.0 Backup/12.3',
  });
  await s3.send(new CreateBucketCommand({ Bucket: bucket, ObjectLockEnabledForBucket: true }));
  t.context = { agent, s3 };
});

test.after.always(async (t) => {
  t.context.s3?.destroy();
  await t.context.agent?.destroy();
});

const parser = new XMLParser({ parseTagValue: false });

test.serial(
  'Veeam SOSAPI: system.xml and capacity.xml are served, headed and listed under their folder',
  async (t) => {
    const { s3 } = t.context;
    const system = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `${sosapiFolder}system.xml` }));
    const systemText = (await bodyBytes(system.Body)).toString('utf8');
    const systemInfo = (parser.parse(systemText) as { SystemInfo: Record<string, unknown> }).SystemInfo;
    t.is(systemInfo.ProtocolVersion, '"1.0"');
    t.deepEqual(systemInfo.ProtocolCapabilities, {
      CapacityInfo: 'true',
      UploadSessions: 'false',
      IAMSTS: 'false',
    });
    t.is(systemInfo.APIEndpoints, undefined);
    t.is(system.ETag, `"${createHash('md5').update(systemText).digest('hex')}"`);
    const capacity = await s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: `${sosapiFolder}capacity.xml` }),
    );
    const capacityInfo = (
      parser.parse((await bodyBytes(capacity.Body)).toString('utf8')) as {
        CapacityInfo: Record<string, string>;
      }
    ).CapacityInfo;
    t.deepEqual(Object.keys(capacityInfo), ['Capacity', 'Available', 'Used']);
    for (const value of Object.values(capacityInfo)) t.regex(value, /^\d+$/);
    t.true(Number(capacityInfo.Capacity) >= Number(capacityInfo.Available));
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: `${sosapiFolder}system.xml` }));
    t.is(head.ContentLength, Buffer.byteLength(systemText));
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: sosapiFolder }));
    t.deepEqual(
      listed.Contents?.map((entry) => entry.Key),
      [`${sosapiFolder}capacity.xml`, `${sosapiFolder}system.xml`],
    );
    const rolledUp = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: '.system-', Delimiter: '/' }),
    );
    t.deepEqual(
      rolledUp.CommonPrefixes?.map((entry) => entry.Prefix),
      [sosapiFolder],
    );
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: sosapiFolder }));
    t.deepEqual(
      versions.Versions?.map((entry) => [entry.Key, entry.VersionId, entry.IsLatest]),
      [
        [`${sosapiFolder}capacity.xml`, 'null', true],
        [`${sosapiFolder}system.xml`, 'null', true],
      ],
    );
    const v1 = await s3.send(new ListObjectsCommand({ Bucket: bucket, Prefix: sosapiFolder }));
    t.is(v1.Contents?.length, 2);
    // A listing of the whole bucket does not show them (tools that mirror a bucket are not confused).
    const whole = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    t.false((whole.Contents ?? []).some((entry) => entry.Key?.startsWith(sosapiFolder)));
  },
);

/** Puts `count` blocks under Veeam-like deep prefixes, each with its own COMPLIANCE date. */
async function putBlocks(
  s3: S3Client,
  count: number,
  sizeBytes: number,
  until: () => Date,
): Promise<{ key: string; versionId: string; md5: string }[]> {
  const job = randomUUID();
  const written: { key: string; versionId: string; md5: string }[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const index = next++;
      const body = randomBytes(sizeBytes);
      const md5 = createHash('md5').update(body);
      const key = `Veeam/Archive/Repository/${job}/${randomUUID()}/blocks/${index.toString(16).padStart(8, '0')}.blk`;
      const put = await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: body,
          ContentMD5: md5.copy().digest('base64'),
          ObjectLockMode: 'COMPLIANCE',
          ObjectLockRetainUntilDate: until(),
        }),
      );
      written.push({ key, versionId: put.VersionId!, md5: md5.digest('hex') });
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return written;
}

test.serial(
  'Veeam immutable repository: blocks, retention extensions, version listings, batch deletes of expired blocks',
  async (t) => {
    const { s3 } = t.context;
    const live = await putBlocks(s3, 12, blockBytes, () => daysAhead(7));
    // Blocks whose immutability ends in a few seconds: by the end of the backup chain they are expired.
    let expiresAtMs = 0;
    const expiring = await putBlocks(s3, 1050, 2048, () => {
      const untilMs = Math.ceil((Date.now() + 4000) / 1000) * 1000;
      expiresAtMs = Math.max(expiresAtMs, untilMs);
      return new Date(untilMs);
    });

    // Veeam re-extends the retention of every live block.
    const extended = daysAhead(14);
    for (const block of live) {
      await s3.send(
        new PutObjectRetentionCommand({
          Bucket: bucket,
          Key: block.key,
          VersionId: block.versionId,
          Retention: { Mode: 'COMPLIANCE', RetainUntilDate: extended },
        }),
      );
    }
    const retention = await s3.send(
      new GetObjectRetentionCommand({ Bucket: bucket, Key: live[0].key, VersionId: live[0].versionId }),
    );
    t.is(retention.Retention?.RetainUntilDate?.getTime(), extended.getTime());

    // It lists versions to find the blocks to remove, page by page.
    const listed: { key: string; versionId: string }[] = [];
    let keyMarker: string | undefined;
    let versionIdMarker: string | undefined;
    do {
      const page = await s3.send(
        new ListObjectVersionsCommand({
          Bucket: bucket,
          Prefix: 'Veeam/Archive/',
          KeyMarker: keyMarker,
          VersionIdMarker: versionIdMarker,
        }),
      );
      for (const version of page.Versions ?? [])
        listed.push({ key: version.Key!, versionId: version.VersionId! });
      keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
      versionIdMarker = page.IsTruncated ? page.NextVersionIdMarker : undefined;
    } while (keyMarker !== undefined);
    t.is(listed.length, live.length + expiring.length);

    // Before expiry, a batch delete removes nothing.
    const early = await s3.send(
      new DeleteObjectsCommand({
        Bucket: bucket,
        Delete: {
          Objects: expiring.slice(-10).map((block) => ({ Key: block.key, VersionId: block.versionId })),
          Quiet: true,
        },
      }),
    );
    t.is(early.Errors?.length, 10);
    t.true(early.Errors?.every((error) => error.Code === 'AccessDenied'));

    await new Promise((resolve) => setTimeout(resolve, Math.max(0, expiresAtMs - Date.now() + 1500)));
    for (let start = 0; start < expiring.length; start += 1000) {
      const batch = expiring.slice(start, start + 1000);
      const result = await s3.send(
        new DeleteObjectsCommand({
          Bucket: bucket,
          Delete: {
            Objects: batch.map((block) => ({ Key: block.key, VersionId: block.versionId })),
            Quiet: true,
          },
        }),
      );
      t.deepEqual(result.Errors ?? [], []);
    }
    // Live blocks in the same kind of batch are refused, one error each, and read back intact.
    const refused = await s3.send(
      new DeleteObjectsCommand({
        Bucket: bucket,
        Delete: { Objects: live.map((block) => ({ Key: block.key, VersionId: block.versionId })) },
      }),
    );
    t.is(refused.Errors?.length, live.length);
    t.deepEqual(refused.Deleted ?? [], []);
    const remaining = await s3.send(
      new ListObjectVersionsCommand({ Bucket: bucket, Prefix: 'Veeam/Archive/' }),
    );
    t.deepEqual(
      (remaining.Versions ?? []).map((version) => version.VersionId).sort(),
      live.map((block) => block.versionId).sort(),
    );
    for (const block of live.slice(0, 3)) {
      const got = await s3.send(
        new GetObjectCommand({ Bucket: bucket, Key: block.key, VersionId: block.versionId }),
      );
      t.is(
        createHash('md5')
          .update(await bodyBytes(got.Body))
          .digest('hex'),
        block.md5,
      );
    }
  },
);
