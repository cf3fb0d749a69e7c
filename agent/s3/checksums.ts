// Streaming integrity checks of request bodies: Content-MD5 and the additional checksums
// (x-amz-checksum-crc32, -crc32c, -crc64nvme, -sha1, -sha256), given in a header or in an aws-chunked
// trailer, and the multipart checksums AWS derives from the parts' checksums
// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html).
//
// Each value is the base64 of the big-endian digest, as AWS sends it. The digests themselves live
// in agent/digest (algorithms.ts, crc32.ts, crc64nvme.ts; their libraries and speeds are in its
// README); `npm run bench checksums` measures them.

import { createDigest } from '../digest/algorithms.ts';
import { S3Error } from './errors.ts';

export type ChecksumAlgorithm = 'CRC32' | 'CRC32C' | 'CRC64NVME' | 'SHA1' | 'SHA256';
export const checksumAlgorithms: readonly ChecksumAlgorithm[] = [
  'CRC32',
  'CRC32C',
  'CRC64NVME',
  'SHA1',
  'SHA256',
];

/** AWS's checksum types for multipart uploads: a checksum of the parts' checksums, or of the whole object. */
export type ChecksumType = 'COMPOSITE' | 'FULL_OBJECT';

/** The type of an upload created with `algorithm` and no x-amz-checksum-type: CRC64NVME is only FULL_OBJECT. */
export function defaultChecksumType(algorithm: ChecksumAlgorithm): ChecksumType {
  return algorithm === 'CRC64NVME' ? 'FULL_OBJECT' : 'COMPOSITE';
}

const digestLengthBytes: Record<ChecksumAlgorithm | 'MD5', number> = {
  CRC32: 4,
  CRC32C: 4,
  CRC64NVME: 8,
  SHA1: 20,
  SHA256: 32,
  MD5: 16,
};

export function isChecksumAlgorithm(value: unknown): value is ChecksumAlgorithm {
  return typeof value === 'string' && (checksumAlgorithms as readonly string[]).includes(value);
}

/** `x-amz-checksum-crc32` for CRC32, and so on. */
export function checksumHeaderName(algorithm: ChecksumAlgorithm): string {
  return `x-amz-checksum-${algorithm.toLowerCase()}`;
}

/** The algorithm named by a header such as `x-amz-checksum-crc64nvme`, or undefined. */
export function checksumAlgorithmOfHeader(headerName: string): ChecksumAlgorithm | undefined {
  const prefix = 'x-amz-checksum-';
  const lower = headerName.toLowerCase();
  if (!lower.startsWith(prefix)) return undefined;
  const algorithm = lower.slice(prefix.length).toUpperCase();
  return isChecksumAlgorithm(algorithm) ? algorithm : undefined;
}

/** An incremental digest. `digest` may be called once. */
export interface StreamingHasher {
  update(bytes: Uint8Array): void;
  digest(): Promise<Uint8Array>;
}

/** An incremental hasher of one algorithm (the implementations are agent/digest/algorithms.ts's). */
export function createHasher(algorithm: ChecksumAlgorithm | 'MD5'): StreamingHasher {
  const digest = createDigest(algorithm);
  return { update: (bytes) => digest.update(bytes), digest: async () => digest.digest() };
}

/** The base64 checksum of bytes held in memory (small documents, tests). */
export async function checksumOf(algorithm: ChecksumAlgorithm | 'MD5', bytes: Uint8Array): Promise<string> {
  const hasher = createHasher(algorithm);
  hasher.update(bytes);
  return Buffer.from(await hasher.digest()).toString('base64');
}

const base64Pattern = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function decodeBase64Digest(value: string, lengthBytes: number): Uint8Array | undefined {
  if (!base64Pattern.test(value)) return undefined;
  const bytes = Buffer.from(value, 'base64');
  return bytes.length === lengthBytes ? new Uint8Array(bytes) : undefined;
}

/**
 * Decodes an `x-amz-checksum-*` value. AWS answers a value that is not the base64 of a digest of the
 * right length with 400 InvalidRequest "Value for x-amz-checksum-crc32 header is invalid."
 */
export function parseChecksumValue(algorithm: ChecksumAlgorithm, value: string): Uint8Array {
  const digest = decodeBase64Digest(value.trim(), digestLengthBytes[algorithm]);
  if (digest === undefined) {
    throw new S3Error('InvalidRequest', {
      message: `Value for ${checksumHeaderName(algorithm)} header is invalid.`,
    });
  }
  return digest;
}

