// The load generator's HTTP/1.1 transport: keep-alive connections over node:net, each reading into
// one buffer of its own that it reuses (net's `onread` option), so a response body costs no
// allocation and nothing for the collector. Client and server share two cores here, so what the
// client spends is taken from the server under test. Measured on one 64 MiB GET (client CPU per
// request, `node bench/main.ts object-cpu --mode=get`, 29 Nov): node:http 65–83 ms, undici 59 ms,
// this transport 14 ms. It speaks what S3 servers answer: Content-Length or chunked bodies, HEAD,
// 204/304 without a body, 1xx skipped, `Connection: close`, and a body read until the server
// closes. One request at a time per connection (no pipelining).
import net from 'node:net';
import { drained } from '../../agent/s3/responses.ts';

/** A body to send: bytes at once, or chunks written with backpressure (may be sent twice on a retry). */
export type RequestBody = Uint8Array | { lengthBytes: number; chunks: () => Iterable<Uint8Array> };

export interface RawResponse {
  status: number;
  /** Lower-case names; repeated fields joined with ", ". */
  headers: Record<string, string>;
  /** Bytes of body received. */
  bodyBytes: number;
  /** The body, when it was to be kept. */
  body: Buffer | null;
}

export interface RawRequest {
  method: string;
  /** Escaped path and query, as sent on the request line. */
  target: string;
  headers: Record<string, string>;
  body?: RequestBody;
  /** Whether to keep the body of a response with this status (else it is only counted). */
  keepBody: (status: number) => boolean;
}

const readBufferBytes = 1024 * 1024;
const crlfCrlf = Buffer.from('\r\n\r\n', 'latin1');
const newline = 0x0a;

type Phase =
  | 'head'
  | 'length'
  | 'chunk-size'
  | 'chunk-data'
  | 'chunk-end'
  | 'trailers'
  | 'until-close'
  | 'done';

/** Parses one response from the bytes a connection reads; what it keeps it copies. */
export class ResponseParser {
  status = 0;
  headers: Record<string, string> = {};
  bodyBytes = 0;
  /** False when the connection cannot carry another request after this response. */
  keepAlive = true;
  readonly #bodyless: boolean;
  readonly #keepBody: (status: number) => boolean;
  #phase: Phase = 'head';
  #pending: Buffer | null = null;
  #line = '';
  #remaining = 0;
  #kept: Buffer[] | null = null;

  constructor(method: string, keepBody: (status: number) => boolean) {
    this.#bodyless = method === 'HEAD';
    this.#keepBody = keepBody;
  }

  get done(): boolean {
    return this.#phase === 'done';
  }

  /** True once any byte of the response arrived (a reused connection closed before that may be retried). */
  get started(): boolean {
    return this.#phase !== 'head' || this.#pending !== null || this.status !== 0;
  }

  body(): Buffer | null {
    return this.#kept && Buffer.concat(this.#kept);
  }

