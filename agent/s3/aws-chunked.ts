// A streaming decoder for `Content-Encoding: aws-chunked` request bodies
// (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html and sigv4-streaming-trailers.html):
//
//   STREAMING-AWS4-HMAC-SHA256-PAYLOAD          hex-size;chunk-signature=sig CRLF data CRLF ... 0;chunk-signature=sig CRLF CRLF
//   STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER  the same, then trailer lines and x-amz-trailer-signature:sig CRLF CRLF
//   STREAMING-UNSIGNED-PAYLOAD-TRAILER          hex-size CRLF data CRLF ... 0 CRLF trailer lines CRLF
//
// Every chunk signature is checked, chained from the seed signature of the request. Data is passed on as
// soon as it arrives, without copying or holding a whole chunk: a chunk's signature can only be checked
// at its end, so the consumer must not commit anything before the iteration completes without error
// (the object layer commits only at the end of a body anyway). Like S3, any framing error is
// IncompleteBody "The request body terminated unexpectedly".

import { createHash, type Hash } from 'node:crypto';
import { S3Error } from './errors.ts';
import type { ChunkSigningContext } from './sigv4.ts';
import { emptyBodySha256Hex, hmacSha256, signaturesEqual } from './sigv4-canonical.ts';

/** Longest chunk header line accepted: 16 hex digits, ";chunk-signature=", 64 hex digits, with margin. */
export const maximumChunkHeaderBytes = 4096;
/** Longest trailer section accepted (all trailer lines together). */
export const maximumTrailerBytes = 16 * 1024;
/** S3 refuses chunks under 8 KiB except the last one (InvalidChunkSizeError). */
export const minimumChunkSizeBytes = 8192;

export type AwsChunkedMode = 'signed' | 'signed-trailer' | 'unsigned-trailer';

export interface AwsChunkedOptions {
  mode: AwsChunkedMode;
  /** Required in the signed modes: from the verified request. */
  chunkSigning?: ChunkSigningContext;
  /** x-amz-decoded-content-length: the number of data bytes the chunks must carry in total. */
  decodedContentLengthBytes: number;
  /** Trailer names announced in x-amz-trailer (lower case); other trailers are refused. */
  announcedTrailers?: readonly string[];
  /** Overrides `minimumChunkSizeBytes`; 0 accepts chunks of any size. */
  minimumChunkSizeBytes?: number;
}

function incompleteBody(detail?: string): S3Error {
  return new S3Error('IncompleteBody', {
    message: 'The request body terminated unexpectedly',
    elements: detail === undefined ? undefined : { Detail: detail },
  });
}

function signatureMismatch(stringToSign: string, provided: string): S3Error {
  return new S3Error('SignatureDoesNotMatch', {
    elements: { StringToSign: stringToSign, SignatureProvided: provided },
  });
}

const chunkHeaderPattern = /^([0-9a-fA-F]{1,16})(;.*)?$/;
const signatureExtensionPattern = /^;chunk-signature=([0-9a-f]{64})$/;

type State =
  | { kind: 'header' }
  | { kind: 'data'; remainingBytes: number }
  | { kind: 'data-end' }
  | { kind: 'final-end' }
  | { kind: 'trailers' }
  | { kind: 'done' };

/**
 * Decodes one aws-chunked body. `decode(source)` yields the data bytes; after it completes,
 * `trailers` holds the trailer headers (lower-case names, e.g. `x-amz-checksum-crc32`).
 */
export class AwsChunkedDecoder {
  readonly options: AwsChunkedOptions;
  readonly trailers = new Map<string, string>();
  decodedBytes = 0;
  chunkCount = 0;
  previousSignature: string;
  state: State = { kind: 'header' };
  /** Bytes of the current header, CRLF or trailer line not yet complete. */
  pendingLine: number[] = [];
  chunkSignature = '';
  chunkSizeBytes = 0;
  chunkHash: Hash | undefined;
  trailerBytes = 0;
  trailerSignature: string | undefined;

