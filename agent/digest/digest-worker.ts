// The worker thread behind DigestWorkers (digest-workers.ts): it hashes the bodies of the sessions
// its parent opens, reading each from the session's shared ring as the parent announces new bytes,
// and acknowledges what it has hashed so the parent may reuse that part of the ring. Messages of one
// session arrive in order; sessions of several requests interleave.
//
// A message only records what was announced; the hashing waits until the messages already queued
// have all been read (setImmediate), then takes every session with bytes to hash at once: their MD5s
// go through the multi-stream addon together (native-md5.ts: sixteen bodies per AVX-512 pass), the
// other digests body by body. With other bodies open, a pass also waits until some body has half
// its ring to hash (or has ended): hashing each body's every MiB as it came, the worker kept up and
// found one or two bodies per pass, so the lanes stayed mostly empty (76 ms of worker CPU per
// 64 MiB object at 16 PUTs at once). A body alone is hashed as each MiB is announced, as before.
import { parentPort } from 'node:worker_threads';
import { createDigest, type DigestAlgorithm, type StreamingDigest } from './algorithms.ts';
import type { DigestRequest, DigestResponse } from './digest-workers.ts';
import { type Md5Context, nativeMd5 } from './native-md5.ts';

interface Session {
  id: number;
  ring: Uint8Array;
  algorithms: DigestAlgorithm[];
  /**
   * The digests hashed here one body at a time, in the order of `algorithms` (an algorithm may be
   * asked twice: x-amz-content-sha256 and x-amz-checksum-sha256); undefined at MD5's place when
   * `md5` is set.
   */
  digests: (StreamingDigest | undefined)[];
  /** The body's MD5 through the addon, when asked for and the addon is there. */
  md5?: Md5Context;
  /** Bytes of the body hashed so far. */
  hashedBytes: number;
  /** Bytes of the body the parent has announced. */
  announcedBytes: number;
  /** The parent asked for the digests: they are sent once every announced byte is hashed. */
  finishing: boolean;
}

const sessions = new Map<number, Session>();
let passScheduled = false;

function reply(response: DigestResponse): void {
  parentPort!.postMessage(response);
}

function openSession(sessionId: number, algorithms: DigestAlgorithm[], ring: SharedArrayBuffer): Session {
  const md5 = algorithms.includes('MD5') ? nativeMd5() : null;
  const native = md5?.create();
  return {
    id: sessionId,
    ring: new Uint8Array(ring),
    algorithms,
    digests: algorithms.map((algorithm) =>
      algorithm === 'MD5' && native !== undefined ? undefined : createDigest(algorithm),
    ),
    md5: native,
    hashedBytes: 0,
    announcedBytes: 0,
    finishing: false,
  };
}

/** The unhashed announced bytes of a session: one or two views of its ring (it wraps around). */
function unhashedPieces(session: Session): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  const ringBytes = session.ring.byteLength;
  let from = session.hashedBytes;
  while (from < session.announcedBytes) {
    const position = from % ringBytes;
    const length = Math.min(session.announcedBytes - from, ringBytes - position);
    pieces.push(session.ring.subarray(position, position + length));
    from += length;
  }
  return pieces;
}

/** Hashes every announced byte of `due`: the MD5s together, piece by piece, the rest body by body. */
function hashAnnounced(due: Session[]): void {
  const piecesOf = due.map(unhashedPieces);
  const md5 = nativeMd5();
  for (let round = 0; md5 !== null && round < 2; round += 1) {
    const together = due.flatMap((session, index) =>
      session.md5 !== undefined && piecesOf[index][round] !== undefined
        ? [{ context: session.md5, piece: piecesOf[index][round] }]
        : [],
    );
    md5.update(
      together.map((entry) => entry.context),
      together.map((entry) => entry.piece),
    );
  }
  for (const [index, session] of due.entries()) {
    for (const piece of piecesOf[index]) for (const digest of session.digests) digest?.update(piece);
    session.hashedBytes = session.announcedBytes;
  }
}

/**
 * Whether a pass should hash now: a body alone, or a body with half its ring waiting (its sender
 * may soon have to wait for room), or a body that has ended. Otherwise more bodies' bytes are let
 * in first, so that more lanes are full.
 */
function worthAPass(due: Session[]): boolean {
  return (
    sessions.size <= 1 ||
    due.some(
      (session) =>
        session.finishing || session.announcedBytes - session.hashedBytes >= session.ring.byteLength / 2,
    )
  );
}

/** One pass over the sessions with work: hash, acknowledge, and answer those that finished. */
function pass(): void {
  passScheduled = false;
  const due = [...sessions.values()].filter(
    (session) => session.hashedBytes < session.announcedBytes || session.finishing,
  );
  if (!worthAPass(due)) return;
  try {
    hashAnnounced(due);
  } catch (error) {
    for (const session of due) fail(session, error);
    return;
  }
  for (const session of due) {
    if (!session.finishing) {
      reply({ kind: 'hashed', sessionId: session.id, endBytes: session.hashedBytes });
      continue;
    }
    sessions.delete(session.id);
    try {
      // Ended once, even if MD5 was asked twice.
      const md5Digest = session.md5 === undefined ? undefined : nativeMd5()!.digest(session.md5);
      const digests = session.digests.map((digest) => digest?.digest() ?? md5Digest!);
      reply({ kind: 'digests', sessionId: session.id, digests });
    } catch (error) {
      fail(session, error);
    }
  }
}

function fail(session: Session, error: unknown): void {
  sessions.delete(session.id);
  reply({ kind: 'failed', sessionId: session.id, message: String((error as Error)?.message ?? error) });
}

function schedulePass(): void {
  if (passScheduled) return;
  passScheduled = true;
  setImmediate(pass);
}

function handle(request: DigestRequest): void {
  if (request.kind === 'open') {
    sessions.set(request.sessionId, openSession(request.sessionId, request.algorithms, request.ring));
    return;
  }
  const session = sessions.get(request.sessionId);
  if (session === undefined) return;
  if (request.kind === 'abandon') {
    sessions.delete(request.sessionId);
    // The bodies left may now be alone, or due.
    schedulePass();
  } else if (request.kind === 'data') {
    session.announcedBytes = Math.max(session.announcedBytes, request.endBytes);
    schedulePass();
  } else {
    session.finishing = true;
    schedulePass();
  }
}

parentPort!.on('message', (request: DigestRequest) => {
  try {
    handle(request);
  } catch (error) {
    sessions.delete(request.sessionId);
    reply({
      kind: 'failed',
      sessionId: request.sessionId,
      message: String((error as Error)?.message ?? error),
    });
  }
});