  /** Takes the bytes read; returns how many belong to this response (the rest would be another's). */
  feed(data: Buffer): number {
    let offset = 0;
    while (offset < data.byteLength && this.#phase !== 'done') offset = this.#step(data, offset);
    return offset;
  }

  /** The server closed the connection: completes a body read until close, else says what is missing. */
  end(): void {
    if (this.#phase === 'until-close') this.#phase = 'done';
    if (this.#phase !== 'done') throw new Error(`connection closed in the response's ${this.#phase}`);
  }

  #step(data: Buffer, offset: number): number {
    switch (this.#phase) {
      case 'head':
        return this.#readHead(data, offset);
      case 'length':
        return this.#takeCounted(data, offset, 'done');
      case 'chunk-data':
        return this.#takeCounted(data, offset, 'chunk-end');
      case 'until-close':
        this.#take(data, offset, data.byteLength - offset);
        return data.byteLength;
      default:
        return this.#readLine(data, offset);
    }
  }

  /** Up to the #remaining bytes of a sized body or chunk; then on to `next`. */
  #takeCounted(data: Buffer, offset: number, next: Phase): number {
    const taken = Math.min(this.#remaining, data.byteLength - offset);
    this.#take(data, offset, taken);
    this.#remaining -= taken;
    if (this.#remaining === 0) this.#phase = next;
    return offset + taken;
  }

  #take(data: Buffer, offset: number, lengthBytes: number): void {
    this.bodyBytes += lengthBytes;
    if (this.#kept && lengthBytes > 0)
      this.#kept.push(Buffer.from(data.subarray(offset, offset + lengthBytes)));
  }

  #readHead(data: Buffer, offset: number): number {
    const bytes = this.#pending
      ? Buffer.concat([this.#pending, data.subarray(offset)])
      : data.subarray(offset);
    const end = bytes.indexOf(crlfCrlf);
    if (end < 0) {
      this.#pending = Buffer.from(bytes);
      return data.byteLength;
    }
    const consumed = end + crlfCrlf.byteLength - (this.#pending?.byteLength ?? 0);
    this.#pending = null;
    this.#parseHead(bytes.toString('latin1', 0, end));
    return offset + consumed;
  }

  #parseHead(text: string): void {
    const [statusLine = '', ...fields] = text.split('\r\n');
    const match = /^HTTP\/1\.([01]) (\d{3})/.exec(statusLine);
    if (!match) throw new Error(`not an HTTP/1.x status line: ${JSON.stringify(statusLine.slice(0, 80))}`);
    const headers: Record<string, string> = {};
    for (const field of fields) {
      const colon = field.indexOf(':');
      if (colon <= 0) throw new Error(`malformed header field: ${JSON.stringify(field.slice(0, 80))}`);
      const name = field.slice(0, colon).trim().toLowerCase();
      const value = field.slice(colon + 1).trim();
      headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
    }
    const status = Number(match[2]);
    if (status < 200) return; // 100 Continue and the like: the real head follows
    this.status = status;
    this.headers = headers;
    const connection = (headers.connection ?? '').toLowerCase();
    this.keepAlive = match[1] === '1' ? connection !== 'close' : connection === 'keep-alive';
    if (this.#keepBody(status)) this.#kept = [];
    if (this.#bodyless || status === 204 || status === 304) {
      this.#phase = 'done';
    } else if (/\bchunked\b/i.test(headers['transfer-encoding'] ?? '')) {
      this.#phase = 'chunk-size';
    } else if (headers['content-length'] !== undefined) {
      this.#remaining = Number(headers['content-length']);
      if (!Number.isSafeInteger(this.#remaining) || this.#remaining < 0)
        throw new Error(`bad Content-Length ${headers['content-length']}`);
      this.#phase = this.#remaining === 0 ? 'done' : 'length';
    } else {
      this.keepAlive = false;
      this.#phase = 'until-close';
    }
  }

  /** The line-based parts of a chunked body: sizes, the CRLF after each chunk, the trailer. */
  #readLine(data: Buffer, offset: number): number {
    const end = data.indexOf(newline, offset);
    this.#line += data.toString('latin1', offset, end < 0 ? data.byteLength : end);
    if (end < 0) return data.byteLength;
    const line = this.#line.replace(/\r$/, '');
    this.#line = '';
    if (this.#phase === 'chunk-size') {
      const size = Number.parseInt(line.split(';')[0] ?? '', 16);
      if (!Number.isSafeInteger(size) || size < 0) throw new Error(`bad chunk size ${JSON.stringify(line)}`);
      this.#remaining = size;
      this.#phase = size === 0 ? 'trailers' : 'chunk-data';
    } else if (this.#phase === 'chunk-end') {
      if (line !== '') throw new Error('chunk data longer than its size');
      this.#phase = 'chunk-size';
    } else if (line === '') {
      this.#phase = 'done';
    }
    return end + 1;
  }
}

/** A request that failed on its connection; `responseStarted` false when no byte of an answer came. */
export class ExchangeError extends Error {
  override name = 'ExchangeError';
  readonly responseStarted: boolean;
  constructor(cause: Error, responseStarted: boolean) {
    super(cause.message, { cause });
    this.responseStarted = responseStarted;
  }
}

interface Exchange {
  parser: ResponseParser;
  resolve: () => void;
  reject: (error: Error) => void;
}

/** One keep-alive connection, one request at a time. */
class Connection {
  readonly #socket: net.Socket;
  #exchange: Exchange | null = null;
  #closed = false;

  constructor(host: string, port: number, onClose: (connection: Connection) => void) {
    this.#socket = net.connect({
      host,
      port,
      noDelay: true,
      onread: {
        buffer: Buffer.allocUnsafe(readBufferBytes),
        callback: (bytes, buffer) => this.#onRead(bytes, buffer),
      },
    });
    this.#socket.on('error', (error) => this.#fail(error));
    this.#socket.on('close', () => {
      this.#closed = true;
      const exchange = this.#exchange;
      if (exchange) {
        try {
          exchange.parser.end();
          this.#exchange = null;
          exchange.resolve();
        } catch (error) {
          this.#fail(error as Error);
        }
      }
      onClose(this);
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  destroy(): void {
    this.#socket.destroy();
  }

  /** Sends the request and reads its response; resolves once both are through. */
  async exchange(request: RawRequest): Promise<ResponseParser> {
    const parser = new ResponseParser(request.method, request.keepBody);
    const received = new Promise<void>((resolve, reject) => {
      this.#exchange = { parser, resolve, reject };
    });
    const fields = Object.entries(request.headers).map(([name, value]) => `${name}: ${value}\r\n`);
    const sent = this.#send(
      `${request.method} ${request.target} HTTP/1.1\r\n${fields.join('')}\r\n`,
      request.body,
    );
    // A server may answer (an error) before the body is all sent, then close: the answer counts.
    const [sending] = await Promise.allSettled([sent, received]);
    await received;
    if (sending.status === 'rejected' && parser.keepAlive) throw sending.reason;
    return parser;
  }

  async #send(head: string, body: RequestBody | undefined): Promise<void> {
    if (body === undefined || body instanceof Uint8Array) {
      this.#socket.write(head);
      if (body !== undefined && body.byteLength > 0) this.#socket.write(body);
      return;
    }
    this.#socket.write(head);
    for (const chunk of body.chunks()) {
      if (this.#closed) throw new Error('connection closed while the body was being sent');
      if (!this.#socket.write(chunk))
        await drained(this.#socket, 'connection closed while the body was being sent');
    }
  }

  #onRead(bytes: number, buffer: Uint8Array): boolean {
    const exchange = this.#exchange;
    if (!exchange) {
      this.#fail(new Error(`${bytes} bytes arrived with no request outstanding`));
      return false;
    }
    try {
      const data = Buffer.from(buffer.buffer, buffer.byteOffset, bytes);
      const used = exchange.parser.feed(data);
      if (!exchange.parser.done) return true;
      if (used !== bytes) throw new Error(`${bytes - used} bytes arrived after the response`);
      this.#exchange = null;
      exchange.resolve();
    } catch (error) {
      this.#fail(error as Error);
    }
    return true;
  }

  #fail(error: Error): void {
    const exchange = this.#exchange;
    this.#exchange = null;
    this.#socket.destroy();
    exchange?.reject(new ExchangeError(error, exchange.parser.started));
  }
}

/** Up to `maximumConnections` keep-alive connections to one server; requests wait for a free one. */
export class ConnectionPool {
  readonly #host: string;
  readonly #port: number;
  readonly #maximumConnections: number;
  readonly #idle: Connection[] = [];
  readonly #waiting: Array<(connection: Connection | null) => void> = [];
  #open = 0;

  constructor(host: string, port: number, maximumConnections: number) {
    this.#host = host;
    this.#port = port;
    this.#maximumConnections = maximumConnections;
  }

  /**
   * Sends the request on an idle connection (or a new one). A reused connection the server had
   * closed fails before any response byte: the request is then sent once more on a new one.
   */
  async request(request: RawRequest): Promise<RawResponse> {
    for (let attempt = 1; ; attempt += 1) {
      const { connection, reused } = await this.#acquire();
      let parser: ResponseParser | null = null;
      try {
        parser = await connection.exchange(request);
      } catch (error) {
        if (attempt === 1 && reused && error instanceof ExchangeError && !error.responseStarted) continue;
        throw error;
      } finally {
        this.#release(connection, parser?.keepAlive === true);
      }
      return {
        status: parser.status,
        headers: parser.headers,
        bodyBytes: parser.bodyBytes,
        body: parser.body(),
      };
    }
  }

  close(): void {
    for (const connection of this.#idle.splice(0)) connection.destroy();
  }

  async #acquire(): Promise<{ connection: Connection; reused: boolean }> {
    const idle = this.#idle.pop();
    if (idle) return { connection: idle, reused: true };
    if (this.#open < this.#maximumConnections) {
      this.#open += 1;
      return {
        connection: new Connection(this.#host, this.#port, (closed) => this.#forget(closed)),
        reused: false,
      };
    }
    const connection = await new Promise<Connection | null>((resolve) => this.#waiting.push(resolve));
    return connection ? { connection, reused: true } : this.#acquire();
  }

  #release(connection: Connection, reusable: boolean): void {
    if (!reusable || connection.closed) {
      // Its close makes room for a waiting request (#forget), or made it already.
      if (connection.closed) this.#waiting.shift()?.(null);
      connection.destroy();
      return;
    }
    const waiter = this.#waiting.shift();
    if (waiter) waiter(connection);
    else this.#idle.push(connection);
  }

  #forget(connection: Connection): void {
    this.#open -= 1;
    const index = this.#idle.indexOf(connection);
    if (index >= 0) this.#idle.splice(index, 1);
    else this.#waiting.shift()?.(null);
  }
}
