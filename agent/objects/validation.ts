// Re-asserts the request rules the protocol layer already validates, so the object layer never
// stores a name or a tag set that S3 would have refused, whoever calls it.
import { createHmac } from 'node:crypto';
import type { CustomerKey } from '../crypto/customer-key.ts';
import { ObjectError } from './errors.ts';
import type { Tags } from './records.ts';

/** S3: "The name of the key ... can be up to 1,024 bytes long" (UTF-8). */
export const maximumKeyBytes = 1024;
/** S3 object tagging: "You can associate up to 10 tags with an object." */
export const maximumObjectTags = 10;
/** S3 bucket tagging allows up to 50 tags. */
export const maximumBucketTags = 50;
/** S3 tags: keys up to 128 Unicode characters, values up to 256 (counted as code points). */
export const maximumTagKeyCharacters = 128;
export const maximumTagValueCharacters = 256;

const bucketNamePattern = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const ipAddressPattern = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;
const reservedPrefixes = ['xn--', 'sthree-', 'amzn-s3-demo-'];
const reservedSuffixes = ['-s3alias', '--ol-s3', '.mrap', '--x-s3', '--table-s3'];

/**
 * The general purpose bucket naming rules of the AWS S3 User Guide ("Bucket naming rules"), with
 * its older wording that each period-separated label starts and ends with a letter or a digit (no
 * "a.-b" or "a-.b": the name must stay a valid DNS name for virtual-hosted-style addressing).
 */
export function isValidBucketName(name: string): boolean {
  return (
    bucketNamePattern.test(name) &&
    !name.includes('..') &&
    !name.includes('.-') &&
    !name.includes('-.') &&
    !ipAddressPattern.test(name) &&
    !reservedPrefixes.some((prefix) => name.startsWith(prefix)) &&
    !reservedSuffixes.some((suffix) => name.endsWith(suffix))
  );
}

export function assertBucketName(name: string): void {
  if (!isValidBucketName(name))
    throw new ObjectError('InvalidBucketName', 'The specified bucket is not valid.', { bucket: name });
}

export function assertObjectKey(bucket: string, key: string): void {
  if (key.length === 0)
    throw new ObjectError('InvalidArgument', 'An object key must not be empty.', { bucket });
  if (Buffer.byteLength(key, 'utf8') > maximumKeyBytes) {
    throw new ObjectError('KeyTooLongError', 'Your key is too long', { bucket, key });
  }
  if (!key.isWellFormed()) {
    throw new ObjectError('InvalidArgument', 'An object key must be valid UTF-8.', { bucket, key });
  }
}

export function assertTags(tags: Tags, maximumTags: number): void {
  const entries = Object.entries(tags);
  if (entries.length > maximumTags) {
    throw new ObjectError('InvalidTag', `Object tags cannot be greater than ${maximumTags}`);
  }
  for (const [tagKey, value] of entries) {
    if (tagKey.length === 0 || [...tagKey].length > maximumTagKeyCharacters) {
      throw new ObjectError('InvalidTag', 'The TagKey you have provided is invalid');
    }
    if ([...value].length > maximumTagValueCharacters) {
      throw new ObjectError('InvalidTag', 'The TagValue you have provided is invalid');
    }
  }
}

/**
 * The ETag of a body written: its MD5, as S3's, except under SSE-C, where S3's ETag "is not an MD5
 * digest of the object data" and the MD5 would tell anyone who can list what the key protects. There
 * it is an HMAC of the MD5 under the customer's key (16 bytes, hex): the same bytes under the same key
 * give the same ETag, and nothing can be learnt of them without the key.
 */
export function etagOfBody(md5Hex: string, customerKey?: CustomerKey | null): string {
  if (!customerKey) return md5Hex;
  return createHmac('sha256', customerKey.key)
    .update('coffre.sse-c.etag\u0000')
    .update(md5Hex)
    .digest('hex')
    .slice(0, 32);
}

/** ETags are compared without their surrounding quotes (clients send either form). */
export function normaliseEtag(etag: string): string {
  return etag.trim().replace(/^W\//, '').replace(/^"|"$/g, '');
}
