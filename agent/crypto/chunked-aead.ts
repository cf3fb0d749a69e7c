// AES-256-GCM over a stream, in chunks. Node's cipher calls slow down past about 1 MiB of input, and
// a byte range must be decryptable without the bytes before it, so the plaintext is cut into
// chunks of a fixed size (recorded with the object) and each chunk is sealed on its own:
//
//   ciphertext = chunk_0 || tag_0 || chunk_1 || tag_1 || ... || chunk_last || tag_last
//
// Every chunk, even the empty chunk of an empty object, carries a 16-byte GCM tag. Nonces are
// derived, never stored: a random per-object prefix then the chunk index, so no nonce repeats
// under one data key. The additional authenticated data binds each chunk's index and whether it
// is the last one: a reordered, duplicated, dropped or truncated chunk fails authentication
// (NIST SP 800-38D section 8.2.1, deterministic construction; the STREAM construction of Hoang,
// Reyhanitabar, Rogaway and Vizár for the final-chunk flag).
import assert from 'node:assert/strict';
import { type CipherGCM, createCipheriv, createDecipheriv } from 'node:crypto';
import { CryptoError } from './errors.ts';
import { type NativeGcm, type NativeOpener, nativeGcm } from './native-gcm.ts';

export const gcmTagBytes = 16;
export const dataKeyBytes = 32;
export const noncePrefixBytes = 8;
/** Node's AES-GCM calls get slower per byte with larger inputs; 1 MiB is the most per call. */
export const maximumChunkSizeBytes = 1024 * 1024;
/** The chunk size of new objects (measured by `npm run bench crypto`: see BENCHMARKS.md). */
export const defaultChunkSizeBytes = 256 * 1024;
/** The chunk index is 32 bits of the nonce. */
const maximumChunkCount = 2 ** 32;
const aadLabel = Buffer.from('coffre.chunk.v1\u0000', 'latin1');

export interface ChunkParameters {
  /** The object version's data key (256 bits). */
  dataKey: Uint8Array;
  /** Random per object version (64 bits); the chunk index completes the 96-bit nonce. */
  noncePrefix: Uint8Array;
  chunkSizeBytes: number;
}

export interface ByteRange {
  offsetBytes: number;
  lengthBytes: number;
}

/** Which stored bytes a plaintext range needs, and what to keep of them once decrypted. */
export interface CiphertextRangePlan {
  /** The bytes to read from the store (whole chunks with their tags). */
  ciphertext: ByteRange;
  firstChunkIndex: number;
  /** Chunks in `ciphertext`, at least 1. */
  chunkCount: number;
  /** Chunks of the whole object. */
  totalChunkCount: number;
  plaintextSizeBytes: number;
  /** Plaintext bytes to drop from the start of the first chunk read. */
  skipBytes: number;
  /** Plaintext bytes to return. */
  lengthBytes: number;
}

export function assertChunkParameters(parameters: ChunkParameters): void {
  assert.equal(parameters.dataKey.length, dataKeyBytes, 'a data key is 256 bits');
  assert.equal(parameters.noncePrefix.length, noncePrefixBytes, 'a nonce prefix is 64 bits');
  assertChunkSize(parameters.chunkSizeBytes);
}

function assertChunkSize(chunkSizeBytes: number): void {
  assert.ok(
    Number.isInteger(chunkSizeBytes) && chunkSizeBytes > 0 && chunkSizeBytes <= maximumChunkSizeBytes,
    `chunk size ${chunkSizeBytes} outside 1..${maximumChunkSizeBytes}`,
  );
}

/** An empty object still has one (empty) chunk, so its tag proves nothing was cut off. */
export function chunkCountFor(plaintextSizeBytes: number, chunkSizeBytes: number): number {
  return Math.max(1, Math.ceil(plaintextSizeBytes / chunkSizeBytes));
}

export function ciphertextSizeFor(plaintextSizeBytes: number, chunkSizeBytes: number): number {
  return plaintextSizeBytes + chunkCountFor(plaintextSizeBytes, chunkSizeBytes) * gcmTagBytes;
}

