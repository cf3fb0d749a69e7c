// Buckets: create, delete, list per tenant, and their configuration (versioning, Object Lock,
// CORS, tags). Each bucket's record is a small metadata-only version in the shard store itself
// (system bucket ".coffre", key "buckets/<name>"), so bucket configuration has the same erasure
// coding, bitrot checks and repair as the data it governs, and the listing index can be rebuilt
// from the store alone: a separate SQLite file would be one more thing to back up and a single
// point of loss. Updates use the store's cheap metadata update (no data rewrite). The index keeps
// a copy for fast lookups, and this class keeps the few bucket records in memory.
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
  readonly #records = new Map<string, { record: BucketRecord; storeVersionId: string }>();

  constructor(context: LayerContext) {
    this.#context = context;
  }

  /** Loads the bucket records from the index (after open or a rebuild). */
  reload(): void {
    this.#records.clear();
    for (const entry of this.#context.index.allBuckets()) this.#records.set(entry.record.name, entry);
  }

  async create(input: CreateBucketInput): Promise<BucketRecord> {
    assertBucketName(input.name);
    return withMutation(this.#context, input.name, 'exclusive', async () => {
      const existing = this.#records.get(input.name);
      if (existing !== undefined) {
        // S3: BucketAlreadyOwnedByYou when the caller owns it, BucketAlreadyExists otherwise.
        const code =
          existing.record.ownerTenantId === input.ownerTenantId
            ? 'BucketAlreadyOwnedByYou'
            : 'BucketAlreadyExists';
        throw new ObjectError(code, 'The requested bucket name is not available.', { bucket: input.name });
      }
      const record: BucketRecord = {
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
        key: systemKeys.bucket(input.name),
        versionId: this.#context.hybridClock.next(),
      };
      await writeIndexed(this.#context, address, emptyBody(), {
        finalize: async () => toMetadata({ kind: 'bucket', record }),
        indexCommitted: () => this.#context.index.putBucket(record, address.versionId),
      });
      this.#records.set(record.name, { record, storeVersionId: address.versionId });
      return structuredClone(record);
    });
  }

  /** S3 DeleteBucket: only an empty bucket (no versions, delete markers or uploads) can go. */
  async delete(name: string): Promise<void> {
    await withMutation(this.#context, name, 'exclusive', async () => {
      const entry = this.#require(name);
      if (this.#context.index.bucketHasEntries(name)) {
        throw new ObjectError('BucketNotEmpty', 'The bucket you tried to delete is not empty', {
          bucket: name,
        });
      }
      const address = this.#address(name, entry.storeVersionId);
      await deleteIndexed(this.#context, [address], () => this.#context.index.removeBucket(name));
      this.#records.delete(name);
    });
  }

  /** The tenant's buckets in name order (S3 ListBuckets). */
  list(ownerTenantId: string): BucketRecord[] {
    return [...this.#records.values()]
      .filter((entry) => entry.record.ownerTenantId === ownerTenantId)
      .map((entry) => structuredClone(entry.record))
      .sort((left, right) => (left.name < right.name ? -1 : left.name > right.name ? 1 : 0));
  }

  /** S3 HeadBucket; NoSuchBucket when absent. */
  head(name: string): BucketRecord {
    return structuredClone(this.#require(name).record);
  }

  /**
   * The bucket's record as held, without the copy head() makes: for the checks on every request that
   * only read a field of it (the copy was a measurable share of a PutObjectRetention). NoSuchBucket
   * when absent.
   */
  peek(name: string): Readonly<BucketRecord> {
    return this.#require(name).record;
  }

  location(name: string): string {
    return this.#require(name).record.region;
  }

  async setVersioning(name: string, state: 'Enabled' | 'Suspended'): Promise<BucketRecord> {
    return this.#update(name, (record) => {
      // S3: "You cannot suspend versioning on a bucket that has Object Lock enabled."
      if (state === 'Suspended' && record.objectLock.enabled) {
        throw new ObjectError(
          'InvalidBucketState',
          'An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.',
          { bucket: name },
        );
      }
      record.versioning = state;
    });
  }

  async setObjectLockConfiguration(
    name: string,
    defaultRetention: DefaultRetention | null,
  ): Promise<BucketRecord> {
    return this.#update(name, (record) => {
      if (!record.objectLock.enabled) {
        // Enabling Object Lock on an existing bucket needs versioning on, as in S3.
        if (record.versioning !== 'Enabled') {
          throw new ObjectError(
            'InvalidBucketState',
            'Versioning must be Enabled on the bucket to apply an Object Lock configuration',
            { bucket: name },
          );
        }
        record.objectLock.enabled = true;
      }
      if (defaultRetention !== null) assertDefaultRetention(defaultRetention);
      record.objectLock.defaultRetention = defaultRetention;
    });
  }

  getObjectLockConfiguration(name: string): BucketRecord['objectLock'] {
    const record = this.#require(name).record;
    if (!record.objectLock.enabled) {
      throw new ObjectError(
        'ObjectLockConfigurationNotFoundError',
        'Object Lock configuration does not exist for this bucket',
        { bucket: name },
      );
    }
    return structuredClone(record.objectLock);
  }

  async setCors(name: string, rules: CorsRule[] | null): Promise<BucketRecord> {
    return this.#update(name, (record) => {
      record.cors = rules;
    });
  }

  getCors(name: string): CorsRule[] {
    const rules = this.#require(name).record.cors;
    if (rules === null)
      throw new ObjectError('NoSuchCORSConfiguration', 'The CORS configuration does not exist', {
        bucket: name,
      });
    return structuredClone(rules);
  }

  async setTags(name: string, tags: Tags | null): Promise<BucketRecord> {
    if (tags !== null) assertTags(tags, maximumBucketTags);
    return this.#update(name, (record) => {
      record.tags = tags;
    });
  }

  getTags(name: string): Tags {
    const tags = this.#require(name).record.tags;
    if (tags === null) throw new ObjectError('NoSuchTagSet', 'The TagSet does not exist', { bucket: name });
    return structuredClone(tags);
  }

  #require(name: string): { record: BucketRecord; storeVersionId: string } {
    const entry = this.#records.get(name);
    if (entry === undefined)
      throw new ObjectError('NoSuchBucket', 'The specified bucket does not exist', { bucket: name });
    return entry;
  }

  #address(name: string, storeVersionId: string): VersionAddress {
    return { bucket: systemBucket, key: systemKeys.bucket(name), versionId: storeVersionId };
  }

  async #update(name: string, change: (record: BucketRecord) => void): Promise<BucketRecord> {
    return withMutation(this.#context, name, 'exclusive', async () => {
      const entry = this.#require(name);
      const record = structuredClone(entry.record);
      change(record);
      const stored = await updateIndexed(
        this.#context,
        this.#address(name, entry.storeVersionId),
        (old) => {
          const decoded = fromMetadata(old);
          if (decoded?.kind !== 'bucket')
            throw new Error(`store version of bucket ${name} holds no bucket record`);
          return { ...old, ...toMetadata({ kind: 'bucket', record }) };
        },
        (updated) => this.#context.index.putBucket(record, updated.address.versionId),
      );
      this.#records.set(name, { record, storeVersionId: stored.address.versionId });
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
