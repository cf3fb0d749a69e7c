// Encryption of one object version: a fresh random data key and nonce prefix per version, the
// data key wrapped by the tenant's key (or, for SSE-C, by the customer's key), and the chunked
// AES-256-GCM stream of chunked-aead.ts. The envelope is what the object record keeps; it holds
// no secret in the clear.

import { chunkWorkers } from './chunk-workers.ts';
import {
  type ByteRange,
  type ChunkParameters,
  type CiphertextDestination,
  type CiphertextRangePlan,
  ciphertextSizeFor,
  dataKeyBytes,
  decryptChunks,
  defaultChunkSizeBytes,
  encryptChunks,
  maximumChunkSizeBytes,
  noncePrefixBytes,
  planCiphertextRange,
} from './chunked-aead.ts';
import {
  assertCustomerKeyMatches,
  type CustomerKey,
  type CustomerKeyFingerprint,
  fingerprintCustomerKey,
} from './customer-key.ts';
import { CryptoError } from './errors.ts';
import { unwrapSecret, type WrappedSecret, wrapSecret } from './key-wrap.ts';
import { pooledRandomBytes } from './random-pool.ts';
import type { TenantKeyring } from './tenant-keyring.ts';

export const envelopeFormatVersion = 1 as const;

export type WrappedDataKey =
  | { wrappedBy: 'tenant'; tenantId: string; wrapped: WrappedSecret }
  | { wrappedBy: 'customer'; customerKey: CustomerKeyFingerprint; wrapped: WrappedSecret };

/** How one version's bytes are encrypted; kept in its record (JSON-safe, no secret in the clear). */
export interface EncryptionEnvelope {
  formatVersion: typeof envelopeFormatVersion;
  cipher: 'AES-256-GCM';
  chunkSizeBytes: number;
  /** Base64 of the 64-bit per-version nonce prefix. */
  noncePrefix: string;
  dataKey: WrappedDataKey;
}

/** Whose key protects a new version: always a tenant; with SSE-C, the customer's key instead of the tenant's. */
export interface KeySource {
  tenantId: string;
  customerKey?: CustomerKey | null;
}

export interface SealedVersion {
  envelope: EncryptionEnvelope;
  /**
   * The ciphertext of `plaintext`, streamed (one chunk of memory). With `plaintextSizeBytes` (a
   * length the caller guarantees), each piece is encrypted as it arrives: see encryptChunks.
   */
  encrypt(
    plaintext: AsyncIterable<Uint8Array>,
    plaintextSizeBytes?: number,
    destination?: CiphertextDestination,
  ): AsyncIterable<Uint8Array>;
}

export interface OpenedVersion {
  envelope: EncryptionEnvelope;
  /** The stored bytes a plaintext range needs (the whole object when `range` is null). */
  plan(range: ByteRange | null, plaintextSizeBytes: number): CiphertextRangePlan;
  /**
   * The plaintext of `plan`'s range from exactly `plan.ciphertext` stored bytes. With
   * `lendPieces`, a large range is decrypted by a worker thread and its pieces are lent: each must
   * be given back with `releasePiece` (chunk-workers.ts).
   */
  decrypt(
    ciphertext: AsyncIterable<Uint8Array>,
    plan: CiphertextRangePlan,
    options?: { lendPieces?: boolean },
  ): AsyncIterable<Uint8Array>;
}

export interface ObjectEncryptionOptions {
  keyring: TenantKeyring;
  chunkSizeBytes?: number;
  random?: (size: number) => Buffer;
}

/** The data key's wrapping is bound to the chunk parameters, so editing them in a record fails to open. */
function dataKeyContext(envelope: Omit<EncryptionEnvelope, 'dataKey'>, owner: string): string {
  return `coffre.data-key.v${envelope.formatVersion}\u0000${envelope.cipher}\u0000${envelope.chunkSizeBytes}\u0000${envelope.noncePrefix}\u0000${owner}`;
}

export class ObjectEncryption {
  readonly #keyring: TenantKeyring;
  readonly #chunkSizeBytes: number;
  readonly #random: (size: number) => Buffer;

  constructor(options: ObjectEncryptionOptions) {
    this.#keyring = options.keyring;
    this.#chunkSizeBytes = options.chunkSizeBytes ?? defaultChunkSizeBytes;
    this.#random = options.random ?? pooledRandomBytes;
    if (this.#chunkSizeBytes < 1 || this.#chunkSizeBytes > maximumChunkSizeBytes) {
      throw new RangeError(`chunk size must be 1..${maximumChunkSizeBytes} bytes`);
    }
  }