/** The plaintext size of a ciphertext of `ciphertextSizeBytes` (null when no plaintext has it). */
export function plaintextSizeFor(ciphertextSizeBytes: number, chunkSizeBytes: number): number | null {
  const sealedChunkBytes = chunkSizeBytes + gcmTagBytes;
  const fullChunks = Math.floor(ciphertextSizeBytes / sealedChunkBytes);
  const restBytes = ciphertextSizeBytes - fullChunks * sealedChunkBytes;
  if (restBytes === 0) return fullChunks === 0 ? null : fullChunks * chunkSizeBytes;
  if (restBytes < gcmTagBytes || (restBytes === gcmTagBytes && fullChunks > 0)) return null;
  return fullChunks * chunkSizeBytes + restBytes - gcmTagBytes;
}

/**
 * Maps a plaintext range to the whole chunks that hold it. A zero-length range (the whole of an
 * empty object) still reads one chunk, so its tag is checked.
 */
export function planCiphertextRange(
  range: ByteRange,
  plaintextSizeBytes: number,
  chunkSizeBytes: number,
): CiphertextRangePlan {
  assertChunkSize(chunkSizeBytes);
  const endBytes = range.offsetBytes + range.lengthBytes;
  assert.ok(
    range.offsetBytes >= 0 && range.lengthBytes >= 0 && endBytes <= plaintextSizeBytes,
    `range ${range.offsetBytes}+${range.lengthBytes} outside ${plaintextSizeBytes} bytes`,
  );
  const totalChunkCount = chunkCountFor(plaintextSizeBytes, chunkSizeBytes);
  const firstChunkIndex = Math.min(Math.floor(range.offsetBytes / chunkSizeBytes), totalChunkCount - 1);
  const lastChunkIndex =
    range.lengthBytes === 0 ? firstChunkIndex : Math.floor((endBytes - 1) / chunkSizeBytes);
  const sealedChunkBytes = chunkSizeBytes + gcmTagBytes;
  const plaintextEndBytes = Math.min(plaintextSizeBytes, (lastChunkIndex + 1) * chunkSizeBytes);
  const ciphertextEndBytes = plaintextEndBytes + (lastChunkIndex + 1) * gcmTagBytes;
  const ciphertextOffsetBytes = firstChunkIndex * sealedChunkBytes;
  return {
    ciphertext: {
      offsetBytes: ciphertextOffsetBytes,
      lengthBytes: ciphertextEndBytes - ciphertextOffsetBytes,
    },
    firstChunkIndex,
    chunkCount: lastChunkIndex - firstChunkIndex + 1,
    totalChunkCount,
    plaintextSizeBytes,
    skipBytes: range.offsetBytes - firstChunkIndex * chunkSizeBytes,
    lengthBytes: range.lengthBytes,
  };
}

function chunkNonce(noncePrefix: Uint8Array, chunkIndex: number): Buffer {
  assert.ok(chunkIndex < maximumChunkCount, 'chunk index exceeds the 32-bit nonce counter');
  const nonce = Buffer.allocUnsafe(noncePrefixBytes + 4);
  nonce.set(noncePrefix, 0);
  nonce.writeUInt32BE(chunkIndex, noncePrefixBytes);
  return nonce;
}

function chunkAad(chunkIndex: number, isFinal: boolean): Buffer {
  const aad = Buffer.allocUnsafe(aadLabel.length + 5);
  aadLabel.copy(aad, 0);
  aad.writeUInt32BE(chunkIndex, aadLabel.length);
  aad[aadLabel.length + 4] = isFinal ? 1 : 0;
  return aad;
}

/**
 * Seals the chunks of one object: each chunk is begun, sealed in pieces and ended with its tag.
 * What `seal` and `end` return is lent: valid until the next call.
 */
interface ChunkSealing {
  /** The most plaintext one seal() call takes when it may not overwrite it. */
  readonly maximumPieceBytes: number;
  begin(chunkIndex: number, isFinal: boolean): void;
  /**
   * The ciphertext of `plaintext`; with `overwrite`, it may be written over `plaintext` itself;
   * with `into` (at least as long), it is written there when the sealer writes into memory it is
   * given (the native one does; Node's cipher returns its own buffer).
   */
  seal(plaintext: Uint8Array, overwrite: boolean, into?: Uint8Array): Uint8Array;
  /** The chunk's tag. */
  end(): Uint8Array;
  release(): void;
}

