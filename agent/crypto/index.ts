// Encryption at rest, below the object layer: chunked AES-256-GCM, the key hierarchy (master key
// -> tenant key -> data key per object version) and SSE-C customer keys.

export { ChunkWorkers, chunkWorkers, releasePiece } from './chunk-workers.ts';
export {
  type ByteRange,
  type ChunkParameters,
  type CiphertextDestination,
  type CiphertextRangePlan,
  chunkCountFor,
  ciphertextSizeFor,
  decryptChunks,
  defaultChunkSizeBytes,
  encryptChunks,
  gcmTagBytes,
  maximumChunkSizeBytes,
  plaintextSizeFor,
  planCiphertextRange,
} from './chunked-aead.ts';
export {
  assertCustomerKeyMatches,
  type CustomerKey,
  type CustomerKeyFingerprint,
  type CustomerKeyHeaders,
  fingerprintCustomerKey,
  hasCustomerKeyHeaders,
  parseCustomerKey,
} from './customer-key.ts';
export { CryptoError, type CryptoErrorCode, isCryptoError } from './errors.ts';
export {
  type KeyProvider,
  LocalKeyProvider,
  loadLocalKeyProvider,
  masterKeyFileVariable,
  masterKeyId,
  masterKeysVariable,
  parseMasterKeys,
} from './key-provider.ts';
export { unwrapSecret, type WrappedSecret, wrapSecret } from './key-wrap.ts';
export {
  type EncryptionEnvelope,
  type KeySource,
  ObjectEncryption,
  type ObjectEncryptionOptions,
  type OpenedVersion,
  type SealedVersion,
  storedSizeOf,
  type WrappedDataKey,
} from './object-encryption.ts';
export { TenantKeyring, type TenantKeyringOptions, type TenantWrappedKey } from './tenant-keyring.ts';
