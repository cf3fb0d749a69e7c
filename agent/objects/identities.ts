// Tenants and their access keys: who may call, and as whom. On a provisioned region the operator
// pushes them (the Kubernetes resources are the source of truth); an agent started alone keeps
// them itself in one small file, replaced atomically and durably on every change.
import { randomBytes } from 'node:crypto';
import type { Drive } from '../disk/index.ts';
import { isDriveError } from '../disk/index.ts';

/**
 * full: everything the tenant may do. read-only: list and read (a restore job). write-only: create
 * and list, never delete or overwrite-by-version (a backup job that can never destroy).
 */
export type KeyRole = 'full' | 'read-only' | 'write-only';

export interface TenantRecord {
  id: string;
  displayName: string;
  createdAtMs: number;
}

export interface AccessKeyRecord {
  accessKeyId: string;
  secretAccessKey: string;
  tenantId: string;
  role: KeyRole;
  createdAtMs: number;
  enabled: boolean;
}

interface IdentitiesFile {
  magic: typeof fileMagic;
  version: typeof fileVersion;
  tenants: TenantRecord[];
  keys: AccessKeyRecord[];
}

const fileMagic = 'coffre.identities';
const fileVersion = 1;
const fileName = 'identities.json';
const accessKeyAlphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export class IdentityError extends Error {
  override name = 'IdentityError';
}

/** 20 characters like AWS's (AKIA…): 'CF' then 18 from a 32-letter alphabet (90 random bits). */
export function newAccessKeyId(): string {
  const bytes = randomBytes(18);
  let id = 'CF';
  for (const byte of bytes) id += accessKeyAlphabet[byte % 32];
  return id;
}

/** 40 characters like AWS's, 240 random bits. */
export function newSecretAccessKey(): string {
  return randomBytes(30).toString('base64').replaceAll('+', 'A').replaceAll('/', 'B');
}

export class Identities {
  readonly #drive: Drive;
  readonly #clock: () => number;
  #tenants = new Map<string, TenantRecord>();
  #keys = new Map<string, AccessKeyRecord>();

  private constructor(drive: Drive, clock: () => number) {
    this.#drive = drive;
    this.#clock = clock;
  }

  /** Reads the identities kept on `drive` (a directory of the agent's own), or starts empty. */
  static async open(drive: Drive, clock: () => number = Date.now): Promise<Identities> {
    const identities = new Identities(drive, clock);
    let text: string;
    try {
      text = Buffer.from(await drive.readFile(fileName)).toString('utf8');
    } catch (error) {
      if (isDriveError(error, 'NOT_FOUND')) return identities;
      throw error;
    }
    const parsed = JSON.parse(text) as IdentitiesFile;
    if (parsed.magic !== fileMagic || parsed.version !== fileVersion) {
      throw new IdentityError(
        `${drive.description}/${fileName}: not a version ${fileVersion} identities file`,
      );
    }
    for (const tenant of parsed.tenants) identities.#tenants.set(tenant.id, tenant);
    for (const key of parsed.keys) identities.#keys.set(key.accessKeyId, key);
    return identities;
  }

  tenants(): TenantRecord[] {
    return [...this.#tenants.values()];
  }

  keys(tenantId?: string): AccessKeyRecord[] {
    return [...this.#keys.values()].filter((key) => tenantId === undefined || key.tenantId === tenantId);
  }

  /** The secret of an enabled key, for the signature check; null for unknown or disabled keys. */
  lookupSecret(accessKeyId: string): string | null {
    const key = this.#keys.get(accessKeyId);
    return key?.enabled ? key.secretAccessKey : null;
  }

  resolve(accessKeyId: string): { tenant: TenantRecord; key: AccessKeyRecord } | null {
    const key = this.#keys.get(accessKeyId);
    const tenant = key ? this.#tenants.get(key.tenantId) : undefined;
    return key?.enabled && tenant ? { tenant, key } : null;
  }

  async putTenant(tenant: { id: string; displayName: string }): Promise<TenantRecord> {
    // A tenant id names its bucket namespace inside bucket ids (`<tenantId>/<name>`, records.ts).
    if (tenant.id.length === 0 || tenant.id.includes('/')) {
      throw new IdentityError(`a tenant id is not empty and has no '/' (got ${JSON.stringify(tenant.id)})`);
    }
    const existing = this.#tenants.get(tenant.id);
    const record = { ...tenant, createdAtMs: existing?.createdAtMs ?? this.#clock() };
    this.#tenants.set(record.id, record);
    await this.#save();
    return record;
  }

  async putKey(
    key: Omit<AccessKeyRecord, 'createdAtMs' | 'enabled'> & { enabled?: boolean },
  ): Promise<AccessKeyRecord> {
    if (!this.#tenants.has(key.tenantId)) throw new IdentityError(`no tenant ${key.tenantId}`);
    if (!/^[A-Z0-9]{16,128}$/.test(key.accessKeyId)) {
      throw new IdentityError('an access key id is 16 to 128 upper-case letters and digits');
    }
    if (key.secretAccessKey.length < 16) throw new IdentityError('a secret key has at least 16 characters');
    const existing = this.#keys.get(key.accessKeyId);
    if (existing && existing.tenantId !== key.tenantId) {
      throw new IdentityError(`access key ${key.accessKeyId} belongs to another tenant`);
    }
    const record: AccessKeyRecord = {
      ...key,
      enabled: key.enabled ?? true,
      createdAtMs: existing?.createdAtMs ?? this.#clock(),
    };
    this.#keys.set(record.accessKeyId, record);
    await this.#save();
    return record;
  }

  /**
   * On the first start of a standalone agent: one tenant and one full key (the given one, or a new
   * random one). Later starts return what exists, adding the given key if it is new.
   */
  async ensureFirstTenant(
    firstKey: { accessKeyId: string; secretAccessKey: string } | null,
  ): Promise<{ tenant: TenantRecord; key: AccessKeyRecord; created: boolean }> {
    const created = this.#tenants.size === 0;
    const tenant = created
      ? await this.putTenant({ id: 'default', displayName: 'First tenant' })
      : this.tenants().sort((left, right) => left.createdAtMs - right.createdAtMs)[0];
    let key = firstKey ? this.#keys.get(firstKey.accessKeyId) : this.keys(tenant.id)[0];
    if (firstKey && key && key.secretAccessKey !== firstKey.secretAccessKey) {
      key = await this.putKey({ ...firstKey, tenantId: key.tenantId, role: key.role });
    }
    if (!key) {
      key = await this.putKey({
        accessKeyId: firstKey?.accessKeyId ?? newAccessKeyId(),
        secretAccessKey: firstKey?.secretAccessKey ?? newSecretAccessKey(),
        tenantId: tenant.id,
        role: 'full',
      });
    }
    return { tenant, key, created };
  }

  async #save(): Promise<void> {
    const file: IdentitiesFile = {
      magic: fileMagic,
      version: fileVersion,
      tenants: this.tenants(),
      keys: this.keys(),
    };
    await this.#drive.writeFileAtomic(fileName, Buffer.from(`${JSON.stringify(file, null, 2)}\n`));
  }
}
