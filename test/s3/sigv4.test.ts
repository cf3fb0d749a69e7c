import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import test from 'ava';
import { S3Error } from '../../agent/s3/errors.ts';
import { PayloadSha256Verifier, type SigV4Request, SigV4Verifier } from '../../agent/s3/sigv4.ts';
import { canonicalQueryString, canonicalUri, sha256Hex } from '../../agent/s3/sigv4-canonical.ts';

// The credentials and time of AWS's documented SigV4 examples for S3.
const accessKeyId = 'AKIAIOSFODNN7EXAMPLE';
const secretAccessKey = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const exampleTimeMs = Date.UTC(2013, 4, 24, 0, 0, 0);

function verifier(nowMs = exampleTimeMs, regions: readonly string[] = ['us-east-1']) {
  return new SigV4Verifier({
    regions,
    nowMs: () => nowMs,
    lookupSecret: async (id) => (id === accessKeyId ? secretAccessKey : null),
  });
}

async function rejection(promise: Promise<unknown>): Promise<S3Error> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof S3Error) return error;
    throw error;
  }
  throw new Error('expected an S3Error');
}

const emptySha256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

function authorization(signedHeaders: string, signature: string): string {
  return `AWS4-HMAC-SHA256 Credential=${accessKeyId}/20130524/us-east-1/s3/aws4_request,SignedHeaders=${signedHeaders},Signature=${signature}`;
}

// https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html "Examples"
const documentedExamples: { title: string; request: SigV4Request }[] = [
  {
    title: 'GET Object with Range',
    request: {
      method: 'GET',
      rawPath: '/test.txt',
      rawQuery: '',
      headers: {
        host: 'examplebucket.s3.amazonaws.com',
        range: 'bytes=0-9',
        'x-amz-content-sha256': emptySha256,
        'x-amz-date': '20130524T000000Z',
        authorization: authorization(
          'host;range;x-amz-content-sha256;x-amz-date',
          'f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
        ),
      },
    },
  },
  {
    title: 'PUT Object test$file.text with Date and storage class',
    request: {
      method: 'PUT',
      rawPath: '/test%24file.text',
      rawQuery: '',
      headers: {
        host: 'examplebucket.s3.amazonaws.com',
        date: 'Fri, 24 May 2013 00:00:00 GMT',
        'x-amz-date': '20130524T000000Z',
        'x-amz-storage-class': 'REDUCED_REDUNDANCY',
        'x-amz-content-sha256': '44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072',
        authorization: authorization(
          'date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class',
          '98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd',
        ),
      },
    },
  },
  {
    title: 'GET Bucket lifecycle (?lifecycle)',
    request: {
      method: 'GET',
      rawPath: '/',
      rawQuery: 'lifecycle',
      headers: {
        host: 'examplebucket.s3.amazonaws.com',
        'x-amz-content-sha256': emptySha256,
        'x-amz-date': '20130524T000000Z',
        authorization: authorization(
          'host;x-amz-content-sha256;x-amz-date',
          'fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543',
        ),
      },
    },
  },
  {
    title: 'GET Bucket (List Objects) ?max-keys=2&prefix=J',
    request: {
      method: 'GET',
      rawPath: '/',
      rawQuery: 'max-keys=2&prefix=J',
      headers: {
        host: 'examplebucket.s3.amazonaws.com',
        'x-amz-content-sha256': emptySha256,
        'x-amz-date': '20130524T000000Z',
        authorization: authorization(
          'host;x-amz-content-sha256;x-amz-date',
          '34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7',
        ),
      },
    },
  },
  {
    title: 'presigned GET /test.txt valid 86400 s',
    request: {
      method: 'GET',
      rawPath: '/test.txt',
      rawQuery:
        'X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404',
      headers: { host: 'examplebucket.s3.amazonaws.com' },
    },
  },
  {
    title: 'chunked PUT seed signature (STREAMING-AWS4-HMAC-SHA256-PAYLOAD)',
    request: {
      method: 'PUT',
      rawPath: '/examplebucket/chunkObject.txt',
      rawQuery: '',
      headers: {
        host: 's3.amazonaws.com',
        'content-encoding': 'aws-chunked',
        'content-length': '66824',
        'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
        'x-amz-date': '20130524T000000Z',
        'x-amz-decoded-content-length': '66560',
        'x-amz-storage-class': 'REDUCED_REDUNDANCY',
        authorization: authorization(
          'content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class',
          '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9',
        ),
      },
    },
  },
];

