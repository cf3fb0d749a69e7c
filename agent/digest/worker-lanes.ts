// Worker threads shared by the sessions of many requests: each session (a body being hashed, a
// read being decrypted) lives on one lane, a worker thread, and gets the worker's answers by its
// session id. Workers start on first use, up to a count; a new session goes to the lane with the
// fewest; a worker keeps the process alive only while it has sessions; a worker that fails or
// exits fails its sessions and is replaced on next use. Used by digest-workers.ts and
// crypto/chunk-workers.ts.
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

/** Worker threads at most (the machine's other cores; the event loop keeps one). */
const maximumWorkers = 4;

export interface LaneSession<Response> {
  readonly sessionId: number;
  receive(response: Response): void;
  /** The worker failed or went away: every wait of the session rejects, now and later. */
  fail(error: unknown): void;
}

/** One worker thread and the sessions it serves. */
export class WorkerLane<Request, Response extends { sessionId: number }> {
  readonly worker: Worker;
  readonly sessions = new Map<number, LaneSession<Response>>();

  constructor(
    script: URL,
    name: string,
    onGone: (lane: WorkerLane<Request, Response>, error: unknown) => void,
  ) {
    this.worker = new Worker(script);
    this.worker.unref();
    this.worker.on('message', (response: Response) =>
      this.sessions.get(response.sessionId)?.receive(response),
    );
    this.worker.on('error', (error) => onGone(this, error));
    this.worker.on('exit', (code) => onGone(this, new Error(`${name} worker exited with code ${code}`)));
  }

  attach(session: LaneSession<Response>): void {
    if (this.sessions.size === 0) this.worker.ref();
    this.sessions.set(session.sessionId, session);
  }

  detach(sessionId: number): void {
    if (this.sessions.delete(sessionId) && this.sessions.size === 0) this.worker.unref();
  }

  post(request: Request): void {
    this.worker.postMessage(request);
  }
}

/** The lanes of one kind of worker (`script`), started on first use and stopped by `close`. */
export class WorkerLanes<Request, Response extends { sessionId: number }> {
  readonly #script: URL;
  readonly #name: string;
  readonly #workerCount: number;
  readonly #lanes: WorkerLane<Request, Response>[] = [];

  /** `workerCount` defaults to the machine's cores but one, at least one, at most four. */
  constructor(script: URL, name: string, workerCount?: number) {
    this.#script = script;
    this.#name = name;
    this.#workerCount = workerCount ?? Math.max(1, Math.min(maximumWorkers, availableParallelism() - 1));
    assert.ok(this.#workerCount >= 1, `at least one ${name} worker`);
  }

  /** The lane for a new session: a new worker while fewer than the count run, else the least busy. */
  quietest(): WorkerLane<Request, Response> {
    if (this.#lanes.length < this.#workerCount) {
      const lane = new WorkerLane<Request, Response>(this.#script, this.#name, (gone, error) =>
        this.#onGone(gone, error),
      );
      this.#lanes.push(lane);
      return lane;
    }
    return this.#lanes.reduce((best, lane) => (lane.sessions.size < best.sessions.size ? lane : best));
  }

  /** Stops the worker threads; their sessions fail with `error`. A later session starts them again. */
  async close(error: Error): Promise<void> {
    const lanes = this.#lanes.splice(0);
    for (const lane of lanes) {
      for (const session of [...lane.sessions.values()]) session.fail(error);
    }
    await Promise.all(lanes.map((lane) => lane.worker.terminate()));
  }

  /** Worker threads running now. */
  get running(): number {
    return this.#lanes.length;
  }

  /** Sessions attached to a worker now, all lanes together. */
  get sessions(): number {
    return this.#lanes.reduce((count, lane) => count + lane.sessions.size, 0);
  }

  #onGone(lane: WorkerLane<Request, Response>, error: unknown): void {
    const index = this.#lanes.indexOf(lane);
    if (index !== -1) this.#lanes.splice(index, 1);
    for (const session of [...lane.sessions.values()]) session.fail(error);
  }
}
