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

test('subresources S3 has and Coffre does not serve (acl, policy, lifecycle, website...): NotImplemented (501)', (t) => {
  for (const target of [
    '/backups?acl',
    '/backups?policy',
    '/backups?lifecycle',
    '/backups?website',
    '/backups?tagging',
    '/backups/k?acl',
    '/backups/k?restore',
    '/backups/k?attributes',
  ]) {
    const error = failure(target.includes('restore') ? 'POST' : 'GET', target);
    t.is(error.code, 'NotImplemented', target);
    t.is(error.status, 501);
  }
  t.is(failure('POST', '/backups').code, 'NotImplemented');
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
