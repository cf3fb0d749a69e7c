// Group commit of the listing index: the intents and index updates asked for while the event loop
// is busy go into one transaction at the next turn, and the intents among them become durable by
// one fdatasync of the write-ahead log on the thread pool (WriteAheadLogSync), never by an fsync
// inside node:sqlite, which would block every other request meanwhile. A 4 KiB PUT asks for two
// index transactions (its intent before the store write, its version after it); at c16 one
// transaction and one sync now serve many PUTs.
import assert from 'node:assert/strict';
import type { WriteAheadLogSync } from './index-database.ts';
import type { VersionAddress } from './store.ts';

export type IntentAction = 'write' | 'delete';

/** What the group commit needs from the index (ObjectIndex). */
export interface GroupCommitTarget {
  /** Runs `work` in one write transaction; durable ones fsync inside SQLite at commit. */
  transaction<T>(work: () => T, options: { durable?: boolean }): T;
  /** Inserts an intent row inside the current transaction; returns its id. */
  insertIntent(action: IntentAction, address: VersionAddress): number;
  /** Runs `work` in a savepoint of the current transaction: if it throws, only its changes go. */
  isolated<T>(work: () => T): T;
}

/** A bound on the entries of one transaction, so one turn never holds the loop for long. */
export const maximumEntriesPerCommit = 1024;

interface QueuedIntent {
  action: IntentAction;
  address: VersionAddress;
  resolve: (id: number) => void;
  reject: (error: unknown) => void;
}

interface QueuedUpdate {
  work: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

export class IndexGroupCommit {
  readonly #target: GroupCommitTarget;
  /** Null for a database without a WAL file (in memory): intents then commit with FULL. */
  readonly #logSync: WriteAheadLogSync | null;
  #intents: QueuedIntent[] = [];
  #updates: QueuedUpdate[] = [];
  #scheduled = false;
  #closedError: Error | null = null;
  /** Transactions committed by the group commit (each holds every entry queued before it). */
  commits = 0;

  constructor(target: GroupCommitTarget, logSync: WriteAheadLogSync | null) {
    this.#target = target;
    this.#logSync = logSync;
  }

  /** Records an intent; resolves with its id once it is durable. */
  recordIntent(action: IntentAction, address: VersionAddress): Promise<number> {
    return new Promise((resolve, reject) => {
      if (this.#closedError !== null) return reject(this.#closedError);
      this.#intents.push({ action, address, resolve, reject });
      this.#schedule();
    });
  }

  /**
   * Runs `work` (index reads and writes) in the next group transaction, in a savepoint of its own,
   * and resolves with its result once that transaction has committed, not durably: every caller
   * is covered by an intent made durable before it, which redoes a lost update at the next open.
   */
  update<T>(work: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.#closedError !== null) return reject(this.#closedError);
      this.#updates.push({ work, resolve: resolve as (value: unknown) => void, reject });
      this.#schedule();
    });
  }

  /** Fails everything queued (the index is closing); later calls fail at once. */
  close(error: Error): void {
    this.#closedError = error;
    for (const entry of [...this.#intents.splice(0), ...this.#updates.splice(0)]) entry.reject(error);
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => this.#commit());
  }

  #commit(): void {
    this.#scheduled = false;
    const updates = this.#updates.splice(0, maximumEntriesPerCommit);
    const intents = this.#intents.splice(0, maximumEntriesPerCommit - updates.length);
    if (this.#updates.length + this.#intents.length > 0) this.#schedule();
    if (updates.length + intents.length === 0) return;
    const outcomes: ({ value: unknown } | { error: unknown })[] = [];
    let ids: number[];
    try {
      ids = this.#target.transaction(
        () => {
          for (const entry of updates) {
            try {
              outcomes.push({ value: this.#target.isolated(entry.work) });
            } catch (error) {
              outcomes.push({ error });
            }
          }
          return intents.map((entry) => this.#target.insertIntent(entry.action, entry.address));
        },
        { durable: this.#logSync === null && intents.length > 0 },
      );
    } catch (error) {
      for (const entry of [...updates, ...intents]) entry.reject(error);
      return;
    }
    this.commits += 1;
    assert.equal(outcomes.length, updates.length);
    for (const [position, entry] of updates.entries()) {
      const outcome = outcomes[position];
      if ('error' in outcome) entry.reject(outcome.error);
      else entry.resolve(outcome.value);
    }
    if (intents.length === 0) return;
    const durable = this.#logSync === null ? Promise.resolve() : this.#logSync.sync();
    durable.then(
      () => {
        for (const [position, entry] of intents.entries()) entry.resolve(ids[position]);
      },
      (error) => {
        for (const entry of intents) entry.reject(error);
      },
    );
  }
}
