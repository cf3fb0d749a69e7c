// The body of a request, as the object layer consumes it: decoded from aws-chunked when the client
// streamed it that way, counted against what was declared, and hashed as it goes by for every
// integrity check the client asked for (x-amz-content-sha256, Content-MD5, x-amz-checksum-*) and for
// the ETag. All of a body's digests run in one pass, in a digest worker thread for a large body
// (agent/digest/digest-workers.ts), so they overlap with the object layer's work on the same bytes.
// The checks conclude in `finish()`, which the object layer calls before it commits: a body that
// fails any of them is never stored.
import type { IncomingMessage } from 'node:http';
import type { DigestAlgorithm } from '../digest/algorithms.ts';
import { type DigestWorkers, digestWhileStreaming, digestWorkers } from '../digest/digest-workers.ts';
import { acceptRequestBody, readBodyPieces } from '../http/server.ts';
import { AwsChunkedDecoder, parseAnnouncedTrailers, parseDecodedContentLength } from './aws-chunked.ts';
import {
  type BodyChecksumExpectations,
  type BodyChecksumResult,
  BodyChecksums,
  type ChecksumAlgorithm,
  checksumAlgorithmOfHeader,
  checksumAlgorithms,
  checksumHeaderName,
  isChecksumAlgorithm,
  parseChecksumValue,
  parseContentMd5,
} from './checksums.ts';
import { S3Error } from './errors.ts';
import { PayloadSha256Verifier, type VerifiedIdentity } from './sigv4.ts';

export interface RequestBody {
  /** The number of data bytes the client declared (x-amz-decoded-content-length or Content-Length). */
  readonly declaredLengthBytes: number;
  /** The data bytes; throws an S3Error when the framing, the length or a chunk signature is wrong. */
  readonly bytes: AsyncIterable<Uint8Array>;
  /**
   * After `bytes` is consumed: verifies every declared digest and returns the computed ones. Later
   * calls return the same outcome.
   */
  finish(): Promise<BodyChecksumResult>;
}

