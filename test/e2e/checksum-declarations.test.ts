// What a request may declare about its additional checksum, against the real agent: the hint
// x-amz-sdk-checksum-algorithm without a value or naming another algorithm, parts of an upload created
// with a checksum algorithm that carry none or another, and completions that leave out a part's
// checksum. Each refusal is S3's status, code and message, and afterwards nothing was stored and the
// upload is as it was; the FULL_OBJECT uploads S3 completes without part checksums complete here too.
import { randomBytes } from 'node:crypto';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { Crc64Nvme } from '@aws-sdk/crc64-nvme';
import anyTest, { type TestFn } from 'ava';
import { type AgentProcess, startAgent } from '../support/agent-process.ts';
import {
  awsChunked,
  crc32Base64,
  errorCode,
  type RawRequestInput,
  type RawResponse,
  rawRequest,
} from './raw-http.ts';

const test = anyTest as TestFn<{ agent: AgentProcess }>;
const bucket = 'checksum-declarations';
const mebibyte = 1024 * 1024;

test.before(async (t) => {
  const agent = await startAgent();
  t.context = { agent };
  const created = await send(t.context, { method: 'PUT', path: `/${bucket}` });
  if (created.status !== 200) throw new Error(`CreateBucket failed: ${created.text}`);
});

test.after.always(async (t) => {
  await t.context.agent?.destroy();
});

type Request = Omit<RawRequestInput, 'endpoint' | 'accessKeyId' | 'secretAccessKey'>;

async function send(context: { agent: AgentProcess }, request: Request): Promise<RawResponse> {
  const { agent } = context;
  const response = await rawRequest({
    endpoint: agent.endpoint,
    accessKeyId: agent.accessKeyId,
    secretAccessKey: agent.secretAccessKey,
    ...request,
  });
  if (response === null) throw new Error('no answer');
  return response;
}

/** "status code: message" of an answer, or its status alone when it is not an error. */
function answer(response: RawResponse): string {
  if (response.status < 300) return String(response.status);
  const message = /<Message>([^<]*)<\/Message>/.exec(response.text)?.[1] ?? '';
  const text = message.replaceAll('&apos;', "'").replaceAll('&quot;', '"').replaceAll('&amp;', '&');
  return `${response.status} ${errorCode(response)}: ${text}`;
}

/** The text of the first `name` element of an XML answer. */
function element(response: RawResponse, name: string): string | undefined {
  return new RegExp(`<${name}>([^<]*)</${name}>`).exec(response.text)?.[1];
}

/** The object's bytes, or the error code a GET answers. */
async function read(context: { agent: AgentProcess }, key: string): Promise<Buffer | string> {
  const response = await send(context, { method: 'GET', path: `/${bucket}/${key}` });
  return response.status === 200 ? response.body : (errorCode(response) ?? String(response.status));
}

async function crc64NvmeBase64(bytes: Uint8Array): Promise<string> {
  const hasher = new Crc64Nvme();
  hasher.update(bytes);
  return Buffer.from(await hasher.digest()).toString('base64');
}

/** A PUT of `data` as aws-chunked with its right CRC32 in a trailer and the SDK's algorithm hint. */
function crc32TrailerPut(key: string, data: Buffer, sdkChecksumAlgorithm: string): Request {
  return {
    method: 'PUT',
    path: `/${bucket}/${key}`,
    body: awsChunked(data, `x-amz-checksum-crc32:${crc32Base64(data)}`),
    payloadHash: 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
    headers: {
      'content-encoding': 'aws-chunked',
      'x-amz-decoded-content-length': String(data.length),
      'x-amz-trailer': 'x-amz-checksum-crc32',
      'x-amz-sdk-checksum-algorithm': sdkChecksumAlgorithm,
    },
  };
}

async function createUpload(
  context: { agent: AgentProcess },
  key: string,
  headers: Record<string, string>,
): Promise<string> {
  const created = await send(context, {
    method: 'POST',
    path: `/${bucket}/${key}`,
    query: { uploads: '' },
    headers,
  });
  const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(created.text)?.[1];
  if (created.status !== 200 || uploadId === undefined) throw new Error(`create failed: ${created.text}`);
  return uploadId;
}

function uploadPart(
  context: { agent: AgentProcess },
  key: string,
  uploadId: string,
  partNumber: number,
  body: Buffer,
  headers: Record<string, string> = {},
): Promise<RawResponse> {
  return send(context, {
    method: 'PUT',
    path: `/${bucket}/${key}`,
    query: { partNumber: String(partNumber), uploadId },
    body,
    headers,
  });
}

