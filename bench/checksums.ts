// Throughput of each body checksum over 64 MiB fed in 1 MiB updates, the way a streaming request body
// reaches the hashers. Prints MB/s (10^6 bytes per second). The last row is AWS's pure-JS CRC64NVME
// (@aws-sdk/crc64-nvme), the reason agent/s3/crc64nvme.ts exists: compare it with the CRC64NVME row.
import { randomBytes } from 'node:crypto';
import { Crc64Nvme as AwsCrc64Nvme } from '@aws-sdk/crc64-nvme';
import { createHasher, type StreamingHasher } from '../agent/s3/checksums.ts';

const totalBytes = 64 * 1024 * 1024;
const updateBytes = 1024 * 1024;

async function measure(name: string, hasher: StreamingHasher, data: Uint8Array): Promise<void> {
  const started = performance.now();
  for (let done = 0; done < totalBytes; done += updateBytes) hasher.update(data);
  await hasher.digest();
  const seconds = (performance.now() - started) / 1000;
  console.log(`${name.padEnd(24)} ${(totalBytes / 1e6 / seconds).toFixed(0).padStart(6)} MB/s`);
}

export async function run(): Promise<void> {
  const data = randomBytes(updateBytes);
  for (const algorithm of ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256', 'MD5'] as const) {
    await measure(algorithm, createHasher(algorithm), data);
  }
  await measure('CRC64NVME (AWS pure JS)', new AwsCrc64Nvme(), data);
}
