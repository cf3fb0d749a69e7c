import test from 'ava';
import { isValidBucketName } from '../../agent/objects/validation.ts';
import {
  type Endpoint,
  type EndpointRequest,
  type Operation,
  parseEndpoint,
} from '../../agent/s3/endpoint.ts';
import { S3Error } from '../../agent/s3/errors.ts';

const options = { baseDomains: ['s3.eu-west-par.coffre.example'] };

function request(method: string, target: string, headers: Record<string, string> = {}): EndpointRequest {
  const question = target.indexOf('?');
  return {
    method,
    rawPath: question === -1 ? target : target.slice(0, question),
    rawQuery: question === -1 ? '' : target.slice(question + 1),
    headers: { host: 's3.eu-west-par.coffre.example', ...headers },
  };
}

function parse(method: string, target: string, headers?: Record<string, string>): Endpoint {
  return parseEndpoint(request(method, target, headers), options);
}

function failure(method: string, target: string, headers?: Record<string, string>): S3Error {
  try {
    parse(method, target, headers);
  } catch (error) {
    if (error instanceof S3Error) return error;
    throw error;
  }
  throw new Error(`${method} ${target} parsed`);
}

// One row per operation: method, path-style target, extra headers, expected operation.
const operations: [string, string, Record<string, string>, Operation][] = [
  ['GET', '/', {}, 'ListBuckets'],
  ['PUT', '/backups', {}, 'CreateBucket'],
  ['HEAD', '/backups', {}, 'HeadBucket'],
  ['DELETE', '/backups/', {}, 'DeleteBucket'],
  ['GET', '/backups?location', {}, 'GetBucketLocation'],
  ['GET', '/backups?versioning', {}, 'GetBucketVersioning'],
  ['PUT', '/backups?versioning', {}, 'PutBucketVersioning'],
  ['GET', '/backups?cors', {}, 'GetBucketCors'],
  ['PUT', '/backups?cors', {}, 'PutBucketCors'],
  ['DELETE', '/backups?cors', {}, 'DeleteBucketCors'],
  ['GET', '/backups?object-lock', {}, 'GetObjectLockConfiguration'],
  ['PUT', '/backups?object-lock', {}, 'PutObjectLockConfiguration'],
  ['GET', '/backups?encryption', {}, 'GetBucketEncryption'],
  ['PUT', '/backups?encryption', {}, 'PutBucketEncryption'],
  ['DELETE', '/backups?encryption', {}, 'DeleteBucketEncryption'],
  ['GET', '/backups?acl', {}, 'GetBucketAcl'],
  ['PUT', '/backups?acl', {}, 'PutBucketAcl'],
  ['GET', '/backups?ownershipControls', {}, 'GetBucketOwnershipControls'],
  ['PUT', '/backups?ownershipControls', {}, 'PutBucketOwnershipControls'],
  ['GET', '/backups?publicAccessBlock', {}, 'GetPublicAccessBlock'],
  ['PUT', '/backups?publicAccessBlock', {}, 'PutPublicAccessBlock'],
  ['GET', '/backups?policy', {}, 'GetBucketPolicy'],
  ['GET', '/backups?policyStatus', {}, 'GetBucketPolicyStatus'],
  ['GET', '/backups?tagging', {}, 'GetBucketTagging'],
  ['PUT', '/backups?tagging', {}, 'PutBucketTagging'],
  ['DELETE', '/backups?tagging', {}, 'DeleteBucketTagging'],
  ['GET', '/backups?lifecycle', {}, 'GetBucketLifecycleConfiguration'],
  ['GET', '/backups?website', {}, 'GetBucketWebsite'],
  ['GET', '/backups?replication', {}, 'GetBucketReplication'],
  ['GET', '/backups?logging', {}, 'GetBucketLogging'],
  ['GET', '/backups?notification', {}, 'GetBucketNotificationConfiguration'],
  ['GET', '/backups?accelerate', {}, 'GetBucketAccelerateConfiguration'],
  ['GET', '/backups?requestPayment', {}, 'GetBucketRequestPayment'],
  ['GET', '/backups?prefix=a&delimiter=%2F', {}, 'ListObjects'],
  ['GET', '/backups?list-type=2&prefix=a', {}, 'ListObjectsV2'],
  ['GET', '/backups?versions', {}, 'ListObjectVersions'],
  ['GET', '/backups?uploads', {}, 'ListMultipartUploads'],
  ['POST', '/backups?delete', {}, 'DeleteObjects'],
  ['PUT', '/backups/a/b.bin', {}, 'PutObject'],
  ['PUT', '/backups/copy', { 'x-amz-copy-source': '/other/src%20key' }, 'CopyObject'],
  ['GET', '/backups/a/b.bin', {}, 'GetObject'],
  ['HEAD', '/backups/a/b.bin?versionId=v1', {}, 'HeadObject'],
  ['DELETE', '/backups/a/b.bin?versionId=null', {}, 'DeleteObject'],
  ['GET', '/backups/k?acl', {}, 'GetObjectAcl'],
  ['PUT', '/backups/k?acl', {}, 'PutObjectAcl'],
  ['GET', '/backups/k?tagging', {}, 'GetObjectTagging'],
  ['PUT', '/backups/k?tagging', {}, 'PutObjectTagging'],
  ['DELETE', '/backups/k?tagging', {}, 'DeleteObjectTagging'],
  ['GET', '/backups/k?retention', {}, 'GetObjectRetention'],
  ['PUT', '/backups/k?retention', {}, 'PutObjectRetention'],
  ['GET', '/backups/k?legal-hold', {}, 'GetObjectLegalHold'],
  ['PUT', '/backups/k?legal-hold', {}, 'PutObjectLegalHold'],
  ['POST', '/backups/k?uploads', {}, 'CreateMultipartUpload'],
  ['PUT', '/backups/k?partNumber=2&uploadId=u1', {}, 'UploadPart'],
  ['PUT', '/backups/k?partNumber=2&uploadId=u1', { 'x-amz-copy-source': 'other/src' }, 'UploadPartCopy'],
  ['POST', '/backups/k?uploadId=u1', {}, 'CompleteMultipartUpload'],
  ['DELETE', '/backups/k?uploadId=u1', {}, 'AbortMultipartUpload'],
  ['GET', '/backups/k?uploadId=u1', {}, 'ListParts'],
];

