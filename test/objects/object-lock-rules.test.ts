import test from 'ava';
import { isObjectError } from '../../agent/objects/errors.ts';
import {
  assertDeletable,
  assertRetentionChange,
  dayMs,
  defaultRetainUntilMs,
  isProtected,
  type LockState,
} from '../../agent/objects/object-lock-rules.ts';
import type { Retention } from '../../agent/objects/records.ts';

const nowMs = Date.UTC(2026, 10, 29);

function state(retention: Retention | null, legalHold = false): LockState {
  return { bucket: 'vault', key: 'k', versionId: 'v', retention, legalHold };
}

const compliance = (days: number): Retention => ({ mode: 'COMPLIANCE', retainUntilMs: nowMs + days * dayMs });
const governance = (days: number): Retention => ({ mode: 'GOVERNANCE', retainUntilMs: nowMs + days * dayMs });

function deniedBy(action: () => void): boolean {
  try {
    action();
    return false;
  } catch (error) {
    if (isObjectError(error, 'AccessDenied')) return true;
    throw error;
  }
}

// [current, next, bypass, allowed]
const retentionChanges: [string, Retention | null, Retention | null, boolean, boolean][] = [
  ['COMPLIANCE extended', compliance(10), compliance(20), false, true],
  ['COMPLIANCE kept', compliance(10), compliance(10), false, true],
  ['COMPLIANCE shortened', compliance(10), compliance(5), false, false],
  ['COMPLIANCE shortened with bypass', compliance(10), compliance(5), true, false],
  ['COMPLIANCE to GOVERNANCE, later date', compliance(10), governance(20), false, false],
  ['COMPLIANCE to GOVERNANCE with bypass', compliance(10), governance(20), true, false],
  ['COMPLIANCE removed', compliance(10), null, false, false],
  ['COMPLIANCE removed with bypass', compliance(10), null, true, false],
  ['GOVERNANCE extended', governance(10), governance(20), false, true],
  ['GOVERNANCE to COMPLIANCE, same date', governance(10), compliance(10), false, true],
  ['GOVERNANCE shortened', governance(10), governance(5), false, false],
  ['GOVERNANCE shortened with bypass', governance(10), governance(5), true, true],
  ['GOVERNANCE removed', governance(10), null, false, false],
  ['GOVERNANCE removed with bypass', governance(10), null, true, true],
  ['expired COMPLIANCE shortened', compliance(-1), governance(1), false, true],
  ['no retention, set', null, governance(1), false, true],
];

for (const [title, current, next, bypass, allowed] of retentionChanges) {
  test(`object lock rules: retention change, ${title}: ${allowed ? 'allowed' : 'AccessDenied'}`, (t) => {
    t.is(
      deniedBy(() => assertRetentionChange(state(current), next, nowMs, bypass)),
      !allowed,
    );
  });
}

// [title, state, bypass, deletable]
const deletions: [string, LockState, boolean, boolean][] = [
  ['COMPLIANCE in force', state(compliance(1)), false, false],
  ['COMPLIANCE in force with bypass', state(compliance(1)), true, false],
  ['GOVERNANCE in force', state(governance(1)), false, false],
  ['GOVERNANCE in force with bypass', state(governance(1)), true, true],
  ['legal hold', state(null, true), false, false],
  ['legal hold with bypass', state(null, true), true, false],
  ['expired COMPLIANCE', state(compliance(-1)), false, true],
  ['expired GOVERNANCE under legal hold', state(governance(-1), true), true, false],
  ['no lock', state(null), false, true],
];

for (const [title, lock, bypass, deletable] of deletions) {
  test(`object lock rules: delete, ${title}: ${deletable ? 'allowed' : 'AccessDenied'}`, (t) => {
    t.is(
      deniedBy(() => assertDeletable(lock, nowMs, bypass)),
      !deletable,
    );
    t.is(isProtected(lock, nowMs, bypass), !deletable);
  });
}

test('object lock rules: a retain-until date exactly now is expired (S3: protected until the date)', (t) => {
  t.false(isProtected(state({ mode: 'COMPLIANCE', retainUntilMs: nowMs }), nowMs, false));
  t.true(isProtected(state({ mode: 'COMPLIANCE', retainUntilMs: nowMs + 1 }), nowMs, false));
});

test('object lock rules: default retention of Days or Years counts from the retention clock', (t) => {
  t.is(defaultRetainUntilMs({ mode: 'COMPLIANCE', days: 30 }, nowMs), nowMs + 30 * dayMs);
  t.is(defaultRetainUntilMs({ mode: 'GOVERNANCE', years: 1 }, nowMs), nowMs + 365 * dayMs);
});
