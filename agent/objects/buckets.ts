// Buckets: create, delete, list per tenant, and their configuration (versioning, Object Lock,
// CORS, tags). Each tenant has its own namespace of bucket names: a bucket is found by (tenant,
// name) (find, resolve) and is then known by its id (`<tenant>/<name>`, see bucketIdOf), which every
// other method and the rest of the layer take. Each bucket's record is a small metadata-only
// version in the shard store itself (system bucket ".coffre", key "buckets/<id>"), so bucket
// configuration has the same erasure coding, bitrot checks and repair as the data it governs, and
// the listing index can be rebuilt from the store alone: a separate SQLite file would be one more
// thing to back up and a single point of loss. Updates use the store's cheap metadata update (no
// data rewrite). The index keeps a copy for fast lookups, and this class keeps the few bucket
// records in memory.
import {
  deleteIndexed,
  emptyBody,
  type LayerContext,
  updateIndexed,
  withMutation,
  writeIndexed,
} from './context.ts';
import { ObjectError } from './errors.ts';
import {
  type BucketRecord,
  bucketIdOf,
  bucketNameOfId,
  type CorsRule,
  type DefaultRetention,
  fromMetadata,
  systemBucket,
  systemKeys,
  type Tags,
  toMetadata,
} from './records.ts';
import type { VersionAddress } from './store.ts';
import { assertBucketName, assertTags, maximumBucketTags } from './validation.ts';

export const defaultRegion = 'fr-par';

export interface CreateBucketInput {
  name: string;
  ownerTenantId: string;
  region?: string;
  /** x-amz-bucket-object-lock-enabled: also turns versioning on, as S3 does. */
  objectLockEnabled?: boolean;
}

export class Buckets {
  readonly #context: LayerContext;
  /** By bucket id. */
  readonly #records = new Map<string, { record: BucketRecord; storeVersionId: string }>();

  constructor(context: LayerContext) {
    this.#context = context;
  }

  /** Loads the bucket records from the index (after open or a rebuild). */
  reload(): void {
    this.#records.clear();
    for (const entry of this.#context.index.allBuckets()) this.#records.set(entry.record.id, entry);
  }

  /**
   * The tenant's bucket of that S3 name, or undefined: another tenant's bucket of the same name is
   * not in this namespace and is never found here (a tenant cannot learn that it exists).
   */
  find(tenantId: string, name: string): Readonly<BucketRecord> | undefined {
    // No bucket name contains '/' (assertBucketName): such a name, from any caller, finds nothing.
    if (name.includes('/') || tenantId.length === 0 || tenantId.includes('/')) return undefined;
    const entry = this.#records.get(bucketIdOf(tenantId, name)) ?? this.#records.get(name);
    // A bare-name id is a bucket from when names were global (record format 1): it is in its owner's
    // namespace only.
    return entry?.record.ownerTenantId === tenantId && entry.record.name === name ? entry.record : undefined;
  }

  /**
   * The buckets of this S3 name in every namespace: only for a CORS preflight, which carries no
   * credentials and so names no tenant.
   */
  named(name: string): Readonly<BucketRecord>[] {
    return [...this.#records.values()]
      .filter((entry) => entry.record.name === name)
      .map((entry) => entry.record);
  }

  /** The id of the tenant's bucket of that S3 name; NoSuchBucket when it has none. */
  resolve(tenantId: string, name: string): string {
    const record = this.find(tenantId, name);
    if (record === undefined)
      throw new ObjectError('NoSuchBucket', 'The specified bucket does not exist', { bucket: name });
    return record.id;
  }

  async create(input: CreateBucketInput): Promise<BucketRecord> {
    assertBucketName(input.name);
    const id = bucketIdOf(input.ownerTenantId, input.name);
    return withMutation(this.#context, id, 'exclusive', async () => {
      // Only the tenant's own namespace is looked at: another tenant's bucket of this name is no
      // obstacle (S3 would answer BucketAlreadyExists, and so tell that it exists).
      if (this.find(input.ownerTenantId, input.name) !== undefined) {
        throw new ObjectError('BucketAlreadyOwnedByYou', 'The requested bucket name is not available.', {
          bucket: input.name,
        });
      }
      const record: BucketRecord = {
        id,
        name: input.name,
        ownerTenantId: input.ownerTenantId,
        createdMs: this.#context.clock(),
        region: input.region ?? defaultRegion,
        versioning: input.objectLockEnabled === true ? 'Enabled' : 'Unversioned',
        objectLock: { enabled: input.objectLockEnabled === true, defaultRetention: null },
        cors: null,
        tags: null,
      };
      const address = {
        bucket: systemBucket,
        key: systemKeys.bucket(id),
        versionId: this.#context.hybridClock.next(),
      };
      await writeIndexed(this.#context, address, emptyBody(), {
        finalize: async () => toMetadata({ kind: 'bucket', record }),
        indexCommitted: () => this.#context.index.putBucket(record, address.versionId),
      });
      this.#records.set(record.id, { record, storeVersionId: address.versionId });
      return structuredClone(record);
    });
  }

  /**
   * S3 DeleteBucket: only an empty bucket (no versions, delete markers or uploads) can go. This and
   * the methods below take the bucket's id (resolve).
   */
  async delete(id: string): Promise<void> {
    await withMutation(this.#context, id, 'exclusive', async () => {
      const entry = this.#require(id);
      if (this.#context.index.bucketHasEntries(id)) {
        throw new ObjectError('BucketNotEmpty', 'The bucket you tried to delete is not empty', {
          bucket: id,
        });
      }
      const address = this.#address(id, entry.storeVersionId);
      await deleteIndexed(this.#context, [address], () => this.#context.index.removeBucket(id));
      this.#records.delete(id);
    });
  }

