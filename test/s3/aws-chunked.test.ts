import { createHash, randomBytes } from 'node:crypto';
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import test from 'ava';
import {
  AwsChunkedDecoder,
  type AwsChunkedOptions,
  parseDecodedContentLength,
} from '../../agent/s3/aws-chunked.ts';
import { checksumOf } from '../../agent/s3/checksums.ts';
import { S3Error } from '../../agent/s3/errors.ts';
import { type ChunkSigningContext, SigV4Verifier } from '../../agent/s3/sigv4.ts';

const accessKeyId = 'AKIAIOSFODNN7EXAMPLE';
const secretAccessKey = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

async function* pieces(body: Uint8Array, splits: readonly number[]): AsyncGenerator<Uint8Array> {
  let start = 0;
  for (const split of [...splits, body.length]) {
    yield body.subarray(start, split);
    start = split;
  }
}

async function decodeAll(options: AwsChunkedOptions, body: Uint8Array, splits: readonly number[] = []) {
  const decoder = new AwsChunkedDecoder(options);
  const out: Buffer[] = [];
  for await (const data of decoder.decode(pieces(body, splits))) out.push(Buffer.from(data));
  return { data: Buffer.concat(out), trailers: decoder.trailers };
}

async function decodeError(options: AwsChunkedOptions, body: Uint8Array): Promise<S3Error> {
  try {
    await decodeAll(options, body);
  } catch (error) {
    if (error instanceof S3Error) return error;
    throw error;
  }
  throw new Error('expected an S3Error');
}

// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html "Example: PUT Object": 65 KiB of
// 'a' in chunks of 64 KiB, 1 KiB and 0, with the published seed and chunk signatures.
async function documentedExample() {
  const verifier = new SigV4Verifier({
    regions: ['us-east-1'],
    nowMs: () => Date.UTC(2013, 4, 24),
    lookupSecret: async () => secretAccessKey,
  });
  const identity = await verifier.verify({
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
      authorization:
        'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9',
    },
  });
  const body = Buffer.concat([
    Buffer.from('10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n'),
    Buffer.alloc(65536, 'a'),
    Buffer.from(
      '\r\n400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n',
    ),
    Buffer.alloc(1024, 'a'),
    Buffer.from(
      '\r\n0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n',
    ),
  ]);
  const options: AwsChunkedOptions = {
    mode: 'signed',
    chunkSigning: identity.chunkSigning,
    decodedContentLengthBytes: 66560,
  };
  return { body, options };
}

test('AWS documented chunked PUT (64 KiB + 1 KiB + 0): decoded, every published chunk signature accepted', async (t) => {
  const { body, options } = await documentedExample();
  t.is(body.length, 66824);
  const { data } = await decodeAll(options, body);
  t.true(data.equals(Buffer.alloc(66560, 'a')));
});

test('AWS documented chunked PUT split at every byte of its framing: decoded the same', async (t) => {
  const { body, options } = await documentedExample();
  const framing = [
    ...Array.from({ length: 100 }, (_, index) => index),
    ...Array.from({ length: 100 }, (_, index) => 65600 + index),
    ...Array.from({ length: 200 }, (_, index) => body.length - 200 + index),
  ];
  for (const split of framing) {
    const { data } = await decodeAll(options, body, [split]);
    if (data.length !== 66560) t.fail(`split at ${split}`);
  }
  t.pass();
});

test('AWS documented chunked PUT with one data byte changed: SignatureDoesNotMatch', async (t) => {
  const { body, options } = await documentedExample();
  body[1000] = 'b'.charCodeAt(0);
  const error = await decodeError(options, body);
  t.is(error.code, 'SignatureDoesNotMatch');
  t.true(error.elements.StringToSign.startsWith('AWS4-HMAC-SHA256-PAYLOAD\n20130524T000000Z\n'));
});

test('AWS documented chunked PUT with chunks swapped in signature order: SignatureDoesNotMatch', async (t) => {
  const { body, options } = await documentedExample();
  const text = body.toString('latin1');
  const swapped = text
    .replace('ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648', 'X')
    .replace(
      '0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497',
      'ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648',
    )
    .replace('X', '0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497');
  t.is((await decodeError(options, Buffer.from(swapped, 'latin1'))).code, 'SignatureDoesNotMatch');
});

test('AWS documented chunked PUT cut short or declaring another decoded length: IncompleteBody', async (t) => {
  const { body, options } = await documentedExample();
  for (const length of [10, 88, 5000, 65624, body.length - 2, body.length - 1]) {
    const error = await decodeError(options, body.subarray(0, length));
    t.is(error.code, 'IncompleteBody', `cut at ${length}`);
    t.is(error.message, 'The request body terminated unexpectedly');
  }
  t.is((await decodeError({ ...options, decodedContentLengthBytes: 66561 }, body)).code, 'IncompleteBody');
  t.is((await decodeError({ ...options, decodedContentLengthBytes: 66000 }, body)).code, 'IncompleteBody');
});