for (const { title, request } of documentedExamples) {
  test(`AWS documented example "${title}": accepted`, async (t) => {
    const identity = await verifier().verify(request);
    t.is(identity.accessKeyId, accessKeyId);
    t.is(identity.region, 'us-east-1');
  });

  test(`AWS documented example "${title}" with one signed byte changed: SignatureDoesNotMatch with the canonical request`, async (t) => {
    const tampered = { ...request, rawPath: `${request.rawPath}x` };
    const error = await rejection(verifier().verify(tampered));
    t.is(error.code, 'SignatureDoesNotMatch');
    t.is(error.status, 403);
    t.true(error.elements.CanonicalRequest.includes(canonicalUri(tampered.rawPath)));
    t.true(
      error.elements.StringToSign.startsWith(
        'AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n',
      ),
    );
    t.true(error.toXml().includes('<StringToSign>'));
  });
}

test('chunked PUT example: the seed signature is handed on for chunk verification', async (t) => {
  const identity = await verifier().verify(documentedExamples[5].request);
  t.deepEqual(identity.payload, { kind: 'streaming-signed', trailer: false });
  t.is(
    identity.chunkSigning?.seedSignature,
    '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9',
  );
  t.is(identity.chunkSigning?.scope, '20130524/us-east-1/s3/aws4_request');
});

test('canonical URI: S3 paths are encoded once, whichever characters the client escaped', (t) => {
  t.is(canonicalUri('/test$file.text'), '/test%24file.text');
  t.is(canonicalUri('/test%24file.text'), '/test%24file.text');
  t.is(canonicalUri('/a%20b/%E2%82%AC/c+d'), '/a%20b/%E2%82%AC/c%2Bd');
  t.is(canonicalUri('/a//b/../c/./d'), '/a//b/../c/./d');
  t.is(canonicalUri('/%2525'), '/%2525');
});

test('canonical query: sorted by name then value, values encoded, bare names get "="', (t) => {
  t.is(canonicalQueryString('prefix=J&max-keys=2'), 'max-keys=2&prefix=J');
  t.is(canonicalQueryString('uploads'), 'uploads=');
  t.is(canonicalQueryString('b=2&a=z&a=y'), 'a=y&a=z&b=2');
  t.is(canonicalQueryString('prefix=a%2Fb c'), 'prefix=a%2Fb%20c');
  // Go clients (minio-go, rclone) send a space in a query value as '+', and sign it as %20.
  t.is(canonicalQueryString('prefix=a+b%2Bc'), 'prefix=a%20b%2Bc');
  t.is(canonicalQueryString('X-Amz-Signature=abc&x=1', 'X-Amz-Signature'), 'x=1');
});

// Requests signed by the real AWS SDK signer (the one every JS v3 client uses).
const sdkSigner = new SignatureV4({
  credentials: { accessKeyId, secretAccessKey },
  region: 'eu-west-par',
  service: 's3',
  sha256: Sha256,
  uriEscapePath: false,
});

// The S3 client encodes keys like this (encodeURIComponent plus !'()*), and signs the path as it is.
function encodeKey(key: string): string {
  return key
    .split('/')
    .map((segment) =>
      encodeURIComponent(segment).replace(
        /[!'()*]/g,
        (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
      ),
    )
    .join('/');
}

interface SignedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  query?: Record<string, string | (string | null)[] | null>;
}

function toVerifierRequest(signed: SignedRequest): SigV4Request {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(signed.headers)) headers[name.toLowerCase()] = value;
  const rawQuery = Object.entries(signed.query ?? {})
    .flatMap(([name, value]) =>
      (Array.isArray(value) ? value : [value]).map((one) =>
        one === null ? encodeURIComponent(name) : `${encodeURIComponent(name)}=${encodeURIComponent(one)}`,
      ),
    )
    .join('&');
  return { method: signed.method, rawPath: signed.path, rawQuery, headers };
}

const sdkTime = new Date('2026-11-29T10:00:00Z');
const parisVerifier = () => verifier(sdkTime.getTime() + 60_000, ['eu-west-par']);

function objectRequest(key: string, extra: Partial<ConstructorParameters<typeof HttpRequest>[0]> = {}) {
  return new HttpRequest({
    method: 'PUT',
    protocol: 'https:',
    hostname: 's3.eu-west-par.coffre.example',
    path: `/backups/${encodeKey(key)}`,
    headers: {
      host: 's3.eu-west-par.coffre.example',
      'x-amz-content-sha256': sha256Hex('hello'),
      'content-type': 'application/octet-stream',
      'x-amz-meta-note': '  spaced   out  ',
    },
    ...extra,
  });
}

