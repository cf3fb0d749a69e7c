// The building blocks of AWS Signature Version 4 for S3: the canonical request, the string to sign,
// the signing key and the HMACs, exactly as
// https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html describes them.

import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export const signingAlgorithm = 'AWS4-HMAC-SHA256';
export const scopeTerminator = 'aws4_request';
export const emptyBodySha256Hex = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** Request headers as Node gives them: lower-case names, repeated headers as arrays or joined. */
export type RequestHeaders = Record<string, string | string[] | undefined>;

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export function hmacSha256(key: Uint8Array | string, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

/** Compares two hex signatures in time independent of where they differ. */
export function signaturesEqual(expectedHex: string, providedHex: string): boolean {
  const expected = Buffer.from(expectedHex, 'utf8');
  const provided = Buffer.from(providedHex, 'utf8');
  return expected.length === provided.length && timingSafeEqual(expected, provided);
}

function isUnreserved(byte: number): boolean {
  return (
    (byte >= 0x41 && byte <= 0x5a) || // A-Z
    (byte >= 0x61 && byte <= 0x7a) || // a-z
    (byte >= 0x30 && byte <= 0x39) || // 0-9
    byte === 0x2d || // -
    byte === 0x2e || // .
    byte === 0x5f || // _
    byte === 0x7e // ~
  );
}

/**
 * AWS's UriEncode over bytes: unreserved characters (A-Z a-z 0-9 - . _ ~) stay, every other byte
 * becomes %XY with upper-case hex; '/' stays only when `keepSlash` (the object key in the path).
 */
export function uriEncodeBytes(bytes: Uint8Array, keepSlash: boolean): string {
  let encoded = '';
  for (const byte of bytes) {
    if (isUnreserved(byte) || (keepSlash && byte === 0x2f)) encoded += String.fromCharCode(byte);
    else encoded += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return encoded;
}

export function uriEncode(text: string, keepSlash: boolean): string {
  return uriEncodeBytes(Buffer.from(text, 'utf8'), keepSlash);
}

function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x41 && code <= 0x46) return code - 0x37;
  if (code >= 0x61 && code <= 0x66) return code - 0x57;
  return -1;
}

/**
 * Decodes %XY escapes to bytes and leaves everything else as its UTF-8 bytes. A '%' not followed by
 * two hex digits is kept as it is. In a path '+' is a literal plus; in a query it is a space, as in
 * form encoding (Go clients such as minio-go and rclone send spaces in query values as '+').
 */
export function percentDecodeToBytes(text: string, plusIsSpace = false): Buffer {
  const raw = Buffer.from(plusIsSpace ? text.replaceAll('+', ' ') : text, 'utf8');
  const decoded = Buffer.allocUnsafe(raw.length);
  let length = 0;
  for (let index = 0; index < raw.length; index++) {
    const byte = raw[index];
    if (byte === 0x25 && index + 2 < raw.length) {
      const high = hexValue(raw[index + 1]);
      const low = hexValue(raw[index + 2]);
      if (high >= 0 && low >= 0) {
        decoded[length++] = high * 16 + low;
        index += 2;
        continue;
      }
    }
    decoded[length++] = byte;
  }
  return decoded.subarray(0, length);
}

/**
 * The canonical URI of an S3 request: the path as the client meant it, each byte URI-encoded once,
 * '/' kept. S3 does not normalise the path (no removal of '.', '..' or repeated slashes) and the path
 * is not encoded twice, unlike other AWS services. Decoding first then encoding again makes the result
 * the same whichever characters the client chose to escape.
 */
export function canonicalUri(rawPath: string): string {
  if (rawPath === '') return '/';
  return uriEncodeBytes(percentDecodeToBytes(rawPath), true);
}

export interface QueryParameter {
  name: string;
  value: string;
}

/** Splits a raw query string (without '?') into decoded parameters, keeping their order and repeats. */
export function parseQuery(rawQuery: string): QueryParameter[] {
  const parameters: QueryParameter[] = [];
  if (rawQuery === '') return parameters;
  for (const pair of rawQuery.split('&')) {
    if (pair === '') continue;
    const equals = pair.indexOf('=');
    const rawName = equals === -1 ? pair : pair.slice(0, equals);
    const rawValue = equals === -1 ? '' : pair.slice(equals + 1);
    parameters.push({
      name: percentDecodeToBytes(rawName, true).toString('utf8'),
      value: percentDecodeToBytes(rawValue, true).toString('utf8'),
    });
  }
  return parameters;
}

