// Wrapping one key under another: AES-256-GCM with a random 96-bit nonce and a context string as
// additional authenticated data, so a wrapped key cannot be moved to another purpose or owner
// (a tenant key to another tenant, a data key to other chunk parameters) without failing to open.
import assert from 'node:assert/strict';
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { CryptoError } from './errors.ts';
import { pooledRandomBytes } from './random-pool.ts';

const nonceBytes = 12;
const tagBytes = 16;
export const wrappingKeyBytes = 32;

/** A secret sealed under a key-encryption key, in base64, as kept in records and files. */
export interface WrappedSecret {
  /** Which key-encryption key sealed it (a master key id, a tenant key id, or 'customer'). */
  keyId: string;
  nonce: string;
  /** The sealed secret followed by its 16-byte tag. */
  ciphertext: string;
}

export function wrapSecret(
  wrappingKey: Uint8Array,
  keyId: string,
  secret: Uint8Array,
  context: string,
  random: (size: number) => Buffer = pooledRandomBytes,
): WrappedSecret {
  assert.equal(wrappingKey.length, wrappingKeyBytes, 'a key-encryption key is 256 bits');
  const nonce = random(nonceBytes);
  const cipher = createCipheriv('aes-256-gcm', wrappingKey, nonce, { authTagLength: tagBytes });
  cipher.setAAD(Buffer.from(context, 'utf8'));
  const sealed = Buffer.concat([cipher.update(secret), cipher.final(), cipher.getAuthTag()]);
  return { keyId, nonce: nonce.toString('base64'), ciphertext: sealed.toString('base64') };
}

/** Opens a wrapped secret; TAMPERED when the key, the context or the bytes are not the ones sealed. */
export function unwrapSecret(wrappingKey: Uint8Array, wrapped: WrappedSecret, context: string): Buffer {
  assert.equal(wrappingKey.length, wrappingKeyBytes, 'a key-encryption key is 256 bits');
  const nonce = Buffer.from(wrapped.nonce, 'base64');
  const sealed = Buffer.from(wrapped.ciphertext, 'base64');
  if (nonce.length !== nonceBytes || sealed.length < tagBytes) {
    throw new CryptoError('TAMPERED', `wrapped key under ${wrapped.keyId} is malformed`);
  }
  const decipher = createDecipheriv('aes-256-gcm', wrappingKey, nonce, { authTagLength: tagBytes });
  decipher.setAAD(Buffer.from(context, 'utf8'));
  decipher.setAuthTag(sealed.subarray(sealed.length - tagBytes));
  const secret = decipher.update(sealed.subarray(0, sealed.length - tagBytes));
  try {
    decipher.final();
  } catch {
    secret.fill(0);
    throw new CryptoError('TAMPERED', `wrapped key under ${wrapped.keyId} failed authentication`);
  }
  return secret;
}
