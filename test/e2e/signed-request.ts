// A SigV4-signed HTTP request to the agent, for tests that must see S3's answer as sent (status,
// headers, raw XML), which the SDKs and CLIs parse, decode or hide.
import { createHash } from 'node:crypto';
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';

export interface SignedRequestInput {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  method: string;
  /** Path-style: /bucket or /bucket/key, already percent-encoded. */
  path: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: string;
}

export interface RawResponse {
  status: number;
  headers: Headers;
  text: string;
}

/** RFC 3986 escaping, as SigV4 canonicalises query parameters. */
function escapeUriComponent(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (character) => {
    return `%${character.charCodeAt(0).toString(16).toUpperCase()}`;
  });
}

export async function signedRequest(input: SignedRequestInput): Promise<RawResponse> {
  const url = new URL(input.endpoint);
  const body = input.body ?? '';
  const request = new HttpRequest({
    method: input.method,
    protocol: url.protocol,
    hostname: url.hostname,
    port: Number(url.port),
    path: input.path,
    query: input.query ?? {},
    headers: {
      host: url.host,
      'x-amz-content-sha256': createHash('sha256').update(body).digest('hex'),
      ...(body === '' ? {} : { 'content-length': String(Buffer.byteLength(body)) }),
      ...input.headers,
    },
    body: body === '' ? undefined : body,
  });
  const signer = new SignatureV4({
    service: 's3',
    region: 'fr-par',
    credentials: { accessKeyId: input.accessKeyId, secretAccessKey: input.secretAccessKey },
    sha256: Sha256,
    uriEscapePath: false,
  });
  const signed = await signer.sign(request);
  const search = Object.entries(input.query ?? {})
    .map(([name, value]) => `${escapeUriComponent(name)}=${escapeUriComponent(value)}`)
    .join('&');
  const headers = { ...signed.headers };
  delete headers.host;
  const response = await fetch(`${url.origin}${input.path}${search === '' ? '' : `?${search}`}`, {
    method: input.method,
    headers,
    body: body === '' ? undefined : body,
  });
  return { status: response.status, headers: response.headers, text: await response.text() };
}