  constructor(options: AwsChunkedOptions) {
    if (options.mode !== 'unsigned-trailer' && options.chunkSigning === undefined) {
      throw new TypeError('signed aws-chunked bodies need the request signing context');
    }
    this.options = options;
    this.previousSignature = options.chunkSigning?.seedSignature ?? '';
  }

  get signed(): boolean {
    return this.options.mode !== 'unsigned-trailer';
  }

  async *decode(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    for await (const piece of source) {
      let offset = 0;
      while (offset < piece.length) {
        if (this.state.kind === 'data') {
          const take = Math.min(this.state.remainingBytes, piece.length - offset);
          const data = piece.subarray(offset, offset + take);
          offset += take;
          this.chunkHash?.update(data);
          this.state.remainingBytes -= take;
          if (this.state.remainingBytes === 0) this.state = { kind: 'data-end' };
          yield data;
          continue;
        }
        if (this.state.kind === 'done') throw incompleteBody('data after the end of the body');
        offset = this.consumeLine(piece, offset);
      }
    }
    if (this.state.kind === 'trailers' && this.pendingLine.length === 0 && this.trailers.size > 0) {
      // Some clients end the body right after the last trailer line, without the empty line.
      this.finishTrailers();
    }
    if (this.state.kind !== 'done') throw incompleteBody();
    if (this.decodedBytes !== this.options.decodedContentLengthBytes) throw incompleteBody();
  }

  /** Collects bytes up to CRLF, then handles the line; returns the new offset in `piece`. */
  consumeLine(piece: Uint8Array, start: number): number {
    let offset = start;
    while (offset < piece.length) {
      const byte = piece[offset++];
      this.pendingLine.push(byte);
      const length = this.pendingLine.length;
      const bound = this.state.kind === 'trailers' ? maximumTrailerBytes : maximumChunkHeaderBytes;
      if (length > bound) throw incompleteBody('line too long');
      if (length >= 2 && this.pendingLine[length - 2] === 0x0d && byte === 0x0a) {
        const line = Buffer.from(this.pendingLine.slice(0, length - 2)).toString('latin1');
        this.pendingLine = [];
        this.handleLine(line);
        return offset;
      }
    }
    return offset;
  }

  handleLine(line: string): void {
    switch (this.state.kind) {
      case 'header':
        this.startChunk(line);
        return;
      case 'data-end':
        if (line !== '') throw incompleteBody('chunk data longer than its size');
        this.endChunk();
        this.state = { kind: 'header' };
        return;
      case 'final-end':
        if (line !== '') throw incompleteBody();
        this.state = { kind: 'done' };
        return;
      case 'trailers':
        if (line === '') this.finishTrailers();
        else this.addTrailer(line);
        return;
      default:
        throw incompleteBody();
    }
  }

  startChunk(line: string): void {
    const match = chunkHeaderPattern.exec(line);
    if (match === null) throw incompleteBody('malformed chunk header');
    const sizeBytes = Number.parseInt(match[1], 16);
    if (!Number.isSafeInteger(sizeBytes)) throw incompleteBody('malformed chunk size');
    if (this.signed) {
      const signature = signatureExtensionPattern.exec(match[2] ?? '');
      if (signature === null) throw incompleteBody('missing chunk signature');
      this.chunkSignature = signature[1];
      this.chunkHash = createHash('sha256');
    }
    const minimum = this.options.minimumChunkSizeBytes ?? minimumChunkSizeBytes;
    if (this.chunkCount > 0 && this.chunkSizeBytes < minimum && sizeBytes > 0) {
      // The previous chunk was small and was not the last one.
      throw new S3Error('InvalidChunkSizeError', {
        elements: { Chunk: this.chunkCount, BadChunkSize: this.chunkSizeBytes },
      });
    }
    this.chunkCount += 1;
    this.chunkSizeBytes = sizeBytes;
    this.decodedBytes += sizeBytes;
    if (this.decodedBytes > this.options.decodedContentLengthBytes) {
      throw incompleteBody('more data than x-amz-decoded-content-length');
    }
    if (sizeBytes > 0) {
      this.state = { kind: 'data', remainingBytes: sizeBytes };
      return;
    }
    // The final, empty chunk: its signature covers the empty string.
    this.endChunk();
    this.state = this.options.mode === 'signed' ? { kind: 'final-end' } : { kind: 'trailers' };
  }

