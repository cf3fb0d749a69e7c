// The bucket settings that tools read from every bucket (Terraform's aws_s3_bucket and its data
// sources, s3cmd info, Cyberduck's Info panel, inventory and backup software), against the real
// agent with the AWS SDK for JavaScript v3: what a bucket with S3's defaults since April 2023 answers
// (bucket owner enforced, Block Public Access on, SSE-S3, nothing else set), the requests that ask for
// what is already true, the refusals of anything else, bucket tags, and who may read or change them.

import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketEncryptionCommand,
  DeleteBucketPolicyCommand,
  DeleteBucketTaggingCommand,
  DeleteObjectCommand,
  DeletePublicAccessBlockCommand,
  GetBucketAccelerateConfigurationCommand,
  GetBucketAclCommand,
  GetBucketEncryptionCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketLoggingCommand,
  GetBucketNotificationConfigurationCommand,
  GetBucketOwnershipControlsCommand,
  GetBucketPolicyCommand,
  GetBucketPolicyStatusCommand,
  GetBucketReplicationCommand,
  GetBucketRequestPaymentCommand,
  GetBucketTaggingCommand,
  GetBucketWebsiteCommand,
  GetObjectAclCommand,
  GetPublicAccessBlockCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutBucketAclCommand,
  PutBucketEncryptionCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketOwnershipControlsCommand,
  PutBucketPolicyCommand,
  PutBucketTaggingCommand,
  PutBucketVersioningCommand,
  PutBucketWebsiteCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  PutPublicAccessBlockCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import anyTest, { type ExecutionContext, type TestFn } from 'ava';
import { LocalDrive } from '../../agent/disk/index.ts';
import { Identities } from '../../agent/objects/identities.ts';
import { type AgentProcess, startAgent } from '../support/agent-process.ts';
import { expectS3Error } from './expect-s3-error.ts';
import { signedRequest } from './signed-request.ts';

interface Context {
  agent: AgentProcess;
  s3: S3Client;
  readOnly: S3Client;
  writeOnly: S3Client;
  otherTenant: S3Client;
}

const test = anyTest as TestFn<Context>;

const keys = {
  full: {
    accessKeyId: 'COFFRETESTACCESSKEY1',
    secretAccessKey: 'coffre-test-secret-key-0123456789abcdef0123',
  },
  readOnly: {
    accessKeyId: 'COFFREREADONLYKEY001',
    secretAccessKey: 'read-only-secret-key-0123456789abcdef0123',
  },
  writeOnly: {
    accessKeyId: 'COFFREWRITEONLYKEY01',
    secretAccessKey: 'write-only-secret-key-0123456789abcdef012',
  },
  other: { accessKeyId: 'COFFREOTHERTENANTKEY', secretAccessKey: 'other-tenant-secret-key-0123456789abcdef' },
};

function client(endpoint: string, credentials: { accessKeyId: string; secretAccessKey: string }): S3Client {
  return new S3Client({ endpoint, region: 'fr-par', forcePathStyle: true, credentials });
}

test.before(async (t) => {
  const dataDirectory = mkdtempSync(path.join(os.tmpdir(), 'coffre-bucket-settings-'));
  const identities = await Identities.open(new LocalDrive(dataDirectory));
  await identities.putTenant({ id: 'default', displayName: 'First tenant' });
  await identities.putKey({ ...keys.full, tenantId: 'default', role: 'full' });
  await identities.putKey({ ...keys.readOnly, tenantId: 'default', role: 'read-only' });
  await identities.putKey({ ...keys.writeOnly, tenantId: 'default', role: 'write-only' });
  await identities.putTenant({ id: 'other', displayName: 'Other tenant' });
  await identities.putKey({ ...keys.other, tenantId: 'other', role: 'full' });
  const agent = await startAgent({ dataDirectory });
  t.context = {
    agent,
    s3: client(agent.endpoint, keys.full),
    readOnly: client(agent.endpoint, keys.readOnly),
    writeOnly: client(agent.endpoint, keys.writeOnly),
    otherTenant: client(agent.endpoint, keys.other),
  };
});

test.after.always(async (t) => {
  for (const s3 of [t.context.s3, t.context.readOnly, t.context.writeOnly, t.context.otherTenant])
    s3?.destroy();
  await t.context.agent?.destroy();
  if (t.context.agent) rmSync(t.context.agent.dataDirectory, { recursive: true, force: true });
});

