// Throughput of each body checksum over a 64 MiB buffer fed in 1 MiB updates, the way a streaming
// request body reaches the hashers. Prints MB/s (10^6 bytes per second).
import { randomBytes } from 'node:crypto';
import { createHasher } from '../agent/s3/checksums.ts';

const totalBytes = 64 * 1024 * 1024;
const updateBytes = 1024 * 1024;

export async function run(): Promise<void> {
  const data = randomBytes(updateBytes);
  for (const algorithm of ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256', 'MD5'] as const) {
    const hasher = createHasher(algorithm);
    const started = performance.now();
    for (let done = 0; done < totalBytes; done += updateBytes) hasher.update(data);
    await hasher.digest();
    const seconds = (performance.now() - started) / 1000;
    console.log(`${algorithm.padEnd(10)} ${(totalBytes / 1e6 / seconds).toFixed(0).padStart(6)} MB/s`);
  }
}
