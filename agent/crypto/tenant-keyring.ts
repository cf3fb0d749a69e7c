// The middle of the key hierarchy: one key per tenant wraps the data keys of that tenant's
// objects, and is itself kept only wrapped by a master key (KeyProvider). Rotating the master key
// rewraps the tenant keys (a few hundred bytes each) and never touches an object; destroying a
// tenant's keys at offboarding makes all its data unreadable at once.
//
// Each tenant's keys live in one small file (magic, format version), replaced atomically and
// durably, on every drive given: losing a tenant's keys would lose all its data, so they are kept
// as many times as there are drives (a copy that is missing, damaged or does not open is skipped
// on read). Opened tenant keys are cached, so a PUT costs no master-key (KMS) call.
import type { Drive } from '../disk/index.ts';
import { isDriveError } from '../disk/index.ts';
import { CryptoError } from './errors.ts';
import type { KeyProvider } from './key-provider.ts';
import { unwrapSecret, type WrappedSecret, wrappingKeyBytes, wrapSecret } from './key-wrap.ts';
import { pooledRandomBytes } from './random-pool.ts';

const fileMagic = 'coffre.tenant-keys';
const fileFormatVersion = 1;
const directory = 'tenant-keys';

interface TenantKeysFile {
  magic: typeof fileMagic;
  formatVersion: typeof fileFormatVersion;
  tenantId: string;
  /** The key that wraps new data keys. */
  currentKeyId: string;
  keys: { id: string; createdMs: number; wrapped: WrappedSecret }[];
}

interface OpenedTenantKeys {
  file: TenantKeysFile;
  keys: Map<string, Buffer>;
}

/** A data key as the object record keeps it: sealed by one of its tenant's keys. */
export interface TenantWrappedKey {
  tenantId: string;
  wrapped: WrappedSecret;
}

export interface TenantKeyringOptions {
  provider: KeyProvider;
  /**
   * Directories of the agent's own (the tenant key files go under tenant-keys/ in each): the data
   * directory and every drive, so the keys outlive the loss of any of them.
   */
  drive: Drive | Drive[];
  clock?: () => number;
  random?: (size: number) => Buffer;
}

function fileNameOf(tenantId: string): string {
  return `${directory}/${Buffer.from(tenantId, 'utf8').toString('hex')}.json`;
}

function tenantKeyContext(tenantId: string, keyId: string): string {
  return `coffre.tenant-key.v1\u0000${tenantId}\u0000${keyId}`;
}

export class TenantKeyring {
  readonly #provider: KeyProvider;
  readonly #drives: Drive[];
  readonly #clock: () => number;
  readonly #random: (size: number) => Buffer;
  /** One load or creation per tenant at a time; later calls reuse the result. */
  readonly #opened = new Map<string, Promise<OpenedTenantKeys>>();

