// The pure rules under the bucket settings Coffre holds fixed: which ACLs a bucket owner enforced
// bucket accepts (headers and AccessControlPolicy documents), CreateBucket's object ownership, and the
// parsing of the OwnershipControls, PublicAccessBlockConfiguration and ServerSideEncryptionConfiguration
// bodies, table-driven.
import test from 'ava';
import {
  parseAccessControlPolicy,
  parseOwnershipControls,
  parsePublicAccessBlock,
  parseServerSideEncryptionConfiguration,
} from '../../agent/s3/bucket-settings-xml.ts';
import type { Endpoint } from '../../agent/s3/endpoint.ts';
import { S3Error } from '../../agent/s3/errors.ts';
import {
  checkCreateBucketOwnership,
  checkWriteAclHeaders,
  policyGrantsOwnerOnly,
  type RequestedAcl,
  requestedAclHeaders,
} from '../../agent/s3/operations/acl-rules.ts';
import { xmlDocument } from '../../agent/s3/xml.ts';

const owner = 'acme';

function headers(values: Record<string, string>): (name: string) => string | undefined {
  return (name) => values[name];
}

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    if (error instanceof S3Error) return error.code;
    throw error;
  }
  return undefined;
}

test('ACL headers: nothing, private, bucket-owner-full-control or a full-control grant to the owner alone keep the owner only; anything else does not', (t) => {
  const cases: [Record<string, string>, RequestedAcl][] = [
    [{}, 'none'],
    [{ 'x-amz-acl': 'bucket-owner-full-control' }, 'owner-full-control'],
    [{ 'x-amz-acl': 'private' }, 'owner-full-control'],
    [{ 'x-amz-grant-full-control': 'id="acme"' }, 'owner-full-control'],
    [{ 'x-amz-grant-full-control': 'id=acme, id="acme"' }, 'owner-full-control'],
    [{ 'x-amz-acl': 'public-read' }, 'other'],
    [{ 'x-amz-acl': 'public-read-write' }, 'other'],
    [{ 'x-amz-acl': 'authenticated-read' }, 'other'],
    [{ 'x-amz-acl': 'bucket-owner-read' }, 'other'],
    [{ 'x-amz-acl': 'log-delivery-write' }, 'other'],
    [{ 'x-amz-acl': 'Private' }, 'other'],
    [{ 'x-amz-grant-full-control': 'id="acme", id="globex"' }, 'other'],
    [{ 'x-amz-grant-full-control': 'uri="http://acs.amazonaws.com/groups/global/AllUsers"' }, 'other'],
    [{ 'x-amz-grant-full-control': 'emailAddress="owner@acme.example"' }, 'other'],
    [{ 'x-amz-grant-read': 'id="acme"' }, 'other'],
    [{ 'x-amz-grant-full-control': 'id="acme"', 'x-amz-grant-read': 'id="acme"' }, 'other'],
  ];
  for (const [values, expected] of cases) {
    t.is(requestedAclHeaders(headers(values), owner), expected, JSON.stringify(values));
  }
  t.is(
    codeOf(() =>
      requestedAclHeaders(
        headers({ 'x-amz-acl': 'bucket-owner-full-control', 'x-amz-grant-read': 'id="acme"' }),
        owner,
      ),
    ),
    'InvalidRequest',
  );
});

test('writes carrying an ACL (PutObject, CopyObject, CreateMultipartUpload): AccessControlListNotSupported unless the owner keeps sole full control (private included); other operations ignore the headers', (t) => {
  const object = { bucket: 'acme/backups', key: 'k' };
  const writes: Endpoint[] = [
    { operation: 'PutObject', ...object },
    { operation: 'CopyObject', ...object, copySource: { bucket: 'backups', key: 's' } },
    { operation: 'CreateMultipartUpload', ...object },
  ];
  for (const endpoint of writes) {
    for (const acl of ['public-read', 'public-read-write', 'authenticated-read']) {
      t.is(
        codeOf(() => checkWriteAclHeaders(endpoint, owner, headers({ 'x-amz-acl': acl }))),
        'AccessControlListNotSupported',
        `${endpoint.operation} ${acl}`,
      );
    }
    t.is(
      codeOf(() => checkWriteAclHeaders(endpoint, owner, headers({}))),
      undefined,
    );
    const ownerOnly = headers({ 'x-amz-acl': 'bucket-owner-full-control' });
    t.is(
      codeOf(() => checkWriteAclHeaders(endpoint, owner, ownerOnly)),
      undefined,
    );
  }
  const upload: Endpoint = { operation: 'UploadPart', ...object, uploadId: 'u', partNumber: 1 };
  t.is(
    codeOf(() => checkWriteAclHeaders(upload, owner, headers({ 'x-amz-acl': 'public-read' }))),
    undefined,
  );
});

