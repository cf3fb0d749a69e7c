// Shared by the shard store tests: real drive directories in a temp dir, deterministic bodies.
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { ExecutionContext } from 'ava';
import { distributionFor, Geometry, ShardFileLayout, versionDirectory } from '../../agent/shards/layout.ts';

/** Creates `count` empty drive directories under a fresh temp dir, removed after the test. */
export async function makeDriveDirectories(t: ExecutionContext, count = 6): Promise<string[]> {
  const root = await mkdtemp(join(tmpdir(), 'coffre-shards-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  const drives: string[] = [];
  for (let index = 0; index < count; index += 1) {
    const drive = join(root, `drive-${index}`);
    await mkdir(drive);
    drives.push(drive);
  }
  return drives;
}

/** Deterministic bytes: xorshift32 seeded from SHA-256 of a label, so any size is reproducible. */
export function patternBytes(sizeBytes: number, label: string): Buffer {
  const bytes = Buffer.alloc(sizeBytes);
  let state = createHash('sha256').update(label).digest().readUInt32BE(0) || 1;
  const words = new Uint32Array(bytes.buffer, bytes.byteOffset, Math.floor(sizeBytes / 4));
  for (let index = 0; index < words.length; index += 1) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    words[index] = state >>> 0;
  }
  for (let index = words.length * 4; index < sizeBytes; index += 1) bytes[index] = index & 0xff;
  return bytes;
}

/** A body that yields the bytes in chunks of odd sizes. */
export async function* bodyOf(bytes: Uint8Array, chunkBytes = 65_537): AsyncGenerator<Uint8Array> {
  for (let offset = 0; offset < bytes.byteLength; offset += chunkBytes) {
    yield bytes.subarray(offset, Math.min(bytes.byteLength, offset + chunkBytes));
  }
}

export async function readAll(body: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks);
}

export const noMetadata = { finalize: () => ({}) };

/** Journal settings that hold the timed checkpoint off: a test runs checkpoints itself. */
export const checkpointHeldOff = { checkpointIntervalMs: 3_600_000 };

/** Every file under a directory, as relative paths. */
export async function filesUnder(directory: string): Promise<string[]> {
  try {
    const entries = await readdir(directory, { recursive: true, withFileTypes: true });
    return entries
      .filter((entry) => entry.isFile())
      .map((entry) => join(entry.parentPath, entry.name).slice(directory.length + 1))
      .sort();
  } catch {
    return [];
  }
}

/** Every file under a drive except its record database (records/records.db and its WAL files). */
export async function filesBesideRecords(drive: string): Promise<string[]> {
  return (await filesUnder(drive)).filter((path) => !path.startsWith('records/'));
}

/**
 * The rows of a drive's record database (records/records.db), directory -> record bytes, read
 * through a second connection beside the agent's (WAL mode allows it); empty when it has none.
 */
export function databaseRecords(drive: string): Map<string, Buffer> {
  const rows = new Map<string, Buffer>();
  let database: DatabaseSync;
  try {
    database = new DatabaseSync(join(drive, 'records', 'records.db'), { open: true });
  } catch {
    return rows;
  }
  try {
    const exists = database.prepare("SELECT 1 FROM sqlite_master WHERE name = 'records'").get();
    if (exists === undefined) return rows;
    for (const row of database.prepare('SELECT directory, record FROM records ORDER BY directory').all()) {
      rows.set(row.directory as string, Buffer.from(row.record as Uint8Array));
    }
    return rows;
  } finally {
    database.close();
  }
}

/** Rewrites one row of a drive's record database (damage done behind the agent's back). */
export function rewriteDatabaseRecord(
  drive: string,
  directory: string,
  change: (bytes: Buffer) => Buffer,
): void {
  const database = new DatabaseSync(join(drive, 'records', 'records.db'));
  try {
    const row = database.prepare('SELECT record FROM records WHERE directory = ?').get(directory);
    if (row === undefined) throw new Error(`no record for ${directory} on ${drive}`);
    database
      .prepare('UPDATE records SET record = ? WHERE directory = ?')
      .run(change(Buffer.from(row.record as Uint8Array)), directory);
  } finally {
    database.close();
  }
}

/** Every file anywhere on the drive that belongs to a given version (its record and shard). */
export async function versionFiles(drive: string): Promise<string[]> {
  return (await filesUnder(join(drive, 'objects'))).map((path) => join('objects', path));
}

/**
 * Where shard `shardIndex` of a version lives: its shard file, or for an inline version (whose
 * shard is inside its record, a row of the drive's record database) the version's directory.
 */
/** Where a version's blocks are in its shard files (format version 2 unless said otherwise). */
export function shardFileLayout(
  version: { sizeBytes: number; erasure: { blockSizeBytes: number; dataShards: number } },
  formatVersion = 2,
): ShardFileLayout {
  const { sizeBytes, erasure } = version;
  return new ShardFileLayout(
    new Geometry(sizeBytes, erasure.blockSizeBytes, erasure.dataShards),
    formatVersion,
  );
}

export function shardFilePath(
  drives: string[],
  version: { address: { bucket: string; key: string; versionId: string }; dataId: string; inline: boolean },
  shardIndex: number,
): { driveIndex: number; path: string } {
  const driveIndex = distributionFor(version.address, drives.length).indexOf(shardIndex);
  const directory = join(drives[driveIndex], versionDirectory(version.address));
  return { driveIndex, path: version.inline ? directory : join(directory, `shard.${version.dataId}`) };
}
