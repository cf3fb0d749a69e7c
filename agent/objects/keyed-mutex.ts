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
