// The bucket operations and listings of the real agent, driven by the AWS SDK for JavaScript v3 and,
// where the exact answer matters (headers, raw XML, URL encoding, CORS preflights), by signed HTTP
// requests. Two tenants share the agent, to show that each sees and owns only its own buckets.

import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteBucketCorsCommand,
  DeleteObjectCommand,
  GetBucketCorsCommand,
  GetBucketEncryptionCommand,
  GetBucketLocationCommand,
  GetBucketVersioningCommand,
  GetObjectLockConfigurationCommand,
  HeadBucketCommand,
  ListBucketsCommand,
  ListMultipartUploadsCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutBucketCorsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectLockConfigurationCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import anyTest, { type ExecutionContext, type TestFn } from 'ava';
import { XMLParser } from 'fast-xml-parser';
import { LocalDrive } from '../../agent/disk/index.ts';
import { Identities } from '../../agent/objects/identities.ts';
import { type AgentProcess, startAgent } from '../support/agent-process.ts';
import { expectS3Error } from './expect-s3-error.ts';
import { signedRequest } from './signed-request.ts';

interface Context {
  agent: AgentProcess;
  s3: S3Client;
  otherTenant: S3Client;
}

const test = anyTest as TestFn<Context>;

const firstKey = {
  accessKeyId: 'COFFRETESTACCESSKEY1',
  secretAccessKey: 'coffre-test-secret-key-0123456789abcdef0123',
};
const otherKey = {
  accessKeyId: 'COFFREOTHERTENANTKEY',
  secretAccessKey: 'other-tenant-secret-key-0123456789abcdef',
};

function client(endpoint: string, credentials: { accessKeyId: string; secretAccessKey: string }): S3Client {
  return new S3Client({ endpoint, region: 'fr-par', forcePathStyle: true, credentials });
}

test.before(async (t) => {
  // The agent keeps its tenants in its data directory: a second tenant is declared there before start.
  const dataDirectory = mkdtempSync(path.join(os.tmpdir(), 'coffre-bucket-operations-'));
  const identities = await Identities.open(new LocalDrive(dataDirectory));
  await identities.putTenant({ id: 'default', displayName: 'First tenant' });
  await identities.putKey({ ...firstKey, tenantId: 'default', role: 'full' });
  await identities.putTenant({ id: 'other', displayName: 'Other tenant' });
  await identities.putKey({ ...otherKey, tenantId: 'other', role: 'full' });
  const agent = await startAgent({ dataDirectory });
  t.context = {
    agent,
    s3: client(agent.endpoint, firstKey),
    otherTenant: client(agent.endpoint, otherKey),
  };
});

test.after.always(async (t) => {
  t.context.s3?.destroy();
  t.context.otherTenant?.destroy();
  await t.context.agent?.destroy();
  if (t.context.agent) rmSync(t.context.agent.dataDirectory, { recursive: true, force: true });
});

function raw(
  t: ExecutionContext<Context>,
  input: Omit<Parameters<typeof signedRequest>[0], 'endpoint' | 'accessKeyId' | 'secretAccessKey'>,
) {
  return signedRequest({ endpoint: t.context.agent.endpoint, ...firstKey, ...input });
}

const xmlParser = new XMLParser({
  parseTagValue: false,
  isArray: (name) => ['Contents', 'CommonPrefixes', 'Version', 'DeleteMarker'].includes(name),
});

// biome-ignore lint/suspicious/noExplicitAny: a parsed document is navigated by element names in assertions.
type XmlTree = Record<string, any>;

function parseXml(text: string): XmlTree {
  return xmlParser.parse(text) as XmlTree;
}

async function putKeys(s3: S3Client, bucket: string, keys: readonly string[]): Promise<void> {
  for (const key of keys) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: key }));
}

