// The root of the key hierarchy: master keys wrap tenant keys. The agent sees them only through
// KeyProvider, whose two calls have the shape of an external KMS's Encrypt and Decrypt with an
// encryption context, so a KMS can take the local provider's place without other changes.
//
// The local provider takes its keys from a file or an environment variable: 256-bit keys in
// base64 or hex, one per line (or comma-separated), the first wrapping new secrets and the others
// kept to open what they wrapped until a rotation (TenantKeyring.rewrapAll) has moved everything
// to the first.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { CryptoError } from './errors.ts';
import { unwrapSecret, type WrappedSecret, wrappingKeyBytes, wrapSecret } from './key-wrap.ts';

export interface KeyProvider {
  /** The id of the key that wraps new secrets. */
  readonly currentKeyId: string;
  /** Seals `secret` under the current key, bound to `context`. */
  wrap(secret: Uint8Array, context: string): Promise<WrappedSecret>;
  /** Opens a secret sealed by any key this provider holds; KEY_NOT_FOUND for another key. */
  unwrap(wrapped: WrappedSecret, context: string): Promise<Buffer>;
}

/** The environment variable holding master keys (one or more, the first current). */
export const masterKeysVariable = 'COFFRE_MASTER_KEYS';
/** The environment variable naming a file of master keys. */
export const masterKeyFileVariable = 'COFFRE_MASTER_KEY_FILE';

/** A local master key's id: a digest of the key, so the file holds nothing but keys. */
export function masterKeyId(key: Uint8Array): string {
  return `local:${createHash('sha256').update('coffre.master-key-id\u0000').update(key).digest('hex').slice(0, 16)}`;
}

export class LocalKeyProvider implements KeyProvider {
  readonly currentKeyId: string;
  readonly #keys = new Map<string, Buffer>();

  /** `keys[0]` wraps new secrets; every key opens what it wrapped. */
  constructor(keys: Uint8Array[]) {
    if (keys.length === 0) throw new CryptoError('INVALID_MASTER_KEY', 'no master key given');
    for (const key of keys) {
      if (key.length !== wrappingKeyBytes) {
        throw new CryptoError('INVALID_MASTER_KEY', 'a master key is 256 bits');
      }
      this.#keys.set(masterKeyId(key), Buffer.from(key));
    }
    this.currentKeyId = masterKeyId(keys[0]);
  }

  async wrap(secret: Uint8Array, context: string): Promise<WrappedSecret> {
    return wrapSecret(this.#keys.get(this.currentKeyId)!, this.currentKeyId, secret, context);
  }

  async unwrap(wrapped: WrappedSecret, context: string): Promise<Buffer> {
    const key = this.#keys.get(wrapped.keyId);
    if (key === undefined) {
      throw new CryptoError('KEY_NOT_FOUND', `master key ${wrapped.keyId} is not among this agent's keys`);
    }
    return unwrapSecret(key, wrapped, context);
  }
}

/** Parses master keys: base64 (44 characters) or hex (64 digits), one per line or comma; '#' comments. */
export function parseMasterKeys(text: string): Buffer[] {
  const keys: Buffer[] = [];
  for (const line of text.split(/[\n,]/)) {
    const entry = line.replace(/#.*$/, '').trim();
    if (entry === '') continue;
    const key = /^[0-9a-fA-F]{64}$/.test(entry) ? Buffer.from(entry, 'hex') : Buffer.from(entry, 'base64');
    if (
      key.length !== wrappingKeyBytes ||
      (!/^[0-9a-fA-F]{64}$/.test(entry) && key.toString('base64') !== entry)
    ) {
      throw new CryptoError('INVALID_MASTER_KEY', 'a master key is 256 bits in base64 or hex');
    }
    keys.push(key);
  }
  if (keys.length === 0) throw new CryptoError('INVALID_MASTER_KEY', 'no master key given');
  return keys;
}

/**
 * The local provider from COFFRE_MASTER_KEYS, else from the file named by `file` or
 * COFFRE_MASTER_KEY_FILE; null when neither is set (the caller decides what an agent started
 * alone does then).
 */
export async function loadLocalKeyProvider(options: {
  environment: NodeJS.ProcessEnv;
  file?: string;
}): Promise<LocalKeyProvider | null> {
  const inline = options.environment[masterKeysVariable];
  if (inline !== undefined && inline.trim() !== '') return new LocalKeyProvider(parseMasterKeys(inline));
  const file = options.file ?? options.environment[masterKeyFileVariable];
  if (file === undefined || file === '') return null;
  return new LocalKeyProvider(parseMasterKeys(await readFile(file, 'utf8')));
}
