// Where things live on a drive, and the geometry of blocks and shards.
//
// Keys are any UTF-8 (S3 allows "../", "%", spaces, 1024 bytes), so they never become paths: a
// version is known by its directory  objects/<sha256(bucket)>/<first 2 hex of sha256(key)>/<sha256(key)>/<sha256(versionId)>/
// which holds its shard file "shard.<dataId>" unless inline; its record is a row of the drive's
// record database under that directory's name (a "meta" file in it on drives written before the
// database). The bucket, key and version id are kept inside the record. The 2-hex fan-out bounds the
// size of one directory.
// Writes happen in tmp/<uuid>/ on the same drive and are published by rename.
import { createHash } from 'node:crypto';
import { StoreError } from './errors.ts';
import {
  alignedShardFileVersion,
  blockChecksumBytes,
  blocksPerChecksumPage,
  shardAlignmentBytes,
  shardHeaderBytes,
  type VersionRecord,
} from './formats.ts';

export interface VersionAddress {
  bucket: string;
  key: string;
  versionId: string;
}

export const objectsDirectory = 'objects';
export const temporaryDirectory = 'tmp';
export const driveFormatFile = 'format';
export const versionRecordFile = 'meta';

function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

export function bucketDirectory(bucket: string): string {
  return `${objectsDirectory}/${sha256Hex(bucket)}`;
}

export function keyDirectory(bucket: string, key: string): string {
  const keyHash = sha256Hex(key);
  return `${bucketDirectory(bucket)}/${keyHash.slice(0, 2)}/${keyHash}`;
}

/**
 * The directory of each address object already asked for: a commit asks once per drive for the
 * same record (three SHA-256 each). Addresses and records are never changed once built.
 */
const directoryOfAddress = new WeakMap<VersionAddress, string>();

export function versionDirectory(address: VersionAddress): string {
  const known = directoryOfAddress.get(address);
  if (known !== undefined) return known;
  const directory = `${keyDirectory(address.bucket, address.key)}/${sha256Hex(address.versionId)}`;
  directoryOfAddress.set(address, directory);
  return directory;
}

export function shardFileName(dataId: string): string {
  return `shard.${dataId}`;
}

/** A stable string for maps and locks. */
export function addressKey(address: VersionAddress): string {
  return JSON.stringify([address.bucket, address.key, address.versionId]);
}

/** The rotation of shards over drives, so parity is not always on the same drives. */
export function distributionFor(address: VersionAddress, driveCount: number): number[] {
  const rotation = createHash('sha256').update(`${address.bucket}\0${address.key}`).digest()[0] % driveCount;
  return Array.from({ length: driveCount }, (_, driveIndex) => (driveIndex + rotation) % driveCount);
}

/** Block and shard sizes of one version. */
export class Geometry {
  readonly sizeBytes: number;
  readonly blockSizeBytes: number;
  readonly dataShards: number;
  readonly blockCount: number;
  /** Shard bytes of a full block. */
  readonly fullShardBytes: number;

  constructor(sizeBytes: number, blockSizeBytes: number, dataShards: number) {
    this.sizeBytes = sizeBytes;
    this.blockSizeBytes = blockSizeBytes;
    this.dataShards = dataShards;
    this.blockCount = Math.ceil(sizeBytes / blockSizeBytes);
    this.fullShardBytes = Math.ceil(blockSizeBytes / dataShards);
  }

  /** Object bytes in block `index` (the last one may be short). */
  blockDataBytes(index: number): number {
    return Math.min(this.blockSizeBytes, this.sizeBytes - index * this.blockSizeBytes);
  }

  /** Bytes of each of the k+m shards of block `index` (data is zero-padded to k of them). */
  shardBytes(index: number): number {
    return Math.ceil(this.blockDataBytes(index) / this.dataShards);
  }

  /** Offset of block `index`'s checksum in an inline payload (framed as a version 1 file's blocks). */
  payloadOffset(index: number): number {
    return index * (blockChecksumBytes + this.fullShardBytes);
  }