function raw(
  t: ExecutionContext<Context>,
  input: Omit<Parameters<typeof signedRequest>[0], 'endpoint' | 'accessKeyId' | 'secretAccessKey'>,
) {
  return signedRequest({ endpoint: t.context.agent.endpoint, ...keys.full, ...input });
}

const firstOwner = { ID: 'default' };

const ownerOnlyPolicy = {
  Owner: firstOwner,
  Grants: [
    { Grantee: { Type: 'CanonicalUser' as const, ID: 'default' }, Permission: 'FULL_CONTROL' as const },
  ],
};

test('a fresh bucket reads as S3 answers for its defaults: owner-only ACL, BucketOwnerEnforced, public access blocked, SSE-S3, no policy', async (t) => {
  const { s3 } = t.context;
  await s3.send(new CreateBucketCommand({ Bucket: 'fresh' }));
  const acl = await s3.send(new GetBucketAclCommand({ Bucket: 'fresh' }));
  t.deepEqual(acl.Owner, firstOwner);
  t.deepEqual(acl.Grants, [
    {
      Grantee: { Type: 'CanonicalUser', ID: 'default' },
      Permission: 'FULL_CONTROL',
    },
  ]);
  const ownership = await s3.send(new GetBucketOwnershipControlsCommand({ Bucket: 'fresh' }));
  t.deepEqual(ownership.OwnershipControls?.Rules, [{ ObjectOwnership: 'BucketOwnerEnforced' }]);
  const block = await s3.send(new GetPublicAccessBlockCommand({ Bucket: 'fresh' }));
  t.deepEqual(block.PublicAccessBlockConfiguration, {
    BlockPublicAcls: true,
    IgnorePublicAcls: true,
    BlockPublicPolicy: true,
    RestrictPublicBuckets: true,
  });
  const encryption = await s3.send(new GetBucketEncryptionCommand({ Bucket: 'fresh' }));
  t.deepEqual(encryption.ServerSideEncryptionConfiguration?.Rules, [
    { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' }, BucketKeyEnabled: false },
  ]);
  // S3 answers GetBucketPolicyStatus of a bucket without a policy as GetBucketPolicy: NoSuchBucketPolicy.
  const policy = await expectS3Error(
    t,
    s3.send(new GetBucketPolicyCommand({ Bucket: 'fresh' })),
    'NoSuchBucketPolicy',
    404,
  );
  t.is(policy.message, 'The bucket policy does not exist');
  await expectS3Error(
    t,
    s3.send(new GetBucketPolicyStatusCommand({ Bucket: 'fresh' })),
    'NoSuchBucketPolicy',
    404,
  );
});

test('configuration a bucket never had reads as never set: 404s for lifecycle, website, replication and tags; empty logging, notifications and acceleration; the owner pays', async (t) => {
  const { s3 } = t.context;
  await s3.send(new CreateBucketCommand({ Bucket: 'unset' }));
  const Bucket = 'unset';
  const lifecycle = await expectS3Error(
    t,
    s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket })),
    'NoSuchLifecycleConfiguration',
    404,
  );
  t.is(lifecycle.message, 'The lifecycle configuration does not exist');
  await expectS3Error(t, s3.send(new GetBucketWebsiteCommand({ Bucket })), 'NoSuchWebsiteConfiguration', 404);
  await expectS3Error(
    t,
    s3.send(new GetBucketReplicationCommand({ Bucket })),
    'ReplicationConfigurationNotFoundError',
    404,
  );
  await expectS3Error(t, s3.send(new GetBucketTaggingCommand({ Bucket })), 'NoSuchTagSet', 404);
  const logging = await s3.send(new GetBucketLoggingCommand({ Bucket }));
  t.is(logging.$metadata.httpStatusCode, 200);
  t.is(logging.LoggingEnabled, undefined);
  const notifications = await s3.send(new GetBucketNotificationConfigurationCommand({ Bucket }));
  t.is(notifications.$metadata.httpStatusCode, 200);
  t.is(notifications.TopicConfigurations, undefined);
  t.is(notifications.QueueConfigurations, undefined);
  t.is(notifications.LambdaFunctionConfigurations, undefined);
  t.is(notifications.EventBridgeConfiguration, undefined);
  const accelerate = await s3.send(new GetBucketAccelerateConfigurationCommand({ Bucket }));
  t.is(accelerate.$metadata.httpStatusCode, 200);
  t.is(accelerate.Status, undefined);
  const payment = await s3.send(new GetBucketRequestPaymentCommand({ Bucket }));
  t.is(payment.Payer, 'BucketOwner');
});

