// Throughput of encryption at rest (agent/crypto): chunked AES-256-GCM encrypt and decrypt of
// 256 MiB fed in 1 MiB pieces, for several chunk sizes, to choose the default chunk size; then a
// PUT body as it arrives (64 KiB pieces, declared length) sealed by the native addon and by Node's
// cipher API, and whole chunks opened as the decryption workers open them (native, over themselves)
// and as Node opens them (a fresh plaintext buffer each). Prints GB/s (10^9 bytes per second) and,
// for small objects, seals per second (one data key wrap each).
import { randomBytes } from 'node:crypto';
import {
  type ChunkParameters,
  decryptChunks,
  defaultChunkSizeBytes,
  encryptChunks,
  gcmTagBytes,
  openChunk,
  openChunkInPlace,
  planCiphertextRange,
} from '../agent/crypto/chunked-aead.ts';
import { LocalKeyProvider } from '../agent/crypto/key-provider.ts';
import { nativeGcm } from '../agent/crypto/native-gcm.ts';
import { ObjectEncryption } from '../agent/crypto/object-encryption.ts';
import { TenantKeyring } from '../agent/crypto/tenant-keyring.ts';
import { LocalDrive } from '../agent/disk/index.ts';
import { removeScratch, scratchDirectory } from './scratch.ts';

const totalBytes = 256 * 1024 * 1024;
const pieceBytes = 1024 * 1024;

async function* repeated(piece: Uint8Array, count: number): AsyncIterable<Uint8Array> {
  for (let index = 0; index < count; index += 1) yield piece;
}

/** Encryption lends its pieces (valid until the next is asked for): kept ones are copied. */
async function drain(body: AsyncIterable<Uint8Array>, keep?: Uint8Array[]): Promise<number> {
  let bytes = 0;
  for await (const piece of body) {
    bytes += piece.length;
    keep?.push(Buffer.from(piece));
  }
  return bytes;
}

function report(name: string, started: number, bytes: number): void {
  const seconds = (performance.now() - started) / 1000;
  console.log(`${name.padEnd(44)} ${(bytes / 1e9 / seconds).toFixed(2).padStart(6)} GB/s`);
}

async function measureChunkSize(chunkSizeBytes: number): Promise<void> {
  const parameters: ChunkParameters = {
    dataKey: randomBytes(32),
    noncePrefix: randomBytes(8),
    chunkSizeBytes,
  };
  const piece = randomBytes(pieceBytes);
  const count = totalBytes / pieceBytes;
  const label = `${chunkSizeBytes / 1024} KiB chunks`;
  let started = performance.now();
  await drain(encryptChunks(repeated(piece, count), parameters));
  report(`encrypt, ${label}`, started, totalBytes);
  // Decrypt 64 MiB of real ciphertext, replayed to 256 MiB (each replay is a whole object).
  const objectBytes = 64 * 1024 * 1024;
  const ciphertext: Uint8Array[] = [];
  await drain(encryptChunks(repeated(piece, objectBytes / pieceBytes), parameters), ciphertext);
  const plan = planCiphertextRange({ offsetBytes: 0, lengthBytes: objectBytes }, objectBytes, chunkSizeBytes);
  started = performance.now();
  for (let round = 0; round < totalBytes / objectBytes; round += 1) {
    await drain(decryptChunks(replay(ciphertext), parameters, plan));
  }
  report(`decrypt, ${label}`, started, totalBytes);
}

async function* replay(pieces: Uint8Array[]): AsyncIterable<Uint8Array> {
  yield* pieces;
}

async function measureSeals(): Promise<void> {
  const directory = await scratchDirectory('coffre-bench-crypto-');
  try {
    const keyring = new TenantKeyring({
      provider: new LocalKeyProvider([randomBytes(32)]),
      drive: new LocalDrive(directory),
    });
    const encryption = new ObjectEncryption({ keyring });
    const small = randomBytes(4096);
    await encryption.seal({ tenantId: 'bench' });
    const count = 20_000;
    const started = performance.now();
    for (let index = 0; index < count; index += 1) {
      const sealed = await encryption.seal({ tenantId: 'bench' });
      await drain(sealed.encrypt(repeated(small, 1)));
    }
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `${'seal + encrypt 4 KiB objects'.padEnd(44)} ${(count / seconds).toFixed(0).padStart(6)} objects/s`,
    );
  } finally {
    await removeScratch(directory);
  }
}

/** A 64 MiB PUT body as the HTTP parser hands it over: fresh 64 KiB pieces, length declared. */
async function measureImplementations(): Promise<void> {
  const gcm = nativeGcm();
  const parameters: ChunkParameters = {
    dataKey: randomBytes(32),
    noncePrefix: randomBytes(8),
    chunkSizeBytes: defaultChunkSizeBytes,
  };
  const objectBytes = 64 * 1024 * 1024;
  const socketPieceBytes = 64 * 1024;
  async function* arriving(): AsyncIterable<Uint8Array> {
    for (let offset = 0; offset < objectBytes; offset += socketPieceBytes) {
      const piece = Buffer.allocUnsafeSlow(socketPieceBytes);
      piece.fill(offset & 0xff);
      yield piece;
    }
  }
  const rounds = totalBytes / objectBytes;
  for (const [name, implementation] of [
    ['native', gcm],
    ['node', null],
  ] as const) {
    if (name === 'native' && implementation === null) {
      console.log('seal, native: build/coffre_gcm.node is not built (npm install builds it)');
      continue;
    }
    const started = performance.now();
    for (let round = 0; round < rounds; round += 1)
      await drain(encryptChunks(arriving(), parameters, objectBytes, implementation));
    report(`PUT body in 64 KiB pieces, seal, ${name}`, started, totalBytes);
  }
  const chunk = Buffer.from(
    (await collectFirst(encryptChunks(arriving(), parameters, undefined, null))).subarray(
      0,
      defaultChunkSizeBytes + gcmTagBytes,
    ),
  );
  const chunks = totalBytes / defaultChunkSizeBytes;
  if (gcm !== null) {
    const opener = gcm.createOpener(parameters.dataKey);
    const slot = Buffer.allocUnsafe(chunk.length);
    const started = performance.now();
    for (let index = 0; index < chunks; index += 1) {
      slot.set(chunk);
      openChunkInPlace(opener, parameters, slot, 0, false);
    }
    report('open 256 KiB chunks, native, in place', started, totalBytes);
    opener.release();
  }
  const started = performance.now();
  for (let index = 0; index < chunks; index += 1) openChunk(parameters, chunk, 0, false);
  report('open 256 KiB chunks, node, fresh plaintext', started, totalBytes);
}

/** The first chunk of a stream, gathered (its pieces are lent). */
async function collectFirst(body: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const pieces: Buffer[] = [];
  let bytes = 0;
  for await (const piece of body) {
    pieces.push(Buffer.from(piece));
    bytes += piece.length;
    if (bytes >= defaultChunkSizeBytes + gcmTagBytes) break;
  }
  return Buffer.concat(pieces);
}

export async function run(): Promise<void> {
  for (const chunkSizeBytes of [64 * 1024, 256 * 1024, 1024 * 1024]) await measureChunkSize(chunkSizeBytes);
  await measureImplementations();
  await measureSeals();
}