for (const [method, target, headers, operation] of operations) {
  test(`${method} ${target}: ${operation}`, (t) => {
    t.is(parse(method, target, headers).operation, operation);
  });
}

test('virtual-hosted-style addressing: the bucket comes from the Host header, the key is the whole path', (t) => {
  const host = { host: 'backups.s3.eu-west-par.coffre.example:443' };
  t.deepEqual(parse('GET', '/a/b.bin', host), {
    operation: 'GetObject',
    bucket: 'backups',
    key: 'a/b.bin',
    versionId: undefined,
    partNumber: undefined,
  });
  t.is(parse('GET', '/?list-type=2', host).operation, 'ListObjectsV2');
  t.is(
    parse('GET', '/', { host: 'my.dotted.bucket.s3.eu-west-par.coffre.example' }).operation,
    'ListObjects',
  );
  t.like(parse('GET', '/', { host: 'my.dotted.bucket.s3.eu-west-par.coffre.example' }), {
    bucket: 'my.dotted.bucket',
  });
});

test('path-style on an IP address or localhost: the first path segment is the bucket', (t) => {
  t.like(parse('PUT', '/backups/k', { host: '127.0.0.1:9000' }), {
    operation: 'PutObject',
    bucket: 'backups',
    key: 'k',
  });
  t.like(parse('GET', '/backups', { host: 'localhost' }), { operation: 'ListObjects', bucket: 'backups' });
});

test('keys: any UTF-8, percent-decoded once, never normalised as paths', (t) => {
  const cases: [string, string][] = [
    ['/backups/%C3%A9t%C3%A9/%E6%97%A5%E6%9C%AC', 'été/日本'],
    ['/backups/a/../b/./c//d/', 'a/../b/./c//d/'],
    ['/backups/a+b%2Bc%20d', 'a+b+c d'],
    ['/backups/%2525', '%25'],
    ['/backups/%F0%9F%98%80', '😀'],
    ['/backups//leading', '/leading'],
  ];
  for (const [target, key] of cases) t.like(parse('GET', target), { key }, target);
});

test('key of 1024 bytes: accepted; 1025 bytes: KeyTooLongError', (t) => {
  t.like(parse('PUT', `/backups/${'é'.repeat(512)}`), { operation: 'PutObject' });
  const error = failure('PUT', `/backups/${'a'.repeat(1025)}`);
  t.is(error.code, 'KeyTooLongError');
  t.is(error.status, 400);
});

test('key bytes that are not UTF-8: InvalidURI', (t) => {
  t.is(failure('GET', '/backups/%FF%FE').code, 'InvalidURI');
});

