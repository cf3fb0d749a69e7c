// Requests made by the real AWS SDK for JavaScript v3 S3 client, with its default checksums, captured
// at the transport and given to the protocol primitives the way the HTTP layer will: signature
// verification, endpoint parsing, aws-chunked decoding, checksums and XML bodies must all accept them.
import { Readable } from 'node:stream';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutBucketCorsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
  PutObjectLockConfigurationCommand,
  PutObjectRetentionCommand,
  PutObjectTaggingCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { type HttpRequest, HttpResponse } from '@smithy/protocol-http';
import test from 'ava';
import { parseEndpoint } from '../../agent/s3/endpoint.ts';
import { SigV4Verifier } from '../../agent/s3/sigv4.ts';
import {
  parseCompleteMultipartUpload,
  parseCorsConfiguration,
  parseCreateBucketConfiguration,
  parseDelete,
  parseLegalHold,
  parseObjectLockConfiguration,
  parseRetention,
  parseTagging,
  parseVersioningConfiguration,
} from '../../agent/s3/xml.ts';
import { type CapturedRequest as Captured, serveCapturedRequest } from './captured-request.ts';

const domain = 's3.eu-west-par.coffre.example';
const credentials = { accessKeyId: 'AKIDCOFFRETEST', secretAccessKey: 'c2VjcmV0IGtleSBmb3IgdGVzdHMgb25seQ' };

function escapeQuery(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

async function collect(body: unknown): Promise<Buffer> {
  if (body === undefined || body === null) return Buffer.alloc(0);
  if (typeof body === 'string') return Buffer.from(body);
  if (body instanceof Uint8Array) return Buffer.from(body);
  const pieces: Buffer[] = [];
  for await (const piece of body as AsyncIterable<Uint8Array | string>) pieces.push(Buffer.from(piece));
  return Buffer.concat(pieces);
}

function client(forcePathStyle: boolean, captured: Captured[], requestStreamBufferSize?: number): S3Client {
  return new S3Client({
    requestStreamBufferSize,
    region: 'eu-west-par',
    endpoint: `https://${domain}`,
    forcePathStyle,
    credentials,
    maxAttempts: 1,
    requestHandler: {
      async handle(request: HttpRequest) {
        const rawQuery = Object.entries(request.query ?? {})
          .flatMap(([name, value]) =>
            (Array.isArray(value) ? value : [value]).map((one) =>
              one === null ? escapeQuery(name) : `${escapeQuery(name)}=${escapeQuery(one)}`,
            ),
          )
          .join('&');
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(request.headers)) headers[name.toLowerCase()] = value;
        captured.push({
          method: request.method,
          rawPath: request.path,
          rawQuery,
          headers,
          body: await collect(request.body),
        });
        return { response: new HttpResponse({ statusCode: 200, headers: {}, body: Readable.from([]) }) };
      },
    },
  });
}

/** Sends a command through the SDK and returns the one request it made; the fake answer may not parse. */
async function capture(forcePathStyle: boolean, send: (s3: S3Client) => Promise<unknown>): Promise<Captured> {
  const captured: Captured[] = [];
  try {
    await send(client(forcePathStyle, captured));
  } catch {
    // The transport's empty 200 is not what every operation expects back; only the request matters.
  }
  if (captured.length !== 1) throw new Error(`expected one request, got ${captured.length}`);
  return captured[0];
}

const serve = (request: Captured) => serveCapturedRequest(request, credentials, domain);

const awkwardKey = "backups/2026-11-29 été/日本語 + 'quotes' (1) ~!*.vbk";

for (const forcePathStyle of [true, false]) {
  const style = forcePathStyle ? 'path-style' : 'virtual-hosted-style';

  test(`SDK ${style} PutObject of a Buffer with an awkward key: verified, key decoded, default CRC32 checked`, async (t) => {
    const body = Buffer.from('backup block '.repeat(1000));
    const request = await capture(forcePathStyle, (s3) =>
      s3.send(new PutObjectCommand({ Bucket: 'veeam-repo', Key: awkwardKey, Body: body })),
    );
    const served = await serve(request);
    t.like(served.endpoint, { operation: 'PutObject', bucket: 'veeam-repo', key: awkwardKey });
    t.truthy(request.headers['x-amz-checksum-crc32']);
    t.true(served.body.equals(body));
  });

  test(`SDK ${style} PutObject of a stream (aws-chunked, trailer checksum): decoded and checked`, async (t) => {
    const body = Buffer.alloc(200_000, 7);
    const request = await capture(forcePathStyle, (s3) =>
      s3.send(
        new PutObjectCommand({
          Bucket: 'veeam-repo',
          Key: 'stream.bin',
          Body: Readable.from([body.subarray(0, 70_000), body.subarray(70_000)]),
          ContentLength: body.length,
          ChecksumAlgorithm: 'CRC32C',
        }),
      ),
    );
    const served = await serve(request);
    t.like(served.endpoint, { operation: 'PutObject', key: 'stream.bin' });
    t.is(served.identity.payload.kind, 'streaming-unsigned-trailer');
    t.is(request.headers['x-amz-trailer'], 'x-amz-checksum-crc32c');
    t.true(served.body.equals(body));
  });

  test(`SDK ${style} GetObject with Range, HeadObject with versionId: verified and parsed`, async (t) => {
    const get = await serve(
      await capture(forcePathStyle, (s3) =>
        s3.send(new GetObjectCommand({ Bucket: 'veeam-repo', Key: awkwardKey, Range: 'bytes=0-9' })),
      ),
    );
    t.like(get.endpoint, { operation: 'GetObject', key: awkwardKey });
    const head = await serve(
      await capture(forcePathStyle, (s3) =>
        s3.send(new HeadObjectCommand({ Bucket: 'veeam-repo', Key: 'k', VersionId: 'v+1/2' })),
      ),
    );
    t.like(head.endpoint, { operation: 'HeadObject', key: 'k', versionId: 'v+1/2' });
  });

  test(`SDK ${style} ListObjectsV2 with a prefix holding spaces and unicode: verified, prefix decoded`, async (t) => {
    const served = await serve(
      await capture(forcePathStyle, (s3) =>
        s3.send(
          new ListObjectsV2Command({ Bucket: 'veeam-repo', Prefix: 'a b/été+', Delimiter: '/', MaxKeys: 10 }),
        ),
      ),
    );
    t.like(served.endpoint, { operation: 'ListObjectsV2', prefix: 'a b/été+', delimiter: '/', maxKeys: 10 });
  });
}

