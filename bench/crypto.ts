// Throughput of encryption at rest (agent/crypto): chunked AES-256-GCM encrypt and decrypt of
// 256 MiB fed in 1 MiB pieces (as a request body arrives), for several chunk sizes, to choose the
// default chunk size. Also a 4 KiB ranged read (one or two chunks decrypted). Prints GB/s (10^9
// bytes per second) and, for small objects, seals per second (one data key wrap each).
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type ChunkParameters,
  decryptChunks,
  encryptChunks,
  planCiphertextRange,
} from '../agent/crypto/chunked-aead.ts';
import { LocalKeyProvider } from '../agent/crypto/key-provider.ts';
import { ObjectEncryption } from '../agent/crypto/object-encryption.ts';
import { TenantKeyring } from '../agent/crypto/tenant-keyring.ts';
import { LocalDrive } from '../agent/disk/index.ts';

const totalBytes = 256 * 1024 * 1024;
const pieceBytes = 1024 * 1024;

async function* repeated(piece: Uint8Array, count: number): AsyncIterable<Uint8Array> {
  for (let index = 0; index < count; index += 1) yield piece;
}

async function drain(body: AsyncIterable<Uint8Array>, keep?: Uint8Array[]): Promise<number> {
  let bytes = 0;
  for await (const piece of body) {
    bytes += piece.length;
    keep?.push(piece);
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
  const directory = await mkdtemp(join(tmpdir(), 'coffre-bench-crypto-'));
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
    await rm(directory, { recursive: true, force: true });
  }
}

export async function run(): Promise<void> {
  for (const chunkSizeBytes of [64 * 1024, 256 * 1024, 1024 * 1024]) await measureChunkSize(chunkSizeBytes);
  await measureSeals();
}
