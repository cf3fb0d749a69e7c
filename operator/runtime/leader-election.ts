// Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection package does it:
// a candidate takes the Lease when it is free or has not been renewed for leaseDurationMs, the
// leader renews it every retryPeriodMs and steps down when it could not renew for renewDeadlineMs
// (before another candidate may take it over), and a leader that stops releases the Lease so that
// another takes over at once. Expiry is judged on this process's own clock, from the moment it
// last saw the Lease record change, never by comparing its clock with the renewTime written by
// another host (clocks differ between hosts).
import type { Clock } from './clock.ts';
import { sleep } from './clock.ts';

export interface LeaseRecord {
  holderIdentity: string | null;
  leaseDurationSeconds: number;
  /** RFC 3339 with microseconds, as MicroTime requires. */
  acquireTime: string | null;
  renewTime: string | null;
  leaseTransitions: number;
  /** Optimistic concurrency: the replace fails with a conflict when someone wrote in between. */
  resourceVersion?: string;
}

/** The Lease as stored; implemented over CoordinationV1Api (kube.ts) or in memory (tests). */
export interface LeaseStore {
  get(): Promise<LeaseRecord | null>;
  /** Creates it; rejects when it already exists. */
  create(record: LeaseRecord): Promise<LeaseRecord>;
  /** Replaces it if `record.resourceVersion` is still current; rejects on a conflict. */
  replace(record: LeaseRecord): Promise<LeaseRecord>;
}

export interface LeaderElectionOptions {
  identity: string;
  store: LeaseStore;
  clock: Clock;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  onStartedLeading: () => void;
  /** Called when leadership is lost or given up; the caller stops reconciling at once. */
  onStoppedLeading: () => void;
  log?: (line: string) => void;
}

/** client-go's defaults: 15 s lease, 10 s renew deadline, 2 s retry period. */
export const defaultLeaseDurationMs = 15_000;
export const defaultRenewDeadlineMs = 10_000;
export const defaultRetryPeriodMs = 2_000;

function microTime(nowMs: number): string {
  return new Date(nowMs).toISOString().replace(/Z$/, '000Z');
}

export class LeaderElector {
  readonly #options: LeaderElectionOptions;
  readonly #leaseDurationMs: number;
  readonly #renewDeadlineMs: number;
  readonly #retryPeriodMs: number;
  readonly #stopping = new AbortController();
  #leading = false;
  #lastRenewMs = 0;
  /** The record last seen and when (on our clock) it was first seen in that state. */
  #observed: { key: string; atMs: number } | null = null;
  #loop: Promise<void> | null = null;

