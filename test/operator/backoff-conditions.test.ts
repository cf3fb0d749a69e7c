// Backoff delays and status conditions (Kubernetes API conventions).
import test from 'ava';
import { backoffDelayMs } from '../../operator/runtime/backoff.ts';
import { findCondition, setCondition } from '../../operator/runtime/conditions.ts';

const settings = { baseDelayMs: 500, maximumDelayMs: 300_000 };

for (const [failures, expectedMs] of [
  [1, 500],
  [2, 1_000],
  [3, 2_000],
  [10, 256_000],
  [11, 300_000],
  [1_000, 300_000],
] as const) {
  test(`backoff: failure ${failures} waits ${expectedMs} ms (base 500 ms, doubling, capped at 5 min)`, (t) => {
    t.is(backoffDelayMs(failures, settings), expectedMs);
  });
}

test('backoff: zero or fractional failure counts are programming errors', (t) => {
  t.throws(() => backoffDelayMs(0, settings), { instanceOf: RangeError });
  t.throws(() => backoffDelayMs(1.5, settings), { instanceOf: RangeError });
});

const t0 = Date.UTC(2026, 10, 29, 12, 0, 0);

test('conditions: a new condition gets lastTransitionTime now, in RFC 3339 without milliseconds', (t) => {
  const conditions = setCondition(
    [],
    { type: 'Ready', status: 'False', reason: 'SecretNotFound', message: 'no secret', observedGeneration: 1 },
    t0 + 123,
  );
  t.deepEqual(conditions, [
    {
      type: 'Ready',
      status: 'False',
      reason: 'SecretNotFound',
      message: 'no secret',
      observedGeneration: 1,
      lastTransitionTime: '2026-11-29T12:00:00Z',
    },
  ]);
});

test('conditions: the same status with a new reason keeps lastTransitionTime; a new status moves it', (t) => {
  let conditions = setCondition(
    [],
    { type: 'Ready', status: 'False', reason: 'SecretNotFound', message: 'a' },
    t0,
  );
  conditions = setCondition(
    conditions,
    { type: 'Ready', status: 'False', reason: 'AgentUnavailable', message: 'b' },
    t0 + 60_000,
  );
  t.is(findCondition(conditions, 'Ready')?.lastTransitionTime, '2026-11-29T12:00:00Z');
  t.is(findCondition(conditions, 'Ready')?.reason, 'AgentUnavailable');
  conditions = setCondition(
    conditions,
    { type: 'Ready', status: 'True', reason: 'Provisioned', message: 'c' },
    t0 + 120_000,
  );
  t.is(findCondition(conditions, 'Ready')?.lastTransitionTime, '2026-11-29T12:02:00Z');
});

test('conditions: setting one type keeps the others, one entry per type', (t) => {
  let conditions = setCondition(
    [],
    { type: 'Ready', status: 'True', reason: 'Provisioned', message: '' },
    t0,
  );
  conditions = setCondition(
    conditions,
    { type: 'Degraded', status: 'False', reason: 'AllHealthy', message: '' },
    t0,
  );
  conditions = setCondition(
    conditions,
    { type: 'Ready', status: 'False', reason: 'AgentUnavailable', message: '' },
    t0,
  );
  t.deepEqual(
    conditions.map((condition) => condition.type),
    ['Ready', 'Degraded'],
  );
});

test('conditions: a reason that is not CamelCase is refused', (t) => {
  t.throws(() => setCondition([], { type: 'Ready', status: 'True', reason: 'not ok', message: '' }, t0), {
    instanceOf: RangeError,
  });
});
