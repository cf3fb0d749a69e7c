// One drive: durable files, ranged reads, free space, typed errors; and its fault-injecting twin.
export type {
  AppendLog,
  Drive,
  DriveEntryStat,
  DriveOperation,
  DriveSpace,
  FileWriter,
  RangeReader,
} from './drive.ts';
export { DriveError, type DriveErrorCode, isDriveError, toDriveError } from './errors.ts';
export { type FaultRule, FaultyDrive } from './faulty-drive.ts';
export { LocalDrive } from './local-drive.ts';