test('bucket names: AWS naming rules', (t) => {
  for (const name of ['abc', 'my-bucket', 'my.bucket.2026', 'a'.repeat(63), '123', 'a-b.c-d', 'a--b'])
    t.true(isValidBucketName(name), name);
  const invalid = [
    'ab',
    'a'.repeat(64),
    'UpperCase',
    'under_score',
    '-start',
    'end-',
    'two..dots',
    '192.168.1.1',
    'xn--punycode',
    'sthree-bucket',
    'bucket-s3alias',
    'bucket--ol-s3',
    'bucket.',
    'abc.-def',
    'abc-.def',
  ];
  for (const name of invalid) t.false(isValidBucketName(name), name);
  const error = failure('PUT', '/Invalid_Bucket');
  t.is(error.code, 'InvalidBucketName');
  t.is(error.elements.BucketName, 'Invalid_Bucket');
});

test('list parameters: read and checked, max-keys capped at 1000', (t) => {
  t.deepEqual(
    parse(
      'GET',
      '/backups?list-type=2&prefix=a%2Fb+c&delimiter=%2F&max-keys=5000&start-after=x&fetch-owner=true&encoding-type=url&continuation-token=tok',
    ),
    {
      operation: 'ListObjectsV2',
      bucket: 'backups',
      prefix: 'a/b c',
      delimiter: '/',
      encodingType: 'url',
      maxKeys: 1000,
      continuationToken: 'tok',
      startAfter: 'x',
      fetchOwner: true,
    },
  );
  t.is(failure('GET', '/backups?max-keys=-1').code, 'InvalidArgument');
  t.is(failure('GET', '/backups?max-keys=ten').code, 'InvalidArgument');
  t.is(failure('GET', '/backups?encoding-type=base64').code, 'InvalidArgument');
  t.is(failure('GET', '/backups?list-type=3').code, 'InvalidArgument');
});

test('part numbers: 1 to 10000; otherwise InvalidArgument', (t) => {
  t.like(parse('PUT', '/backups/k?partNumber=10000&uploadId=u'), { partNumber: 10000 });
  for (const part of ['0', '10001', 'x', '']) {
    t.is(failure('PUT', `/backups/k?partNumber=${part}&uploadId=u`).code, 'InvalidArgument', part);
  }
  t.like(parse('GET', '/backups/k?partNumber=3'), { operation: 'GetObject', partNumber: 3 });
});

test('empty versionId: InvalidArgument', (t) => {
  t.is(failure('GET', '/backups/k?versionId=').code, 'InvalidArgument');
});

test('x-amz-copy-source: bucket, decoded key and version id; malformed: InvalidArgument', (t) => {
  t.like(
    parse('PUT', '/backups/k', {
      'x-amz-copy-source': '/src-bucket/dir/%C3%A9t%C3%A9%3F.bin?versionId=v%2B1',
    }),
    {
      operation: 'CopyObject',
      copySource: { bucket: 'src-bucket', key: 'dir/été?.bin', versionId: 'v+1' },
    },
  );
  for (const source of ['nobucketslash', '/bucket/', '/bucket/key?other=1']) {
    t.is(failure('PUT', '/backups/k', { 'x-amz-copy-source': source }).code, 'InvalidArgument', source);
  }
  t.is(failure('PUT', '/backups/k', { 'x-amz-copy-source': '/Bad_Bucket/key' }).code, 'InvalidBucketName');
});

test('x-amz-copy-source-range on UploadPartCopy: read; malformed: InvalidArgument', (t) => {
  const headers = { 'x-amz-copy-source': 'src/key', 'x-amz-copy-source-range': 'bytes=0-5242879' };
  t.like(parse('PUT', '/backups/k?partNumber=1&uploadId=u', headers), {
    copySourceRange: { first: 0, last: 5242879 },
  });
  const bad = { ...headers, 'x-amz-copy-source-range': 'bytes=10-5' };
  t.is(failure('PUT', '/backups/k?partNumber=1&uploadId=u', bad).code, 'InvalidArgument');
});

test('subresources S3 has and Coffre does not serve (analytics, inventory, restore...), and ?attributes other than GET: NotImplemented (501)', (t) => {
  for (const [method, target] of [
    ['GET', '/backups?analytics&id=a'],
    ['GET', '/backups?inventory&id=i'],
    ['GET', '/backups?metrics&id=m'],
    ['GET', '/backups?intelligent-tiering&id=t'],
    ['POST', '/backups/k?restore'],
    ['HEAD', '/backups/k?attributes'],
    ['PUT', '/backups/k?attributes'],
    ['POST', '/backups'],
  ]) {
    const error = failure(method, target);
    t.is(error.code, 'NotImplemented', `${method} ${target}`);
    t.is(error.status, 501);
  }
});