const awkwardKeys = [
  'simple.txt',
  'dir/sub dir/file name with spaces.bin',
  "special !$&'()*+,;=:@ chars",
  'unicode/été/日本語/😀',
  'percent%20literal and %2F',
  'dots/../and/./slashes//end/',
  'tilde~under_score-dash.dot',
];

for (const key of awkwardKeys) {
  test(`SDK header-signed PUT of key ${JSON.stringify(key)}: accepted with its payload sha256`, async (t) => {
    const signed = (await sdkSigner.sign(objectRequest(key), { signingDate: sdkTime })) as HttpRequest;
    const identity = await parisVerifier().verify(toVerifierRequest(signed));
    t.deepEqual(identity.payload, { kind: 'sha256', sha256Hex: sha256Hex('hello') });
    t.is(identity.authentication, 'header');
  });
}

test('SDK header-signed request with a signed query (uploadId, partNumber): accepted', async (t) => {
  const request = objectRequest('big.bin', { query: { partNumber: '3', uploadId: 'abc/def+ghi=' } });
  const signed = (await sdkSigner.sign(request, { signingDate: sdkTime })) as HttpRequest;
  const identity = await parisVerifier().verify(toVerifierRequest(signed));
  t.is(identity.accessKeyId, accessKeyId);
});

test('SDK header-signed request, query value changed: SignatureDoesNotMatch', async (t) => {
  const request = objectRequest('big.bin', { query: { partNumber: '3', uploadId: 'abc' } });
  const signed = toVerifierRequest((await sdkSigner.sign(request, { signingDate: sdkTime })) as HttpRequest);
  const error = await rejection(
    parisVerifier().verify({ ...signed, rawQuery: signed.rawQuery.replace('3', '4') }),
  );
  t.is(error.code, 'SignatureDoesNotMatch');
});

test('SDK header-signed request, signed header changed: SignatureDoesNotMatch', async (t) => {
  const signed = toVerifierRequest(
    (await sdkSigner.sign(objectRequest('a'), { signingDate: sdkTime })) as HttpRequest,
  );
  const error = await rejection(
    parisVerifier().verify({ ...signed, headers: { ...signed.headers, 'content-type': 'text/plain' } }),
  );
  t.is(error.code, 'SignatureDoesNotMatch');
});

test('SDK header-signed request, method changed: SignatureDoesNotMatch', async (t) => {
  const signed = toVerifierRequest(
    (await sdkSigner.sign(objectRequest('a'), { signingDate: sdkTime })) as HttpRequest,
  );
  t.is(
    (await rejection(parisVerifier().verify({ ...signed, method: 'DELETE' }))).code,
    'SignatureDoesNotMatch',
  );
});

test('header-signed request with an unsigned x-amz-* header added: AccessDenied naming it', async (t) => {
  const signed = toVerifierRequest(
    (await sdkSigner.sign(objectRequest('a'), { signingDate: sdkTime })) as HttpRequest,
  );
  const error = await rejection(
    parisVerifier().verify({
      ...signed,
      headers: { ...signed.headers, 'x-amz-object-lock-mode': 'GOVERNANCE' },
    }),
  );
  t.is(error.code, 'AccessDenied');
  t.is(error.elements.HeadersNotSigned, 'x-amz-object-lock-mode');
});

test('header-signed request with x-amz-content-sha256 left unsigned: accepted, as S3 tolerates it', async (t) => {
  const signed = toVerifierRequest(
    (await sdkSigner.sign(objectRequest('a'), {
      signingDate: sdkTime,
      unsignableHeaders: new Set(['x-amz-content-sha256']),
    })) as HttpRequest,
  );
  t.false(String(signed.headers.authorization).includes('x-amz-content-sha256'));
  await t.notThrowsAsync(parisVerifier().verify(signed));
});

test('presigned PUT with an unsigned x-amz-acl or x-amz-copy-source added: AccessDenied naming it', async (t) => {
  const request = await presign('a', 3600);
  for (const header of ['x-amz-acl', 'x-amz-copy-source']) {
    const error = await rejection(
      parisVerifier().verify({ ...request, headers: { ...request.headers, [header]: 'x' } }),
    );
    t.is(error.code, 'AccessDenied');
    t.is(error.elements.HeadersNotSigned, header);
  }
});

