// Parsing of SigV4 credentials from the Authorization header and from a presigned URL's query, with
// the checks AWS makes before computing any signature: the credential scope (date, region, service,
// terminator), the request date, the presigned expiry, and which headers are signed.

import { S3Error } from './errors.ts';
import {
  canonicalHeaderValue,
  type QueryParameter,
  type RequestHeaders,
  signingAlgorithm,
} from './sigv4-canonical.ts';

/** AWS limits a presigned URL's lifetime to seven days (X-Amz-Expires at most 604800 seconds). */
export const maximumPresignedExpirySeconds = 7 * 24 * 60 * 60;

export interface ParsedAuthorization {
  authentication: 'header' | 'presigned';
  accessKeyId: string;
  /** YYYYMMDD, the date in the credential scope. */
  date: string;
  region: string;
  signedHeaders: string[];
  signature: string;
  /** The request time as signed, ISO 8601 basic format (20130524T000000Z). */
  requestDateTime: string;
  requestTimeMs: number;
  /** Presigned URLs only: X-Amz-Expires. */
  expiresSeconds?: number;
  /** Presigned URLs only: X-Amz-Content-Sha256, when the URL carries it. */
  contentSha256?: string;
}

const basicDateTimePattern = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/** Milliseconds since the epoch of an ISO 8601 basic date-time, or undefined when it is not one. */
export function parseBasicDateTime(value: string): number | undefined {
  const match = basicDateTimePattern.exec(value);
  if (match === null) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number);
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  const check = new Date(ms);
  // Reject dates such as 20130231 that Date.UTC would roll over into March.
  if (
    check.getUTCMonth() !== month - 1 ||
    check.getUTCDate() !== day ||
    hour > 23 ||
    minute > 59 ||
    second > 59
  ) {
    return undefined;
  }
  return ms;
}

