// The work queue between informers and reconcilers, with client-go's workqueue guarantees:
// - a key is reconciled by at most one worker at a time;
// - a key added while queued is queued once (dedup); a key added while being reconciled is
//   reconciled once more after the current run (so no change is lost);
// - a transient failure retries the key after an exponential backoff, a terminal one does not;
// - a success forgets the key's failures and honours "requeue after".
// Keys are opaque strings (a resource's name, or namespace/name).
import { type BackoffSettings, backoffDelayMs, defaultBackoff } from './backoff.ts';
import type { Clock, Timer } from './clock.ts';
import { isTerminalError } from './errors.ts';

export interface ReconcileResult {
  /** Reconcile the key again after this delay even if nothing changes (level-based resync). */
  requeueAfterMs?: number;
}

export type ReconcileKey = (key: string) => Promise<ReconcileResult | undefined>;

export interface WorkQueueOptions {
  clock: Clock;
  reconcile: ReconcileKey;
  /** Keys reconciled at the same time (distinct keys only). */
  workers?: number;
  backoff?: BackoffSettings;
  /** Called on every failure (terminal or not), for logs and Events. */
  onError?: (key: string, error: unknown, retryInMs: number | null) => void;
}

/** A bound on distinct keys waiting, so that a runaway producer fails loudly instead of growing. */
export const maximumQueuedKeys = 100_000;

export class WorkQueue {
  readonly #options: Required<Omit<WorkQueueOptions, 'onError'>> & Pick<WorkQueueOptions, 'onError'>;
  readonly #waiting: string[] = [];
  /** Keys that must be reconciled (waiting, or to re-run after the current run). */
  readonly #dirty = new Set<string>();
  readonly #processing = new Map<string, Promise<void>>();
  readonly #timers = new Map<string, { dueMs: number; timer: Timer }>();
  readonly #failures = new Map<string, number>();
  #running = false;
  #idleWaiters: (() => void)[] = [];

  constructor(options: WorkQueueOptions) {
    this.#options = {
      ...options,
      workers: options.workers ?? 2,
      backoff: options.backoff ?? defaultBackoff,
    };
    if (!Number.isSafeInteger(this.#options.workers) || this.#options.workers < 1) {
      throw new RangeError('workers is 1 or more');
    }
  }

  /** Adds a key now; a key already waiting is not added twice. Keys added while stopped wait. */
  add(key: string): void {
    if (this.#dirty.has(key)) return;
    if (this.#dirty.size >= maximumQueuedKeys)
      throw new RangeError(`more than ${maximumQueuedKeys} keys queued`);
    this.#dirty.add(key);
    if (!this.#processing.has(key)) this.#waiting.push(key);
    this.#pump();
  }

  /** Adds a key after `delayMs`; an earlier pending add of the same key wins. */
  addAfter(key: string, delayMs: number): void {
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    const dueMs = this.#options.clock.nowMs() + delayMs;
    const pending = this.#timers.get(key);
    if (pending !== undefined && pending.dueMs <= dueMs) return;
    pending?.timer.cancel();
    const timer = this.#options.clock.after(delayMs, () => {
      this.#timers.delete(key);
      this.add(key);
    });
    this.#timers.set(key, { dueMs, timer });
  }

  /** The failures counted for a key since its last success. */
  failures(key: string): number {
    return this.#failures.get(key) ?? 0;
  }

  /** Keys waiting to be reconciled (not counting delayed ones). */
  get length(): number {
    return this.#waiting.length;
  }

  /** Starts reconciling (when this process becomes the leader). */
  start(): void {
    this.#running = true;
    this.#pump();
  }

  /**
   * Stops taking keys and waits for the reconciles in flight. Waiting keys stay queued, so a
   * restart (leadership regained) picks them up; delayed adds are kept too.
   */
  async stop(): Promise<void> {
    this.#running = false;
    await Promise.all([...this.#processing.values()]);
  }

  /** Stops for good: also cancels the delayed adds. */
  async shutDown(): Promise<void> {
    await this.stop();
    // After the runs in flight: one that fails as it ends arms a retry timer.
    for (const { timer } of this.#timers.values()) timer.cancel();
    this.#timers.clear();
  }

  /** Resolves when no key is waiting or being reconciled (tests). */
  idle(): Promise<void> {
    if (this.#waiting.length === 0 && this.#processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #pump(): void {
    while (this.#running && this.#processing.size < this.#options.workers && this.#waiting.length > 0) {
      const key = this.#waiting.shift()!;
      this.#dirty.delete(key);
      const run = this.#run(key).finally(() => {
        this.#processing.delete(key);
        // Added again while it ran: reconcile once more, after this run (one at a time per key).
        if (this.#dirty.has(key)) this.#waiting.push(key);
        this.#pump();
        this.#notifyIdle();
      });
      this.#processing.set(key, run);
    }
  }

  async #run(key: string): Promise<void> {
    let result: ReconcileResult | undefined;
    try {
      result = await this.#options.reconcile(key);
    } catch (error) {
      if (isTerminalError(error)) {
        this.#failures.delete(key);
        this.#options.onError?.(key, error, null);
        return;
      }
      const failures = (this.#failures.get(key) ?? 0) + 1;
      this.#failures.set(key, failures);
      const delayMs = backoffDelayMs(failures, this.#options.backoff);
      this.#options.onError?.(key, error, delayMs);
      this.addAfter(key, delayMs);
      return;
    }
    this.#failures.delete(key);
    if (result?.requeueAfterMs !== undefined) this.addAfter(key, result.requeueAfterMs);
  }

  #notifyIdle(): void {
    if (this.#waiting.length > 0 || this.#processing.size > 0) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
