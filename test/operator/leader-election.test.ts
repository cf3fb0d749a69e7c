// Leader election on a Lease, over an in-memory Lease store with the API server's optimistic
// concurrency (a replace with a stale resourceVersion is a conflict) and a manual clock.
import test from 'ava';
import { LeaderElector, type LeaseStore } from '../../operator/runtime/leader-election.ts';
import { ManualClock } from './manual-clock.ts';
import { MemoryLeaseStore } from './memory-lease-store.ts';

function candidate(identity: string, store: LeaseStore, clock: ManualClock, log: string[]) {
  return new LeaderElector({
    identity,
    store,
    clock,
    leaseDurationMs: 15_000,
    renewDeadlineMs: 10_000,
    retryPeriodMs: 2_000,
    onStartedLeading: () => log.push(`${identity} leads`),
    onStoppedLeading: () => log.push(`${identity} stops`),
  });
}

/** operator-a alone, leading after its first try. */
async function soleLeader() {
  const clock = new ManualClock();
  const store = new MemoryLeaseStore();
  const log: string[] = [];
  const first = candidate('operator-a', store, clock, log);
  first.start();
  await clock.advance(0);
  return { clock, store, log, first };
}

test('leader election: the first candidate takes the Lease; the second waits while it is renewed', async (t) => {
  const clock = new ManualClock();
  const store = new MemoryLeaseStore();
  const log: string[] = [];
  const first = candidate('operator-a', store, clock, log);
  const second = candidate('operator-b', store, clock, log);
  first.start();
  await clock.advance(0);
  second.start();
  await clock.advance(60_000);
  t.deepEqual(log, ['operator-a leads']);
  t.true(first.isLeader);
  t.false(second.isLeader);
  t.is(store.record?.holderIdentity, 'operator-a');
  await first.stop();
  await second.stop();
});

test('leader election: a stopped leader releases the Lease and the standby takes over at its next try', async (t) => {
  const clock = new ManualClock();
  const store = new MemoryLeaseStore();
  const log: string[] = [];
  const first = candidate('operator-a', store, clock, log);
  const second = candidate('operator-b', store, clock, log);
  first.start();
  await clock.advance(0);
  second.start();
  await clock.advance(4_000);
  await first.stop();
  t.is(store.record?.holderIdentity, null);
  await clock.advance(2_000);
  t.deepEqual(log, ['operator-a leads', 'operator-a stops', 'operator-b leads']);
  t.is(store.record?.holderIdentity, 'operator-b');
  t.is(store.record?.leaseTransitions, 1);
  await second.stop();
});

test('leader election: a leader that vanishes without releasing is replaced once the lease duration has passed', async (t) => {
  const clock = new ManualClock();
  const store = new MemoryLeaseStore();
  const log: string[] = [];
  // The first holder wrote the Lease and died: nobody renews it.
  await store.create({
    holderIdentity: 'operator-dead',
    leaseDurationSeconds: 15,
    acquireTime: null,
    renewTime: null,
    leaseTransitions: 0,
  });
  const second = candidate('operator-b', store, clock, log);
  second.start();
  await clock.advance(14_000);
  t.deepEqual(log, [], 'the lease is still valid as far as operator-b has observed');
  await clock.advance(4_000);
  t.deepEqual(log, ['operator-b leads']);
  await second.stop();
});

test('leader election: a leader that cannot renew steps down within the renew deadline, before the lease expires for others', async (t) => {
  const { clock, store, log, first } = await soleLeader();
  t.true(first.isLeader);
  const lastRenewMs = clock.nowMs();
  store.failing = true;
  await clock.advance(9_000);
  t.true(first.isLeader);
  await clock.advance(2_000);
  t.false(first.isLeader);
  t.deepEqual(log, ['operator-a leads', 'operator-a stops']);
  t.true(clock.nowMs() - lastRenewMs < 15_000, 'stepped down before another candidate could take the Lease');
  store.failing = false;
  await clock.advance(2_000);
  t.true(first.isLeader, 'it campaigns again and, the Lease still being its own, leads again');
  await first.stop();
});

test('leader election: a renewal the API server never answers counts as failed at the renew deadline', async (t) => {
  const { clock, store, log, first } = await soleLeader();
  t.true(first.isLeader);
  const lastRenewMs = clock.nowMs();
  store.hanging = true;
  await clock.advance(9_000);
  t.true(first.isLeader);
  await clock.advance(3_000);
  t.false(first.isLeader, 'stepped down although the request never returned');
  t.deepEqual(log, ['operator-a leads', 'operator-a stops']);
  t.true(clock.nowMs() - lastRenewMs < 15_000, 'before another candidate could take the Lease');
});

test('leader election: settings where the renew deadline is not shorter than the lease are refused', (t) => {
  const store = new MemoryLeaseStore();
  t.throws(
    () =>
      new LeaderElector({
        identity: 'x',
        store,
        clock: new ManualClock(),
        leaseDurationMs: 10_000,
        renewDeadlineMs: 10_000,
        retryPeriodMs: 2_000,
        onStartedLeading: () => {},
        onStoppedLeading: () => {},
      }),
    { instanceOf: RangeError },
  );
});