/** Decodes Content-MD5; a value that is not a base64 MD5 is InvalidDigest, as AWS. */
export function parseContentMd5(value: string): Uint8Array {
  const digest = decodeBase64Digest(value.trim(), digestLengthBytes.MD5);
  if (digest === undefined) throw new S3Error('InvalidDigest');
  return digest;
}

function timingSafeEqualBytes(left: Uint8Array, right: Uint8Array): boolean {
  if (left.length !== right.length) return false;
  let difference = 0;
  for (let index = 0; index < left.length; index++) difference |= left[index] ^ right[index];
  return difference === 0;
}

export interface BodyChecksumExpectations {
  /** The decoded Content-MD5 header, if the request has one. */
  contentMd5?: Uint8Array;
  /** The additional checksum algorithm: from its header or `x-amz-trailer`, or one S3 computes unasked. */
  algorithm?: ChecksumAlgorithm;
  /** The expected value when it came in a header; a trailer's value is given to `verify` instead. */
  expected?: Uint8Array;
  /** Also compute an MD5 even without Content-MD5 (S3 ETags of single-part objects are the body's MD5). */
  alwaysMd5?: boolean;
}

export interface BodyChecksumResult {
  /** Hex MD5 of the body when computed: the ETag of a single-part object. */
  md5Hex?: string;
  algorithm?: ChecksumAlgorithm;
  /** Base64 of the additional checksum, as AWS returns it in `x-amz-checksum-*`. */
  checksumBase64?: string;
}

/**
 * Hashes a body as it streams by, then checks it against what the client declared. A mismatch is
 * 400 BadDigest: "The Content-MD5 you specified did not match what we received." for MD5 and
 * "The CRC32 you specified did not match the calculated checksum." for the additional checksums.
 */
export class BodyChecksums {
  readonly expectations: BodyChecksumExpectations;
  // Created on first use: a body hashed elsewhere (`conclude`) never needs them.
  #md5?: StreamingHasher;
  #checksum?: StreamingHasher;

  constructor(expectations: BodyChecksumExpectations) {
    this.expectations = expectations;
  }

  #hashers(): { md5?: StreamingHasher; checksum?: StreamingHasher } {
    if (this.wantsMd5) this.#md5 ??= createHasher('MD5');
    const { algorithm } = this.expectations;
    if (algorithm !== undefined) this.#checksum ??= createHasher(algorithm);
    return { md5: this.#md5, checksum: this.#checksum };
  }

  /** True when the body's MD5 is needed (Content-MD5 given, or asked for the ETag). */
  get wantsMd5(): boolean {
    return this.expectations.contentMd5 !== undefined || this.expectations.alwaysMd5 === true;
  }

  update(bytes: Uint8Array): void {
    const { md5, checksum } = this.#hashers();
    md5?.update(bytes);
    checksum?.update(bytes);
  }

  /** Ends the body. `trailerValue` is the checksum the aws-chunked trailer carried, already decoded. */
  async verify(trailerValue?: Uint8Array): Promise<BodyChecksumResult> {
    const { md5, checksum } = this.#hashers();
    return this.conclude({ md5: await md5?.digest(), checksum: await checksum?.digest() }, trailerValue);
  }

