// Random bytes for keys and nonces, drawn from a pool filled by the CSPRNG a few kilobytes at a
// time. Every small PUT needs a fresh data key, a nonce prefix and a wrapping nonce; asking
// OpenSSL for each (node:crypto randomBytes) cost ~25 µs of the event loop per PUT in a profile
// of 4 KiB PUTs (BENCHMARKS.md, run 8), one call per 4 KiB here costs the same once. Node's own
// randomUUID pools its entropy the same way. The bytes handed out are copies, and their place in
// the pool is zeroed at once: a key never lingers in the pool after it was drawn.
import { randomFillSync } from 'node:crypto';

const poolBytes = 4096;
const pool = Buffer.alloc(poolBytes);
let offset = poolBytes;

/** `size` bytes from the CSPRNG (as node:crypto randomBytes), each used once. */
export function pooledRandomBytes(size: number): Buffer {
  if (size > poolBytes / 4) return randomFillSync(Buffer.alloc(size));
  if (offset + size > poolBytes) {
    randomFillSync(pool);
    offset = 0;
  }
  // Its own memory, not a slice of Node's shared buffer pool: a key kept for long must not pin a
  // slab shared with unrelated buffers.
  const bytes = Buffer.alloc(size);
  pool.copy(bytes, 0, offset, offset + size);
  pool.fill(0, offset, offset + size);
  offset += size;
  return bytes;
}