test('ListBuckets: a tenant lists only its own buckets, with its owner, filtered by prefix and paged', async (t) => {
  const { s3, otherTenant } = t.context;
  for (const name of ['lb-alpha', 'lb-beta', 'lb-gamma', 'lb-delta']) {
    await s3.send(new CreateBucketCommand({ Bucket: name }));
  }
  await otherTenant.send(new CreateBucketCommand({ Bucket: 'lb-other' }));
  const all = await s3.send(new ListBucketsCommand({ Prefix: 'lb-' }));
  t.deepEqual(
    all.Buckets?.map((bucket) => bucket.Name),
    ['lb-alpha', 'lb-beta', 'lb-delta', 'lb-gamma'],
  );
  t.deepEqual(all.Owner, { ID: 'default' });
  t.is(all.Buckets?.[0].BucketRegion, 'fr-par');
  t.true((all.Buckets?.[0].CreationDate?.getTime() ?? 0) > 0);
  t.is(all.ContinuationToken, undefined);
  const other = await otherTenant.send(new ListBucketsCommand({ Prefix: 'lb-' }));
  t.deepEqual(
    other.Buckets?.map((bucket) => bucket.Name),
    ['lb-other'],
  );
  t.deepEqual(other.Owner, { ID: 'other' });
  const pages: string[][] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListBucketsCommand({ Prefix: 'lb-', MaxBuckets: 3, ContinuationToken: token }),
    );
    pages.push(page.Buckets?.map((bucket) => bucket.Name ?? '') ?? []);
    token = page.ContinuationToken;
  } while (token);
  t.deepEqual(pages, [['lb-alpha', 'lb-beta', 'lb-delta'], ['lb-gamma']]);
});

test('CreateBucket: the agent region is accepted as LocationConstraint, another region or a bogus one is refused as S3 does', async (t) => {
  const { s3 } = t.context;
  await s3.send(
    new CreateBucketCommand({
      Bucket: 'cb-located',
      CreateBucketConfiguration: { LocationConstraint: 'fr-par' as never },
    }),
  );
  const location = await s3.send(new GetBucketLocationCommand({ Bucket: 'cb-located' }));
  t.is(location.LocationConstraint as string, 'fr-par');
  const elsewhere = await expectS3Error(
    t,
    s3.send(
      new CreateBucketCommand({
        Bucket: 'cb-elsewhere',
        CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' },
      }),
    ),
    'IllegalLocationConstraintException',
    400,
  );
  t.is(
    elsewhere.message,
    'The eu-west-1 location constraint is incompatible for the region specific endpoint this request was sent to.',
  );
  await expectS3Error(
    t,
    s3.send(
      new CreateBucketCommand({
        Bucket: 'cb-nowhere',
        CreateBucketConfiguration: { LocationConstraint: 'Nowhere' as never },
      }),
    ),
    'InvalidLocationConstraint',
    400,
  );
  await expectS3Error(t, s3.send(new HeadBucketCommand({ Bucket: 'cb-elsewhere' })), 'NotFound', 404);
});

test('CreateBucket: the same name again is BucketAlreadyOwnedByYou for its owner; for another tenant it is a bucket of its own (names are per tenant)', async (t) => {
  const { s3, otherTenant } = t.context;
  await s3.send(new CreateBucketCommand({ Bucket: 'cb-taken' }));
  await s3.send(new PutObjectCommand({ Bucket: 'cb-taken', Key: 'first', Body: 'of the first tenant' }));
  const own = await expectS3Error(
    t,
    s3.send(new CreateBucketCommand({ Bucket: 'cb-taken' })),
    'BucketAlreadyOwnedByYou',
    409,
  );
  t.is(own.message, 'Your previous request to create the named bucket succeeded and you already own it.');
  // Before it creates its own, the other tenant is told what it would be told of a free name: the
  // first tenant's bucket is not in its namespace. A HEAD answers 404 without a body.
  const headRaw = await signedRequest({
    endpoint: t.context.agent.endpoint,
    ...otherKey,
    method: 'HEAD',
    path: '/cb-taken',
  });
  t.is(headRaw.status, 404);
  t.is(headRaw.text, '');
  await expectS3Error(
    t,
    otherTenant.send(new ListObjectsV2Command({ Bucket: 'cb-taken' })),
    'NoSuchBucket',
    404,
  );
  const created = await otherTenant.send(new CreateBucketCommand({ Bucket: 'cb-taken' }));
  t.is(created.Location, '/cb-taken');
  const listing = await otherTenant.send(new ListObjectsV2Command({ Bucket: 'cb-taken' }));
  t.is(listing.KeyCount, 0);
  const firstListing = await s3.send(new ListObjectsV2Command({ Bucket: 'cb-taken' }));
  t.deepEqual(
    (firstListing.Contents ?? []).map((object) => object.Key),
    ['first'],
  );
});

