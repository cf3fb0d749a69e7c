// Decryption of large reads off the event loop. Opening a 64 MiB object on the event loop cost it
// ~33 ms of AES-GCM and, worse, ~64 MiB of fresh plaintext buffers from node:crypto, which made
// V8 mark the agent's whole heap again and again: ~50 ms of collector threads per object
// (BENCHMARKS.md, run 9). A read of at least `offloadMinimumChunks` chunks is decrypted instead by
// a worker thread, whose heap is tiny, through a ring of shared memory per read:
//
//   - the event loop copies each sealed chunk into a free slot of the ring (one memcpy) and asks
//     the worker to open it, four chunks per message (each message wakes a thread);
//   - the worker authenticates and decrypts it, writes the plaintext back into the same slot and
//     answers;
//   - the read yields a view of the slot: the piece is LENT, and its slot is reused only once the
//     consumer gave it back with `releasePiece` (the HTTP response does so when the socket has
//     taken the bytes).
//
// Slots bound the memory of a read and are its queue: the event loop fills slots while the worker
// opens others and the socket sends others. Only a consumer that gives every piece back may ask
// for lent pieces (GetObject's response does); a read with no ring free, or of fewer chunks, is
// decrypted in place with fresh buffers (decryptChunks). A chunk that fails authentication fails
// the read at that chunk, as in place: no byte of it is ever yielded.
import { type WorkerLane, WorkerLanes } from '../digest/worker-lanes.ts';
import {
  type ChunkParameters,
  type CiphertextRangePlan,
  decryptChunks,
  gcmTagBytes,
} from './chunked-aead.ts';
import { CryptoError, type CryptoErrorCode } from './errors.ts';

/** Reads of fewer chunks are decrypted in place: a round trip costs more than opening one chunk. */
export const offloadMinimumChunks = 2;
/** Slots of one read's ring: chunks being filled, opened and sent at once. */
export const slotsPerRead = 12;
/**
 * Chunks per message to the worker (1 MiB of 256 KiB chunks): every message wakes a thread, which
 * costs the sender dearly on a virtual machine (postMessage was ~10 % of the event loop of 1 MiB
 * GETs at 16 in flight with one message per chunk).
 */
export const chunksPerMessage = 4;
/**
 * Reads offloaded at once, all together. A ring has a slot per chunk of its read, up to
 * slotsPerRead (a 1 MiB read: 4 slots), so 64 large reads hold 192 MiB at most.
 */
const maximumRings = 64;
/** Memory of the rings kept for later reads, all together (the rest is left to the collector). */
const idleRingBytes = 64 * 1024 * 1024;

/** What the worker needs to open a read's chunks: its ring and its key. */
export interface SessionSetup {
  ring: SharedArrayBuffer;
  slotBytes: number;
  dataKey: Uint8Array;
  noncePrefix: Uint8Array;
  chunkSizeBytes: number;
}

export type ChunkRequest =
  /**
   * Open (decrypt) each task's chunk in its slot, in place, in order. The read's first batch
   * carries its session (`open`), the batch with its last chunk `close` (the worker forgets the
   * session once it answered): a 1 MiB read is one message (it was three: open, chunks, close).
   * A read that ends otherwise (abandoned, failed) sends 'close' once it had sent a batch.
   */
  | {
      kind: 'open-chunks';
      sessionId: number;
      tasks: ChunkTask[];
      open?: SessionSetup;
      close?: boolean;
    }
  | { kind: 'close'; sessionId: number };

export interface ChunkTask {
  slot: number;
  /** The sealed bytes in the slot (ciphertext and tag). */
  sealedBytes: number;
  chunkIndex: number;
  isFinal: boolean;
}

/** A task's outcome: the slot now holds `plaintextBytes`, or the chunk failed. */
export type ChunkResult =
  | { slot: number; plaintextBytes: number }
  | { slot: number; code: CryptoErrorCode | null; message: string };

export type ChunkResponse = { kind: 'opened'; sessionId: number; results: ChunkResult[] };

/** Lent pieces and how each goes back to its read. */
const lent = new WeakMap<Uint8Array, () => void>();

/**
 * Gives back a piece that a lending read yielded, once nothing will touch its bytes again; its
 * slot may be overwritten from then on. Any other piece is ignored, so a consumer may call it on
 * every piece it was given.
 */
export function releasePiece(piece: Uint8Array): void {
  const release = lent.get(piece);
  if (release === undefined) return;
  lent.delete(piece);
  release();
}

