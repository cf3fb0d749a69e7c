// Verification of AWS Signature Version 4 for S3, in the Authorization header
// (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-auth-using-authorization-header.html) and in
// a presigned URL's query (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html).
// The verifier reads only the request line and headers; what the body still needs (a sha256 to check,
// chunk signatures to verify) is returned with the caller's identity.

import { createHash, type Hash } from 'node:crypto';
import { S3Error } from './errors.ts';
import {
  canonicalRequest,
  credentialScope,
  hmacSha256,
  parseQuery,
  type RequestHeaders,
  SigningKeyCache,
  signaturesEqual,
  stringToSign,
} from './sigv4-canonical.ts';
import { type ParsedAuthorization, parseAuthorizationHeader, parsePresignedQuery } from './sigv4-parse.ts';

/** AWS allows a request time at most 15 minutes away from the server's clock. */
export const maximumClockSkewMs = 15 * 60 * 1000;

/** What the request line and headers of a request are, as the HTTP layer received them. */
export interface SigV4Request {
  method: string;
  /** The path as sent, still percent-encoded, without the query. */
  rawPath: string;
  /** The query string as sent, without '?'. */
  rawQuery: string;
  /** Lower-case header names, as Node's `IncomingMessage.headers`. */
  headers: RequestHeaders;
}

/** How the body is protected, from `x-amz-content-sha256`. */
export type PayloadSigning =
  /** The body must hash to this sha256 (checked while streaming with `PayloadSha256Verifier`). */
  | { kind: 'sha256'; sha256Hex: string }
  /** UNSIGNED-PAYLOAD, and every presigned URL without x-amz-content-sha256. */
  | { kind: 'unsigned' }
  /** STREAMING-AWS4-HMAC-SHA256-PAYLOAD(-TRAILER): aws-chunked with every chunk signed. */
  | { kind: 'streaming-signed'; trailer: boolean }
  /** STREAMING-UNSIGNED-PAYLOAD-TRAILER: aws-chunked, unsigned chunks, a checksum in the trailer. */
  | { kind: 'streaming-unsigned-trailer' };

/** What the aws-chunked decoder needs to verify chunk signatures chained from the seed signature. */
export interface ChunkSigningContext {
  signingKey: Buffer;
  requestDateTime: string;
  scope: string;
  seedSignature: string;
}

export interface VerifiedIdentity {
  accessKeyId: string;
  authentication: 'header' | 'presigned';
  region: string;
  requestTimeMs: number;
  payload: PayloadSigning;
  /** Present when `payload.kind` is 'streaming-signed'. */
  chunkSigning?: ChunkSigningContext;
}

export interface SigV4VerifierOptions {
  /** Regions this endpoint answers for; the first one is named in errors. */
  regions: readonly string[];
  /** The secret of an access key, or null when the key does not exist (or is disabled). */
  lookupSecret: (accessKeyId: string) => Promise<string | null>;
  /** The clock, in milliseconds since the epoch. */
  nowMs: () => number;
  maximumClockSkewMs?: number;
  signingKeyCache?: SigningKeyCache;
}

const streamingSignedPayload = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD';
const streamingSignedPayloadTrailer = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER';
const streamingUnsignedPayloadTrailer = 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';
const unsignedPayload = 'UNSIGNED-PAYLOAD';
const sha256HexPattern = /^[0-9a-fA-F]{64}$/;

