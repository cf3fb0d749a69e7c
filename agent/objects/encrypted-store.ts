// Encryption at rest as a decorator of the shard store: the object layer writes and reads
// plaintext through this class, and the erasure set below only ever receives ciphertext. Because
// every write of the layer (object versions, multipart parts, manifests, its own records) goes
// through the one store contract, no path can store a byte unencrypted.
//
// Each store version gets a fresh data key (agent/crypto/object-encryption.ts); its envelope (the
// wrapped data key and the chunk parameters) is kept in the version's store metadata under its own
// property, which this class adds on write, strips from what it hands up and carries over on
// metadata updates, so the layer never sees or loses it. Sizes handed up are plaintext sizes.
// Ranged reads fetch only the whole chunks that cover the range.

import { type CiphertextDestination, ciphertextSizeFor, plaintextSizeFor } from '../crypto/chunked-aead.ts';
import { CryptoError } from '../crypto/errors.ts';
import {
  type EncryptionEnvelope,
  type KeySource,
  type ObjectEncryption,
  storedSizeOf,
} from '../crypto/object-encryption.ts';
import type {
  ByteRange,
  ErasureSetContract,
  ReadVersionOptions,
  StoredVersion,
  VersionAddress,
  WriteVersionOptions,
} from './store.ts';

/** The store-metadata property that holds a version's encryption envelope. */
export const envelopeProperty = 'coffre.encryption';

/** `keySource` chooses whose key wraps the data key (default: `keySourceOf(address)`). */
export type EncryptedWriteOptions = WriteVersionOptions;

/** SSE-C: the customer's key, required for a version written with one. */
export type EncryptedReadOptions = ReadVersionOptions;

export interface EncryptedStoreOptions {
  encryption: ObjectEncryption;
  /** The key source of a write that names none (the bucket owner's tenant, or the system's). */
  keySourceOf: (address: VersionAddress) => KeySource;
}

/** The contract's answer for a version that does not exist (code NOT_FOUND, as the shard store's). */
export class VersionNotFoundError extends Error {
  readonly code = 'NOT_FOUND';

  constructor(address: VersionAddress) {
    super(`no version ${address.versionId} of ${address.bucket}/${address.key}`);
    this.name = 'VersionNotFoundError';
  }
}

export class EncryptedStore implements ErasureSetContract {
  readonly #inner: ErasureSetContract;
  readonly #encryption: ObjectEncryption;
  readonly #keySourceOf: (address: VersionAddress) => KeySource;

  constructor(inner: ErasureSetContract, options: EncryptedStoreOptions) {
    this.#inner = inner;
    this.#encryption = options.encryption;
    this.#keySourceOf = options.keySourceOf;
  }

  async writeVersion(
    address: VersionAddress,
    body: AsyncIterable<Uint8Array>,
    options: EncryptedWriteOptions,
  ): Promise<StoredVersion> {
    const sealed = await this.#encryption.seal(options.keySource ?? this.#keySourceOf(address));
    const counter = { plaintextBytes: 0 };
    const { declaredSizeBytes } = options;
    // The shard store offers its stripes, and each piece is sealed straight into them.
    const destination: CiphertextDestination = {};
    const ciphertext = sealed.encrypt(counting(body, counter), declaredSizeBytes, destination);
    const stored = await this.#inner.writeVersion(address, ciphertext, {
      signal: options.signal,
      newAddress: options.newAddress,
      bodyDestination: destination,
      sizeHintBytes:
        declaredSizeBytes === undefined
          ? undefined
          : ciphertextSizeFor(declaredSizeBytes, sealed.envelope.chunkSizeBytes),
      finalize: async () => {
        const metadata = await options.finalize({ sizeBytes: counter.plaintextBytes });
        return { ...metadata, [envelopeProperty]: sealed.envelope };
      },
    });
    return plaintextView(stored);
  }

  async statVersion(address: VersionAddress): Promise<StoredVersion | null> {
    const stored = await this.#inner.statVersion(address);
    return stored === null ? null : plaintextView(stored);
  }

  async readVersion(
    address: VersionAddress,
    range?: ByteRange,
    options: EncryptedReadOptions = {},
  ): Promise<{ version: StoredVersion; body: AsyncIterable<Uint8Array> }> {
    if (range === undefined) {
      const { version, body } = await this.#inner.readVersion(address, undefined, { reuseBuffers: true });
      const envelope = envelopeOf(version);
      const plain = plaintextView(version);
      const opened = await this.#encryption.open(envelope, options.customerKey);
      const plan = opened.plan(null, plain.sizeBytes);
      return { version: plain, body: opened.decrypt(body, plan, { lendPieces: options.lendPieces }) };
    }
    // A range needs the chunk size first: one metadata read, then only the covering chunks.
    const stat = await this.#inner.statVersion(address);
    if (stat === null) throw new VersionNotFoundError(address);
    const plain = plaintextView(stat);
    const opened = await this.#encryption.open(envelopeOf(stat), options.customerKey);
    const plan = opened.plan(range, plain.sizeBytes);
    const { version, body } = await this.#inner.readVersion(address, plan.ciphertext, {
      reuseBuffers: true,
    });
    return {
      version: plaintextView(version),
      body: opened.decrypt(body, plan, { lendPieces: options.lendPieces }),
    };
  }

  async updateMetadata(
    address: VersionAddress,
    update: (old: Record<string, unknown>) => Record<string, unknown>,
  ): Promise<StoredVersion> {
    const stored = await this.#inner.updateMetadata(address, (old) => {
      const { [envelopeProperty]: envelope, ...visible } = old;
      // The envelope is carried over whatever the update returns: losing it would lose the data.
      return { ...update(visible), [envelopeProperty]: envelope };
    });
    return plaintextView(stored);
  }

  deleteVersion(address: VersionAddress): Promise<void> {
    return this.#inner.deleteVersion(address);
  }

  async *listVersions(options?: { bucket?: string }): AsyncIterable<StoredVersion> {
    for await (const stored of this.#inner.listVersions(options)) yield plaintextView(stored);
  }

  close(): Promise<void> {
    return this.#inner.close();
  }
}

function envelopeOf(version: StoredVersion): EncryptionEnvelope {
  const envelope = version.metadata[envelopeProperty] as EncryptionEnvelope | undefined;
  if (envelope === undefined || typeof envelope !== 'object' || envelope === null) {
    // Every version is written encrypted; one without an envelope was altered on the drives.
    throw new CryptoError('TAMPERED', `store version ${version.address.key} has no encryption envelope`);
  }
  return envelope;
}

/** The version as the layer sees it: plaintext size, metadata without the envelope. */
function plaintextView(stored: StoredVersion): StoredVersion {
  const envelope = envelopeOf(stored);
  const sizeBytes = plaintextSizeFor(stored.sizeBytes, envelope.chunkSizeBytes);
  if (sizeBytes === null || storedSizeOf(envelope, sizeBytes) !== stored.sizeBytes) {
    throw new CryptoError('TRUNCATED', `store version ${stored.address.key} has a torn ciphertext size`);
  }
  const { [envelopeProperty]: _envelope, ...metadata } = stored.metadata;
  return { address: stored.address, sizeBytes, metadata };
}

async function* counting(
  body: AsyncIterable<Uint8Array>,
  counter: { plaintextBytes: number },
): AsyncIterable<Uint8Array> {
  for await (const piece of body) {
    counter.plaintextBytes += piece.length;
    yield piece;
  }
}
