// A clock for unit tests: time moves only when the test advances it, and timers fire in due order.
import type { Clock, Timer } from '../../operator/runtime/clock.ts';

export class ManualClock implements Clock {
  #nowMs: number;
  #timers: { dueMs: number; sequence: number; callback: () => void; cancelled: boolean }[] = [];
  #sequence = 0;

  constructor(startMs = Date.UTC(2026, 10, 29, 12, 0, 0)) {
    this.#nowMs = startMs;
  }

  nowMs(): number {
    return this.#nowMs;
  }

  after(delayMs: number, callback: () => void): Timer {
    const timer = {
      dueMs: this.#nowMs + Math.max(0, delayMs),
      sequence: this.#sequence++,
      callback,
      cancelled: false,
    };
    this.#timers.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }

  /** Timers still pending. */
  get pending(): number {
    return this.#timers.filter((timer) => !timer.cancelled).length;
  }

  /** Moves time forward by `ms`, firing due timers in order and letting promises settle after each. */
  async advance(ms: number): Promise<void> {
    const targetMs = this.#nowMs + ms;
    for (;;) {
      await settle();
      const due = this.#timers
        .filter((timer) => !timer.cancelled && timer.dueMs <= targetMs)
        .sort((left, right) => left.dueMs - right.dueMs || left.sequence - right.sequence)[0];
      if (due === undefined) break;
      this.#timers = this.#timers.filter((timer) => timer !== due);
      this.#nowMs = Math.max(this.#nowMs, due.dueMs);
      due.callback();
    }
    this.#nowMs = targetMs;
    await settle();
  }
}

/** Lets every pending promise callback run (a few macrotask turns). */
export async function settle(): Promise<void> {
  for (let turn = 0; turn < 5; turn += 1) await new Promise((resolve) => setImmediate(resolve));
}
