// The names and parameters of S3 requests, checked as S3 checks them: bucket names
// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html), object keys (any UTF-8,
// at most 1024 bytes), part numbers, version ids, list parameters, x-amz-copy-source and its range.

import { isValidBucketName, maximumKeyBytes } from '../objects/validation.ts';
import { S3Error } from './errors.ts';
import { percentDecodeToBytes } from './sigv4-canonical.ts';

export { maximumKeyBytes };
export const maximumPartNumber = 10_000;
/** S3 returns at most 1000 entries per list page, whatever max-keys asks for. */
export const maximumListEntries = 1000;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Percent-decodes a path piece into text; bytes that are not UTF-8 are InvalidURI. */
export function decodePathText(raw: string): string {
  try {
    return utf8.decode(percentDecodeToBytes(raw));
  } catch {
    throw new S3Error('InvalidURI');
  }
}

export function checkBucketName(name: string): string {
  if (!isValidBucketName(name)) throw new S3Error('InvalidBucketName', { elements: { BucketName: name } });
  return name;
}

/** Keys are opaque UTF-8 strings, never paths: "a/../b" and "a//b" are keys of their own. */
export function checkKey(key: string): string {
  if (Buffer.byteLength(key, 'utf8') > maximumKeyBytes) {
    throw new S3Error('KeyTooLongError', {
      elements: { MaxSizeAllowed: maximumKeyBytes, Size: Buffer.byteLength(key, 'utf8') },
    });
  }
  return key;
}

function invalidArgument(message: string, name: string, value: string): S3Error {
  return new S3Error('InvalidArgument', { message, elements: { ArgumentName: name, ArgumentValue: value } });
}

export function parsePartNumber(value: string): number {
  const partNumber = /^\d{1,5}$/.test(value) ? Number(value) : 0;
  if (partNumber < 1 || partNumber > maximumPartNumber) {
    throw invalidArgument(
      'Part number must be an integer between 1 and 10000, inclusive',
      'partNumber',
      value,
    );
  }
  return partNumber;
}

export function parseVersionId(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (value === '') throw invalidArgument('Version id cannot be the empty string', 'versionId', value);
  return value;
}

export function parseUploadId(value: string): string {
  if (value === '') throw new S3Error('NoSuchUpload', { elements: { UploadId: value } });
  return value;
}

/** part-number-marker (ListParts) and x-amz-part-number-marker (GetObjectAttributes). */
export function parseListMarker(value: string, name = 'part-number-marker'): number {
  if (!/^\d{1,5}$/.test(value)) {
    throw invalidArgument(`Provided ${name} not an integer or within integer range`, name, value);
  }
  return Number(value);
}

/** max-keys, max-uploads, max-parts: a non-negative integer, capped at 1000 like S3. */
export function parseMaximumEntries(value: string | undefined, name: string): number {
  if (value === undefined) return maximumListEntries;
  if (!/^\d{1,10}$/.test(value) || Number(value) > 2147483647) {
    throw invalidArgument(`Provided ${name} not an integer or within integer range`, name, value);
  }
  return Math.min(Number(value), maximumListEntries);
}

export function parseEncodingType(value: string | undefined): 'url' | undefined {
  if (value === undefined) return undefined;
  if (value !== 'url')
    throw invalidArgument('Invalid Encoding Method specified in Request', 'encoding-type', value);
  return value;
}

export function parseBooleanParameter(value: string | undefined, name: string): boolean {
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  throw invalidArgument(`Invalid value for ${name}`, name, value);
}

export interface CopySource {
  bucket: string;
  key: string;
  versionId?: string;
}

/**
 * x-amz-copy-source: "/bucket/key" or "bucket/key", URL-encoded, optionally followed by
 * "?versionId=...". The '?' is read before decoding, so a key holding '?' must send it as %3F.
 */
export function parseCopySource(header: string): CopySource {
  const invalid = () =>
    invalidArgument(
      'Copy Source must mention the source bucket and key: sourcebucket/sourcekey',
      'x-amz-copy-source',
      header,
    );
  const question = header.indexOf('?');
  const rawPath = question === -1 ? header : header.slice(0, question);
  const rawQuery = question === -1 ? '' : header.slice(question + 1);
  const path = decodePathText(rawPath.startsWith('/') ? rawPath.slice(1) : rawPath);
  const slash = path.indexOf('/');
  if (slash <= 0 || slash === path.length - 1) throw invalid();
  let versionId: string | undefined;
  if (rawQuery !== '') {
    const match = /^versionId=(.*)$/.exec(rawQuery);
    if (match === null) throw invalid();
    versionId = parseVersionId(decodePathText(match[1]));
  }
  return { bucket: checkBucketName(path.slice(0, slash)), key: checkKey(path.slice(slash + 1)), versionId };
}

/** x-amz-copy-source-range: "bytes=first-last", both inclusive offsets. */
export function parseCopySourceRange(
  header: string | undefined,
): { first: number; last: number } | undefined {
  if (header === undefined) return undefined;
  const match = /^bytes=(\d{1,15})-(\d{1,15})$/.exec(header.trim());
  if (match === null || Number(match[1]) > Number(match[2])) {
    throw invalidArgument(
      'The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy',
      'x-amz-copy-source-range',
      header,
    );
  }
  return { first: Number(match[1]), last: Number(match[2]) };
}
