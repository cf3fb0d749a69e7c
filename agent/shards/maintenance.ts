// Background maintenance of a set: the scrubber (verify and heal everything at a bounded rate)
// and the rebuild of a replaced drive.
import assert from 'node:assert/strict';
import type { SetContext } from './context.ts';
import { StoreError } from './errors.ts';
import { decodeDriveFormat } from './formats.ts';
import { healVersion } from './heal.ts';
import { driveFormatFile } from './layout.ts';
import { formatDrive } from './open.ts';
import { addressOf, Throttle, walkVersionDirectories } from './walk.ts';

export interface ScrubReport {
  versionsChecked: number;
  versionsHealed: number;
  leftoversRemoved: number;
  bytesRead: number;
  /** Versions that could not be checked (e.g. QUORUM_LOST); retried by the next scrub. */
  failures: number;
}

export interface RebuildReport {
  driveIndex: number;
  versionsChecked: number;
  shardsRewritten: number;
  failures: number;
}

/** Walks every version, verifying and healing, reading at most bytesPerSecond. */
export async function scrubSet(
  ctx: SetContext,
  sleep: (milliseconds: number) => Promise<void>,
  options: { bytesPerSecond: number; signal?: AbortSignal },
): Promise<ScrubReport> {
  assert.ok(options.bytesPerSecond > 0, 'scrub needs a positive rate');
  const throttle = new Throttle(options.bytesPerSecond, ctx.clock, sleep);
  const report: ScrubReport = {
    versionsChecked: 0,
    versionsHealed: 0,
    leftoversRemoved: 0,
    bytesRead: 0,
    failures: 0,
  };
  for await (const directory of walkVersionDirectories(ctx)) {
    options.signal?.throwIfAborted();
    const address = await addressOf(ctx, directory);
    if (address === null) continue;
    try {
      const result = await healVersion(ctx, address, {
        deep: true,
        onBytesRead: (bytes) => throttle.consume(bytes, options.signal),
      });
      report.bytesRead += result.bytesRead;
      ctx.metrics.scrubbedBytes += result.bytesRead;
      if (result.outcome === 'healed') report.versionsHealed += 1;
      if (result.outcome === 'removed') report.leftoversRemoved += 1;
    } catch (error) {
      if (options.signal?.aborted) throw error;
      report.failures += 1;
    }
    report.versionsChecked += 1;
    ctx.metrics.scrubbedVersions += 1;
  }
  return report;
}

/** Rewrites onto a replaced (empty) drive everything it should hold. */
export async function rebuildDriveOf(ctx: SetContext, driveIndex: number): Promise<RebuildReport> {
  assert.ok(Number.isInteger(driveIndex) && driveIndex >= 0 && driveIndex < ctx.driveCount, 'no such drive');
  const drive = ctx.drives[driveIndex];
  try {
    await drive.checkOnline();
  } catch (error) {
    throw new StoreError('DRIVE_OFFLINE', `rebuild: ${drive.description} is offline`, { cause: error });
  }
  // The journal's index describes the disk that was replaced: what the new one holds is what
  // this rebuild writes.
  await ctx.journals[driveIndex].reset();
  const setId = await setIdFromOtherDrives(ctx, driveIndex);
  await formatDrive(drive, {
    setId,
    driveIndex,
    driveCount: ctx.driveCount,
    dataShards: ctx.dataShards,
    parityShards: ctx.parityShards,
  });
  const report: RebuildReport = { driveIndex, versionsChecked: 0, shardsRewritten: 0, failures: 0 };
  const others = ctx.drives.map((_, index) => index).filter((index) => index !== driveIndex);
  for await (const directory of walkVersionDirectories(ctx, { driveIndexes: others })) {
    const address = await addressOf(ctx, directory);
    if (address === null) continue;
    try {
      const result = await healVersion(ctx, address, { deep: false });
      if (result.shardsRewritten.includes(driveIndex)) report.shardsRewritten += 1;
    } catch {
      report.failures += 1;
    }
    report.versionsChecked += 1;
  }
  if (report.failures === 0) ctx.driveConditions[driveIndex] = 'online';
  return report;
}

async function setIdFromOtherDrives(ctx: SetContext, exceptDrive: number): Promise<string> {
  for (const [index, drive] of ctx.drives.entries()) {
    if (index === exceptDrive) continue;
    try {
      return decodeDriveFormat(await drive.readFile(driveFormatFile)).setId;
    } catch {}
  }
  return ctx.randomUUID();
}
