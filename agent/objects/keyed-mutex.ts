// Serialises work per name (a bucket, or a bucket and key) without a global lock: two puts of
// different keys never wait for each other; two commits of one key run one after the other, so
// S3's "latest version" and conditional-write checks see a stable state.

export class KeyedMutex {
  readonly #tails = new Map<string, Promise<void>>();

  /** Waits for the name's earlier holders; resolves to the function that releases it. */
  async acquire(name: string): Promise<() => void> {
    const previous = this.#tails.get(name) ?? Promise.resolve();
    let release!: () => void;
    const current = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => current);
    this.#tails.set(name, tail);
    await previous;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      release();
      // Forget the name once nobody queued behind us, so the map stays as small as the work in flight.
      if (this.#tails.get(name) === tail) this.#tails.delete(name);
    };
  }

  async run<T>(name: string, work: () => Promise<T>): Promise<T> {
    const release = await this.acquire(name);
    try {
      return await work();
    } finally {
      release();
    }
  }

  /** Names currently held or awaited; for tests and metrics. */
  get size(): number {
    return this.#tails.size;
  }
}

type GateMode = 'shared' | 'exclusive';

interface GateWaiter {
  mode: GateMode;
  grant: () => void;
}

/** One shared/exclusive gate; waiters are served in arrival order, so an exclusive one is not starved. */
class Gate {
  sharedHolders = 0;
  exclusiveHeld = false;
  readonly waiters: GateWaiter[] = [];

  get idle(): boolean {
    return this.sharedHolders === 0 && !this.exclusiveHeld && this.waiters.length === 0;
  }

  admit(): void {
    while (this.waiters.length > 0 && !this.exclusiveHeld) {
      const next = this.waiters[0];
      if (next.mode === 'exclusive' && this.sharedHolders > 0) return;
      this.waiters.shift();
      if (next.mode === 'exclusive') this.exclusiveHeld = true;
      else this.sharedHolders += 1;
      next.grant();
    }
  }
}

/**
 * Shared/exclusive locks per name. Commits into a bucket hold it shared (they run in parallel);
 * deleting the bucket holds it exclusive, so no commit can land in a bucket being deleted. Not
 * reentrant: a holder must not acquire the same name again.
 */
export class KeyedSharedLock {
  readonly #gates = new Map<string, Gate>();

  async acquire(name: string, mode: GateMode): Promise<() => void> {
    let gate = this.#gates.get(name);
    if (gate === undefined) {
      gate = new Gate();
      this.#gates.set(name, gate);
    }
    const current = gate;
    await new Promise<void>((grant) => {
      current.waiters.push({ mode, grant });
      current.admit();
    });
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (mode === 'exclusive') current.exclusiveHeld = false;
      else current.sharedHolders -= 1;
      current.admit();
      if (current.idle && this.#gates.get(name) === current) this.#gates.delete(name);
    };
  }
}
