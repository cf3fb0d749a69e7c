import test from 'ava';
import { isS3ErrorCode, S3Error, s3ErrorTable, toS3Error } from '../../agent/s3/errors.ts';

test('error table: every code has an HTTP status of an error (304 for NotModified) and a message', (t) => {
  for (const [code, { status, message }] of Object.entries(s3ErrorTable)) {
    t.true(status === 304 || (status >= 400 && status < 600), code);
    t.true(message.length > 0, code);
  }
});

test('error table: the statuses S3 clients rely on', (t) => {
  const expected: Record<string, number> = {
    AccessDenied: 403,
    BadDigest: 400,
    BucketAlreadyExists: 409,
    BucketAlreadyOwnedByYou: 409,
    BucketNotEmpty: 409,
    EntityTooLarge: 400,
    IncompleteBody: 400,
    InternalError: 500,
    InvalidAccessKeyId: 403,
    InvalidBucketState: 409,
    InvalidObjectState: 403,
    InvalidRange: 416,
    MethodNotAllowed: 405,
    MissingContentLength: 411,
    NoSuchBucket: 404,
    NoSuchKey: 404,
    NoSuchUpload: 404,
    NoSuchVersion: 404,
    NotImplemented: 501,
    NotModified: 304,
    PreconditionFailed: 412,
    QuotaExceeded: 403,
    RequestTimeTooSkewed: 403,
    RequestTimeout: 400,
    ServiceUnavailable: 503,
    SignatureDoesNotMatch: 403,
    SlowDown: 503,
    XAmzContentSHA256Mismatch: 400,
  };
  for (const [code, status] of Object.entries(expected)) {
    t.true(isS3ErrorCode(code), code);
    t.is(new S3Error(code as keyof typeof s3ErrorTable).status, status, code);
  }
});

test('unknown thrown values: InternalError, the cause kept for the log, nothing leaked in the XML', (t) => {
  const secret = new Error('ENOENT: /var/lib/coffre/drive3/secret-path');
  const error = toS3Error(secret);
  t.is(error.code, 'InternalError');
  t.is(error.status, 500);
  t.is(error.cause, secret);
  t.false(error.toXml().includes('secret-path'));
  t.is(toS3Error('a string').code, 'InternalError');
  t.is(toS3Error(Object.assign(new Error('disk'), { code: 'ENOSPC' })).code, 'InternalError');
});

test('a lower-layer error whose code is an S3 code: that code, its facts as elements and headers', (t) => {
  const lower = Object.assign(new Error('The specified key does not exist.'), {
    code: 'NoSuchKey',
    details: { bucket: 'b', key: 'k', versionId: 'v1', isDeleteMarker: true },
  });
  const error = toS3Error(lower);
  t.is(error.code, 'NoSuchKey');
  t.is(error.status, 404);
  t.deepEqual(error.elements, { BucketName: 'b', Key: 'k', VersionId: 'v1' });
  t.deepEqual(error.headers, { 'x-amz-delete-marker': 'true', 'x-amz-version-id': 'v1' });
  const range = toS3Error(
    Object.assign(new Error('bad range'), { code: 'InvalidRange', details: { objectSizeBytes: 10 } }),
  );
  t.is(range.headers['content-range'], 'bytes */10');
  t.is(range.elements.ActualObjectSize, '10');
});

test('an S3Error passes through toS3Error unchanged', (t) => {
  const error = new S3Error('SlowDown');
  t.is(toS3Error(error), error);
});

test('XML of errors: control characters escaped as references, never raw', (t) => {
  const xml = new S3Error('NoSuchKey', { elements: { Key: 'a\u0001b\rc' } }).toXml();
  t.true(xml.includes('<Key>a&#1;b&#13;c</Key>'));
});