test('the answers as sent: the Grantee typed CanonicalUser, BucketLoggingStatus in its namespace, errors naming the bucket', async (t) => {
  await t.context.s3.send(new CreateBucketCommand({ Bucket: 'as-sent' }));
  const acl = await raw(t, { method: 'GET', path: '/as-sent', query: { acl: '' } });
  t.is(acl.status, 200);
  t.is(acl.headers.get('content-type'), 'application/xml');
  t.true(
    acl.text.includes(
      '<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser"><ID>default</ID></Grantee><Permission>FULL_CONTROL</Permission></Grant>',
    ),
    acl.text,
  );
  const logging = await raw(t, { method: 'GET', path: '/as-sent', query: { logging: '' } });
  t.regex(
    logging.text,
    /<BucketLoggingStatus xmlns="http:\/\/doc\.s3\.amazonaws\.com\/2006-03-01"><\/BucketLoggingStatus>$/,
  );
  const website = await raw(t, { method: 'GET', path: '/as-sent', query: { website: '' } });
  t.is(website.status, 404);
  t.regex(website.text, /<Code>NoSuchWebsiteConfiguration<\/Code>.*<BucketName>as-sent<\/BucketName>/);
  const tags = await raw(t, { method: 'GET', path: '/as-sent', query: { tagging: '' } });
  t.regex(tags.text, /<Code>NoSuchTagSet<\/Code>.*<BucketName>as-sent<\/BucketName>/);
});

test('GetObjectAcl: the bucket owner with FULL_CONTROL, for any version; a missing key, version or a delete marker answer as GetObject does', async (t) => {
  const { s3 } = t.context;
  const Bucket = 'object-acl';
  await s3.send(new CreateBucketCommand({ Bucket }));
  await s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  const first = await s3.send(new PutObjectCommand({ Bucket, Key: 'report.pdf', Body: 'v1' }));
  await s3.send(new PutObjectCommand({ Bucket, Key: 'report.pdf', Body: 'v2' }));
  const current = await s3.send(new GetObjectAclCommand({ Bucket, Key: 'report.pdf' }));
  t.deepEqual(current.Owner, firstOwner);
  t.deepEqual(current.Grants, [
    {
      Grantee: { Type: 'CanonicalUser', ID: 'default' },
      Permission: 'FULL_CONTROL',
    },
  ]);
  const older = await s3.send(
    new GetObjectAclCommand({ Bucket, Key: 'report.pdf', VersionId: first.VersionId }),
  );
  t.deepEqual(older.Owner, firstOwner);
  t.is(older.Grants?.length, 1);
  await expectS3Error(t, s3.send(new GetObjectAclCommand({ Bucket, Key: 'missing' })), 'NoSuchKey', 404);
  await expectS3Error(
    t,
    s3.send(new GetObjectAclCommand({ Bucket, Key: 'missing', VersionId: first.VersionId })),
    'NoSuchVersion',
    404,
  );
  await s3.send(new DeleteObjectCommand({ Bucket, Key: 'report.pdf' }));
  await expectS3Error(t, s3.send(new GetObjectAclCommand({ Bucket, Key: 'report.pdf' })), 'NoSuchKey', 404);
  // The older version is still there, and still the owner's.
  const kept = await s3.send(
    new GetObjectAclCommand({ Bucket, Key: 'report.pdf', VersionId: first.VersionId }),
  );
  t.deepEqual(kept.Owner, firstOwner);
});

