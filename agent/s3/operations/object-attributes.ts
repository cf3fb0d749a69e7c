// What a write request (PutObject, CopyObject with REPLACE, CreateMultipartUpload) says about the
// version it creates, read from its headers and checked as S3 checks them: the system headers S3
// stores verbatim, user metadata (x-amz-meta-*), x-amz-tagging, x-amz-storage-class and the Object
// Lock headers.
import type { Retention, SystemHeaders, Tags } from '../../objects/records.ts';
import {
  maximumObjectTags,
  maximumTagKeyCharacters,
  maximumTagValueCharacters,
} from '../../objects/validation.ts';
import { S3Error } from '../errors.ts';
import type { OperationContext } from '../operation-context.ts';
import { encryptionAttributes } from './server-side-encryption.ts';

/**
 * "Within the PUT request header, the user-defined metadata is limited to 2 KB in size. The size of
 * user-defined metadata is measured by taking the sum of the number of bytes in the UTF-8 encoding of
 * each key and value." (S3 User Guide, "Working with object metadata").
 */
export const maximumUserMetadataBytes = 2 * 1024;

/**
 * The storage classes S3 knows and objects are readable in at once; Coffre stores every one on the
 * same disks and reports it back. The archive classes (GLACIER, DEEP_ARCHIVE) are InvalidStorageClass:
 * clients treat such objects as unreadable until restored (awscli skips them, rclone asks for a
 * restore), and Coffre has no archive tier or RestoreObject.
 */
export const knownStorageClasses = new Set([
  'STANDARD',
  'REDUCED_REDUNDANCY',
  'STANDARD_IA',
  'ONEZONE_IA',
  'INTELLIGENT_TIERING',
  'OUTPOSTS',
  'GLACIER_IR',
  'SNOW',
  'EXPRESS_ONEZONE',
  'FSX_OPENZFS',
]);

const userMetadataPrefix = 'x-amz-meta-';

/** Request header -> stored field, for the headers S3 keeps with an object and returns on GET/HEAD. */
export const systemHeaderNames: readonly (readonly [string, keyof SystemHeaders])[] = [
  ['content-type', 'contentType'],
  ['cache-control', 'cacheControl'],
  ['content-disposition', 'contentDisposition'],
  ['content-encoding', 'contentEncoding'],
  ['content-language', 'contentLanguage'],
  ['expires', 'expires'],
  ['x-amz-website-redirect-location', 'websiteRedirectLocation'],
];

export function readSystemHeaders(context: OperationContext): SystemHeaders {
  const headers: SystemHeaders = {};
  for (const [name, field] of systemHeaderNames) {
    let value = context.header(name);
    if (value === undefined) continue;
    if (field === 'contentEncoding') value = withoutAwsChunked(value);
    if (value !== '') headers[field] = value;
  }
  return headers;
}

/**
 * "aws-chunked" only says how the request body was framed; S3 drops it from the Content-Encoding it
 * stores ("Amazon S3 stores the resulting object without the aws-chunked value").
 */
function withoutAwsChunked(value: string): string {
  return value
    .split(',')
    .map((coding) => coding.trim())
    .filter((coding) => coding !== '' && coding.toLowerCase() !== 'aws-chunked')
    .join(',');
}

/** x-amz-meta-* headers, names lower-cased without the prefix, values as sent. */
export function readUserMetadata(context: OperationContext): Record<string, string> {
  // Gathered as entries: an assignment to a key such as "__proto__" would set no property at all.
  const entries: [string, string][] = [];
  let sizeBytes = 0;
  const raw = context.request.headers;
  for (const [name, value] of Object.entries(raw)) {
    if (!name.startsWith(userMetadataPrefix) || value === undefined) continue;
    const key = name.slice(userMetadataPrefix.length);
    // Repeated headers are joined with commas, as HTTP defines for list-valued fields.
    const text = Array.isArray(value) ? value.join(',') : value;
    entries.push([key, text]);
    sizeBytes += Buffer.byteLength(key, 'latin1') + Buffer.byteLength(text, 'latin1');
  }
  const metadata: Record<string, string> = Object.fromEntries(entries);
  if (sizeBytes > maximumUserMetadataBytes) {
    throw new S3Error('MetadataTooLarge', {
      elements: { Size: sizeBytes, MaxSizeAllowed: maximumUserMetadataBytes },
    });
  }
  return metadata;
}

export function readStorageClass(context: OperationContext): string | undefined {
  const value = context.header('x-amz-storage-class');
  if (value === undefined) return undefined;
  if (!knownStorageClasses.has(value)) throw new S3Error('InvalidStorageClass', { elements: {} });
  return value;
}

function invalidTag(message: string): S3Error {
  return new S3Error('InvalidTag', { message });
}

/** An object's tag set with S3's limits and messages: the count first, then each tag. */
export function checkTags(entries: readonly (readonly [string, string])[]): Tags {
  // BadRequest, not InvalidTag: S3's answer to too many tags (as logged from real S3).
  if (entries.length > maximumObjectTags)
    throw new S3Error('BadRequest', { message: `Object tags cannot be greater than ${maximumObjectTags}` });
  return checkTagEntries(entries);
}

/**
 * Each tag with S3's limits and messages (keys 1 to 128 characters, values up to 256, keys unique),
 * whatever their count (the caller checks it, before or after as S3 does for its kind of tags).
 */
