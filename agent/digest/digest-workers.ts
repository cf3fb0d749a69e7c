// Whole-body digests off the event loop. One core hashes MD5 at ~0.65-0.75 GB/s here: on the main
// thread, in series with decryption, erasure coding and shard writes, it capped one PUT stream at
// ~200 MB/s (BENCHMARKS.md, S3 load, "Hot spots"). A body of at least `offloadThresholdBytes` is
// hashed instead by a worker thread, in parallel with the rest of the write: the calling thread
// copies each piece into a ring shared with the worker (one memory copy, ~10 GB/s) and announces
// it; the worker hashes and acknowledges; the ring is the bounded queue between them, so a worker
// that falls behind slows the body down instead of letting memory grow. The digests are awaited
// at commit, before anything is stored. Smaller bodies, and bodies beyond the ring budget, are
// hashed on the calling thread: a round trip to the worker costs more than hashing a few kilobytes.
import assert from 'node:assert/strict';
import { createDigest, type DigestAlgorithm, type StreamingDigest } from './algorithms.ts';
import { type WorkerLane, WorkerLanes } from './worker-lanes.ts';

/** Bodies declared smaller than this are hashed on the calling thread. */
export const offloadThresholdBytes = 1024 * 1024;
/** Each offloaded body's queue: bytes copied and not yet hashed (memory per body in flight). */
export const ringBytes = 4 * 1024 * 1024;
/** Bytes announced to the worker at once (fewer messages; the worker starts before a ring fills). */
const announceBytes = 1024 * 1024;
/**
 * Rings in use at once, all bodies together (256 MiB); a body beyond this is hashed in place, on the
 * event loop. 16 left 48 of 64 concurrent 64 MiB PUTs hashing there: 173-201 MB/s against 277-296
 * with 64 (BENCHMARKS.md, run 9).
 */
const maximumRings = 64;
/** Rings kept for later bodies once given back (64 MiB). */
const maximumIdleRings = 16;

export type DigestRequest =
  | { kind: 'open'; sessionId: number; algorithms: DigestAlgorithm[]; ring: SharedArrayBuffer }
  | { kind: 'data'; sessionId: number; endBytes: number }
  | { kind: 'finish'; sessionId: number }
  | { kind: 'abandon'; sessionId: number };

export type DigestResponse =
  | { kind: 'hashed'; sessionId: number; endBytes: number }
  | { kind: 'digests'; sessionId: number; digests: Uint8Array[] }
  | { kind: 'failed'; sessionId: number; message: string };

/** The digests of one body, fed piece by piece, in the order of `algorithms` given to `open`. */
export interface BodyDigests {
  /** Feeds the next bytes (they may be reused once this settles); waits while the queue is full. */
  update(bytes: Uint8Array): Promise<void>;
  /** After the last update: one digest per algorithm. */
  digest(): Promise<Uint8Array[]>;
  /** The body will not end (it failed): drops the work. Never throws. */
  abandon(): void;
}

class InPlaceDigests implements BodyDigests {
  readonly #digests: StreamingDigest[];

  constructor(algorithms: readonly DigestAlgorithm[]) {
    this.#digests = algorithms.map(createDigest);
  }

  async update(bytes: Uint8Array): Promise<void> {
    for (const digest of this.#digests) digest.update(bytes);
  }

  async digest(): Promise<Uint8Array[]> {
    return this.#digests.map((digest) => digest.digest());
  }

  abandon(): void {}
}

/** A digest worker thread and the bodies it is hashing. */
type DigestLane = WorkerLane<DigestRequest, DigestResponse>;

interface Waiter<T> {
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

class OffloadedDigests implements BodyDigests {
  readonly sessionId: number;
  readonly #lane: DigestLane;
  /**
   * A Buffer over the shared ring, filled by Buffer#fill: a plain memcpy in Node's C++. Buffer#copy
   * and TypedArray#set into shared memory go through V8's relaxed_memmove, which was ~11 % of a
   * large PUT's event loop in `perf` (more than the erasure stripe and cipher copies together).
   */
  readonly #ring: Buffer;
  readonly #release: () => void;
  #writtenBytes = 0;
  #announcedBytes = 0;
  #hashedBytes = 0;
  #failure: unknown;
  #done = false;
  #roomWaiter: Waiter<void> | undefined;
  #digestWaiter: Waiter<Uint8Array[]> | undefined;

