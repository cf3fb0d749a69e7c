// S3 PutObjectRetention / PutObjectLegalHold and their getters: a version's retention and legal hold
// change after the write through the store's metadata update, like tags; the bytes, ETag and version
// id stay. This file stores and returns them; which changes Object Lock allows (a COMPLIANCE date
// only grows, GOVERNANCE yields only to a bypass) is decided by the rules that call it.
import { enterMutation, type LayerContext, lockNames, updateIndexed } from './context.ts';
import { ObjectError } from './errors.ts';
import { assertRetentionChange, lockStateOf } from './object-lock-rules.ts';
import type { Objects } from './objects.ts';
import { fromMetadata, type ObjectVersionRecord, type Retention, toMetadata } from './records.ts';

export interface LockTarget {
  bucket: string;
  key: string;
  versionId?: string;
}

export class ObjectLockState {
  readonly #context: LayerContext;
  readonly #objects: Objects;

  constructor(context: LayerContext, objects: Objects) {
    this.#context = context;
    this.#objects = objects;
  }

  /** The version's retention (null when none) and legal hold, with its version id. */
  get(target: LockTarget): { retention: Retention | null; legalHold: boolean; versionId: string } {
    this.#assertLockEnabled(target.bucket);
    const record = this.#objects.resolve(target).record;
    return {
      retention: structuredClone(record.retention),
      legalHold: record.legalHold,
      versionId: record.versionId,
    };
  }

  /**
   * S3 PutObjectRetention under Object Lock's rules (object-lock-rules.ts), judged against the
   * retention clock: a COMPLIANCE retention is only kept or extended, a GOVERNANCE one shortened or
   * removed only with `bypassGovernanceRetention` (already authorised by the protocol layer).
   */
  async putRetention(
    target: LockTarget,
    retention: Retention | null,
    options: { bypassGovernanceRetention?: boolean } = {},
  ): Promise<{ versionId: string }> {
    return this.#update(target, (record) => {
      assertRetentionChange(
        lockStateOf(record),
        retention,
        this.#context.clock(),
        options.bypassGovernanceRetention === true,
      );
      return { ...record, retention };
    });
  }

  async putLegalHold(target: LockTarget, legalHold: boolean): Promise<{ versionId: string }> {
    return this.#update(target, (record) => ({ ...record, legalHold }));
  }

  /** S3: "Bucket is missing Object Lock Configuration" (InvalidRequest) for a bucket without Object Lock. */
  #assertLockEnabled(bucket: string): void {
    if (!this.#objects.assertBucket(bucket).objectLock.enabled) {
      throw new ObjectError('InvalidRequest', 'Bucket is missing Object Lock Configuration', { bucket });
    }
  }

  async #update(
    target: LockTarget,
    change: (record: ObjectVersionRecord) => ObjectVersionRecord,
  ): Promise<{ versionId: string }> {
    this.#assertLockEnabled(target.bucket);
    const releaseGates = await enterMutation(this.#context, target.bucket);
    try {
      return await this.#context.locks.run(lockNames.key(target.bucket, target.key), async () => {
        const indexed = this.#objects.resolve(target);
        const record = change(indexed.record);
        const address = { bucket: target.bucket, key: target.key, versionId: indexed.storeVersionId };
        // Through updateIndexed: a crash between the store update and the index update is repaired
        // at the next open (the index would otherwise show the old retention until a rebuild).
        await updateIndexed(
          this.#context,
          address,
          (old) => {
            const entry = fromMetadata(old);
            if (entry?.kind !== 'object-version')
              throw new Error(`store version ${target.key} holds no object record`);
            const updated = { ...entry.record, retention: record.retention, legalHold: record.legalHold };
            return { ...old, ...toMetadata({ kind: 'object-version', record: updated }) };
          },
          () => this.#context.index.updateVersionRecord(record),
        );
        return { versionId: record.versionId };
      });
    } finally {
      releaseGates();
    }
  }
}
