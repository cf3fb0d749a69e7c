// The operator process's runtime: informers shared by all controllers, one work queue per
// controller, and leader election. Informers run in every replica (a standby keeps a warm cache);
// only the leader's queues reconcile. Changes seen while standing by wait in the queues, and on
// gaining leadership the cached resources a controller's keysOf still reports are queued too
// (level-based: the new leader converges everything); when it is lost, no new reconcile starts.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { BackoffSettings } from './backoff.ts';
import { type Clock, systemClock } from './clock.ts';
import type { ChangeListener, ChangeVerb } from './informer.ts';
import { LeaderElector, type LeaseStore } from './leader-election.ts';
import { type ReconcileKey, WorkQueue } from './work-queue.ts';

/** What the Manager needs of an informer; ResourceInformer is the real one. */
export interface SourceInformer {
  onChange(listener: ChangeListener<KubernetesObject>): void;
  list(): readonly KubernetesObject[];
  /** Resolves once the cache holds the first list. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface WatchSource {
  informer: SourceInformer;
  /** The controller's keys to reconcile when `object` changes (its own name, or its owner's). */
  keysOf: (object: KubernetesObject, verb: ChangeVerb) => string[];
}

export interface ControllerSpec {
  name: string;
  reconcile: ReconcileKey;
  /** The first source is the controller's own kind: its keys are queued on gaining leadership. */
  sources: WatchSource[];
  workers?: number;
  backoff?: BackoffSettings;
}

export interface ManagerOptions {
  controllers: ControllerSpec[];
  clock?: Clock;
  /** Without it this process always leads (a single replica, or tests). */
  leaderElection?: {
    identity: string;
    store: LeaseStore;
    leaseDurationMs?: number;
    renewDeadlineMs?: number;
    retryPeriodMs?: number;
  };
  log?: (line: string) => void;
}

export class Manager {
  readonly queues = new Map<string, WorkQueue>();
  readonly #options: ManagerOptions;
  readonly #clock: Clock;
  readonly #log: (line: string) => void;
  readonly #informers = new Set<SourceInformer>();
  #elector: LeaderElector | null = null;
  #leading = false;

  constructor(options: ManagerOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#log = options.log ?? (() => {});
    for (const controller of options.controllers) {
      const queue = new WorkQueue({
        clock: this.#clock,
        reconcile: controller.reconcile,
        workers: controller.workers,
        backoff: controller.backoff,
        onError: (key, error, retryInMs) =>
          this.#log(
            `${controller.name} ${key}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}` +
              (retryInMs === null ? ' (terminal, not retried)' : ` (retry in ${retryInMs} ms)`),
          ),
      });
      this.queues.set(controller.name, queue);
      for (const source of controller.sources) {
        this.#informers.add(source.informer);
        source.informer.onChange((object, verb) => {
          for (const key of source.keysOf(object, verb)) queue.add(key);
        });
      }
    }
  }

  get isLeader(): boolean {
    return this.#leading;
  }

  /** Starts the informers, waits for their first list, then campaigns (or leads at once). */
  async start(): Promise<void> {
    await Promise.all([...this.#informers].map((informer) => informer.start()));
    const election = this.#options.leaderElection;
    if (election === undefined) {
      this.#startLeading();
      return;
    }
    this.#elector = new LeaderElector({
      ...election,
      clock: this.#clock,
      log: this.#log,
      onStartedLeading: () => this.#startLeading(),
      onStoppedLeading: () => this.#stopLeading(),
    });
    this.#elector.start();
  }

  /**
   * Graceful stop: no new reconcile starts, those in flight finish while the Lease is still held
   * (and renewed), then the Lease is released and the watches close. Releasing first would let a
   * standby reconcile the same keys while this replica still does.
   */
  async stop(): Promise<void> {
    this.#leading = false;
    await Promise.all([...this.queues.values()].map((queue) => queue.shutDown()));
    await this.#elector?.stop();
    await Promise.all([...this.#informers].map((informer) => informer.stop()));
  }

  #startLeading(): void {
    this.#leading = true;
    for (const controller of this.#options.controllers) {
      const queue = this.queues.get(controller.name)!;
      const own = controller.sources[0];
      for (const object of own?.informer.list() ?? [])
        for (const key of own.keysOf(object, 'add')) queue.add(key);
      queue.start();
    }
  }

  #stopLeading(): void {
    this.#leading = false;
    for (const queue of this.queues.values()) void queue.stop();
  }
}

/**
 * A `keysOf` wrapper that queues an object only when something a reconciler acts on changed: its
 * generation (the spec), its deletion, its finalizers or its Ready condition, as controller-runtime's
 * GenerationChangedPredicate does. Without it, each status write would wake the reconciler that
 * wrote it, and a status carrying a time would loop.
 */
export function whenChanged(
  keysOf: (object: KubernetesObject, verb: ChangeVerb) => string[],
): (object: KubernetesObject, verb: ChangeVerb) => string[] {
  const seen = new Map<string, string>();
  return (object, verb) => {
    const metadata = object.metadata ?? {};
    const key = `${metadata.namespace ?? ''}/${metadata.name ?? ''}`;
    if (verb === 'delete') {
      seen.delete(key);
      return keysOf(object, verb);
    }
    const conditions = (object as { status?: { conditions?: { type: string; status: string }[] } }).status
      ?.conditions;
    const readiness = conditions?.find((condition) => condition.type === 'Ready')?.status ?? '';
    const signature = JSON.stringify([
      metadata.uid,
      metadata.generation,
      metadata.deletionTimestamp ?? null,
      metadata.finalizers ?? [],
      readiness,
    ]);
    if (seen.get(key) === signature) return [];
    seen.set(key, signature);
    return keysOf(object, verb);
  };
}