test('HeadBucket answers the region header; GetBucketLocation and GetBucketEncryption answer S3 documents', async (t) => {
  const { s3 } = t.context;
  await s3.send(new CreateBucketCommand({ Bucket: 'hb-bucket' }));
  const head = await s3.send(new HeadBucketCommand({ Bucket: 'hb-bucket' }));
  t.is(head.BucketRegion, 'fr-par');
  const headRaw = await raw(t, { method: 'HEAD', path: '/hb-bucket' });
  t.is(headRaw.status, 200);
  t.is(headRaw.headers.get('x-amz-bucket-region'), 'fr-par');
  const location = await raw(t, { method: 'GET', path: '/hb-bucket', query: { location: '' } });
  t.is(location.status, 200);
  t.regex(
    location.text,
    /<LocationConstraint xmlns="http:\/\/s3\.amazonaws\.com\/doc\/2006-03-01\/">fr-par<\/LocationConstraint>$/,
  );
  const encryption = await s3.send(new GetBucketEncryptionCommand({ Bucket: 'hb-bucket' }));
  t.deepEqual(encryption.ServerSideEncryptionConfiguration?.Rules, [
    { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' }, BucketKeyEnabled: false },
  ]);
  await expectS3Error(t, s3.send(new HeadBucketCommand({ Bucket: 'hb-missing' })), 'NotFound', 404);
});

test('DeleteBucket: 204 for an empty bucket, BucketNotEmpty while it holds an object', async (t) => {
  const { s3 } = t.context;
  await s3.send(new CreateBucketCommand({ Bucket: 'db-bucket' }));
  await s3.send(new PutObjectCommand({ Bucket: 'db-bucket', Key: 'keep', Body: 'x' }));
  await expectS3Error(t, s3.send(new DeleteBucketCommand({ Bucket: 'db-bucket' })), 'BucketNotEmpty', 409);
  await s3.send(new DeleteObjectCommand({ Bucket: 'db-bucket', Key: 'keep' }));
  const deleted = await s3.send(new DeleteBucketCommand({ Bucket: 'db-bucket' }));
  t.is(deleted.$metadata.httpStatusCode, 204);
  await expectS3Error(t, s3.send(new HeadBucketCommand({ Bucket: 'db-bucket' })), 'NotFound', 404);
  await expectS3Error(t, s3.send(new DeleteBucketCommand({ Bucket: 'db-bucket' })), 'NoSuchBucket', 404);
});

test('versioning: a new bucket answers no status, then Enabled and Suspended as set', async (t) => {
  const { s3 } = t.context;
  await s3.send(new CreateBucketCommand({ Bucket: 'vs-bucket' }));
  const initial = await s3.send(new GetBucketVersioningCommand({ Bucket: 'vs-bucket' }));
  t.is(initial.Status, undefined);
  await s3.send(
    new PutBucketVersioningCommand({ Bucket: 'vs-bucket', VersioningConfiguration: { Status: 'Enabled' } }),
  );
  t.is((await s3.send(new GetBucketVersioningCommand({ Bucket: 'vs-bucket' }))).Status, 'Enabled');
  await s3.send(
    new PutBucketVersioningCommand({ Bucket: 'vs-bucket', VersioningConfiguration: { Status: 'Suspended' } }),
  );
  t.is((await s3.send(new GetBucketVersioningCommand({ Bucket: 'vs-bucket' }))).Status, 'Suspended');
  const malformed = await raw(t, {
    method: 'PUT',
    path: '/vs-bucket',
    query: { versioning: '' },
    body: '<VersioningConfiguration><Status>Sometimes</Status></VersioningConfiguration>',
  });
  t.is(malformed.status, 400);
  t.regex(malformed.text, /<Code>MalformedXML<\/Code>/);
});

test('Object Lock: a lock-enabled bucket is versioned, keeps its default retention and refuses to suspend versioning', async (t) => {
  const { s3 } = t.context;
  await s3.send(new CreateBucketCommand({ Bucket: 'ol-locked', ObjectLockEnabledForBucket: true }));
  t.is((await s3.send(new GetBucketVersioningCommand({ Bucket: 'ol-locked' }))).Status, 'Enabled');
  const initial = await s3.send(new GetObjectLockConfigurationCommand({ Bucket: 'ol-locked' }));
  t.deepEqual(initial.ObjectLockConfiguration, { ObjectLockEnabled: 'Enabled' });
  await s3.send(
    new PutObjectLockConfigurationCommand({
      Bucket: 'ol-locked',
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 30 } },
      },
    }),
  );
  const withRetention = await s3.send(new GetObjectLockConfigurationCommand({ Bucket: 'ol-locked' }));
  t.deepEqual(withRetention.ObjectLockConfiguration, {
    ObjectLockEnabled: 'Enabled',
    Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 30 } },
  });
  await s3.send(
    new PutObjectLockConfigurationCommand({
      Bucket: 'ol-locked',
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Years: 2 } },
      },
    }),
  );
  const years = await s3.send(new GetObjectLockConfigurationCommand({ Bucket: 'ol-locked' }));
  t.deepEqual(years.ObjectLockConfiguration?.Rule?.DefaultRetention, { Mode: 'GOVERNANCE', Years: 2 });
  await expectS3Error(
    t,
    s3.send(
      new PutBucketVersioningCommand({
        Bucket: 'ol-locked',
        VersioningConfiguration: { Status: 'Suspended' },
      }),
    ),
    'InvalidBucketState',
    409,
  );
});

