// What a request may declare about its additional checksum, and what a multipart upload created with a
// checksum algorithm asks of its parts and of its completion: the refusals S3 answers, word for word
// (captured from S3 in openstack/swift's test/s3api/test_object_checksums.py, versity/versitygw and
// apache/opendal issues).
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import test from 'ava';
import type { PartRecord } from '../../agent/objects/records.ts';
import { checksumOf } from '../../agent/s3/checksums.ts';
import { S3Error } from '../../agent/s3/errors.ts';
import {
  requireListedChecksumsStored,
  requireListedPartChecksums,
} from '../../agent/s3/operations/complete-multipart-upload.ts';
import { partChecksumAlgorithm } from '../../agent/s3/operations/upload-part.ts';
import { declaredChecksumAlgorithm, openRequestBody } from '../../agent/s3/request-body.ts';
import type { VerifiedIdentity } from '../../agent/s3/sigv4.ts';
import type { CompletedPart } from '../../agent/s3/xml.ts';

const body = new TextEncoder().encode('123456789');
const crc32 = 'y/Q5Jg==';

function requestWith(headers: Record<string, string>): IncomingMessage {
  return { headers } as unknown as IncomingMessage;
}

/** "status code: message" of the S3Error `run` throws, or "accepted <what it returned>". */
function outcome(run: () => unknown): string {
  try {
    return `accepted ${run()}`;
  } catch (error) {
    if (error instanceof S3Error) return `${error.status} ${error.code}: ${error.message}`;
    throw error;
  }
}

const noCorresponding =
  '400 InvalidRequest: x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* or x-amz-trailer headers were found.';
const invalidSdkAlgorithm = '400 InvalidRequest: Value for x-amz-sdk-checksum-algorithm header is invalid.';

test('x-amz-sdk-checksum-algorithm: accepted only with a header or trailer of the same algorithm, in any case', (t) => {
  const table: [Record<string, string>, string][] = [
    [{}, 'accepted undefined'],
    [{ 'x-amz-checksum-crc32': crc32 }, 'accepted CRC32'],
    [{ 'x-amz-trailer': 'x-amz-checksum-sha1' }, 'accepted SHA1'],
    // What the SDKs send: the hint with the header or the trailer it names.
    [{ 'x-amz-sdk-checksum-algorithm': 'CRC32', 'x-amz-checksum-crc32': crc32 }, 'accepted CRC32'],
    [{ 'x-amz-sdk-checksum-algorithm': 'crc32', 'x-amz-trailer': 'x-amz-checksum-crc32' }, 'accepted CRC32'],
    // The hint alone: S3 refuses it, it does not make the server compute a checksum.
    [{ 'x-amz-sdk-checksum-algorithm': 'CRC32' }, noCorresponding],
    [
      { 'x-amz-sdk-checksum-algorithm': 'SHA256', 'content-md5': '4vxxTEcn7pOV8yTNLn8zHw==' },
      noCorresponding,
    ],
    // The hint names another algorithm than the value sent.
    [{ 'x-amz-sdk-checksum-algorithm': 'SHA256', 'x-amz-checksum-crc32': crc32 }, invalidSdkAlgorithm],
    [
      { 'x-amz-sdk-checksum-algorithm': 'SHA1', 'x-amz-trailer': 'x-amz-checksum-crc32' },
      invalidSdkAlgorithm,
    ],
    // An algorithm S3 does not know, with or without a value.
    [{ 'x-amz-sdk-checksum-algorithm': 'MD5', 'x-amz-checksum-crc32': crc32 }, invalidSdkAlgorithm],
    [{ 'x-amz-sdk-checksum-algorithm': 'INVALIDALGO' }, invalidSdkAlgorithm],
    // A malformed value is named before the hint is compared with it.
    [
      { 'x-amz-sdk-checksum-algorithm': 'SHA256', 'x-amz-checksum-crc32': 'AAAA' },
      '400 InvalidRequest: Value for x-amz-checksum-crc32 header is invalid.',
    ],
    [
      { 'x-amz-checksum-crc32': crc32, 'x-amz-trailer': 'x-amz-checksum-crc32c' },
      '400 InvalidRequest: Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.',
    ],
  ];
  for (const [headers, expected] of table) {
    t.is(
      outcome(() => declaredChecksumAlgorithm(requestWith(headers))),
      expected,
      JSON.stringify(headers),
    );
  }
});

test('request body: openRequestBody refuses the hint alone before reading a byte', async (t) => {
  const request = Object.assign(Readable.from([body]), {
    headers: { 'content-length': String(body.length), 'x-amz-sdk-checksum-algorithm': 'CRC32' },
    complete: true,
  });
  const identity = { payload: { kind: 'unsigned' } } as VerifiedIdentity;
  t.is(
    outcome(() => openRequestBody(request as unknown as IncomingMessage, identity, { maximumBytes: 100 })),
    noCorresponding,
  );
  const unread: Buffer[] = [];
  for await (const piece of request) unread.push(Buffer.from(piece));
  t.deepEqual(Buffer.concat(unread), Buffer.from(body), 'the body is still all there');
});