test('CreateBucket: only BucketOwnerEnforced exists; an ACL granting anyone but the owner is InvalidBucketAclWithObjectOwnership, "private" is accepted', (t) => {
  const cases: [Record<string, string>, string | undefined][] = [
    [{}, undefined],
    [{ 'x-amz-acl': 'private' }, undefined],
    [{ 'x-amz-acl': 'bucket-owner-full-control' }, undefined],
    [{ 'x-amz-object-ownership': 'BucketOwnerEnforced', 'x-amz-acl': 'private' }, undefined],
    [{ 'x-amz-grant-full-control': 'id="acme"' }, undefined],
    [{ 'x-amz-acl': 'public-read' }, 'InvalidBucketAclWithObjectOwnership'],
    [{ 'x-amz-acl': 'log-delivery-write' }, 'InvalidBucketAclWithObjectOwnership'],
    [
      { 'x-amz-grant-read': 'uri="http://acs.amazonaws.com/groups/global/AllUsers"' },
      'InvalidBucketAclWithObjectOwnership',
    ],
    [{ 'x-amz-object-ownership': 'ObjectWriter' }, 'NotImplemented'],
    [{ 'x-amz-object-ownership': 'BucketOwnerPreferred' }, 'NotImplemented'],
    [{ 'x-amz-object-ownership': 'Everyone' }, 'InvalidArgument'],
  ];
  for (const [values, code] of cases) {
    t.is(
      codeOf(() => checkCreateBucketOwnership(headers(values), owner)),
      code,
      JSON.stringify(values),
    );
  }
});

const grantee = (inner: string) =>
  `<Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser">${inner}</Grantee>`;
const ownerGrant = `<Grant>${grantee('<ID>acme</ID>')}<Permission>FULL_CONTROL</Permission></Grant>`;

function policy(grants: string, ownerId = 'acme'): string {
  return `<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Owner><ID>${ownerId}</ID></Owner><AccessControlList>${grants}</AccessControlList></AccessControlPolicy>`;
}

test('AccessControlPolicy documents: only FULL_CONTROL to the owner by canonical ID keeps the owner only', (t) => {
  const publicRead = `<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Group"><URI>http://acs.amazonaws.com/groups/global/AllUsers</URI></Grantee><Permission>READ</Permission></Grant>`;
  const cases: [string, boolean][] = [
    [policy(ownerGrant), true],
    [policy(ownerGrant + ownerGrant), true],
    [policy(ownerGrant + publicRead), false],
    [policy(`<Grant>${grantee('<ID>acme</ID>')}<Permission>READ</Permission></Grant>`), false],
    [policy(`<Grant>${grantee('<ID>globex</ID>')}<Permission>FULL_CONTROL</Permission></Grant>`), false],
    [policy(ownerGrant, 'globex'), false],
    [policy(''), false],
  ];
  for (const [document, expected] of cases) {
    t.is(policyGrantsOwnerOnly(parseAccessControlPolicy(document), owner), expected, document);
  }
  t.deepEqual(parseAccessControlPolicy(policy(ownerGrant)), {
    ownerId: 'acme',
    grants: [
      { grantee: { id: 'acme', uri: undefined, emailAddress: undefined }, permission: 'FULL_CONTROL' },
    ],
  });
});

test('AccessControlPolicy documents that do not follow the schema: MalformedACLError; an empty body: MissingRequestBodyError', (t) => {
  for (const document of [
    '<AccessControlPolicy><AccessControlList><Grant><Permission>READ</Permission></Grant></AccessControlList></AccessControlPolicy>',
    policy(`<Grant>${grantee('<ID>acme</ID>')}<Permission>EVERYTHING</Permission></Grant>`),
    '<AccessControlPolicy><Owner>',
    '<Tagging/>',
  ]) {
    t.is(
      codeOf(() => parseAccessControlPolicy(document)),
      'MalformedACLError',
      document,
    );
  }
  t.is(
    codeOf(() => parseAccessControlPolicy('')),
    'MissingRequestBodyError',
  );
});

