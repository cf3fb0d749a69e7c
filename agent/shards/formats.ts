// The on-disk formats of the shard store. Each begins with an 8-byte magic and a 16-bit format
// version, so a future version can read (or refuse) what an older one wrote; test/shards holds a
// committed sample of version 1 of each.
//
// Version record (one per drive per version: a row of the drive's record database, or a "meta" file on
// drives written before it):
//   0  magic "COFFREVM"        8  format version u16 (1)   10 reserved u16 (0)
//   12 JSON length u32         16 inline payload length u32
//   20 JSON (UTF-8, VersionRecord)   then the inline payload (this drive's shard blocks)
//   last 4 bytes: CRC-32 of everything before them
// Shard file ("shard.<dataId>", one per drive per non-inline version), format version 2 (aligned,
// written since 30 Nov 2026; the record says which: erasure.shardFileVersion, absent for 1):
//   0  magic "COFFRESH"        8  format version u16 (2)   10 shard index u8   11 reserved u8
//   12 data shards u8          13 parity shards u8         14 blocks per checksum page u16 (16)
//   16 block size u32          20 data id (16 bytes)       36 CRC-32 of bytes 0..35
//   40 zeros up to 4096 (the header page)
//   then groups of 16 blocks (the last group may have fewer): each block's shard, zero-padded to
//   a multiple of 4096 bytes, then the group's checksum page: 4096 bytes holding the CRC-32 of
//   each of its blocks' shards (without the padding), in order, then zeros.
//   Every block and page starts at a multiple of 4096 and is a multiple of 4096 long, so a drive
//   can write the file with O_DIRECT straight from the stripe buffers (no copy into the page
//   cache, no copy to put a checksum before each shard).
// Format version 1 (written until 30 Nov 2026, still read, and rewritten as such by heal):
//   the same first 36 bytes with version 1 and byte 14 reserved (0), the CRC-32 at 36, then from
//   40: [CRC-32 of the shard block u32][shard block bytes], block after block.
// A version's inline payload (in its record) is framed as a version 1 file's blocks, without the header.
// Drive format file ("format", one per drive):
//   0  magic "COFFREDF"        8  format version u16 (1)   10 reserved u16   12 JSON length u32
//   16 JSON (DriveFormat)      last 4 bytes: CRC-32 of everything before them
// All integers are big-endian. The drives' journal segments are described in journal-format.ts.
import assert from 'node:assert/strict';
import { crc32 } from 'node:zlib';
import { StoreError } from './errors.ts';

export const versionRecordMagic = 'COFFREVM';
export const shardFileMagic = 'COFFRESH';
export const driveFormatMagic = 'COFFREDF';
export const currentFormatVersion = 1;
export const shardHeaderBytes = 40;
/** Version 1 shard files and inline payloads: every shard block is preceded by its CRC-32. */
export const blockChecksumBytes = 4;
/** The shard file format version this agent writes (version 1 is still read and healed). */
export const alignedShardFileVersion = 2;
/** Version 2: the unit every block, checksum page and the header page are aligned to and padded to. */
export const shardAlignmentBytes = 4096;
/** Version 2: blocks per group, whose CRC-32s share the checksum page after them. */
export const blocksPerChecksumPage = 16;

export interface ErasureLayout {
  dataShards: number;
  parityShards: number;
  blockSizeBytes: number;
  /** distribution[driveIndex] = the shard index that drive holds (data 0..k-1, then parity). */
  distribution: number[];
  checksumAlgorithm: 'crc32';
  /** The shard files' format version (see above); absent: 1 (and for inline versions). */
  shardFileVersion?: number;
}

/** What every drive stores about one version (identical on all drives of a commit). */
export interface VersionRecord {
  bucket: string;
  key: string;
  versionId: string;
  sizeBytes: number;
  /** Random per write: names the shard files, tells two writes of one address apart. */
  dataId: string;
  committedAtMs: number;
  /** Bumped by each updateMetadata; the highest wins among drives holding the same dataId. */
  metadataRevision: number;
  updatedAtMs: number;
  inline: boolean;
  erasure: ErasureLayout;
  /** The caller's metadata (JSON). */
  metadata: Record<string, unknown>;
  /**
   * During an overwrite of the same address, the record this drive held before (its shard file
   * is kept too), until the new version has reached its quorum: a crash that leaves the drives
   * split between old and new then still finds the old version whole. See commit.ts.
   */
  previous?: PreviousVersion;
}