test('request body: an undeclared checksum is computed for a body that declares none, a declared one wins', async (t) => {
  const identity = { payload: { kind: 'unsigned' } } as VerifiedIdentity;
  const read = async (headers: Record<string, string>) => {
    const request = Object.assign(Readable.from([body]), {
      headers: { 'content-length': String(body.length), ...headers },
      complete: true,
    });
    const opened = openRequestBody(request as unknown as IncomingMessage, identity, {
      maximumBytes: 100,
      checksumAlgorithm: (declared) => declared ?? 'CRC64NVME',
    });
    for await (const _ of opened.bytes) {
      // Draining the body is what hashes it.
    }
    return opened.finish();
  };
  t.like(await read({}), { algorithm: 'CRC64NVME', checksumBase64: await checksumOf('CRC64NVME', body) });
  t.like(await read({ 'x-amz-checksum-crc32': crc32 }), { algorithm: 'CRC32', checksumBase64: crc32 });
});

const composite = { checksumAlgorithm: 'CRC32', checksumType: 'COMPOSITE' } as const;
const fullObject = { checksumAlgorithm: 'CRC32', checksumType: 'FULL_OBJECT' } as const;
const noAlgorithm = { checksumAlgorithm: null, checksumType: null } as const;

test('UploadPart into an upload created with an algorithm: that algorithm only; none only when FULL_OBJECT', (t) => {
  const mismatch = (actual: string) =>
    `400 InvalidRequest: Checksum Type mismatch occurred, expected checksum Type: crc32, actual checksum Type: ${actual}`;
  const table: [Parameters<typeof partChecksumAlgorithm>[0], string | undefined, string][] = [
    [composite, 'CRC32', 'accepted CRC32'],
    [composite, undefined, mismatch('null')],
    [composite, 'SHA256', mismatch('sha256')],
    [fullObject, 'CRC32', 'accepted CRC32'],
    // S3 computes the part checksum of a FULL_OBJECT upload itself.
    [fullObject, undefined, 'accepted CRC32'],
    [fullObject, 'CRC32C', mismatch('crc32c')],
    // CRC64NVME is FULL_OBJECT even in an upload recorded before the type was.
    [{ checksumAlgorithm: 'CRC64NVME', checksumType: null }, undefined, 'accepted CRC64NVME'],
    [{ checksumAlgorithm: 'SHA1', checksumType: null }, undefined, mismatch('null').replace('crc32', 'sha1')],
    // An upload created without an algorithm takes any part, and computes none for it.
    [noAlgorithm, 'SHA256', 'accepted SHA256'],
    [noAlgorithm, undefined, 'accepted undefined'],
  ];
  for (const [upload, declared, expected] of table) {
    t.is(
      outcome(() => partChecksumAlgorithm(upload, declared as never)),
      expected,
      `${JSON.stringify(upload)} ${declared}`,
    );
  }
});

function listed(partNumber: number, checksums: Record<string, string> = {}): CompletedPart {
  return { partNumber, etag: `"etag-${partNumber}"`, checksums };
}

test('CompleteMultipartUpload of a COMPOSITE upload: every part must list its checksum', (t) => {
  const parts = [listed(1, { ChecksumCRC32: crc32 }), listed(2), listed(3)];
  t.is(
    outcome(() => requireListedPartChecksums('CRC32', parts)),
    '400 InvalidRequest: The upload was created using a crc32 checksum. The complete request must include the checksum for each part. It was missing for part 2 in the request.',
  );
  // Another algorithm's element does not stand in for the upload's.
  t.is(
    outcome(() => requireListedPartChecksums('SHA256', [listed(4, { ChecksumCRC32: crc32 })])),
    '400 InvalidRequest: The upload was created using a sha256 checksum. The complete request must include the checksum for each part. It was missing for part 4 in the request.',
  );
  t.is(
    outcome(() => requireListedPartChecksums('CRC32', [parts[0]])),
    'accepted undefined',
  );
});

test('CompleteMultipartUpload: a listed part checksum must be the stored one, else InvalidPart', (t) => {
  const stored = new Map<number, PartRecord>([
    [1, { partNumber: 1, checksum: { algorithm: 'CRC32', value: crc32, type: 'FULL_OBJECT' } } as PartRecord],
    [2, { partNumber: 2, checksum: null } as PartRecord],
  ]);
  const invalidPart = (partNumber: number) =>
    `400 InvalidPart: One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag. (part ${partNumber})`;
  const check = (parts: CompletedPart[]) => {
    try {
      requireListedChecksumsStored('upload', parts, stored);
      return 'accepted';
    } catch (error) {
      if (!(error instanceof S3Error)) throw error;
      return `${error.status} ${error.code}: ${error.message} (part ${error.elements.PartNumber})`;
    }
  };
  t.is(check([listed(1, { ChecksumCRC32: crc32 }), listed(2)]), 'accepted');
  t.is(check([listed(1, { ChecksumCRC32: 'AAAAAA==' })]), invalidPart(1));
  t.is(check([listed(1, { ChecksumCRC32C: crc32 })]), invalidPart(1));
  // A part stored without a checksum has none to match.
  t.is(check([listed(2, { ChecksumCRC32: crc32 })]), invalidPart(2));
});
