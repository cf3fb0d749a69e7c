// CRC-32 (the zlib / gzip polynomial) at the speed this host allows. Every shard block carries one
// and every read checks it, so it sits on both data paths: @node-rs/crc32 (native, hardware
// carry-less multiplication) ran at ~11 GB/s on one core of the 2-core development machine where
// zlib's crc32 ran at ~2 GB/s, with the same values bit for bit (see BENCHMARKS.md, S3 load run 4).
// zlib's is the fallback where the native package has no build for the platform.
import { createRequire } from 'node:module';
import { crc32 as zlibCrc32 } from 'node:zlib';

/** The CRC-32 of `bytes`, continuing from `initial` (the CRC of the bytes before; 0 to start). */
export type Crc32 = (bytes: Uint8Array, initial?: number) => number;

function loadNativeCrc32(): Crc32 | undefined {
  try {
    const native = createRequire(import.meta.url)('@node-rs/crc32') as { crc32?: unknown };
    return typeof native.crc32 === 'function' ? (native.crc32 as Crc32) : undefined;
  } catch {
    return undefined;
  }
}

export const crc32: Crc32 = loadNativeCrc32() ?? ((bytes, initial = 0) => zlibCrc32(bytes, initial));
