// The Manager over in-memory informers, an in-memory Lease and a manual clock: a standby keeps
// its cache but reconciles nothing; the leader reconciles every cached object on taking over and
// each change after; losing the Lease stops reconciling at once; whenChanged ignores status-only
// updates.
import type { KubernetesObject } from '@kubernetes/client-node';
import test from 'ava';
import type { ChangeListener } from '../../operator/runtime/informer.ts';
import { Manager, type SourceInformer, whenChanged } from '../../operator/runtime/manager.ts';
import { ManualClock } from './manual-clock.ts';
import { MemoryLeaseStore } from './memory-lease-store.ts';

class MemoryInformer implements SourceInformer {
  readonly #objects = new Map<string, KubernetesObject>();
  readonly #listeners: ChangeListener<KubernetesObject>[] = [];
  started = false;

  onChange(listener: ChangeListener<KubernetesObject>): void {
    this.#listeners.push(listener);
  }

  list(): readonly KubernetesObject[] {
    return [...this.#objects.values()];
  }

  async start(): Promise<void> {
    this.started = true;
  }

  async stop(): Promise<void> {
    this.started = false;
  }

  put(object: KubernetesObject): void {
    const verb = this.#objects.has(object.metadata!.name!) ? 'update' : 'add';
    this.#objects.set(object.metadata!.name!, object);
    for (const listener of this.#listeners) listener(object, verb);
  }
}

const thing = (name: string, generation = 1, ready = 'True') => ({
  apiVersion: 'example.test/v1',
  kind: 'Thing',
  metadata: { name, uid: `uid-${name}`, generation },
  status: { conditions: [{ type: 'Ready', status: ready }], observedAt: Math.random() },
});

function replica(
  identity: string,
  informer: MemoryInformer,
  store: MemoryLeaseStore,
  clock: ManualClock,
  during: () => Promise<void> = async () => {},
) {
  const reconciled: string[] = [];
  const manager = new Manager({
    clock,
    controllers: [
      {
        name: 'thing',
        reconcile: async (key) => {
          reconciled.push(key);
          await during();
          return undefined;
        },
        sources: [{ informer, keysOf: whenChanged((object) => [object.metadata!.name!]) }],
      },
    ],
    leaderElection: {
      identity,
      store,
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
    },
  });
  return { manager, reconciled };
}

test('manager: the standby reconciles nothing; the leader reconciles the cache on taking over, then changes', async (t) => {
  const clock = new ManualClock();
  const store = new MemoryLeaseStore();
  const informerA = new MemoryInformer();
  const informerB = new MemoryInformer();
  const a = replica('operator-a', informerA, store, clock);
  const b = replica('operator-b', informerB, store, clock);
  for (const informer of [informerA, informerB]) informer.put(thing('acme'));
  await a.manager.start();
  await clock.advance(0);
  await b.manager.start();
  await clock.advance(0);
  t.true(a.manager.isLeader);
  t.false(b.manager.isLeader);
  t.deepEqual(a.reconciled, ['acme']);
  for (const informer of [informerA, informerB]) informer.put(thing('globex'));
  await clock.advance(0);
  t.deepEqual(a.reconciled, ['acme', 'globex']);
  t.deepEqual(b.reconciled, [], 'the standby only keeps its cache');

  await a.manager.stop();
  await clock.advance(2_000);
  t.true(b.manager.isLeader, 'the Lease released by operator-a is taken at the next try');
  t.deepEqual(b.reconciled.sort(), ['acme', 'globex'], 'the new leader converges everything it caches');
  t.false(informerA.started, 'a stopped manager stops its informers');
  await b.manager.stop();
});

test('manager: a leader that cannot renew its Lease stops reconciling', async (t) => {
  const clock = new ManualClock();
  const store = new MemoryLeaseStore();
  const informer = new MemoryInformer();
  const a = replica('operator-a', informer, store, clock);
  await a.manager.start();
  await clock.advance(0);
  t.true(a.manager.isLeader);
  store.failing = true;
  await clock.advance(12_000);
  t.false(a.manager.isLeader);
  informer.put(thing('initech'));
  await clock.advance(1_000);
  t.deepEqual(a.reconciled, [], 'nothing is reconciled without the Lease');
  store.failing = false;
  await clock.advance(2_000);
  t.true(a.manager.isLeader);
  t.deepEqual(a.reconciled, ['initech'], 'the change seen while deposed is reconciled once leading again');
  await a.manager.stop();
});

test('manager: stopping lets the reconcile in flight finish before the Lease is released', async (t) => {
  const clock = new ManualClock();
  const store = new MemoryLeaseStore();
  const informer = new MemoryInformer();
  let finish = () => {};
  const gate = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const a = replica('operator-a', informer, store, clock, () => gate);
  await a.manager.start();
  await clock.advance(0);
  informer.put(thing('acme'));
  await clock.advance(0);
  t.deepEqual(a.reconciled, ['acme'], 'a reconcile is in flight');
  let stopped = false;
  const stopping = a.manager.stop().then(() => {
    stopped = true;
  });
  await clock.advance(0);
  t.false(stopped);
  t.is(store.record?.holderIdentity, 'operator-a', 'the Lease is still held while it runs');
  finish();
  await stopping;
  t.is(store.record?.holderIdentity, null, 'then released');
});

test('manager: whenChanged queues a spec change or a Ready change, not a status-only update', async (t) => {
  const clock = new ManualClock();
  const informer = new MemoryInformer();
  const reconciled: string[] = [];
  const manager = new Manager({
    clock,
    controllers: [
      {
        name: 'thing',
        reconcile: async (key) => {
          reconciled.push(key);
          return undefined;
        },
        sources: [{ informer, keysOf: whenChanged((object) => [object.metadata!.name!]) }],
      },
    ],
  });
  await manager.start();
  informer.put(thing('acme'));
  await clock.advance(0);
  informer.put(thing('acme'));
  await clock.advance(0);
  t.deepEqual(reconciled, ['acme'], 'a status write (observedAt changed) is not a reason to reconcile');
  informer.put(thing('acme', 2));
  await clock.advance(0);
  informer.put(thing('acme', 2, 'False'));
  await clock.advance(0);
  t.deepEqual(reconciled, ['acme', 'acme', 'acme']);
  await manager.stop();
});