  constructor(options: LeaderElectionOptions) {
    this.#options = options;
    this.#leaseDurationMs = options.leaseDurationMs ?? defaultLeaseDurationMs;
    this.#renewDeadlineMs = options.renewDeadlineMs ?? defaultRenewDeadlineMs;
    this.#retryPeriodMs = options.retryPeriodMs ?? defaultRetryPeriodMs;
    if (!(this.#leaseDurationMs > this.#renewDeadlineMs && this.#renewDeadlineMs > this.#retryPeriodMs)) {
      throw new RangeError('leaseDurationMs > renewDeadlineMs > retryPeriodMs');
    }
  }

  get isLeader(): boolean {
    return this.#leading;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  /** Stops campaigning; a leader steps down and releases the Lease. */
  async stop(): Promise<void> {
    this.#stopping.abort();
    await this.#loop;
    this.#stepDown();
    // Also when a first acquire was still in flight as stop() began: it may have made us the
    // holder. #release only clears a Lease this identity holds.
    await this.#release().catch((error: unknown) =>
      this.#log(`could not release the lease: ${String(error)}`),
    );
  }

  async #run(): Promise<void> {
    while (!this.#stopping.signal.aborted) {
      await this.tryAcquireOrRenew();
      await sleep(this.#options.clock, this.#retryPeriodMs, this.#stopping.signal);
    }
  }

  /** One round: take or renew the Lease; exported for tests that step the clock by hand. */
  async tryAcquireOrRenew(): Promise<boolean> {
    const nowMs = this.#options.clock.nowMs();
    let succeeded = false;
    try {
      // A leader's renewal is bounded by what is left of its renew deadline: a request that hangs
      // (the HTTP client would wait minutes) must not keep it leading after others may take over.
      succeeded = await this.#bounded(
        this.#attempt(nowMs),
        this.#leading ? this.#lastRenewMs + this.#renewDeadlineMs - nowMs : null,
      );
    } catch (error) {
      this.#log(`lease round failed: ${String(error)}`);
    }
    if (this.#stopping.signal.aborted) return succeeded;
    if (succeeded) {
      this.#lastRenewMs = nowMs;
      if (!this.#leading) {
        this.#leading = true;
        this.#log(`${this.#options.identity} became the leader`);
        this.#options.onStartedLeading();
      }
    } else if (this.#leading && this.#options.clock.nowMs() - this.#lastRenewMs >= this.#renewDeadlineMs) {
      this.#log(`${this.#options.identity} could not renew the lease within ${this.#renewDeadlineMs} ms`);
      this.#stepDown();
    }
    return succeeded;
  }

  /** The attempt's outcome, or false once `deadlineMs` has passed on the clock (null: no deadline). */
  async #bounded(attempt: Promise<boolean>, deadlineMs: number | null): Promise<boolean> {
    if (deadlineMs === null) return attempt;
    attempt.catch(() => {});
    const expired = new AbortController();
    const timedOut = sleep(this.#options.clock, Math.max(0, deadlineMs), expired.signal).then(() => {
      if (expired.signal.aborted) return false;
      this.#log(`lease renewal did not answer within the renew deadline`);
      return false;
    });
    try {
      return await Promise.race([attempt, timedOut]);
    } finally {
      expired.abort();
    }
  }

  async #attempt(nowMs: number): Promise<boolean> {
    const { identity, store } = this.#options;
    const current = await store.get();
    const leaseDurationSeconds = Math.ceil(this.#leaseDurationMs / 1000);
    if (current === null) {
      await store.create({
        holderIdentity: identity,
        leaseDurationSeconds,
        acquireTime: microTime(nowMs),
        renewTime: microTime(nowMs),
        leaseTransitions: 0,
      });
      return true;
    }
    const key = JSON.stringify([current.holderIdentity, current.renewTime, current.resourceVersion]);
    if (this.#observed?.key !== key) this.#observed = { key, atMs: nowMs };
    const heldByOther =
      current.holderIdentity !== null && current.holderIdentity !== '' && current.holderIdentity !== identity;
    const durationMs = current.leaseDurationSeconds * 1000;
    if (heldByOther && nowMs < this.#observed.atMs + durationMs) return false;
    const taking = current.holderIdentity !== identity;
    const replaced = await store.replace({
      ...current,
      holderIdentity: identity,
      leaseDurationSeconds,
      acquireTime: taking ? microTime(nowMs) : current.acquireTime,
      renewTime: microTime(nowMs),
      leaseTransitions: taking ? current.leaseTransitions + 1 : current.leaseTransitions,
    });
    this.#observed = {
      key: JSON.stringify([replaced.holderIdentity, replaced.renewTime, replaced.resourceVersion]),
      atMs: nowMs,
    };
    return true;
  }

  async #release(): Promise<void> {
    const current = await this.#options.store.get();
    if (current === null || current.holderIdentity !== this.#options.identity) return;
    // client-go releases by clearing the holder and shortening the lease to one second.
    await this.#options.store.replace({ ...current, holderIdentity: null, leaseDurationSeconds: 1 });
  }

  #stepDown(): void {
    if (!this.#leading) return;
    this.#leading = false;
    this.#log(`${this.#options.identity} stopped leading`);
    this.#options.onStoppedLeading();
  }

  #log(line: string): void {
    this.#options.log?.(line);
  }
}