  /** The tenant's buckets in name order (S3 ListBuckets). */
  list(ownerTenantId: string): BucketRecord[] {
    return [...this.#records.values()]
      .filter((entry) => entry.record.ownerTenantId === ownerTenantId)
      .map((entry) => structuredClone(entry.record))
      .sort((left, right) => (left.name < right.name ? -1 : left.name > right.name ? 1 : 0));
  }

  /** The bucket of this id (S3 HeadBucket, after resolve); NoSuchBucket when absent. */
  head(id: string): BucketRecord {
    return structuredClone(this.#require(id).record);
  }

  /**
   * The bucket's record as held, without the copy head() makes: for the checks on every request that
   * only read a field of it (the copy was a measurable share of a PutObjectRetention). NoSuchBucket
   * when absent.
   */
  peek(id: string): Readonly<BucketRecord> {
    return this.#require(id).record;
  }

  /** The owner of the bucket of this id, or null when there is none. */
  ownerOf(id: string): string | null {
    return this.#records.get(id)?.record.ownerTenantId ?? null;
  }

  location(id: string): string {
    return this.#require(id).record.region;
  }

  async setVersioning(id: string, state: 'Enabled' | 'Suspended'): Promise<BucketRecord> {
    return this.#update(id, (record) => {
      // S3: "You cannot suspend versioning on a bucket that has Object Lock enabled."
      if (state === 'Suspended' && record.objectLock.enabled) {
        throw new ObjectError(
          'InvalidBucketState',
          'An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.',
          { bucket: id },
        );
      }
      record.versioning = state;
    });
  }

  async setObjectLockConfiguration(
    id: string,
    defaultRetention: DefaultRetention | null,
  ): Promise<BucketRecord> {
    return this.#update(id, (record) => {
      if (!record.objectLock.enabled) {
        // Enabling Object Lock on an existing bucket needs versioning on, as in S3.
        if (record.versioning !== 'Enabled') {
          throw new ObjectError(
            'InvalidBucketState',
            'Versioning must be Enabled on the bucket to apply an Object Lock configuration',
            { bucket: id },
          );
        }
        record.objectLock.enabled = true;
      }
      if (defaultRetention !== null) assertDefaultRetention(defaultRetention);
      record.objectLock.defaultRetention = defaultRetention;
    });
  }

  getObjectLockConfiguration(id: string): BucketRecord['objectLock'] {
    const record = this.#require(id).record;
    if (!record.objectLock.enabled) {
      throw new ObjectError(
        'ObjectLockConfigurationNotFoundError',
        'Object Lock configuration does not exist for this bucket',
        { bucket: id },
      );
    }
    return structuredClone(record.objectLock);
  }

  async setCors(id: string, rules: CorsRule[] | null): Promise<BucketRecord> {
    return this.#update(id, (record) => {
      record.cors = rules;
    });
  }

  getCors(id: string): CorsRule[] {
    const rules = this.#require(id).record.cors;
    if (rules === null)
      throw new ObjectError('NoSuchCORSConfiguration', 'The CORS configuration does not exist', {
        bucket: id,
      });
    return structuredClone(rules);
  }

  async setTags(id: string, tags: Tags | null): Promise<BucketRecord> {
    if (tags !== null) assertTags(tags, maximumBucketTags);
    return this.#update(id, (record) => {
      record.tags = tags;
    });
  }

  getTags(id: string): Tags {
    const tags = this.#require(id).record.tags;
    if (tags === null) throw new ObjectError('NoSuchTagSet', 'The TagSet does not exist', { bucket: id });
    return structuredClone(tags);
  }

  #require(id: string): { record: BucketRecord; storeVersionId: string } {
    const entry = this.#records.get(id);
    if (entry === undefined)
      throw new ObjectError('NoSuchBucket', 'The specified bucket does not exist', {
        bucket: bucketNameOfId(id),
      });
    return entry;
  }

  #address(id: string, storeVersionId: string): VersionAddress {
    return { bucket: systemBucket, key: systemKeys.bucket(id), versionId: storeVersionId };
  }

  async #update(id: string, change: (record: BucketRecord) => void): Promise<BucketRecord> {
    return withMutation(this.#context, id, 'exclusive', async () => {
      const entry = this.#require(id);
      const record = structuredClone(entry.record);
      change(record);
      const stored = await updateIndexed(
        this.#context,
        this.#address(id, entry.storeVersionId),
        (old) => {
          const decoded = fromMetadata(old);
          if (decoded?.kind !== 'bucket')
            throw new Error(`store version of bucket ${id} holds no bucket record`);
          return { ...old, ...toMetadata({ kind: 'bucket', record }) };
        },
        (updated) => this.#context.index.putBucket(record, updated.address.versionId),
      );
      this.#records.set(id, { record, storeVersionId: stored.address.versionId });
      return structuredClone(record);
    });
  }
}

function assertDefaultRetention(retention: DefaultRetention): void {
  const hasDays = retention.days !== undefined;
  const hasYears = retention.years !== undefined;
  const period = retention.days ?? retention.years ?? 0;
  // S3: a default retention names either Days or Years (not both), as a positive integer.
  if (hasDays === hasYears || !Number.isInteger(period) || period <= 0) {
    throw new ObjectError('MalformedXML', 'A default retention needs a positive Days or Years, not both');
  }
}
