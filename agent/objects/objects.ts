// Object versions: put and delete with S3 versioning semantics (the "null" version, delete
// markers, newest-first order); reads are in object-reads.ts. Bodies stream straight into the
// shard store; a per-key lock is held only around the commit, so S3's "latest version" and
// conditional writes are decided against a stable state while bodies of one key still upload in
// parallel.
import assert from 'node:assert/strict';
import { createHash, type Hash } from 'node:crypto';
import type { CustomerKey } from '../crypto/customer-key.ts';
import { deleteIndexed, emptyBody, enterMutation, lockNames, writeIndexed } from './context.ts';
import { ObjectError } from './errors.ts';
import { readManifest } from './manifest.ts';
import type { IndexedVersion } from './object-index.ts';
import {
  assertDeletable as assertVersionDeletable,
  defaultRetainUntilMs,
  lockStateOf,
} from './object-lock-rules.ts';
import { assertVersionId, ObjectReads } from './object-reads.ts';
import {
  type BucketRecord,
  type ChecksumRecord,
  type EncryptionRecord,
  fromMetadata,
  type ObjectVersionRecord,
  type Retention,
  type SystemHeaders,
  type Tags,
  toMetadata,
} from './records.ts';
import type { VersionAddress } from './store.ts';
import { assertObjectKey, assertTags, etagOfBody, maximumObjectTags, normaliseEtag } from './validation.ts';

/** S3: "The largest object that can be uploaded in a single PUT is 5 GB" (5 GiB). */
export const maximumSinglePutBytes = 5 * 1024 ** 3;

export interface WrittenBodySummary {
  sizeBytes: number;
  md5Hex: string;
}

/** The parts of a version's record that a writer chooses. */
export interface VersionAttributes {
  headers?: SystemHeaders;
  userMetadata?: Record<string, string>;
  tags?: Tags;
  storageClass?: string;
  checksum?: ChecksumRecord | null;
  retention?: Retention | null;
  legalHold?: boolean;
  encryption?: EncryptionRecord | null;
  /** SSE-C: the customer's key for this version (a per-request secret, never stored). */
  customerKey?: CustomerKey | null;
}

export interface WriteConditions {
  /** If-Match: commit only when the key's current object has this ETag. */
  ifMatch?: string;
  /** If-None-Match: "*": commit only when the key has no current object. */
  ifNoneMatch?: '*';
}

export interface PutObjectInput extends VersionAttributes, WriteConditions {
  bucket: string;
  key: string;
  body: AsyncIterable<Uint8Array>;
  /** The ETag to record instead of the body's MD5 (e.g. when the protocol layer computed it). */
  etag?: string;
  /** Runs after the body is stored and before the commit; throwing rejects the put and stores nothing. */
  verify?: (summary: WrittenBodySummary) => void | Promise<void>;
  signal?: AbortSignal;
}

export interface DeleteObjectInput {
  bucket: string;
  key: string;
  versionId?: string;
  /** x-amz-bypass-governance-retention, already authorised by the protocol layer. */
  bypassGovernanceRetention?: boolean;
  /**
   * S3 conditional delete (If-Match, or a DeleteObjects <ETag>): delete only while the key's current
   * object has this ETag ("*": any object). Like a conditional write's, it is decided under the key
   * lock, and only without a versionId (S3 evaluates it against the current version alone).
   */
  ifMatch?: string;
}

export interface DeleteObjectResult {
  /** The version removed or the delete marker created; absent in an unversioned bucket. */
  versionId?: string;
  isDeleteMarker: boolean;
}

/** How a new version's data, size and identity come about (a put body, a copy, a multipart manifest). */
export interface CommitPlan extends VersionAttributes, WriteConditions {
  bucket: string;
  key: string;
  body: AsyncIterable<Uint8Array>;
  /**
   * The record's size and ETag once the body is stored. Without `etag`, the ETag is the body's
   * (etagOfBody: its MD5, sealed under an SSE-C key), decided here once for every writer.
   */
  describe: (summary: WrittenBodySummary) => { sizeBytes: number; etag?: string };
  verify?: (summary: WrittenBodySummary) => void | Promise<void>;
  /**
   * The body's MD5 (hex), asked for once the body has ended, when the caller hashes the body itself
   * (the protocol layer does, with its other digests, in a digest worker); else the layer hashes it.
   */
  bodyMd5Hex?: () => Promise<string>;
  multipart?: { partCount: number; uploadId: string } | null;
  isDeleteMarker?: boolean;
  /** Runs inside the index transaction that makes the new version visible. */
  indexAlso?: (record: ObjectVersionRecord) => void;
  /** The caller already holds the mutation gates for this bucket (they are not reentrant). */
  gatesHeld?: boolean;
  /** The body's exact declared length, when known: see WriteVersionOptions.declaredSizeBytes. */
  declaredSizeBytes?: number;
  signal?: AbortSignal;
}