test('bucket settings Coffre does not have or holds fixed: read (GET) but never changed, whatever the method, and never mistaken for CreateBucket or DeleteBucket', (t) => {
  for (const [method, target] of [
    ['PUT', '/backups?policy'],
    ['DELETE', '/backups?policy'],
    ['PUT', '/backups?lifecycle'],
    ['DELETE', '/backups?lifecycle'],
    ['PUT', '/backups?website'],
    ['DELETE', '/backups?website'],
    ['PUT', '/backups?replication'],
    ['DELETE', '/backups?replication'],
    ['PUT', '/backups?logging'],
    ['PUT', '/backups?notification'],
    ['PUT', '/backups?accelerate'],
    ['PUT', '/backups?requestPayment'],
    ['PUT', '/backups?policyStatus'],
    ['DELETE', '/backups?ownershipControls'],
    ['DELETE', '/backups?publicAccessBlock'],
    ['DELETE', '/backups?acl'],
    ['HEAD', '/backups?acl'],
    ['POST', '/backups?tagging'],
  ]) {
    const error = failure(method, target);
    t.is(error.code, 'NotImplemented', `${method} ${target}`);
    t.is(error.status, 501);
  }
});

test('a subresource named with a method it has no operation for is NotImplemented, never the plain DeleteBucket, CreateBucket, DeleteObject or PutObject', (t) => {
  for (const target of [
    '/backups?versioning',
    '/backups?object-lock',
    '/backups?location',
    '/backups?uploads',
  ]) {
    t.is(failure('DELETE', target).code, 'NotImplemented', `DELETE ${target}`);
  }
  for (const target of ['/backups?location', '/backups?uploads', '/backups?versions', '/backups?delete']) {
    t.is(failure('PUT', target).code, 'NotImplemented', `PUT ${target}`);
  }
  for (const target of ['/backups/k?retention', '/backups/k?legal-hold', '/backups/k?uploads']) {
    t.is(failure('DELETE', target).code, 'NotImplemented', `DELETE ${target}`);
  }
  t.is(failure('PUT', '/backups/k?uploads').code, 'NotImplemented');
  // The plain operations are still there.
  t.like(parse('DELETE', '/backups'), { operation: 'DeleteBucket' });
  t.like(parse('PUT', '/backups'), { operation: 'CreateBucket' });
  t.like(parse('DELETE', '/backups?cors'), { operation: 'DeleteBucketCors' });
  t.like(parse('DELETE', '/backups/k?versionId=v1'), { operation: 'DeleteObject', versionId: 'v1' });
  t.like(parse('PUT', '/backups/k?legal-hold'), { operation: 'PutObjectLegalHold' });
});

test("an object's ACL is read and written only: DELETE, HEAD or POST with ?acl is NotImplemented, never a DeleteObject or HeadObject", (t) => {
  for (const method of ['DELETE', 'HEAD', 'POST']) {
    t.is(failure(method, '/backups/k?acl').code, 'NotImplemented', method);
  }
  t.deepEqual(parse('GET', '/backups/a/b.bin?acl&versionId=v1'), {
    operation: 'GetObjectAcl',
    bucket: 'backups',
    key: 'a/b.bin',
    versionId: 'v1',
  });
  t.like(parse('PUT', '/backups/k?acl', { 'x-amz-copy-source': '/other/src' }), {
    operation: 'PutObjectAcl',
  });
  t.deepEqual(parse('GET', '/backups?publicAccessBlock'), {
    operation: 'GetPublicAccessBlock',
    bucket: 'backups',
  });
});

test('methods a resource does not have: MethodNotAllowed (405) with Allow', (t) => {
  const error = failure('PATCH', '/backups/k');
  t.is(error.code, 'MethodNotAllowed');
  t.is(error.status, 405);
  t.is(error.elements.ResourceType, 'OBJECT');
  t.truthy(error.headers.allow);
  t.is(failure('POST', '/backups/k').code, 'MethodNotAllowed');
  t.is(failure('PUT', '/').code, 'MethodNotAllowed');
  t.is(failure('PATCH', '/backups').code, 'MethodNotAllowed');
});

test('OPTIONS (CORS preflight) on a bucket or an object: Options', (t) => {
  t.deepEqual(parse('OPTIONS', '/backups/k'), { operation: 'Options', bucket: 'backups', key: 'k' });
});

test('part upload with only one of partNumber and uploadId: InvalidRequest', (t) => {
  t.is(failure('PUT', '/backups/k?partNumber=1').code, 'InvalidRequest');
});
