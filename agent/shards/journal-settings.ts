// The tunables of the drives' journals and of the checkpointer (see journal.ts, checkpoint.ts).

export interface JournalSettings {
  /** Named bound on the entries of one journal batch (one durable writev); default 256. */
  maxBatchEntries: number;
  /** Named bound on the bytes of one journal batch; default 4 MiB. */
  maxBatchBytes: number;
  /** A journal segment is sealed at this size; default 8 MiB. */
  segmentBytes: number;
  /**
   * A checkpoint pass runs this long after a change; default 5000 ms. Not sooner: a pass costs
   * CPU that a burst of small writes would rather have, and versions overwritten or deleted
   * within the delay never reach the record databases at all.
   */
  checkpointIntervalMs: number;
  /** A pass runs at once when a drive's journaled records reach this many bytes; default 16 MiB. */
  checkpointTriggerBytes: number;
  /**
   * Bound on journaled record bytes per drive held in memory: past it, new writes wait for a
   * checkpoint pass first; default 64 MiB.
   */
  maxJournaledBytes: number;
  /**
   * Named bound on the keys whose removed version directories a checkpoint renames away at once per
   * drive (each under its key's lock); default 32. Their files are then deleted two directories at a
   * time per drive, outside the locks (checkpoint.ts).
   */
  maxConcurrentApplies: number;
  /** Named bound on records written to a drive's record database in one transaction by a checkpoint; default 256. */
  maxRecordsPerBatch: number;
}

export const journalDefaults: JournalSettings = {
  maxBatchEntries: 256,
  maxBatchBytes: 4 * 1024 * 1024,
  segmentBytes: 8 * 1024 * 1024,
  checkpointIntervalMs: 5000,
  checkpointTriggerBytes: 16 * 1024 * 1024,
  maxJournaledBytes: 64 * 1024 * 1024,
  maxConcurrentApplies: 32,
  maxRecordsPerBatch: 256,
};
