// `npm run bench s3-objects`: the object operations end to end, through the real agent (`node
// agent/main.ts` on 127.0.0.1, a fresh data directory) and the AWS SDK v3 with its default CRC32
// trailer: one large PUT and GET, a multipart upload, and small PUTs one at a time.
// BENCH_S3_OBJECT_MIB sets the large object's size (default 64), BENCH_S3_SMALL_PUTS the count (200).
import { randomBytes } from 'node:crypto';
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { startAgent } from '../test/support/agent-process.ts';

const largeMebibytes = Number(process.env.BENCH_S3_OBJECT_MIB ?? 64);
const smallPuts = Number(process.env.BENCH_S3_SMALL_PUTS ?? 200);

function seconds(startedNs: bigint): number {
  return Number(process.hrtime.bigint() - startedNs) / 1e9;
}

export async function run(): Promise<void> {
  const agent = await startAgent();
  const s3 = new S3Client({
    endpoint: agent.endpoint,
    region: 'fr-par',
    forcePathStyle: true,
    credentials: { accessKeyId: agent.accessKeyId, secretAccessKey: agent.secretAccessKey },
  });
  try {
    await s3.send(new CreateBucketCommand({ Bucket: 'bench' }));
    const large = randomBytes(largeMebibytes * 1024 * 1024);
    let started = process.hrtime.bigint();
    await s3.send(new PutObjectCommand({ Bucket: 'bench', Key: 'large', Body: large }));
    console.log(
      `PutObject ${largeMebibytes} MiB (CRC32 trailer): ${(largeMebibytes / seconds(started)).toFixed(1)} MiB/s`,
    );
    started = process.hrtime.bigint();
    const got = await s3.send(new GetObjectCommand({ Bucket: 'bench', Key: 'large' }));
    let readBytes = 0;
    for await (const chunk of got.Body as AsyncIterable<Uint8Array>) readBytes += chunk.length;
    console.log(
      `GetObject ${readBytes / 1024 / 1024} MiB: ${(largeMebibytes / seconds(started)).toFixed(1)} MiB/s`,
    );
    started = process.hrtime.bigint();
    await new Upload({
      client: s3,
      params: { Bucket: 'bench', Key: 'multipart', Body: large },
      partSize: 8 * 1024 * 1024,
      queueSize: 2,
    }).done();
    const parts = (await s3.send(new HeadObjectCommand({ Bucket: 'bench', Key: 'multipart', PartNumber: 1 })))
      .PartsCount;
    console.log(
      `multipart ${largeMebibytes} MiB in ${parts} parts of 8 MiB, 2 at a time: ${(largeMebibytes / seconds(started)).toFixed(1)} MiB/s`,
    );
    const small = randomBytes(4096);
    started = process.hrtime.bigint();
    for (let index = 0; index < smallPuts; index += 1) {
      await s3.send(new PutObjectCommand({ Bucket: 'bench', Key: `small/${index}`, Body: small }));
    }
    console.log(`PutObject 4 KiB, one at a time: ${(smallPuts / seconds(started)).toFixed(0)} objects/s`);
  } finally {
    s3.destroy();
    await agent.destroy();
  }
}