function toBasicDateTime(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

type ErrorFactory = (detail: string, elements?: Record<string, string>) => S3Error;

const headerError: ErrorFactory = (detail, elements) =>
  new S3Error('AuthorizationHeaderMalformed', {
    message: `The authorization header is malformed; ${detail}`,
    elements,
  });

const queryError: ErrorFactory = (detail, elements) =>
  new S3Error('AuthorizationQueryParametersError', { message: detail, elements });

interface Credential {
  accessKeyId: string;
  date: string;
  region: string;
}

function parseCredential(
  value: string,
  requestDate: string,
  regions: readonly string[],
  fail: ErrorFactory,
  prefix: string,
): Credential {
  const parts = value.split('/');
  if (parts.length !== 5 || parts.some((part) => part === '')) {
    throw fail(
      `${prefix}the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".`,
    );
  }
  const [accessKeyId, date, region, service, terminator] = parts;
  if (!/^\d{8}$/.test(date) || parseBasicDateTime(`${date}T000000Z`) === undefined) {
    throw fail(
      `${prefix}incorrect date format "${date}". This date in the credential must be in the format "yyyyMMdd".`,
    );
  }
  if (date !== requestDate) {
    throw fail(
      `${prefix}Invalid credential date "${date}". This date is not the same as X-Amz-Date: "${requestDate}".`,
    );
  }
  if (!regions.includes(region)) {
    throw fail(`${prefix}the region '${region}' is wrong; expecting '${regions[0]}'`, { Region: regions[0] });
  }
  if (service !== 's3') {
    throw fail(`${prefix}incorrect service "${service}". This endpoint belongs to "s3".`);
  }
  if (terminator !== 'aws4_request') {
    throw fail(`${prefix}incorrect terminal "${terminator}". This endpoint uses "aws4_request".`);
  }
  return { accessKeyId, date, region };
}

function parseSignedHeaders(value: string, fail: ErrorFactory): string[] {
  const names = value.split(';');
  if (names.some((name) => name === '' || name !== name.toLowerCase())) {
    throw fail('the SignedHeaders component is malformed.');
  }
  return names;
}

/**
 * Headers the client must have signed: Host, and every x-amz-* header present, in the Authorization
 * header as in a presigned URL; S3 refuses others with AccessDenied "There were headers present in the
 * request which were not signed" (so an x-amz-acl or x-amz-copy-source cannot be added to a presigned
 * request). S3 tolerates an unsigned x-amz-content-sha256, which only describes the payload.
 */
function checkSignedHeaders(signedHeaders: readonly string[], headers: RequestHeaders): void {
  const missing: string[] = [];
  if (!signedHeaders.includes('host')) missing.push('host');
  for (const name of Object.keys(headers)) {
    if (name.startsWith('x-amz-') && name !== 'x-amz-content-sha256' && !signedHeaders.includes(name)) {
      missing.push(name);
    }
  }
  if (missing.length > 0) {
    throw new S3Error('AccessDenied', {
      message: 'There were headers present in the request which were not signed',
      elements: { HeadersNotSigned: missing.join(', ') },
    });
  }
}

/** `AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=hex` */
export function parseAuthorizationHeader(
  authorization: string,
  headers: RequestHeaders,
  regions: readonly string[],
): ParsedAuthorization {
  const trimmed = authorization.trim();
  if (trimmed.startsWith('AWS ')) {
    throw new S3Error('InvalidRequest', {
      message: 'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.',
    });
  }
  const space = trimmed.indexOf(' ');
  const algorithm = space === -1 ? trimmed : trimmed.slice(0, space);
  if (algorithm !== signingAlgorithm) {
    throw headerError(
      `the authorization mechanism you have provided is not supported. Please use ${signingAlgorithm}.`,
    );
  }
  const components = new Map<string, string>();
  for (const component of trimmed.slice(space + 1).split(',')) {
    const equals = component.indexOf('=');
    if (equals === -1) continue;
    components.set(component.slice(0, equals).trim(), component.slice(equals + 1).trim());
  }
  const credential = components.get('Credential');
  const signedHeaders = components.get('SignedHeaders');
  const signature = components.get('Signature');
  if (credential === undefined || signedHeaders === undefined || signature === undefined) {
    throw headerError(
      'the authorization header requires three components: Credential, SignedHeaders, and Signature.',
    );
  }
  const requestTimeMs = requestTimeFromHeaders(headers);
  const requestDateTime = toBasicDateTime(requestTimeMs);
  const parsedCredential = parseCredential(credential, requestDateTime.slice(0, 8), regions, headerError, '');
  const signedHeaderNames = parseSignedHeaders(signedHeaders, headerError);
  checkSignedHeaders(signedHeaderNames, headers);
  return {
    authentication: 'header',
    ...parsedCredential,
    signedHeaders: signedHeaderNames,
    signature,
    requestDateTime,
    requestTimeMs,
  };
}

/** The request time from x-amz-date (ISO 8601 basic), or failing that from Date (RFC 7231). */
function requestTimeFromHeaders(headers: RequestHeaders): number {
  const amzDate = canonicalHeaderValue(headers['x-amz-date']);
  if (amzDate !== '') {
    const ms = parseBasicDateTime(amzDate);
    if (ms !== undefined) return ms;
  } else {
    const date = canonicalHeaderValue(headers.date);
    const ms = date === '' ? Number.NaN : Date.parse(date);
    if (!Number.isNaN(ms)) return Math.floor(ms / 1000) * 1000;
  }
  throw new S3Error('AccessDenied', {
    message: 'AWS authentication requires a valid Date or x-amz-date header',
  });
}

const requiredQueryParameters = [
  'X-Amz-Algorithm',
  'X-Amz-Credential',
  'X-Amz-Signature',
  'X-Amz-Date',
  'X-Amz-SignedHeaders',
  'X-Amz-Expires',
] as const;

/** `?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=...&X-Amz-Date=...&X-Amz-Expires=...&X-Amz-SignedHeaders=host&X-Amz-Signature=...` */
export function parsePresignedQuery(
  query: readonly QueryParameter[],
  headers: RequestHeaders,
  regions: readonly string[],
): ParsedAuthorization {
  const values = new Map<string, string>();
  for (const { name, value } of query) if (!values.has(name)) values.set(name, value);
  if (requiredQueryParameters.some((name) => !values.has(name))) {
    throw queryError(
      'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.',
    );
  }
  if (values.get('X-Amz-Algorithm') !== signingAlgorithm) {
    throw queryError(`X-Amz-Algorithm only supports "${signingAlgorithm}"`);
  }
  const requestDateTime = values.get('X-Amz-Date')!;
  const requestTimeMs = parseBasicDateTime(requestDateTime);
  if (requestTimeMs === undefined) {
    throw queryError(`X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd'T'HHmmss'Z'"`);
  }
  const expires = values.get('X-Amz-Expires')!;
  if (!/^\d{1,10}$/.test(expires)) throw queryError('X-Amz-Expires should be a number');
  const expiresSeconds = Number(expires);
  if (expiresSeconds > maximumPresignedExpirySeconds) {
    throw queryError('X-Amz-Expires must be less than a week (in seconds) that is 604800');
  }
  const credential = parseCredential(
    values.get('X-Amz-Credential')!,
    requestDateTime.slice(0, 8),
    regions,
    queryError,
    'Error parsing the X-Amz-Credential parameter; ',
  );
  const signedHeaders = parseSignedHeaders(values.get('X-Amz-SignedHeaders')!, queryError);
  checkSignedHeaders(signedHeaders, headers);
  return {
    authentication: 'presigned',
    ...credential,
    signedHeaders,
    signature: values.get('X-Amz-Signature')!,
    requestDateTime,
    requestTimeMs,
    expiresSeconds,
    contentSha256: values.get('X-Amz-Content-Sha256'),
  };
}