export function checkTagEntries(entries: readonly (readonly [string, string])[]): Tags {
  const keys = new Set<string>();
  for (const [key, value] of entries) {
    if (key.length === 0 || [...key].length > maximumTagKeyCharacters) {
      throw invalidTag('The TagKey you have provided is invalid');
    }
    if ([...value].length > maximumTagValueCharacters) {
      throw invalidTag('The TagValue you have provided is invalid');
    }
    if (keys.has(key)) throw invalidTag('Cannot provide multiple Tags with the same key');
    keys.add(key);
  }
  // fromEntries defines each key as its own property, "__proto__" included (an assignment would not).
  return Object.fromEntries(entries);
}

/** x-amz-tagging: a URL query string, "key1=value1&key2=value2". */
export function readTaggingHeader(context: OperationContext): Tags | undefined {
  const value = context.header('x-amz-tagging');
  if (value === undefined) return undefined;
  if (value === '') return {};
  const entries: [string, string][] = [];
  for (const pair of value.split('&')) {
    const equals = pair.indexOf('=');
    const rawKey = equals === -1 ? pair : pair.slice(0, equals);
    const rawValue = equals === -1 ? '' : pair.slice(equals + 1);
    try {
      entries.push([
        decodeURIComponent(rawKey.replace(/\+/g, ' ')),
        decodeURIComponent(rawValue.replace(/\+/g, ' ')),
      ]);
    } catch {
      throw invalidTag('The header x-amz-tagging is not a valid URL-encoded query string');
    }
  }
  return checkTags(entries);
}

function invalidArgument(message: string, name?: string, value?: string): S3Error {
  return new S3Error('InvalidArgument', {
    message,
    elements: name === undefined ? undefined : { ArgumentName: name, ArgumentValue: value },
  });
}

/** An ISO 8601 date-time as S3 accepts it in retention headers and documents. */
export function parseIso8601(value: string): number | undefined {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/.test(value))
    return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

export interface ObjectLockAttributes {
  retention?: Retention;
  legalHold?: boolean;
}

/**
 * x-amz-object-lock-mode, x-amz-object-lock-retain-until-date, x-amz-object-lock-legal-hold. S3 wants
 * mode and date together, a mode among GOVERNANCE and COMPLIANCE, a date in the future, and ON or OFF.
 * Whether the bucket allows them at all is checked by the object layer (InvalidRequest "Bucket is
 * missing Object Lock Configuration").
 */
export function readObjectLockHeaders(context: OperationContext): ObjectLockAttributes {
  const mode = context.header('x-amz-object-lock-mode');
  const until = context.header('x-amz-object-lock-retain-until-date');
  const hold = context.header('x-amz-object-lock-legal-hold');
  const attributes: ObjectLockAttributes = {};
  if (mode !== undefined || until !== undefined) {
    if (mode === undefined || until === undefined) {
      throw invalidArgument(
        'x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied',
      );
    }
    if (mode !== 'GOVERNANCE' && mode !== 'COMPLIANCE') {
      throw invalidArgument('Unknown wormMode directive.', 'x-amz-object-lock-mode', mode);
    }
    const retainUntilMs = parseIso8601(until);
    if (retainUntilMs === undefined) {
      throw invalidArgument(
        'The retain until date must be provided in ISO 8601 format',
        'x-amz-object-lock-retain-until-date',
        until,
      );
    }
    if (retainUntilMs <= context.clock()) {
      throw invalidArgument(
        'The retain until date must be in the future!',
        'x-amz-object-lock-retain-until-date',
        until,
      );
    }
    attributes.retention = { mode, retainUntilMs };
  }
  if (hold !== undefined) {
    if (hold !== 'ON' && hold !== 'OFF') {
      throw invalidArgument(
        "Legal Hold must be either of 'ON' or 'OFF'",
        'x-amz-object-lock-legal-hold',
        hold,
      );
    }
    attributes.legalHold = hold === 'ON';
  }
  return attributes;
}

/** Whether the request declares any Object Lock header (S3 then requires an integrity checksum). */
export function hasObjectLockHeaders(context: OperationContext): boolean {
  return [
    'x-amz-object-lock-mode',
    'x-amz-object-lock-retain-until-date',
    'x-amz-object-lock-legal-hold',
  ].some((name) => context.header(name) !== undefined);
}

/** Everything a new version takes from the request's headers. */
export function readWriteAttributes(context: OperationContext) {
  return {
    headers: readSystemHeaders(context),
    userMetadata: readUserMetadata(context),
    tags: readTaggingHeader(context),
    storageClass: readStorageClass(context),
    ...readObjectLockHeaders(context),
    ...encryptionAttributes(context),
  };
}

/** If-Match / If-None-Match on a write (S3 conditional writes): If-None-Match accepts only "*". */
export function readWriteConditions(context: OperationContext): { ifMatch?: string; ifNoneMatch?: '*' } {
  const ifMatch = context.header('if-match');
  const ifNoneMatch = context.header('if-none-match');
  if (ifNoneMatch !== undefined && ifNoneMatch.trim() !== '*') {
    throw new S3Error('NotImplemented', {
      message: 'A header you provided implies functionality that is not implemented',
      elements: { Header: 'If-None-Match' },
    });
  }
  return {
    ifMatch: ifMatch === undefined ? undefined : ifMatch,
    ifNoneMatch: ifNoneMatch === undefined ? undefined : '*',
  };
}