// Chunk signatures produced by the real SDK signer: it signs the documented string to sign.
const signingDate = new Date('2026-11-29T10:00:00Z');
const sdkSigner = new SignatureV4({
  credentials: { accessKeyId, secretAccessKey },
  region: 'eu-west-par',
  service: 's3',
  sha256: Sha256,
  uriEscapePath: false,
});
const scope = '20261129/eu-west-par/s3/aws4_request';
const sha256Hex = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');

async function seed(
  contentSha256: string,
  decodedLength: number,
  trailer?: string,
): Promise<ChunkSigningContext> {
  const headers: Record<string, string> = {
    host: 's3.eu-west-par.coffre.example',
    'content-encoding': 'aws-chunked',
    'x-amz-content-sha256': contentSha256,
    'x-amz-decoded-content-length': String(decodedLength),
  };
  if (trailer !== undefined) headers['x-amz-trailer'] = trailer;
  const request = new HttpRequest({ method: 'PUT', hostname: headers.host, path: '/b/key', headers });
  const signed = await sdkSigner.sign(request, { signingDate });
  const verifier = new SigV4Verifier({
    regions: ['eu-west-par'],
    nowMs: () => signingDate.getTime(),
    lookupSecret: async () => secretAccessKey,
  });
  const lowerHeaders: Record<string, string> = {};
  for (const [name, value] of Object.entries(signed.headers)) lowerHeaders[name.toLowerCase()] = value;
  const identity = await verifier.verify({
    method: 'PUT',
    rawPath: '/b/key',
    rawQuery: '',
    headers: lowerHeaders,
  });
  return identity.chunkSigning!;
}

async function signedBody(
  context: ChunkSigningContext,
  chunks: readonly Uint8Array[],
  trailers?: [string, string][],
): Promise<Buffer> {
  const parts: Buffer[] = [];
  let previous = context.seedSignature;
  for (const chunk of [...chunks, new Uint8Array(0)]) {
    const toSign = [
      'AWS4-HMAC-SHA256-PAYLOAD',
      '20261129T100000Z',
      scope,
      previous,
      sha256Hex(''),
      sha256Hex(chunk),
    ];
    const signature = await sdkSigner.sign(toSign.join('\n'), { signingDate });
    parts.push(Buffer.from(`${chunk.length.toString(16)};chunk-signature=${signature}\r\n`));
    if (chunk.length > 0) parts.push(Buffer.from(chunk), Buffer.from('\r\n'));
    previous = signature;
  }
  if (trailers === undefined) {
    parts.push(Buffer.from('\r\n'));
  } else {
    const canonical = trailers.map(([name, value]) => `${name}:${value}\n`).join('');
    const toSign = ['AWS4-HMAC-SHA256-TRAILER', '20261129T100000Z', scope, previous, sha256Hex(canonical)];
    const signature = await sdkSigner.sign(toSign.join('\n'), { signingDate });
    for (const [name, value] of trailers) parts.push(Buffer.from(`${name}:${value}\r\n`));
    parts.push(Buffer.from(`x-amz-trailer-signature:${signature}\r\n\r\n`));
  }
  return Buffer.concat(parts);
}

test('SDK-signed chunks split at every byte position, and fed one byte at a time: decoded', async (t) => {
  const data = randomBytes(300);
  const chunks = [data.subarray(0, 100), data.subarray(100, 250), data.subarray(250)];
  const chunkSigning = await seed('STREAMING-AWS4-HMAC-SHA256-PAYLOAD', 300);
  const body = await signedBody(chunkSigning, chunks);
  const options: AwsChunkedOptions = {
    mode: 'signed',
    chunkSigning,
    decodedContentLengthBytes: 300,
    minimumChunkSizeBytes: 0,
  };
  for (let split = 0; split <= body.length; split++) {
    const decoded = await decodeAll(options, body, [split]);
    if (!decoded.data.equals(data)) t.fail(`split at ${split}`);
  }
  const everyByte = Array.from({ length: body.length }, (_, index) => index);
  t.true((await decodeAll(options, body, everyByte)).data.equals(data));
});

test('SDK-signed chunks with a signed trailer (STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER): trailer verified and returned', async (t) => {
  const data = randomBytes(20000);
  const crc = await checksumOf('CRC32C', data);
  const chunkSigning = await seed(
    'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
    20000,
    'x-amz-checksum-crc32c',
  );
  const body = await signedBody(
    chunkSigning,
    [data.subarray(0, 10000), data.subarray(10000)],
    [['x-amz-checksum-crc32c', crc]],
  );
  const options: AwsChunkedOptions = {
    mode: 'signed-trailer',
    chunkSigning,
    decodedContentLengthBytes: 20000,
    announcedTrailers: ['x-amz-checksum-crc32c'],
  };
  for (const split of [0, 1, body.length - 120, body.length - 70, body.length - 3, body.length - 1]) {
    const decoded = await decodeAll(options, body, [split]);
    t.true(decoded.data.equals(data));
    t.is(decoded.trailers.get('x-amz-checksum-crc32c'), crc);
  }
  const forged = Buffer.from(body.toString('latin1').replace(crc, 'AAAAAA=='), 'latin1');
  t.is((await decodeError(options, forged)).code, 'SignatureDoesNotMatch');
});