export interface PreviousVersion {
  record: VersionRecord;
  inlinePayloadBase64: string;
}

export interface DriveFormat {
  setId: string;
  driveIndex: number;
  driveCount: number;
  dataShards: number;
  parityShards: number;
}

function corrupt(what: string): StoreError {
  return new StoreError('CORRUPT', what);
}

function parseJson(bytes: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (error) {
    throw new StoreError('CORRUPT', `${what}: bad JSON`, { cause: error });
  }
}

function checkMagic(
  bytes: Uint8Array,
  magic: string,
  what: string,
  versions: readonly number[] = [currentFormatVersion],
): DataView {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < 16 || Buffer.from(bytes.subarray(0, 8)).toString('latin1') !== magic) {
    throw corrupt(`${what}: bad magic`);
  }
  const version = view.getUint16(8);
  if (!versions.includes(version)) throw corrupt(`${what}: unsupported format version ${version}`);
  return view;
}

/** The JSON of each record object already encoded: a commit encodes one record for every drive. */
const jsonOfRecord = new WeakMap<VersionRecord, Buffer>();

export function encodeVersionRecord(record: VersionRecord, inlinePayload: Uint8Array): Uint8Array {
  let json = jsonOfRecord.get(record);
  if (json === undefined) {
    json = Buffer.from(JSON.stringify(record), 'utf8');
    jsonOfRecord.set(record, json);
  }
  // Its own memory, not a slice of Node's buffer pool: a journal keeps records until a checkpoint,
  // and a kept slice would keep its whole pool slab (measured: +150 MiB of peak RSS under 4 KiB PUTs).
  const bytes = Buffer.alloc(20 + json.byteLength + inlinePayload.byteLength + 4);
  bytes.write(versionRecordMagic, 0, 'latin1');
  bytes.writeUInt16BE(currentFormatVersion, 8);
  bytes.writeUInt32BE(json.byteLength, 12);
  bytes.writeUInt32BE(inlinePayload.byteLength, 16);
  json.copy(bytes, 20);
  bytes.set(inlinePayload, 20 + json.byteLength);
  bytes.writeUInt32BE(crc32(bytes.subarray(0, bytes.byteLength - 4)), bytes.byteLength - 4);
  return bytes;
}

/** Records already parsed, with the JSON bytes they were parsed from (see decodeVersionRecord). */
export type ParsedRecords = { json: Uint8Array; record: VersionRecord }[];

/**
 * Decodes a version record. With `parsed`, a record whose JSON bytes equal those of one already in
 * it is not parsed again: the same object is returned (and a new one is added to it).
 */
export function decodeVersionRecord(
  bytes: Uint8Array,
  parsed?: ParsedRecords,
): { record: VersionRecord; inlinePayload: Uint8Array } {
  const view = checkMagic(bytes, versionRecordMagic, 'version record');
  const jsonBytes = view.getUint32(12);
  const payloadBytes = view.getUint32(16);
  if (bytes.byteLength !== 20 + jsonBytes + payloadBytes + 4) throw corrupt('version record: bad length');
  if (crc32(bytes.subarray(0, bytes.byteLength - 4)) !== view.getUint32(bytes.byteLength - 4)) {
    throw corrupt('version record: checksum mismatch');
  }
  const json = bytes.subarray(20, 20 + jsonBytes);
  const inlinePayload = bytes.subarray(20 + jsonBytes, 20 + jsonBytes + payloadBytes);
  const known = parsed?.find((entry) => Buffer.compare(entry.json, json) === 0);
  if (known !== undefined) return { record: known.record, inlinePayload };
  const record = JSON.parse(Buffer.from(json).toString('utf8')) as VersionRecord;
  parsed?.push({ json, record });
  return { record, inlinePayload };
}

