// Raw HTTP/1.1 requests to the agent over a plain socket, signed with SigV4 (@smithy/signature-v4),
// for the cases no client library will send: a body shorter or longer than declared, a client that
// goes away mid-body, wrong digests, skewed clocks, absurd headers. The answer is read as sent.
import { createHash } from 'node:crypto';
import net from 'node:net';
import { crc32 } from 'node:zlib';
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';

export interface RawRequestInput {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  method: string;
  /** Path-style and already percent-encoded: /bucket/key. */
  path: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  /** The body the request declares and signs (Content-Length, x-amz-content-sha256). */
  body?: Uint8Array | string;
  /** The bytes actually written after the headers (default: `body`). */
  sentBody?: Uint8Array | string;
  /** x-amz-content-sha256 to sign (default: the sha256 of `body`). */
  payloadHash?: string;
  /** Leave Content-Length out (aws-chunked bodies declare x-amz-decoded-content-length instead). */
  omitContentLength?: boolean;
  /** The time the signature claims (default: now). */
  signingDate?: Date;
  /** Headers added after signing (not covered by the signature). */
  unsignedHeaders?: Record<string, string>;
  /** Close the socket right after writing, without waiting for an answer (a client that goes away). */
  abortAfterWrite?: boolean;
}

export interface RawResponse {
  status: number;
  /** Lower-case names. */
  headers: Record<string, string>;
  body: Buffer;
  text: string;
}

/** RFC 3986 escaping, as SigV4 canonicalises query parameters. */
export function escapeUriComponent(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (character) => {
    return `%${character.charCodeAt(0).toString(16).toUpperCase()}`;
  });
}

export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A CRC32 as S3's x-amz-checksum-crc32 carries it: the big-endian 4 bytes, in base64. */
export function crc32Base64(bytes: Uint8Array): string {
  const digest = Buffer.alloc(4);
  digest.writeUInt32BE(crc32(bytes) >>> 0);
  return digest.toString('base64');
}

/** An aws-chunked body with unsigned chunks (one here) and a trailer, as current SDKs send it. */
export function awsChunked(data: Buffer, trailer: string): Buffer {
  return Buffer.concat([
    Buffer.from(`${data.length.toString(16)}\r\n`),
    data,
    Buffer.from(`\r\n0\r\n${trailer}\r\n\r\n`),
  ]);
}

/**
 * A PUT streamed as STREAMING-AWS4-HMAC-SHA256-PAYLOAD: the signed headers, and the aws-chunked body
 * whose every chunk signature chains from the header's signature. `forgedChunk` (an index) gets the
 * signature of other bytes, as a body changed in transit would carry.
 */
export async function signedChunkedPut(
  input: Omit<RawRequestInput, 'method' | 'body' | 'payloadHash' | 'omitContentLength'>,
  chunks: readonly Uint8Array[],
  forgedChunk?: number,
): Promise<{ headers: Record<string, string>; body: Buffer }> {
  const framedLength = [...chunks, new Uint8Array(0)].reduce(
    (total, chunk) =>
      total +
      `${chunk.length.toString(16)};chunk-signature=`.length +
      64 +
      2 +
      (chunk.length > 0 ? chunk.length + 2 : 0),
    2,
  );
  const decodedLength = chunks.reduce((total, chunk) => total + chunk.length, 0);
  const headers = await signHeaders({
    ...input,
    method: 'PUT',
    payloadHash: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
    omitContentLength: true,
    headers: {
      ...input.headers,
      'content-length': String(framedLength),
      'content-encoding': 'aws-chunked',
      'x-amz-decoded-content-length': String(decodedLength),
    },
  });
  const seedSignature = /Signature=([0-9a-f]{64})/.exec(headers.authorization)?.[1];
  const amzDate = headers['x-amz-date'];
  if (seedSignature === undefined || amzDate === undefined) throw new Error('no seed signature');
  const signingDate = new Date(
    `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13)}`,
  );
  const scope = `${amzDate.slice(0, 8)}/${signingRegion}/s3/aws4_request`;
  const signer = signerFor(input);
  const parts: Buffer[] = [];
  let previous = seedSignature;
  for (const [index, chunk] of [...chunks, new Uint8Array(0)].entries()) {
    const signedBytes = index === forgedChunk ? Buffer.concat([chunk, Buffer.from('x')]) : chunk;
    const toSign = [
      'AWS4-HMAC-SHA256-PAYLOAD',
      amzDate,
      scope,
      previous,
      sha256Hex(''),
      sha256Hex(signedBytes),
    ];
    const signature = await signer.sign(toSign.join('\n'), { signingDate });
    parts.push(Buffer.from(`${chunk.length.toString(16)};chunk-signature=${signature}\r\n`));
    if (chunk.length > 0) parts.push(Buffer.from(chunk), Buffer.from('\r\n'));
    previous = signature;
  }
  parts.push(Buffer.from('\r\n'));
  const body = Buffer.concat(parts);
  if (body.length !== framedLength) throw new Error(`framed ${body.length} bytes, declared ${framedLength}`);
  return { headers, body };
}