export class Objects extends ObjectReads {
  async put(input: PutObjectInput): Promise<ObjectVersionRecord> {
    return this.commit({
      ...input,
      describe: (summary) => {
        if (summary.sizeBytes > maximumSinglePutBytes) {
          throw new ObjectError(
            'EntityTooLarge',
            'Your proposed upload exceeds the maximum allowed size',
            input,
          );
        }
        return {
          sizeBytes: summary.sizeBytes,
          etag: input.etag === undefined ? undefined : normaliseEtag(input.etag),
        };
      },
    });
  }

  /** Writes a new version of a key; shared by put, copy, delete markers and multipart completion. */
  async commit(plan: CommitPlan): Promise<ObjectVersionRecord> {
    assertObjectKey(plan.bucket, plan.key);
    if (plan.tags !== undefined) assertTags(plan.tags, maximumObjectTags);
    // Read, never changed: the held record, not head()'s copy (two copies per PUT saved).
    const bucketAtStart = this.buckets.peek(plan.bucket);
    const retention = this.#retentionFor(bucketAtStart, plan);
    // Fail fast before reading a body that could not be committed; checked again under the lock.
    this.#checkConditions(plan);
    const address: VersionAddress = {
      bucket: plan.bucket,
      key: plan.key,
      versionId: this.context.hybridClock.next(),
    };
    const md5 = plan.bodyMd5Hex === undefined ? createHash('md5') : null;
    const releases: (() => void)[] = [];
    let record: ObjectVersionRecord | undefined;
    let staleNullVersion: IndexedVersion | null = null;
    try {
      await writeIndexed(this.context, address, md5 ? hashing(plan.body, md5) : plan.body, {
        signal: plan.signal,
        keySource: plan.customerKey
          ? { tenantId: bucketAtStart.ownerTenantId, customerKey: plan.customerKey }
          : undefined,
        durableCommit: plan.indexAlso !== undefined,
        newAddress: true,
        declaredSizeBytes: plan.declaredSizeBytes,
        finalize: async (stored) => {
          const md5Hex = md5 ? md5.digest('hex') : await plan.bodyMd5Hex!();
          const summary = { sizeBytes: stored.sizeBytes, md5Hex };
          await plan.verify?.(summary);
          const { sizeBytes, etag } = plan.describe(summary);
          const described = { sizeBytes, etag: etag ?? etagOfBody(md5Hex, plan.customerKey) };
          if (!plan.gatesHeld) releases.push(await enterMutation(this.context, plan.bucket));
          releases.push(await this.context.locks.acquire(lockNames.key(plan.bucket, plan.key)));
          const bucket = this.buckets.peek(plan.bucket);
          this.#checkConditions(plan);
          if (bucket.versioning !== 'Enabled') this.#assertNullVersionReplaceable(plan);
          const admitted = this.context.admission?.admitVersion({
            bucket,
            key: plan.key,
            sizeBytes: described.sizeBytes,
            isDeleteMarker: plan.isDeleteMarker === true,
            multipartUploadId: plan.multipart?.uploadId ?? null,
          });
          if (admitted) releases.push(admitted);
          const sequence = this.context.hybridClock.next();
          record = {
            bucket: plan.bucket,
            key: plan.key,
            versionId: bucket.versioning === 'Enabled' ? sequence : 'null',
            sequence,
            isDeleteMarker: plan.isDeleteMarker === true,
            sizeBytes: described.sizeBytes,
            etag: described.etag,
            lastModifiedMs: this.context.clock(),
            storageClass: plan.storageClass ?? 'STANDARD',
            headers: plan.headers ?? {},
            userMetadata: plan.userMetadata ?? {},
            tags: plan.tags ?? {},
            checksum: plan.checksum ?? null,
            multipart: plan.multipart ?? null,
            retention,
            legalHold: plan.legalHold === true,
            encryption: encryptionRecordOf(plan),
          };
          return toMetadata({ kind: 'object-version', record });
        },
        indexCommitted: () => {
          const outcome = this.context.index.putVersion(record!, address.versionId);
          // The previous "null" version is replaced (S3 keeps one per key); its data goes after this commit.
          if (outcome.kind === 'replaced') staleNullVersion = outcome.stale;
          plan.indexAlso?.(record!);
        },
      });
      const stale = staleNullVersion as IndexedVersion | null;
      if (stale !== null) {
        await this.removeStoreData(
          { bucket: plan.bucket, key: plan.key, versionId: stale.storeVersionId },
          stale,
        );
      }
    } finally {
      for (const release of releases.reverse()) release();
    }
    // The caller's own: built for this call, kept by nothing (the index and the store hold JSON).
    return record!;
  }

