// Object bodies without holding objects in memory: one pool of random bytes, shared read-only by
// every request in flight, streamed in slices. 64 MiB objects at concurrency 64 would be 4 GiB if
// each had its own buffer; here the client holds the pool (16 MiB) and the sockets' buffers only.
import { randomBytes } from 'node:crypto';
import type { RequestBody } from './signed-client.ts';

/** Large enough that neighbouring objects differ; small enough to stay in the CPU caches' shadow. */
const poolBytes = 16 * 1024 * 1024;
/** One write() on the socket; the agent's HTTP parser sees chunks of about this size. */
const sliceBytes = 256 * 1024;

export class PayloadPool {
  private readonly pool: Buffer;

  constructor(random: (size: number) => Buffer = randomBytes) {
    this.pool = random(poolBytes);
  }

  /** Contiguous bytes from the pool (at most its size), for clients that want one buffer. */
  bytes(lengthBytes: number, seed: number): Buffer {
    const start = (seed * 4099) % (poolBytes - Math.min(lengthBytes, poolBytes) + 1);
    return this.pool.subarray(start, start + lengthBytes);
  }

  /** A body of `lengthBytes` that starts at a pool offset chosen from `seed`, wrapping around. */
  body(lengthBytes: number, seed: number): RequestBody {
    const start = (seed * 4099) % poolBytes;
    if (lengthBytes <= sliceBytes && start + lengthBytes <= poolBytes) {
      return this.pool.subarray(start, start + lengthBytes);
    }
    const pool = this.pool;
    return {
      lengthBytes,
      *chunks() {
        let offset = start;
        let remaining = lengthBytes;
        while (remaining > 0) {
          const size = Math.min(sliceBytes, remaining, poolBytes - offset);
          yield pool.subarray(offset, offset + size);
          remaining -= size;
          offset = (offset + size) % poolBytes;
        }
      },
    };
  }
}
