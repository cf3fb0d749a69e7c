// Tenants, keys, quotas, usage, metrics and audit through the real agent: the operator drives the
// signed admin API, tenants use the AWS SDK for JavaScript v3. One agent for the file.

import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  ListPartsCommand,
  PutBucketCorsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import test from 'ava';
import { adminRequest } from '../../agent/admin/admin-client.ts';
import { signAdminRequest } from '../../agent/admin/admin-signature.ts';
import type { AuditRecord } from '../../agent/objects/audit/audit-chain.ts';
import { parisDay, type TenantUsage } from '../../agent/objects/usage-ledger.ts';
import { sosapiCapacityKey } from '../../agent/s3/operations/sosapi.ts';
import { contractInput, seller } from '../billing/fixtures.ts';
import { type AgentProcess, repositoryRoot, startAgent } from '../support/agent-process.ts';
import { errorCode, type RawResponse, rawRequest } from './raw-http.ts';

const adminKey = 'operator-key-for-tests-0123456789abcdef-xyz';
/** Virtual-hosted-style requests name the bucket in the Host header under this domain. */
const baseDomain = 's3.coffre.test';
let agent: AgentProcess;
let adminEndpoint: string;

const keys = {
  acmeWriteOnly: { accessKeyId: 'ACMEWRITEONLY00001', secretAccessKey: 'acme-write-only-secret-0123456789' },
  acmeReadOnly: { accessKeyId: 'ACMEREADONLY000001', secretAccessKey: 'acme-read-only-secret-01234567890' },
  acmeFull: { accessKeyId: 'ACMEFULL0000000001', secretAccessKey: 'acme-full-secret-0123456789abcdef' },
  globexFull: { accessKeyId: 'GLOBEXFULL00000001', secretAccessKey: 'globex-full-secret-0123456789abcd' },
};

function client(key: { accessKeyId: string; secretAccessKey: string }): S3Client {
  return new S3Client({
    endpoint: agent.endpoint,
    region: 'fr-par',
    forcePathStyle: true,
    credentials: key,
    maxAttempts: 1,
  });
}

const admin = <Body = unknown>(method: 'GET' | 'PUT', target: string, document?: unknown) =>
  adminRequest<Body>(adminEndpoint, adminKey, method, target, document);

async function errorName(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'no error';
  } catch (error) {
    const { name, $metadata } = error as { name: string; $metadata?: { httpStatusCode?: number } };
    // HEAD answers carry no body, so no error code: the SDK only has the status.
    return name === 'Unknown' || name === 'Forbidden' ? `HTTP ${$metadata?.httpStatusCode}` : name;
  }
}

const bytes = (length: number, fill = 97) => Buffer.alloc(length, fill);

test.before(async () => {
  agent = await startAgent({
    arguments: ['--admin-port', '0', '--domain', baseDomain],
    environment: { COFFRE_ADMIN_KEY: adminKey },
  });
  const match = /admin API:\s+(\S+)/.exec(agent.output());
  if (!match) throw new Error(`no admin API line in:\n${agent.output()}`);
  adminEndpoint = match[1];
  for (const [tenantId, displayName] of [
    ['acme', 'ACME SAS'],
    ['globex', 'Globex SARL'],
  ]) {
    const created = await admin('PUT', `/v1/tenants/${tenantId}`, { displayName });
    if (created.status !== 200) throw new Error(created.text);
  }
  const roles = {
    acmeWriteOnly: 'write-only',
    acmeReadOnly: 'read-only',
    acmeFull: 'full',
    globexFull: 'full',
  };
  for (const [name, key] of Object.entries(keys)) {
    const tenantId = name.startsWith('acme') ? 'acme' : 'globex';
    const put = await admin('PUT', `/v1/tenants/${tenantId}/keys/${key.accessKeyId}`, {
      secretAccessKey: key.secretAccessKey,
      role: roles[name as keyof typeof roles],
    });
    if (put.status !== 200) throw new Error(put.text);
  }
});

test.after.always(async () => {
  await agent?.destroy();
});