function headerValue(headers: RequestHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/** Reads x-amz-content-sha256; AWS rejects any other value with this InvalidArgument message. */
export function parsePayloadSigning(value: string): PayloadSigning {
  if (sha256HexPattern.test(value)) return { kind: 'sha256', sha256Hex: value.toLowerCase() };
  switch (value) {
    case unsignedPayload:
      return { kind: 'unsigned' };
    case streamingSignedPayload:
      return { kind: 'streaming-signed', trailer: false };
    case streamingSignedPayloadTrailer:
      return { kind: 'streaming-signed', trailer: true };
    case streamingUnsignedPayloadTrailer:
      return { kind: 'streaming-unsigned-trailer' };
    case 'STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD':
    case 'STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER':
      throw new S3Error('NotImplemented', { message: 'SigV4a (ECDSA) signed payloads are not supported.' });
  }
  throw new S3Error('InvalidArgument', {
    message:
      'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER or a valid sha256 value.',
    elements: { ArgumentName: 'x-amz-content-sha256', ArgumentValue: value },
  });
}

/** 2016-09-12T10:09:35Z, as S3 writes Expires and ServerTime. */
function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export class SigV4Verifier {
  readonly options: SigV4VerifierOptions;
  readonly signingKeys: SigningKeyCache;

  constructor(options: SigV4VerifierOptions) {
    if (options.regions.length === 0) throw new TypeError('SigV4Verifier needs at least one region');
    this.options = options;
    this.signingKeys = options.signingKeyCache ?? new SigningKeyCache();
  }

  /** Verifies the signature of a request; throws the S3Error AWS would answer. */
  async verify(request: SigV4Request): Promise<VerifiedIdentity> {
    const query = parseQuery(request.rawQuery);
    const authorization = headerValue(request.headers, 'authorization');
    const presigned = query.some((parameter) => parameter.name === 'X-Amz-Algorithm');
    if (authorization !== undefined && presigned) {
      throw new S3Error('InvalidArgument', {
        message:
          'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified',
        elements: { ArgumentName: 'Authorization', ArgumentValue: authorization },
      });
    }
    let parsed: ParsedAuthorization;
    if (authorization !== undefined) {
      parsed = parseAuthorizationHeader(authorization, request.headers, this.options.regions);
    } else if (presigned) {
      parsed = parsePresignedQuery(query, request.headers, this.options.regions);
    } else if (
      query.some((parameter) => parameter.name === 'AWSAccessKeyId' || parameter.name === 'Signature')
    ) {
      throw new S3Error('InvalidRequest', {
        message:
          'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.',
      });
    } else {
      // Coffre serves no public buckets: an anonymous request is denied as AWS denies it on a private bucket.
      throw new S3Error('AccessDenied');
    }
    this.checkTime(parsed);
    const secretAccessKey = await this.options.lookupSecret(parsed.accessKeyId);
    if (secretAccessKey === null) {
      throw new S3Error('InvalidAccessKeyId', { elements: { AWSAccessKeyId: parsed.accessKeyId } });
    }
    return this.checkSignature(request, parsed, secretAccessKey);
  }

  checkTime(parsed: ParsedAuthorization): void {
    const nowMs = this.options.nowMs();
    const skewMs = this.options.maximumClockSkewMs ?? maximumClockSkewMs;
    if (parsed.authentication === 'presigned') {
      // A presigned URL is valid from X-Amz-Date for X-Amz-Expires seconds.
      const expiresMs = parsed.requestTimeMs + (parsed.expiresSeconds ?? 0) * 1000;
      if (parsed.requestTimeMs - nowMs > skewMs) {
        // S3 shows X-Amz-Date here in milliseconds since the epoch.
        throw new S3Error('AccessDenied', {
          message: 'Request is not yet valid',
          elements: {
            'X-Amz-Date': parsed.requestTimeMs,
            Expires: isoSeconds(expiresMs),
            ServerTime: isoSeconds(nowMs),
          },
        });
      }
      if (nowMs > expiresMs) {
        throw new S3Error('AccessDenied', {
          message: 'Request has expired',
          elements: {
            'X-Amz-Expires': parsed.expiresSeconds,
            Expires: isoSeconds(expiresMs),
            ServerTime: isoSeconds(nowMs),
          },
        });
      }
      return;
    }
    if (Math.abs(parsed.requestTimeMs - nowMs) > skewMs) {
      throw new S3Error('RequestTimeTooSkewed', {
        elements: {
          RequestTime: parsed.requestDateTime,
          ServerTime: isoSeconds(nowMs),
          MaxAllowedSkewMilliseconds: skewMs,
        },
      });
    }
  }

  checkSignature(
    request: SigV4Request,
    parsed: ParsedAuthorization,
    secretAccessKey: string,
  ): VerifiedIdentity {
    // A presigned URL may carry the payload hash as a hoisted query parameter (the JS SDK's presigner
    // sends X-Amz-Content-Sha256=UNSIGNED-PAYLOAD); without one, the payload of a presigned URL is unsigned.
    const contentSha256 =
      headerValue(request.headers, 'x-amz-content-sha256')?.trim() ??
      (parsed.authentication === 'presigned' ? parsed.contentSha256 : undefined);
    let payload: PayloadSigning;
    if (parsed.authentication === 'header') {
      // S3 requires x-amz-content-sha256 on every request signed with SigV4 in the header.
      if (contentSha256 === undefined) {
        throw new S3Error('InvalidRequest', {
          message: 'Missing required header for this request: x-amz-content-sha256',
        });
      }
      payload = parsePayloadSigning(contentSha256);
    } else {
      payload = contentSha256 === undefined ? { kind: 'unsigned' } : parsePayloadSigning(contentSha256);
    }
    const canonical = canonicalRequest({
      method: request.method,
      rawPath: request.rawPath,
      rawQuery: request.rawQuery,
      headers: request.headers,
      signedHeaders: parsed.signedHeaders,
      payloadHash: contentSha256 ?? unsignedPayload,
      excludedQueryParameter: parsed.authentication === 'presigned' ? 'X-Amz-Signature' : undefined,
    });
    const scope = credentialScope(parsed.date, parsed.region, 's3');
    const toSign = stringToSign(parsed.requestDateTime, scope, canonical);
    const signingKey = this.signingKeys.get(
      parsed.accessKeyId,
      secretAccessKey,
      parsed.date,
      parsed.region,
      's3',
    );
    const expected = hmacSha256(signingKey, toSign).toString('hex');
    if (!signaturesEqual(expected, parsed.signature)) {
      throw new S3Error('SignatureDoesNotMatch', {
        elements: {
          AWSAccessKeyId: parsed.accessKeyId,
          StringToSign: toSign,
          SignatureProvided: parsed.signature,
          StringToSignBytes: spacedHex(toSign),
          CanonicalRequest: canonical,
          CanonicalRequestBytes: spacedHex(canonical),
        },
      });
    }
    const identity: VerifiedIdentity = {
      accessKeyId: parsed.accessKeyId,
      authentication: parsed.authentication,
      region: parsed.region,
      requestTimeMs: parsed.requestTimeMs,
      payload,
    };
    if (payload.kind === 'streaming-signed') {
      identity.chunkSigning = {
        signingKey,
        requestDateTime: parsed.requestDateTime,
        scope,
        seedSignature: parsed.signature,
      };
    }
    return identity;
  }
}

/** AWS shows the bytes of StringToSign and CanonicalRequest as space-separated hex pairs. */
function spacedHex(text: string): string {
  return Buffer.from(text, 'utf8')
    .toString('hex')
    .replace(/(..)(?!$)/g, '$1 ');
}

/**
 * Checks a body against the sha256 the client signed in x-amz-content-sha256, as the body streams by.
 * A mismatch is 400 XAmzContentSHA256Mismatch, with both values, as AWS answers.
 */
export class PayloadSha256Verifier {
  readonly expectedHex: string;
  /** Only when the body is fed here: the agent's request bodies are hashed by the digest workers. */
  #hash: Hash | undefined;

  constructor(expectedHex: string) {
    this.expectedHex = expectedHex;
  }

  update(bytes: Uint8Array): void {
    this.#hash ??= createHash('sha256');
    this.#hash.update(bytes);
  }

  verify(): void {
    this.verifyDigest((this.#hash ?? createHash('sha256')).digest());
  }

  /** Checks a SHA-256 of the body computed elsewhere (a digest worker). */
  verifyDigest(sha256: Uint8Array): void {
    const computed = Buffer.from(sha256).toString('hex');
    if (!signaturesEqual(computed, this.expectedHex)) {
      throw new S3Error('XAmzContentSHA256Mismatch', {
        elements: { ClientComputedContentSHA256: this.expectedHex, S3ComputedContentSHA256: computed },
      });
    }
  }
}
