// The commit admission: the last word before the store commits a new object version or part, taken
// under the key (or upload) lock. It enforces the hard quotas from the same ledger as the bill, and
// keeps a write-only key from destroying data by overwriting it.
//
// Quotas are checked twice: before a body streams (the declared size, `precheck`) and here, with
// the real size, after the body is stored and before it is committed. Bytes admitted here stay
// reserved until the index shows them (the ledger then counts them), so uploads finishing at the
// same time cannot together overshoot: each one sees the others' reservations. A refusal throws
// QuotaExceeded and the store discards the body: nothing is stored.

import { currentCaller } from './caller-scope.ts';
import type { CommitAdmission, PartAdmission, VersionAdmission } from './context.ts';
import { ObjectError } from './errors.ts';
import type { ObjectIndex } from './object-index.ts';
import type { QuotaSource } from './quotas.ts';
import type { UsageLedger } from './usage-ledger.ts';

export class QuotaAdmission implements CommitAdmission {
  readonly #ledger: UsageLedger;
  #quotas: QuotaSource;
  readonly #index: ObjectIndex;
  readonly #reservedByTenant = new Map<string, number>();
  readonly #reservedByBucket = new Map<string, number>();

  readonly #ownerOf: (bucketId: string) => string | null;

  constructor(options: {
    ledger: UsageLedger;
    quotas: QuotaSource;
    index: ObjectIndex;
    /** The tenant owning a bucket (null: no such bucket). */
    ownerOf: (bucketId: string) => string | null;
  }) {
    this.#ledger = options.ledger;
    this.#quotas = options.quotas;
    this.#index = options.index;
    this.#ownerOf = options.ownerOf;
  }

  /** The quotas in force from now on (the agent opens its quotas file after the layer). */
  useQuotas(quotas: QuotaSource): void {
    this.#quotas = quotas;
  }

  quotaOfTenant(tenantId: string): number | null {
    return this.#quotas.quotaOfTenant(tenantId);
  }

  quotaOfBucket(bucket: string): number | null {
    return this.#quotas.quotaOfBucket(bucket);
  }

  admitVersion(request: VersionAdmission): () => void {
    if (request.isDeleteMarker) return () => {};
    const bucket = request.bucket;
    const replaced =
      bucket.versioning === 'Enabled' ? null : this.#index.getVersion(bucket.id, request.key, 'null');
    const replacedObject = replaced !== null && !replaced.record.isDeleteMarker ? replaced.record : null;
    if (replacedObject !== null && currentCaller()?.role === 'write-only') {
      // Without versioning Enabled the new version replaces the "null" one for good: for a key
      // that must never destroy, that is a delete in disguise.
      throw new ObjectError(
        'AccessDenied',
        'A write-only key cannot overwrite an existing object in a bucket without versioning.',
        { bucket: bucket.id, key: request.key },
      );
    }
    // A multipart object's bytes were counted as parts; completing moves them (and frees the unused ones).
    const alreadyCounted =
      request.multipartUploadId === null ? 0 : this.#partBytesOfUpload(request.multipartUploadId);
    const addedBytes = request.sizeBytes - alreadyCounted - (replacedObject?.sizeBytes ?? 0);
    return this.#admit(bucket.ownerTenantId, bucket.id, addedBytes);
  }

  admitPart(request: PartAdmission): () => void {
    const previous = this.#index
      .statement('SELECT size_bytes FROM parts WHERE upload_id = ? AND part_number = ?')
      .get(request.uploadId, request.partNumber) as { size_bytes: number } | undefined;
    const owner = this.#ownerOf(request.bucket);
    if (owner === null) return () => {};
    return this.#admit(owner, request.bucket, request.sizeBytes - (previous?.size_bytes ?? 0));
  }

  /**
   * Before a body streams: refuses at once an upload whose declared size cannot fit, so a client
   * is not made to send gigabytes for nothing. The commit checks again with the real size.
   */
  precheck(bucket: string, declaredBytes: number): void {
    const owner = this.#ownerOf(bucket);
    if (owner !== null && declaredBytes > 0) this.#assertRoom(owner, bucket, declaredBytes);
  }

  /** The bytes the tenant may still add (null: no quota). */
  remainingBytesOfTenant(tenantId: string): number | null {
    const quota = this.#quotas.quotaOfTenant(tenantId);
    if (quota === null) return null;
    const used = this.#ledger.storedBytesOfTenant(tenantId) + (this.#reservedByTenant.get(tenantId) ?? 0);
    return Math.max(0, quota - used);
  }

  #admit(tenantId: string, bucket: string, addedBytes: number): () => void {
    if (addedBytes <= 0) return () => {};
    this.#assertRoom(tenantId, bucket, addedBytes);
    adjust(this.#reservedByTenant, tenantId, addedBytes);
    adjust(this.#reservedByBucket, bucket, addedBytes);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      adjust(this.#reservedByTenant, tenantId, -addedBytes);
      adjust(this.#reservedByBucket, bucket, -addedBytes);
    };
  }

  #assertRoom(tenantId: string, bucket: string, addedBytes: number): void {
    const tenantQuota = this.#quotas.quotaOfTenant(tenantId);
    if (tenantQuota !== null) {
      const used = this.#ledger.storedBytesOfTenant(tenantId) + (this.#reservedByTenant.get(tenantId) ?? 0);
      if (used + addedBytes > tenantQuota) throw quotaExceeded(bucket, 'tenant', tenantQuota);
    }
    const bucketQuota = this.#quotas.quotaOfBucket(bucket);
    if (bucketQuota !== null) {
      const used = this.#ledger.storedBytesOfBucket(bucket) + (this.#reservedByBucket.get(bucket) ?? 0);
      if (used + addedBytes > bucketQuota) throw quotaExceeded(bucket, 'bucket', bucketQuota);
    }
  }

  #partBytesOfUpload(uploadId: string): number {
    const row = this.#index
      .statement('SELECT coalesce(sum(size_bytes), 0) AS bytes FROM parts WHERE upload_id = ?')
      .get(uploadId) as { bytes: number };
    return row.bytes;
  }
}

function adjust(reservations: Map<string, number>, name: string, deltaBytes: number): void {
  const next = (reservations.get(name) ?? 0) + deltaBytes;
  if (next === 0) reservations.delete(name);
  else reservations.set(name, next);
}

function quotaExceeded(bucket: string, scope: 'tenant' | 'bucket', quotaBytes: number): ObjectError {
  const message =
    scope === 'tenant'
      ? `The tenant has reached the storage volume of its contract (${quotaBytes} bytes).`
      : `The bucket has reached its storage quota (${quotaBytes} bytes).`;
  return new ObjectError('QuotaExceeded', message, { bucket });
}