  /** Starts a new version: a fresh data key and nonce prefix, wrapped for `source`. */
  async seal(source: KeySource): Promise<SealedVersion> {
    const dataKey = this.#random(dataKeyBytes);
    const header = {
      formatVersion: envelopeFormatVersion,
      cipher: 'AES-256-GCM' as const,
      chunkSizeBytes: this.#chunkSizeBytes,
      noncePrefix: this.#random(noncePrefixBytes).toString('base64'),
    };
    let wrappedKey: WrappedDataKey;
    if (source.customerKey) {
      const context = dataKeyContext(header, 'customer');
      wrappedKey = {
        wrappedBy: 'customer',
        customerKey: fingerprintCustomerKey(source.customerKey, this.#random),
        wrapped: wrapSecret(source.customerKey.key, 'customer', dataKey, context, this.#random),
      };
    } else {
      const context = dataKeyContext(header, `tenant\u0000${source.tenantId}`);
      const sealed = await this.#keyring.wrapDataKey(source.tenantId, dataKey, context);
      wrappedKey = { wrappedBy: 'tenant', tenantId: source.tenantId, wrapped: sealed.wrapped };
    }
    const envelope: EncryptionEnvelope = { ...header, dataKey: wrappedKey };
    const parameters = parametersOf(envelope, dataKey);
    return {
      envelope,
      encrypt: (plaintext, plaintextSizeBytes, destination) =>
        encryptChunks(plaintext, parameters, plaintextSizeBytes, undefined, destination),
    };
  }

  /**
   * Opens a stored version for reading. An SSE-C version needs its customer key (checked against
   * the fingerprint first, so a wrong key is WRONG_CUSTOMER_KEY, not TAMPERED); any other
   * version refuses one.
   */
  async open(envelope: EncryptionEnvelope, customerKey?: CustomerKey | null): Promise<OpenedVersion> {
    if (envelope.formatVersion !== envelopeFormatVersion || envelope.cipher !== 'AES-256-GCM') {
      throw new CryptoError('UNKNOWN_FORMAT', `unknown encryption envelope ${envelope.formatVersion}`);
    }
    let dataKey: Buffer;
    const wrappedKey = envelope.dataKey;
    if (wrappedKey.wrappedBy === 'customer') {
      if (!customerKey) {
        throw new CryptoError(
          'CUSTOMER_KEY_MISMATCH',
          'The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.',
        );
      }
      assertCustomerKeyMatches(customerKey, wrappedKey.customerKey);
      dataKey = unwrapSecret(customerKey.key, wrappedKey.wrapped, dataKeyContext(envelope, 'customer'));
    } else {
      if (customerKey) {
        throw new CryptoError(
          'CUSTOMER_KEY_MISMATCH',
          'The encryption parameters are not applicable to this object.',
        );
      }
      const context = dataKeyContext(envelope, `tenant\u0000${wrappedKey.tenantId}`);
      dataKey = await this.#keyring.unwrapDataKey(
        { tenantId: wrappedKey.tenantId, wrapped: wrappedKey.wrapped },
        context,
      );
    }
    const parameters = parametersOf(envelope, dataKey);
    return {
      envelope,
      plan: (range, plaintextSizeBytes) =>
        planCiphertextRange(
          range ?? { offsetBytes: 0, lengthBytes: plaintextSizeBytes },
          plaintextSizeBytes,
          envelope.chunkSizeBytes,
        ),
      decrypt: (ciphertext, plan, options) =>
        options?.lendPieces
          ? chunkWorkers.decryptLent(ciphertext, parameters, plan)
          : decryptChunks(ciphertext, parameters, plan),
    };
  }
}

function parametersOf(envelope: EncryptionEnvelope, dataKey: Buffer): ChunkParameters {
  const noncePrefix = Buffer.from(envelope.noncePrefix, 'base64');
  if (noncePrefix.length !== noncePrefixBytes) {
    throw new CryptoError('TAMPERED', 'encryption envelope has a malformed nonce prefix');
  }
  return { dataKey, noncePrefix, chunkSizeBytes: envelope.chunkSizeBytes };
}

/** The stored size of a version of `plaintextSizeBytes` under `envelope`. */
export function storedSizeOf(envelope: EncryptionEnvelope, plaintextSizeBytes: number): number {
  return ciphertextSizeFor(plaintextSizeBytes, envelope.chunkSizeBytes);
}
