// Hard quotas, per tenant and per bucket, in bytes of stored data (the usage ledger's storedBytes).
// Control metadata like the identities: pushed by the operator through the admin API (desired
// state, idempotent), kept by the agent in one small file replaced atomically and durably.
import type { Drive } from '../disk/index.ts';
import { isDriveError } from '../disk/index.ts';

interface QuotasFile {
  magic: typeof fileMagic;
  version: 1 | typeof fileVersion;
  tenants: Record<string, number>;
  /** By bucket id (BucketRecord.id); in version 1, by global bucket name. */
  buckets: Record<string, number>;
}

const fileMagic = 'coffre.quotas';
// 2: bucket quotas are keyed by bucket id, since bucket names are per tenant. A version 1 file keyed
// them by global name, which is exactly the id of every bucket created then (BucketRecord.id), so
// its entries are read unchanged.
const fileVersion = 2;
const fileName = 'quotas.json';

export class QuotaSettingError extends Error {
  override name = 'QuotaSettingError';
}

/** What the commit admission asks: the limits in force (null: none). */
export interface QuotaSource {
  quotaOfTenant(tenantId: string): number | null;
  quotaOfBucket(bucket: string): number | null;
}

function assertQuotaBytes(bytes: number | null): void {
  if (bytes !== null && (!Number.isSafeInteger(bytes) || bytes < 0)) {
    throw new QuotaSettingError(`a quota is a whole number of bytes, zero or more (got ${String(bytes)})`);
  }
}

export class Quotas implements QuotaSource {
  readonly #drive: Drive | null;
  #tenants = new Map<string, number>();
  #buckets = new Map<string, number>();

  private constructor(drive: Drive | null) {
    this.#drive = drive;
  }

  /** Quotas kept in memory only (tests of the layer). */
  static inMemory(): Quotas {
    return new Quotas(null);
  }

  static async open(drive: Drive): Promise<Quotas> {
    const quotas = new Quotas(drive);
    let text: string;
    try {
      text = Buffer.from(await drive.readFile(fileName)).toString('utf8');
    } catch (error) {
      if (isDriveError(error, 'NOT_FOUND')) return quotas;
      throw error;
    }
    const parsed = JSON.parse(text) as QuotasFile;
    if (parsed.magic !== fileMagic || (parsed.version !== 1 && parsed.version !== fileVersion)) {
      throw new QuotaSettingError(
        `${drive.description}/${fileName}: not a version ${fileVersion} quotas file`,
      );
    }
    quotas.#tenants = new Map(Object.entries(parsed.tenants));
    quotas.#buckets = new Map(Object.entries(parsed.buckets));
    return quotas;
  }

  quotaOfTenant(tenantId: string): number | null {
    return this.#tenants.get(tenantId) ?? null;
  }

  /** By bucket id. */
  quotaOfBucket(bucketId: string): number | null {
    return this.#buckets.get(bucketId) ?? null;
  }

  /** Sets (a number) or removes (null) a tenant's quota; setting the same value again changes nothing. */
  async setTenantQuota(tenantId: string, bytes: number | null): Promise<void> {
    assertQuotaBytes(bytes);
    if (this.quotaOfTenant(tenantId) === bytes) return;
    if (bytes === null) this.#tenants.delete(tenantId);
    else this.#tenants.set(tenantId, bytes);
    await this.#save();
  }

  /** By bucket id: a bucket's quota is set once it exists (the admin API creates it first). */
  async setBucketQuota(bucketId: string, bytes: number | null): Promise<void> {
    assertQuotaBytes(bytes);
    if (this.quotaOfBucket(bucketId) === bytes) return;
    if (bytes === null) this.#buckets.delete(bucketId);
    else this.#buckets.set(bucketId, bytes);
    await this.#save();
  }

  async #save(): Promise<void> {
    if (this.#drive === null) return;
    const file: QuotasFile = {
      magic: fileMagic,
      version: fileVersion,
      tenants: Object.fromEntries(this.#tenants),
      buckets: Object.fromEntries(this.#buckets),
    };
    await this.#drive.writeFileAtomic(fileName, Buffer.from(`${JSON.stringify(file, null, 2)}\n`));
  }
}
