// The listing index's WAL checkpoints, off the event loop. SQLite copies the write-ahead log back
// into the database file when the log passes 1000 pages, in the connection that commits: on the
// event loop, with an fsync of the log and one of the database, every few hundred small PUTs (the
// longest commits, 10-20 ms). Here a worker thread with its own connection to the same file runs
// PASSIVE checkpoints instead, a few times a second while commits come in; a passive checkpoint
// never blocks the writer, and once it has copied the whole log the next write transaction
// restarts the log from its beginning. The event loop's own automatic checkpoint stays, at a much
// larger size (`fallbackCheckpointPages`), as the bound on the log should the worker fall behind.
// A worker that stops is started again at the next commit; one that keeps stopping before any
// checkpoint gives the event loop back SQLite's own checkpoints (`onGone`).
//
// Durability is unchanged: a checkpoint syncs the log before copying and the database after
// (synchronous=NORMAL), and the index's commits are made durable by WriteAheadLogSync as before.
import { Worker } from 'node:worker_threads';

/** The event loop's automatic checkpoint, now only a bound on the log (64 MiB of 4 KiB pages). */
export const fallbackCheckpointPages = 16_384;
/** SQLite's own size, for an index whose worker is gone. */
export const defaultCheckpointPages = 1000;
/** The least time between two checkpoints asked of the worker. */
export const checkpointIntervalMs = 250;
/** How long close() waits for the worker to close its connection. */
const closeTimeoutMs = 10_000;
/**
 * A worker that stops is started again at the next commit; after this many stops in a row with no
 * checkpoint between them (a worker that cannot open the index, say), the event loop takes the
 * checkpoints back for good.
 */
export const maximumWorkerStarts = 3;

export type CheckpointRequest = { kind: 'checkpoint' } | { kind: 'close' };
export type CheckpointResponse =
  | { kind: 'checkpointed'; logPages: number; copiedPages: number }
  | { kind: 'failed'; message: string };

export class IndexCheckpointer {
  readonly #databasePath: string;
  /** Started at the first commit: an index that is never written (or a test's) costs no thread. */
  #worker: Worker | null = null;
  /** Set to 1 by the worker once its connection is closed (close() waits on it). */
  readonly #closed = new Int32Array(new SharedArrayBuffer(4));
  #running = false;
  #lastStartMs = Number.NEGATIVE_INFINITY;
  #isClosed = false;
  /** Checkpoints the worker completed, workers started, and the last failure (tests, metrics). */
  checkpoints = 0;
  workerStarts = 0;
  lastError: string | null = null;
  /** Workers started since the last completed checkpoint. */
  #startsWithoutCheckpoint = 0;

  readonly #onGone: () => void;

  /** `onGone`: the worker stopped for another reason than close() (the fallback then takes over). */
  constructor(databasePath: string, onGone: () => void) {
    this.#databasePath = databasePath;
    this.#onGone = onGone;
  }

  #start(): Worker {
    Atomics.store(this.#closed, 0, 0);
    const worker = new Worker(new URL('./index-checkpoint-worker.ts', import.meta.url), {
      workerData: { databasePath: this.#databasePath, closed: this.#closed },
    });
    this.workerStarts += 1;
    this.#startsWithoutCheckpoint += 1;
    // Idle between checkpoints: the worker never keeps the process alive on its own.
    worker.unref();
    worker.on('message', (response: CheckpointResponse) => {
      this.#running = false;
      if (response.kind === 'checkpointed') {
        this.checkpoints += 1;
        this.#startsWithoutCheckpoint = 0;
      } else this.lastError = response.message;
    });
    worker.on('error', (error) => {
      this.lastError = error.message;
    });
    worker.on('exit', () => {
      if (this.#isClosed || this.#worker !== worker) return;
      // Stopped unasked: the next commit starts another, unless they keep failing.
      this.#worker = null;
      this.#running = false;
      if (this.#startsWithoutCheckpoint >= maximumWorkerStarts) {
        this.#isClosed = true;
        this.#onGone();
      }
    });
    return worker;
  }

  /** Called after each write transaction: asks for a checkpoint unless one ran or runs recently. */
  committed(): void {
    if (this.#running || this.#isClosed) return;
    const nowMs = performance.now();
    if (nowMs - this.#lastStartMs < checkpointIntervalMs) return;
    this.#lastStartMs = nowMs;
    // Called after a commit: whatever happens here must not make the committed change look failed.
    try {
      this.#worker ??= this.#start();
      this.#worker.postMessage({ kind: 'checkpoint' } satisfies CheckpointRequest);
      this.#running = true;
    } catch (error) {
      this.lastError = (error as Error).message;
      this.#isClosed = true;
      this.#onGone();
    }
  }

  /**
   * Closes the worker's connection before the index's own closes, so that one is the last and
   * SQLite checkpoints and removes the log as at any clean close. Blocks (Atomics.wait) until the
   * worker has finished a checkpoint in progress and closed: the index closes synchronously.
   */
  close(): void {
    const worker = this.#worker;
    const wasClosed = this.#isClosed;
    this.#isClosed = true;
    if (worker === null || wasClosed) return;
    worker.postMessage({ kind: 'close' } satisfies CheckpointRequest);
    Atomics.wait(this.#closed, 0, 0, closeTimeoutMs);
    void worker.terminate();
  }
}