/** The part numbers ListParts shows, with the checksum it shows for each. */
async function listedParts(context: { agent: AgentProcess }, key: string, uploadId: string) {
  const listed = await send(context, { method: 'GET', path: `/${bucket}/${key}`, query: { uploadId } });
  if (listed.status !== 200) throw new Error(`ListParts failed: ${listed.text}`);
  return [...listed.text.matchAll(/<Part>(.*?)<\/Part>/g)].map((match) => ({
    partNumber: Number(/<PartNumber>(\d+)<\/PartNumber>/.exec(match[1])?.[1]),
    checksum: /<Checksum[A-Z0-9]+>([^<]*)<\/Checksum/.exec(match[1])?.[1],
  }));
}

function complete(
  context: { agent: AgentProcess },
  key: string,
  uploadId: string,
  parts: { partNumber: number; etag: string; checksums?: Record<string, string> }[],
): Promise<RawResponse> {
  const partsXml = parts
    .map((part) => {
      const checksums = Object.entries(part.checksums ?? {})
        .map(([element, value]) => `<${element}>${value}</${element}>`)
        .join('');
      return `<Part><PartNumber>${part.partNumber}</PartNumber><ETag>${part.etag}</ETag>${checksums}</Part>`;
    })
    .join('');
  return send(context, {
    method: 'POST',
    path: `/${bucket}/${key}`,
    query: { uploadId },
    body: `<CompleteMultipartUpload>${partsXml}</CompleteMultipartUpload>`,
  });
}

const noCorresponding =
  '400 InvalidRequest: x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* or x-amz-trailer headers were found.';
const invalidSdkAlgorithm = '400 InvalidRequest: Value for x-amz-sdk-checksum-algorithm header is invalid.';
const mismatch = (expected: string, actual: string) =>
  `400 InvalidRequest: Checksum Type mismatch occurred, expected checksum Type: ${expected}, actual checksum Type: ${actual}`;

test('checksum declarations: PutObject with x-amz-sdk-checksum-algorithm CRC32 and no checksum is refused and stores nothing', async (t) => {
  const response = await send(t.context, {
    method: 'PUT',
    path: `/${bucket}/hint-alone`,
    body: 'bytes',
    headers: { 'x-amz-sdk-checksum-algorithm': 'CRC32' },
  });
  t.is(answer(response), noCorresponding);
  t.is(await read(t.context, 'hint-alone'), 'NoSuchKey');
});

test('checksum declarations: PutObject hinting SHA256 with an x-amz-checksum-crc32 header is refused; the previous version stays', async (t) => {
  const first = await send(t.context, { method: 'PUT', path: `/${bucket}/hint-other`, body: 'version one' });
  t.is(first.status, 200);
  const body = Buffer.from('version two');
  const response = await send(t.context, {
    method: 'PUT',
    path: `/${bucket}/hint-other`,
    body,
    headers: { 'x-amz-sdk-checksum-algorithm': 'SHA256', 'x-amz-checksum-crc32': crc32Base64(body) },
  });
  t.is(answer(response), invalidSdkAlgorithm);
  t.deepEqual(await read(t.context, 'hint-other'), Buffer.from('version one'));
});

test('checksum declarations: an aws-chunked CRC32 trailer hinted as SHA1 is refused and stores nothing', async (t) => {
  const data = randomBytes(10_000);
  const response = await send(t.context, crc32TrailerPut('trailer-other', data, 'SHA1'));
  t.is(answer(response), invalidSdkAlgorithm);
  t.is(await read(t.context, 'trailer-other'), 'NoSuchKey');
});

test('checksum declarations: an unknown x-amz-sdk-checksum-algorithm is refused and stores nothing', async (t) => {
  const body = Buffer.from('bytes');
  const response = await send(t.context, {
    method: 'PUT',
    path: `/${bucket}/hint-unknown`,
    body,
    headers: { 'x-amz-sdk-checksum-algorithm': 'MD5', 'x-amz-checksum-crc32': crc32Base64(body) },
  });
  t.is(answer(response), invalidSdkAlgorithm);
  t.is(await read(t.context, 'hint-unknown'), 'NoSuchKey');
});

test('checksum declarations: the hint with the header or trailer it names is stored with its checksum, as SDKs send it', async (t) => {
  const body = Buffer.from('header bytes');
  const withHeader = await send(t.context, {
    method: 'PUT',
    path: `/${bucket}/hint-header`,
    body,
    headers: { 'x-amz-sdk-checksum-algorithm': 'CRC32', 'x-amz-checksum-crc32': crc32Base64(body) },
  });
  t.is(answer(withHeader), '200');
  t.is(withHeader.headers['x-amz-checksum-crc32'], crc32Base64(body));
  const data = randomBytes(10_000);
  // S3 reads the hint without regard to case.
  const withTrailer = await send(t.context, crc32TrailerPut('hint-trailer', data, 'crc32'));
  t.is(answer(withTrailer), '200');
  t.deepEqual(await read(t.context, 'hint-trailer'), data);
});

