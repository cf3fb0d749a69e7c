// An informer over @kubernetes/client-node's ListWatch (k8s.makeInformer): a cache of one resource
// kind kept current by list + watch. ListWatch itself reconnects when a watch closes normally or
// expires (410 Gone: it lists again); on any other error it stops for good, so this wrapper starts
// it again after an exponential backoff, until stop().
import * as k8s from '@kubernetes/client-node';
import { type BackoffSettings, backoffDelayMs } from './backoff.ts';
import { type Clock, systemClock, type Timer } from './clock.ts';

export type ChangeVerb = 'add' | 'update' | 'delete';
export type ChangeListener<T> = (object: T, verb: ChangeVerb) => void;

export interface InformerOptions<T extends k8s.KubernetesObject> {
  kubeConfig: k8s.KubeConfig;
  /** The watch path, e.g. /apis/coffre.infofy.fr/v1alpha1/tenants. */
  path: string;
  list: () => Promise<k8s.KubernetesListObject<T>>;
  clock?: Clock;
  backoff?: BackoffSettings;
  log?: (line: string) => void;
}

/** Watches restart sooner than reconciles retry: a blind cache is worse than a slow agent. */
const informerBackoff: BackoffSettings = { baseDelayMs: 250, maximumDelayMs: 30_000 };

export class ResourceInformer<T extends k8s.KubernetesObject> {
  readonly path: string;
  readonly #informer: k8s.Informer<T> & k8s.ObjectCache<T>;
  readonly #clock: Clock;
  readonly #backoff: BackoffSettings;
  readonly #log: (line: string) => void;
  readonly #listeners: ChangeListener<T>[] = [];
  #failures = 0;
  #restart: Timer | null = null;
  #stopped = true;
  #synced = false;
  #syncWaiters: (() => void)[] = [];

  constructor(options: InformerOptions<T>) {
    this.path = options.path;
    this.#clock = options.clock ?? systemClock;
    this.#backoff = options.backoff ?? informerBackoff;
    this.#log = options.log ?? (() => {});
    const list = async () => {
      const result = await options.list();
      this.#failures = 0;
      // ListWatch fills its cache synchronously right after this promise settles; report the
      // cache as synced only after that.
      setImmediate(() => this.#markSynced());
      return result;
    };
    this.#informer = k8s.makeInformer<T>(options.kubeConfig, options.path, list);
    for (const verb of ['add', 'update', 'delete'] as const) {
      this.#informer.on(verb, (object) => {
        for (const listener of this.#listeners) listener(object, verb);
      });
    }
    this.#informer.on('error', (error) => this.#scheduleRestart(error));
  }

  onChange(listener: ChangeListener<T>): void {
    this.#listeners.push(listener);
  }

  get(name: string, namespace?: string): T | undefined {
    return this.#informer.get(name, namespace);
  }

  list(): readonly T[] {
    return this.#informer.list();
  }

  /** Starts listing and watching; resolves once the first list has filled the cache. */
  async start(): Promise<void> {
    this.#stopped = false;
    this.#startOnce();
    await this.waitForSync();
  }

  waitForSync(): Promise<void> {
    if (this.#synced) return Promise.resolve();
    return new Promise((resolve) => this.#syncWaiters.push(resolve));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#restart?.cancel();
    this.#restart = null;
    await this.#informer.stop();
  }

  #startOnce(): void {
    this.#informer.start().catch((error: unknown) => this.#scheduleRestart(error));
  }

  #scheduleRestart(error: unknown): void {
    if (this.#stopped || this.#restart !== null) return;
    this.#failures += 1;
    const delayMs = backoffDelayMs(this.#failures, this.#backoff);
    this.#log(`watch of ${this.path} failed (${describe(error)}); restarting in ${delayMs} ms`);
    this.#restart = this.#clock.after(delayMs, () => {
      this.#restart = null;
      if (!this.#stopped) this.#startOnce();
    });
  }

  #markSynced(): void {
    this.#synced = true;
    const waiters = this.#syncWaiters;
    this.#syncWaiters = [];
    for (const resolve of waiters) resolve();
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message.split('\n')[0];
  return String(error);
}