/** The region every raw request signs for. */
const signingRegion = 'fr-par';

function signerFor(input: Pick<RawRequestInput, 'accessKeyId' | 'secretAccessKey'>): SignatureV4 {
  return new SignatureV4({
    service: 's3',
    region: signingRegion,
    credentials: { accessKeyId: input.accessKeyId, secretAccessKey: input.secretAccessKey },
    sha256: Sha256,
    uriEscapePath: false,
  });
}

export async function signHeaders(input: RawRequestInput): Promise<Record<string, string>> {
  const url = new URL(input.endpoint);
  const body = input.body ?? '';
  const headers: Record<string, string> = {
    host: url.host,
    'x-amz-content-sha256': input.payloadHash ?? sha256Hex(body),
    ...input.headers,
  };
  if (!input.omitContentLength) headers['content-length'] = String(Buffer.byteLength(body));
  const signed = await signerFor(input).sign(
    new HttpRequest({
      method: input.method,
      protocol: url.protocol,
      hostname: url.hostname,
      port: Number(url.port),
      path: input.path,
      query: input.query ?? {},
      headers,
    }),
    { signingDate: input.signingDate },
  );
  return { ...(signed.headers as Record<string, string>), ...input.unsignedHeaders };
}

function parseResponse(raw: Buffer): RawResponse {
  const end = raw.indexOf('\r\n\r\n');
  if (end === -1) throw new Error(`no complete HTTP answer: ${JSON.stringify(raw.toString('latin1'))}`);
  const [statusLine, ...lines] = raw.subarray(0, end).toString('latin1').split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body = raw.subarray(end + 4);
  if (headers['transfer-encoding'] === 'chunked') body = decodeChunked(body);
  return { status: Number(statusLine.split(' ')[1]), headers, body, text: body.toString('utf8') };
}

function decodeChunked(bytes: Buffer): Buffer {
  const pieces: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const lineEnd = bytes.indexOf('\r\n', offset);
    const size = Number.parseInt(bytes.subarray(offset, lineEnd).toString('latin1'), 16);
    if (!(size > 0)) return Buffer.concat(pieces);
    pieces.push(bytes.subarray(lineEnd + 2, lineEnd + 2 + size));
    offset = lineEnd + 2 + size + 2;
  }
}

/** Sends one request on its own connection (Connection: close) and reads the whole answer. */
export async function rawRequest(input: RawRequestInput): Promise<RawResponse | null> {
  const url = new URL(input.endpoint);
  const headers = await signHeaders(input);
  const search = Object.entries(input.query ?? {})
    .map(([name, value]) =>
      value === '' ? escapeUriComponent(name) : `${escapeUriComponent(name)}=${escapeUriComponent(value)}`,
    )
    .join('&');
  const head = [`${input.method} ${input.path}${search === '' ? '' : `?${search}`} HTTP/1.1`];
  for (const [name, value] of Object.entries(headers)) head.push(`${name}: ${value}`);
  head.push('connection: close', '', '');
  const sent = input.sentBody ?? input.body ?? '';
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(url.port), url.hostname);
    const received: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.on('error', (error) => {
      // A server that refuses a request early (431, 413) may reset the connection while the rest is
      // still being written: what it answered before the reset is still its answer.
      if (input.abortAfterWrite) resolve(null);
      else if (received.length > 0) resolve(parseResponse(Buffer.concat(received)));
      else reject(error);
    });
    socket.on('close', () => {
      if (input.abortAfterWrite) resolve(null);
      else if (received.length === 0) reject(new Error('connection closed without an answer'));
      else resolve(parseResponse(Buffer.concat(received)));
    });
    socket.write(Buffer.from(head.join('\r\n'), 'latin1'));
    socket.write(typeof sent === 'string' ? Buffer.from(sent) : sent, () => {
      if (input.abortAfterWrite) socket.destroy();
    });
  });
}

/** The <Code> of an S3 error document. */
export function errorCode(response: RawResponse | null): string | undefined {
  return response ? /<Code>([^<]*)<\/Code>/.exec(response.text)?.[1] : undefined;
}