test('unknown access key: InvalidAccessKeyId (403) naming the key', async (t) => {
  const signer = new SignatureV4({
    credentials: { accessKeyId: 'AKIDUNKNOWN', secretAccessKey },
    region: 'eu-west-par',
    service: 's3',
    sha256: Sha256,
    uriEscapePath: false,
  });
  const signed = toVerifierRequest(
    (await signer.sign(objectRequest('a'), { signingDate: sdkTime })) as HttpRequest,
  );
  const error = await rejection(parisVerifier().verify(signed));
  t.is(error.code, 'InvalidAccessKeyId');
  t.is(error.status, 403);
  t.is(error.elements.AWSAccessKeyId, 'AKIDUNKNOWN');
});

test('wrong secret: SignatureDoesNotMatch', async (t) => {
  const signer = new SignatureV4({
    credentials: { accessKeyId, secretAccessKey: 'not-the-secret' },
    region: 'eu-west-par',
    service: 's3',
    sha256: Sha256,
    uriEscapePath: false,
  });
  const signed = toVerifierRequest(
    (await signer.sign(objectRequest('a'), { signingDate: sdkTime })) as HttpRequest,
  );
  t.is((await rejection(parisVerifier().verify(signed))).code, 'SignatureDoesNotMatch');
});

test('request signed for another region: AuthorizationHeaderMalformed naming the expected region', async (t) => {
  const signer = new SignatureV4({
    credentials: { accessKeyId, secretAccessKey },
    region: 'us-east-1',
    service: 's3',
    sha256: Sha256,
    uriEscapePath: false,
  });
  const signed = toVerifierRequest(
    (await signer.sign(objectRequest('a'), { signingDate: sdkTime })) as HttpRequest,
  );
  const error = await rejection(parisVerifier().verify(signed));
  t.is(error.code, 'AuthorizationHeaderMalformed');
  t.is(
    error.message,
    "The authorization header is malformed; the region 'us-east-1' is wrong; expecting 'eu-west-par'",
  );
  t.is(error.elements.Region, 'eu-west-par');
});

test('request signed for another service: AuthorizationHeaderMalformed', async (t) => {
  const signer = new SignatureV4({
    credentials: { accessKeyId, secretAccessKey },
    region: 'eu-west-par',
    service: 'iam',
    sha256: Sha256,
    uriEscapePath: false,
  });
  const signed = toVerifierRequest(
    (await signer.sign(objectRequest('a'), { signingDate: sdkTime })) as HttpRequest,
  );
  const error = await rejection(parisVerifier().verify(signed));
  t.is(error.code, 'AuthorizationHeaderMalformed');
  t.regex(error.message, /incorrect service "iam"/);
});

test('credential date other than the x-amz-date day: AuthorizationHeaderMalformed', async (t) => {
  const request = documentedExamples[0].request;
  const headers = { ...request.headers, 'x-amz-date': '20130525T000000Z' };
  const error = await rejection(verifier(Date.UTC(2013, 4, 25)).verify({ ...request, headers }));
  t.is(error.code, 'AuthorizationHeaderMalformed');
  t.regex(
    error.message,
    /Invalid credential date "20130524". This date is not the same as X-Amz-Date: "20130525"/,
  );
});

test('clock 16 minutes away from the request time: RequestTimeTooSkewed (403); 14 minutes: accepted', async (t) => {
  const request = documentedExamples[0].request;
  for (const offsetMs of [16 * 60_000, -16 * 60_000]) {
    const error = await rejection(verifier(exampleTimeMs + offsetMs).verify(request));
    t.is(error.code, 'RequestTimeTooSkewed');
    t.is(error.status, 403);
    t.is(error.elements.MaxAllowedSkewMilliseconds, '900000');
    t.is(error.elements.RequestTime, '20130524T000000Z');
  }
  await t.notThrowsAsync(verifier(exampleTimeMs + 14 * 60_000).verify(request));
});

test('no x-amz-date nor Date: AccessDenied asking for a date', async (t) => {
  const { 'x-amz-date': _removed, ...headers } = documentedExamples[0].request.headers;
  const error = await rejection(verifier().verify({ ...documentedExamples[0].request, headers }));
  t.is(error.code, 'AccessDenied');
  t.regex(error.message, /requires a valid Date or x-amz-date header/);
});

