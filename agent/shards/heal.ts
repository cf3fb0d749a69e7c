// Healing one version: find the drives whose copy is missing, stale, truncated or corrupt, rebuild
// their shards from k intact ones, and commit them with the same protocol as a write. A deep heal
// (scrub) reads and verifies every shard block; a shallow one (rebuildDrive) only checks that the
// record and a shard file of the right size are there. Runs under the key's lock.
import { commitOnDrive, removeUnreferencedShards, removeVersionDirectory } from './commit.ts';
import { lockName, type SetContext } from './context.ts';
import { StoreError } from './errors.ts';
import { decodeShardHeader, shardHeaderBytes, type VersionRecord } from './formats.ts';
import {
  driveFormatFile,
  Geometry,
  ShardFileLayout,
  shardFileName,
  type VersionAddress,
  versionDirectory,
} from './layout.ts';
import { shardSources } from './read.ts';
import { rebuildShards } from './rebuild.ts';
import { type RecordCopy, type Resolution, readRecordCopies, resolveCopies } from './records.ts';

export interface HealReport {
  address: VersionAddress;
  /**
   * 'healthy', 'healed', 'removed' (a leftover of a write that never committed), 'partial' (some
   * drives could not be healed now) or 'absent' (no drive has the version).
   */
  outcome: 'healthy' | 'healed' | 'removed' | 'partial' | 'absent';
  /** Drives whose shard (and record) were rewritten. */
  shardsRewritten: number[];
  /** Drives whose record only was rewritten. */
  recordsRewritten: number[];
  /** Drives that could not be healed now (offline, or failed during the heal). */
  drivesSkipped: number[];
  bytesRead: number;
}

export interface HealOptions {
  deep: boolean;
  onBytesRead?: (bytes: number) => void | Promise<void>;
}

export function healVersion(
  ctx: SetContext,
  address: VersionAddress,
  options: HealOptions,
): Promise<HealReport> {
  return ctx.lock.run(lockName(address), () => healLocked(ctx, address, options));
}

async function healLocked(
  ctx: SetContext,
  address: VersionAddress,
  options: HealOptions,
): Promise<HealReport> {
  const report: HealReport = {
    address,
    outcome: 'healthy',
    shardsRewritten: [],
    recordsRewritten: [],
    drivesSkipped: [],
    bytesRead: 0,
  };
  const directory = versionDirectory(address);
  const resolution = resolveCopies(ctx, await readRecordCopies(ctx, directory));
  if (resolution.kind === 'absent' && (await missingDrivesAreFormatted(ctx, resolution.copies))) {
    await removeLeftovers(ctx, resolution, address, report);
    if (report.outcome === 'healthy') report.outcome = 'absent';
    return report;
  }
  if (resolution.kind !== 'found') {
    throw new StoreError('QUORUM_LOST', 'heal: too few drives answer to tell whether the version exists');
  }
  const { record } = resolution;
  const rewriteShard = new Set<number>();
  const rewriteRecord = new Set<number>();
  resolution.copies.forEach((copy, driveIndex) => {
    if (copy.state === 'offline') report.drivesSkipped.push(driveIndex);
    else if (!resolution.holders.includes(driveIndex)) rewriteShard.add(driveIndex);
    else if (!holdsCurrent(copy, record)) rewriteRecord.add(driveIndex);
  });
  const countRead = async (bytes: number) => {
    report.bytesRead += bytes;
    await options.onBytesRead?.(bytes);
  };
  const damaged = options.deep
    ? await verifyShards(ctx, resolution, countRead)
    : await checkShardFiles(ctx, resolution);
  for (const driveIndex of damaged) {
    rewriteShard.add(driveIndex);
    rewriteRecord.delete(driveIndex);
  }
  if (rewriteShard.size > 0) await rebuildShards(ctx, resolution, [...rewriteShard], report, countRead);
  for (const driveIndex of rewriteRecord) {
    const payload = resolution.inlinePayloads[driveIndex] ?? new Uint8Array(0);
    try {
      await commitOnDrive(ctx, driveIndex, ctx.randomUUID(), record, payload, false);
      report.recordsRewritten.push(driveIndex);
      ctx.metrics.recordsHealed += 1;
    } catch {
      report.drivesSkipped.push(driveIndex);
    }
  }
  // An overwrite interrupted after its commit may have left the old shard file behind.
  for (const driveIndex of resolution.holders) {
    await removeUnreferencedShards(ctx.drives[driveIndex], directory, [record.dataId]).catch(() => {});
  }
  const changed = report.shardsRewritten.length + report.recordsRewritten.length > 0;
  report.outcome = report.drivesSkipped.length > 0 ? 'partial' : changed ? 'healed' : 'healthy';
  return report;
}