export interface ShardHeader {
  /** 1 or 2 (alignedShardFileVersion). */
  formatVersion: number;
  shardIndex: number;
  dataShards: number;
  parityShards: number;
  blockSizeBytes: number;
  dataId: string;
}

function dataIdBytes(dataId: string): Buffer {
  const bytes = Buffer.from(dataId.replaceAll('-', ''), 'hex');
  if (bytes.byteLength !== 16) throw new TypeError(`data id must be a UUID, got ${dataId}`);
  return bytes;
}

/**
 * The header of a shard file: 40 bytes for version 1; for version 2 the whole header page, into
 * `page` when given (4096 bytes, for a caller that needs it in aligned memory).
 */
export function encodeShardHeader(header: ShardHeader, page?: Uint8Array): Uint8Array {
  const aligned = header.formatVersion === alignedShardFileVersion;
  assert.ok(aligned || header.formatVersion === 1, `no shard file format version ${header.formatVersion}`);
  const size = aligned ? shardAlignmentBytes : shardHeaderBytes;
  const target = page ?? new Uint8Array(size);
  assert.ok(target.byteLength >= size, 'header page too small');
  const bytes = Buffer.from(target.buffer, target.byteOffset, size);
  bytes.fill(0);
  bytes.write(shardFileMagic, 0, 'latin1');
  bytes.writeUInt16BE(header.formatVersion, 8);
  bytes.writeUInt8(header.shardIndex, 10);
  bytes.writeUInt8(header.dataShards, 12);
  bytes.writeUInt8(header.parityShards, 13);
  if (aligned) bytes.writeUInt16BE(blocksPerChecksumPage, 14);
  bytes.writeUInt32BE(header.blockSizeBytes, 16);
  dataIdBytes(header.dataId).copy(bytes, 20);
  bytes.writeUInt32BE(crc32(bytes.subarray(0, 36)), 36);
  return bytes;
}

/** Decodes the first 40 bytes of a shard file of either version. */
export function decodeShardHeader(bytes: Uint8Array): ShardHeader {
  const view = checkMagic(bytes, shardFileMagic, 'shard file', [1, alignedShardFileVersion]);
  if (bytes.byteLength < shardHeaderBytes) throw corrupt('shard file: truncated header');
  if (crc32(bytes.subarray(0, 36)) !== view.getUint32(36))
    throw corrupt('shard file: header checksum mismatch');
  const formatVersion = view.getUint16(8);
  if (formatVersion === alignedShardFileVersion && view.getUint16(14) !== blocksPerChecksumPage)
    throw corrupt(`shard file: ${view.getUint16(14)} blocks per checksum page`);
  const hex = Buffer.from(bytes.subarray(20, 36)).toString('hex');
  return {
    formatVersion,
    shardIndex: view.getUint8(10),
    dataShards: view.getUint8(12),
    parityShards: view.getUint8(13),
    blockSizeBytes: view.getUint32(16),
    dataId: `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`,
  };
}

export function encodeDriveFormat(format: DriveFormat): Uint8Array {
  const json = Buffer.from(JSON.stringify(format), 'utf8');
  const bytes = Buffer.alloc(16 + json.byteLength + 4);
  bytes.write(driveFormatMagic, 0, 'latin1');
  bytes.writeUInt16BE(currentFormatVersion, 8);
  bytes.writeUInt32BE(json.byteLength, 12);
  json.copy(bytes, 16);
  bytes.writeUInt32BE(crc32(bytes.subarray(0, bytes.byteLength - 4)), bytes.byteLength - 4);
  return bytes;
}

export function decodeDriveFormat(bytes: Uint8Array): DriveFormat {
  const view = checkMagic(bytes, driveFormatMagic, 'drive format');
  const jsonBytes = view.getUint32(12);
  if (bytes.byteLength !== 16 + jsonBytes + 4) throw corrupt('drive format: bad length');
  if (crc32(bytes.subarray(0, bytes.byteLength - 4)) !== view.getUint32(bytes.byteLength - 4)) {
    throw corrupt('drive format: checksum mismatch');
  }
  return parseJson(bytes.subarray(16, 16 + jsonBytes), 'drive format') as DriveFormat;
}