interface Waiter<T> {
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

/** A decryption worker thread and the reads it is decrypting. */
type ChunkLane = WorkerLane<ChunkRequest, ChunkResponse>;

interface ReadHooks {
  /** The read is over: it no longer counts against the rings in use. */
  finished: () => void;
  /** Nothing touches the ring any more: it may serve another read. */
  quiet: () => void;
}

/** The slots of one read and their state: free, being filled, being opened, or lent. */
class OffloadedRead {
  readonly sessionId: number;
  readonly slotBytes: number;
  /** A Buffer over the ring, filled by Buffer#fill (a plain memcpy; see digest-workers.ts). */
  readonly ring: Buffer;
  readonly free: number[] = [];
  readonly #lane: ChunkLane;
  readonly #opening = new Map<number, Waiter<number>>();
  /** Chunks submitted and not sent yet (see chunksPerMessage). */
  readonly #batch: ChunkTask[] = [];
  readonly #hooks: ReadHooks;
  /** The session's setup, sent with the first batch (then null). */
  #setup: SessionSetup | null;
  /** The batch with the read's last chunk was sent, closing the session in the worker. */
  #closed = false;
  #lentSlots = 0;
  #finished = false;
  #failure: unknown;
  #releaseWaiter: Waiter<void> | undefined;

  constructor(
    sessionId: number,
    lane: ChunkLane,
    ring: SharedArrayBuffer,
    slotBytes: number,
    hooks: ReadHooks,
    setup: SessionSetup,
  ) {
    this.sessionId = sessionId;
    this.#setup = setup;
    this.#lane = lane;
    this.ring = Buffer.from(ring);
    this.slotBytes = slotBytes;
    this.#hooks = hooks;
    for (let slot = ring.byteLength / slotBytes - 1; slot >= 0; slot -= 1) this.free.push(slot);
  }

  /**
   * Asks the worker to open the sealed chunk in `task.slot`, with the next message (a full batch
   * goes at once; flush() sends a partial one); resolves with its plaintext length.
   */
  open(task: ChunkTask, last: boolean): Promise<number> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    const opened = new Promise<number>((resolve, reject) => {
      this.#opening.set(task.slot, { resolve, reject });
    });
    this.#batch.push(task);
    // The read's last chunk goes at once, and closes the session.
    if (last) this.flush(true);
    else if (this.#batch.length >= chunksPerMessage) this.flush();
    return opened;
  }

  /** Sends the chunks not sent yet: called before the read waits on any of them. */
  flush(close = false): void {
    if (this.#batch.length === 0 || this.#failure !== undefined) return;
    this.#lane.post({
      kind: 'open-chunks',
      sessionId: this.sessionId,
      tasks: this.#batch.splice(0),
      ...(this.#setup === null ? {} : { open: this.#setup }),
      ...(close ? { close: true } : {}),
    });
    this.#setup = null;
    this.#closed ||= close;
  }

  receive(response: ChunkResponse): void {
    for (const result of response.results) {
      const waiter = this.#opening.get(result.slot);
      this.#opening.delete(result.slot);
      if ('plaintextBytes' in result) {
        waiter?.resolve(result.plaintextBytes);
      } else {
        waiter?.reject(
          result.code === null
            ? new Error(`decryption worker: ${result.message}`)
            : new CryptoError(result.code, result.message),
        );
      }
    }
    this.#quietCheck();
  }

  /** A view of `slot`'s plaintext lent to the consumer, until it is given back. */
  lend(slot: number, offsetBytes: number, lengthBytes: number): Uint8Array {
    const start = slot * this.slotBytes + offsetBytes;
    const view = this.ring.subarray(start, start + lengthBytes);
    this.#lentSlots += 1;
    lent.set(view, () => this.release(slot));
    return view;
  }

  /** `slot` may be written again. */
  release(slot: number, wasLent = true): void {
    if (wasLent) this.#lentSlots -= 1;
    this.free.push(slot);
    const waiter = this.#releaseWaiter;
    this.#releaseWaiter = undefined;
    waiter?.resolve();
    this.#quietCheck();
  }