test('OwnershipControls: exactly one Rule naming one of the three settings', (t) => {
  const body = (rules: string) => `<OwnershipControls>${rules}</OwnershipControls>`;
  const rule = (value: string) => `<Rule><ObjectOwnership>${value}</ObjectOwnership></Rule>`;
  t.is(parseOwnershipControls(body(rule('BucketOwnerEnforced'))), 'BucketOwnerEnforced');
  t.is(parseOwnershipControls(body(rule('ObjectWriter'))), 'ObjectWriter');
  for (const document of [
    body(''),
    body(rule('Anyone')),
    body(rule('BucketOwnerEnforced') + rule('ObjectWriter')),
  ]) {
    t.is(
      codeOf(() => parseOwnershipControls(document)),
      'MalformedXML',
      document,
    );
  }
});

test('PublicAccessBlockConfiguration: an absent setting is false; TRUE and true alike; anything else MalformedXML', (t) => {
  t.deepEqual(
    parsePublicAccessBlock(
      '<PublicAccessBlockConfiguration><BlockPublicAcls>TRUE</BlockPublicAcls><IgnorePublicAcls>true</IgnorePublicAcls><BlockPublicPolicy>false</BlockPublicPolicy></PublicAccessBlockConfiguration>',
    ),
    { blockPublicAcls: true, ignorePublicAcls: true, blockPublicPolicy: false, restrictPublicBuckets: false },
  );
  t.is(
    codeOf(() =>
      parsePublicAccessBlock(
        '<PublicAccessBlockConfiguration><BlockPublicAcls>yes</BlockPublicAcls></PublicAccessBlockConfiguration>',
      ),
    ),
    'MalformedXML',
  );
});

test('ServerSideEncryptionConfiguration: rules with their algorithm, KMS key and bucket key; an unknown algorithm or no rule is MalformedXML', (t) => {
  const body = (rules: string) =>
    `<ServerSideEncryptionConfiguration>${rules}</ServerSideEncryptionConfiguration>`;
  t.deepEqual(
    parseServerSideEncryptionConfiguration(
      body(
        '<Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault></Rule>',
      ),
    ),
    [{ sseAlgorithm: 'AES256', kmsMasterKeyId: undefined, bucketKeyEnabled: false }],
  );
  t.deepEqual(
    parseServerSideEncryptionConfiguration(
      body(
        '<Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>aws:kms</SSEAlgorithm><KMSMasterKeyID>alias/k</KMSMasterKeyID></ApplyServerSideEncryptionByDefault><BucketKeyEnabled>true</BucketKeyEnabled></Rule>',
      ),
    ),
    [{ sseAlgorithm: 'aws:kms', kmsMasterKeyId: 'alias/k', bucketKeyEnabled: true }],
  );
  for (const document of [
    body(''),
    body(
      '<Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>DES</SSEAlgorithm></ApplyServerSideEncryptionByDefault></Rule>',
    ),
    body('<Rule><BucketKeyEnabled>true</BucketKeyEnabled></Rule>'),
  ]) {
    t.is(
      codeOf(() => parseServerSideEncryptionConfiguration(document)),
      'MalformedXML',
      document,
    );
  }
});

test('response documents: attributes are written escaped on their element (an ACL Grantee), and a document may name its own namespace', (t) => {
  t.is(
    xmlDocument('AccessControlPolicy', [
      [
        'Grantee',
        [['ID', 'a&b']],
        { 'xmlns:xsi': 'http://www.w3.org/2001/XMLSchema-instance', 'xsi:type': 'Canonical"User' },
      ],
    ]),
    '<?xml version="1.0" encoding="UTF-8"?>\n<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Canonical&quot;User"><ID>a&amp;b</ID></Grantee></AccessControlPolicy>',
  );
  t.is(
    xmlDocument('BucketLoggingStatus', [], { namespace: 'http://doc.s3.amazonaws.com/2006-03-01' }),
    '<?xml version="1.0" encoding="UTF-8"?>\n<BucketLoggingStatus xmlns="http://doc.s3.amazonaws.com/2006-03-01"></BucketLoggingStatus>',
  );
});