  /**
   * Checks digests computed elsewhere (a digest worker) against the declared ones: `md5` when
   * `wantsMd5`, `checksum` when an algorithm was declared.
   */
  conclude(
    computed: { md5?: Uint8Array; checksum?: Uint8Array },
    trailerValue?: Uint8Array,
  ): BodyChecksumResult {
    const { contentMd5, algorithm } = this.expectations;
    const result: BodyChecksumResult = { algorithm };
    const md5 = computed.md5;
    if (md5 !== undefined) {
      if (contentMd5 !== undefined && !timingSafeEqualBytes(md5, contentMd5)) {
        throw new S3Error('BadDigest', {
          elements: { ExpectedDigest: Buffer.from(contentMd5).toString('hex'), CalculatedDigest: hex(md5) },
        });
      }
      result.md5Hex = hex(md5);
    }
    const calculated = computed.checksum;
    if (calculated !== undefined && algorithm !== undefined) {
      const expected = trailerValue ?? this.expectations.expected;
      if (expected !== undefined && !timingSafeEqualBytes(calculated, expected)) {
        throw new S3Error('BadDigest', {
          message: `The ${algorithm} you specified did not match the calculated checksum.`,
        });
      }
      result.checksumBase64 = Buffer.from(calculated).toString('base64');
    }
    return result;
  }
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

/**
 * A multipart upload's COMPOSITE checksum: the checksum of the concatenated binary checksums of the
 * parts, in part order, followed by `-N` (the number of parts), as in `ChecksumCRC32: "Ct9E1A==-3"`.
 */
export async function compositeChecksum(
  algorithm: ChecksumAlgorithm,
  partChecksumsBase64: readonly string[],
): Promise<string> {
  const hasher = createHasher(algorithm);
  for (const part of partChecksumsBase64) hasher.update(parseChecksumValue(algorithm, part));
  return `${Buffer.from(await hasher.digest()).toString('base64')}-${partChecksumsBase64.length}`;
}

/** The algorithms AWS accepts with the FULL_OBJECT checksum type (those whose values can be combined). */
export const fullObjectChecksumAlgorithms: readonly ChecksumAlgorithm[] = ['CRC32', 'CRC32C', 'CRC64NVME'];

// The three CRCs are reflected, with all-ones initial value and final xor; the polynomials below are
// written reflected (bit 0 is the coefficient of x^(width-1)).
const reflectedPolynomials: Partial<Record<ChecksumAlgorithm, { widthBits: bigint; polynomial: bigint }>> = {
  CRC32: { widthBits: 32n, polynomial: 0xedb88320n },
  CRC32C: { widthBits: 32n, polynomial: 0x82f63b78n },
  CRC64NVME: { widthBits: 64n, polynomial: 0x9a6c9329ac4bc9b5n },
};

/** a * b modulo the polynomial, both in reflected representation (as zlib's multmodp). */
function multiplyModulo(a: bigint, b: bigint, widthBits: bigint, polynomial: bigint): bigint {
  let product = 0n;
  let multiplier = b;
  for (let bit = widthBits - 1n; bit >= 0n; bit--) {
    if ((a >> bit) & 1n) product ^= multiplier;
    multiplier = multiplier & 1n ? (multiplier >> 1n) ^ polynomial : multiplier >> 1n;
  }
  return product;
}

/** x^(8 * lengthBytes) modulo the polynomial, by repeated squaring. */
function powerOfXForBytes(lengthBytes: bigint, widthBits: bigint, polynomial: bigint): bigint {
  let result = 1n << (widthBits - 1n); // x^0
  let square = 1n << (widthBits - 2n); // x^1
  let exponent = lengthBytes * 8n;
  while (exponent > 0n) {
    if (exponent & 1n) result = multiplyModulo(result, square, widthBits, polynomial);
    square = multiplyModulo(square, square, widthBits, polynomial);
    exponent >>= 1n;
  }
  return result;
}

/**
 * A multipart upload's FULL_OBJECT checksum: the CRC of the whole object, combined from the parts' CRCs
 * and lengths without reading the data again, as zlib's crc32_combine: crc(A || B) =
 * crc(A) * x^(8 * length(B)) mod P  xor  crc(B) (the initial value and final xor cancel out).
 */
export function combineFullObjectCrc(
  algorithm: ChecksumAlgorithm,
  parts: readonly { checksumBase64: string; sizeBytes: number }[],
): string {
  const definition = reflectedPolynomials[algorithm];
  if (definition === undefined) {
    throw new S3Error('InvalidRequest', {
      message: `The FULL_OBJECT checksum type cannot be used with the ${algorithm.toLowerCase()} checksum algorithm.`,
    });
  }
  const { widthBits, polynomial } = definition;
  const lengthBytes = Number(widthBits / 8n);
  let combined: bigint | undefined;
  for (const part of parts) {
    const value = BigInt(
      `0x${Buffer.from(parseChecksumValue(algorithm, part.checksumBase64)).toString('hex')}`,
    );
    combined =
      combined === undefined
        ? value
        : multiplyModulo(
            powerOfXForBytes(BigInt(part.sizeBytes), widthBits, polynomial),
            combined,
            widthBits,
            polynomial,
          ) ^ value;
  }
  const bytes = Buffer.from((combined ?? 0n).toString(16).padStart(lengthBytes * 2, '0'), 'hex');
  return bytes.toString('base64');
}
