// Rewriting the shards of chosen drives from k intact ones, block by block (bounded memory: one
// block of k+m shards at a time), then committing them like a write. A shard file is rewritten in
// the format version its record names (the record is the same on every drive), through the page
// cache: the rebuilt shards are not in aligned memory.
import type { FileWriter } from '../disk/index.ts';
import { commitOnDrive, temporaryPath, temporaryShardFile } from './commit.ts';
import type { SetContext } from './context.ts';
import type { HealReport } from './heal.ts';
import { Geometry } from './layout.ts';
import { BlockReader, shardSources } from './read.ts';
import type { Resolution } from './records.ts';
import { blockChecksum, ShardFileEncoder } from './shard-file.ts';

interface Target {
  driveIndex: number;
  shardIndex: number;
  temporaryName: string;
  writer?: FileWriter;
  encoder: ShardFileEncoder;
  inlineChunks: Uint8Array[];
  failed: boolean;
  /** Set once the rebuilt shard is committed on its drive (its staging directory is gone). */
  committed: boolean;
}

export async function rebuildShards(
  ctx: SetContext,
  resolution: Extract<Resolution, { kind: 'found' }>,
  driveIndexes: number[],
  report: HealReport,
  countRead: (bytes: number) => Promise<void>,
): Promise<void> {
  const { record } = resolution;
  const geometry = new Geometry(record.sizeBytes, record.erasure.blockSizeBytes, record.erasure.dataShards);
  let readBytes = 0;
  const sources = shardSources(ctx, resolution, (bytes) => {
    readBytes += bytes;
  });
  const targets: Target[] = driveIndexes.map((driveIndex) => ({
    driveIndex,
    shardIndex: record.erasure.distribution[driveIndex],
    temporaryName: ctx.randomUUID(),
    encoder: new ShardFileEncoder(record.erasure.shardFileVersion ?? 1),
    inlineChunks: [],
    failed: false,
    committed: false,
  }));
  for (const target of targets) sources[target.shardIndex] = null;
  const reader = new BlockReader(ctx, record, sources);
  try {
    if (!record.inline) await Promise.all(targets.map((target) => openTarget(ctx, record, target)));
    for (let blockIndex = 0; blockIndex < geometry.blockCount; blockIndex += 1) {
      const shards = await reader.readBlock(blockIndex, { all: true });
      await countRead(readBytes);
      readBytes = 0;
      await Promise.all(
        targets.map(async (target) => {
          const shard = shards[target.shardIndex]!;
          if (record.inline) target.inlineChunks.push(blockChecksum(shard), shard);
          else if (!target.failed)
            await target
              .writer!.write(target.encoder.block(shard, shard.byteLength))
              .catch(() => fail(target));
        }),
      );
    }
    await Promise.all(targets.map((target) => commitTarget(ctx, resolution, target, report)));
  } finally {
    // Every target not committed, failed or left behind by a read that threw (too few shards to
    // rebuild from), has its file closed and its staging directory removed.
    await Promise.all(
      targets.map(async (target) => {
        if (target.committed) return;
        await target.writer?.abort();
        await ctx.drives[target.driveIndex].remove(temporaryPath(target.temporaryName)).catch(() => {});
      }),
    );
  }
}

function fail(target: Target): void {
  target.failed = true;
}

async function openTarget(
  ctx: SetContext,
  record: Extract<Resolution, { kind: 'found' }>['record'],
  target: Target,
): Promise<void> {
  const drive = ctx.drives[target.driveIndex];
  const staging = temporaryPath(target.temporaryName);
  try {
    await drive.ensureDirectory(staging);
    target.writer = await drive.createFileWriter(`${staging}/${temporaryShardFile}`);
    const header = target.encoder.header({
      shardIndex: target.shardIndex,
      dataShards: record.erasure.dataShards,
      parityShards: record.erasure.parityShards,
      blockSizeBytes: record.erasure.blockSizeBytes,
      dataId: record.dataId,
    });
    await target.writer.write([header]);
  } catch {
    fail(target);
  }
}

async function commitTarget(
  ctx: SetContext,
  resolution: Extract<Resolution, { kind: 'found' }>,
  target: Target,
  report: HealReport,
): Promise<void> {
  const { record } = resolution;
  try {
    if (target.failed) throw new Error('write failed');
    await target.writer?.write(target.encoder.finish());
    await target.writer?.finish();
    const payload = record.inline ? Buffer.concat(target.inlineChunks) : new Uint8Array(0);
    await commitOnDrive(ctx, target.driveIndex, target.temporaryName, record, payload, !record.inline);
    target.committed = true;
    report.shardsRewritten.push(target.driveIndex);
    ctx.metrics.shardsHealed += 1;
  } catch {
    fail(target);
    report.drivesSkipped.push(target.driveIndex);
  }
}