  /** Resolves when the consumer gives a slot back (every slot is lent). */
  released(): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => {
      this.#releaseWaiter = { resolve, reject };
    });
  }

  /** The read is over (ended, failed or abandoned): the worker forgets the key. */
  finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#hooks.finished();
    // Chunks never sent are dropped: nobody waits for them any more.
    for (const task of this.#batch.splice(0)) {
      this.#opening.get(task.slot)?.reject(new Error('the read was abandoned'));
      this.#opening.delete(task.slot);
    }
    // A session the worker never heard of (no batch sent), or closed by its last batch, needs no word.
    if (this.#failure === undefined && this.#setup === null && !this.#closed)
      this.#lane.post({ kind: 'close', sessionId: this.sessionId });
    this.#quietCheck();
  }

  /** The worker failed or went away: every wait of this read rejects, now and later. */
  fail(error: unknown): void {
    this.#failure ??= error;
    this.#lane.detach(this.sessionId);
    for (const waiter of this.#opening.values()) waiter.reject(this.#failure);
    this.#opening.clear();
    const waiter = this.#releaseWaiter;
    this.#releaseWaiter = undefined;
    waiter?.reject(this.#failure);
  }

  /**
   * Once the read is over, the worker has answered every chunk and every lent piece is back, no
   * one touches the ring any more: it may serve another read. (A ring whose worker failed is
   * never reused; a piece never given back keeps its ring from the pool, and the collector frees
   * the ring with the last view of it.)
   */
  #quietCheck(): void {
    if (!this.#finished || this.#opening.size > 0 || this.#lentSlots > 0) return;
    if (this.#lane.sessions.get(this.sessionId) !== this) return;
    this.#lane.detach(this.sessionId);
    if (this.#failure === undefined) this.#hooks.quiet();
  }
}

interface InFlightChunk {
  slot: number;
  opened: Promise<number>;
  settled: boolean;
}

export interface ChunkWorkersOptions {
  /** Worker threads (default: the machine's cores but one, at least one, at most four). */
  workerCount?: number;
}

/**
 * The decryption worker threads of the agent, started on first use and stopped by `close` (at
 * agent shutdown); a later read starts them again.
 */
export class ChunkWorkers {
  readonly #lanes: WorkerLanes<ChunkRequest, ChunkResponse>;
  readonly #freeRings = new Map<number, SharedArrayBuffer[]>();
  #ringsInUse = 0;
  #idleBytes = 0;
  #nextSessionId = 1;

  constructor(options: ChunkWorkersOptions = {}) {
    this.#lanes = new WorkerLanes(
      new URL('./chunk-worker.ts', import.meta.url),
      'decryption',
      options.workerCount,
    );
  }

  /**
   * The plaintext of `plan`'s range from exactly `plan.ciphertext` stored bytes, as decryptChunks
   * gives it, but in pieces LENT to the caller: each must be given back with `releasePiece`. The
   * ring is taken when the read starts, so a read never started holds none.
   */
  async *decryptLent(
    ciphertext: AsyncIterable<Uint8Array>,
    parameters: ChunkParameters,
    plan: CiphertextRangePlan,
  ): AsyncGenerator<Uint8Array> {
    const read = plan.chunkCount >= offloadMinimumChunks ? this.#start(parameters, plan.chunkCount) : null;
    if (read === null) {
      yield* decryptChunks(ciphertext, parameters, plan);
      return;
    }
    try {
      yield* openThrough(read, ciphertext, parameters, plan);
    } finally {
      read.finish();
    }
  }

  /** Stops the worker threads; reads still being decrypted fail. */
  async close(): Promise<void> {
    await this.#lanes.close(new Error('decryption workers stopped'));
    this.#freeRings.clear();
    this.#idleBytes = 0;
  }

  /** Worker threads running now (for tests and metrics). */
  get runningWorkers(): number {
    return this.#lanes.running;
  }

  /**
   * Reads still attached to a worker: in progress, or over with chunks in the worker or pieces not
   * given back yet (for tests).
   */
  get attachedReads(): number {
    return this.#lanes.sessions;
  }

  /** Reads being decrypted by a worker now, each holding a ring (for tests and metrics). */
  get ringsInUse(): number {
    return this.#ringsInUse;
  }

  /** Rings kept for later reads (for tests). */
  get idleRings(): number {
    let count = 0;
    for (const rings of this.#freeRings.values()) count += rings.length;
    return count;
  }

  #start(parameters: ChunkParameters, chunkCount: number): OffloadedRead | null {
    if (this.#ringsInUse >= maximumRings) return null;
    const slotBytes = parameters.chunkSizeBytes + gcmTagBytes;
    const ringBytes = slotBytes * Math.min(slotsPerRead, chunkCount);
    const pooled = this.#freeRings.get(ringBytes)?.pop();
    if (pooled !== undefined) this.#idleBytes -= ringBytes;
    const ring = pooled ?? new SharedArrayBuffer(ringBytes);
    const lane = this.#lanes.quietest();
    this.#ringsInUse += 1;
    const sessionId = this.#nextSessionId++;
    const setup: SessionSetup = {
      ring,
      slotBytes,
      dataKey: parameters.dataKey,
      noncePrefix: parameters.noncePrefix,
      chunkSizeBytes: parameters.chunkSizeBytes,
    };
    const read = new OffloadedRead(
      sessionId,
      lane,
      ring,
      slotBytes,
      {
        finished: () => {
          this.#ringsInUse -= 1;
        },
        quiet: () => {
          // Idle rings, all sizes together, hold at most idleRingBytes; the others are collected.
          if (this.#idleBytes + ringBytes > idleRingBytes) return;
          this.#idleBytes += ringBytes;
          const rings = this.#freeRings.get(ringBytes) ?? [];
          rings.push(ring);
          this.#freeRings.set(ringBytes, rings);
        },
      },
      setup,
    );
    lane.attach(read);
    return read;
  }
}

/**
 * The read itself: sealed chunks are copied into free slots and sent to the worker as they
 * complete; opened chunks are yielded in order. When no slot is free, the oldest chunk sent is
 * waited for and yielded (its slot comes back once the consumer gives the piece back), or, with
 * every slot lent, the consumer's next release is waited for.
 */
async function* openThrough(
  read: OffloadedRead,
  ciphertext: AsyncIterable<Uint8Array>,
  parameters: ChunkParameters,
  plan: CiphertextRangePlan,
): AsyncGenerator<Uint8Array> {
  const { chunkSizeBytes } = parameters;
  const endChunkIndex = plan.firstChunkIndex + plan.chunkCount;
  const sealedSizeOf = (index: number): number =>
    Math.min(chunkSizeBytes, plan.plaintextSizeBytes - index * chunkSizeBytes) + gcmTagBytes;
  let chunkIndex = plan.firstChunkIndex;
  let expectedBytes = sealedSizeOf(chunkIndex);
  let filledBytes = 0;
  let slot = -1;
  let skipBytes = plan.skipBytes;
  let remainingBytes = plan.lengthBytes;
  const inFlight: InFlightChunk[] = [];

  /** The oldest chunk's plaintext (what the plan keeps of it), lent; null when it keeps nothing. */
  const take = async (chunk: InFlightChunk): Promise<Uint8Array | null> => {
    read.flush();
    const plaintextBytes = await chunk.opened;
    const lengthBytes = Math.min(remainingBytes, plaintextBytes - skipBytes);
    if (lengthBytes <= 0) {
      read.release(chunk.slot, false);
      return null;
    }
    const view = read.lend(chunk.slot, skipBytes, lengthBytes);
    skipBytes = 0;
    remainingBytes -= lengthBytes;
    return view;
  };

  for await (const piece of ciphertext) {
    let offsetBytes = 0;
    while (offsetBytes < piece.length) {
      if (chunkIndex === endChunkIndex) {
        throw new CryptoError('TRUNCATED', 'encrypted object is longer than its chunks');
      }
      while (slot === -1) {
        const free = read.free.pop();
        if (free !== undefined) {
          slot = free;
        } else {
          const oldest = inFlight.shift();
          read.flush();
          if (oldest === undefined) await read.released();
          else {
            const view = await take(oldest);
            if (view !== null) yield view;
          }
        }
      }
      const takeBytes = Math.min(expectedBytes - filledBytes, piece.length - offsetBytes);
      const start = slot * read.slotBytes + filledBytes;
      // takeBytes > 0: Buffer#fill with an empty value would zero-fill instead.
      read.ring.fill(piece.subarray(offsetBytes, offsetBytes + takeBytes), start, start + takeBytes);
      filledBytes += takeBytes;
      offsetBytes += takeBytes;
      if (filledBytes < expectedBytes) continue;
      const chunk: InFlightChunk = {
        slot,
        opened: read.open(
          {
            slot,
            sealedBytes: expectedBytes,
            chunkIndex,
            isFinal: chunkIndex === plan.totalChunkCount - 1,
          },
          chunkIndex === endChunkIndex - 1,
        ),
        settled: false,
      };
      const settle = () => {
        chunk.settled = true;
      };
      chunk.opened.then(settle, settle);
      inFlight.push(chunk);
      chunkIndex += 1;
      filledBytes = 0;
      slot = -1;
      if (chunkIndex < endChunkIndex) expectedBytes = sealedSizeOf(chunkIndex);
    }
    // Chunks already opened go on at once, while the next pieces are read.
    while (inFlight.length > 0 && inFlight[0].settled) {
      const view = await take(inFlight.shift() as InFlightChunk);
      if (view !== null) yield view;
    }
  }
  if (chunkIndex !== endChunkIndex) {
    throw new CryptoError('TRUNCATED', `encrypted object ends inside chunk ${chunkIndex}`);
  }
  for (let chunk = inFlight.shift(); chunk !== undefined; chunk = inFlight.shift()) {
    const view = await take(chunk);
    if (view !== null) yield view;
  }
}

/** The agent's decryption workers (stopped by the agent's shutdown). */
export const chunkWorkers = new ChunkWorkers();
