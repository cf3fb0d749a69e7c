// `npm run bench object-writes`: what the object layer adds to a small write. The same 4 KiB
// bodies are written straight into the shard store and through objects.put (MD5, per-key commit,
// the SQLite intent and index transactions, each fsynced), on a 4+2 set of six directories in one
// temp dir with fsync on. BENCH_OBJECT_WRITES sets the count (default 300); one write at a time,
// then 16 at a time through the layer.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { openObjectLayer } from '../agent/objects/object-layer.ts';
import { openErasureSet } from '../agent/shards/index.ts';
import { removeScratch, scratchDirectory } from './scratch.ts';

const count = Number(process.env.BENCH_OBJECT_WRITES ?? 300);
const body = Buffer.alloc(4096, 7);

async function* once(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}

export async function run(): Promise<void> {
  const directory = await scratchDirectory('coffre-bench-object-writes-');
  try {
    const drives = [];
    for (let index = 0; index < 6; index += 1) {
      drives.push(join(directory, `drive-${index}`));
      await mkdir(drives[index]);
    }
    const store = await openErasureSet({ drives });
    const layer = await openObjectLayer({ store, indexPath: join(directory, 'index.sqlite') });
    const bucket = (await layer.buckets.create({ name: 'bench', ownerTenantId: 'bench' })).id;
    let started = process.hrtime.bigint();
    for (let index = 0; index < count; index += 1) {
      await store.writeVersion({ bucket: 'raw', key: `k${index}`, versionId: 'v' }, once(body), {
        finalize: () => ({}),
      });
    }
    const rawSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    started = process.hrtime.bigint();
    for (let index = 0; index < count; index += 1) {
      await layer.objects.put({ bucket, key: `k${index}`, body: once(body) });
    }
    const layerSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    // The same puts, 16 at a time: intents asked for in one event-loop turn share one fsync.
    const concurrency = 16;
    started = process.hrtime.bigint();
    for (let index = 0; index < count; index += concurrency) {
      const batch = [];
      for (let offset = 0; offset < concurrency && index + offset < count; offset += 1) {
        batch.push(layer.objects.put({ bucket, key: `p${index + offset}`, body: once(body) }));
      }
      await Promise.all(batch);
    }
    const parallelSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    console.log(`4 KiB writes, one at a time, ${count} each:`);
    console.log(
      `  shard store writeVersion   ${(count / rawSeconds).toFixed(0).padStart(6)} writes/s  ${((rawSeconds / count) * 1000).toFixed(2)} ms each`,
    );
    console.log(
      `  object layer put           ${(count / layerSeconds).toFixed(0).padStart(6)} writes/s  ${((layerSeconds / count) * 1000).toFixed(2)} ms each`,
    );
    console.log(
      `  object layer put, ${concurrency} at once ${(count / parallelSeconds).toFixed(0).padStart(6)} writes/s`,
    );
    layer.close();
    await store.close();
  } finally {
    await removeScratch(directory);
  }
}
