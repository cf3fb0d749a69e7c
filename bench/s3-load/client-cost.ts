// Which client costs less CPU per request: the AWS SDK for JavaScript v3 (S3Client with its
// defaults, which include a CRC32 of every body, "requestChecksumCalculation: WHEN_SUPPORTED") or
// the raw signed HTTP client of this suite. Client and server share the same cores, so the load
// generator uses the cheaper one; the suite prints both figures so the choice can be checked.
import http from 'node:http';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { type CellResult, runCell } from './cell.ts';
import type { PayloadPool } from './payload.ts';
import type { S3Target, SignedS3Client } from './signed-client.ts';

export interface ClientCost {
  label: string;
  sdk: CellResult;
  raw: CellResult;
}

export async function measureClientCost(options: {
  target: S3Target;
  rawClient: SignedS3Client;
  bucket: string;
  serverPid: number;
  pool: PayloadPool;
  durationMs: number;
}): Promise<ClientCost[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  const sdk = new S3Client({
    endpoint: options.target.endpoint,
    region: options.target.region,
    credentials: { accessKeyId: options.target.accessKeyId, secretAccessKey: options.target.secretAccessKey },
    forcePathStyle: true,
    requestHandler: { httpAgent: agent },
  });
  const results: ClientCost[] = [];
  try {
    for (const { sizeBytes, concurrency, label } of [
      { sizeBytes: 4096, concurrency: 16, label: 'PUT 4 KiB c16' },
      { sizeBytes: 1024 * 1024, concurrency: 4, label: 'PUT 1 MiB c4' },
    ]) {
      const cell = (name: string, put: (key: string, body: Buffer) => Promise<unknown>) =>
        runCell({
          label: `${label} ${name}`,
          concurrency,
          durationMs: options.durationMs,
          maximumOperations: 100_000,
          serverPid: options.serverPid,
          operation: async (worker, sequence) => {
            await put(
              `client-cost/${name}/${worker}/${sequence % 8}`,
              options.pool.bytes(sizeBytes, sequence),
            );
            return sizeBytes;
          },
        });
      const sdkResult = await cell('sdk', (key, body) =>
        sdk.send(new PutObjectCommand({ Bucket: options.bucket, Key: key, Body: body })),
      );
      const rawResult = await cell('raw', (key, body) =>
        options.rawClient.request({ method: 'PUT', path: `/${options.bucket}/${key}`, body }),
      );
      results.push({ label, sdk: sdkResult, raw: rawResult });
    }
  } finally {
    sdk.destroy();
    agent.destroy();
  }
  return results;
}