/** True when the drive's record is exactly the winner, with no previous version kept beside it. */
export function holdsCurrent(copy: RecordCopy, record: VersionRecord): boolean {
  return (
    copy.state === 'present' &&
    copy.record.dataId === record.dataId &&
    copy.record.metadataRevision >= record.metadataRevision &&
    copy.previous === null
  );
}

/**
 * A drive whose mount failed shows an empty directory: every version looks missing there. Before
 * deleting anything because it is "missing on too many drives", check that those drives are
 * really this set's (their format file is there).
 */
async function missingDrivesAreFormatted(ctx: SetContext, copies: RecordCopy[]): Promise<boolean> {
  const checks = copies.map(async (copy, driveIndex) => {
    if (copy.state !== 'missing') return true;
    return ctx.drives[driveIndex].stat(driveFormatFile).then(
      () => true,
      () => false,
    );
  });
  return (await Promise.all(checks)).every(Boolean);
}

/** Removes what a write that never reached k drives left on the drives that have it. */
async function removeLeftovers(
  ctx: SetContext,
  resolution: Extract<Resolution, { kind: 'absent' }>,
  address: VersionAddress,
  report: HealReport,
): Promise<void> {
  for (const [driveIndex, copy] of resolution.copies.entries()) {
    if (copy.state !== 'present') continue;
    await removeVersionDirectory(ctx, driveIndex, address);
    ctx.metrics.danglingRemoved += 1;
    report.outcome = 'removed';
  }
}

/** Reads every shard block of every holder; returns the drives with a damaged shard. */
async function verifyShards(
  ctx: SetContext,
  resolution: Extract<Resolution, { kind: 'found' }>,
  countRead: (bytes: number) => Promise<void>,
): Promise<Set<number>> {
  const { record } = resolution;
  const damaged = new Set<number>();
  if (!record.inline) {
    for (const driveIndex of await checkShardFiles(ctx, resolution)) damaged.add(driveIndex);
  }
  let readBytes = 0;
  const sources = shardSources(ctx, resolution, (bytes) => {
    readBytes += bytes;
  });
  const geometry = new Geometry(record.sizeBytes, record.erasure.blockSizeBytes, record.erasure.dataShards);
  for (let blockIndex = 0; blockIndex < geometry.blockCount; blockIndex += 1) {
    const results = await Promise.allSettled(
      sources.map((source) =>
        source === null || damaged.has(source.driveIndex) ? null : source.read(blockIndex),
      ),
    );
    results.forEach((result, shardIndex) => {
      const source = sources[shardIndex];
      if (source !== null && result.status === 'rejected') {
        damaged.add(source.driveIndex);
        ctx.metrics.corruptionsDetected += 1;
      }
    });
    await countRead(readBytes);
    readBytes = 0;
  }
  return damaged;
}

/** Holders whose shard file is missing, of the wrong size or format version, or with a bad header. */
async function checkShardFiles(
  ctx: SetContext,
  resolution: Extract<Resolution, { kind: 'found' }>,
): Promise<Set<number>> {
  const { record } = resolution;
  const damaged = new Set<number>();
  const layout = ShardFileLayout.of(record);
  const { geometry } = layout;
  const path = `${versionDirectory(record)}/${shardFileName(record.dataId)}`;
  await Promise.all(
    resolution.holders.map(async (driveIndex) => {
      if (record.inline) {
        if (resolution.inlinePayloads[driveIndex]?.byteLength === geometry.payloadBytes()) return;
        damaged.add(driveIndex);
        return;
      }
      try {
        const drive = ctx.drives[driveIndex];
        const { sizeBytes } = await drive.stat(path);
        const header = decodeShardHeader(await drive.readRange(path, 0, shardHeaderBytes));
        const expectedIndex = record.erasure.distribution[driveIndex];
        if (
          sizeBytes === layout.fileBytes() &&
          header.shardIndex === expectedIndex &&
          header.formatVersion === layout.formatVersion
        )
          return;
      } catch {
        // Missing or unreadable: rebuilt below (an offline drive fails its rewrite too and is skipped).
      }
      damaged.add(driveIndex);
      ctx.metrics.corruptionsDetected += 1;
    }),
  );
  return damaged;
}
