// `npm run bench store`: the shard store end to end on real files with fsync on: write and read
// throughput of 1 MiB and 64 MiB versions (MB/s = 10^6 bytes per second of object data), and
// 4 KiB versions per second, on a 4+2 set of six directories in one temp dir (so all six "drives"
// share one disk: a real host spreads them over six). BENCH_STORE_SCALE scales the counts.
// Small versions are acknowledged once group-committed to the drives' journals; the "drain" figure
// is the time the checkpoint pass then takes to write them into their record files (durably), and
// "sustained" counts it in: what a write load of that shape gets once the journals are full.
// fsync runs on libuv's pool: the agent starts with UV_THREADPOOL_SIZE=8 (agent/main.ts); run
// `UV_THREADPOOL_SIZE=8 npm run bench store` for the agent's figures. Last, the part page of
// GetObjectAttributes: 1000 part records read one at a time, then as listManifestParts reads them.
import { mkdir } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { describeKernels } from '../agent/erasure/index.ts';
import { listManifestParts, type ManifestPart } from '../agent/objects/manifest.ts';
import { toMetadata } from '../agent/objects/records.ts';
import { type ErasureSet, openErasureSet } from '../agent/shards/index.ts';
import { removeScratch, scratchDirectory } from './scratch.ts';

const scale = Number(process.env.BENCH_STORE_SCALE ?? 1);
const mebibyte = 1024 * 1024;

function filledBuffer(sizeBytes: number, seed: number): Buffer {
  const bytes = Buffer.alloc(sizeBytes);
  for (let index = 0; index < sizeBytes; index += 4096)
    bytes.writeUInt32BE((index * 2_654_435_761 + seed) >>> 0, index);
  return bytes;
}

async function* chunks(bytes: Uint8Array, chunkBytes = 256 * 1024): AsyncGenerator<Uint8Array> {
  for (let offset = 0; offset < bytes.byteLength; offset += chunkBytes)
    yield bytes.subarray(offset, offset + chunkBytes);
}

async function timed(action: () => Promise<void>): Promise<number> {
  const started = process.hrtime.bigint();
  await action();
  return Number(process.hrtime.bigint() - started) / 1e9;
}

/** Writes then reads `count` versions of `sizeBytes`, `concurrency` at a time; returns seconds. */
async function writeAndRead(
  set: ErasureSet,
  label: string,
  sizeBytes: number,
  count: number,
  concurrency: number,
) {
  const body = filledBuffer(sizeBytes, sizeBytes);
  const addresses = Array.from({ length: count }, (_, index) => ({
    bucket: 'bench',
    key: `${label}/${index}`,
    versionId: 'v',
  }));
  // `concurrency` operations in flight at all times (a new one starts as soon as one ends).
  const inBatches = async (action: (address: (typeof addresses)[number]) => Promise<void>) => {
    let next = 0;
    const lanes = Array.from({ length: concurrency }, async () => {
      while (next < count) await action(addresses[next++]);
    });
    await Promise.all(lanes);
  };
  const writeSeconds = await timed(() =>
    inBatches(async (address) => {
      // Every address is written once, as the object layer's are (fresh version ids): newAddress.
      await set.writeVersion(address, chunks(body), { finalize: () => ({}), newAddress: true });
    }),
  );
  const readSeconds = await timed(() =>
    inBatches(async (address) => {
      let total = 0;
      for await (const chunk of (await set.readVersion(address)).body) total += chunk.byteLength;
      if (total !== sizeBytes) throw new Error(`read ${total} of ${sizeBytes} bytes`);
    }),
  );
  return { writeSeconds, readSeconds, bytes: sizeBytes * count };
}

/**
 * GetObjectAttributes' ObjectParts page: the part records of 1000 parts (small versions), read one
 * at a time and as listManifestParts reads them (16 at a time).
 */
async function measurePartPage(set: ErasureSet): Promise<void> {
  const partCount = 1000;
  const parts: ManifestPart[] = [];
  for (let partNumber = 1; partNumber <= partCount; partNumber += 1) {
    const address = { bucket: 'bench', key: `parts/${partNumber}`, versionId: 'v' };
    const record = { checksum: { algorithm: 'CRC32', value: 'AAAAAA==', type: 'FULL_OBJECT' } };
    await set.writeVersion(address, chunks(filledBuffer(100, partNumber)), {
      newAddress: true,
      finalize: () => toMetadata({ kind: 'part', record } as never),
    });
    parts.push({ partNumber, address, sizeBytes: 100, etag: 'etag' });
  }
  await set.checkpoint();
  for (let round = 0; round < 3; round += 1) {
    const oneAtATime = await timed(async () => {
      for (const part of parts) await set.statVersion(part.address);
    });
    const listed = await timed(async () => {
      await listManifestParts(set, { parts }, 0, partCount);
    });
    console.log(
      `part page of ${partCount} (GetObjectAttributes ObjectParts): one at a time ${(oneAtATime * 1000).toFixed(0)} ms, ` +
        `listManifestParts ${(listed * 1000).toFixed(0)} ms`,
    );
  }
}

export async function run(): Promise<void> {
  const root = await scratchDirectory('coffre-bench-store-');
  try {
    const drives = Array.from({ length: 6 }, (_, index) => join(root, `drive-${index}`));
    for (const drive of drives) await mkdir(drive);
    const set = await openErasureSet({ drives });
    console.log(
      `${describeKernels()}; 4+2, 1 MiB blocks, fsync on, six directories on one file system (${root}); ` +
        `UV_THREADPOOL_SIZE=${process.env.UV_THREADPOOL_SIZE ?? '4 (default)'}; load ${loadavg()
          .map((load) => load.toFixed(1))
          .join(' ')}`,
    );
    const megabytes = (bytes: number, seconds: number) => (bytes / 1e6 / seconds).toFixed(1).padStart(7);
    const cases: [string, number, number, number][] = [
      ['1 MiB', mebibyte, Math.max(1, Math.round(32 * scale)), 4],
      ['64 MiB', 64 * mebibyte, Math.max(1, Math.round(2 * scale)), 1],
    ];
    for (const [label, sizeBytes, count, concurrency] of cases) {
      const result = await writeAndRead(set, label, sizeBytes, count, concurrency);
      console.log(
        `${label.padEnd(7)} x ${String(count).padStart(4)} (${concurrency} at a time): ` +
          `write ${megabytes(result.bytes, result.writeSeconds)} MB/s   read ${megabytes(result.bytes, result.readSeconds)} MB/s`,
      );
    }
    for (const concurrency of [1, 16, 64]) {
      const count = Math.max(64, Math.round((concurrency === 1 ? 400 : 2000) * scale));
      // Start from empty journals, so that each row pays for its own checkpoint only.
      await set.checkpoint();
      const result = await writeAndRead(set, `4k-${concurrency}`, 4096, count, concurrency);
      const drainSeconds = await timed(() => set.checkpoint());
      console.log(
        `4 KiB   x ${String(count).padStart(4)} (${String(concurrency).padStart(2)} at a time): ` +
          `write ${(count / result.writeSeconds).toFixed(0).padStart(6)} objects/s   ` +
          `read ${(count / result.readSeconds).toFixed(0).padStart(6)} objects/s   ` +
          `drain ${drainSeconds.toFixed(2)} s, sustained ${(count / (result.writeSeconds + drainSeconds)).toFixed(0).padStart(5)} objects/s`,
      );
    }
    await measurePartPage(set);
    await set.close();
  } finally {
    await removeScratch(root);
  }
}
