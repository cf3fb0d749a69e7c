// Writing S3 responses: XML documents, empty answers, streamed object bodies and errors, each with
// the headers every S3 response carries (x-amz-request-id, x-amz-id-2, Date, Server).
import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { S3Error } from './errors.ts';

export type ResponseHeaders = Record<string, string | number | undefined>;

export const serverName = 'Coffre';

export function commonHeaders(requestId: string): ResponseHeaders {
  return { 'x-amz-request-id': requestId, 'x-amz-id-2': requestId, Server: serverName };
}

function writeHeaders(response: ServerResponse, status: number, headers: ResponseHeaders): void {
  response.statusCode = status;
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) response.setHeader(name, value);
  }
}

export function sendXml(
  response: ServerResponse,
  status: number,
  xml: string,
  headers: ResponseHeaders = {},
): void {
  const body = Buffer.from(xml, 'utf8');
  writeHeaders(response, status, {
    ...headers,
    'Content-Type': 'application/xml',
    'Content-Length': body.length,
  });
  response.end(body);
}

export function sendEmpty(response: ServerResponse, status: number, headers: ResponseHeaders = {}): void {
  writeHeaders(response, status, {
    'Content-Length': status === 204 || status === 304 ? undefined : 0,
    ...headers,
  });
  response.end();
}

/**
 * Streams an object body with backpressure. When the client goes away, the pipeline destroys the
 * source, so the store stops reading shards for nobody.
 */
export async function sendStream(
  response: ServerResponse,
  status: number,
  body: AsyncIterable<Uint8Array>,
  headers: ResponseHeaders,
): Promise<void> {
  writeHeaders(response, status, headers);
  await pipeline(Readable.from(body, { objectMode: false }), response);
}

/** Sends an error as AWS does; a HEAD request gets the status and headers without a body. */
export function sendError(
  response: ServerResponse,
  error: S3Error,
  context: { requestId: string; resource: string; method: string },
): void {
  if (response.headersSent) {
    // The status line is gone: the only honest signal left is cutting the connection.
    response.destroy(error);
    return;
  }
  const headers = { ...commonHeaders(context.requestId), ...error.headers };
  if (context.method === 'HEAD') {
    sendEmpty(response, error.status, headers);
    return;
  }
  sendXml(
    response,
    error.status,
    error.toXml({ requestId: context.requestId, hostId: context.requestId, resource: context.resource }),
    headers,
  );
}