  constructor(sessionId: number, lane: DigestLane, ring: SharedArrayBuffer, release: () => void) {
    this.sessionId = sessionId;
    this.#lane = lane;
    this.#ring = Buffer.from(ring);
    this.#release = release;
  }

  async update(bytes: Uint8Array): Promise<void> {
    assert.ok(!this.#done, 'update after the body ended');
    let offset = 0;
    while (offset < bytes.byteLength) {
      if (this.#failure !== undefined) throw this.#failure;
      const freeBytes = this.#ring.byteLength - (this.#writtenBytes - this.#hashedBytes);
      if (freeBytes === 0) {
        this.#announce();
        await new Promise<void>((resolve, reject) => {
          this.#roomWaiter = { resolve, reject };
        });
        continue;
      }
      const position = this.#writtenBytes % this.#ring.byteLength;
      const take = Math.min(freeBytes, bytes.byteLength - offset, this.#ring.byteLength - position);
      // take > 0: Buffer#fill with an empty value would zero-fill instead.
      this.#ring.fill(bytes.subarray(offset, offset + take), position, position + take);
      this.#writtenBytes += take;
      offset += take;
      if (this.#writtenBytes - this.#announcedBytes >= announceBytes) this.#announce();
    }
  }

  digest(): Promise<Uint8Array[]> {
    assert.ok(!this.#done, 'digest asked twice');
    this.#done = true;
    if (this.#failure !== undefined) {
      this.#end();
      return Promise.reject(this.#failure);
    }
    this.#announce();
    this.#lane.post({ kind: 'finish', sessionId: this.sessionId });
    return new Promise((resolve, reject) => {
      this.#digestWaiter = { resolve, reject };
    });
  }

  abandon(): void {
    if (this.#done && this.#digestWaiter === undefined) return;
    this.#done = true;
    this.#lane.post({ kind: 'abandon', sessionId: this.sessionId });
    this.fail(new Error('digest abandoned'));
  }

  receive(response: DigestResponse): void {
    if (response.kind === 'hashed') {
      this.#hashedBytes = response.endBytes;
      const waiter = this.#roomWaiter;
      this.#roomWaiter = undefined;
      waiter?.resolve();
    } else if (response.kind === 'digests') {
      const waiter = this.#digestWaiter;
      this.#end();
      waiter?.resolve(response.digests);
    } else {
      this.fail(new Error(`digest worker: ${response.message}`));
    }
  }

  /** The worker failed or went away: every wait of this body rejects, now and later. */
  fail(error: unknown): void {
    this.#failure ??= error;
    const roomWaiter = this.#roomWaiter;
    const digestWaiter = this.#digestWaiter;
    this.#roomWaiter = undefined;
    this.#end();
    roomWaiter?.reject(this.#failure);
    digestWaiter?.reject(this.#failure);
  }

  #announce(): void {
    if (this.#writtenBytes === this.#announcedBytes) return;
    this.#announcedBytes = this.#writtenBytes;
    this.#lane.post({ kind: 'data', sessionId: this.sessionId, endBytes: this.#writtenBytes });
  }

  /** The session is over: its ring goes back to the pool (the worker reads no more of it). */
  #end(): void {
    this.#digestWaiter = undefined;
    if (this.#lane.sessions.get(this.sessionId) !== this) return;
    this.#lane.detach(this.sessionId);
    this.#release();
  }
}

export interface DigestWorkersOptions {
  /** Worker threads (default: the machine's cores but one, at least one, at most four). */
  workerCount?: number;
}

/**
 * The digest worker threads of the agent, started on first use and stopped by `close` (at agent
 * shutdown); a later body starts them again.
 */
export class DigestWorkers {
  readonly #lanes: WorkerLanes<DigestRequest, DigestResponse>;
  readonly #freeRings: SharedArrayBuffer[] = [];
  #ringsInUse = 0;
  #nextSessionId = 1;

  constructor(options: DigestWorkersOptions = {}) {
    this.#lanes = new WorkerLanes(
      new URL('./digest-worker.ts', import.meta.url),
      'digest',
      options.workerCount,
    );
  }

  /**
   * The digests of one body of about `expectedSizeBytes` (a declared length): in a worker thread
   * when the body is large enough and a ring is free, else on the calling thread.
   */
  open(algorithms: readonly DigestAlgorithm[], expectedSizeBytes: number): BodyDigests {
    if (
      algorithms.length === 0 ||
      expectedSizeBytes < offloadThresholdBytes ||
      this.#ringsInUse >= maximumRings
    ) {
      return new InPlaceDigests(algorithms);
    }
    const lane = this.#lanes.quietest();
    const ring = this.#freeRings.pop() ?? new SharedArrayBuffer(ringBytes);
    this.#ringsInUse += 1;
    const sessionId = this.#nextSessionId++;
    const session = new OffloadedDigests(sessionId, lane, ring, () => {
      this.#ringsInUse -= 1;
      // Kept for the next bodies up to 64 MiB; the rings of a burst beyond are left to the collector.
      if (this.#freeRings.length < maximumIdleRings) this.#freeRings.push(ring);
    });
    lane.attach(session);
    lane.post({ kind: 'open', sessionId, algorithms: [...algorithms], ring });
    return session;
  }

  /** Stops the worker threads; bodies still being hashed fail. */
  async close(): Promise<void> {
    await this.#lanes.close(new Error('digest workers stopped'));
    this.#freeRings.length = 0;
  }

  /** Worker threads running now (for tests and metrics). */
  get runningWorkers(): number {
    return this.#lanes.running;
  }

  /** Bodies being hashed in a worker now, each holding a ring (for tests and metrics). */
  get ringsInUse(): number {
    return this.#ringsInUse;
  }
}

/** The agent's digest workers (stopped by the agent's shutdown). */
export const digestWorkers = new DigestWorkers();

/** A body passed through a digest session: its bytes, and its digests once it has ended. */
export interface DigestedStream {
  body: AsyncGenerator<Uint8Array>;
  /** The digests, asked for as soon as the body ends; undefined while (or if) it has not ended. */
  digests(): Promise<Uint8Array[]> | undefined;
  /** Bytes that have gone through so far. */
  consumedBytes(): number;
}

/**
 * Feeds each piece of `source` to a session before passing it on. The session is opened when the
 * body is first read, never before: a request that fails before reading its body (a refused
 * precondition, a missing upload) must not hold a ring it would never give back. The digests are
 * asked for as soon as the body ends, so the session closes even when the caller fails before it
 * wants them; a body that stops early (an error, an abandoned read) abandons the session.
 */
export function digestWhileStreaming(
  source: AsyncIterable<Uint8Array>,
  openSession: () => BodyDigests,
): DigestedStream {
  let consumedBytes = 0;
  let digested: Promise<Uint8Array[]> | undefined;
  async function* body(): AsyncGenerator<Uint8Array> {
    const session = openSession();
    let ended = false;
    try {
      for await (const piece of source) {
        await session.update(piece);
        consumedBytes += piece.length;
        yield piece;
      }
      ended = true;
      digested = session.digest();
      digested.catch(() => {});
    } finally {
      if (!ended) session.abandon();
    }
  }
  return { body: body(), digests: () => digested, consumedBytes: () => consumedBytes };
}
