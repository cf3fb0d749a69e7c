// What every part of the object layer shares: the store below, the index beside it, the clocks
// and the per-name locks. Built once by openObjectLayer.
import assert from 'node:assert/strict';
import type { HybridLogicalClock } from './hybrid-logical-clock.ts';
import type { KeyedMutex, KeyedSharedLock } from './keyed-mutex.ts';
import type { ObjectIndex } from './object-index.ts';
import type { BucketRecord } from './records.ts';
import type {
  ErasureSetContract,
  StoredVersion,
  VersionAddress,
  WriteSummary,
  WriteVersionOptions,
} from './store.ts';

/** A new object version about to be committed (delete markers included), under its key lock. */
export interface VersionAdmission {
  bucket: Readonly<BucketRecord>;
  key: string;
  sizeBytes: number;
  isDeleteMarker: boolean;
  /** Set when the version completes this multipart upload (its parts are already counted). */
  multipartUploadId: string | null;
}

/** A multipart part about to be committed, under its upload lock. */
export interface PartAdmission {
  bucket: string;
  uploadId: string;
  partNumber: number;
  sizeBytes: number;
}

/**
 * The last check before the store commits a version or a part (quotas, key roles): throwing
 * refuses it and nothing is stored. The function returned is called once the index shows the
 * commit, or the commit failed.
 */
export interface CommitAdmission {
  admitVersion(request: VersionAdmission): () => void;
  admitPart(request: PartAdmission): () => void;
}

export interface LayerContext {
  store: ErasureSetContract;
  index: ObjectIndex;
  hybridClock: HybridLogicalClock;
  /** Wall clock in milliseconds since the epoch (injectable for tests). */
  clock: () => number;
  locks: KeyedMutex;
  gates: KeyedSharedLock;
  /** Quotas and key-role checks at commit time; absent in layers opened without them. */
  admission?: CommitAdmission;
}

const wholeLayerGate = 'layer';

/**
 * Enters a section that changes the index: shared on the whole layer (an index rebuild takes it
 * exclusive and so never interleaves with a commit) and, with a bucket, on that bucket (shared for
 * object commits, exclusive to create, configure or delete the bucket itself). Acquire it before
 * any per-key or per-upload lock, and only once per operation: the gates are not reentrant.
 */
export async function enterMutation(
  context: LayerContext,
  bucket: string | null,
  bucketMode: 'shared' | 'exclusive' = 'shared',
): Promise<() => void> {
  const releaseLayer = await context.gates.acquire(wholeLayerGate, 'shared');
  if (bucket === null) return releaseLayer;
  const releaseBucket = await context.gates.acquire(`bucket\u0000${bucket}`, bucketMode);
  return () => {
    releaseBucket();
    releaseLayer();
  };
}

/** Holds every mutation off (an index rebuild). */
export function enterExclusive(context: LayerContext): Promise<() => void> {
  return context.gates.acquire(wholeLayerGate, 'exclusive');
}

export async function withMutation<T>(
  context: LayerContext,
  bucket: string | null,
  bucketMode: 'shared' | 'exclusive',
  work: () => Promise<T>,
): Promise<T> {
  const release = await enterMutation(context, bucket, bucketMode);
  try {
    return await work();
  } finally {
    release();
  }
}

export const lockNames = {
  key: (bucket: string, key: string) => `key\u0000${bucket}\u0000${key}`,
  upload: (uploadId: string) => `upload\u0000${uploadId}`,
};

export async function* emptyBody(): AsyncIterable<Uint8Array> {}

export async function* bodyOf(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}

/**
 * Writes a store version and indexes it, crash-safely: a 'write' intent is fsynced in the index
 * first, so if the process dies after the store commits and before the index follows, the next
 * open finds the intent and indexes the version from the store. If finalize throws, nothing was
 * committed (the store's contract) and the intent is dropped at once.
 */