test('PutObjectAcl and PutBucketAcl: the owner-only ACL (private, bucket-owner-full-control, or the same grant in XML or a header) is accepted as already true; anything else is AccessControlListNotSupported', async (t) => {
  const { s3 } = t.context;
  const Bucket = 'put-acl';
  await s3.send(new CreateBucketCommand({ Bucket }));
  await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x' }));
  const object = await s3.send(
    new PutObjectAclCommand({ Bucket, Key: 'k', ACL: 'bucket-owner-full-control' }),
  );
  t.is(object.$metadata.httpStatusCode, 200);
  for (const input of [
    { ACL: 'private' as const },
    { AccessControlPolicy: ownerOnlyPolicy },
    { GrantFullControl: 'id="default"' },
  ]) {
    const onObject = await s3.send(new PutObjectAclCommand({ Bucket, Key: 'k', ...input }));
    t.is(onObject.$metadata.httpStatusCode, 200, JSON.stringify(input));
    const onBucket = await s3.send(new PutBucketAclCommand({ Bucket, ...input }));
    t.is(onBucket.$metadata.httpStatusCode, 200, JSON.stringify(input));
  }
  const publicRead = {
    Owner: firstOwner,
    Grants: [
      ...ownerOnlyPolicy.Grants,
      {
        Grantee: { Type: 'Group' as const, URI: 'http://acs.amazonaws.com/groups/global/AllUsers' },
        Permission: 'READ' as const,
      },
    ],
  };
  for (const input of [
    { ACL: 'public-read' as const },
    { ACL: 'authenticated-read' as const },
    { AccessControlPolicy: publicRead },
    { GrantRead: 'id="other"' },
  ]) {
    const object = await expectS3Error(
      t,
      s3.send(new PutObjectAclCommand({ Bucket, Key: 'k', ...input })),
      'AccessControlListNotSupported',
      400,
    );
    t.is(object.message, 'The bucket does not allow ACLs');
    await expectS3Error(
      t,
      s3.send(new PutBucketAclCommand({ Bucket, ...input })),
      'AccessControlListNotSupported',
      400,
    );
  }
  await expectS3Error(
    t,
    s3.send(new PutObjectAclCommand({ Bucket, Key: 'absent', ACL: 'bucket-owner-full-control' })),
    'NoSuchKey',
    404,
  );
  // Nothing changed: the ACL read back is still the owner's alone.
  const after = await s3.send(new GetObjectAclCommand({ Bucket, Key: 'k' }));
  t.is(after.Grants?.length, 1);
  t.is(after.Grants?.[0].Grantee?.ID, 'default');
});

test('writes carrying an ACL: PutObject, CopyObject and CreateMultipartUpload accept none, private or bucket-owner-full-control and refuse any other before storing anything; CreateBucket accepts "private" and refuses a grant to others', async (t) => {
  const { s3 } = t.context;
  const Bucket = 'acl-writes';
  await s3.send(new CreateBucketCommand({ Bucket, ACL: 'private' }));
  await s3.send(new PutObjectCommand({ Bucket, Key: 'plain', Body: 'x' }));
  await s3.send(new PutObjectCommand({ Bucket, Key: 'owned', Body: 'x', ACL: 'bucket-owner-full-control' }));
  await s3.send(new PutObjectCommand({ Bucket, Key: 'private', Body: 'x', ACL: 'private' }));
  for (const ACL of ['public-read', 'public-read-write'] as const) {
    await expectS3Error(
      t,
      s3.send(new PutObjectCommand({ Bucket, Key: `refused-${ACL}`, Body: 'x', ACL })),
      'AccessControlListNotSupported',
      400,
    );
    await expectS3Error(
      t,
      s3.send(new HeadObjectCommand({ Bucket, Key: `refused-${ACL}` })),
      'NotFound',
      404,
    );
  }
  await expectS3Error(
    t,
    s3.send(
      new CopyObjectCommand({ Bucket, Key: 'copy', CopySource: `${Bucket}/plain`, ACL: 'public-read' }),
    ),
    'AccessControlListNotSupported',
    400,
  );
  await expectS3Error(t, s3.send(new HeadObjectCommand({ Bucket, Key: 'copy' })), 'NotFound', 404);
  await expectS3Error(
    t,
    s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'big', ACL: 'authenticated-read' })),
    'AccessControlListNotSupported',
    400,
  );
  await expectS3Error(
    t,
    s3.send(new CreateBucketCommand({ Bucket: 'acl-public', ACL: 'public-read' })),
    'InvalidBucketAclWithObjectOwnership',
    400,
  );
  await expectS3Error(t, s3.send(new HeadBucketCommand({ Bucket: 'acl-public' })), 'NotFound', 404);
  await expectS3Error(
    t,
    s3.send(new CreateBucketCommand({ Bucket: 'acl-writer', ObjectOwnership: 'ObjectWriter' })),
    'NotImplemented',
    501,
  );
  const enforced = await s3.send(
    new CreateBucketCommand({ Bucket: 'acl-enforced', ObjectOwnership: 'BucketOwnerEnforced' }),
  );
  t.is(enforced.Location, '/acl-enforced');
});

