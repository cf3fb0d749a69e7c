// The whole-body digests a request can need, behind one incremental interface, so the same code
// hashes on the calling thread (small bodies) or in a digest worker (digest-workers.ts): MD5 (the
// ETag of a single-part object, Content-MD5), SHA-256 (x-amz-content-sha256) and the additional
// checksums of x-amz-checksum-* (CRC32, CRC32C, CRC64NVME, SHA1, SHA256).
import { createHash } from 'node:crypto';
import fastCrc32c from '@chainsafe/fast-crc32c';
import { crc32 } from './crc32.ts';
import { Crc64Nvme } from './crc64nvme.ts';

export type DigestAlgorithm = 'MD5' | 'SHA1' | 'SHA256' | 'CRC32' | 'CRC32C' | 'CRC64NVME';

/** An incremental digest; `digest` is called once, after the last `update`. */
export interface StreamingDigest {
  update(bytes: Uint8Array): void;
  digest(): Uint8Array;
}

const hashNames: Partial<Record<DigestAlgorithm, string>> = { MD5: 'md5', SHA1: 'sha1', SHA256: 'sha256' };

/** A CRC-32 variant: the value of the bytes so far, continued piece by piece; digest is big-endian. */
function crc32Digest(calculate: (bytes: Uint8Array, initial: number) => number): StreamingDigest {
  let value = 0;
  return {
    update(bytes) {
      value = calculate(bytes, value);
    },
    digest() {
      const bytes = new Uint8Array(4);
      new DataView(bytes.buffer).setUint32(0, value >>> 0);
      return bytes;
    },
  };
}

export function createDigest(algorithm: DigestAlgorithm): StreamingDigest {
  const hashName = hashNames[algorithm];
  if (hashName !== undefined) {
    const hash = createHash(hashName);
    return {
      update: (bytes) => hash.update(bytes),
      digest: () => new Uint8Array(hash.digest()),
    };
  }
  switch (algorithm) {
    case 'CRC32':
      return crc32Digest((bytes, initial) => crc32(bytes, initial));
    case 'CRC32C':
      return crc32Digest((bytes, initial) => fastCrc32c.calculate(bytes, initial));
    default: {
      const crc = new Crc64Nvme();
      return { update: (bytes) => crc.update(bytes), digest: () => crc.digest() };
    }
  }
}