  constructor(options: TenantKeyringOptions) {
    this.#provider = options.provider;
    this.#drives = Array.isArray(options.drive) ? options.drive : [options.drive];
    if (this.#drives.length === 0) throw new RangeError('a tenant keyring needs at least one drive');
    this.#clock = options.clock ?? Date.now;
    this.#random = options.random ?? pooledRandomBytes;
  }

  /** Seals a data key under the tenant's current key, creating that key on the tenant's first object. */
  async wrapDataKey(tenantId: string, dataKey: Uint8Array, context: string): Promise<TenantWrappedKey> {
    const opened = await this.#open(tenantId, true);
    const keyId = opened.file.currentKeyId;
    return { tenantId, wrapped: wrapSecret(opened.keys.get(keyId)!, keyId, dataKey, context, this.#random) };
  }

  async unwrapDataKey(sealed: TenantWrappedKey, context: string): Promise<Buffer> {
    const opened = await this.#open(sealed.tenantId, false);
    const key = opened.keys.get(sealed.wrapped.keyId);
    if (key === undefined) {
      throw new CryptoError('KEY_NOT_FOUND', `tenant ${sealed.tenantId} has no key ${sealed.wrapped.keyId}`);
    }
    return unwrapSecret(key, sealed.wrapped, context);
  }

  /** A new current key for the tenant; older keys stay to open the data keys they sealed. */
  async rotateTenantKey(tenantId: string): Promise<string> {
    const opened = await this.#open(tenantId, true);
    const keyId = `tk-${this.#random(8).toString('hex')}`;
    const key = this.#random(wrappingKeyBytes);
    const wrapped = await this.#provider.wrap(key, tenantKeyContext(tenantId, keyId));
    const file: TenantKeysFile = {
      ...opened.file,
      currentKeyId: keyId,
      keys: [...opened.file.keys, { id: keyId, createdMs: this.#clock(), wrapped }],
    };
    await this.#save(file);
    opened.file = file;
    opened.keys.set(keyId, key);
    return keyId;
  }

  /**
   * Master key rotation: every tenant key is rewrapped under the provider's current master key,
   * so the older master keys can then be retired. Data keys and objects are untouched.
   */
  async rewrapAll(): Promise<{ tenantCount: number; rewrappedKeyCount: number }> {
    let tenantCount = 0;
    let rewrappedKeyCount = 0;
    for (const tenantId of await this.tenantIds()) {
      const opened = await this.#open(tenantId, false);
      const keys: TenantKeysFile['keys'] = [];
      for (const entry of opened.file.keys) {
        if (entry.wrapped.keyId === this.#provider.currentKeyId) {
          keys.push(entry);
          continue;
        }
        const context = tenantKeyContext(tenantId, entry.id);
        keys.push({ ...entry, wrapped: await this.#provider.wrap(opened.keys.get(entry.id)!, context) });
        rewrappedKeyCount += 1;
      }
      opened.file = { ...opened.file, keys };
      await this.#save(opened.file);
      tenantCount += 1;
    }
    return { tenantCount, rewrappedKeyCount };
  }

  /** Crypto-shredding: the tenant's keys are removed, so none of its objects can be read again. */
  async destroyTenant(tenantId: string): Promise<void> {
    const opened = await this.#opened.get(tenantId)?.catch(() => null);
    for (const key of opened?.keys.values() ?? []) key.fill(0);
    this.#opened.delete(tenantId);
    for (const drive of this.#drives) await drive.remove(fileNameOf(tenantId));
  }

  async tenantIds(): Promise<string[]> {
    const names = new Set<string>();
    for (const drive of this.#drives) {
      try {
        for (const name of await drive.list(directory)) names.add(name);
      } catch (error) {
        if (!isDriveError(error)) throw error;
      }
    }
    return [...names]
      .filter((name) => name.endsWith('.json'))
      .sort()
      .map((name) => Buffer.from(name.slice(0, -'.json'.length), 'hex').toString('utf8'));
  }

  #open(tenantId: string, create: boolean): Promise<OpenedTenantKeys> {
    let opening = this.#opened.get(tenantId);
    if (opening === undefined) {
      opening = this.#load(tenantId, create);
      this.#opened.set(tenantId, opening);
      // A failed load is not cached: the next call tries again.
      opening.catch(() => this.#opened.delete(tenantId));
    }
    return opening;
  }

  /** The first copy that reads, parses and opens; a new key only when no drive has any copy. */
  async #load(tenantId: string, create: boolean): Promise<OpenedTenantKeys> {
    let found = false;
    let failure: unknown = null;
    for (const drive of this.#drives) {
      let bytes: Uint8Array;
      try {
        bytes = await drive.readFile(fileNameOf(tenantId));
      } catch (error) {
        if (!isDriveError(error)) throw error;
        if (!isDriveError(error, 'NOT_FOUND')) failure ??= error;
        continue;
      }
      found = true;
      try {
        return await this.#parse(tenantId, bytes);
      } catch (error) {
        failure ??= error;
      }
    }
    // Never create over a copy that exists but does not open: that would orphan the tenant's data.
    if (found || failure !== null) throw failure;
    if (!create) throw new CryptoError('KEY_NOT_FOUND', `tenant ${tenantId} has no keys`);
    return this.#create(tenantId);
  }

  async #parse(tenantId: string, bytes: Uint8Array): Promise<OpenedTenantKeys> {
    let file: TenantKeysFile;
    try {
      file = JSON.parse(Buffer.from(bytes).toString('utf8')) as TenantKeysFile;
    } catch {
      throw new CryptoError('UNKNOWN_FORMAT', `${fileNameOf(tenantId)} is not JSON`);
    }
    if (file.magic !== fileMagic || file.formatVersion !== fileFormatVersion || file.tenantId !== tenantId) {
      throw new CryptoError('UNKNOWN_FORMAT', `${fileNameOf(tenantId)} is not a version 1 tenant keys file`);
    }
    const keys = new Map<string, Buffer>();
    for (const entry of file.keys) {
      keys.set(entry.id, await this.#provider.unwrap(entry.wrapped, tenantKeyContext(tenantId, entry.id)));
    }
    return { file, keys };
  }

  async #create(tenantId: string): Promise<OpenedTenantKeys> {
    const keyId = `tk-${this.#random(8).toString('hex')}`;
    const key = this.#random(wrappingKeyBytes);
    const wrapped = await this.#provider.wrap(key, tenantKeyContext(tenantId, keyId));
    const file: TenantKeysFile = {
      magic: fileMagic,
      formatVersion: fileFormatVersion,
      tenantId,
      currentKeyId: keyId,
      keys: [{ id: keyId, createdMs: this.#clock(), wrapped }],
    };
    await this.#save(file);
    return { file, keys: new Map([[keyId, key]]) };
  }

  /** Writes every copy; succeeds when all drives took it, or all but offline ones and at least one. */
  async #save(file: TenantKeysFile): Promise<void> {
    const bytes = Buffer.from(`${JSON.stringify(file)}\n`);
    let written = 0;
    for (const drive of this.#drives) {
      try {
        await drive.ensureDirectory(directory);
        await drive.writeFileAtomic(fileNameOf(file.tenantId), bytes);
        written += 1;
      } catch (error) {
        if (!isDriveError(error, 'DRIVE_OFFLINE')) throw error;
      }
    }
    if (written === 0)
      throw new CryptoError('KEY_NOT_FOUND', `no drive online to keep tenant ${file.tenantId}'s keys`);
  }
}
