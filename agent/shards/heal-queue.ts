// The background healer: versions found damaged by reads and degraded writes are queued here and
// healed one at a time. The queue is bounded; a request that does not fit is dropped and counted
// (the scrubber finds that version later anyway).
import type { StoreMetrics } from './context.ts';
import { addressKey, type VersionAddress } from './layout.ts';

export class HealQueue {
  readonly #pending = new Map<string, VersionAddress>();
  readonly #maxQueued: number;
  readonly #heal: (address: VersionAddress) => Promise<unknown>;
  readonly #metrics: StoreMetrics;
  #worker: Promise<void> | undefined;
  #stopped = false;

  constructor(maxQueued: number, heal: (address: VersionAddress) => Promise<unknown>, metrics: StoreMetrics) {
    this.#maxQueued = maxQueued;
    this.#heal = heal;
    this.#metrics = metrics;
  }

  request(address: VersionAddress): void {
    if (this.#stopped) return;
    const key = addressKey(address);
    if (this.#pending.has(key)) return;
    if (this.#pending.size >= this.#maxQueued) {
      this.#metrics.healRequestsDropped += 1;
      return;
    }
    this.#pending.set(key, address);
    this.#worker ??= this.#work();
  }

  async #work(): Promise<void> {
    // Let the request's caller finish first (a read still streaming, a commit still unlocking).
    await new Promise((resolve) => setImmediate(resolve));
    while (!this.#stopped && this.#pending.size > 0) {
      const [key, address] = this.#pending.entries().next().value!;
      this.#pending.delete(key);
      try {
        await this.#heal(address);
      } catch {
        this.#metrics.healFailures += 1;
      }
    }
    this.#worker = undefined;
  }

  /** Resolves when every queued heal is done. */
  async settle(): Promise<void> {
    while (this.#worker !== undefined) await this.#worker;
  }

  /** Drops what is queued and waits for the heal in progress. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#pending.clear();
    await this.#worker;
  }
}
