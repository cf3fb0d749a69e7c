// What the HTTP layer will do with a request that a real client made, using the protocol primitives
// only: verify the signature, parse the endpoint, check the checksum headers (x-amz-sdk-checksum-algorithm
// among them), decode aws-chunked, check every declared digest. The client test suites capture real
// requests at the transport and hand them to this.
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import {
  AwsChunkedDecoder,
  parseAnnouncedTrailers,
  parseDecodedContentLength,
} from '../../agent/s3/aws-chunked.ts';
import {
  BodyChecksums,
  checksumAlgorithmOfHeader,
  parseChecksumValue,
  parseContentMd5,
} from '../../agent/s3/checksums.ts';
import { type Endpoint, parseEndpoint } from '../../agent/s3/endpoint.ts';
import { declaredChecksumAlgorithm } from '../../agent/s3/request-body.ts';
import { PayloadSha256Verifier, SigV4Verifier, type VerifiedIdentity } from '../../agent/s3/sigv4.ts';

export interface CapturedRequest {
  method: string;
  rawPath: string;
  rawQuery: string;
  headers: Record<string, string>;
  body: Buffer;
}

/** What the server does with a request: verify, parse, then read and check the body. */
export async function serveCapturedRequest(
  request: CapturedRequest,
  credentials: { accessKeyId: string; secretAccessKey: string },
  domain: string,
): Promise<{ identity: VerifiedIdentity; endpoint: Endpoint; body: Buffer }> {
  const verifier = new SigV4Verifier({
    regions: ['eu-west-par'],
    nowMs: () => Date.now(),
    lookupSecret: async (id) => (id === credentials.accessKeyId ? credentials.secretAccessKey : null),
  });
  const identity = await verifier.verify(request);
  const endpoint = parseEndpoint(request, { baseDomains: [domain] });
  const headers = request.headers;
  const trailers = parseAnnouncedTrailers(headers['x-amz-trailer']);
  const headerChecksum = Object.keys(headers).find((name) => checksumAlgorithmOfHeader(name) !== undefined);
  const trailerChecksum = trailers.find((name) => checksumAlgorithmOfHeader(name) !== undefined);
  const algorithm = checksumAlgorithmOfHeader(headerChecksum ?? trailerChecksum ?? '');
  // The server's own reading of the checksum headers: it refuses what S3 refuses, and finds the same.
  const declared = declaredChecksumAlgorithm({ headers } as unknown as IncomingMessage);
  if (declared !== algorithm) throw new Error(`declared ${declared}, found ${algorithm}`);
  const checksums = new BodyChecksums({
    contentMd5: headers['content-md5'] === undefined ? undefined : parseContentMd5(headers['content-md5']),
    algorithm,
    expected:
      headerChecksum && algorithm ? parseChecksumValue(algorithm, headers[headerChecksum]) : undefined,
  });
  const payload = identity.payload;
  let data: Buffer;
  let trailerValue: Uint8Array | undefined;
  if (payload.kind === 'streaming-signed' || payload.kind === 'streaming-unsigned-trailer') {
    const decoder = new AwsChunkedDecoder({
      mode:
        payload.kind === 'streaming-unsigned-trailer'
          ? 'unsigned-trailer'
          : payload.trailer
            ? 'signed-trailer'
            : 'signed',
      chunkSigning: identity.chunkSigning,
      decodedContentLengthBytes: parseDecodedContentLength(headers['x-amz-decoded-content-length']),
      announcedTrailers: trailers,
    });
    const pieces: Buffer[] = [];
    for await (const piece of decoder.decode(Readable.from([request.body]))) pieces.push(Buffer.from(piece));
    data = Buffer.concat(pieces);
    if (trailerChecksum !== undefined && algorithm !== undefined) {
      trailerValue = parseChecksumValue(algorithm, decoder.trailers.get(trailerChecksum) ?? '');
    }
  } else {
    data = request.body;
    if (payload.kind === 'sha256') {
      const sha256 = new PayloadSha256Verifier(payload.sha256Hex);
      sha256.update(data);
      sha256.verify();
    }
  }
  checksums.update(data);
  await checksums.verify(trailerValue);
  return { identity, endpoint, body: data };
}
