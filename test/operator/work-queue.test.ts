// The work queue's guarantees, on a manual clock: dedup, one reconcile per key at a time, retries
// with exponential backoff, terminal errors not retried, requeue after, and stop/start.
import test from 'ava';
import { TerminalError } from '../../operator/runtime/errors.ts';
import { WorkQueue } from '../../operator/runtime/work-queue.ts';
import { ManualClock, settle } from './manual-clock.ts';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

test('work queue: a key added three times while waiting is reconciled once', async (t) => {
  const clock = new ManualClock();
  const calls: string[] = [];
  const queue = new WorkQueue({ clock, reconcile: async (key) => void calls.push(key) });
  queue.add('acme');
  queue.add('acme');
  queue.add('acme');
  queue.add('globex');
  queue.start();
  await queue.idle();
  t.deepEqual(calls, ['acme', 'globex']);
});

test('work queue: a key added during its reconcile runs again afterwards, never twice at once', async (t) => {
  const clock = new ManualClock();
  let running = 0;
  let maximumRunning = 0;
  let calls = 0;
  const gate = deferred();
  const queue = new WorkQueue({
    clock,
    workers: 4,
    reconcile: async () => {
      calls += 1;
      running += 1;
      maximumRunning = Math.max(maximumRunning, running);
      if (calls === 1) await gate.promise;
      running -= 1;
      return undefined;
    },
  });
  queue.start();
  queue.add('acme');
  await settle();
  queue.add('acme');
  queue.add('acme');
  await settle();
  t.is(calls, 1, 'the second add waits for the first reconcile');
  gate.resolve();
  await queue.idle();
  t.is(calls, 2, 'the adds made during the run collapse into one more reconcile');
  t.is(maximumRunning, 1);
});

test('work queue: distinct keys are reconciled concurrently up to the worker count', async (t) => {
  const clock = new ManualClock();
  const gate = deferred();
  let running = 0;
  let maximumRunning = 0;
  const queue = new WorkQueue({
    clock,
    workers: 2,
    reconcile: async () => {
      running += 1;
      maximumRunning = Math.max(maximumRunning, running);
      await gate.promise;
      running -= 1;
      return undefined;
    },
  });
  queue.start();
  for (const key of ['a', 'b', 'c', 'd']) queue.add(key);
  await settle();
  t.is(running, 2);
  t.is(queue.length, 2);
  gate.resolve();
  await queue.idle();
  t.is(maximumRunning, 2);
});

test('work queue: a transient failure is retried after 500, 1000, 2000 ms; success forgets the failures', async (t) => {
  const clock = new ManualClock();
  const attemptsAtMs: number[] = [];
  const startMs = clock.nowMs();
  const queue = new WorkQueue({
    clock,
    backoff: { baseDelayMs: 500, maximumDelayMs: 60_000 },
    reconcile: async () => {
      attemptsAtMs.push(clock.nowMs() - startMs);
      if (attemptsAtMs.length <= 3) throw new Error('agent unavailable');
      return undefined;
    },
  });
  queue.start();
  queue.add('acme');
  await settle();
  t.is(queue.failures('acme'), 1);
  await clock.advance(10_000);
  t.deepEqual(attemptsAtMs, [0, 500, 1500, 3500]);
  t.is(queue.failures('acme'), 0);
  t.is(clock.pending, 0, 'nothing is scheduled after the success');
});

test('work queue: a terminal error is reported and not retried', async (t) => {
  const clock = new ManualClock();
  let calls = 0;
  const reported: (number | null)[] = [];
  const queue = new WorkQueue({
    clock,
    reconcile: async () => {
      calls += 1;
      throw new TerminalError('InvalidContract', 'contract number is not CSI-…');
    },
    onError: (_key, _error, retryInMs) => reported.push(retryInMs),
  });
  queue.start();
  queue.add('acme');
  await clock.advance(600_000);
  t.is(calls, 1);
  t.deepEqual(reported, [null]);
});

test('work queue: requeue after reconciles the key again after the delay', async (t) => {
  const clock = new ManualClock();
  let calls = 0;
  const queue = new WorkQueue({
    clock,
    reconcile: async () => {
      calls += 1;
      return calls < 3 ? { requeueAfterMs: 60_000 } : undefined;
    },
  });
  queue.start();
  queue.add('acme');
  await settle();
  t.is(calls, 1);
  await clock.advance(59_999);
  t.is(calls, 1);
  await clock.advance(1);
  t.is(calls, 2);
  await clock.advance(600_000);
  t.is(calls, 3);
});

test('work queue: an earlier delayed add wins over a later one', async (t) => {
  const clock = new ManualClock();
  let calls = 0;
  const queue = new WorkQueue({
    clock,
    reconcile: async () => {
      calls += 1;
      return undefined;
    },
  });
  queue.start();
  queue.addAfter('acme', 10_000);
  queue.addAfter('acme', 60_000);
  queue.addAfter('acme', 1_000);
  await clock.advance(1_000);
  t.is(calls, 1);
  await clock.advance(100_000);
  t.is(calls, 1, 'the later delayed adds were folded into the earliest');
});

test('work queue: keys added while stopped wait for start (a standby queues, only the leader reconciles)', async (t) => {
  const clock = new ManualClock();
  const calls: string[] = [];
  const queue = new WorkQueue({ clock, reconcile: async (key) => void calls.push(key) });
  queue.add('acme');
  await settle();
  t.deepEqual(calls, []);
  queue.start();
  await queue.idle();
  t.deepEqual(calls, ['acme']);
  await queue.stop();
  queue.add('globex');
  await settle();
  t.deepEqual(calls, ['acme']);
  queue.start();
  await queue.idle();
  t.deepEqual(calls, ['acme', 'globex']);
});

test('work queue: stop waits for the reconcile in flight', async (t) => {
  const clock = new ManualClock();
  const gate = deferred();
  let finished = false;
  const queue = new WorkQueue({
    clock,
    reconcile: async () => {
      await gate.promise;
      finished = true;
      return undefined;
    },
  });
  queue.start();
  queue.add('acme');
  await settle();
  const stopped = queue.stop();
  setImmediate(() => gate.resolve());
  await stopped;
  t.true(finished);
});