test('header-signed request without x-amz-content-sha256: InvalidRequest', async (t) => {
  const request = objectRequest('a');
  delete request.headers['x-amz-content-sha256'];
  const signer = new SignatureV4({
    credentials: { accessKeyId, secretAccessKey },
    region: 'eu-west-par',
    service: 's3',
    sha256: Sha256,
    uriEscapePath: false,
    applyChecksum: false,
  });
  const signed = toVerifierRequest((await signer.sign(request, { signingDate: sdkTime })) as HttpRequest);
  const error = await rejection(parisVerifier().verify(signed));
  t.is(error.code, 'InvalidRequest');
  t.is(error.message, 'Missing required header for this request: x-amz-content-sha256');
});

test('x-amz-content-sha256 neither a sha256 nor a known keyword: InvalidArgument', async (t) => {
  const request = objectRequest('a');
  request.headers['x-amz-content-sha256'] = 'STREAMING-SOMETHING';
  const signed = toVerifierRequest((await sdkSigner.sign(request, { signingDate: sdkTime })) as HttpRequest);
  const error = await rejection(parisVerifier().verify(signed));
  t.is(error.code, 'InvalidArgument');
  t.is(error.elements.ArgumentName, 'x-amz-content-sha256');
});

for (const [value, payload] of [
  ['UNSIGNED-PAYLOAD', { kind: 'unsigned' }],
  ['STREAMING-UNSIGNED-PAYLOAD-TRAILER', { kind: 'streaming-unsigned-trailer' }],
  ['STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER', { kind: 'streaming-signed', trailer: true }],
] as const) {
  test(`x-amz-content-sha256 ${value}: accepted, the body is ${payload.kind}`, async (t) => {
    const request = objectRequest('a');
    request.headers['x-amz-content-sha256'] = value;
    const signed = toVerifierRequest(
      (await sdkSigner.sign(request, { signingDate: sdkTime })) as HttpRequest,
    );
    const identity = await parisVerifier().verify(signed);
    t.deepEqual(identity.payload, payload);
    t.is(identity.chunkSigning !== undefined, payload.kind === 'streaming-signed');
  });
}

test('x-amz-content-sha256 in upper-case hex: accepted, the body checked against it', async (t) => {
  const request = objectRequest('a');
  request.headers['x-amz-content-sha256'] = sha256Hex('hello').toUpperCase();
  const signed = toVerifierRequest((await sdkSigner.sign(request, { signingDate: sdkTime })) as HttpRequest);
  const identity = await parisVerifier().verify(signed);
  t.deepEqual(identity.payload, { kind: 'sha256', sha256Hex: sha256Hex('hello') });
});

test('body matching the signed sha256: accepted; another body: XAmzContentSHA256Mismatch with both values', (t) => {
  const good = new PayloadSha256Verifier(sha256Hex('hello'));
  good.update(Buffer.from('hel'));
  good.update(Buffer.from('lo'));
  t.notThrows(() => good.verify());
  const bad = new PayloadSha256Verifier(sha256Hex('hello'));
  bad.update(Buffer.from('hellO'));
  const error = t.throws(() => bad.verify(), { instanceOf: S3Error });
  t.is(error.code, 'XAmzContentSHA256Mismatch');
  t.is(error.elements.ClientComputedContentSHA256, sha256Hex('hello'));
  t.is(error.elements.S3ComputedContentSHA256, sha256Hex('hellO'));
});

