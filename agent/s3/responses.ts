// Writing S3 responses: XML documents, empty answers, streamed object bodies and errors, each with
// the headers every S3 response carries (x-amz-request-id, x-amz-id-2, Date, Server).
import type { ServerResponse } from 'node:http';
import { finished } from 'node:stream/promises';
import { releasePiece } from '../crypto/index.ts';
import type { RawAnswer } from '../http/server.ts';
import { S3Error } from './errors.ts';

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
 * Streams an object body with backpressure, and gives every piece back (`releasePiece`) once the
 * socket is done with it, so a body may be read in lent pieces (`lendPieces`). When the client
 * goes away, the body is stopped, so the store stops reading shards for nobody; the promise then
 * rejects, as it does when the body fails.
 */
export async function sendStream(
  response: ServerResponse,
  status: number,
  body: AsyncIterable<Uint8Array>,
  headers: ResponseHeaders,
): Promise<void> {
  writeHeaders(response, status, headers);
  const pieces = body[Symbol.asyncIterator]();
  // Pieces written whose callback has not run. Node never calls it for a write made as the socket
  // was being destroyed, nor for pieces still queued in the response when it closes; once the
  // response has closed, its socket is closed too and touches none of them any more.
  const unsent = new Set<Uint8Array>();
  response.once('close', () => {
    for (const piece of unsent) releasePiece(piece);
    unsent.clear();
  });
  let ended = false;
  try {
    for (;;) {
      const next = await pieces.next();
      if (next.done) {
        ended = true;
        break;
      }
      const piece = next.value;
      if (response.destroyed) {
        releasePiece(piece);
        throw new Error('the client went away');
      }
      // The callback runs once the socket has written the piece, or failed to: either way it is
      // untouched from then on.
      unsent.add(piece);
      const accepted = response.write(piece, () => {
        unsent.delete(piece);
        releasePiece(piece);
      });
      if (!accepted) await drained(response);
    }
  } finally {
    if (!ended) await pieces.return?.(undefined).catch(() => {});
  }
  response.end();
  await finished(response);
}

/**
 * Resolves when a stream that refused a write (a response, a request) can take more; rejects if it
 * closes first. Also used by the bench's load generator.
 */
export function drained(stream: NodeJS.EventEmitter, closedMessage = 'the client went away'): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDrain = () => {
      stream.off('close', onClose);
      resolve();
    };
    const onClose = () => {
      stream.off('drain', onDrain);
      reject(new Error(closedMessage));
    };
    stream.once('drain', onDrain);
    stream.once('close', onClose);
  });
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

/**
 * The answer to a request whose headers the HTTP parser refused as too large, written by the
 * server before any handler runs: S3's RequestHeaderSectionTooLarge document, not Node's bare 431.
 */
export function headerSectionTooLarge(requestId: string, maximumHeaderBytes: number): RawAnswer {
  const error = new S3Error('RequestHeaderSectionTooLarge', {
    elements: { MaxSizeAllowed: maximumHeaderBytes },
  });
  return {
    status: error.status,
    headers: { ...commonHeaders(requestId), 'Content-Type': 'application/xml' },
    body: error.toXml({ requestId, hostId: requestId }),
  };
}
