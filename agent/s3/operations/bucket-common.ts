// What the bucket operations share: reading a small XML configuration body with every integrity
// check the client asked for, S3's owner element, quoted ETags, and the "url" encoding of listings.

import { S3Error } from '../errors.ts';
import type { Caller, OperationContext } from '../operation-context.ts';
import { openRequestBody } from '../request-body.ts';
import { maximumXmlBodyBytes, readXmlBody, type XmlChildren } from '../xml.ts';

/**
 * Reads a configuration body (CORS, versioning, Object Lock, CreateBucketConfiguration). Content-MD5,
 * x-amz-content-sha256 and x-amz-checksum-* are verified before the text is used. A request that
 * declares no body at all (no Content-Length, no Transfer-Encoding) has an empty one.
 */
export async function readConfigurationXml(context: OperationContext): Promise<string> {
  const { request, identity } = context;
  const declaresBody =
    request.headers['content-length'] !== undefined || request.headers['transfer-encoding'] !== undefined;
  if (!declaresBody) return '';
  const body = openRequestBody(request, identity, { maximumBytes: maximumXmlBodyBytes });
  const text = await readXmlBody(body.bytes);
  await body.finish();
  return text;
}

/**
 * S3 refuses some configuration bodies (CORS, Object Lock) that carry no integrity check: Content-MD5,
 * or since the additional checksums, any x-amz-checksum-* header or trailer, which current SDKs send
 * instead. Absent all of them: InvalidRequest "Missing required header for this request: Content-MD5".
 */
export function requireBodyIntegrityHeader(context: OperationContext): void {
  const announcedTrailer = context.header('x-amz-trailer') ?? '';
  const hasChecksum =
    context.header('content-md5') !== undefined ||
    Object.keys(context.request.headers).some((name) => name.startsWith('x-amz-checksum-')) ||
    announcedTrailer.toLowerCase().includes('x-amz-checksum-');
  if (!hasChecksum) {
    throw new S3Error('InvalidRequest', { message: 'Missing required header for this request: Content-MD5' });
  }
}

/**
 * S3's Owner (and Initiator, and ACL Grantee) element: the canonical ID of the bucket's tenant. No
 * DisplayName: S3 stopped returning it on 21 November 2025 ("End of support notice", S3 API
 * reference, Owner); the tenant's name stays between the operator and the agent.
 */
export function ownerChildren(caller: Caller): XmlChildren {
  return [['ID', caller.tenantId]];
}

/** ETags are stored bare; S3 shows them quoted in headers and listings alike. */
export function quotedEtag(etag: string): string {
  return etag.startsWith('"') ? etag : `"${etag}"`;
}

/**
 * The `encoding-type=url` encoding of listings. S3 percent-encodes each UTF-8 byte outside the
 * unreserved set, keeps "/" as is, and writes a space as "+"; clients decode with the form decoding
 * (botocore's unquote_plus), which is why "+" itself must come out as %2B.
 */
export function urlEncodeListingText(text: string): string {
  let encoded = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const character = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-_.~/]/.test(character)) encoded += character;
    else if (byte === 0x20) encoded += '+';
    else encoded += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return encoded;
}

/** Applies the listing's encoding to one key-like value (Key, Prefix, Delimiter, markers). */
export function listingText(value: string | undefined, encodingType: 'url' | undefined): string | undefined {
  if (value === undefined || encodingType !== 'url') return value;
  return urlEncodeListingText(value);
}
