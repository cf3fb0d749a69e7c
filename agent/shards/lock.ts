// An in-process lock per name. The shard store takes it per (bucket, key) around commits, heals
// and deletes, so a heal never mistakes a commit in progress for a half-written leftover.
export class KeyedLock {
  readonly #tails = new Map<string, Promise<void>>();

  async run<T>(name: string, action: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(name) ?? Promise.resolve();
    let release!: () => void;
    const current = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => current);
    this.#tails.set(name, tail);
    await previous;
    try {
      return await action();
    } finally {
      release();
      if (this.#tails.get(name) === tail) this.#tails.delete(name);
    }
  }
}
