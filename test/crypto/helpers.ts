// Shared set-up for the encryption tests: a keyring over a real drive folder in a temporary
// directory, and stream helpers.

import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { LocalKeyProvider } from '../../agent/crypto/key-provider.ts';
import { ObjectEncryption } from '../../agent/crypto/object-encryption.ts';
import { TenantKeyring } from '../../agent/crypto/tenant-keyring.ts';
import { LocalDrive } from '../../agent/disk/index.ts';

export async function temporaryDrive(t: ExecutionContext): Promise<LocalDrive> {
  const directory = await mkdtemp(join(tmpdir(), 'coffre-crypto-'));
  t.teardown(() => rm(directory, { recursive: true, force: true }));
  return new LocalDrive(directory);
}

export async function encryptionHarness(
  t: ExecutionContext,
  options: { chunkSizeBytes?: number; masterKeys?: Buffer[] } = {},
): Promise<{
  encryption: ObjectEncryption;
  keyring: TenantKeyring;
  drive: LocalDrive;
  masterKeys: Buffer[];
}> {
  const drive = await temporaryDrive(t);
  const masterKeys = options.masterKeys ?? [randomBytes(32)];
  const keyring = new TenantKeyring({ provider: new LocalKeyProvider(masterKeys), drive });
  return {
    encryption: new ObjectEncryption({ keyring, chunkSizeBytes: options.chunkSizeBytes }),
    keyring,
    drive,
    masterKeys,
  };
}

/** Yields `bytes` in pieces of `pieceBytes` (to cross chunk boundaries in every way). */
export async function* piecesOf(bytes: Uint8Array, pieceBytes: number): AsyncIterable<Uint8Array> {
  for (let offset = 0; offset < bytes.length; offset += pieceBytes) {
    yield bytes.subarray(offset, Math.min(bytes.length, offset + pieceBytes));
  }
}

/** Copies every piece: encryption lends its pieces (each valid until the next is asked for). */
export async function collect(body: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const pieces: Uint8Array[] = [];
  for await (const piece of body) pieces.push(Buffer.from(piece));
  return Buffer.concat(pieces);
}

/** Collects what a stream yields before it fails (and the failure). */
export async function collectUntilError(
  body: AsyncIterable<Uint8Array>,
): Promise<{ bytes: Buffer; error: unknown }> {
  const pieces: Uint8Array[] = [];
  try {
    for await (const piece of body) pieces.push(Buffer.from(piece));
  } catch (error) {
    return { bytes: Buffer.concat(pieces), error };
  }
  return { bytes: Buffer.concat(pieces), error: null };
}