  /**
   * S3 DeleteObject. Without a versionId: an unversioned bucket removes the object; a versioned
   * one adds a delete marker (a "null" one when versioning is Suspended, replacing the null
   * version). With a versionId: that version (object or marker) is removed for good, unless
   * Object Lock protects it.
   *
   * With `ifMatch`, the condition is checked first, under the key lock and against the newest
   * version, by the same check as a conditional write (a delete marker is a commit; a removal runs
   * under that lock too): NoSuchKey when the key has no current object, PreconditionFailed when its
   * ETag differs. Only a delete whose condition holds then meets Object Lock's refusal.
   */
  async delete(input: DeleteObjectInput): Promise<DeleteObjectResult> {
    assertObjectKey(input.bucket, input.key);
    assertVersionId(input);
    assert.ok(
      input.ifMatch === undefined || input.versionId === undefined,
      'delete: If-Match names the current version; the protocol layer refuses it with a versionId',
    );
    const bucket = this.buckets.head(input.bucket);
    if (input.versionId === undefined && bucket.versioning !== 'Unversioned') {
      const marker = await this.commit({
        bucket: input.bucket,
        key: input.key,
        body: emptyBody(),
        isDeleteMarker: true,
        describe: () => ({ sizeBytes: 0, etag: '' }),
        ifMatch: input.ifMatch,
      });
      return { versionId: marker.versionId, isDeleteMarker: true };
    }
    const releaseGates = await enterMutation(this.context, input.bucket);
    try {
      return await this.context.locks.run(lockNames.key(input.bucket, input.key), () =>
        this.#deleteVersion(input),
      );
    } finally {
      releaseGates();
    }
  }