test('Object Lock: a bucket without it answers ObjectLockConfigurationNotFoundError, and gains it once versioning is Enabled', async (t) => {
  const { s3 } = t.context;
  await s3.send(new CreateBucketCommand({ Bucket: 'ol-later' }));
  await expectS3Error(
    t,
    s3.send(new GetObjectLockConfigurationCommand({ Bucket: 'ol-later' })),
    'ObjectLockConfigurationNotFoundError',
    404,
  );
  const configuration = {
    ObjectLockEnabled: 'Enabled' as const,
    Rule: { DefaultRetention: { Mode: 'GOVERNANCE' as const, Days: 1 } },
  };
  await expectS3Error(
    t,
    s3.send(
      new PutObjectLockConfigurationCommand({ Bucket: 'ol-later', ObjectLockConfiguration: configuration }),
    ),
    'InvalidBucketState',
    409,
  );
  await s3.send(
    new PutBucketVersioningCommand({ Bucket: 'ol-later', VersioningConfiguration: { Status: 'Enabled' } }),
  );
  await s3.send(
    new PutObjectLockConfigurationCommand({ Bucket: 'ol-later', ObjectLockConfiguration: configuration }),
  );
  const got = await s3.send(new GetObjectLockConfigurationCommand({ Bucket: 'ol-later' }));
  t.deepEqual(got.ObjectLockConfiguration, configuration);
});

const corsRules = [
  {
    ID: 'app',
    AllowedOrigins: ['https://app.example.fr', 'https://*.backup.example.fr'],
    AllowedMethods: ['GET', 'PUT'],
    AllowedHeaders: ['content-type', 'x-amz-*'],
    ExposeHeaders: ['ETag', 'x-amz-version-id'],
    MaxAgeSeconds: 600,
  },
  { AllowedOrigins: ['*'], AllowedMethods: ['HEAD'] },
];

test('CORS: NoSuchCORSConfiguration until rules are put; they read back as put and go with DeleteBucketCors', async (t) => {
  const { s3 } = t.context;
  await s3.send(new CreateBucketCommand({ Bucket: 'cors-config' }));
  await expectS3Error(
    t,
    s3.send(new GetBucketCorsCommand({ Bucket: 'cors-config' })),
    'NoSuchCORSConfiguration',
    404,
  );
  await s3.send(
    new PutBucketCorsCommand({ Bucket: 'cors-config', CORSConfiguration: { CORSRules: corsRules } }),
  );
  const got = await s3.send(new GetBucketCorsCommand({ Bucket: 'cors-config' }));
  t.deepEqual(got.CORSRules, corsRules);
  const deleted = await s3.send(new DeleteBucketCorsCommand({ Bucket: 'cors-config' }));
  t.is(deleted.$metadata.httpStatusCode, 204);
  await expectS3Error(
    t,
    s3.send(new GetBucketCorsCommand({ Bucket: 'cors-config' })),
    'NoSuchCORSConfiguration',
    404,
  );
});

