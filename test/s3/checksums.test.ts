import { randomBytes } from 'node:crypto';
import { Crc64Nvme as AwsCrc64Nvme } from '@aws-sdk/crc64-nvme';
import test from 'ava';
import { Crc64Nvme } from '../../agent/digest/crc64nvme.ts';
import {
  BodyChecksums,
  checksumAlgorithmOfHeader,
  checksumOf,
  combineFullObjectCrc,
  compositeChecksum,
  createHasher,
  parseChecksumValue,
  parseContentMd5,
} from '../../agent/s3/checksums.ts';
import { S3Error } from '../../agent/s3/errors.ts';

const check = new TextEncoder().encode('123456789');
const base64OfHex = (hex: string) => Buffer.from(hex, 'hex').toString('base64');

// Check values from the CRC catalogue (reveng): CRC-32/ISO-HDLC, CRC-32/ISCSI, CRC-64/NVME of "123456789".
const catalogue = [
  ['CRC32', 'cbf43926'],
  ['CRC32C', 'e3069283'],
  ['CRC64NVME', 'ae8b14860a799888'],
  ['SHA1', 'f7c3bc1d808e04732adf679965ccc34ca7ae3441'],
  ['SHA256', '15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225'],
] as const;

for (const [algorithm, expectedHex] of catalogue) {
  test(`${algorithm} of "123456789": the catalogue check value, base64 of the big-endian digest`, async (t) => {
    t.is(await checksumOf(algorithm, check), base64OfHex(expectedHex));
  });
}

test('CRC32 of "Hello world": the value the AWS SDK sends (i9aeUg==)', async (t) => {
  t.is(await checksumOf('CRC32', new TextEncoder().encode('Hello world')), 'i9aeUg==');
});

test('streaming hashers: any split of the input gives the digest of the whole', async (t) => {
  const data = randomBytes(1000);
  for (const algorithm of ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256', 'MD5'] as const) {
    const whole = await checksumOf(algorithm, data);
    for (const split of [0, 1, 7, 8, 9, 500, 999, 1000]) {
      const hasher = createHasher(algorithm);
      hasher.update(data.subarray(0, split));
      hasher.update(data.subarray(split));
      t.is(Buffer.from(await hasher.digest()).toString('base64'), whole, `${algorithm} split at ${split}`);
    }
  }
});

test('checksum header names: x-amz-checksum-crc64nvme names CRC64NVME, unknown names nothing', (t) => {
  t.is(checksumAlgorithmOfHeader('X-Amz-Checksum-CRC64NVME'), 'CRC64NVME');
  t.is(checksumAlgorithmOfHeader('x-amz-checksum-sha256'), 'SHA256');
  t.is(checksumAlgorithmOfHeader('x-amz-checksum-md5'), undefined);
  t.is(checksumAlgorithmOfHeader('x-amz-checksum-type'), undefined);
});

test('checksum value of the wrong length or not base64: InvalidRequest naming the header', (t) => {
  for (const value of ['AAAA', 'not base64!', 'AAAAAAAAAAA=']) {
    const error = t.throws(() => parseChecksumValue('CRC32', value), { instanceOf: S3Error });
    t.is(error.code, 'InvalidRequest');
    t.is(error.message, 'Value for x-amz-checksum-crc32 header is invalid.');
  }
  t.deepEqual(parseChecksumValue('CRC32', 'y/Q5Jg=='), new Uint8Array(Buffer.from('cbf43926', 'hex')));
});

test('Content-MD5 that is not a base64 MD5: InvalidDigest', (t) => {
  t.is(t.throws(() => parseContentMd5('abc'), { instanceOf: S3Error }).code, 'InvalidDigest');
  t.is(t.throws(() => parseContentMd5('AAAA'), { instanceOf: S3Error }).code, 'InvalidDigest');
});

