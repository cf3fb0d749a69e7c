// CRC-32 (the zlib / gzip polynomial) at the speed this host allows. Every shard block carries one
// and every read checks it, so it sits on both data paths. In order of preference:
// - Intel ISA-L's crc32_gzip_refl, through the erasure addon (build/coffre_isal.node, which links
//   ISA-L for the codec and exports its CRC too): ~85 GB/s on one core of the 2-core development
//   machine on data in cache, with VPCLMULQDQ on 512-bit registers (`npm run bench checksums`);
// - @node-rs/crc32 (native, carry-less multiplication on 128-bit registers): ~11–23 GB/s there,
//   where zlib's crc32 ran at ~2 GB/s (see BENCHMARKS.md, S3 load run 4);
// - zlib's, where neither loads.
// All three give the same values bit for bit; the addon's is checked against zlib's when it loads
// (every length to 64 bytes, then longer ones, continued from a CRC) and not used if one differs.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { requireAddon } from '../native/addon.ts';

/** The CRC-32 of `bytes`, continuing from `initial` (the CRC of the bytes before; 0 to start). */
export type Crc32 = (bytes: Uint8Array, initial?: number) => number;

/** The erasure addon, which exports ISA-L's CRC-32 beside the codec (agent/erasure/native). */
export const isalAddonPath = fileURLToPath(new URL('../../build/coffre_isal.node', import.meta.url));

/** ISA-L's CRC-32 from the addon at `addonPath`, or undefined when it does not load or is wrong. */
export function loadIsalCrc32(addonPath: string = isalAddonPath): Crc32 | undefined {
  const addon = requireAddon<{ crc32: (bytes: Uint8Array, initial: number) => number }>(addonPath, ['crc32']);
  if (addon === undefined) return undefined;
  const crc32: Crc32 = (bytes, initial = 0) => addon.crc32(bytes, initial);
  const sample = new Uint8Array(4099);
  for (let index = 0; index < sample.length; index += 1) sample[index] = (index * 131 + 7) & 0xff;
  const lengths = [...Array.from({ length: 65 }, (_, length) => length), 255, 1000, 4096, 4099];
  for (const length of lengths) {
    const bytes = sample.subarray(sample.length - length);
    if (crc32(bytes) !== zlibCrc32(bytes) || crc32(bytes, 0x12345678) !== zlibCrc32(bytes, 0x12345678))
      return undefined;
  }
  return crc32;
}

function loadNodeRsCrc32(): Crc32 | undefined {
  try {
    const native = createRequire(import.meta.url)('@node-rs/crc32') as { crc32?: unknown };
    return typeof native.crc32 === 'function' ? (native.crc32 as Crc32) : undefined;
  } catch {
    return undefined;
  }
}

export const crc32: Crc32 =
  loadIsalCrc32() ?? loadNodeRsCrc32() ?? ((bytes, initial = 0) => zlibCrc32(bytes, initial));