test.serial(
  'admin API: a body over 1 MiB is 413 BodyTooLarge: chunked, then a clean close; declared (2 MiB), read and the connection kept',
  async (t) => {
    const url = new URL(adminEndpoint);
    const target = '/v1/tenants/acme';
    const oversized = Buffer.alloc(2 * 1024 * 1024, 0x20);
    for (const framing of ['chunked', 'declared'] as const) {
      const headers = signAdminRequest(adminKey, { method: 'PUT', target, body: oversized.toString() });
      const lengthHeader =
        framing === 'chunked' ? 'transfer-encoding: chunked' : `content-length: ${oversized.length}`;
      const head = [`PUT ${target} HTTP/1.1`, `host: ${url.host}`, lengthHeader];
      for (const [name, value] of Object.entries(headers)) head.push(`${name}: ${value}`);
      const body =
        framing === 'chunked'
          ? Buffer.concat([
              Buffer.from(`${oversized.length.toString(16)}\r\n`),
              oversized,
              Buffer.from('\r\n0\r\n\r\n'),
            ])
          : oversized;
      // Until the agent closes the connection (chunked), or until the whole JSON answer is in
      // (declared: the connection stays open).
      const answer = await new Promise<{ text: string; closed: boolean; error?: Error }>((resolve) => {
        const socket = net.connect(Number(url.port), url.hostname);
        const received: Buffer[] = [];
        let failure: Error | undefined;
        const text = () => Buffer.concat(received).toString('latin1');
        socket.on('data', (chunk: Buffer) => {
          received.push(chunk);
          if (framing === 'declared' && text().trimEnd().endsWith('}')) {
            resolve({ text: text(), closed: false });
            socket.destroy();
          }
        });
        socket.on('error', (error) => {
          failure = error;
        });
        socket.on('close', () => resolve({ text: text(), closed: true, error: failure }));
        socket.write(Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`, 'latin1'), body]));
      });
      t.is(answer.error, undefined, `${framing}: the connection was reset`);
      t.regex(answer.text, /^HTTP\/1\.1 413 /, framing);
      t.regex(answer.text, /"error": "BodyTooLarge"/, framing);
      if (framing === 'chunked') {
        t.true(answer.closed);
        t.regex(answer.text, /\r\nconnection: close\r\n/i, 'a chunked body is not read on');
      } else {
        t.false(answer.closed);
        t.notRegex(answer.text, /\r\nconnection: close\r\n/i, 'a declared 2 MiB body is read and dropped');
      }
    }
    t.is((await admin<{ displayName: string }>('GET', target)).body.displayName, 'ACME SAS');
  },
);

test.serial(
  'admin API: unsigned, wrong-key, replayed, stale and body-swapped requests are refused with 401; a signed one is answered',
  async (t) => {
    const target = '/v1/tenants';
    t.is((await fetch(`${adminEndpoint}${target}`)).status, 401);
    const wrongKey = signAdminRequest('not-the-operator-key-0123456789abcdef', { method: 'GET', target });
    t.is((await fetch(`${adminEndpoint}${target}`, { headers: wrongKey })).status, 401);
    const signed = signAdminRequest(adminKey, { method: 'GET', target });
    t.is((await fetch(`${adminEndpoint}${target}`, { headers: signed })).status, 200);
    const replayed = await fetch(`${adminEndpoint}${target}`, { headers: signed });
    t.is(replayed.status, 401);
    t.like(await replayed.json(), { error: 'Replayed' });
    const stale = signAdminRequest(adminKey, { method: 'GET', target, nowMs: Date.now() - 10 * 60 * 1000 });
    const staleResponse = await fetch(`${adminEndpoint}${target}`, { headers: stale });
    t.is(staleResponse.status, 401);
    t.like(await staleResponse.json(), { error: 'Stale' });
    const document = JSON.stringify({ displayName: 'ACME SAS' });
    const swapped = signAdminRequest(adminKey, { method: 'PUT', target: '/v1/tenants/acme', body: document });
    const swappedResponse = await fetch(`${adminEndpoint}/v1/tenants/acme`, {
      method: 'PUT',
      headers: swapped,
      body: JSON.stringify({ displayName: 'Mallory' }),
    });
    t.is(swappedResponse.status, 401);
    // Another path with the same signature does not pass either.
    const elsewhere = signAdminRequest(adminKey, { method: 'GET', target: '/v1/health' });
    t.is((await fetch(`${adminEndpoint}/v1/tenants/acme/keys`, { headers: elsewhere })).status, 401);
    // Each refused call is kept in the operator's own audit log.
    const refused = (await readFile(path.join(agent.dataDirectory, 'audit', '-operator.audit.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as AuditRecord);
    t.true(refused.length >= 5);
    t.true(refused.some((record) => record.errorCode === 'Replayed' && record.status === 401));
    // The S3 listener does not answer admin calls.
    t.not(
      (
        await fetch(`${agent.endpoint}/v1/tenants`, {
          headers: signAdminRequest(adminKey, { method: 'GET', target }),
        })
      ).status,
      200,
    );
  },
);

test.serial('admin API: desired-state PUTs are idempotent and never return secrets', async (t) => {
  const first = await admin('PUT', '/v1/tenants/initech', { displayName: 'Initech', quotaBytes: 10_000 });
  const again = await admin('PUT', '/v1/tenants/initech', { displayName: 'Initech', quotaBytes: 10_000 });
  t.is(first.status, 200);
  t.deepEqual(again.body, first.body);
  const bucket = { versioning: 'Enabled', quotaBytes: 5000 };
  const created = await admin('PUT', '/v1/tenants/initech/buckets/initech-backups', bucket);
  t.is(created.status, 200);
  t.like(created.body, {
    name: 'initech-backups',
    tenantId: 'initech',
    versioning: 'Enabled',
    quotaBytes: 5000,
  });
  t.deepEqual((await admin('PUT', '/v1/tenants/initech/buckets/initech-backups', bucket)).body, created.body);
  t.deepEqual((await admin('GET', '/v1/tenants/initech/buckets/initech-backups')).body, created.body);
  // Bucket names are per tenant: the same name for another tenant is that tenant's own bucket, and
  // the first one is untouched.
  const other = await admin('PUT', '/v1/tenants/acme/buckets/initech-backups', {});
  t.is(other.status, 200);
  t.like(other.body, {
    name: 'initech-backups',
    tenantId: 'acme',
    versioning: 'Unversioned',
    quotaBytes: null,
  });
  t.deepEqual((await admin('GET', '/v1/tenants/initech/buckets/initech-backups')).body, created.body);
  t.like((await admin('GET', '/v1/tenants/initech/buckets')).body, { buckets: [created.body] });
  // A tenantId in the body must be the path's; a tenant without the bucket, or no such tenant, is 404.
  t.is((await admin('PUT', '/v1/tenants/acme/buckets/x-bucket', { tenantId: 'initech' })).status, 400);
  t.is((await admin('GET', '/v1/tenants/globex/buckets/initech-backups')).status, 404);
  t.is((await admin('GET', '/v1/tenants/nobody/buckets/initech-backups')).status, 404);
  const listed = await admin<{ keys: Record<string, unknown>[] }>('GET', '/v1/tenants/acme/keys');
  t.true(listed.body.keys.length >= 3);
  t.false(listed.text.includes('secret'));
});

test.serial(
  'admin API: a lock-enabled bucket cannot have versioning suspended or Object Lock turned on later, and there is no route to delete or alter a version',
  async (t) => {
    t.is(
      (await admin('PUT', '/v1/tenants/acme/buckets/acme-vault', { objectLockEnabled: true })).status,
      200,
    );
    const suspend = await admin('PUT', '/v1/tenants/acme/buckets/acme-vault', { versioning: 'Suspended' });
    t.is(suspend.status, 409);
    t.is((await admin('PUT', '/v1/tenants/acme/buckets/acme-plain', {})).status, 200);
    t.is(
      (await admin('PUT', '/v1/tenants/acme/buckets/acme-plain', { objectLockEnabled: true })).status,
      409,
    );
    const target = '/v1/tenants/acme/buckets/acme-vault';
    const deleteAttempt = await fetch(`${adminEndpoint}${target}`, {
      method: 'DELETE',
      headers: signAdminRequest(adminKey, { method: 'DELETE', target }),
    });
    t.is(deleteAttempt.status, 405);
  },
);

/** What a client can observe of an answer: status, error code and message, and the headers S3 sets. */
function observable(response: RawResponse | null) {
  const text = response?.text ?? '';
  return {
    status: response?.status,
    code: /<Code>([^<]*)<\/Code>/.exec(text)?.[1],
    message: /<Message>([^<]*)<\/Message>/.exec(text)?.[1],
    contentType: response?.headers['content-type'],
    location: response?.headers.location,
  };
}

test.serial(
  "isolation: another tenant's bucket cannot be told from a free name by any operation, path-style or virtual-hosted (NoSuchBucket, never AccessDenied)",
  async (t) => {
    const globex = client(keys.globexFull);
    const acme = client(keys.acmeFull);
    await globex.send(new CreateBucketCommand({ Bucket: 'globex-secrets' }));
    await globex.send(
      new PutObjectCommand({ Bucket: 'globex-secrets', Key: 'plan.txt', Body: 'secret plan' }),
    );
    const upload = await globex.send(
      new CreateMultipartUploadCommand({ Bucket: 'globex-secrets', Key: 'big.tar' }),
    );
    await acme.send(new CreateBucketCommand({ Bucket: 'acme-isolation' }));
    const listed = await acme.send(new ListBucketsCommand({}));
    t.false((listed.Buckets ?? []).some((bucket) => bucket.Name === 'globex-secrets'));
    const freeName = 'no-tenant-has-this-bucket';
    const attempts: [string, (bucket: string) => Promise<unknown>][] = [
      ['HeadBucket', (bucket) => acme.send(new HeadBucketCommand({ Bucket: bucket }))],
      ['ListObjectsV2', (bucket) => acme.send(new ListObjectsV2Command({ Bucket: bucket }))],
      ['ListObjectVersions', (bucket) => acme.send(new ListObjectVersionsCommand({ Bucket: bucket }))],
      ['ListMultipartUploads', (bucket) => acme.send(new ListMultipartUploadsCommand({ Bucket: bucket }))],
      ['GetObject', (bucket) => acme.send(new GetObjectCommand({ Bucket: bucket, Key: 'plan.txt' }))],
      ['HeadObject', (bucket) => acme.send(new HeadObjectCommand({ Bucket: bucket, Key: 'plan.txt' }))],
      ['GetBucketVersioning', (bucket) => acme.send(new GetBucketVersioningCommand({ Bucket: bucket }))],
      ['PutObject', (bucket) => acme.send(new PutObjectCommand({ Bucket: bucket, Key: 'x', Body: 'x' }))],
      ['DeleteObject', (bucket) => acme.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'plan.txt' }))],
      ['DeleteBucket', (bucket) => acme.send(new DeleteBucketCommand({ Bucket: bucket }))],
      [
        'PutBucketVersioning',
        (bucket) =>
          acme.send(
            new PutBucketVersioningCommand({
              Bucket: bucket,
              VersioningConfiguration: { Status: 'Enabled' },
            }),
          ),
      ],
      [
        'CreateMultipartUpload',
        (bucket) => acme.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'y' })),
      ],
      [
        "UploadPart (with globex's upload id)",
        (bucket) =>
          acme.send(
            new UploadPartCommand({
              Bucket: bucket,
              Key: 'big.tar',
              UploadId: upload.UploadId,
              PartNumber: 1,
              Body: 'p',
            }),
          ),
      ],
      [
        'CopyObject (source)',
        (bucket) =>
          acme.send(
            new CopyObjectCommand({
              Bucket: 'acme-isolation',
              Key: 'stolen',
              CopySource: `${bucket}/plan.txt`,
            }),
          ),
      ],
      [
        'UploadPartCopy (source)',
        async (bucket) => {
          const own = await acme.send(
            new CreateMultipartUploadCommand({ Bucket: 'acme-isolation', Key: 'stolen.tar' }),
          );
          return acme.send(
            new UploadPartCopyCommand({
              Bucket: 'acme-isolation',
              Key: 'stolen.tar',
              UploadId: own.UploadId,
              PartNumber: 1,
              CopySource: `${bucket}/plan.txt`,
            }),
          );
        },
      ],
    ];
    for (const [operation, attempt] of attempts) {
      const onSecret = await errorName(attempt('globex-secrets'));
      t.is(onSecret, await errorName(attempt(freeName)), operation);
      // HEAD answers carry no body: the SDK names a 404 NotFound.
      t.is(onSecret, operation.startsWith('Head') ? 'NotFound' : 'NoSuchBucket', operation);
    }
    // As sent on the wire, path-style and virtual-hosted-style: same status, code, message, headers.
    const raw = (bucket: string, style: 'path' | 'virtual', method: string, key = '', query = {}) =>
      rawRequest({
        endpoint: agent.endpoint,
        ...keys.acmeFull,
        method,
        path: style === 'path' ? `/${bucket}${key === '' ? '' : `/${key}`}` : `/${key}`,
        query,
        headers:
          style === 'virtual' ? { host: `${bucket}.${baseDomain}:${new URL(agent.endpoint).port}` } : {},
      });
    for (const style of ['path', 'virtual'] as const) {
      for (const [method, key, query] of [
        ['GET', 'plan.txt', {}],
        ['GET', '', { 'list-type': '2' }],
        ['GET', '', { versioning: '' }],
        ['DELETE', 'plan.txt', {}],
        ['PUT', 'x.txt', {}],
      ] as const) {
        const onSecret = observable(await raw('globex-secrets', style, method, key, query));
        t.deepEqual(
          onSecret,
          observable(await raw(freeName, style, method, key, query)),
          `${style} ${method} ${key}`,
        );
        t.like(onSecret, { status: 404, code: 'NoSuchBucket' }, `${style} ${method} ${key}`);
      }
    }
    // The virtual-hosted style reaches the caller's own bucket of that name.
    await acme.send(new PutObjectCommand({ Bucket: 'acme-isolation', Key: 'mine.txt', Body: 'acme data' }));
    const virtualRead = await raw('acme-isolation', 'virtual', 'GET', 'mine.txt');
    t.is(virtualRead?.text, 'acme data');
    const read = await globex.send(new GetObjectCommand({ Bucket: 'globex-secrets', Key: 'plan.txt' }));
    t.is(await read.Body?.transformToString(), 'secret plan');
    const uploads = await globex.send(new ListMultipartUploadsCommand({ Bucket: 'globex-secrets' }));
    t.deepEqual(
      (uploads.Uploads ?? []).map((entry) => entry.UploadId),
      [upload.UploadId],
    );
  },
);

test.serial(
  "roles: a read-only or write-only key, and an unsigned request, get AccessDenied for what the role forbids, on another tenant's bucket, a free name and its own alike",
  async (t) => {
    const readOnly = client(keys.acmeReadOnly);
    const writeOnly = client(keys.acmeWriteOnly);
    for (const bucket of ['globex-secrets', 'no-tenant-has-this-bucket', 'acme-isolation']) {
      t.is(
        await errorName(readOnly.send(new PutObjectCommand({ Bucket: bucket, Key: 'r', Body: 'r' }))),
        'AccessDenied',
        bucket,
      );
      t.is(
        await errorName(writeOnly.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'plan.txt' }))),
        'AccessDenied',
        bucket,
      );
      const unsigned = await fetch(`${agent.endpoint}/${bucket}/plan.txt`);
      t.is(unsigned.status, 403, bucket);
      t.regex(await unsigned.text(), /<Code>AccessDenied<\/Code>/, bucket);
    }
  },
);

test.serial(
  'namespaces: two tenants each create a bucket of the same name and each sees only its own (CreateBucket, ListBuckets, objects, versioning, deletion)',
  async (t) => {
    const globex = client(keys.globexFull);
    const acme = client(keys.acmeFull);
    // globex-secrets is globex's (test above): acme's CreateBucket of that name succeeds all the same.
    const created = await acme.send(new CreateBucketCommand({ Bucket: 'globex-secrets' }));
    t.is(created.Location, '/globex-secrets');
    t.deepEqual((await acme.send(new ListObjectsV2Command({ Bucket: 'globex-secrets' }))).Contents ?? [], []);
    await acme.send(new PutObjectCommand({ Bucket: 'globex-secrets', Key: 'plan.txt', Body: 'acme plan' }));
    await acme.send(
      new PutBucketVersioningCommand({
        Bucket: 'globex-secrets',
        VersioningConfiguration: { Status: 'Enabled' },
      }),
    );
    const acmeRead = await acme.send(new GetObjectCommand({ Bucket: 'globex-secrets', Key: 'plan.txt' }));
    t.is(await acmeRead.Body?.transformToString(), 'acme plan');
    const globexRead = await globex.send(new GetObjectCommand({ Bucket: 'globex-secrets', Key: 'plan.txt' }));
    t.is(await globexRead.Body?.transformToString(), 'secret plan');
    t.is((await globex.send(new GetBucketVersioningCommand({ Bucket: 'globex-secrets' }))).Status, undefined);
    // Its own again: BucketAlreadyOwnedByYou, which S3 answers for a bucket the caller owns.
    t.is(
      await errorName(acme.send(new CreateBucketCommand({ Bucket: 'globex-secrets' }))),
      'BucketAlreadyOwnedByYou',
    );
    // A listing names the bucket by its S3 name only.
    const listing = await acme.send(new ListObjectsV2Command({ Bucket: 'globex-secrets' }));
    t.is(listing.Name, 'globex-secrets');
    const acmeNames = ((await acme.send(new ListBucketsCommand({}))).Buckets ?? []).map(
      (bucket) => bucket.Name,
    );
    const globexNames = ((await globex.send(new ListBucketsCommand({}))).Buckets ?? []).map(
      (bucket) => bucket.Name,
    );
    t.true(acmeNames.includes('globex-secrets') && acmeNames.includes('acme-isolation'));
    t.deepEqual(globexNames, ['globex-secrets']);
    // globex's upload id means nothing in acme's bucket of the same name: the same answer as an
    // upload acme aborted.
    const globexUploads = await globex.send(new ListMultipartUploadsCommand({ Bucket: 'globex-secrets' }));
    const globexUploadId = globexUploads.Uploads?.[0]?.UploadId;
    t.truthy(globexUploadId);
    const aborted = await acme.send(
      new CreateMultipartUploadCommand({ Bucket: 'globex-secrets', Key: 'big.tar' }),
    );
    await acme.send(
      new AbortMultipartUploadCommand({
        Bucket: 'globex-secrets',
        Key: 'big.tar',
        UploadId: aborted.UploadId,
      }),
    );
    for (const uploadId of [globexUploadId, aborted.UploadId]) {
      const part = acme.send(
        new UploadPartCommand({
          Bucket: 'globex-secrets',
          Key: 'big.tar',
          UploadId: uploadId,
          PartNumber: 1,
          Body: 'p',
        }),
      );
      t.is(await errorName(part), 'NoSuchUpload');
      const parts = acme.send(
        new ListPartsCommand({ Bucket: 'globex-secrets', Key: 'big.tar', UploadId: uploadId }),
      );
      t.is(await errorName(parts), 'NoSuchUpload');
    }
    // A multipart upload answers with the S3 name too.
    const upload = await acme.send(new CreateMultipartUploadCommand({ Bucket: 'globex-secrets', Key: 'mp' }));
    t.is(upload.Bucket, 'globex-secrets');
    const part = await acme.send(
      new UploadPartCommand({
        Bucket: 'globex-secrets',
        Key: 'mp',
        UploadId: upload.UploadId,
        PartNumber: 1,
        Body: 'one',
      }),
    );
    const completed = await acme.send(
      new CompleteMultipartUploadCommand({
        Bucket: 'globex-secrets',
        Key: 'mp',
        UploadId: upload.UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
      }),
    );
    t.is(completed.Bucket, 'globex-secrets');
    t.regex(completed.Location ?? '', /\/globex-secrets\/mp$/);
    // Errors name the bucket by its S3 name, never by the tenant's id.
    const missingKey = await rawRequest({
      endpoint: agent.endpoint,
      ...keys.acmeFull,
      method: 'GET',
      path: '/globex-secrets/no-such-key',
    });
    t.is(errorCode(missingKey), 'NoSuchKey');
    t.false(missingKey?.text.includes('acme/'));
    // A quota on globex's bucket is globex's alone: Veeam's capacity.xml in acme's bucket of the same
    // name does not show it (nor does the admin API).
    t.is(
      (await admin('PUT', '/v1/tenants/globex/buckets/globex-secrets', { quotaBytes: 777_777 })).status,
      200,
    );
    const capacityOf = async (s3: S3Client) => {
      const document = await s3.send(
        new GetObjectCommand({ Bucket: 'globex-secrets', Key: sosapiCapacityKey }),
      );
      return /<Capacity>(\d+)<\/Capacity>/.exec((await document.Body?.transformToString()) ?? '')?.[1];
    };
    t.is(await capacityOf(globex), '777777');
    t.not(await capacityOf(acme), '777777');
    t.like((await admin('GET', '/v1/tenants/acme/buckets/globex-secrets')).body, { quotaBytes: null });
    // acme empties and deletes its bucket; globex's is untouched.
    const versions = await acme.send(new ListObjectVersionsCommand({ Bucket: 'globex-secrets' }));
    for (const version of [...(versions.Versions ?? []), ...(versions.DeleteMarkers ?? [])]) {
      await acme.send(
        new DeleteObjectCommand({ Bucket: 'globex-secrets', Key: version.Key, VersionId: version.VersionId }),
      );
    }
    await acme.send(new DeleteBucketCommand({ Bucket: 'globex-secrets' }));
    t.is(await errorName(acme.send(new HeadBucketCommand({ Bucket: 'globex-secrets' }))), 'NotFound');
    const still = await globex.send(new GetObjectCommand({ Bucket: 'globex-secrets', Key: 'plan.txt' }));
    t.is(await still.Body?.transformToString(), 'secret plan');
    // The usage ledger reports each tenant's bucket under its S3 name, apart.
    const globexUsage = await admin<TenantUsage>('GET', '/v1/tenants/globex/usage');
    t.deepEqual(
      globexUsage.body.buckets.map((bucket) => bucket.bucket),
      ['globex-secrets'],
    );
  },
);

test.serial(
  'CORS preflight (no credentials, so no namespace): answered only from a bucket whose rules allow it; any other refusal is the same as for a free name',
  async (t) => {
    const globex = client(keys.globexFull);
    await globex.send(
      new PutBucketCorsCommand({
        Bucket: 'globex-secrets',
        CORSConfiguration: {
          CORSRules: [{ AllowedOrigins: ['https://app.globex.example'], AllowedMethods: ['GET'] }],
        },
      }),
    );
    const preflight = async (bucket: string, origin: string) => {
      const response = await fetch(`${agent.endpoint}/${bucket}/plan.txt`, {
        method: 'OPTIONS',
        headers: { Origin: origin, 'Access-Control-Request-Method': 'GET' },
      });
      // Resource (the path asked), RequestId and HostId come last and differ by request.
      return { status: response.status, text: (await response.text()).replace(/<Resource>.*$/s, '') };
    };
    // What globex published to browsers, anyone may see.
    t.is((await preflight('globex-secrets', 'https://app.globex.example')).status, 200);
    const refused = await preflight('globex-secrets', 'https://acme.example');
    t.is(refused.status, 403);
    t.deepEqual(refused, await preflight('no-tenant-has-this-bucket', 'https://acme.example'));
  },
);

test.serial(
  'write-only key: backs up, but cannot delete, nor overwrite in an unversioned bucket (PutObject, CopyObject, CompleteMultipartUpload); a versioned bucket only gains versions',
  async (t) => {
    const full = client(keys.acmeFull);
    const backup = client(keys.acmeWriteOnly);
    await full.send(new CreateBucketCommand({ Bucket: 'acme-unversioned' }));
    await full.send(new CreateBucketCommand({ Bucket: 'acme-versioned' }));
    await full.send(
      new PutBucketVersioningCommand({
        Bucket: 'acme-versioned',
        VersioningConfiguration: { Status: 'Enabled' },
      }),
    );
    await backup.send(
      new PutObjectCommand({ Bucket: 'acme-unversioned', Key: 'day1.tar', Body: 'original' }),
    );
    await backup.send(new PutObjectCommand({ Bucket: 'acme-unversioned', Key: 'other.tar', Body: 'other' }));
    const overwrite = backup.send(
      new PutObjectCommand({ Bucket: 'acme-unversioned', Key: 'day1.tar', Body: 'ransom' }),
    );
    t.is(await errorName(overwrite), 'AccessDenied');
    const copyOver = backup.send(
      new CopyObjectCommand({
        Bucket: 'acme-unversioned',
        Key: 'day1.tar',
        CopySource: 'acme-unversioned/other.tar',
      }),
    );
    t.is(await errorName(copyOver), 'AccessDenied');
    const upload = await backup.send(
      new CreateMultipartUploadCommand({ Bucket: 'acme-unversioned', Key: 'day1.tar' }),
    );
    const part = await backup.send(
      new UploadPartCommand({
        Bucket: 'acme-unversioned',
        Key: 'day1.tar',
        UploadId: upload.UploadId,
        PartNumber: 1,
        Body: 'ransom by parts',
      }),
    );
    const complete = backup.send(
      new CompleteMultipartUploadCommand({
        Bucket: 'acme-unversioned',
        Key: 'day1.tar',
        UploadId: upload.UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
      }),
    );
    t.is(await errorName(complete), 'AccessDenied');
    t.is(
      await errorName(backup.send(new DeleteObjectCommand({ Bucket: 'acme-unversioned', Key: 'day1.tar' }))),
      'AccessDenied',
    );
    const kept = await full.send(new GetObjectCommand({ Bucket: 'acme-unversioned', Key: 'day1.tar' }));
    t.is(await kept.Body?.transformToString(), 'original');
    // Versioned: an overwrite only adds a version, the original stays readable.
    const v1 = await backup.send(
      new PutObjectCommand({ Bucket: 'acme-versioned', Key: 'db.dump', Body: 'v1' }),
    );
    await backup.send(new PutObjectCommand({ Bucket: 'acme-versioned', Key: 'db.dump', Body: 'v2' }));
    const old = await full.send(
      new GetObjectCommand({ Bucket: 'acme-versioned', Key: 'db.dump', VersionId: v1.VersionId }),
    );
    t.is(await old.Body?.transformToString(), 'v1');
    // A read-only key restores and nothing else.
    const restore = client(keys.acmeReadOnly);
    const restored = await restore.send(new GetObjectCommand({ Bucket: 'acme-versioned', Key: 'db.dump' }));
    t.is(await restored.Body?.transformToString(), 'v2');
    t.is(
      await errorName(restore.send(new PutObjectCommand({ Bucket: 'acme-versioned', Key: 'r', Body: 'r' }))),
      'AccessDenied',
    );
  },
);

test.serial(
  'quota: a PUT, an UploadPart or a copy beyond the tenant quota is QuotaExceeded and stores nothing; usage is unchanged',
  async (t) => {
    const tenant = 'quota-tenant';
    const key = { accessKeyId: 'QUOTATENANTKEY0001', secretAccessKey: 'quota-tenant-secret-0123456789ab' };
    t.is(
      (await admin('PUT', `/v1/tenants/${tenant}`, { displayName: 'Quota Test', quotaBytes: 1000 })).status,
      200,
    );
    t.is(
      (await admin('PUT', `/v1/tenants/${tenant}/keys/${key.accessKeyId}`, { ...key, role: 'full' })).status,
      200,
    );
    const s3 = client(key);
    await s3.send(new CreateBucketCommand({ Bucket: 'quota-bucket' }));
    await s3.send(new PutObjectCommand({ Bucket: 'quota-bucket', Key: 'fits', Body: bytes(700) }));
    const tooBig = s3.send(
      new PutObjectCommand({ Bucket: 'quota-bucket', Key: 'too-big', Body: bytes(301) }),
    );
    t.is(await errorName(tooBig), 'QuotaExceeded');
    const copy = s3.send(
      new CopyObjectCommand({ Bucket: 'quota-bucket', Key: 'copy', CopySource: 'quota-bucket/fits' }),
    );
    t.is(await errorName(copy), 'QuotaExceeded');
    const upload = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'quota-bucket', Key: 'mp' }));
    const part = s3.send(
      new UploadPartCommand({
        Bucket: 'quota-bucket',
        Key: 'mp',
        UploadId: upload.UploadId,
        PartNumber: 1,
        Body: bytes(400),
      }),
    );
    t.is(await errorName(part), 'QuotaExceeded');
    const listing = await s3.send(new ListObjectsV2Command({ Bucket: 'quota-bucket' }));
    t.deepEqual(
      (listing.Contents ?? []).map((object) => object.Key),
      ['fits'],
    );
    const usage = await admin<TenantUsage & { quotaBytes: number }>('GET', `/v1/tenants/${tenant}/usage`);
    t.like(usage.body, { storedBytes: 700, quotaBytes: 1000, incompletePartBytes: 0 });
    // Exactly up to the quota is fine.
    await s3.send(new PutObjectCommand({ Bucket: 'quota-bucket', Key: 'rest', Body: bytes(300) }));
    t.like((await admin('GET', `/v1/tenants/${tenant}/usage`)).body, { storedBytes: 1000 });
  },
);

test.serial(
  'usage: after puts, deletes, versioned overwrites and a multipart upload the admin API reports the defined figures and the month peak',
  async (t) => {
    const tenant = 'usage-tenant';
    const key = { accessKeyId: 'USAGETENANTKEY0001', secretAccessKey: 'usage-tenant-secret-0123456789ab' };
    await admin('PUT', `/v1/tenants/${tenant}`, { displayName: 'Usage Test' });
    await admin('PUT', `/v1/tenants/${tenant}/keys/${key.accessKeyId}`, { ...key, role: 'full' });
    await admin('PUT', `/v1/tenants/${tenant}/buckets/usage-versioned`, { versioning: 'Enabled' });
    const s3 = client(key);
    await s3.send(new PutObjectCommand({ Bucket: 'usage-versioned', Key: 'a', Body: bytes(1000) }));
    await s3.send(new PutObjectCommand({ Bucket: 'usage-versioned', Key: 'a', Body: bytes(2500) }));
    await s3.send(new PutObjectCommand({ Bucket: 'usage-versioned', Key: 'b', Body: bytes(300) }));
    await s3.send(new DeleteObjectCommand({ Bucket: 'usage-versioned', Key: 'b' }));
    const upload = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'usage-versioned', Key: 'big' }));
    const partSize = 5 * 1024 * 1024;
    const first = await s3.send(
      new UploadPartCommand({
        Bucket: 'usage-versioned',
        Key: 'big',
        UploadId: upload.UploadId,
        PartNumber: 1,
        Body: bytes(partSize),
      }),
    );
    const inFlight = await admin<TenantUsage>('GET', `/v1/tenants/${tenant}/usage`);
    t.like(inFlight.body, {
      incompleteUploadCount: 1,
      incompletePartBytes: partSize,
      storedBytes: 3800 + partSize,
    });
    const second = await s3.send(
      new UploadPartCommand({
        Bucket: 'usage-versioned',
        Key: 'big',
        UploadId: upload.UploadId,
        PartNumber: 2,
        Body: bytes(10),
      }),
    );
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: 'usage-versioned',
        Key: 'big',
        UploadId: upload.UploadId,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: first.ETag },
            { PartNumber: 2, ETag: second.ETag },
          ],
        },
      }),
    );
    const usage = await admin<TenantUsage & { currentMonth: { peakBytes: number } }>(
      'GET',
      `/v1/tenants/${tenant}/usage`,
    );
    t.like(usage.body, {
      storedBytes: 3800 + partSize + 10,
      currentBytes: 2500 + partSize + 10,
      currentCount: 2,
      noncurrentBytes: 1300,
      noncurrentCount: 2,
      deleteMarkerCount: 1,
      incompleteUploadCount: 0,
      incompletePartBytes: 0,
    });
    t.is(usage.body.currentMonth.peakBytes, 3800 + partSize + 10);
    // Deleting a version lowers the level, never the peak.
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: 'usage-versioned', Prefix: 'a' }));
    const oldest = (versions.Versions ?? []).find((version) => version.IsLatest === false);
    await s3.send(
      new DeleteObjectCommand({ Bucket: 'usage-versioned', Key: 'a', VersionId: oldest?.VersionId }),
    );
    const after = await admin<TenantUsage & { currentMonth: { peakBytes: number } }>(
      'GET',
      `/v1/tenants/${tenant}/usage`,
    );
    t.is(after.body.storedBytes, 2800 + partSize + 10);
    t.is(after.body.currentMonth.peakBytes, 3800 + partSize + 10);
  },
);

test.serial(
  'metrics: /metrics on the admin listener shows request counts and latencies per operation, bytes, usage and drive health; it needs the operator signature',
  async (t) => {
    const s3 = client(keys.acmeFull);
    await s3.send(new PutObjectCommand({ Bucket: 'acme-plain', Key: 'metered', Body: bytes(1234) }));
    t.is((await fetch(`${adminEndpoint}/metrics`)).status, 401);
    const scraped = await admin<string>('GET', '/metrics');
    t.is(scraped.status, 200);
    const text = scraped.text;
    t.regex(text, /coffre_s3_requests_total\{operation="PutObject",status="200"\} \d+/);
    t.regex(text, /coffre_s3_request_duration_seconds_bucket\{le="[^"]+",operation="PutObject"\} \d+/);
    t.regex(text, /coffre_s3_received_bytes_total\{operation="PutObject"\} \d+/);
    t.regex(text, /coffre_tenant_stored_bytes\{tenant="acme"\} \d+/);
    t.regex(text, /coffre_bucket_bytes\{tenant="acme",bucket="acme-plain",class="current"\} 1234/);
    t.regex(text, /coffre_drive_online\{drive="[^"]+",state="online"\} 1/);
    t.regex(text, /coffre_store_events\{event="corruptionsDetected"\} 0/);
  },
);

test.serial(
  'audit: mutating and refused requests are recorded per tenant (who, what, when, from where, result), exportable, and the chain verifies',
  async (t) => {
    const globex = client(keys.globexFull);
    await globex.send(new PutObjectCommand({ Bucket: 'globex-secrets', Key: 'audited.txt', Body: 'x' }));
    const backup = client(keys.acmeWriteOnly);
    await errorName(backup.send(new DeleteObjectCommand({ Bucket: 'acme-plain', Key: 'metered' })));
    const bad = new S3Client({
      endpoint: agent.endpoint,
      region: 'fr-par',
      forcePathStyle: true,
      credentials: {
        accessKeyId: keys.globexFull.accessKeyId,
        secretAccessKey: 'wrong-secret-0123456789abcdef0123',
      },
      maxAttempts: 1,
    });
    t.is(
      await errorName(bad.send(new PutObjectCommand({ Bucket: 'globex-secrets', Key: 'forged', Body: 'x' }))),
      'SignatureDoesNotMatch',
    );
    const isForged = (record: AuditRecord) =>
      record.operation === 'PUT /globex-secrets/forged?x-id=PutObject';
    // A record is on stable storage before its response ends: the export right after has it.
    const exportLines = async (tenant: string) => {
      const exported = await admin<string>('GET', `/v1/tenants/${tenant}/audit`);
      return exported.text
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as AuditRecord);
    };
    const globexRecords = await exportLines('globex');
    const put = globexRecords.find((record) => record.key === 'audited.txt');
    t.like(put, {
      operation: 'PutObject',
      status: 200,
      accessKeyId: keys.globexFull.accessKeyId,
      role: 'full',
      remoteAddress: '127.0.0.1',
    });
    t.true(typeof put?.atMs === 'number' && typeof put.requestId === 'string');
    t.like(globexRecords.find(isForged), { status: 403, errorCode: 'SignatureDoesNotMatch' });
    // The tenant's own records only: acme's refused delete is in acme's log.
    t.false(globexRecords.some((record) => record.tenantId !== 'globex'));
    const acmeRecords = await exportLines('acme');
    t.like(
      acmeRecords.find((record) => record.key === 'metered' && record.operation === 'DeleteObject'),
      {
        status: 403,
        errorCode: 'AccessDenied',
        role: 'write-only',
      },
    );
    // Successful reads are not audited, nor reads of a bucket the tenant does not have (404);
    // acme's write attempts on a name it has no bucket under are, in acme's log, as a 404.
    t.false(acmeRecords.some((record) => record.operation === 'GetObject' && record.status !== 403));
    t.like(
      acmeRecords.find((record) => record.operation === 'PutObject' && record.bucket === 'globex-secrets'),
      { status: 404, errorCode: 'NoSuchBucket' },
    );
    // The operator's own changes are audited too.
    t.true(
      acmeRecords.some((record) => record.operation.startsWith('admin PUT /v1/tenants/{tenantId}/keys')),
    );
    const verification = await admin<{ ok: boolean; records: number }>(
      'GET',
      '/v1/tenants/acme/audit/verification',
    );
    t.true(verification.body.ok);
    t.is(verification.body.records, acmeRecords.length);
    // An anchor the operator kept (a record it saw) must still be in the log; an unknown one is not.
    const seen = acmeRecords[2];
    const anchored = await admin<{ ok: boolean }>(
      'GET',
      `/v1/tenants/acme/audit/verification?sequence=${seen.sequence}&hash=${seen.hash}`,
    );
    t.true(anchored.body.ok);
    const forgedAnchor = await admin<{ ok: boolean; problems: { problem: string }[] }>(
      'GET',
      `/v1/tenants/acme/audit/verification?sequence=${seen.sequence}&hash=${'0'.repeat(64)}`,
    );
    t.false(forgedAnchor.body.ok);
    t.is(forgedAnchor.body.problems[0].problem, 'truncated');
  },
);

test.serial(
  'billing: the invoice command bills the current Paris month from the agent ledger (peak, not the level after deletes)',
  async (t) => {
    const directory = await mkdtemp(path.join(tmpdir(), 'coffre-invoice-'));
    t.teardown(() => rm(directory, { recursive: true, force: true }));
    const month = `${parisDay(Date.now()).slice(0, 7)}-01`;
    const contractFile = path.join(directory, 'contract.json');
    const sellerFile = path.join(directory, 'seller.json');
    await writeFile(
      contractFile,
      JSON.stringify(contractInput({ periodicity: 'monthly', startDate: month, committedTerabytes: 0 })),
    );
    await writeFile(sellerFile, JSON.stringify(seller));
    const peaks = await admin<{ peakBytes: number }>('GET', '/v1/tenants/usage-tenant/peaks');
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        path.join(repositoryRoot, 'operator/usage/invoice-command.ts'),
        ...['--admin', adminEndpoint, '--tenant', 'usage-tenant', '--contract', contractFile],
        ...['--seller', sellerFile, '--period', '0', '--number', 'F-2026-0999'],
        ...['--issued', month, '--due', month],
      ],
      { env: { ...process.env, COFFRE_ADMIN_KEY: adminKey } },
    );
    const invoice = JSON.parse(stdout) as {
      peakStoredBytes: string;
      lines: { kind: string; quantityTerabytes: number; amountExcludingTaxCents: number }[];
    };
    // The usage test above reached 3800 bytes + 5 MiB + 10 and then deleted a version.
    t.is(invoice.peakStoredBytes, String(3800 + 5 * 1024 * 1024 + 10));
    t.is(Number(invoice.peakStoredBytes), peaks.body.peakBytes);
    t.like(invoice.lines[1], { kind: 'consumption', quantityTerabytes: 1, amountExcludingTaxCents: 2300 });
  },
);
