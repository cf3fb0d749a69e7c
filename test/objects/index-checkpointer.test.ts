// The listing index's write-ahead log is checkpointed by a worker thread with its own connection
// (agent/objects/index-checkpointer.ts), not by the event loop's commits: these tests look at the
// real SQLite files from a third connection.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import test, { type ExecutionContext } from 'ava';
import {
  checkpointIntervalMs,
  fallbackCheckpointPages,
  IndexCheckpointer,
  maximumWorkerStarts,
} from '../../agent/objects/index-checkpointer.ts';
import { openIndexDatabase } from '../../agent/objects/index-database.ts';
import { ObjectIndex } from '../../agent/objects/object-index.ts';
import type { UploadRecord } from '../../agent/objects/records.ts';
import { eventually } from '../support/eventually.ts';

async function openIndex(t: ExecutionContext) {
  const directory = await mkdtemp(join(tmpdir(), 'coffre-checkpoint-'));
  t.teardown(() => rm(directory, { recursive: true, force: true }));
  const path = join(directory, 'index.sqlite');
  const { database } = openIndexDatabase(path);
  const index = new ObjectIndex(database);
  return { path, database, index };
}

function putUploads(index: ObjectIndex, from: number, count: number): void {
  index.transaction(() => {
    for (let position = from; position < from + count; position += 1) {
      const uploadId = `upload-${position}`;
      index.putUpload({ bucket: 'b', key: uploadId, uploadId, initiatedMs: position } as UploadRecord);
    }
  });
}

test('index checkpoints: the worker copies the committed log into the database; the event loop only keeps a far larger bound', async (t) => {
  const { path, database, index } = await openIndex(t);
  t.teardown(() => {
    index.close();
    database.close();
  });
  t.is(
    (database.prepare('PRAGMA wal_autocheckpoint').get() as { wal_autocheckpoint: number })
      .wal_autocheckpoint,
    fallbackCheckpointPages,
  );
  putUploads(index, 0, 500);
  t.true(await eventually(() => index.checkpointMetrics.checkpoints >= 1), 'a checkpoint ran in the worker');
  t.is(index.checkpointMetrics.lastError, null);
  // A third connection sees every frame of the log already in the database: its own passive
  // checkpoint finds nothing left to copy.
  const observer = new DatabaseSync(path);
  t.teardown(() => observer.close());
  const state = observer.prepare('PRAGMA wal_checkpoint(PASSIVE)').get() as {
    log: number;
    checkpointed: number;
  };
  t.true(state.log > 0);
  t.is(state.checkpointed, state.log);
  t.is((observer.prepare('SELECT count(*) AS n FROM uploads').get() as { n: number }).n, 500);
});

test('index checkpoints: once the worker has copied the whole log, the next commit writes the log from its start', async (t) => {
  const { path, database, index } = await openIndex(t);
  t.teardown(() => {
    index.close();
    database.close();
  });
  putUploads(index, 0, 2000);
  t.true(await eventually(() => index.checkpointMetrics.checkpoints >= 1));
  const logPages = () => {
    const observer = new DatabaseSync(path, { readOnly: true });
    try {
      // A checkpoint that copies nothing reports the log's length in frames.
      return (observer.prepare('PRAGMA wal_checkpoint(PASSIVE)').get() as { log: number }).log;
    } finally {
      observer.close();
    }
  };
  const before = logPages();
  // After the interval a small commit restarts the log (its few frames replace the large log's).
  await new Promise((resolve) => setTimeout(resolve, checkpointIntervalMs));
  putUploads(index, 2000, 1);
  t.true(await eventually(() => index.checkpointMetrics.checkpoints >= 2));
  t.true(logPages() < before, `the log restarted (${before} frames before)`);
  t.is((database.prepare('SELECT count(*) AS n FROM uploads').get() as { n: number }).n, 2001);
});

test('index checkpoints: closing the index closes the worker connection first, so the log is checkpointed and removed', async (t) => {
  const { path, database, index } = await openIndex(t);
  putUploads(index, 0, 100);
  t.true(await eventually(() => index.checkpointMetrics.checkpoints >= 1));
  t.true(existsSync(`${path}-wal`));
  index.close();
  database.close();
  // SQLite removes the log at the close of the last connection only.
  t.false(existsSync(`${path}-wal`));
  const reopened = new DatabaseSync(path);
  t.teardown(() => reopened.close());
  t.is((reopened.prepare('SELECT count(*) AS n FROM uploads').get() as { n: number }).n, 100);
});

test('index checkpoints: an index that is never written starts no worker and closes at once', async (t) => {
  const { path, database, index } = await openIndex(t);
  index.close();
  database.close();
  t.is(index.checkpointMetrics.checkpoints, 0);
  t.false(existsSync(`${path}-wal`));
});

const pause = (milliseconds: number) => new Promise((resolve) => setTimeout(resolve, milliseconds));

test('index checkpoints: a worker that stops is started again at the next commit, and checkpoints once it can', async (t) => {
  const directory = await mkdtemp(join(tmpdir(), 'coffre-checkpoint-'));
  t.teardown(() => rm(directory, { recursive: true, force: true }));
  // The index is not there yet (its directory is missing): a worker fails to open it and stops.
  const path = join(directory, 'later', 'index.sqlite');
  let gone = 0;
  const checkpointer = new IndexCheckpointer(path, () => {
    gone += 1;
  });
  t.teardown(() => checkpointer.close());
  checkpointer.committed();
  t.is(checkpointer.workerStarts, 1);
  t.true(
    await eventually(() => checkpointer.lastError !== null),
    'the first worker failed to open the index',
  );
  // The index appears; the next commits start a worker again, which checkpoints it.
  await mkdir(join(directory, 'later'));
  const { database } = openIndexDatabase(path);
  const index = new ObjectIndex(database);
  t.teardown(() => {
    index.close();
    database.close();
  });
  putUploads(index, 0, 10);
  for (let attempt = 0; attempt < 50 && checkpointer.checkpoints === 0; attempt += 1) {
    await pause(checkpointIntervalMs + 10);
    checkpointer.committed();
  }
  t.true(checkpointer.checkpoints > 0, 'a worker started again checkpoints');
  t.true(checkpointer.workerStarts >= 2);
  t.is(gone, 0, 'the checkpoints stayed off the event loop');
});

test('index checkpoints: workers that keep stopping before any checkpoint give the checkpoints back to the event loop', async (t) => {
  const directory = await mkdtemp(join(tmpdir(), 'coffre-checkpoint-'));
  t.teardown(() => rm(directory, { recursive: true, force: true }));
  let gone = 0;
  const checkpointer = new IndexCheckpointer(join(directory, 'never', 'index.sqlite'), () => {
    gone += 1;
  });
  t.teardown(() => checkpointer.close());
  for (let attempt = 0; attempt < 100 && gone === 0; attempt += 1) {
    checkpointer.committed();
    await pause(checkpointIntervalMs + 10);
  }
  t.is(gone, 1);
  t.is(checkpointer.workerStarts, maximumWorkerStarts);
  await pause(checkpointIntervalMs + 10);
  checkpointer.committed();
  t.is(checkpointer.workerStarts, maximumWorkerStarts, 'no worker once the checkpoints were given back');
});