async function preflight(t: ExecutionContext<Context>, target: string, headers: Record<string, string>) {
  const response = await fetch(`${t.context.agent.endpoint}${target}`, { method: 'OPTIONS', headers });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

test('CORS preflight: a matching rule answers 200 with its Access-Control headers, without credentials', async (t) => {
  const { s3 } = t.context;
  await s3.send(new CreateBucketCommand({ Bucket: 'cors-preflight' }));
  await s3.send(
    new PutBucketCorsCommand({ Bucket: 'cors-preflight', CORSConfiguration: { CORSRules: corsRules } }),
  );
  const allowed = await preflight(t, '/cors-preflight/photos/a.jpg', {
    Origin: 'https://eu.backup.example.fr',
    'Access-Control-Request-Method': 'PUT',
    'Access-Control-Request-Headers': 'Content-Type, X-Amz-Meta-Owner',
  });
  t.is(allowed.status, 200);
  t.is(allowed.headers.get('access-control-allow-origin'), 'https://eu.backup.example.fr');
  t.is(allowed.headers.get('access-control-allow-methods'), 'GET, PUT');
  t.is(allowed.headers.get('access-control-allow-headers'), 'content-type, x-amz-meta-owner');
  t.is(allowed.headers.get('access-control-expose-headers'), 'ETag, x-amz-version-id');
  t.is(allowed.headers.get('access-control-max-age'), '600');
  t.is(allowed.headers.get('access-control-allow-credentials'), 'true');
  const anyOrigin = await preflight(t, '/cors-preflight/a', {
    Origin: 'https://elsewhere.example',
    'Access-Control-Request-Method': 'HEAD',
  });
  t.is(anyOrigin.status, 200);
  t.is(anyOrigin.headers.get('access-control-allow-origin'), '*');
  t.is(anyOrigin.headers.get('access-control-allow-methods'), 'HEAD');
});

test('CORS preflight: an origin, method or header no rule allows is 403 AccessForbidden; no CORS at all, or no bucket, is the same 403; no Origin is 400', async (t) => {
  const { s3 } = t.context;
  await s3.send(new CreateBucketCommand({ Bucket: 'cors-refused' }));
  const notEnabled = await preflight(t, '/cors-refused/a', {
    Origin: 'https://app.example.fr',
    'Access-Control-Request-Method': 'GET',
  });
  t.is(notEnabled.status, 403);
  // Not S3's "CORS is not enabled for this bucket": a preflight names no tenant, and its refusal must
  // not tell whether some tenant has a bucket of that name (see handleOptions).
  t.regex(
    notEnabled.text,
    /<Code>AccessForbidden<\/Code><Message>CORSResponse: This CORS request is not allowed\./,
  );
  const noBucket = await preflight(t, '/no-bucket-of-this-name/a', {
    Origin: 'https://app.example.fr',
    'Access-Control-Request-Method': 'GET',
  });
  t.is(noBucket.status, 403);
  t.is(parseXml(noBucket.text).Error.Message, parseXml(notEnabled.text).Error.Message);
  await s3.send(
    new PutBucketCorsCommand({ Bucket: 'cors-refused', CORSConfiguration: { CORSRules: corsRules } }),
  );
  const refusedRequests: Record<string, string>[] = [
    { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'GET' },
    { Origin: 'https://app.example.fr', 'Access-Control-Request-Method': 'DELETE' },
    {
      Origin: 'https://app.example.fr',
      'Access-Control-Request-Method': 'GET',
      'Access-Control-Request-Headers': 'authorization',
    },
  ];
  for (const headers of refusedRequests) {
    const refused = await preflight(t, '/cors-refused/a', headers);
    t.is(refused.status, 403, JSON.stringify(headers));
    const error = parseXml(refused.text).Error;
    t.is(error.Code, 'AccessForbidden');
    t.true(String(error.Message).startsWith('CORSResponse: This CORS request is not allowed.'));
    t.is(error.Method, headers['Access-Control-Request-Method']);
    t.is(error.ResourceType, 'OBJECT');
  }
  const noOrigin = await preflight(t, '/cors-refused/a', { 'Access-Control-Request-Method': 'GET' });
  t.is(noOrigin.status, 400);
  t.regex(noOrigin.text, /<Code>BadRequest<\/Code>/);
});

test('ListObjects v1: marker pages; NextMarker only when a delimiter is given, as S3', async (t) => {
  const { s3 } = t.context;
  await s3.send(new CreateBucketCommand({ Bucket: 'lo-v1' }));
  await putKeys(s3, 'lo-v1', ['a/1', 'a/2', 'b', 'c/1', 'd']);
  const first = await s3.send(new ListObjectsCommand({ Bucket: 'lo-v1', MaxKeys: 2 }));
  t.deepEqual(
    first.Contents?.map((object) => object.Key),
    ['a/1', 'a/2'],
  );
  t.true(first.IsTruncated);
  t.is(first.NextMarker, undefined);
  t.deepEqual(first.Contents?.[0].Owner, { ID: 'default' });
  t.is(first.Contents?.[0].ETag, `"${createHash('md5').update('a/1').digest('hex')}"`);
  t.is(first.Contents?.[0].Size, 3);
  const rest = await s3.send(new ListObjectsCommand({ Bucket: 'lo-v1', Marker: 'a/2' }));
  t.deepEqual(
    rest.Contents?.map((object) => object.Key),
    ['b', 'c/1', 'd'],
  );
  t.false(rest.IsTruncated);
  const grouped = await s3.send(new ListObjectsCommand({ Bucket: 'lo-v1', Delimiter: '/', MaxKeys: 2 }));
  t.deepEqual(
    grouped.CommonPrefixes?.map((prefix) => prefix.Prefix),
    ['a/'],
  );
  t.deepEqual(
    grouped.Contents?.map((object) => object.Key),
    ['b'],
  );
  t.true(grouped.IsTruncated);
  t.is(grouped.NextMarker, 'b');
  const after = await s3.send(
    new ListObjectsCommand({ Bucket: 'lo-v1', Delimiter: '/', Marker: grouped.NextMarker }),
  );
  t.deepEqual(
    after.CommonPrefixes?.map((prefix) => prefix.Prefix),
    ['c/'],
  );
  t.deepEqual(
    after.Contents?.map((object) => object.Key),
    ['d'],
  );
});

test('ListObjectsV2: start-after, continuation, KeyCount and fetch-owner', async (t) => {
  const { s3 } = t.context;
  await s3.send(new CreateBucketCommand({ Bucket: 'lo-v2' }));
  await putKeys(s3, 'lo-v2', ['k1', 'k2', 'k3', 'k4', 'dir/x', 'dir/y']);
  const afterK1 = await s3.send(new ListObjectsV2Command({ Bucket: 'lo-v2', StartAfter: 'k1', MaxKeys: 2 }));
  t.deepEqual(
    afterK1.Contents?.map((object) => object.Key),
    ['k2', 'k3'],
  );
  t.is(afterK1.KeyCount, 2);
  t.is(afterK1.StartAfter, 'k1');
  t.true(afterK1.IsTruncated);
  t.is(afterK1.Contents?.[0].Owner, undefined);
  const next = await s3.send(
    new ListObjectsV2Command({
      Bucket: 'lo-v2',
      StartAfter: 'k1',
      ContinuationToken: afterK1.NextContinuationToken,
      FetchOwner: true,
    }),
  );
  t.deepEqual(
    next.Contents?.map((object) => object.Key),
    ['k4'],
  );
  t.is(next.ContinuationToken, afterK1.NextContinuationToken);
  t.deepEqual(next.Contents?.[0].Owner, { ID: 'default' });
  t.false(next.IsTruncated);
  const grouped = await s3.send(new ListObjectsV2Command({ Bucket: 'lo-v2', Delimiter: '/' }));
  t.is(grouped.KeyCount, 5);
  t.deepEqual(
    grouped.CommonPrefixes?.map((prefix) => prefix.Prefix),
    ['dir/'],
  );
  const badToken = await raw(t, {
    method: 'GET',
    path: '/lo-v2',
    query: { 'list-type': '2', 'continuation-token': 'not-a-token' },
  });
  t.is(badToken.status, 400);
  t.regex(badToken.text, /<Code>InvalidArgument<\/Code>/);
});

test('ListObjectsV2 with encoding-type=url encodes Key, Prefix, Delimiter and StartAfter as S3 does', async (t) => {
  const { s3 } = t.context;
  await s3.send(new CreateBucketCommand({ Bucket: 'lo-encoded' }));
  await putKeys(s3, 'lo-encoded', ['été/a b+c.txt', 'été/d', 'plain']);
  const response = await raw(t, {
    method: 'GET',
    path: '/lo-encoded',
    query: { 'list-type': '2', 'encoding-type': 'url', prefix: 'été/', 'start-after': 'été/ ' },
  });
  t.is(response.status, 200);
  const result = parseXml(response.text).ListBucketResult;
  t.is(result.EncodingType, 'url');
  t.is(result.Prefix, '%C3%A9t%C3%A9/');
  t.is(result.StartAfter, '%C3%A9t%C3%A9/+');
  t.deepEqual(
    result.Contents.map((object: XmlTree) => object.Key),
    ['%C3%A9t%C3%A9/a+b%2Bc.txt', '%C3%A9t%C3%A9/d'],
  );
  const delimited = parseXml(
    (
      await raw(t, {
        method: 'GET',
        path: '/lo-encoded',
        query: { 'list-type': '2', 'encoding-type': 'url', delimiter: 'é' },
      })
    ).text,
  ).ListBucketResult;
  t.is(delimited.Delimiter, '%C3%A9');
  t.deepEqual(
    delimited.CommonPrefixes.map((prefix: XmlTree) => prefix.Prefix),
    ['%C3%A9'],
  );
  t.deepEqual(
    delimited.Contents.map((object: XmlTree) => object.Key),
    ['plain'],
  );
});

test('ListObjectVersions: versions and delete markers interleaved newest first, IsLatest, paged by key and version markers', async (t) => {
  const { s3 } = t.context;
  await s3.send(new CreateBucketCommand({ Bucket: 'lv-bucket' }));
  await s3.send(
    new PutBucketVersioningCommand({ Bucket: 'lv-bucket', VersioningConfiguration: { Status: 'Enabled' } }),
  );
  const written: string[] = [];
  for (const body of ['one', 'two', 'three']) {
    const put = await s3.send(new PutObjectCommand({ Bucket: 'lv-bucket', Key: 'doc', Body: body }));
    written.push(put.VersionId ?? '');
  }
  const marker = await s3.send(new DeleteObjectCommand({ Bucket: 'lv-bucket', Key: 'doc' }));
  t.true(marker.DeleteMarker);
  const other = await s3.send(new PutObjectCommand({ Bucket: 'lv-bucket', Key: 'zeta', Body: 'z' }));
  const all = await raw(t, { method: 'GET', path: '/lv-bucket', query: { versions: '' } });
  const document = parseXml(all.text).ListVersionsResult;
  t.is(document.Version.length, 4);
  t.is(document.DeleteMarker.length, 1);
  // The raw document keeps S3's order: the delete marker first, then the older versions of "doc".
  const order = [
    ...all.text.matchAll(
      /<(Version|DeleteMarker)><Key>([^<]*)<\/Key><VersionId>([^<]*)<\/VersionId><IsLatest>(true|false)/g,
    ),
  ].map((match) => `${match[1]} ${match[2]} ${match[3]} ${match[4]}`);
  t.deepEqual(order, [
    `DeleteMarker doc ${marker.VersionId} true`,
    `Version doc ${written[2]} false`,
    `Version doc ${written[1]} false`,
    `Version doc ${written[0]} false`,
    `Version zeta ${other.VersionId} true`,
  ]);
  const seen: string[] = [];
  let keyMarker: string | undefined;
  let versionIdMarker: string | undefined;
  let pages = 0;
  do {
    const page = await s3.send(
      new ListObjectVersionsCommand({
        Bucket: 'lv-bucket',
        MaxKeys: 2,
        KeyMarker: keyMarker,
        VersionIdMarker: versionIdMarker,
      }),
    );
    pages += 1;
    const entries = [
      ...(page.Versions ?? []).map((version) => ({
        key: version.Key,
        id: version.VersionId,
        latest: version.IsLatest,
      })),
      ...(page.DeleteMarkers ?? []).map((entry) => ({
        key: entry.Key,
        id: entry.VersionId,
        latest: entry.IsLatest,
      })),
    ];
    for (const entry of entries) seen.push(`${entry.key} ${entry.id} ${entry.latest}`);
    keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
    versionIdMarker = page.IsTruncated ? page.NextVersionIdMarker : undefined;
  } while (keyMarker !== undefined);
  t.is(pages, 3);
  t.deepEqual(seen.sort(), order.map((line) => line.split(' ').slice(1).join(' ')).sort());
});

test('ListMultipartUploads: uploads in progress in key order, with their initiator and owner', async (t) => {
  const { s3 } = t.context;
  await s3.send(new CreateBucketCommand({ Bucket: 'lmu-bucket' }));
  const ids: string[] = [];
  for (const key of ['b/two', 'a/one', 'c']) {
    const created = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'lmu-bucket', Key: key }));
    ids.push(created.UploadId ?? '');
  }
  const listed = await s3.send(new ListMultipartUploadsCommand({ Bucket: 'lmu-bucket' }));
  t.deepEqual(
    listed.Uploads?.map((upload) => upload.Key),
    ['a/one', 'b/two', 'c'],
  );
  t.deepEqual(
    listed.Uploads?.map((upload) => upload.UploadId),
    [ids[1], ids[0], ids[2]],
  );
  t.deepEqual(listed.Uploads?.[0].Initiator, { ID: 'default' });
  t.deepEqual(listed.Uploads?.[0].Owner, { ID: 'default' });
  const grouped = await s3.send(
    new ListMultipartUploadsCommand({ Bucket: 'lmu-bucket', Delimiter: '/', MaxUploads: 2 }),
  );
  t.deepEqual(
    grouped.CommonPrefixes?.map((prefix) => prefix.Prefix),
    ['a/', 'b/'],
  );
  t.true(grouped.IsTruncated);
  t.is(grouped.NextKeyMarker, 'b/');
  const rest = await s3.send(
    new ListMultipartUploadsCommand({ Bucket: 'lmu-bucket', Delimiter: '/', KeyMarker: 'b/' }),
  );
  t.deepEqual(
    rest.Uploads?.map((upload) => upload.Key),
    ['c'],
  );
});