/**
 * The canonical query string: every parameter name and value URI-encoded (a parameter without a value
 * gets an empty one, "acl="), sorted by encoded name then by value, joined by '&'.
 * `excluded` leaves out X-Amz-Signature when verifying a presigned URL.
 */
export function canonicalQueryString(rawQuery: string, excluded?: string): string {
  const encoded: [string, string][] = [];
  for (const pair of rawQuery.split('&')) {
    if (pair === '') continue;
    const equals = pair.indexOf('=');
    const name = uriEncodeBytes(
      percentDecodeToBytes(equals === -1 ? pair : pair.slice(0, equals), true),
      false,
    );
    if (name === excluded) continue;
    const value =
      equals === -1 ? '' : uriEncodeBytes(percentDecodeToBytes(pair.slice(equals + 1), true), false);
    encoded.push([name, value]);
  }
  encoded.sort(([leftName, leftValue], [rightName, rightValue]) =>
    leftName < rightName
      ? -1
      : leftName > rightName
        ? 1
        : leftValue < rightValue
          ? -1
          : leftValue > rightValue
            ? 1
            : 0,
  );
  return encoded.map(([name, value]) => `${name}=${value}`).join('&');
}

/** A header value as SigV4 canonicalises it: trimmed, runs of spaces made one, repeats joined by ','. */
export function canonicalHeaderValue(value: string | string[] | undefined): string {
  const values = value === undefined ? [] : Array.isArray(value) ? value : [value];
  return values.map((one) => one.trim().replace(/\s+/g, ' ')).join(',');
}

export interface CanonicalRequestInput {
  method: string;
  rawPath: string;
  rawQuery: string;
  headers: RequestHeaders;
  /** Lower-case header names, as listed in SignedHeaders (already sorted by the client). */
  signedHeaders: readonly string[];
  payloadHash: string;
  /** A query parameter to leave out (X-Amz-Signature for presigned URLs). */
  excludedQueryParameter?: string;
}

export function canonicalRequest(input: CanonicalRequestInput): string {
  const headerLines = input.signedHeaders.map(
    (name) => `${name}:${canonicalHeaderValue(input.headers[name])}\n`,
  );
  return [
    input.method,
    canonicalUri(input.rawPath),
    canonicalQueryString(input.rawQuery, input.excludedQueryParameter),
    headerLines.join(''),
    input.signedHeaders.join(';'),
    input.payloadHash,
  ].join('\n');
}

/** `20130524/us-east-1/s3/aws4_request` */
export function credentialScope(date: string, region: string, service: string): string {
  return `${date}/${region}/${service}/${scopeTerminator}`;
}

export function stringToSign(requestDateTime: string, scope: string, canonicalRequestText: string): string {
  return [signingAlgorithm, requestDateTime, scope, sha256Hex(canonicalRequestText)].join('\n');
}

/** kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request"). */
export function deriveSigningKey(
  secretAccessKey: string,
  date: string,
  region: string,
  service: string,
): Buffer {
  const dateKey = hmacSha256(`AWS4${secretAccessKey}`, date);
  const regionKey = hmacSha256(dateKey, region);
  const serviceKey = hmacSha256(regionKey, service);
  return hmacSha256(serviceKey, scopeTerminator);
}

/** Upper bound on cached signing keys: one per (key, day, region) in use, so this covers many tenants. */
export const signingKeyCacheEntries = 4096;

/**
 * Signing keys change once a day per access key and region; deriving one costs four HMACs, so they are
 * cached. The secret is kept beside each entry so a rotated secret never reuses an old key.
 */
export class SigningKeyCache {
  readonly entries = new Map<string, { secretAccessKey: string; signingKey: Buffer }>();
  readonly maximumEntries: number;

  constructor(maximumEntries = signingKeyCacheEntries) {
    this.maximumEntries = maximumEntries;
  }

  get(accessKeyId: string, secretAccessKey: string, date: string, region: string, service: string): Buffer {
    const cacheKey = `${accessKeyId}\n${date}\n${region}\n${service}`;
    const cached = this.entries.get(cacheKey);
    if (cached !== undefined && cached.secretAccessKey === secretAccessKey) return cached.signingKey;
    const signingKey = deriveSigningKey(secretAccessKey, date, region, service);
    this.entries.delete(cacheKey);
    if (this.entries.size >= this.maximumEntries) {
      // Maps iterate in insertion order: the first entry is the oldest.
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(cacheKey, { secretAccessKey, signingKey });
    return signingKey;
  }
}
