// The worker thread behind IndexCheckpointer (index-checkpointer.ts): its own connection to the
// listing index, which runs a PASSIVE checkpoint of the write-ahead log whenever asked, and closes
// when told (then flags it in shared memory, for the parent waits on it synchronously).
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';
import type { CheckpointRequest, CheckpointResponse } from './index-checkpointer.ts';

const { databasePath, closed } = workerData as { databasePath: string; closed: Int32Array };

/** Tells the parent, which may be waiting in close(), that this connection is gone. */
function flagClosed(): void {
  Atomics.store(closed, 0, 1);
  Atomics.notify(closed, 0);
}

let database: DatabaseSync;
let checkpoint: StatementSync;
try {
  database = new DatabaseSync(databasePath);
  // The log and then the database are synced around each checkpoint (NORMAL in WAL mode). The
  // connection never writes, so it never checkpoints on its own; it must not wait long on a lock.
  database.exec('PRAGMA synchronous = NORMAL');
  database.exec('PRAGMA busy_timeout = 100');
  checkpoint = database.prepare('PRAGMA wal_checkpoint(PASSIVE)');
} catch (error) {
  flagClosed();
  throw error;
}

function reply(response: CheckpointResponse): void {
  parentPort!.postMessage(response);
}

parentPort!.on('message', (request: CheckpointRequest) => {
  if (request.kind === 'close') {
    database.close();
    flagClosed();
    parentPort!.close();
    return;
  }
  try {
    const row = checkpoint.get() as { busy: number; log: number; checkpointed: number };
    reply({ kind: 'checkpointed', logPages: row.log, copiedPages: row.checkpointed });
  } catch (error) {
    reply({ kind: 'failed', message: String((error as Error)?.message ?? error) });
  }
});