test('checksum declarations: UploadPart with the hint alone is refused and the part is not listed', async (t) => {
  const uploadId = await createUpload(t.context, 'part-hint-alone', {});
  const response = await uploadPart(t.context, 'part-hint-alone', uploadId, 1, randomBytes(1000), {
    'x-amz-sdk-checksum-algorithm': 'CRC32',
  });
  t.is(answer(response), noCorresponding);
  t.deepEqual(await listedParts(t.context, 'part-hint-alone', uploadId), []);
});

test('checksum declarations: a COMPOSITE CRC32 upload refuses parts without CRC32, and a completion missing a part checksum', async (t) => {
  const key = 'composite';
  const uploadId = await createUpload(t.context, key, { 'x-amz-checksum-algorithm': 'CRC32' });
  const parts = [randomBytes(5 * mebibyte), randomBytes(1234)];
  const bare = await uploadPart(t.context, key, uploadId, 1, parts[0]);
  t.is(answer(bare), mismatch('crc32', 'null'));
  const other = await uploadPart(t.context, key, uploadId, 1, parts[0], {
    'x-amz-checksum-crc32c': 'AAAAAA==',
  });
  t.is(answer(other), mismatch('crc32', 'crc32c'));
  t.deepEqual(await listedParts(t.context, key, uploadId), []);
  const etags: string[] = [];
  for (const [index, part] of parts.entries()) {
    const uploaded = await uploadPart(t.context, key, uploadId, index + 1, part, {
      'x-amz-sdk-checksum-algorithm': 'CRC32',
      'x-amz-checksum-crc32': crc32Base64(part),
    });
    t.is(answer(uploaded), '200');
    etags.push(uploaded.headers.etag);
  }
  const refused = await complete(t.context, key, uploadId, [
    { partNumber: 1, etag: etags[0], checksums: { ChecksumCRC32: crc32Base64(parts[0]) } },
    { partNumber: 2, etag: etags[1] },
  ]);
  t.is(
    answer(refused),
    '400 InvalidRequest: The upload was created using a crc32 checksum. The complete request must include the checksum for each part. It was missing for part 2 in the request.',
  );
  t.is(await read(t.context, key), 'NoSuchKey');
  t.deepEqual(await listedParts(t.context, key, uploadId), [
    { partNumber: 1, checksum: crc32Base64(parts[0]) },
    { partNumber: 2, checksum: crc32Base64(parts[1]) },
  ]);
  const completed = await complete(
    t.context,
    key,
    uploadId,
    parts.map((part, index) => ({
      partNumber: index + 1,
      etag: etags[index],
      checksums: { ChecksumCRC32: crc32Base64(part) },
    })),
  );
  t.is(answer(completed), '200');
  const binaryChecksums = Buffer.concat(parts.map((part) => Buffer.from(crc32Base64(part), 'base64')));
  t.is(element(completed, 'ChecksumCRC32'), `${crc32Base64(binaryChecksums)}-2`);
  t.is(element(completed, 'ChecksumType'), 'COMPOSITE');
  t.deepEqual(await read(t.context, key), Buffer.concat(parts));
});

for (const [algorithm, createHeaders] of [
  ['CRC32', { 'x-amz-checksum-algorithm': 'CRC32', 'x-amz-checksum-type': 'FULL_OBJECT' }],
  ['CRC64NVME', { 'x-amz-checksum-algorithm': 'CRC64NVME' }],
] as const) {
  test(`checksum declarations: a FULL_OBJECT ${algorithm} upload takes parts without a checksum and a completion without part checksums`, async (t) => {
    const key = `full-object-${algorithm.toLowerCase()}`;
    const checksumOf = algorithm === 'CRC32' ? async (bytes: Buffer) => crc32Base64(bytes) : crc64NvmeBase64;
    const uploadId = await createUpload(t.context, key, createHeaders);
    const parts = [randomBytes(5 * mebibyte), randomBytes(999)];
    const other = await uploadPart(t.context, key, uploadId, 1, parts[0], {
      'x-amz-checksum-sha256': 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=',
    });
    t.is(answer(other), mismatch(algorithm.toLowerCase(), 'sha256'));
    const etags: string[] = [];
    for (const [index, part] of parts.entries()) {
      const uploaded = await uploadPart(t.context, key, uploadId, index + 1, part);
      t.is(answer(uploaded), '200');
      // S3 computes the part's checksum itself.
      t.is(uploaded.headers[`x-amz-checksum-${algorithm.toLowerCase()}`], await checksumOf(part));
      etags.push(uploaded.headers.etag);
    }
    const completed = await complete(
      t.context,
      key,
      uploadId,
      etags.map((etag, index) => ({ partNumber: index + 1, etag })),
    );
    t.is(answer(completed), '200');
    t.is(element(completed, `Checksum${algorithm}`), await checksumOf(Buffer.concat(parts)));
    t.is(element(completed, 'ChecksumType'), 'FULL_OBJECT');
    t.deepEqual(await read(t.context, key), Buffer.concat(parts));
  });
}