/** Node's cipher API: a cipher per chunk, a fresh output buffer per call. */
function nodeSealing(parameters: ChunkParameters): ChunkSealing {
  let cipher: CipherGCM | undefined;
  return {
    maximumPieceBytes: Number.POSITIVE_INFINITY,
    begin(chunkIndex, isFinal) {
      cipher = createCipheriv(
        'aes-256-gcm',
        parameters.dataKey,
        chunkNonce(parameters.noncePrefix, chunkIndex),
        {
          authTagLength: gcmTagBytes,
        },
      );
      cipher.setAAD(chunkAad(chunkIndex, isFinal));
    },
    seal: (plaintext) => (cipher as CipherGCM).update(plaintext),
    end() {
      (cipher as CipherGCM).final();
      return (cipher as CipherGCM).getAuthTag();
    },
    release() {
      cipher = undefined;
    },
  };
}

/**
 * The native addon (native-gcm.ts): the key expanded once per object, the ciphertext written over
 * the plaintext when allowed, otherwise into one reused buffer of `scratchBytes`.
 */
function nativeSealing(gcm: NativeGcm, parameters: ChunkParameters, scratchBytes: number): ChunkSealing {
  const sealer = gcm.createSealer(parameters.dataKey);
  // Allocated on first use: a chunk gathered by encryptGathered is sealed over itself.
  let scratch: Buffer | undefined;
  const tag = Buffer.allocUnsafe(gcmTagBytes);
  return {
    maximumPieceBytes: scratchBytes,
    begin(chunkIndex, isFinal) {
      sealer.begin(chunkNonce(parameters.noncePrefix, chunkIndex), chunkAad(chunkIndex, isFinal));
    },
    seal(plaintext, overwrite, into) {
      let output: Uint8Array;
      if (into !== undefined) output = into.subarray(0, plaintext.length);
      else if (overwrite) output = plaintext;
      else {
        scratch ??= Buffer.allocUnsafe(scratchBytes);
        output = scratch.subarray(0, plaintext.length);
      }
      sealer.sealInto(plaintext, output);
      return output;
    },
    end() {
      sealer.end(tag);
      return tag;
    },
    release: () => sealer.release(),
  };
}

/**
 * Where the consumer of encryptChunks wants the next ciphertext bytes (the shard store: the stripe
 * it codes, so its copy of each piece is saved, ~6 ms of event loop per 64 MiB PUT). `writable` is
 * set by the consumer once it can take bytes; each call gives a view of its own memory, 1 to
 * `maxBytes` long, where the next ciphertext bytes go; the piece then yielded is that very view
 * (or its beginning), which the consumer recognizes and keeps in place.
 */
export interface CiphertextDestination {
  writable?: (maxBytes: number) => Uint8Array;
}

/** Lent ciphertext pieces from the native sealer are at most this long (its reused buffer). */
const nativeScratchBytes = 128 * 1024;

function chunkSealing(
  parameters: ChunkParameters,
  gcm: NativeGcm | null,
  plaintextSizeBytes: number | undefined,
): ChunkSealing {
  if (gcm === null) return nodeSealing(parameters);
  // A small body needs no 128 KiB buffer.
  const scratchBytes = Math.max(1, Math.min(nativeScratchBytes, plaintextSizeBytes ?? nativeScratchBytes));
  return nativeSealing(gcm, parameters, scratchBytes);
}

/**
 * Opens one sealed chunk. The plaintext is returned only after the tag checked out, so no byte
 * of a tampered chunk ever leaves this function. (Also used by the decryption worker threads,
 * chunk-worker.ts.)
 */
export function openChunk(
  parameters: ChunkParameters,
  sealed: Uint8Array,
  chunkIndex: number,
  isFinal: boolean,
): Buffer {
  const tagOffset = sealed.length - gcmTagBytes;
  const decipher = createDecipheriv(
    'aes-256-gcm',
    parameters.dataKey,
    chunkNonce(parameters.noncePrefix, chunkIndex),
    { authTagLength: gcmTagBytes },
  );
  decipher.setAAD(chunkAad(chunkIndex, isFinal));
  decipher.setAuthTag(sealed.subarray(tagOffset));
  const plaintext = decipher.update(sealed.subarray(0, tagOffset));
  try {
    decipher.final();
  } catch {
    throw new CryptoError('TAMPERED', `encrypted chunk ${chunkIndex} failed authentication`);
  }
  return plaintext;
}

/**
 * Opens one sealed chunk over itself with the native addon (the decryption workers' ring slots):
 * returns the plaintext length, the plaintext in `sealed`'s first bytes. A chunk that fails
 * authentication is TAMPERED and its bytes are zeroed, so none of it can be read.
 */