test('settings held fixed: a PUT asking for what is already true succeeds, any other change is NotImplemented, and the answers read back are unchanged', async (t) => {
  const { s3 } = t.context;
  const Bucket = 'fixed';
  await s3.send(new CreateBucketCommand({ Bucket }));
  await s3.send(
    new PutBucketOwnershipControlsCommand({
      Bucket,
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
    }),
  );
  await expectS3Error(
    t,
    s3.send(
      new PutBucketOwnershipControlsCommand({
        Bucket,
        OwnershipControls: { Rules: [{ ObjectOwnership: 'ObjectWriter' }] },
      }),
    ),
    'NotImplemented',
    501,
  );
  const allBlocked = {
    BlockPublicAcls: true,
    IgnorePublicAcls: true,
    BlockPublicPolicy: true,
    RestrictPublicBuckets: true,
  };
  await s3.send(new PutPublicAccessBlockCommand({ Bucket, PublicAccessBlockConfiguration: allBlocked }));
  await expectS3Error(
    t,
    s3.send(
      new PutPublicAccessBlockCommand({
        Bucket,
        PublicAccessBlockConfiguration: { ...allBlocked, RestrictPublicBuckets: false },
      }),
    ),
    'NotImplemented',
    501,
  );
  await expectS3Error(t, s3.send(new DeletePublicAccessBlockCommand({ Bucket })), 'NotImplemented', 501);
  const aes = { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' as const } };
  await s3.send(
    new PutBucketEncryptionCommand({ Bucket, ServerSideEncryptionConfiguration: { Rules: [aes] } }),
  );
  const kms = {
    ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' as const, KMSMasterKeyID: 'alias/backup' },
  };
  const refusedKms = await expectS3Error(
    t,
    s3.send(new PutBucketEncryptionCommand({ Bucket, ServerSideEncryptionConfiguration: { Rules: [kms] } })),
    'NotImplemented',
    501,
  );
  t.regex(refusedKms.message, /KMS/);
  await expectS3Error(
    t,
    s3.send(
      new PutBucketEncryptionCommand({
        Bucket,
        ServerSideEncryptionConfiguration: { Rules: [{ ...aes, BucketKeyEnabled: true }] },
      }),
    ),
    'NotImplemented',
    501,
  );
  const deleted = await s3.send(new DeleteBucketEncryptionCommand({ Bucket }));
  t.is(deleted.$metadata.httpStatusCode, 204);
  const encryption = await s3.send(new GetBucketEncryptionCommand({ Bucket }));
  t.is(
    encryption.ServerSideEncryptionConfiguration?.Rules?.[0].ApplyServerSideEncryptionByDefault?.SSEAlgorithm,
    'AES256',
  );
  await expectS3Error(
    t,
    s3.send(
      new PutBucketPolicyCommand({
        Bucket,
        Policy: JSON.stringify({ Version: '2012-10-17', Statement: [] }),
      }),
    ),
    'NotImplemented',
    501,
  );
  await expectS3Error(t, s3.send(new DeleteBucketPolicyCommand({ Bucket })), 'NotImplemented', 501);
  await expectS3Error(
    t,
    s3.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket,
        LifecycleConfiguration: {
          Rules: [{ ID: 'expire', Status: 'Enabled', Filter: { Prefix: '' }, Expiration: { Days: 1 } }],
        },
      }),
    ),
    'NotImplemented',
    501,
  );
  await expectS3Error(
    t,
    s3.send(
      new PutBucketWebsiteCommand({
        Bucket,
        WebsiteConfiguration: { IndexDocument: { Suffix: 'index.html' } },
      }),
    ),
    'NotImplemented',
    501,
  );
  const ownership = await s3.send(new GetBucketOwnershipControlsCommand({ Bucket }));
  t.is(ownership.OwnershipControls?.Rules?.[0].ObjectOwnership, 'BucketOwnerEnforced');
  const block = await s3.send(new GetPublicAccessBlockCommand({ Bucket }));
  t.is(block.PublicAccessBlockConfiguration?.RestrictPublicBuckets, true);
  await expectS3Error(
    t,
    s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket })),
    'NoSuchLifecycleConfiguration',
    404,
  );
});