  async #deleteVersion(input: DeleteObjectInput): Promise<DeleteObjectResult> {
    // Under the key lock (see delete): no write of the key can land between this check and the removal.
    this.#checkConditions(input);
    const versionId = input.versionId ?? 'null';
    const indexed = this.context.index.getVersion(input.bucket, input.key, versionId);
    // S3 answers 204 for a version that does not exist: deleting is idempotent.
    if (indexed === null)
      return input.versionId === undefined ? { isDeleteMarker: false } : { versionId, isDeleteMarker: false };
    const nowMs = this.context.clock();
    const bypass = input.bypassGovernanceRetention === true;
    assertDeletable(indexed.record, nowMs, bypass);
    const address = { bucket: input.bucket, key: input.key, versionId: indexed.storeVersionId };
    await this.#assertStoreRecordDeletable(address, nowMs, bypass);
    await this.removeStoreData(address, indexed);
    const result = { isDeleteMarker: indexed.record.isDeleteMarker };
    return input.versionId === undefined ? result : { ...result, versionId };
  }

  /**
   * The index is a cache: the lock that decides a deletion is read again from the store's own
   * record, the durable one. An index that lags (a crash between a retention extension in the store
   * and its index update) or was edited on disk cannot release a version.
   */
  async #assertStoreRecordDeletable(address: VersionAddress, nowMs: number, bypass: boolean): Promise<void> {
    const stored = await this.context.store.statVersion(address);
    const entry = stored === null ? null : fromMetadata(stored.metadata);
    if (entry?.kind === 'object-version') assertDeletable(entry.record, nowMs, bypass);
  }

  /** Unindexes a version and deletes its store data (and a multipart version's parts). */
  async removeStoreData(address: VersionAddress, indexed: IndexedVersion | null): Promise<void> {
    const addresses = [address];
    if (indexed?.record.multipart) {
      const manifest = await readManifest(this.context.store, address);
      for (const part of manifest.parts) addresses.push(part.address);
    }
    await deleteIndexed(this.context, addresses, () =>
      this.context.index.removeVersionByStoreId(address.bucket, address.key, address.versionId),
    );
  }

  #retentionFor(bucket: Readonly<BucketRecord>, plan: CommitPlan): Retention | null {
    if (plan.isDeleteMarker) return null;
    if (!bucket.objectLock.enabled) {
      if (plan.retention || plan.legalHold) {
        throw new ObjectError('InvalidRequest', 'Bucket is missing Object Lock Configuration', {
          bucket: bucket.name,
        });
      }
      return null;
    }
    if (plan.retention) return plan.retention;
    const defaults = bucket.objectLock.defaultRetention;
    if (defaults === null) return null;
    return { mode: defaults.mode, retainUntilMs: defaultRetainUntilMs(defaults, this.context.clock()) };
  }

  /**
   * Without versioning Enabled a write replaces the key's "null" version in place: refused while
   * that version is locked or held (Object Lock: "can't be overwritten"). A lock-enabled bucket keeps
   * versioning Enabled, so this only guards a version locked before versioning was changed.
   */
  #assertNullVersionReplaceable(plan: CommitPlan): void {
    const existing = this.context.index.getVersion(plan.bucket, plan.key, 'null');
    if (existing === null) return;
    assertVersionDeletable(lockStateOf(existing.record), this.context.clock(), false);
  }

  /** Conditional writes and deletes, against the newest version; called under the key lock to decide. */
  #checkConditions(plan: WriteConditions & { bucket: string; key: string }): void {
    if (plan.ifMatch === undefined && plan.ifNoneMatch === undefined) return;
    const newest = this.context.index.getVersion(plan.bucket, plan.key);
    const current = newest === null || newest.record.isDeleteMarker ? null : newest.record;
    const details = { bucket: plan.bucket, key: plan.key };
    if (plan.ifNoneMatch === '*' && current !== null) {
      throw new ObjectError(
        'PreconditionFailed',
        'At least one of the pre-conditions you specified did not hold',
        details,
      );
    }
    if (plan.ifMatch !== undefined) {
      // S3 conditional writes and deletes: If-Match on a key with no current object (none, or a
      // delete marker) answers 404 NoSuchKey, whatever the ETag asked for, "*" included.
      if (current === null) throw new ObjectError('NoSuchKey', 'The specified key does not exist.', details);
      if (normaliseEtag(plan.ifMatch) !== '*' && normaliseEtag(plan.ifMatch) !== current.etag) {
        throw new ObjectError(
          'PreconditionFailed',
          'At least one of the pre-conditions you specified did not hold',
          details,
        );
      }
    }
  }
}

/**
 * Object Lock: a version under legal hold, or under retention until a future date, cannot be
 * deleted; GOVERNANCE retention yields to a caller allowed to bypass it, COMPLIANCE to nobody
 * (the rules live in object-lock-rules.ts).
 */
export function assertDeletable(record: ObjectVersionRecord, nowMs: number, bypassGovernance: boolean): void {
  assertVersionDeletable(lockStateOf(record), nowMs, bypassGovernance);
}

/** How a new version is encrypted at rest: under its SSE-C key, or the tenant's key (AES256). */
function encryptionRecordOf(plan: CommitPlan): EncryptionRecord | null {
  if (plan.isDeleteMarker) return null;
  if (plan.customerKey) return { algorithm: 'SSE-C', customerKeyMd5: plan.customerKey.keyMd5 };
  return plan.encryption ?? { algorithm: 'AES256' };
}

async function* hashing(body: AsyncIterable<Uint8Array>, hash: Hash): AsyncIterable<Uint8Array> {
  for await (const chunk of body) {
    hash.update(chunk);
    yield chunk;
  }
}