test('SDK streamed PutObject with a data byte flipped in transit: BadDigest from the trailer CRC32C', async (t) => {
  const request = await capture(true, (s3) =>
    s3.send(
      new PutObjectCommand({
        Bucket: 'veeam-repo',
        Key: 'stream.bin',
        Body: Readable.from([Buffer.alloc(10_000, 1)]),
        ContentLength: 10_000,
        ChecksumAlgorithm: 'CRC32C',
      }),
    ),
  );
  const dataStart = request.body.indexOf('\r\n') + 2;
  request.body[dataStart + 5000] ^= 0xff;
  const error = await t.throwsAsync(serve(request));
  t.like(error, {
    code: 'BadDigest',
    message: 'The CRC32C you specified did not match the calculated checksum.',
  });
});

test('SDK stream of 1000-byte pieces: InvalidChunkSizeError as from S3, accepted with requestStreamBufferSize', async (t) => {
  const pieces = () => Readable.from(Array.from({ length: 20 }, () => Buffer.alloc(1000, 2)));
  const command = () =>
    new PutObjectCommand({
      Bucket: 'veeam-repo',
      Key: 'small-pieces',
      Body: pieces(),
      ContentLength: 20_000,
    });
  const unbuffered = await capture(true, (s3) => s3.send(command()));
  const error = await t.throwsAsync(serve(unbuffered));
  t.like(error, { code: 'InvalidChunkSizeError', elements: { Chunk: '1', BadChunkSize: '1000' } });
  const captured: Captured[] = [];
  const buffered = client(true, captured, 65_536);
  try {
    await buffered.send(command());
  } catch {
    // Only the request matters.
  }
  t.is((await serve(captured[0])).body.length, 20_000);
});

test('SDK CopyObject and UploadPart: copy source and part identifiers parsed', async (t) => {
  const copy = await serve(
    await capture(true, (s3) =>
      s3.send(
        new CopyObjectCommand({
          Bucket: 'dst',
          Key: 'copy',
          CopySource: `src-bucket/${encodeURIComponent(awkwardKey)}`,
        }),
      ),
    ),
  );
  t.like(copy.endpoint, { operation: 'CopyObject', copySource: { bucket: 'src-bucket', key: awkwardKey } });
  const part = await serve(
    await capture(true, (s3) =>
      s3.send(
        new UploadPartCommand({
          Bucket: 'dst',
          Key: 'big',
          UploadId: 'upload/1+2',
          PartNumber: 7,
          Body: Buffer.alloc(1000, 1),
        }),
      ),
    ),
  );
  t.like(part.endpoint, { operation: 'UploadPart', uploadId: 'upload/1+2', partNumber: 7 });
});