function unsignedTrailerBody(
  chunks: readonly Uint8Array[],
  trailerName: string,
  trailerValue: string,
): Buffer {
  // The framing the AWS SDK for JavaScript v3 writes for STREAMING-UNSIGNED-PAYLOAD-TRAILER.
  const parts: Buffer[] = [];
  for (const chunk of chunks)
    parts.push(Buffer.from(`${chunk.length.toString(16)}\r\n`), Buffer.from(chunk), Buffer.from('\r\n'));
  parts.push(Buffer.from(`0\r\n${trailerName}:${trailerValue}\r\n\r\n`));
  return Buffer.concat(parts);
}

test('unsigned chunks with a CRC32 trailer (the JS SDK default upload): decoded at every split, trailer returned', async (t) => {
  const data = randomBytes(9000);
  const crc = await checksumOf('CRC32', data);
  const body = unsignedTrailerBody(
    [data.subarray(0, 8192), data.subarray(8192)],
    'x-amz-checksum-crc32',
    crc,
  );
  const options: AwsChunkedOptions = {
    mode: 'unsigned-trailer',
    decodedContentLengthBytes: 9000,
    announcedTrailers: ['x-amz-checksum-crc32'],
  };
  for (let split = 0; split <= body.length; split += split < 20 || split > 8180 ? 1 : 997) {
    const decoded = await decodeAll(options, body, [split]);
    if (!decoded.data.equals(data) || decoded.trailers.get('x-amz-checksum-crc32') !== crc)
      t.fail(`split ${split}`);
  }
  t.pass();
});

test('a chunk under 8 KiB that is not the last: InvalidChunkSizeError naming it', async (t) => {
  const data = randomBytes(9000);
  const body = unsignedTrailerBody(
    [data.subarray(0, 1000), data.subarray(1000)],
    'x-amz-checksum-crc32',
    'AAAAAA==',
  );
  const error = await decodeError({ mode: 'unsigned-trailer', decodedContentLengthBytes: 9000 }, body);
  t.is(error.code, 'InvalidChunkSizeError');
  t.is(error.elements.Chunk, '1');
  t.is(error.elements.BadChunkSize, '1000');
});

test('malformed framing (bad size, missing CRLF, endless header, data after the end): IncompleteBody', async (t) => {
  const options: AwsChunkedOptions = { mode: 'unsigned-trailer', decodedContentLengthBytes: 3 };
  const bodies = [
    '3\r\nabc\r\n0\r\n\r\nextra',
    'zz\r\nabc\r\n0\r\n\r\n',
    '3\r\nabcd\r\n0\r\n\r\n',
    '3\r\nabc0\r\n\r\n',
    `3${'0'.repeat(5000)}`,
    '4\r\nabc\r\n0\r\n\r\n',
    '3\r\nabc\r\n0\r\nno-colon\r\n\r\n',
  ];
  for (const body of bodies) {
    t.is(
      (await decodeError(options, Buffer.from(body))).code,
      'IncompleteBody',
      JSON.stringify(body.slice(0, 30)),
    );
  }
  t.is((await decodeAll(options, Buffer.from('3\r\nabc\r\n0\r\n\r\n'))).data.toString(), 'abc');
});

test('trailer not announced in x-amz-trailer: InvalidRequest; announced trailer missing: IncompleteBody', async (t) => {
  const options: AwsChunkedOptions = {
    mode: 'unsigned-trailer',
    decodedContentLengthBytes: 3,
    announcedTrailers: ['x-amz-checksum-crc32'],
  };
  const other = Buffer.from('3\r\nabc\r\n0\r\nx-amz-checksum-sha1:abc\r\n\r\n');
  t.is((await decodeError(options, other)).code, 'InvalidRequest');
  t.is((await decodeError(options, Buffer.from('3\r\nabc\r\n0\r\n\r\n'))).code, 'IncompleteBody');
});

test('signed chunk without its chunk-signature: IncompleteBody', async (t) => {
  const chunkSigning = await seed('STREAMING-AWS4-HMAC-SHA256-PAYLOAD', 3);
  const options: AwsChunkedOptions = { mode: 'signed', chunkSigning, decodedContentLengthBytes: 3 };
  t.is((await decodeError(options, Buffer.from('3\r\nabc\r\n0\r\n\r\n'))).code, 'IncompleteBody');
});

test('x-amz-decoded-content-length: missing is MissingContentLength, not a number is InvalidArgument', (t) => {
  t.is(parseDecodedContentLength('66560'), 66560);
  t.is(
    t.throws(() => parseDecodedContentLength(undefined), { instanceOf: S3Error }).code,
    'MissingContentLength',
  );
  t.is(t.throws(() => parseDecodedContentLength('-1'), { instanceOf: S3Error }).code, 'InvalidArgument');
});
