// What one drive's shard file receives, header then block after block, in either format version
// (formats.ts): version 1, each shard after its CRC-32; version 2, each shard padded to 4096 bytes
// and, after every group of 16 blocks and after the last, a page of their CRC-32s. The writer of a
// version (write.ts) and the heal's rebuild (rebuild.ts) both go through it.
import { crc32 } from '../digest/crc32.ts';
import {
  alignedShardFileVersion,
  blockChecksumBytes,
  blocksPerChecksumPage,
  encodeShardHeader,
  type ShardHeader,
  shardAlignmentBytes,
} from './formats.ts';
import { alignUp } from './layout.ts';

/** Padding for shards given without theirs (the rebuild's): less than one page is ever needed. */
const zeros = new Uint8Array(shardAlignmentBytes);

/** [CRC-32 (big-endian)] of a shard block: how version 1 files and inline payloads frame a shard. */
export function blockChecksum(shard: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(blockChecksumBytes);
  new DataView(bytes.buffer).setUint32(0, crc32(shard));
  return bytes;
}

export class ShardFileEncoder {
  readonly formatVersion: number;
  readonly #aligned: boolean;
  /** A page of 4096 bytes for the header and checksum pages (aligned memory for direct writes). */
  readonly #newPage: () => Uint8Array;
  /** Version 2: the CRC-32s of the blocks of the group not yet followed by its page. */
  #checksums: number[] = [];

  constructor(formatVersion: number, newPage: () => Uint8Array = () => new Uint8Array(shardAlignmentBytes)) {
    this.formatVersion = formatVersion;
    this.#aligned = formatVersion === alignedShardFileVersion;
    this.#newPage = newPage;
  }

  header(fields: Omit<ShardHeader, 'formatVersion'>): Uint8Array {
    return encodeShardHeader(
      { ...fields, formatVersion: this.formatVersion },
      this.#aligned ? this.#newPage() : undefined,
    );
  }

  /**
   * The chunks of the next block. `stored` starts with the shard (`shardBytes`); in version 2 it
   * may go on with the zeros that pad it to a multiple of 4096 (the writer's stripes do, so their
   * views are written as they are), else the padding is added.
   */
  block(stored: Uint8Array, shardBytes: number): Uint8Array[] {
    const shard = stored.subarray(0, shardBytes);
    if (!this.#aligned) return [blockChecksum(shard), shard];
    this.#checksums.push(crc32(shard));
    const paddedBytes = alignUp(shardBytes);
    const chunks =
      stored.byteLength >= paddedBytes
        ? [stored.subarray(0, paddedBytes)]
        : [shard, zeros.subarray(0, paddedBytes - shardBytes)];
    if (this.#checksums.length === blocksPerChecksumPage) chunks.push(this.#checksumPage());
    return chunks;
  }

  /** After the last block: the last group's checksum page, unless the group was full. */
  finish(): Uint8Array[] {
    return this.#aligned && this.#checksums.length > 0 ? [this.#checksumPage()] : [];
  }

  #checksumPage(): Uint8Array {
    const page = this.#newPage();
    const view = new DataView(page.buffer, page.byteOffset, shardAlignmentBytes);
    page.fill(0, 0, shardAlignmentBytes);
    for (const [index, checksum] of this.#checksums.entries()) view.setUint32(index * 4, checksum);
    this.#checksums = [];
    return page.subarray(0, shardAlignmentBytes);
  }
}