test('SDK request bodies in XML (multipart, delete, tagging, lock, retention, legal hold, versioning, CORS, bucket): parsed', async (t) => {
  const complete = await serve(
    await capture(true, (s3) =>
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: 'bucket-b',
          Key: 'big',
          UploadId: 'u1',
          MultipartUpload: {
            Parts: [
              { PartNumber: 1, ETag: '"e1"', ChecksumCRC32: 'y/Q5Jg==' },
              { PartNumber: 2, ETag: '"e2"' },
            ],
          },
        }),
      ),
    ),
  );
  t.like(complete.endpoint, { operation: 'CompleteMultipartUpload', uploadId: 'u1' });
  t.deepEqual(parseCompleteMultipartUpload(complete.body.toString()), [
    { partNumber: 1, etag: '"e1"', checksums: { ChecksumCRC32: 'y/Q5Jg==' } },
    { partNumber: 2, etag: '"e2"', checksums: {} },
  ]);

  const remove = await serve(
    await capture(true, (s3) =>
      s3.send(
        new DeleteObjectsCommand({
          Bucket: 'bucket-b',
          Delete: { Quiet: true, Objects: [{ Key: awkwardKey }, { Key: 'k', VersionId: 'v' }] },
        }),
      ),
    ),
  );
  t.is(remove.endpoint.operation, 'DeleteObjects');
  t.deepEqual(parseDelete(remove.body.toString()), {
    quiet: true,
    objects: [
      { key: awkwardKey, versionId: undefined },
      { key: 'k', versionId: 'v' },
    ],
  });

  const tagging = await serve(
    await capture(true, (s3) =>
      s3.send(
        new PutObjectTaggingCommand({
          Bucket: 'bucket-b',
          Key: 'k',
          Tagging: { TagSet: [{ Key: 'team', Value: 'a&b' }] },
        }),
      ),
    ),
  );
  t.is(tagging.endpoint.operation, 'PutObjectTagging');
  t.deepEqual(parseTagging(tagging.body.toString()), [{ key: 'team', value: 'a&b' }]);

  const lock = await serve(
    await capture(true, (s3) =>
      s3.send(
        new PutObjectLockConfigurationCommand({
          Bucket: 'bucket-b',
          ObjectLockConfiguration: {
            ObjectLockEnabled: 'Enabled',
            Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 30 } },
          },
        }),
      ),
    ),
  );
  t.is(lock.endpoint.operation, 'PutObjectLockConfiguration');
  t.deepEqual(parseObjectLockConfiguration(lock.body.toString()), {
    enabled: true,
    defaultRetention: { mode: 'COMPLIANCE', days: 30, years: undefined },
  });

  const until = new Date(Date.UTC(2030, 0, 1));
  const retention = await serve(
    await capture(true, (s3) =>
      s3.send(
        new PutObjectRetentionCommand({
          Bucket: 'bucket-b',
          Key: 'k',
          Retention: { Mode: 'GOVERNANCE', RetainUntilDate: until },
        }),
      ),
    ),
  );
  t.is(retention.endpoint.operation, 'PutObjectRetention');
  t.deepEqual(parseRetention(retention.body.toString()), { mode: 'GOVERNANCE', retainUntilDate: until });

  const hold = await serve(
    await capture(true, (s3) =>
      s3.send(new PutObjectLegalHoldCommand({ Bucket: 'bucket-b', Key: 'k', LegalHold: { Status: 'ON' } })),
    ),
  );
  t.is(hold.endpoint.operation, 'PutObjectLegalHold');
  t.deepEqual(parseLegalHold(hold.body.toString()), { status: 'ON' });

  const versioning = await serve(
    await capture(true, (s3) =>
      s3.send(
        new PutBucketVersioningCommand({
          Bucket: 'bucket-b',
          VersioningConfiguration: { Status: 'Enabled' },
        }),
      ),
    ),
  );
  t.is(versioning.endpoint.operation, 'PutBucketVersioning');
  t.like(parseVersioningConfiguration(versioning.body.toString()), { status: 'Enabled' });

  const cors = await serve(
    await capture(true, (s3) =>
      s3.send(
        new PutBucketCorsCommand({
          Bucket: 'bucket-b',
          CORSConfiguration: {
            CORSRules: [{ AllowedMethods: ['GET', 'PUT'], AllowedOrigins: ['https://app.example'] }],
          },
        }),
      ),
    ),
  );
  t.is(cors.endpoint.operation, 'PutBucketCors');
  t.like(parseCorsConfiguration(cors.body.toString())[0], {
    allowedMethods: ['GET', 'PUT'],
    allowedOrigins: ['https://app.example'],
  });

  const create = await serve(
    await capture(true, (s3) =>
      s3.send(
        new CreateBucketCommand({
          Bucket: 'new-bucket',
          CreateBucketConfiguration: { LocationConstraint: 'eu-west-par' as never },
        }),
      ),
    ),
  );
  t.is(create.endpoint.operation, 'CreateBucket');
  t.deepEqual(parseCreateBucketConfiguration(create.body.toString()), { locationConstraint: 'eu-west-par' });
});

test('SDK presigned GetObject URL (s3-request-presigner): verified as presigned', async (t) => {
  const s3 = new S3Client({
    region: 'eu-west-par',
    endpoint: `https://${domain}`,
    forcePathStyle: true,
    credentials,
  });
  const url = new URL(
    await getSignedUrl(s3, new GetObjectCommand({ Bucket: 'veeam-repo', Key: awkwardKey }), {
      expiresIn: 600,
    }),
  );
  const request = {
    method: 'GET',
    rawPath: url.pathname,
    rawQuery: url.search.slice(1),
    headers: { host: url.host },
  };
  const verifier = new SigV4Verifier({
    regions: ['eu-west-par'],
    nowMs: () => Date.now(),
    lookupSecret: async () => credentials.secretAccessKey,
  });
  const identity = await verifier.verify(request);
  t.is(identity.authentication, 'presigned');
  t.like(parseEndpoint(request, { baseDomains: [domain] }), { operation: 'GetObject', key: awkwardKey });
});