export function openChunkInPlace(
  opener: NativeOpener,
  parameters: ChunkParameters,
  sealed: Uint8Array,
  chunkIndex: number,
  isFinal: boolean,
): number {
  const tagOffset = sealed.length - gcmTagBytes;
  if (tagOffset < 0)
    throw new CryptoError('TAMPERED', `encrypted chunk ${chunkIndex} is shorter than its tag`);
  const ciphertext = sealed.subarray(0, tagOffset);
  const authentic = opener.openInto(
    chunkNonce(parameters.noncePrefix, chunkIndex),
    chunkAad(chunkIndex, isFinal),
    ciphertext,
    sealed.subarray(tagOffset),
    ciphertext,
  );
  if (!authentic) throw new CryptoError('TAMPERED', `encrypted chunk ${chunkIndex} failed authentication`);
  return tagOffset;
}

/**
 * Encrypts a stream. Memory stays within one chunk of plaintext: a full chunk is sealed as soon
 * as the next byte arrives (that byte proves it is not the last), and the last chunk when the
 * input ends.
 *
 * With `plaintextSizeBytes` (a length the caller guarantees, such as a request's declared
 * Content-Length, which the S3 layer enforces), the last chunk is known before its first byte:
 * every piece is then encrypted as it arrives, without being gathered into a chunk first (one
 * copy of the body fewer on the event loop). The ciphertext is the same byte for byte. A body of
 * another length breaks the caller's promise and throws, and the write it feeds fails.
 *
 * The pieces yielded are lent: each is valid only until the next is asked for (the native sealer
 * writes them into one reused buffer), so the consumer copies or consumes each at once. The
 * body's own pieces are left as they are. `gcm` is the native addon (null: Node's cipher API;
 * tests choose).
 */
export async function* encryptChunks(
  body: AsyncIterable<Uint8Array>,
  parameters: ChunkParameters,
  plaintextSizeBytes?: number,
  gcm: NativeGcm | null = nativeGcm(),
  destination?: CiphertextDestination,
): AsyncIterable<Uint8Array> {
  assertChunkParameters(parameters);
  if (plaintextSizeBytes !== undefined)
    assert.ok(
      Number.isSafeInteger(plaintextSizeBytes) && plaintextSizeBytes >= 0,
      `declared plaintext size ${plaintextSizeBytes}`,
    );
  const sealing = chunkSealing(parameters, gcm, plaintextSizeBytes);
  try {
    if (plaintextSizeBytes !== undefined)
      yield* encryptDeclared(body, parameters, plaintextSizeBytes, sealing, destination);
    else yield* encryptGathered(body, parameters, sealing);
  } finally {
    sealing.release();
  }
}

/** encryptChunks for a body of unknown length: each chunk is gathered, then sealed. */
async function* encryptGathered(
  body: AsyncIterable<Uint8Array>,
  parameters: ChunkParameters,
  sealing: ChunkSealing,
): AsyncIterable<Uint8Array> {
  const { chunkSizeBytes } = parameters;
  const pending = Buffer.allocUnsafe(chunkSizeBytes);
  let filledBytes = 0;
  let chunkIndex = 0;
  // The gathered chunk is this function's own buffer: it is sealed over itself.
  const sealPending = function* (isFinal: boolean): Iterable<Uint8Array> {
    sealing.begin(chunkIndex, isFinal);
    if (filledBytes > 0) yield sealing.seal(pending.subarray(0, filledBytes), true);
    yield sealing.end();
  };
  for await (const piece of body) {
    let offsetBytes = 0;
    while (offsetBytes < piece.length) {
      if (filledBytes === chunkSizeBytes) {
        yield* sealPending(false);
        chunkIndex += 1;
        filledBytes = 0;
      }
      const takeBytes = Math.min(chunkSizeBytes - filledBytes, piece.length - offsetBytes);
      pending.set(piece.subarray(offsetBytes, offsetBytes + takeBytes), filledBytes);
      filledBytes += takeBytes;
      offsetBytes += takeBytes;
    }
  }
  yield* sealPending(true);
}