test('CORS: an actual request from an allowed origin carries the rule headers; one from another origin carries none', async (t) => {
  const { s3 } = t.context;
  await s3.send(new CreateBucketCommand({ Bucket: 'cors-actual' }));
  await s3.send(
    new PutBucketCorsCommand({ Bucket: 'cors-actual', CORSConfiguration: { CORSRules: corsRules } }),
  );
  await s3.send(new PutObjectCommand({ Bucket: 'cors-actual', Key: 'page.html', Body: '<p>bonjour</p>' }));
  const allowed = await raw(t, {
    method: 'GET',
    path: '/cors-actual/page.html',
    headers: { origin: 'https://app.example.fr' },
  });
  t.is(allowed.status, 200);
  t.is(allowed.text, '<p>bonjour</p>');
  t.is(allowed.headers.get('access-control-allow-origin'), 'https://app.example.fr');
  t.is(allowed.headers.get('access-control-allow-methods'), 'GET, PUT');
  t.is(allowed.headers.get('access-control-expose-headers'), 'ETag, x-amz-version-id');
  t.is(allowed.headers.get('access-control-allow-credentials'), 'true');
  const other = await raw(t, {
    method: 'GET',
    path: '/cors-actual/page.html',
    headers: { origin: 'https://evil.example' },
  });
  t.is(other.status, 200);
  t.is(other.headers.get('access-control-allow-origin'), null);
});

