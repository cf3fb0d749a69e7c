// The object layer: S3 semantics (buckets, versions, listings, multipart) between the protocol
// layer above and one shard store below. openObjectLayer wires the parts together, makes the
// listing index trustworthy (rebuilt from the store if missing or corrupt, crash intents
// replayed), and hands back one object per concern.
import { randomBytes } from 'node:crypto';
import type { ObjectEncryption } from '../crypto/object-encryption.ts';
import { Buckets } from './buckets.ts';
import { enterExclusive, type LayerContext } from './context.ts';
import { Copies } from './copies.ts';
import { EncryptedStore } from './encrypted-store.ts';
import { createHybridLogicalClock } from './hybrid-logical-clock.ts';
import { openIndexDatabase, setClosedCleanly } from './index-database.ts';
import { KeyedMutex, KeyedSharedLock } from './keyed-mutex.ts';
import { Listing } from './listing.ts';
import { Multipart } from './multipart.ts';
import { ObjectIndex } from './object-index.ts';
import { ObjectLockState } from './object-lock-state.ts';
import { ObjectTagging } from './object-tagging.ts';
import { Objects } from './objects.ts';
import { QuotaAdmission } from './quota-admission.ts';
import { type QuotaSource, Quotas } from './quotas.ts';
import { systemBucket } from './records.ts';
import { type RebuildReport, rebuildIndex, replayIntents } from './recovery.ts';
import type { ErasureSetContract } from './store.ts';
import { UsageLedger } from './usage-ledger.ts';

export interface OpenObjectLayerOptions {
  store: ErasureSetContract;
  /** Path of the SQLite listing index (a cache; created or rebuilt as needed). */
  indexPath: string;
  /** Wall clock in milliseconds (default Date.now). */
  clock?: () => number;
  /** This host's id in version ids: 8 hex digits (default random). */
  nodeId?: string;
  /** Hard quotas enforced at every commit (default: none, kept in memory). */
  quotas?: QuotaSource;
  /**
   * Encryption at rest: when given, every store version is encrypted before it reaches the store
   * (EncryptedStore), with data keys wrapped by the owning tenant's key (the system's own for the
   * layer's records). The agent always passes it; unit tests of other concerns may leave it out.
   */
  encryption?: ObjectEncryption;
}

/** The key owner of the layer's own records (bucket configurations, uploads, manifests). */
export const systemKeyOwner = systemBucket;

export interface ObjectLayer {
  buckets: Buckets;
  objects: Objects;
  copies: Copies;
  tagging: ObjectTagging;
  /** Retention and legal hold of existing versions (PutObjectRetention, PutObjectLegalHold). */
  lockState: ObjectLockState;
  listing: Listing;
  multipart: Multipart;
  /** Stored bytes and counts per tenant and bucket, exact at every commit, and the daily peaks. */
  usage: UsageLedger;
  /** The quota checks (precheck before a body streams, remaining bytes). */
  admission: QuotaAdmission;
  /** Why the index was rebuilt at open, or null when it was reused. */
  readonly openRebuildReason: string | null;
  /** Rebuilds the listing index from the store; commits wait until it is done. */
  rebuildIndex(): Promise<RebuildReport>;
  /** Closes the index (not the store, which the caller owns); closing twice is harmless. */
  close(): void;
}

export async function openObjectLayer(options: OpenObjectLayerOptions): Promise<ObjectLayer> {
  const clock = options.clock ?? Date.now;
  const opened = openIndexDatabase(options.indexPath);
  let buckets: Buckets | null = null;
  const store =
    options.encryption === undefined
      ? options.store
      : new EncryptedStore(options.store, {
          encryption: options.encryption,
          keySourceOf: (address) => ({
            tenantId:
              address.bucket === systemBucket || buckets === null
                ? systemKeyOwner
                : buckets.peek(address.bucket).ownerTenantId,
          }),
        });
  const context: LayerContext = {
    store,
    index: new ObjectIndex(opened.database),
    hybridClock: createHybridLogicalClock({
      clock,
      nodeId: options.nodeId ?? randomBytes(4).toString('hex'),
    }),
    clock,
    locks: new KeyedMutex(),
    gates: new KeyedSharedLock(),
  };
  // The ledger's triggers must be in place before a rebuild or a replay, so those count too.
  const usage = UsageLedger.install(context.index, clock);
  if (opened.carriedDailyPeaks.length > 0) usage.mergeDailyPeaks(opened.carriedDailyPeaks);
  const admission = new QuotaAdmission({
    ledger: usage,
    quotas: options.quotas ?? Quotas.inMemory(),
    index: context.index,
    // The bucket records held in memory (created just below, before any write is admitted).
    ownerOf: (bucketId) => buckets?.ownerOf(bucketId) ?? null,
  });
  context.admission = admission;
  if (opened.rebuildReason !== null) await rebuildIndex(context);
  else await replayIntents(context);
  observeNewestIds(context);
  buckets = new Buckets(context);
  buckets.reload();
  const objects = new Objects(context, buckets);
  const multipart = new Multipart(context, objects);
  return {
    buckets,
    objects,
    copies: new Copies(objects, multipart),
    tagging: new ObjectTagging(context, objects),
    lockState: new ObjectLockState(context, objects),
    listing: new Listing(context, buckets),
    multipart,
    usage,
    admission,
    openRebuildReason: opened.rebuildReason,
    async rebuildIndex() {
      // Commits wait at the gate meanwhile (their bodies keep streaming), so none interleaves.
      const release = await enterExclusive(context);
      try {
        const report = await rebuildIndex(context);
        buckets.reload();
        return report;
      } finally {
        release();
      }
    },
    close() {
      if (!opened.database.isOpen) return;
      context.index.close();
      setClosedCleanly(opened.database, true);
      opened.database.close();
    },
  };
}

/**
 * After a restart, new ids must still sort after the ones already stored even if the wall
 * clock went back meanwhile: the hybrid clock observes the greatest sequence in the index.
 */
function observeNewestIds(context: LayerContext): void {
  const row = context.index.statement('SELECT max(sequence) AS newest FROM versions').get() as {
    newest: string | null;
  };
  if (row.newest !== null) context.hybridClock.observe(row.newest);
}
