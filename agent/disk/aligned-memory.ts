// Buffers whose memory is aligned for O_DIRECT, through the N-API addon of native/coffre_aligned.c
// (built by scripts/build-native.ts into build/coffre_aligned.node; it needs only a C compiler).
//
// A file opened with O_DIRECT is read and written without the page cache, and Linux then refuses
// with EINVAL any buffer whose address or length is not a multiple of the drive's logical block
// size (open(2), "O_DIRECT"). Node allocates Buffer memory with malloc, 16-byte aligned at best,
// so the shard store takes its direct-write buffers from here. Without the addon (no C compiler)
// or if it fails its check when it loads, `alignedMemory` is undefined and shard files are written
// through the page cache.
//
// The memory is not zeroed (the addon says why): whoever fills a buffer writes every byte it hands
// to the disk. It is freed after the garbage collector has collected the Buffer's ArrayBuffer and
// then the event loop has turned once (Node runs the addon's finalizer from an immediate), so a
// synchronous loop that allocates holds every buffer until it ends: allocate once and reuse.

import { fileURLToPath } from 'node:url';
import { requireAddon } from '../native/addon.ts';

/** The address, length and file offset alignment of a direct write: the logical block size of every drive we run on. */
export const directIoAlignment = 4096;

export interface AlignedMemory {
  readonly path: string;
  /** A Buffer of `bytes` bytes (not zeroed) over memory whose address is a multiple of directIoAlignment. */
  allocate(bytes: number): Buffer;
  /** The address of the view's first byte modulo directIoAlignment: 0 when a direct write may start there. */
  misalignment(view: Uint8Array): number;
}

/** The addon's own exports; it checks every argument and throws rather than trust them. */
interface AlignedAddon {
  allocate(bytes: number, alignment: number): ArrayBuffer;
  misalignment(view: Uint8Array, alignment: number): number;
}

export const alignedMemoryPath = fileURLToPath(new URL('../../build/coffre_aligned.node', import.meta.url));

/** The addon at `addonPath`, or undefined when it is not built, does not load, or fails its check. */
export function loadAlignedMemory(addonPath: string = alignedMemoryPath): AlignedMemory | undefined {
  const addon = requireAddon<AlignedAddon>(addonPath, ['allocate', 'misalignment']);
  if (addon === undefined) return undefined;
  const memory: AlignedMemory = {
    path: addonPath,
    allocate: (bytes) => Buffer.from(addon.allocate(bytes, directIoAlignment)),
    misalignment: (view) => addon.misalignment(view, directIoAlignment),
  };
  try {
    return allocatesAligned(memory) ? memory : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Buffers of one byte, one block and an uneven length past a block: each must be as long as asked,
 * start on a block boundary, and keep every byte written to it (first, last and a pattern through
 * it); a buffer one byte in must be seen as misaligned. An addon that gets any of it wrong would
 * turn every direct write into EINVAL, or worse, write memory it does not own.
 */
function allocatesAligned(memory: AlignedMemory): boolean {
  for (const bytes of [1, directIoAlignment, 3 * directIoAlignment + 5]) {
    const buffer = memory.allocate(bytes);
    if (buffer.length !== bytes || buffer.byteOffset !== 0 || buffer.buffer.byteLength !== bytes)
      return false;
    if (memory.misalignment(buffer) !== 0) return false;
    for (let index = 0; index < bytes; index += 1) buffer[index] = (index * 31 + bytes) & 0xff;
    for (let index = 0; index < bytes; index += 1)
      if (buffer[index] !== ((index * 31 + bytes) & 0xff)) return false;
    if (bytes > 1 && memory.misalignment(buffer.subarray(1)) !== 1) return false;
  }
  return true;
}

/** The addon, loaded and checked once per thread; undefined without it. */
export const alignedMemory: AlignedMemory | undefined = loadAlignedMemory();
