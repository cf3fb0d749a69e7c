// `npm run bench lock`: Object Lock through the real agent (`node agent/main.ts` on 127.0.0.1, a
// fresh data directory) and the AWS SDK v3, as Veeam drives it:
// - PUT throughput of 1 MiB blocks into a plain bucket and into a versioned, lock-enabled bucket with
//   a COMPLIANCE date on every block (rounds alternate between the two; best round reported);
// - PutObjectRetention calls per second, extending the retention of existing blocks, 16 at a time,
//   sent by the light signed client of bench/s3-load (the SDK's own cost per call would dominate on
//   two shared cores; bench/s3-load/client-cost.ts measures it).
// - the same extensions in the object layer alone (encrypted store over six drive folders, no HTTP),
//   to tell the layer's cost from the S3 pipeline's (signature, XML, audit log, metrics).
// BENCH_LOCK_BLOCKS (default 96) blocks per round, BENCH_LOCK_RETENTIONS (default 2000) calls,
// BENCH_LOCK_CONCURRENCY (default 16) calls at a time.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { openObjectLayer } from '../agent/objects/object-layer.ts';
import { openProtection } from '../agent/protection.ts';
import { openErasureSet } from '../agent/shards/index.ts';
import { startAgent } from '../test/support/agent-process.ts';
import { SignedS3Client } from './s3-load/signed-client.ts';
import { removeScratch, scratchDirectory } from './scratch.ts';

const blocksPerRound = Number(process.env.BENCH_LOCK_BLOCKS ?? 96);
const retentionCalls = Number(process.env.BENCH_LOCK_RETENTIONS ?? 2000);
const rounds = 3;
const putConcurrency = 8;
const retentionConcurrency = Number(process.env.BENCH_LOCK_CONCURRENCY ?? 16);
const dayMs = 86_400_000;

function seconds(startedNs: bigint): number {
  return Number(process.hrtime.bigint() - startedNs) / 1e9;
}

async function inParallel(count: number, concurrency: number, work: (index: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await work(next++);
    }),
  );
}

/** PutObjectRetention in the object layer alone: encrypted store, six drive folders, 4+2. */
async function layerRetentions(): Promise<void> {
  const directory = await scratchDirectory('coffre-bench-lock-');
  const drives: string[] = [];
  for (let index = 0; index < 6; index += 1) {
    drives.push(join(directory, `drive-${index}`));
    await mkdir(drives[index]);
  }
  const store = await openErasureSet({ drives, dataShards: 4, parityShards: 2 });
  const protection = await openProtection(directory, {});
  const layer = await openObjectLayer({
    store,
    indexPath: join(directory, 'index.sqlite'),
    clock: () => protection.retentionClock.now(),
    encryption: protection.encryption,
  });
  try {
    const bucket = (
      await layer.buckets.create({ name: 'locked', ownerTenantId: 'bench', objectLockEnabled: true })
    ).id;
    let untilMs = Date.now() + 30 * dayMs;
    for (let index = 0; index < 96; index += 1) {
      await layer.objects.put({
        bucket,
        key: `block-${index}`,
        body: (async function* () {
          yield randomBytes(4096);
        })(),
        retention: { mode: 'COMPLIANCE', retainUntilMs: untilMs },
      });
    }
    const started = process.hrtime.bigint();
    await inParallel(retentionCalls, retentionConcurrency, async (index) => {
      untilMs += 1000;
      await layer.lockState.putRetention(
        { bucket, key: `block-${index % 96}` },
        { mode: 'COMPLIANCE', retainUntilMs: untilMs },
      );
    });
    console.log(
      `PutObjectRetention in the object layer alone, ${retentionConcurrency} at a time: ${(retentionCalls / seconds(started)).toFixed(0)} calls/s`,
    );
  } finally {
    layer.close();
    await store.close();
    await protection.close();
    await removeScratch(directory);
  }
}

export async function run(): Promise<void> {
  await layerRetentions();
  const agent = await startAgent();
  const s3 = new S3Client({
    endpoint: agent.endpoint,
    region: 'fr-par',
    forcePathStyle: true,
    credentials: { accessKeyId: agent.accessKeyId, secretAccessKey: agent.secretAccessKey },
  });
  try {
    await s3.send(new CreateBucketCommand({ Bucket: 'plain' }));
    await s3.send(new CreateBucketCommand({ Bucket: 'locked', ObjectLockEnabledForBucket: true }));
    const block = randomBytes(1024 * 1024);
    const blockMd5 = createHash('md5').update(block).digest('base64');
    const until = new Date(Math.floor((Date.now() + 30 * dayMs) / 1000) * 1000);
    const best = { plain: 0, locked: 0 };
    const written: string[] = [];
    for (let round = 0; round < rounds; round += 1) {
      for (const bucket of ['plain', 'locked'] as const) {
        const started = process.hrtime.bigint();
        await inParallel(blocksPerRound, putConcurrency, async (index) => {
          const key = `Veeam/Archive/r${round}/${index.toString(16).padStart(6, '0')}.blk`;
          await s3.send(
            new PutObjectCommand({
              Bucket: bucket,
              Key: key,
              Body: block,
              ContentMD5: blockMd5,
              ObjectLockMode: bucket === 'locked' ? 'COMPLIANCE' : undefined,
              ObjectLockRetainUntilDate: bucket === 'locked' ? until : undefined,
            }),
          );
          if (bucket === 'locked') written.push(key);
        });
        best[bucket] = Math.max(best[bucket], blocksPerRound / seconds(started));
      }
    }
    console.log(
      `PUT 1 MiB blocks, ${putConcurrency} at a time, plain bucket:           ${best.plain.toFixed(1)} MiB/s`,
    );
    console.log(
      `PUT 1 MiB blocks, ${putConcurrency} at a time, versioning + COMPLIANCE: ${best.locked.toFixed(1)} MiB/s`,
    );
    console.log(`  locked / plain: ${((100 * best.locked) / best.plain).toFixed(0)} %`);

    const client = new SignedS3Client(
      {
        endpoint: agent.endpoint,
        region: 'fr-par',
        accessKeyId: agent.accessKeyId,
        secretAccessKey: agent.secretAccessKey,
      },
      retentionConcurrency,
    );
    let extendedUntilMs = until.getTime();
    const started = process.hrtime.bigint();
    await inParallel(retentionCalls, retentionConcurrency, async (index) => {
      // Each call moves the date one second later, as Veeam's periodic extensions do.
      extendedUntilMs += 1000;
      const body = Buffer.from(
        `<Retention><Mode>COMPLIANCE</Mode><RetainUntilDate>${new Date(extendedUntilMs).toISOString()}</RetainUntilDate></Retention>`,
      );
      const response = await client.request({
        method: 'PUT',
        path: `/locked/${written[index % written.length]}`,
        query: { retention: '' },
        headers: { 'content-md5': createHash('md5').update(body).digest('base64') },
        body,
        keepBody: true,
      });
      if (response.status !== 200) throw new Error(`PutObjectRetention: ${response.status} ${response.body}`);
    });
    console.log(
      `PutObjectRetention, ${retentionConcurrency} at a time: ${(retentionCalls / seconds(started)).toFixed(0)} calls/s`,
    );
    client.close();
  } finally {
    s3.destroy();
    await agent.destroy();
  }
}
