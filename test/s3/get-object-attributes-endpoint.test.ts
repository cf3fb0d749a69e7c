// GET ?attributes parsed into GetObjectAttributes: the x-amz-object-attributes header (required,
// comma-separated, only S3's five names), x-amz-max-parts and x-amz-part-number-marker, versionId.
import test from 'ava';
import { type Endpoint, parseEndpoint, parseObjectAttributes } from '../../agent/s3/endpoint.ts';
import { S3Error } from '../../agent/s3/errors.ts';

const options = { baseDomains: [] };

function parse(target: string, headers: Record<string, string>): Endpoint {
  const question = target.indexOf('?');
  return parseEndpoint(
    {
      method: 'GET',
      rawPath: target.slice(0, question),
      rawQuery: target.slice(question + 1),
      headers: { host: 'localhost', ...headers },
    },
    options,
  );
}

test('x-amz-object-attributes: the names listed, spaces and empty entries ignored, each once', (t) => {
  t.deepEqual(parseObjectAttributes('ETag'), ['ETag']);
  t.deepEqual(parseObjectAttributes('ETag, Checksum,ObjectParts ,StorageClass,ObjectSize'), [
    'ETag',
    'Checksum',
    'ObjectParts',
    'StorageClass',
    'ObjectSize',
  ]);
  t.deepEqual(parseObjectAttributes(',ObjectSize,,ObjectSize'), ['ObjectSize']);
});

test('x-amz-object-attributes missing or empty: InvalidRequest (400) in S3 words', (t) => {
  for (const value of [undefined, '', ' , ']) {
    const error = t.throws(() => parseObjectAttributes(value), { instanceOf: S3Error });
    t.is(error?.code, 'InvalidRequest');
    t.is(error?.status, 400);
    t.is(
      error?.message,
      'The x-amz-object-attributes header specifying the attributes to be retrieved is either missing or empty',
    );
  }
});

test('x-amz-object-attributes naming anything else (case counts): InvalidArgument "Invalid attribute name specified."', (t) => {
  for (const value of ['Size', 'etag', 'ETag,Owner']) {
    const error = t.throws(() => parseObjectAttributes(value), { instanceOf: S3Error });
    t.is(error?.code, 'InvalidArgument', value);
    t.is(error?.status, 400);
    t.is(error?.message, 'Invalid attribute name specified.');
  }
});

test('GET /bucket/key?attributes is GetObjectAttributes with versionId, max parts (1000 by default) and marker', (t) => {
  t.deepEqual(parse('/backups/a/b?attributes', { 'x-amz-object-attributes': 'ETag' }), {
    operation: 'GetObjectAttributes',
    bucket: 'backups',
    key: 'a/b',
    versionId: undefined,
    attributes: ['ETag'],
    maxParts: 1000,
    partNumberMarker: undefined,
  });
  t.like(
    parse('/backups/k?attributes&versionId=v1', {
      'x-amz-object-attributes': 'ObjectParts',
      'x-amz-max-parts': '2',
      'x-amz-part-number-marker': '3',
    }),
    { operation: 'GetObjectAttributes', versionId: 'v1', maxParts: 2, partNumberMarker: 3 },
  );
  const error = t.throws(
    () =>
      parse('/backups/k?attributes', { 'x-amz-object-attributes': 'ObjectParts', 'x-amz-max-parts': 'x' }),
    { instanceOf: S3Error },
  );
  t.is(error?.code, 'InvalidArgument');
  const missing = t.throws(() => parse('/backups/k?attributes', {}), { instanceOf: S3Error });
  t.is(missing?.code, 'InvalidRequest');
});
