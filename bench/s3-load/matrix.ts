// PUT then GET of each object size at each concurrency. PUT workers write over a ring of keys per
// worker sized so that what is stored stays under a named bound (64 MiB at concurrency 64 is one
// key per worker, overwritten); GET cells read the keys the last PUT cell left; each size's keys
// are deleted before the next size starts, and the next size waits for that to settle (settle()).
import { deletePrefix } from './bucket-ops.ts';
import { type CellResult, runCell } from './cell.ts';
import type { PayloadPool } from './payload.ts';
import { settle } from './process-stats.ts';
import type { SignedS3Client } from './signed-client.ts';

export interface MatrixOptions {
  client: SignedS3Client;
  bucket: string;
  serverPid: number;
  serverDirectory: string;
  pool: PayloadPool;
  sizesBytes: number[];
  concurrencies: number[];
  durationMs: number;
  maximumOperationsPerCell: number;
  /** Logical bytes a PUT cell may leave stored (at least one object per worker whatever this says). */
  storedBytesBound: number;
  onCell: (result: CellResult) => void;
}

export function sizeLabel(bytes: number): string {
  if (bytes >= 1024 ** 3 && bytes % 1024 ** 3 === 0) return `${bytes / 1024 ** 3} GiB`;
  if (bytes >= 1024 ** 2 && bytes % 1024 ** 2 === 0) return `${bytes / 1024 ** 2} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} B`;
}

function keyRingSize(sizeBytes: number, concurrency: number, storedBytesBound: number): number {
  return Math.max(1, Math.floor(storedBytesBound / (sizeBytes * concurrency)));
}

export async function runPutGetMatrix(options: MatrixOptions): Promise<void> {
  const { client, bucket } = options;
  for (const sizeBytes of options.sizesBytes) {
    const prefix = `matrix/${sizeBytes}/`;
    let lastWriters = 0;
    for (const concurrency of options.concurrencies) {
      const ring = keyRingSize(sizeBytes, concurrency, options.storedBytesBound);
      const result = await runCell({
        label: `PUT ${sizeLabel(sizeBytes)}`,
        concurrency,
        durationMs: options.durationMs,
        maximumOperations: options.maximumOperationsPerCell,
        serverPid: options.serverPid,
        operation: async (worker, sequence) => {
          await client.request({
            method: 'PUT',
            path: `/${bucket}/${prefix}${worker}/${sequence % ring}`,
            body: options.pool.body(sizeBytes, worker * 7919 + sequence),
          });
          return sizeBytes;
        },
      });
      options.onCell(result);
      if (result.operations > 0) lastWriters = concurrency;
    }
    // Every worker of the last PUT cell wrote key 0 of its ring at least (each runs once).
    for (const concurrency of options.concurrencies) {
      if (lastWriters === 0) break;
      options.onCell(
        await runCell({
          label: `GET ${sizeLabel(sizeBytes)}`,
          concurrency,
          durationMs: options.durationMs,
          maximumOperations: options.maximumOperationsPerCell,
          serverPid: options.serverPid,
          operation: async (worker, sequence) => {
            const writer = (worker + sequence) % lastWriters;
            const response = await client.request({ method: 'GET', path: `/${bucket}/${prefix}${writer}/0` });
            if (response.bodyBytes !== sizeBytes) {
              throw new Error(`GET returned ${response.bodyBytes} bytes, expected ${sizeBytes}`);
            }
            return sizeBytes;
          },
        }),
      );
    }
    await deletePrefix(client, bucket, prefix);
    // The next size starts once this one's deletions and writes are done (see settle).
    await settle(options.serverPid, options.serverDirectory);
  }
}
