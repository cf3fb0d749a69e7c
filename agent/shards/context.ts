// What the parts of an erasure set share: its drives, codec, geometry, clock and metrics.
import type { Drive } from '../disk/index.ts';
import type { ErasureCodec } from '../erasure/index.ts';
import type { DriveJournal } from './journal.ts';
import type { VersionAddress } from './layout.ts';
import type { KeyedLock } from './lock.ts';
import type { DriveCondition } from './open.ts';

export interface StoreMetrics {
  /** Shard blocks or version records found missing, truncated or failing their checksum. */
  corruptionsDetected: number;
  /** Shards (or inline shard copies) rewritten by heal. */
  shardsHealed: number;
  /** Version records rewritten by heal because they were stale or missing. */
  recordsHealed: number;
  /** Leftovers of versions that never reached k drives, removed by heal. */
  danglingRemoved: number;
  /** Reads that had to use parity because a data shard was unavailable. */
  degradedReads: number;
  /** Writes committed on fewer than all drives (the rest are healed later). */
  degradedWrites: number;
  /** Background heals that failed (scrub retries them). */
  healFailures: number;
  /** Background heal requests dropped because the queue was full (scrub finds them). */
  healRequestsDropped: number;
  /** Bytes read by scrub. */
  scrubbedBytes: number;
  /** Versions checked by scrub. */
  scrubbedVersions: number;
  /** Leftovers of interrupted writes, heals and deletes removed from tmp/ when the set opened. */
  temporaryEntriesCleaned: number;
  /** Journal batches made durable (one writev + one fdatasync each), summed over drives. */
  journalBatches: number;
  /** Journal entries in those batches, summed over drives: entries / batches is the group size. */
  journalEntries: number;
  /** Journal entries written into the record databases by the checkpointer, summed over drives. */
  checkpointedEntries: number;
  /** Checkpoint passes that failed on some drive (their entries stay journaled and are retried). */
  checkpointFailures: number;
}

export function emptyMetrics(): StoreMetrics {
  return {
    corruptionsDetected: 0,
    shardsHealed: 0,
    recordsHealed: 0,
    danglingRemoved: 0,
    degradedReads: 0,
    degradedWrites: 0,
    healFailures: 0,
    healRequestsDropped: 0,
    scrubbedBytes: 0,
    scrubbedVersions: 0,
    temporaryEntriesCleaned: 0,
    journalBatches: 0,
    journalEntries: 0,
    checkpointedEntries: 0,
    checkpointFailures: 0,
  };
}

export interface SetContext {
  readonly drives: readonly Drive[];
  /** One journal per drive, same order: where records and removals are committed. */
  readonly journals: readonly DriveJournal[];
  readonly codec: ErasureCodec;
  readonly dataShards: number;
  readonly parityShards: number;
  readonly driveCount: number;
  /** Drives that must commit a write (see writeQuorumFor). */
  readonly writeQuorum: number;
  readonly blockSizeBytes: number;
  readonly inlineThresholdBytes: number;
  /** Bound on batches of blocks being written at once by one write, or blocks read ahead by a read. */
  readonly maxBlocksInFlight: number;
  /** Blocks a write hands to each drive in one writev (one thread-pool hand-off per drive). */
  readonly blocksPerWrite: number;
  /** The shard file format version new versions are written in (formats.ts): 2, or 1 for tests. */
  readonly shardFileVersion: number;
  /** Format 2 files are written with O_DIRECT where possible (write.ts, "Direct writes"). */
  readonly directWrites: boolean;
  readonly clock: () => number;
  readonly randomUUID: () => string;
  readonly metrics: StoreMetrics;
  /**
   * What the set knows of each drive. A drive that came back empty ('needs-rebuild') cannot say
   * that a version does not exist until it is rebuilt.
   */
  readonly driveConditions: DriveCondition[];
  readonly lock: KeyedLock;
  /** Asks the background healer to look at this version. */
  readonly requestHeal: (address: VersionAddress) => void;
}

/**
 * The write quorum: k drives, so that any k committed shards can rebuild the data; k+1 when
 * k <= m, so that two writes of one address can never both reach a quorum on disjoint drives
 * (k + k <= n there). As in MinIO's erasure sets.
 */
export function writeQuorumFor(dataShards: number, parityShards: number): number {
  return dataShards > parityShards ? dataShards : Math.floor((dataShards + parityShards) / 2) + 1;
}

/** The key of the lock that serialises commits, heals and deletes of one object key. */
export function lockName(address: VersionAddress): string {
  return JSON.stringify([address.bucket, address.key]);
}
