// The worker thread behind ChunkWorkers (chunk-workers.ts): it opens the sealed chunks its parent
// puts in a read's shared ring, one slot at a time, writes each plaintext back into its slot and
// answers; a chunk that fails authentication is answered TAMPERED and none of it is written (with
// the native addon, native-gcm.ts, each chunk is opened over itself in its slot, and a tampered
// one is zeroed there). Chunks
// come several to a message and are answered in one. Messages of one read arrive in order; reads of
// several requests interleave.
import { parentPort } from 'node:worker_threads';
import type { ChunkRequest, ChunkResponse, ChunkResult, SessionSetup } from './chunk-workers.ts';
import { type ChunkParameters, openChunk, openChunkInPlace } from './chunked-aead.ts';
import { isCryptoError } from './errors.ts';
import { type NativeOpener, nativeGcm } from './native-gcm.ts';

interface Session {
  ring: Buffer;
  slotBytes: number;
  parameters: ChunkParameters;
  /** The native addon's opener for this read's key: chunks opened over themselves in the ring. */
  opener: NativeOpener | null;
}

const sessions = new Map<number, Session>();

function reply(response: ChunkResponse): void {
  parentPort!.postMessage(response);
}

function openSlot(
  session: Session,
  slot: number,
  sealedBytes: number,
  chunkIndex: number,
  isFinal: boolean,
): number {
  const start = slot * session.slotBytes;
  if (session.opener !== null) {
    const sealed = session.ring.subarray(start, start + sealedBytes);
    return openChunkInPlace(session.opener, session.parameters, sealed, chunkIndex, isFinal);
  }
  const plaintext = openChunk(
    session.parameters,
    session.ring.subarray(start, start + sealedBytes),
    chunkIndex,
    isFinal,
  );
  // Buffer#fill: one memcpy into the shared ring (an empty value would zero-fill instead).
  if (plaintext.length > 0) session.ring.fill(plaintext, start, start + plaintext.length);
  return plaintext.length;
}

/** The native addon's opener for `dataKey`; null (Node's cipher) without the addon or if it fails. */
function nativeOpener(dataKey: Uint8Array): NativeOpener | null {
  try {
    return nativeGcm()?.createOpener(dataKey) ?? null;
  } catch {
    // A malformed key fails each chunk through openChunk, as before, not this whole worker.
    return null;
  }
}

function openSession(sessionId: number, setup: SessionSetup): void {
  sessions.set(sessionId, {
    ring: Buffer.from(setup.ring),
    slotBytes: setup.slotBytes,
    parameters: {
      dataKey: setup.dataKey,
      noncePrefix: setup.noncePrefix,
      chunkSizeBytes: setup.chunkSizeBytes,
    },
    opener: nativeOpener(setup.dataKey),
  });
}

function closeSession(sessionId: number): void {
  sessions.get(sessionId)?.opener?.release();
  sessions.delete(sessionId);
}

parentPort!.on('message', (request: ChunkRequest) => {
  if (request.kind === 'close') {
    closeSession(request.sessionId);
    return;
  }
  const { sessionId } = request;
  // A read's first batch opens its session, its last closes it (after its chunks are answered).
  if (request.open !== undefined) openSession(sessionId, request.open);
  const session = sessions.get(sessionId);
  const results: ChunkResult[] = request.tasks.map((task) => {
    try {
      if (session === undefined) throw new Error(`no read ${sessionId}`);
      const { slot, sealedBytes, chunkIndex, isFinal } = task;
      return { slot, plaintextBytes: openSlot(session, slot, sealedBytes, chunkIndex, isFinal) };
    } catch (error) {
      return {
        slot: task.slot,
        code: isCryptoError(error) ? error.code : null,
        message: String((error as Error)?.message ?? error),
      };
    }
  });
  if (request.close) closeSession(sessionId);
  reply({ kind: 'opened', sessionId, results });
});