/** encryptChunks for a body of a known length: each piece is encrypted as it comes. */
async function* encryptDeclared(
  body: AsyncIterable<Uint8Array>,
  parameters: ChunkParameters,
  plaintextSizeBytes: number,
  sealing: ChunkSealing,
  destination: CiphertextDestination | undefined,
): AsyncIterable<Uint8Array> {
  const { chunkSizeBytes } = parameters;
  const lastChunkIndex = chunkCountFor(plaintextSizeBytes, chunkSizeBytes) - 1;
  let chunkIndex = 0;
  sealing.begin(chunkIndex, lastChunkIndex === 0);
  let chunkFilledBytes = 0;
  let totalBytes = 0;
  for await (const piece of body) {
    totalBytes += piece.length;
    if (totalBytes > plaintextSizeBytes)
      assert.fail(`body longer than its declared ${plaintextSizeBytes} bytes`);
    let offsetBytes = 0;
    while (offsetBytes < piece.length) {
      if (chunkFilledBytes === chunkSizeBytes) {
        yield sealing.end();
        chunkIndex += 1;
        chunkFilledBytes = 0;
        sealing.begin(chunkIndex, chunkIndex === lastChunkIndex);
      }
      let takeBytes = Math.min(chunkSizeBytes - chunkFilledBytes, piece.length - offsetBytes);
      // Straight into the consumer's memory when it offers some (as much as its view holds), else
      // into the sealer's scratch. The body's pieces are not this function's to overwrite.
      const into = destination?.writable?.(takeBytes);
      takeBytes = Math.min(takeBytes, into?.length ?? sealing.maximumPieceBytes);
      yield sealing.seal(piece.subarray(offsetBytes, offsetBytes + takeBytes), false, into);
      chunkFilledBytes += takeBytes;
      offsetBytes += takeBytes;
    }
  }
  assert.equal(totalBytes, plaintextSizeBytes, 'body shorter than its declared length');
  yield sealing.end();
}

/**
 * Decrypts the chunks a plan names from a stream of exactly `plan.ciphertext` bytes and yields
 * the plaintext of the planned range. A chunk is yielded only once authenticated; a stream that
 * ends early or runs long is TRUNCATED.
 */
export async function* decryptChunks(
  ciphertext: AsyncIterable<Uint8Array>,
  parameters: ChunkParameters,
  plan: CiphertextRangePlan,
): AsyncIterable<Uint8Array> {
  assertChunkParameters(parameters);
  const { chunkSizeBytes } = parameters;
  let chunkIndex = plan.firstChunkIndex;
  const endChunkIndex = plan.firstChunkIndex + plan.chunkCount;
  let filledBytes = 0;
  let skipBytes = plan.skipBytes;
  let remainingBytes = plan.lengthBytes;
  const sealedSizeOf = (index: number): number =>
    Math.min(chunkSizeBytes, plan.plaintextSizeBytes - index * chunkSizeBytes) + gcmTagBytes;
  let expectedBytes = sealedSizeOf(chunkIndex);
  // Sized for the largest chunk read (the first: only the object's last chunk is short), so a
  // small object's GET does not allocate a whole chunk.
  const sealed = Buffer.allocUnsafe(expectedBytes);
  for await (const piece of ciphertext) {
    let offsetBytes = 0;
    while (offsetBytes < piece.length) {
      if (chunkIndex === endChunkIndex) {
        throw new CryptoError('TRUNCATED', 'encrypted object is longer than its chunks');
      }
      const takeBytes = Math.min(expectedBytes - filledBytes, piece.length - offsetBytes);
      sealed.set(piece.subarray(offsetBytes, offsetBytes + takeBytes), filledBytes);
      filledBytes += takeBytes;
      offsetBytes += takeBytes;
      if (filledBytes < expectedBytes) continue;
      const isFinal = chunkIndex === plan.totalChunkCount - 1;
      const plaintext = openChunk(parameters, sealed.subarray(0, expectedBytes), chunkIndex, isFinal);
      const keep = plaintext.subarray(skipBytes, skipBytes + remainingBytes);
      skipBytes = 0;
      remainingBytes -= keep.length;
      if (keep.length > 0) yield keep;
      chunkIndex += 1;
      filledBytes = 0;
      if (chunkIndex < endChunkIndex) expectedBytes = sealedSizeOf(chunkIndex);
    }
  }
  if (chunkIndex !== endChunkIndex) {
    throw new CryptoError('TRUNCATED', `encrypted object ends inside chunk ${chunkIndex}`);
  }
}