test('listings with max-keys=0 answer an empty page that is not truncated, as S3', async (t) => {
  const { s3 } = t.context;
  await s3.send(new CreateBucketCommand({ Bucket: 'lo-zero' }));
  await putKeys(s3, 'lo-zero', ['a', 'b']);
  const v2 = await s3.send(new ListObjectsV2Command({ Bucket: 'lo-zero', MaxKeys: 0 }));
  t.is(v2.KeyCount, 0);
  t.is(v2.Contents, undefined);
  t.false(v2.IsTruncated);
  t.is(v2.NextContinuationToken, undefined);
  const v1 = await s3.send(new ListObjectsCommand({ Bucket: 'lo-zero', MaxKeys: 0, Delimiter: '/' }));
  t.false(v1.IsTruncated);
  t.is(v1.NextMarker, undefined);
  const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: 'lo-zero', MaxKeys: 0 }));
  t.false(versions.IsTruncated);
  t.is(versions.Versions, undefined);
});

test('PutBucketCors and PutObjectLockConfiguration need Content-MD5 or a checksum, as S3; a wrong Content-MD5 is BadDigest', async (t) => {
  const { s3 } = t.context;
  await s3.send(new CreateBucketCommand({ Bucket: 'integrity', ObjectLockEnabledForBucket: true }));
  const cors =
    '<CORSConfiguration><CORSRule><AllowedMethod>GET</AllowedMethod><AllowedOrigin>*</AllowedOrigin></CORSRule></CORSConfiguration>';
  const lock =
    '<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled></ObjectLockConfiguration>';
  for (const [subresource, body] of [
    ['cors', cors],
    ['object-lock', lock],
  ] as const) {
    const bare = await raw(t, { method: 'PUT', path: '/integrity', query: { [subresource]: '' }, body });
    t.is(bare.status, 400, subresource);
    t.regex(
      bare.text,
      /<Code>InvalidRequest<\/Code><Message>Missing required header for this request: Content-MD5<\/Message>/,
    );
    const contentMd5 = createHash('md5').update(body).digest('base64');
    const withMd5 = await raw(t, {
      method: 'PUT',
      path: '/integrity',
      query: { [subresource]: '' },
      body,
      headers: { 'content-md5': contentMd5 },
    });
    t.is(withMd5.status, 200, subresource);
    const wrong = await raw(t, {
      method: 'PUT',
      path: '/integrity',
      query: { [subresource]: '' },
      body,
      headers: { 'content-md5': createHash('md5').update('other').digest('base64') },
    });
    t.is(wrong.status, 400, subresource);
    t.regex(wrong.text, /<Code>BadDigest<\/Code>/);
  }
  t.is((await s3.send(new GetBucketCorsCommand({ Bucket: 'integrity' }))).CORSRules?.length, 1);
});