  /** Bytes of a whole inline payload (all blocks, each after its checksum). */
  payloadBytes(): number {
    if (this.blockCount === 0) return 0;
    const last = this.blockCount - 1;
    return this.payloadOffset(last) + blockChecksumBytes + this.shardBytes(last);
  }
}

/** `bytes` rounded up to a multiple of the aligned format's unit. */
export function alignUp(bytes: number): number {
  return Math.ceil(bytes / shardAlignmentBytes) * shardAlignmentBytes;
}

/** Where each block of a version's shard file is, in the file's format version (formats.ts). */
export class ShardFileLayout {
  readonly geometry: Geometry;
  readonly formatVersion: number;
  readonly #aligned: boolean;
  /** Version 2: bytes of a full block's shard with its padding, and of a whole group with its page. */
  readonly #storedFullShardBytes: number;
  readonly #groupBytes: number;

  constructor(geometry: Geometry, formatVersion: number) {
    this.geometry = geometry;
    this.formatVersion = formatVersion;
    this.#aligned = formatVersion === alignedShardFileVersion;
    this.#storedFullShardBytes = alignUp(geometry.fullShardBytes);
    this.#groupBytes = blocksPerChecksumPage * this.#storedFullShardBytes + shardAlignmentBytes;
  }

  /**
   * The layout of a version's shard files, from its record. A format this agent does not know (a
   * record written by a newer agent) is CORRUPT here, before any file is read: read as another
   * format, every block would fail its checksum and look like damage to heal.
   */
  static of(record: VersionRecord): ShardFileLayout {
    const { sizeBytes, erasure } = record;
    const formatVersion = erasure.shardFileVersion ?? 1;
    if (formatVersion !== 1 && formatVersion !== alignedShardFileVersion)
      throw new StoreError(
        'CORRUPT',
        `shard files in format version ${formatVersion}, unknown to this agent`,
      );
    return new ShardFileLayout(
      new Geometry(sizeBytes, erasure.blockSizeBytes, erasure.dataShards),
      formatVersion,
    );
  }

  get aligned(): boolean {
    return this.#aligned;
  }

  /** Bytes of the file before its first block. */
  get headerBytes(): number {
    return this.#aligned ? shardAlignmentBytes : shardHeaderBytes;
  }

  /** Bytes block `index` takes in the file: version 1 its checksum and shard, 2 its padded shard. */
  storedBlockBytes(index: number): number {
    const shardBytes = this.geometry.shardBytes(index);
    return this.#aligned ? alignUp(shardBytes) : blockChecksumBytes + shardBytes;
  }

  /** A buffer this big holds any one block's read (version 2: with its group's checksum page). */
  get readBufferBytes(): number {
    return this.#aligned
      ? this.#storedFullShardBytes + shardAlignmentBytes
      : blockChecksumBytes + this.geometry.fullShardBytes;
  }

  /** Offset of block `index` in the file (version 1: of its checksum). */
  blockOffset(index: number): number {
    if (!this.#aligned) return shardHeaderBytes + this.geometry.payloadOffset(index);
    const group = Math.floor(index / blocksPerChecksumPage);
    return (
      shardAlignmentBytes +
      group * this.#groupBytes +
      (index % blocksPerChecksumPage) * this.#storedFullShardBytes
    );
  }

  /** Version 2: the group block `index` belongs to. */
  groupOf(index: number): number {
    return Math.floor(index / blocksPerChecksumPage);
  }

  /** Version 2: the last block of group `group`. */
  lastBlockOf(group: number): number {
    return Math.min(this.geometry.blockCount - 1, (group + 1) * blocksPerChecksumPage - 1);
  }

  /** Version 2: offset of group `group`'s checksum page (right after the group's last block). */
  checksumPageOffset(group: number): number {
    const last = this.lastBlockOf(group);
    return this.blockOffset(last) + this.storedBlockBytes(last);
  }

  /** Bytes of the whole file. */
  fileBytes(): number {
    const { blockCount } = this.geometry;
    if (!this.#aligned) return shardHeaderBytes + this.geometry.payloadBytes();
    if (blockCount === 0) return shardAlignmentBytes;
    return this.checksumPageOffset(this.groupOf(blockCount - 1)) + shardAlignmentBytes;
  }
}