test('bucket tags: put, read back, replaced whole, removed; more than 50 is BadRequest, a duplicate key InvalidTag, and a body without an integrity check InvalidRequest', async (t) => {
  const { s3 } = t.context;
  const Bucket = 'tagged';
  await s3.send(new CreateBucketCommand({ Bucket }));
  const put = await s3.send(
    new PutBucketTaggingCommand({
      Bucket,
      Tagging: {
        TagSet: [
          { Key: 'contract', Value: 'CSI-2024-017' },
          { Key: 'team', Value: 'backup' },
        ],
      },
    }),
  );
  t.is(put.$metadata.httpStatusCode, 204);
  const read = await s3.send(new GetBucketTaggingCommand({ Bucket }));
  t.deepEqual(read.TagSet, [
    { Key: 'contract', Value: 'CSI-2024-017' },
    { Key: 'team', Value: 'backup' },
  ]);
  await s3.send(
    new PutBucketTaggingCommand({ Bucket, Tagging: { TagSet: [{ Key: 'team', Value: 'restore' }] } }),
  );
  t.deepEqual((await s3.send(new GetBucketTaggingCommand({ Bucket }))).TagSet, [
    { Key: 'team', Value: 'restore' },
  ]);
  const fiftyOne = Array.from({ length: 51 }, (_, index) => ({ Key: `k${index}`, Value: 'v' }));
  const tooMany = await expectS3Error(
    t,
    s3.send(new PutBucketTaggingCommand({ Bucket, Tagging: { TagSet: fiftyOne } })),
    'BadRequest',
    400,
  );
  t.is(tooMany.message, 'Bucket tag count cannot be greater than 50');
  await s3.send(new PutBucketTaggingCommand({ Bucket, Tagging: { TagSet: fiftyOne.slice(0, 50) } }));
  t.is((await s3.send(new GetBucketTaggingCommand({ Bucket }))).TagSet?.length, 50);
  await expectS3Error(
    t,
    s3.send(
      new PutBucketTaggingCommand({
        Bucket,
        Tagging: {
          TagSet: [
            { Key: 'a', Value: '1' },
            { Key: 'a', Value: '2' },
          ],
        },
      }),
    ),
    'InvalidTag',
    400,
  );
  const body = '<Tagging><TagSet><Tag><Key>a</Key><Value>1</Value></Tag></TagSet></Tagging>';
  const bare = await raw(t, { method: 'PUT', path: `/${Bucket}`, query: { tagging: '' }, body });
  t.is(bare.status, 400);
  t.regex(
    bare.text,
    /<Code>InvalidRequest<\/Code><Message>Missing required header for this request: Content-MD5<\/Message>/,
  );
  const withDigest = await raw(t, {
    method: 'PUT',
    path: `/${Bucket}`,
    query: { tagging: '' },
    body,
    headers: { 'content-md5': createHash('md5').update(body).digest('base64') },
  });
  t.is(withDigest.status, 204);
  const removed = await s3.send(new DeleteBucketTaggingCommand({ Bucket }));
  t.is(removed.$metadata.httpStatusCode, 204);
  await expectS3Error(t, s3.send(new GetBucketTaggingCommand({ Bucket })), 'NoSuchTagSet', 404);
});