export interface RequestBodyOptions {
  /** Larger declared bodies are refused before a byte is read (EntityTooLarge). */
  maximumBytes: number;
  /** Compute the MD5 even without Content-MD5 (the ETag of a single-part object). */
  alwaysMd5?: boolean;
  /** Where large bodies are hashed (default: the agent's digest workers). */
  digests?: DigestWorkers;
  /**
   * The additional checksum to compute, given the one the request declares (from its headers, before
   * any byte of the body); it may throw to refuse the request. UploadPart uses it: a part must
   * declare its upload's algorithm, and S3 computes the checksum of a part of a FULL_OBJECT upload
   * sent without one. Default: the declared one.
   */
  checksumAlgorithm?: (declared: ChecksumAlgorithm | undefined) => ChecksumAlgorithm | undefined;
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/**
 * The additional checksum the client declared: one x-amz-checksum-* header, or one x-amz-checksum-*
 * trailer announced in x-amz-trailer. x-amz-sdk-checksum-algorithm only names the algorithm the SDK
 * used for that value, so S3 refuses it alone (InvalidRequest "x-amz-sdk-checksum-algorithm specified,
 * but no corresponding x-amz-checksum-* or x-amz-trailer headers were found.") and refuses it when it
 * names another algorithm than the header or trailer (InvalidRequest "Value for
 * x-amz-sdk-checksum-algorithm header is invalid."; the PutObject reference says BadDigest, but S3
 * answers InvalidRequest, as captured in openstack/swift's test/s3api/test_object_checksums.py and
 * versity/versitygw#1598 and #1659).
 */
function checksumExpectations(request: IncomingMessage, trailers: string[]): BodyChecksumExpectations {
  const expectations: BodyChecksumExpectations = {};
  const contentMd5 = header(request, 'content-md5');
  if (contentMd5 !== undefined) expectations.contentMd5 = parseContentMd5(contentMd5);
  const hint = header(request, 'x-amz-sdk-checksum-algorithm')?.toUpperCase();
  if (hint !== undefined && !isChecksumAlgorithm(hint)) throw invalidSdkChecksumAlgorithm();
  const inHeaders = checksumAlgorithms.filter((algorithm) => header(request, checksumHeaderName(algorithm)));
  const inTrailers = trailers
    .map((name) => checksumAlgorithmOfHeader(name))
    .filter((algorithm): algorithm is ChecksumAlgorithm => algorithm !== undefined);
  const declared = [...inHeaders, ...inTrailers];
  if (declared.length > 1) {
    throw new S3Error('InvalidRequest', {
      message: 'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.',
    });
  }
  if (inHeaders.length === 1) {
    const name = checksumHeaderName(inHeaders[0]);
    expectations.expected = parseChecksumValue(inHeaders[0], header(request, name) ?? '');
  }
  const algorithm = declared.at(0);
  if (hint !== undefined && algorithm === undefined) {
    throw new S3Error('InvalidRequest', {
      message:
        'x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* or x-amz-trailer headers were found.',
    });
  }
  if (hint !== undefined && hint !== algorithm) throw invalidSdkChecksumAlgorithm();
  if (algorithm !== undefined) expectations.algorithm = algorithm;
  return expectations;
}

function invalidSdkChecksumAlgorithm(): S3Error {
  return new S3Error('InvalidRequest', {
    message: 'Value for x-amz-sdk-checksum-algorithm header is invalid.',
  });
}

/**
 * The additional checksum algorithm a request declares (see `checksumExpectations`), read from its
 * headers alone, before any byte of its body: every refusal `openRequestBody` would make of the
 * checksum headers is made here too.
 */
export function declaredChecksumAlgorithm(request: IncomingMessage): ChecksumAlgorithm | undefined {
  return checksumExpectations(request, parseAnnouncedTrailers(header(request, 'x-amz-trailer'))).algorithm;
}

function declaredContentLength(request: IncomingMessage): number | undefined {
  const value = header(request, 'content-length');
  if (value === undefined) return undefined;
  if (!/^\d{1,16}$/.test(value.trim())) {
    throw new S3Error('InvalidArgument', {
      message: 'Content-Length must be a non-negative integer',
      elements: { ArgumentName: 'Content-Length', ArgumentValue: value },
    });
  }
  return Number(value.trim());
}

/**
 * The raw bytes as Node's parser delivers them, read fairly with the other bodies (readBodyPieces);
 * a client that goes away mid-body is IncompleteBody.
 */
async function* rawBytes(request: IncomingMessage): AsyncGenerator<Uint8Array> {
  try {
    yield* readBodyPieces(request);
  } catch (error) {
    throw new S3Error('IncompleteBody', { cause: error });
  }
  if (!request.complete) throw new S3Error('IncompleteBody');
}

export function openRequestBody(
  request: IncomingMessage,
  identity: VerifiedIdentity,
  options: RequestBodyOptions,
): RequestBody {
  const contentLength = declaredContentLength(request);
  // Content-Encoding: aws-chunked is not required: some SDKs leave it out of streaming uploads, and
  // the x-amz-content-sha256 mode alone says how the body is framed.
  const payload = identity.payload;
  const streaming = payload.kind === 'streaming-signed' || payload.kind === 'streaming-unsigned-trailer';
  if (!streaming && contentLength === undefined) {
    // An S3 PUT must say how long its body is; chunked transfer without aws-chunked is refused.
    throw new S3Error('MissingContentLength');
  }
  const trailers = parseAnnouncedTrailers(header(request, 'x-amz-trailer'));
  const expectations = checksumExpectations(request, trailers);
  if (options.checksumAlgorithm) expectations.algorithm = options.checksumAlgorithm(expectations.algorithm);
  const checksums = new BodyChecksums({ ...expectations, alwaysMd5: options.alwaysMd5 });
  const declaredLengthBytes = streaming
    ? parseDecodedContentLength(header(request, 'x-amz-decoded-content-length'))
    : (contentLength ?? 0);
  if (declaredLengthBytes > options.maximumBytes) {
    throw new S3Error('EntityTooLarge', {
      elements: { ProposedSize: declaredLengthBytes, MaxSizeAllowed: options.maximumBytes },
    });
  }
  const sha256 = payload.kind === 'sha256' ? new PayloadSha256Verifier(payload.sha256Hex) : undefined;
  const decoder = streaming
    ? new AwsChunkedDecoder({
        mode:
          payload.kind === 'streaming-unsigned-trailer'
            ? 'unsigned-trailer'
            : payload.trailer
              ? 'signed-trailer'
              : 'signed',
        chunkSigning: identity.chunkSigning,
        decodedContentLengthBytes: declaredLengthBytes,
        announcedTrailers: trailers,
      })
    : undefined;
  const source = decoder ? decoder.decode(rawBytes(request)) : rawBytes(request);
  const wanted = digestPlan(sha256 !== undefined, checksums);
  const streamed = digestWhileStreaming(source, () =>
    (options.digests ?? digestWorkers).open(
      wanted.map((entry) => entry.algorithm),
      declaredLengthBytes,
    ),
  );
  async function conclude(): Promise<BodyChecksumResult> {
    const digested = streamed.digests();
    if (digested === undefined || streamed.consumedBytes() !== declaredLengthBytes) {
      throw new S3Error('IncompleteBody');
    }
    const computed = new Map<string, Uint8Array>();
    for (const [index, digest] of (await digested).entries()) computed.set(wanted[index].role, digest);
    if (sha256) sha256.verifyDigest(computed.get('sha256')!);
    const algorithm = checksums.expectations.algorithm;
    const trailerText = algorithm && decoder?.trailers.get(checksumHeaderName(algorithm));
    if (algorithm && trailers.includes(checksumHeaderName(algorithm)) && trailerText === undefined) {
      throw new S3Error('InvalidRequest', {
        message: `The ${algorithm} checksum announced in x-amz-trailer was not sent.`,
      });
    }
    const trailerValue = trailerText && algorithm ? parseChecksumValue(algorithm, trailerText) : undefined;
    return checksums.conclude({ md5: computed.get('md5'), checksum: computed.get('checksum') }, trailerValue);
  }
  let finished: Promise<BodyChecksumResult> | undefined;
  return {
    declaredLengthBytes,
    bytes: streamed.body,
    finish() {
      finished ??= conclude();
      return finished;
    },
  };
}

/** The digests one pass over the body computes, and what each is for. */
function digestPlan(
  payloadSha256: boolean,
  checksums: BodyChecksums,
): { role: 'sha256' | 'md5' | 'checksum'; algorithm: DigestAlgorithm }[] {
  const plan: { role: 'sha256' | 'md5' | 'checksum'; algorithm: DigestAlgorithm }[] = [];
  if (payloadSha256) plan.push({ role: 'sha256', algorithm: 'SHA256' });
  if (checksums.wantsMd5) plan.push({ role: 'md5', algorithm: 'MD5' });
  const algorithm = checksums.expectations.algorithm;
  if (algorithm !== undefined) plan.push({ role: 'checksum', algorithm });
  return plan;
}

/** Drains a body the operation does not use, so the connection can be reused. */
export async function discardRequestBody(request: IncomingMessage): Promise<void> {
  acceptRequestBody(request);
  for await (const _ of request) {
    // Reading is what lets the next pipelined request through.
  }
}