test('checksum declarations: UploadPartCopy into a CRC32 upload returns the CRC32 of the copied bytes, which completes it', async (t) => {
  const source = randomBytes(10_000);
  const put = await send(t.context, { method: 'PUT', path: `/${bucket}/copy-source`, body: source });
  t.is(put.status, 200);
  const key = 'composite-copy';
  const uploadId = await createUpload(t.context, key, { 'x-amz-checksum-algorithm': 'CRC32' });
  const copied = await send(t.context, {
    method: 'PUT',
    path: `/${bucket}/${key}`,
    query: { partNumber: '1', uploadId },
    headers: { 'x-amz-copy-source': `/${bucket}/copy-source`, 'x-amz-copy-source-range': 'bytes=100-4099' },
  });
  t.is(answer(copied), '200');
  const range = source.subarray(100, 4100);
  t.is(element(copied, 'ChecksumCRC32'), crc32Base64(range));
  const etag = /<ETag>([^<]+)<\/ETag>/.exec(copied.text)?.[1] ?? '';
  const completed = await complete(t.context, key, uploadId, [
    { partNumber: 1, etag, checksums: { ChecksumCRC32: crc32Base64(range) } },
  ]);
  t.is(answer(completed), '200');
  t.deepEqual(await read(t.context, key), range);
});

test('checksum declarations: a completion listing a checksum for a part stored without one is InvalidPart; the upload stays', async (t) => {
  const key = 'no-algorithm';
  const uploadId = await createUpload(t.context, key, {});
  const part = randomBytes(1000);
  const uploaded = await uploadPart(t.context, key, uploadId, 1, part);
  t.is(answer(uploaded), '200');
  const refused = await complete(t.context, key, uploadId, [
    { partNumber: 1, etag: uploaded.headers.etag, checksums: { ChecksumCRC32: crc32Base64(part) } },
  ]);
  t.is(
    answer(refused),
    "400 InvalidPart: One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
  );
  t.is(await read(t.context, key), 'NoSuchKey');
  t.deepEqual(await listedParts(t.context, key, uploadId), [{ partNumber: 1, checksum: undefined }]);
});

test('checksum declarations: the JS SDK computing checksums only when required completes FULL_OBJECT uploads, is refused COMPOSITE parts', async (t) => {
  const { agent } = t.context;
  const s3 = new S3Client({
    endpoint: agent.endpoint,
    region: 'fr-par',
    forcePathStyle: true,
    credentials: { accessKeyId: agent.accessKeyId, secretAccessKey: agent.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
  });
  t.teardown(() => s3.destroy());
  const parts = [randomBytes(5 * mebibyte), randomBytes(10)];
  const full = await s3.send(
    new CreateMultipartUploadCommand({
      Bucket: bucket,
      Key: 'sdk-full',
      ChecksumAlgorithm: 'CRC32C',
      ChecksumType: 'FULL_OBJECT',
    }),
  );
  const uploaded = [];
  for (const [index, part] of parts.entries()) {
    const result = await s3.send(
      new UploadPartCommand({
        Bucket: bucket,
        Key: 'sdk-full',
        UploadId: full.UploadId,
        PartNumber: index + 1,
        Body: part,
      }),
    );
    uploaded.push({ PartNumber: index + 1, ETag: result.ETag });
  }
  const completed = await s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: bucket,
      Key: 'sdk-full',
      UploadId: full.UploadId,
      MultipartUpload: { Parts: uploaded },
    }),
  );
  t.is(completed.ChecksumType, 'FULL_OBJECT');
  t.truthy(completed.ChecksumCRC32C);
  const composite = await s3.send(
    new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'sdk-composite', ChecksumAlgorithm: 'SHA256' }),
  );
  const refused = await t.throwsAsync(
    s3.send(
      new UploadPartCommand({
        Bucket: bucket,
        Key: 'sdk-composite',
        UploadId: composite.UploadId,
        PartNumber: 1,
        Body: parts[1],
      }),
    ),
  );
  t.like(refused, {
    name: 'InvalidRequest',
    message: 'Checksum Type mismatch occurred, expected checksum Type: sha256, actual checksum Type: null',
  });
  t.deepEqual(await listedParts(t.context, 'sdk-composite', composite.UploadId ?? ''), []);
});