test('body with the right Content-MD5 and CRC32C header: accepted, ETag is the hex MD5', async (t) => {
  const body = randomBytes(4096);
  const checksums = new BodyChecksums({
    contentMd5: parseContentMd5(await checksumOf('MD5', body)),
    algorithm: 'CRC32C',
    expected: parseChecksumValue('CRC32C', await checksumOf('CRC32C', body)),
  });
  checksums.update(body.subarray(0, 100));
  checksums.update(body.subarray(100));
  const result = await checksums.verify();
  t.is(result.md5Hex, Buffer.from(await checksumOf('MD5', body), 'base64').toString('hex'));
  t.is(result.checksumBase64, await checksumOf('CRC32C', body));
});

test('body whose Content-MD5 does not match: BadDigest with the MD5 message', async (t) => {
  const checksums = new BodyChecksums({ contentMd5: parseContentMd5(await checksumOf('MD5', check)) });
  checksums.update(new TextEncoder().encode('12345678X'));
  const error = await t.throwsAsync(checksums.verify(), { instanceOf: S3Error });
  t.is(error.code, 'BadDigest');
  t.is(error.message, 'The Content-MD5 you specified did not match what we received.');
});

test('body whose trailer CRC32 does not match: BadDigest "The CRC32 you specified did not match the calculated checksum."', async (t) => {
  const checksums = new BodyChecksums({ algorithm: 'CRC32' });
  checksums.update(check);
  const error = await t.throwsAsync(checksums.verify(parseChecksumValue('CRC32', 'AAAAAA==')), {
    instanceOf: S3Error,
  });
  t.is(error.code, 'BadDigest');
  t.is(error.message, 'The CRC32 you specified did not match the calculated checksum.');
  t.is(error.status, 400);
});

test('COMPOSITE multipart checksum: checksum of the binary part checksums, with -N', async (t) => {
  const parts = [randomBytes(100), randomBytes(200), randomBytes(3)];
  for (const algorithm of ['CRC32', 'CRC32C', 'SHA1', 'SHA256'] as const) {
    const partChecksums = await Promise.all(parts.map((part) => checksumOf(algorithm, part)));
    const concatenated = Buffer.concat(partChecksums.map((value) => Buffer.from(value, 'base64')));
    t.is(await compositeChecksum(algorithm, partChecksums), `${await checksumOf(algorithm, concatenated)}-3`);
  }
});

test('FULL_OBJECT multipart checksum: combining the parts CRCs equals the CRC of the whole object', async (t) => {
  const parts = [randomBytes(5), randomBytes(0), randomBytes(1), randomBytes(70000), randomBytes(13)];
  const whole = Buffer.concat(parts);
  for (const algorithm of ['CRC32', 'CRC32C', 'CRC64NVME'] as const) {
    const described = await Promise.all(
      parts.map(async (part) => ({
        checksumBase64: await checksumOf(algorithm, part),
        sizeBytes: part.length,
      })),
    );
    t.is(combineFullObjectCrc(algorithm, described), await checksumOf(algorithm, whole), algorithm);
  }
});

test('FULL_OBJECT with SHA256: InvalidRequest, as AWS allows it only for CRCs', (t) => {
  const error = t.throws(() => combineFullObjectCrc('SHA256', []), { instanceOf: S3Error });
  t.is(error.code, 'InvalidRequest');
});

test("CRC64NVME slice-by-16: the same digest as AWS's own @aws-sdk/crc64-nvme for every length 0..300 and 1 MiB", async (t) => {
  const data = randomBytes(1 << 20);
  const lengths = [...Array.from({ length: 301 }, (_, index) => index), 65535, 65536, 1 << 20];
  for (const length of lengths) {
    const ours = new Crc64Nvme();
    const theirs = new AwsCrc64Nvme();
    ours.update(data.subarray(0, length));
    theirs.update(data.subarray(0, length));
    const expected = Buffer.from(await theirs.digest()).toString('hex');
    if (Buffer.from(ours.digest()).toString('hex') !== expected) t.fail(`length ${length}`);
  }
  t.pass();
});

test('CRC64NVME of an unaligned view into a larger buffer: the digest of those bytes only', (t) => {
  const data = randomBytes(1000);
  const whole = new Crc64Nvme();
  whole.update(Buffer.from(data.subarray(3, 999)));
  const view = new Crc64Nvme();
  view.update(data.subarray(3, 999));
  t.deepEqual(view.digest(), whole.digest());
});
