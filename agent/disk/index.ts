// One drive: durable files, ranged reads, free space, typed errors; and its fault-injecting twin.
// Memory aligned for O_DIRECT, when the addon is built.
export {
  type AlignedMemory,
  alignedMemory,
  alignedMemoryPath,
  directIoAlignment,
  loadAlignedMemory,
} from './aligned-memory.ts';
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