export async function writeIndexed(
  context: LayerContext,
  address: VersionAddress,
  body: AsyncIterable<Uint8Array>,
  options: {
    finalize: (summary: WriteSummary) => Promise<Record<string, unknown>>;
    signal?: AbortSignal;
    /** Runs inside the index transaction that clears the intent. */
    indexCommitted: (stored: StoredVersion) => void;
    /** Commit that transaction durably: needed when indexCommitted records intents (schedules deletions). */
    durableCommit?: boolean;
    /** Whose key encrypts the version (encryption at rest); default: its bucket owner's. */
    keySource?: WriteVersionOptions['keySource'];
    /** The address's version id is new (from the hybrid clock): see WriteVersionOptions.newAddress. */
    newAddress?: boolean;
    /** The body's exact length when declared: see WriteVersionOptions.declaredSizeBytes. */
    declaredSizeBytes?: number;
  },
): Promise<StoredVersion> {
  // The intent must be durable before the store commits, not before the body starts: the store
  // calls finalize after the whole body is stored and before its commit, so waiting for the
  // intent there lets its log sync (a serial fdatasync at the start of every PUT) overlap the body.
  const intent = context.index.recordIntent('write', address);
  // Awaited in finalize, or below when the write fails first: never an unhandled rejection.
  intent.catch(() => {});
  let intentId: number | undefined;
  let finalizeFailed = false;
  let stored: StoredVersion;
  try {
    stored = await context.store.writeVersion(address, body, {
      signal: options.signal,
      keySource: options.keySource,
      newAddress: options.newAddress,
      sizeHintBytes: options.declaredSizeBytes,
      declaredSizeBytes: options.declaredSizeBytes,
      finalize: async (summary) => {
        intentId = await intent;
        try {
          return await options.finalize(summary);
        } catch (error) {
          finalizeFailed = true;
          throw error;
        }
      },
    });
  } catch (error) {
    // On any other failure the store may or may not have committed: the intent stays, and the
    // next open reconciles this address with the store.
    if (finalizeFailed || options.signal?.aborted) {
      void intent.then(
        (id) => context.index.clearIntent(id),
        () => {},
      );
    }
    throw error;
  }
  assert.ok(intentId !== undefined, 'the store committed without calling finalize');
  const committedIntentId = intentId;
  const indexCommitted = () => {
    options.indexCommitted(stored);
    context.index.clearIntent(committedIntentId);
  };
  // The index follows the store in the next group transaction, shared with the other writes of
  // the moment; one that records intents (deletions to schedule) must be durable at once.
  if (options.durableCommit === true) context.index.transaction(indexCommitted, { durable: true });
  else await context.index.updateLater(indexCommitted);
  return stored;
}

/**
 * Changes a store version's metadata (no data rewrite) and the index after it, covered by a
 * 'write' intent like writeIndexed: after a crash in between, the next open re-reads the version.
 */
export async function updateIndexed(
  context: LayerContext,
  address: VersionAddress,
  update: (old: Record<string, unknown>) => Record<string, unknown>,
  indexUpdated: (stored: StoredVersion) => void,
): Promise<StoredVersion> {
  const intentId = await context.index.recordIntent('write', address);
  const stored = await context.store.updateMetadata(address, update);
  await context.index.updateLater(() => {
    indexUpdated(stored);
    context.index.clearIntent(intentId);
  });
  return stored;
}

export interface ScheduledDelete {
  intentId: number;
  address: VersionAddress;
}

/**
 * Records 'delete' intents for store versions the index stops showing; call inside the index
 * transaction that unindexes them, so readers never see a half-deleted state, then call
 * performDeletes. An interrupted deletion is redone at the next open.
 */
export function scheduleDeletes(context: LayerContext, addresses: VersionAddress[]): ScheduledDelete[] {
  return addresses.map((address) => ({ intentId: context.index.addIntent('delete', address), address }));
}

export async function performDeletes(context: LayerContext, scheduled: ScheduledDelete[]): Promise<void> {
  for (const { intentId, address } of scheduled) {
    await deleteIfPresent(context, address);
    context.index.clearIntent(intentId);
  }
}

/** Deletes a store version; one already gone is fine (deletions are redone after a crash). */
export async function deleteIfPresent(context: LayerContext, address: VersionAddress): Promise<void> {
  try {
    await context.store.deleteVersion(address);
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'NOT_FOUND') throw error;
  }
}

/** Unindexes (in one transaction with the intents) and then deletes store versions. */
export async function deleteIndexed(
  context: LayerContext,
  addresses: VersionAddress[],
  unindex: () => void,
): Promise<void> {
  const scheduled = context.index.transaction(
    () => {
      unindex();
      return scheduleDeletes(context, addresses);
    },
    { durable: true },
  );
  await performDeletes(context, scheduled);
}