test('roles: a read-only key reads every setting and changes none; a write-only key reads them and may set the owner-only object ACL after an upload, but not bucket settings', async (t) => {
  const { s3, readOnly, writeOnly } = t.context;
  const Bucket = 'roles-settings';
  await s3.send(new CreateBucketCommand({ Bucket }));
  await s3.send(
    new PutBucketTaggingCommand({ Bucket, Tagging: { TagSet: [{ Key: 'team', Value: 'backup' }] } }),
  );
  await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x' }));
  for (const [name, role] of [
    ['read-only', readOnly],
    ['write-only', writeOnly],
  ] as const) {
    t.deepEqual((await role.send(new GetBucketAclCommand({ Bucket }))).Owner, firstOwner, name);
    t.deepEqual(
      (await role.send(new GetBucketTaggingCommand({ Bucket }))).TagSet,
      [{ Key: 'team', Value: 'backup' }],
      name,
    );
    t.is(
      (await role.send(new GetPublicAccessBlockCommand({ Bucket }))).PublicAccessBlockConfiguration
        ?.BlockPublicAcls,
      true,
    );
    t.is((await role.send(new GetObjectAclCommand({ Bucket, Key: 'k' }))).Grants?.length, 1, name);
    await expectS3Error(
      t,
      role.send(new PutBucketTaggingCommand({ Bucket, Tagging: { TagSet: [] } })),
      'AccessDenied',
      403,
    );
    await expectS3Error(t, role.send(new DeleteBucketTaggingCommand({ Bucket })), 'AccessDenied', 403);
    await expectS3Error(
      t,
      role.send(new PutBucketAclCommand({ Bucket, AccessControlPolicy: ownerOnlyPolicy })),
      'AccessDenied',
      403,
    );
    await expectS3Error(t, role.send(new DeleteBucketEncryptionCommand({ Bucket })), 'AccessDenied', 403);
  }
  await expectS3Error(
    t,
    readOnly.send(new PutObjectAclCommand({ Bucket, Key: 'k', ACL: 'bucket-owner-full-control' })),
    'AccessDenied',
    403,
  );
  const set = await writeOnly.send(
    new PutObjectAclCommand({ Bucket, Key: 'k', ACL: 'bucket-owner-full-control' }),
  );
  t.is(set.$metadata.httpStatusCode, 200);
  t.deepEqual((await s3.send(new GetBucketTaggingCommand({ Bucket }))).TagSet, [
    { Key: 'team', Value: 'backup' },
  ]);
});

test("tenancy: another tenant's bucket answers NoSuchBucket to every settings request, so nothing tells it has a policy, tags or objects; its own bucket of that name answers with its own owner", async (t) => {
  const { s3, otherTenant } = t.context;
  const Bucket = 'tenant-settings';
  await s3.send(new CreateBucketCommand({ Bucket }));
  await s3.send(
    new PutBucketTaggingCommand({ Bucket, Tagging: { TagSet: [{ Key: 'secret', Value: 'yes' }] } }),
  );
  await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x' }));
  const reads = [
    otherTenant.send(new GetBucketAclCommand({ Bucket })),
    otherTenant.send(new GetBucketTaggingCommand({ Bucket })),
    otherTenant.send(new GetBucketPolicyCommand({ Bucket })),
    otherTenant.send(new GetBucketPolicyStatusCommand({ Bucket })),
    otherTenant.send(new GetPublicAccessBlockCommand({ Bucket })),
    otherTenant.send(new GetBucketOwnershipControlsCommand({ Bucket })),
    otherTenant.send(new GetBucketLifecycleConfigurationCommand({ Bucket })),
    otherTenant.send(new GetBucketLoggingCommand({ Bucket })),
    otherTenant.send(new GetBucketRequestPaymentCommand({ Bucket })),
    otherTenant.send(new GetObjectAclCommand({ Bucket, Key: 'k' })),
    otherTenant.send(new PutObjectAclCommand({ Bucket, Key: 'k', ACL: 'bucket-owner-full-control' })),
    otherTenant.send(new PutBucketTaggingCommand({ Bucket, Tagging: { TagSet: [] } })),
    otherTenant.send(new DeleteBucketTaggingCommand({ Bucket })),
  ];
  for (const read of reads) await expectS3Error(t, read, 'NoSuchBucket', 404);
  t.deepEqual((await s3.send(new GetBucketTaggingCommand({ Bucket }))).TagSet, [
    { Key: 'secret', Value: 'yes' },
  ]);
  await otherTenant.send(new CreateBucketCommand({ Bucket }));
  const acl = await otherTenant.send(new GetBucketAclCommand({ Bucket }));
  t.deepEqual(acl.Owner, { ID: 'other' });
  t.is(acl.Grants?.[0].Grantee?.ID, 'other');
  await expectS3Error(t, otherTenant.send(new GetBucketTaggingCommand({ Bucket })), 'NoSuchTagSet', 404);
});
