// The local erasure-coded shard store: one erasure set over the host's drives.
export type { StoreMetrics } from './context.ts';
export {
  type ByteRange,
  type DriveStatus,
  ErasureSet,
  type ErasureSetOptions,
  openErasureSet,
  type StoredVersion,
  type WriteOptions,
} from './erasure-set.ts';
export { StoreError, type StoreErrorCode } from './errors.ts';
export type { HealReport } from './heal.ts';
export type { JournalSettings } from './journal-settings.ts';
export type { VersionAddress } from './layout.ts';
export type { RebuildReport, ScrubReport } from './maintenance.ts';
export type { DriveCondition } from './open.ts';
