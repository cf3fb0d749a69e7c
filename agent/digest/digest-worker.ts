// The worker thread behind DigestWorkers (digest-workers.ts): it hashes the bodies of the sessions
// its parent opens, reading each from the session's shared ring as the parent announces new bytes,
// and acknowledges what it has hashed so the parent may reuse that part of the ring. Messages of one
// session arrive in order; sessions of several requests interleave.
import { parentPort } from 'node:worker_threads';
import { createDigest, type StreamingDigest } from './algorithms.ts';
import type { DigestRequest, DigestResponse } from './digest-workers.ts';

interface Session {
  ring: Uint8Array;
  digests: StreamingDigest[];
  /** Bytes of the body hashed so far. */
  hashedBytes: number;
}

const sessions = new Map<number, Session>();

function reply(response: DigestResponse): void {
  parentPort!.postMessage(response);
}

/** Hashes the ring from what was hashed up to `endBytes` of the body (the ring wraps around). */
function hashUpTo(session: Session, endBytes: number): void {
  const ringBytes = session.ring.byteLength;
  while (session.hashedBytes < endBytes) {
    const position = session.hashedBytes % ringBytes;
    const length = Math.min(endBytes - session.hashedBytes, ringBytes - position);
    const piece = session.ring.subarray(position, position + length);
    for (const digest of session.digests) digest.update(piece);
    session.hashedBytes += length;
  }
}

function handle(request: DigestRequest): void {
  if (request.kind === 'open') {
    sessions.set(request.sessionId, {
      ring: new Uint8Array(request.ring),
      digests: request.algorithms.map(createDigest),
      hashedBytes: 0,
    });
    return;
  }
  const session = sessions.get(request.sessionId);
  if (session === undefined) return;
  if (request.kind === 'abandon') {
    sessions.delete(request.sessionId);
  } else if (request.kind === 'data') {
    hashUpTo(session, request.endBytes);
    reply({ kind: 'hashed', sessionId: request.sessionId, endBytes: session.hashedBytes });
  } else {
    sessions.delete(request.sessionId);
    reply({ kind: 'digests', sessionId: request.sessionId, digests: session.digests.map((d) => d.digest()) });
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
