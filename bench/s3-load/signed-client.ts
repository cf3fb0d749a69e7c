// The load generator's S3 client: raw HTTP/1.1 over keep-alive connections (http-connection.ts),
// each request signed with SigV4 by @smithy/signature-v4 with `x-amz-content-sha256:
// UNSIGNED-PAYLOAD`, so the client never hashes a body ("UNSIGNED-PAYLOAD: the payload is not
// signed", AWS SigV4 for S3, "Signature calculations for the Authorization header"). Client and
// server share two cores here, and this costs the client a fraction of the CPU the AWS SDK v3
// spends per request (the SDK adds its middleware stack and a CRC32 of every body by default);
// bench/s3-load/client-cost.ts measures both and the suite prints the figures.
import { createHash, createHmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import type { SourceData } from '@smithy/types';
import { ConnectionPool, type RequestBody } from './http-connection.ts';

export type { RequestBody } from './http-connection.ts';

export interface S3Target {
  /** http://127.0.0.1:PORT */
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export interface S3Response {
  status: number;
  /** Lower-case names. */
  headers: Record<string, string>;
  /** Bytes of body received; the body itself is kept only when asked for. */
  bodyBytes: number;
  body: Buffer | null;
}

export class S3RequestError extends Error {
  override name = 'S3RequestError';
  readonly code: string;
  readonly status: number;
  constructor(operation: string, status: number, body: string) {
    const code = /<Code>([^<]*)<\/Code>/.exec(body)?.[1] ?? `HTTP${status}`;
    super(`${operation}: ${status} ${code} ${body.slice(0, 300)}`);
    this.code = code;
    this.status = status;
  }
}

function bytesOf(data: SourceData): string | Uint8Array {
  if (typeof data === 'string') return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}

/** The Hash interface @smithy/signature-v4 expects, over node:crypto (HMAC when given a secret). */
class NodeSha256 {
  private readonly hash;
  constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytesOf(secret));
  }
  update(data: SourceData): void {
    this.hash.update(bytesOf(data));
  }
  async digest(): Promise<Uint8Array> {
    return this.hash.digest();
  }
}

export interface RequestOptions {
  method: 'GET' | 'PUT' | 'HEAD' | 'DELETE' | 'POST';
  /** Path-style: /bucket or /bucket/key (unescaped; escaped here). */
  path: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: RequestBody;
  /** Keep the response body (listings, errors); otherwise it is drained and counted. */
  keepBody?: boolean;
}

function escapePath(path: string): string {
  return path
    .split('/')
    .map((segment) =>
      encodeURIComponent(segment).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16)}`),
    )
    .join('/');
}

export class SignedS3Client {
  readonly target: S3Target;
  private readonly connections: ConnectionPool;
  private readonly signer: SignatureV4;
  private readonly url: URL;

  constructor(target: S3Target, maximumSockets: number) {
    this.target = target;
    this.url = new URL(target.endpoint);
    this.connections = new ConnectionPool(this.url.hostname, Number(this.url.port), maximumSockets);
    this.signer = new SignatureV4({
      credentials: { accessKeyId: target.accessKeyId, secretAccessKey: target.secretAccessKey },
      region: target.region,
      service: 's3',
      sha256: NodeSha256,
      // S3 signs the path as sent, escaped once (SigV4 "Canonical URI": S3 does not double-encode).
      uriEscapePath: false,
      applyChecksum: false,
    });
  }

  close(): void {
    this.connections.close();
  }

  async request(options: RequestOptions): Promise<S3Response> {
    const escapedPath = escapePath(options.path);
    const lengthBytes =
      options.body === undefined
        ? 0
        : options.body instanceof Uint8Array
          ? options.body.byteLength
          : options.body.lengthBytes;
    const headers: Record<string, string> = {
      host: this.url.host,
      'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
      ...options.headers,
    };
    if (options.method === 'PUT' || options.method === 'POST')
      headers['content-length'] = String(lengthBytes);
    const signed = await this.signer.sign({
      method: options.method,
      protocol: 'http:',
      hostname: this.url.hostname,
      port: Number(this.url.port),
      path: escapedPath,
      query: options.query ?? {},
      headers,
    });
    const search = new URLSearchParams(options.query ?? {}).toString().replace(/\+/g, '%20');
    const response = await this.connections.request({
      method: options.method,
      target: search ? `${escapedPath}?${search}` : escapedPath,
      headers: signed.headers,
      body: options.body,
      keepBody: (status) => options.keepBody === true || status >= 300,
    });
    if (response.status >= 300) {
      throw new S3RequestError(
        `${options.method} ${options.path}`,
        response.status,
        response.body?.toString('utf8') ?? '',
      );
    }
    return response;
  }
}
