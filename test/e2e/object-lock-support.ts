// What the SDK end-to-end suites share: a client on an agent, a suite's buckets, locked versions
// written through it, the check that a version still reads back byte-identical with its lock.
import { createHash, randomBytes } from 'node:crypto';
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  type ObjectLockMode,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import type { ExecutionContext } from 'ava';
import type { AgentProcess } from '../support/agent-process.ts';

export const dayMs = 86_400_000;

export function clientFor(agent: AgentProcess, options: { systemClockOffsetMs?: number } = {}): S3Client {
  return new S3Client({
    endpoint: agent.endpoint,
    region: 'fr-par',
    forcePathStyle: true,
    credentials: { accessKeyId: agent.accessKeyId, secretAccessKey: agent.secretAccessKey },
    systemClockOffset: options.systemClockOffsetMs,
    maxAttempts: 1,
  });
}

/** A suite's buckets, each when named: a plain one, one with versioning Enabled, one with Object Lock. */
export async function createSuiteBuckets(
  s3: S3Client,
  names: { plain?: string; versioned?: string; locked?: string },
): Promise<void> {
  if (names.plain) await s3.send(new CreateBucketCommand({ Bucket: names.plain }));
  if (names.versioned) {
    await s3.send(new CreateBucketCommand({ Bucket: names.versioned }));
    await s3.send(
      new PutBucketVersioningCommand({
        Bucket: names.versioned,
        VersioningConfiguration: { Status: 'Enabled' },
      }),
    );
  }
  if (names.locked) {
    await s3.send(new CreateBucketCommand({ Bucket: names.locked, ObjectLockEnabledForBucket: true }));
  }
}

export async function bodyBytes(body: unknown): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Uint8Array>) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

export interface LockedVersion {
  bucket: string;
  key: string;
  versionId: string;
  bytes: Buffer;
  md5: string;
}

export async function putLocked(
  s3: S3Client,
  bucket: string,
  key: string,
  lock: { mode: ObjectLockMode; until: Date } | null,
  options: { legalHold?: boolean; sizeBytes?: number } = {},
): Promise<LockedVersion> {
  const bytes = randomBytes(options.sizeBytes ?? 70_000);
  const put = await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: bytes,
      ObjectLockMode: lock?.mode,
      ObjectLockRetainUntilDate: lock?.until,
      ObjectLockLegalHoldStatus: options.legalHold ? 'ON' : undefined,
    }),
  );
  return {
    bucket,
    key,
    versionId: put.VersionId!,
    bytes,
    md5: createHash('md5').update(bytes).digest('hex'),
  };
}

/** The version is there, byte-identical, with the same ETag, and (when given) the same lock. */
export async function assertIntact(
  t: ExecutionContext,
  s3: S3Client,
  version: LockedVersion,
  lock?: { mode: ObjectLockMode; until: Date },
): Promise<void> {
  const got = await s3.send(
    new GetObjectCommand({ Bucket: version.bucket, Key: version.key, VersionId: version.versionId }),
  );
  t.deepEqual(await bodyBytes(got.Body), version.bytes, `${version.key} ${version.versionId} bytes`);
  t.is(got.ETag, `"${version.md5}"`);
  if (lock !== undefined) {
    const head = await s3.send(
      new HeadObjectCommand({ Bucket: version.bucket, Key: version.key, VersionId: version.versionId }),
    );
    t.is(head.ObjectLockMode, lock.mode);
    t.is(head.ObjectLockRetainUntilDate?.getTime(), lock.until.getTime());
  }
}

export { expectS3Error } from './expect-s3-error.ts';

/** A retain-until date `days` ahead, whole seconds (S3 keeps dates to the second). */
export function daysAhead(days: number, fromMs = Date.now()): Date {
  return new Date(Math.floor((fromMs + days * dayMs) / 1000) * 1000);
}
