// The listener: plain HTTP (loopback development) or TLS, a request context per request, limits
// on what a client can make the agent hold, and a graceful shutdown that lets requests in flight
// finish before the process exits.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';

/** What every handler gets besides the request and the response. */
export interface RequestContext {
  /** Returned as x-amz-request-id and in error bodies, so a client's report can be traced. */
  readonly requestId: string;
  readonly startedAtMs: number;
  /** The peer address, for the audit log. */
  readonly remoteAddress: string;
}

export type RequestHandler = (
  request: http.IncomingMessage,
  response: http.ServerResponse,
  context: RequestContext,
) => Promise<void>;

export interface ListenOptions {
  host: string;
  port: number;
  /** PEM files; both or neither. */
  tls?: { certificateFile: string; privateKeyFile: string };
  /** A request whose headers take longer than this is dropped (slowloris). */
  headersTimeoutMs?: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs?: number;
  /** How long shutdown waits for requests in flight before it cuts their connections. */
  shutdownGraceMs?: number;
  /** Called when a handler throws after the response has started: the connection is cut. */
  onHandlerCrash?: (error: unknown) => void;
  /**
   * The answer to a request whose headers are larger than the server takes (before any handler
   * runs: the protocol's own error document); without it, Node's bare 431. The connection is closed.
   */
  headersTooLarge?: (requestId: string, maximumHeaderBytes: number) => RawAnswer;
}

/** A whole answer written straight to the socket, for requests the HTTP parser refused. */
export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  /** Stops accepting, waits for requests in flight (bounded by shutdownGraceMs), then resolves. */
  close(): Promise<void>;
}

/** AWS allows 8 KiB of request headers; 16 KiB leaves room for long presigned query strings. */
const maximumHeaderBytes = 16 * 1024;

/** Random bytes drawn at once for this many request ids: one call to the CSPRNG per batch. */
const requestIdsPerDraw = 512;
const requestIdBytes = 8;
let requestIdPool = Buffer.alloc(0);
let requestIdOffset = 0;

/** 16 upper-case hex digits, random (AWS's x-amz-request-id has the same shape). */
export function newRequestId(): string {
  if (requestIdOffset === requestIdPool.byteLength) {
    requestIdPool = randomBytes(requestIdBytes * requestIdsPerDraw);
    requestIdOffset = 0;
  }
  const start = requestIdOffset;
  requestIdOffset += requestIdBytes;
  return requestIdPool.toString('hex', start, requestIdOffset).toUpperCase();
}

