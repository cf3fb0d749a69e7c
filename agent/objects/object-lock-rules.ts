// S3 Object Lock's rules, as pure functions of a version's lock state, the retention clock's now
// and whether the caller asked (and may ask) to bypass GOVERNANCE retention. Every path that could
// remove or alter a version calls one of them; they are kept here, in one place, so a path cannot
// apply a weaker variant of the rules.
//
// From the S3 User Guide ("How S3 Object Lock works"):
// - COMPLIANCE: "a protected object version can't be overwritten or deleted by any user... its
//   retention mode can't be changed, and its retention period can't be shortened." It can be
//   extended.
// - GOVERNANCE: "users can't overwrite or delete an object version or alter its lock settings
//   unless they have special permissions" (s3:BypassGovernanceRetention, and the request header
//   x-amz-bypass-governance-retention: true). Extending it, or changing it to COMPLIANCE, needs no
//   bypass.
// - A legal hold "prevents an object version from being overwritten or deleted" until removed, and
//   is independent of retention.
// - Once the retain-until date has passed, the version is no longer protected by retention.
import { ObjectError } from './errors.ts';
import type { DefaultRetention, ObjectVersionRecord, Retention } from './records.ts';

export const dayMs = 86_400_000;

const protectedMessage = 'Access Denied because object protected by object lock.';

export interface LockState {
  bucket: string;
  key: string;
  versionId: string;
  retention: Retention | null;
  legalHold: boolean;
}

function denied(state: LockState): ObjectError {
  return new ObjectError('AccessDenied', protectedMessage, {
    bucket: state.bucket,
    key: state.key,
    versionId: state.versionId,
  });
}

/** The retention still in force at `nowMs` (null when none or expired). */
export function retentionInForce(retention: Retention | null, nowMs: number): Retention | null {
  return retention !== null && retention.retainUntilMs > nowMs ? retention : null;
}

/** True when a delete (or an in-place overwrite) of the version would be refused. */
export function isProtected(state: LockState, nowMs: number, bypassGovernance: boolean): boolean {
  if (state.legalHold) return true;
  const retention = retentionInForce(state.retention, nowMs);
  if (retention === null) return false;
  return retention.mode === 'COMPLIANCE' || !bypassGovernance;
}

/** DeleteObject / DeleteObjects with a version id, and anything that removes a version's data. */
export function assertDeletable(state: LockState, nowMs: number, bypassGovernance: boolean): void {
  if (isProtected(state, nowMs, bypassGovernance)) throw denied(state);
}

/**
 * PutObjectRetention. A retention in force may only be kept or strengthened: a later (or equal)
 * date, and a mode that never goes from COMPLIANCE to GOVERNANCE. GOVERNANCE yields to a bypass;
 * COMPLIANCE to nobody. Removing a retention is a shortening.
 */
export function assertRetentionChange(
  state: LockState,
  next: Retention | null,
  nowMs: number,
  bypassGovernance: boolean,
): void {
  const current = retentionInForce(state.retention, nowMs);
  if (current === null) return;
  const keepsOrExtends = next !== null && next.retainUntilMs >= current.retainUntilMs;
  if (current.mode === 'COMPLIANCE') {
    if (!keepsOrExtends || next.mode !== 'COMPLIANCE') throw denied(state);
    return;
  }
  if (!keepsOrExtends && !bypassGovernance) throw denied(state);
}

/** The retain-until date of a bucket's default retention for a version written at `nowMs`. */
export function defaultRetainUntilMs(defaults: DefaultRetention, nowMs: number): number {
  const days = defaults.days ?? (defaults.years ?? 0) * 365;
  return nowMs + days * dayMs;
}

export function lockStateOf(record: ObjectVersionRecord): LockState {
  return {
    bucket: record.bucket,
    key: record.key,
    versionId: record.versionId,
    retention: record.retention,
    legalHold: record.legalHold,
  };
}
