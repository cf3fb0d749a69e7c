// SSE-C: the client sends its own 256-bit key with every request (base64, with the base64 MD5 of
// the raw key as a transmission check). Coffre never stores that key: it wraps the object's data
// key, and only a salted HMAC of it is kept, to tell a wrong key apart from damaged data on read.
// The messages are S3's ("Using Server-Side Encryption with Customer-Provided Encryption Keys").
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { CryptoError } from './errors.ts';

export const customerKeyBytes = 32;
const fingerprintSaltBytes = 16;

export interface CustomerKey {
  key: Buffer;
  /** Base64 MD5 of the raw key (what x-amz-server-side-encryption-customer-key-MD5 carries). */
  keyMd5: string;
}

/** What the object record keeps about a customer key: enough to check one, nothing to recover it. */
export interface CustomerKeyFingerprint {
  salt: string;
  hmac: string;
  keyMd5: string;
}

/** The three SSE-C headers of a request (or the three copy-source ones), as received. */
export interface CustomerKeyHeaders {
  algorithm?: string;
  key?: string;
  keyMd5?: string;
}

/** True when any of the three headers is present (the request asks for SSE-C). */
export function hasCustomerKeyHeaders(headers: CustomerKeyHeaders): boolean {
  return headers.algorithm !== undefined || headers.key !== undefined || headers.keyMd5 !== undefined;
}

/**
 * Checks the three headers as S3 does: the algorithm must be AES256, the key 256 bits of base64,
 * and the MD5 header the MD5 of that key. INVALID_CUSTOMER_KEY carries S3's message.
 */
export function parseCustomerKey(headers: CustomerKeyHeaders): CustomerKey {
  if (headers.algorithm !== 'AES256') {
    throw new CryptoError(
      'INVALID_CUSTOMER_KEY',
      headers.algorithm === undefined
        ? 'Requests specifying Server Side Encryption with Customer provided keys must provide a valid encryption algorithm.'
        : 'The encryption algorithm specified is not valid.',
    );
  }
  if (headers.key === undefined) {
    throw new CryptoError(
      'INVALID_CUSTOMER_KEY',
      'Requests specifying Server Side Encryption with Customer provided keys must provide an appropriate secret key.',
    );
  }
  const key = Buffer.from(headers.key, 'base64');
  if (key.length !== customerKeyBytes || key.toString('base64') !== headers.key.trim()) {
    throw new CryptoError('INVALID_CUSTOMER_KEY', 'The secret key was invalid for the specified algorithm.');
  }
  const keyMd5 = createHash('md5').update(key).digest('base64');
  if (headers.keyMd5 === undefined) {
    throw new CryptoError(
      'INVALID_CUSTOMER_KEY',
      'Requests specifying Server Side Encryption with Customer provided keys must provide the client calculated MD5 of the secret key.',
    );
  }
  if (headers.keyMd5 !== keyMd5) {
    throw new CryptoError(
      'INVALID_CUSTOMER_KEY',
      'The calculated MD5 hash of the key did not match the hash that was provided.',
    );
  }
  return { key, keyMd5 };
}

function hmacOf(key: Uint8Array, salt: Uint8Array): Buffer {
  return createHmac('sha256', key).update('coffre.sse-c.v1\u0000').update(salt).digest();
}

export function fingerprintCustomerKey(
  customerKey: CustomerKey,
  random: (size: number) => Buffer = randomBytes,
): CustomerKeyFingerprint {
  const salt = random(fingerprintSaltBytes);
  return {
    salt: salt.toString('base64'),
    hmac: hmacOf(customerKey.key, salt).toString('base64'),
    keyMd5: customerKey.keyMd5,
  };
}

/** WRONG_CUSTOMER_KEY unless `customerKey` is the key the fingerprint was taken of. */
export function assertCustomerKeyMatches(
  customerKey: CustomerKey,
  fingerprint: CustomerKeyFingerprint,
): void {
  const expected = Buffer.from(fingerprint.hmac, 'base64');
  const actual = hmacOf(customerKey.key, Buffer.from(fingerprint.salt, 'base64'));
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) {
    throw new CryptoError(
      'WRONG_CUSTOMER_KEY',
      'The provided encryption key does not match the key the object was encrypted with.',
    );
  }
}