function rawAnswer(answer: RawAnswer): string {
  const body = Buffer.from(answer.body, 'utf8');
  const headers = {
    ...answer.headers,
    'Content-Length': String(body.byteLength),
    Date: new Date().toUTCString(),
    Connection: 'close',
  };
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}`);
  return `HTTP/1.1 ${answer.status} ${http.STATUS_CODES[answer.status]}\r\n${lines.join('\r\n')}\r\n\r\n${answer.body}`;
}

/** Node's own answer to a request it could not parse (lib/_http_server.js, socketOnError). */
function nodeClientErrorAnswer(code: string | undefined): string {
  const status =
    code === 'HPE_HEADER_OVERFLOW'
      ? 431
      : code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW'
        ? 413
        : code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? 408
          : 400;
  return `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nConnection: close\r\n\r\n`;
}

/**
 * Requests whose client sent `Expect: 100-continue` and waits for "100 Continue" before it sends
 * its body. The handler runs first; the 100 goes out only when it starts reading the body
 * (acceptRequestBody). A request refused from its headers (a bad signature, no such bucket, a
 * refused checksum) is answered before the client has sent a byte of a body it need not send, as
 * S3 does: without this, Node answered 100 at once and the client sent the whole body for nothing.
 */
const withheldBodies = new WeakMap<http.IncomingMessage, http.ServerResponse>();

/** Whether the request announces a body: chunked, or a Content-Length other than 0. */
function hasBody(request: http.IncomingMessage): boolean {
  const length = request.headers['content-length'];
  return (
    request.headers['transfer-encoding'] !== undefined || (length !== undefined && length.trim() !== '0')
  );
}

/** Asks for the body of a request that waits for 100 Continue; does nothing for any other. */
export function acceptRequestBody(request: http.IncomingMessage): void {
  const response = withheldBodies.get(request);
  if (response === undefined) return;
  withheldBodies.delete(request);
  if (!response.headersSent && !response.writableEnded) response.writeContinue();
}

/** Whether the request's client still waits for 100 Continue: no byte of its body was sent. */
export function isRequestBodyWithheld(request: http.IncomingMessage): boolean {
  return withheldBodies.has(request);
}

/**
 * What one body may take from its connection in one turn of the event loop while other bodies are
 * being read too (see readBodyPieces).
 */
export const bodyBytesPerTurn = 64 * 1024;
/**
 * ...once it has taken this much: a small body (a 1 MiB PUT) is never held back, which cost 1 MiB
 * PUTs at 16 in flight 10-12 % of their throughput.
 */
export const bodyBytesBeforeTurns = 1024 * 1024;
/**
 * Requests whose bodies are being read through readBodyPieces now. A request leaves when its reader
 * ends or when the request closes, whichever comes first: a reader dropped without being ended
 * holds back the bodies read beside it until its request ends (at the latest, Node destroys it at
 * its request timeout), not for the life of the process.
 */
const bodiesBeingRead = new Set<http.IncomingMessage>();
/** Turns of the event loop, counted by a setImmediate scheduled while bodies are read. */
let turnNumber = 0;
let turnEndScheduled = false;

/** Bodies being read through readBodyPieces now (for tests). */
export function bodiesInReading(): number {
  return bodiesBeingRead.size;
}

function currentTurn(): number {
  if (!turnEndScheduled) {
    turnEndScheduled = true;
    setImmediate(() => {
      turnNumber += 1;
      turnEndScheduled = false;
    });
  }
  return turnNumber;
}

/**
 * A request's body, piece by piece as Node's parser hands it over, read fairly with the other
 * bodies being read at the same time; asks for the body of a request that waits for 100 Continue.
 * A reader that stops early (a refused chunk signature, a failed write) leaves the request open,
 * not destroyed with its socket, so that the error can still be answered (settleUnreadBody reads
 * or drops the rest). Throws what the request's stream throws (the client went away).
 *
 * Why the fairness. libuv reads a socket up to 32 times (64 KiB each) in one turn of the event
 * loop as long as its stream keeps reading, and a body whose consumer takes each piece at once (in
 * microtasks, as the PUT path does until its writes or digests push back) keeps it reading. So a
 * connection whose kernel receive buffer had grown (TCP autotuning) gave its body up to 2 MiB per
 * turn, while one whose buffer had stayed small gave ~95 KB, which kept it small: at 64 concurrent
 * 64 MiB PUTs, some took 0.9 s and others 29.7 s (BENCHMARKS.md, run 14). While another body is
 * being read, a body past its first bodyBytesBeforeTurns that has taken bodyBytesPerTurn in this
 * turn waits for the next one, and every connection with bytes waiting gets its turn. A body read
 * alone is never held back.
 */
export async function* readBodyPieces(request: http.IncomingMessage): AsyncGenerator<Buffer> {
  acceptRequestBody(request);
  bodiesBeingRead.add(request);
  const leave = () => bodiesBeingRead.delete(request);
  request.once('close', leave);
  try {
    let turn = -1;
    let takenBytes = 0;
    let bodyBytes = 0;
    for await (const piece of request.iterator({ destroyOnReturn: false })) {
      const now = currentTurn();
      if (now !== turn) {
        turn = now;
        takenBytes = 0;
      }
      takenBytes += (piece as Buffer).byteLength;
      bodyBytes += (piece as Buffer).byteLength;
      yield piece as Buffer;
      if (takenBytes >= bodyBytesPerTurn && bodyBytes > bodyBytesBeforeTurns && bodiesBeingRead.size > 1) {
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
  } finally {
    leave();
    request.off('close', leave);
  }
}

/** An unread body this small is read and dropped before an early answer (see settleUnreadBody). */
const drainedBodyBytes = 8 * 1024 * 1024;
/** ...if it arrives within this time. */
const drainMs = 2_000;

/**
 * Before an answer to a request whose body was not (all) read: either makes the connection close
 * after the answer, or reads the rest of a small body first, so that the connection stays usable.
 *
 * Closing a socket with unread bytes makes the kernel reset the connection, and a client that is
 * still sending its body may then lose the answer before it reads it (it sees ECONNRESET, not the
 * error). So a body that was never asked for (the client waits for 100 Continue) is not read and
 * the connection closes cleanly. A rest of at most 8 MiB (by Content-Length) that arrives within
 * 2 s is read and dropped first. A larger or slower body closes the connection, as S3 does, since
 * reading it would cost more than the answer is worth: with a lingering close (lingerAfterAnswer),
 * so that the client still gets the answer.
 */
export async function settleUnreadBody(
  request: http.IncomingMessage,
  response: http.ServerResponse,
): Promise<void> {
  if (request.complete) return;
  const declared = Number(request.headers['content-length']);
  // A client that waited for 100 Continue and got none has sent nothing, unless it stopped waiting
  // (SDKs send the body after ~1 s): then bytes have arrived and the body is read like any other.
  const nothingSent = isRequestBodyWithheld(request) && request.readableLength === 0;
  if (nothingSent || request.destroyed || !Number.isSafeInteger(declared) || declared > drainedBodyBytes) {
    lingerAfterAnswer(request, response);
    return;
  }
  const ended = await new Promise<boolean>((resolve) => {
    let readBytes = 0;
    const settle = (value: boolean): void => {
      clearTimeout(timer);
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('close', onClose);
      resolve(value);
    };
    const onData = (chunk: Buffer): void => {
      readBytes += chunk.length;
      if (readBytes > drainedBodyBytes) settle(false);
    };
    const onEnd = (): void => settle(true);
    const onClose = (): void => settle(request.complete);
    const timer = setTimeout(() => settle(false), drainMs);
    request.on('data', onData);
    request.once('end', onEnd);
    request.once('close', onClose);
    request.resume();
  });
  if (!ended) lingerAfterAnswer(request, response);
}

/** How long a connection closed after an early answer reads (and drops) what its client still sends. */
const lingerMs = 2_000;

/**
 * Connections that close after their current answer (lingerAfterAnswer): a request that arrives on
 * one afterwards (pipelined behind a refused body) is not run, as HTTP/1.1 requires of a server
 * that said `Connection: close` (RFC 9112, 9.6); it is never answered either.
 */
const closingSockets = new WeakSet<Socket>();

/**
 * Closes the connection after this answer without resetting it: a lingering close, as Apache and
 * nginx make. Node ends a connection whose answer says `Connection: close` with
 * `socket.destroySoon()`: the answer, a FIN, and the socket closed as soon as that is written. With
 * bytes of the body still unread, or still arriving, that close resets the connection, and a client
 * still sending loses the answer it has not read yet (it sees ECONNRESET). Here the socket sends its
 * FIN after the answer, then reads and drops the rest of the body, and closes once the client has
 * closed its side (it does on reading the answer), or after 2 s at most.
 */
function lingerAfterAnswer(request: http.IncomingMessage, response: http.ServerResponse): void {
  response.setHeader('Connection', 'close');
  const socket = request.socket;
  closingSockets.add(socket);
  // An own destroySoon is what Node calls instead of net.Socket's (_http_server.js, resOnFinish).
  socket.destroySoon = () => {
    request.resume();
    socket.end();
    const timer = setTimeout(() => socket.destroy(), lingerMs).unref();
    socket.once('close', () => clearTimeout(timer));
  };
}

export async function listen(handler: RequestHandler, options: ListenOptions): Promise<RunningServer> {
  const serverOptions: http.ServerOptions = {
    maxHeaderSize: maximumHeaderBytes,
    headersTimeout: options.headersTimeoutMs ?? 60_000,
    // S3 uploads can legitimately stream for hours; only idle connections are timed out.
    requestTimeout: 0,
    keepAliveTimeout: options.keepAliveTimeoutMs ?? 5_000,
  };
  const server = options.tls
    ? https.createServer({
        ...serverOptions,
        cert: readFileSync(options.tls.certificateFile),
        key: readFileSync(options.tls.privateKeyFile),
      })
    : http.createServer(serverOptions);
  const headersTooLarge = options.headersTooLarge;
  if (headersTooLarge) {
    server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
      // A parse error may come on a keep-alive connection whose previous response is still being
      // sent: then nothing may be written into it, only the connection cut (as Node does).
      const current = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
      const mayAnswer = socket.writable && current?.headersSent !== true;
      if (error.code === 'HPE_HEADER_OVERFLOW' && mayAnswer) {
        // Ended, not destroyed: the rest of the oversized headers may still be unread, and a close
        // with unread bytes would reset the connection before the client reads the answer.
        socket.end(rawAnswer(headersTooLarge(newRequestId(), maximumHeaderBytes)));
        return;
      }
      // Otherwise what Node does without this listener (its default answers need it gone).
      if (mayAnswer) socket.write(nodeClientErrorAnswer(error.code));
      socket.destroy(error);
    });
  }
  let inFlight = 0;
  let idle: (() => void) | null = null;
  // With a listener, Node no longer answers 100 Continue by itself: acceptRequestBody does.
  server.on('checkContinue', (request: http.IncomingMessage, response: http.ServerResponse) => {
    // No body to wait for: 100 at once, or Node would close the connection after the answer.
    if (hasBody(request)) withheldBodies.set(request, response);
    else response.writeContinue();
    server.emit('request', request, response);
  });
  server.on('request', (request: http.IncomingMessage, response: http.ServerResponse) => {
    if (closingSockets.has(request.socket)) {
      // Behind an answer that closes the connection: dropped unread, like the rest of the bytes.
      request.resume();
      return;
    }
    inFlight += 1;
    response.on('close', () => {
      inFlight -= 1;
      if (inFlight === 0 && idle) idle();
    });
    const context: RequestContext = {
      requestId: newRequestId(),
      startedAtMs: Date.now(),
      remoteAddress: request.socket.remoteAddress ?? '',
    };
    handler(request, response, context).catch((error: unknown) => {
      // The handler maps every operating error to an S3 response itself; reaching here means
      // the response could not be completed, so the connection is cut rather than left hanging.
      options.onHandlerCrash?.(error);
      request.destroy();
      response.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const scheme = options.tls ? 'https' : 'http';
  const hostForUrl = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `${scheme}://${hostForUrl}:${port}`,
    port,
    close: () =>
      closeGracefully(
        server,
        () => inFlight,
        (resolve) => (idle = resolve),
        options,
      ),
  };
}

async function closeGracefully(
  server: http.Server,
  inFlight: () => number,
  onIdle: (resolve: () => void) => void,
  options: ListenOptions,
): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  if (inFlight() > 0) {
    const drained = new Promise<void>((resolve) => onIdle(resolve));
    const graceMs = options.shutdownGraceMs ?? 10_000;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
    });
    await Promise.race([drained, expired]);
    clearTimeout(timer);
  }
  server.closeAllConnections();
  await closed;
}
