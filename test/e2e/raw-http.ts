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

export async function signHeaders(input: RawRequestInput): Promise<Record<string, string>> {
  const url = new URL(input.endpoint);
  const body = input.body ?? '';
  const headers: Record<string, string> = {
    host: url.host,
    'x-amz-content-sha256': input.payloadHash ?? sha256Hex(body),
    ...input.headers,
  };
  if (!input.omitContentLength) headers['content-length'] = String(Buffer.byteLength(body));
  const signer = new SignatureV4({
    service: 's3',
    region: 'fr-par',
    credentials: { accessKeyId: input.accessKeyId, secretAccessKey: input.secretAccessKey },
    sha256: Sha256,
    uriEscapePath: false,
  });
  const signed = await signer.sign(
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