  /** Checks the chunk signature: HMAC over AWS4-HMAC-SHA256-PAYLOAD, time, scope, previous signature, hashes. */
  endChunk(): void {
    if (!this.signed || this.chunkHash === undefined) return;
    const context = this.options.chunkSigning!;
    const stringToSign = [
      'AWS4-HMAC-SHA256-PAYLOAD',
      context.requestDateTime,
      context.scope,
      this.previousSignature,
      emptyBodySha256Hex,
      this.chunkHash.digest('hex'),
    ].join('\n');
    this.chunkHash = undefined;
    const expected = hmacSha256(context.signingKey, stringToSign).toString('hex');
    if (!signaturesEqual(expected, this.chunkSignature))
      throw signatureMismatch(stringToSign, this.chunkSignature);
    this.previousSignature = this.chunkSignature;
  }

  addTrailer(line: string): void {
    this.trailerBytes += line.length + 2;
    if (this.trailerBytes > maximumTrailerBytes) throw incompleteBody('trailer too long');
    const colon = line.indexOf(':');
    if (colon <= 0) throw incompleteBody('malformed trailer');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'x-amz-trailer-signature') {
      if (!this.signed || this.trailerSignature !== undefined)
        throw incompleteBody('unexpected trailer signature');
      this.trailerSignature = value;
      return;
    }
    if (this.trailerSignature !== undefined) throw incompleteBody('trailer after the trailer signature');
    const announced = this.options.announcedTrailers;
    if (announced !== undefined && !announced.includes(name)) {
      throw new S3Error('InvalidRequest', {
        message: `The trailer ${name} was not announced in x-amz-trailer.`,
      });
    }
    if (this.trailers.has(name)) throw incompleteBody('repeated trailer');
    this.trailers.set(name, value);
  }

  finishTrailers(): void {
    if (this.options.mode === 'signed-trailer') this.verifyTrailerSignature();
    for (const name of this.options.announcedTrailers ?? []) {
      if (!this.trailers.has(name)) throw incompleteBody(`missing trailer ${name}`);
    }
    this.state = { kind: 'done' };
  }

  /** The trailer signature covers the trailer lines, each "name:value\n", chained from the final chunk. */
  verifyTrailerSignature(): void {
    const provided = this.trailerSignature;
    if (provided === undefined) throw incompleteBody('missing x-amz-trailer-signature');
    const context = this.options.chunkSigning!;
    const canonicalTrailers = [...this.trailers].map(([name, value]) => `${name}:${value}\n`).join('');
    const stringToSign = [
      'AWS4-HMAC-SHA256-TRAILER',
      context.requestDateTime,
      context.scope,
      this.previousSignature,
      createHash('sha256').update(canonicalTrailers).digest('hex'),
    ].join('\n');
    const expected = hmacSha256(context.signingKey, stringToSign).toString('hex');
    if (!signaturesEqual(expected, provided)) throw signatureMismatch(stringToSign, provided);
  }
}

/** Parses x-amz-trailer ("x-amz-checksum-crc32, x-amz-checksum-sha256") into lower-case names. */
export function parseAnnouncedTrailers(value: string | undefined): string[] {
  if (value === undefined) return [];
  return value
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== '');
}

/** Reads x-amz-decoded-content-length; aws-chunked bodies without it are refused as AWS does. */
export function parseDecodedContentLength(value: string | undefined): number {
  if (value === undefined) throw new S3Error('MissingContentLength');
  if (!/^\d{1,15}$/.test(value.trim())) {
    throw new S3Error('InvalidArgument', {
      message: 'x-amz-decoded-content-length must be a non-negative integer',
      elements: { ArgumentName: 'x-amz-decoded-content-length', ArgumentValue: value },
    });
  }
  return Number(value.trim());
}