async function presign(key: string, expiresIn: number, signer = sdkSigner) {
  const request = new HttpRequest({
    method: 'GET',
    protocol: 'https:',
    hostname: 's3.eu-west-par.coffre.example',
    path: `/backups/${encodeKey(key)}`,
    // As @aws-sdk/s3-request-presigner does: the signer hoists it into the query.
    headers: { host: 's3.eu-west-par.coffre.example', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
    query: { 'response-content-disposition': 'attachment; filename="a b.txt"' },
  });
  return toVerifierRequest(await signer.presign(request, { signingDate: sdkTime, expiresIn }));
}

test('SDK presigned GET, valid for an hour, used after a minute: accepted as presigned, unsigned payload', async (t) => {
  for (const key of awkwardKeys) {
    const identity = await parisVerifier().verify(await presign(key, 3600));
    t.is(identity.authentication, 'presigned');
    t.deepEqual(identity.payload, { kind: 'unsigned' });
  }
});

test('SDK presigned GET used after its expiry: AccessDenied "Request has expired"', async (t) => {
  const request = await presign('a', 30);
  const error = await rejection(verifier(sdkTime.getTime() + 31_000, ['eu-west-par']).verify(request));
  t.is(error.code, 'AccessDenied');
  t.is(error.message, 'Request has expired');
  t.is(error.elements['X-Amz-Expires'], '30');
});

test('SDK presigned GET used an hour before its X-Amz-Date: AccessDenied "Request is not yet valid"', async (t) => {
  const request = await presign('a', 3600);
  const error = await rejection(verifier(sdkTime.getTime() - 3600_000, ['eu-west-par']).verify(request));
  t.is(error.code, 'AccessDenied');
  t.is(error.message, 'Request is not yet valid');
  t.is(error.elements.Expires, '2026-11-29T11:00:00Z');
  t.is(error.elements.ServerTime, '2026-11-29T09:00:00Z');
});

test('SDK presigned URL valid for a week: accepted six days later', async (t) => {
  const request = await presign('a', 604800);
  await t.notThrowsAsync(verifier(sdkTime.getTime() + 6 * 86400_000, ['eu-west-par']).verify(request));
});

test('presigned URL asking for more than a week: AuthorizationQueryParametersError', async (t) => {
  const request = await presign('a', 3600);
  const rawQuery = request.rawQuery.replace('X-Amz-Expires=3600', 'X-Amz-Expires=604801');
  const error = await rejection(parisVerifier().verify({ ...request, rawQuery }));
  t.is(error.code, 'AuthorizationQueryParametersError');
  t.is(error.message, 'X-Amz-Expires must be less than a week (in seconds) that is 604800');
});

test('presigned URL with the signature changed or a parameter missing: the AWS errors', async (t) => {
  const request = await presign('a', 3600);
  const tampered = request.rawQuery.replace(
    /X-Amz-Signature=([0-9a-f])/,
    (_, c) => `X-Amz-Signature=${c === '0' ? '1' : '0'}`,
  );
  t.is(
    (await rejection(parisVerifier().verify({ ...request, rawQuery: tampered }))).code,
    'SignatureDoesNotMatch',
  );
  const missing = request.rawQuery.replace(/&?X-Amz-Date=[^&]*/, '');
  t.is(
    (await rejection(parisVerifier().verify({ ...request, rawQuery: missing }))).code,
    'AuthorizationQueryParametersError',
  );
  const otherKey = request.rawQuery.replace(
    /response-content-disposition=[^&]*/,
    'response-content-disposition=inline',
  );
  t.is(
    (await rejection(parisVerifier().verify({ ...request, rawQuery: otherKey }))).code,
    'SignatureDoesNotMatch',
  );
});

test('both an Authorization header and a presigned query: InvalidArgument', async (t) => {
  const request = await presign('a', 3600);
  const error = await rejection(
    parisVerifier().verify({
      ...request,
      headers: { ...request.headers, authorization: 'AWS4-HMAC-SHA256 x' },
    }),
  );
  t.is(error.code, 'InvalidArgument');
});

test('anonymous request: AccessDenied; SigV2 header: InvalidRequest asking for AWS4-HMAC-SHA256', async (t) => {
  const anonymous = { method: 'GET', rawPath: '/b/k', rawQuery: '', headers: { host: 'h' } };
  t.is((await rejection(verifier().verify(anonymous))).code, 'AccessDenied');
  const v2 = { ...anonymous, headers: { host: 'h', authorization: 'AWS AKID:c2lnbmF0dXJl' } };
  const error = await rejection(verifier().verify(v2));
  t.is(error.code, 'InvalidRequest');
  t.regex(error.message, /Please use AWS4-HMAC-SHA256/);
});

test('malformed Authorization header (no Signature): AuthorizationHeaderMalformed', async (t) => {
  const request = documentedExamples[0].request;
  const headers = {
    ...request.headers,
    authorization: `AWS4-HMAC-SHA256 Credential=${accessKeyId}/20130524/us-east-1/s3/aws4_request, SignedHeaders=host`,
  };
  t.is((await rejection(verifier().verify({ ...request, headers }))).code, 'AuthorizationHeaderMalformed');
});

test('signing keys are cached per key, day and region, and a rotated secret is not served from the cache', async (t) => {
  let secret = secretAccessKey;
  const rotating = new SigV4Verifier({
    regions: ['us-east-1'],
    nowMs: () => exampleTimeMs,
    lookupSecret: async () => secret,
  });
  await rotating.verify(documentedExamples[0].request);
  await rotating.verify(documentedExamples[2].request);
  t.is(rotating.signingKeys.entries.size, 1);
  secret = 'rotated';
  t.is((await rejection(rotating.verify(documentedExamples[0].request))).code, 'SignatureDoesNotMatch');
});
