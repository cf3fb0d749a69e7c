import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DatabaseSync, SQLInputValue, StatementResultingChanges } from 'node:sqlite';
import test from 'ava';
import { isObjectError } from '../../agent/objects/errors.ts';
import { openIndexDatabase, WriteAheadLogSync } from '../../agent/objects/index-database.ts';
import { KeyedMutex, KeyedSharedLock } from '../../agent/objects/keyed-mutex.ts';
import { ObjectIndex } from '../../agent/objects/object-index.ts';
import type { UploadRecord } from '../../agent/objects/records.ts';
import { bucketIdOf } from '../../agent/objects/records.ts';
import { bodyOf, createBucket, openHarness, readText, tenant } from './helpers.ts';
import type { MemoryErasureSet } from './memory-erasure-set.ts';

/** A body that yields one chunk, then waits for `gate` before the rest. */
function pausedBody(gate: Promise<void>, first: string, rest: string): AsyncIterable<Uint8Array> {
  return (async function* () {
    yield Buffer.from(first);
    await gate;
    yield Buffer.from(rest);
  })();
}

test('delete bucket while a put streams its body: the bucket goes, the put fails NoSuchBucket and stores nothing', async (t) => {
  const harness = await openHarness(t);
  await createBucket(harness, 'racy');
  let open!: () => void;
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  const put = harness.layer.objects.put({
    bucket: bucketIdOf(tenant, 'racy'),
    key: 'k',
    body: pausedBody(gate, 'a', 'b'),
  });
  await new Promise((resolve) => setImmediate(resolve));
  await harness.layer.buckets.delete(bucketIdOf(tenant, 'racy'));
  open();
  t.true(isObjectError(await t.throwsAsync(put), 'NoSuchBucket'));
  t.is([...harness.memory!.entries.keys()].filter((key) => key.startsWith('["tenant-a/racy"')).length, 0);
});

test('puts of different keys commit in parallel; puts of one key keep newest-last order', async (t) => {
  const harness = await openHarness(t);
  await createBucket(harness, 'para', { versioning: 'Enabled' });
  let open!: () => void;
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  // A put of key "slow" is stuck mid-body; a put of another key still completes.
  const slow = harness.layer.objects.put({
    bucket: bucketIdOf(tenant, 'para'),
    key: 'slow',
    body: pausedBody(gate, 'x', 'y'),
  });
  await harness.layer.objects.put({ bucket: bucketIdOf(tenant, 'para'), key: 'fast', body: bodyOf('z') });
  t.is(harness.layer.listing.listObjectsV2({ bucket: bucketIdOf(tenant, 'para') }).keyCount, 1);
  open();
  await slow;
  const puts = await Promise.all(
    Array.from({ length: 10 }, (_, index) =>
      harness.layer.objects.put({
        bucket: bucketIdOf(tenant, 'para'),
        key: 'same',
        body: bodyOf(`body ${index}`),
      }),
    ),
  );
  const bodies = new Map(puts.map((put, index) => [put.versionId, `body ${index}`]));
  const newestId = [...bodies.keys()].sort().at(-1)!;
  t.is(harness.layer.objects.head({ bucket: bucketIdOf(tenant, 'para'), key: 'same' }).versionId, newestId);
  t.is(
    await readText(
      (await harness.layer.objects.get({ bucket: bucketIdOf(tenant, 'para'), key: 'same' })).body,
    ),
    bodies.get(newestId)!,
  );
  t.is(
    harness.layer.listing.listObjectVersions({ bucket: bucketIdOf(tenant, 'para'), prefix: 'same' }).versions
      .length,
    10,
  );
});

test('rebuildIndex while puts are in flight: every committed put is listed afterwards, none twice', async (t) => {
  const harness = await openHarness(t);
  await createBucket(harness, 'busy', { versioning: 'Enabled' });
  const puts = Array.from({ length: 30 }, (_, index) =>
    harness.layer.objects.put({
      bucket: bucketIdOf(tenant, 'busy'),
      key: `k${String(index).padStart(2, '0')}`,
      body: bodyOf('a', 'b', 'c'),
    }),
  );
  const rebuild = harness.layer.rebuildIndex();
  await Promise.all([...puts, rebuild]);
  const listed = harness.layer.listing
    .listObjectVersions({ bucket: bucketIdOf(tenant, 'busy') })
    .versions.map((version) => version.key);
  t.deepEqual(
    listed,
    Array.from({ length: 30 }, (_, index) => `k${String(index).padStart(2, '0')}`),
  );
  await harness.layer.rebuildIndex();
  t.deepEqual(
    harness.layer.listing
      .listObjectVersions({ bucket: bucketIdOf(tenant, 'busy') })
      .versions.map((version) => version.key),
    listed,
  );
});

test('KeyedSharedLock: shared holders overlap; an exclusive waits for them and later shared requests wait for it', async (t) => {
  const lock = new KeyedSharedLock();
  const order: string[] = [];
  const first = await lock.acquire('b', 'shared');
  const second = await lock.acquire('b', 'shared');
  const exclusive = lock.acquire('b', 'exclusive').then((release) => {
    order.push('exclusive');
    return release;
  });
  const lateShared = lock.acquire('b', 'shared').then((release) => {
    order.push('late shared');
    return release;
  });
  const otherName = await lock.acquire('other', 'exclusive');
  order.push('other name');
  first();
  await new Promise((resolve) => setImmediate(resolve));
  t.deepEqual(order, ['other name'], 'the exclusive still waits for the second shared holder');
  second();
  (await exclusive)();
  (await lateShared)();
  otherName();
  t.deepEqual(order, ['other name', 'exclusive', 'late shared']);
});

test('KeyedMutex: one holder per name at a time, in arrival order, and idle names are forgotten', async (t) => {
  const mutex = new KeyedMutex();
  const order: number[] = [];
  await Promise.all(
    [1, 2, 3].map((value) =>
      mutex.run('k', async () => {
        order.push(value);
        await new Promise((resolve) => setImmediate(resolve));
        order.push(-value);
      }),
    ),
  );
  t.deepEqual(order, [1, -1, 2, -2, 3, -3]);
  t.is(mutex.size, 0);
});

/** The SQL of every statement run from now on (transaction control included: it is prepared once and run). */
function recordStatementsRun(database: DatabaseSync): string[] {
  const executed: string[] = [];
  const exec = database.exec.bind(database);
  database.exec = (sql: string) => {
    executed.push(sql);
    exec(sql);
  };
  const prepare = database.prepare.bind(database);
  database.prepare = (sql: string) => {
    const statement = prepare(sql);
    const run = statement.run.bind(statement) as (
      ...parameters: SQLInputValue[]
    ) => StatementResultingChanges;
    statement.run = ((...parameters: SQLInputValue[]) => {
      executed.push(sql);
      return run(...parameters);
    }) as typeof statement.run;
    return statement;
  };
  return executed;
}

test('intents and index updates asked for in one event-loop turn share one transaction and one WAL fsync', async (t) => {
  const directory = await mkdtemp(join(tmpdir(), 'coffre-intents-'));
  t.teardown(() => rm(directory, { recursive: true, force: true }));
  const { database } = openIndexDatabase(join(directory, 'index.sqlite'));
  t.teardown(() => database.close());
  const index = new ObjectIndex(database);
  t.teardown(() => index.close());
  const executed = recordStatementsRun(database);
  const [ids, updated] = await Promise.all([
    Promise.all(
      Array.from({ length: 8 }, (_, position) =>
        index.recordIntent('write', { bucket: 'b', key: `k${position}`, versionId: 'v' }),
      ),
    ),
    index.updateLater(() => {
      index.putUpload({ bucket: 'b', key: 'u', uploadId: 'u1', initiatedMs: 1 } as UploadRecord);
      return 'indexed';
    }),
  ]);
  t.is(new Set(ids).size, 8);
  t.is(updated, 'indexed');
  t.is(executed.filter((sql) => sql === 'BEGIN IMMEDIATE').length, 1);
  // Durable by an fdatasync of the write-ahead log off the event loop, not by SQLite's own fsync.
  t.is(executed.filter((sql) => sql === 'PRAGMA synchronous = FULL').length, 0);
  t.deepEqual(index.groupCommitMetrics, { commits: 1, logSyncs: 1 });
  t.is(index.allIntents().length, 8);
  t.is(index.getUpload('u1')?.key, 'u');
  // A transaction that records an intent must be a durable one.
  t.throws(
    () => index.transaction(() => index.addIntent('delete', { bucket: 'b', key: 'k', versionId: 'v' })),
    {
      message: /durably/,
    },
  );
});

test('an index update that throws in a group transaction is rolled back alone', async (t) => {
  const directory = await mkdtemp(join(tmpdir(), 'coffre-intents-'));
  t.teardown(() => rm(directory, { recursive: true, force: true }));
  const { database } = openIndexDatabase(join(directory, 'index.sqlite'));
  t.teardown(() => database.close());
  const index = new ObjectIndex(database);
  t.teardown(() => index.close());
  const upload = (uploadId: string) =>
    ({ bucket: 'b', key: uploadId, uploadId, initiatedMs: 1 }) as UploadRecord;
  const failing = index.updateLater(() => {
    index.putUpload(upload('lost'));
    throw new Error('refused');
  });
  const kept = index.updateLater(() => index.putUpload(upload('kept')));
  const intent = index.recordIntent('write', { bucket: 'b', key: 'k', versionId: 'v' });
  await t.throwsAsync(failing, { message: 'refused' });
  await kept;
  t.true((await intent) > 0);
  t.is(index.getUpload('lost'), null);
  t.is(index.getUpload('kept')?.key, 'kept');
  t.is(index.groupCommitMetrics.commits, 1);
});

test('closing the layer fails a pending put instead of leaving it hanging', async (t) => {
  const harness = await openHarness(t);
  await createBucket(harness, 'group', { versioning: 'Enabled' });
  const pending = harness.layer.objects.put({
    bucket: bucketIdOf(tenant, 'group'),
    key: 'late',
    body: bodyOf('y'),
  });
  harness.layer.close();
  await t.throwsAsync(pending);
});

test('an index not in WAL mode commits its intents with synchronous=FULL (no WAL file to sync)', async (t) => {
  const directory = await mkdtemp(join(tmpdir(), 'coffre-intents-'));
  t.teardown(() => rm(directory, { recursive: true, force: true }));
  const { database } = openIndexDatabase(join(directory, 'index.sqlite'));
  t.teardown(() => database.close());
  database.exec('PRAGMA journal_mode = DELETE');
  const index = new ObjectIndex(database);
  t.teardown(() => index.close());
  const executed = recordStatementsRun(database);
  t.true((await index.recordIntent('write', { bucket: 'b', key: 'k', versionId: 'v' })) > 0);
  t.true(executed.includes('PRAGMA synchronous = FULL'));
  t.deepEqual(index.groupCommitMetrics, { commits: 1, logSyncs: 0 });
});

test('WAL sync: calls made while an fdatasync runs share the next one (four calls, two syncs)', async (t) => {
  const directory = await mkdtemp(join(tmpdir(), 'coffre-wal-sync-'));
  t.teardown(() => rm(directory, { recursive: true, force: true }));
  const path = join(directory, 'index.sqlite');
  const { database } = openIndexDatabase(path);
  t.teardown(() => database.close());
  database.exec("INSERT INTO meta (name, value) VALUES ('probe', '1')");
  const logSync = new WriteAheadLogSync(path);
  t.teardown(() => logSync.close());
  const first = logSync.sync();
  const queued = [logSync.sync(), logSync.sync(), logSync.sync()];
  t.is(queued[0], queued[2], 'the calls made during the first sync wait for one and the same next sync');
  await Promise.all([first, ...queued]);
  t.is(logSync.syncs, 2);
  await logSync.sync();
  t.is(logSync.syncs, 3);
});

/**
 * Holds the next store commit of `memory` after its finalize has run (the key lock is held, the
 * write's conditions were checked, its version not yet indexed) until the returned `open` is called.
 */
function holdNextCommit(memory: MemoryErasureSet): { held: Promise<void>; open: () => void } {
  const write = memory.writeVersion.bind(memory);
  let open!: () => void;
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  let reached!: () => void;
  const held = new Promise<void>((resolve) => {
    reached = resolve;
  });
  memory.writeVersion = (address, body, options) => {
    memory.writeVersion = write;
    return write(address, body, {
      ...options,
      finalize: async (summary) => {
        const metadata = await options.finalize(summary);
        reached();
        await gate;
        return metadata;
      },
    });
  };
  return { held, open };
}

for (const versioning of ['Unversioned', 'Enabled'] as const) {
  test(`conditional delete racing a put of the same key (${versioning}): the If-Match is decided under the key lock, so it fails on the new object instead of deleting it`, async (t) => {
    const harness = await openHarness(t);
    await createBucket(harness, 'race', versioning === 'Enabled' ? { versioning } : {});
    const bucket = bucketIdOf(tenant, 'race');
    const first = await harness.layer.objects.put({ bucket, key: 'k', body: bodyOf('first') });
    // The second put holds the key lock between its commit decision and its index update.
    const hold = holdNextCommit(harness.memory!);
    const second = harness.layer.objects.put({ bucket, key: 'k', body: bodyOf('second') });
    await hold.held;
    // The delete names the first object's ETag, still the current one in the index at this moment.
    const conditionalDelete = harness.layer.objects.delete({ bucket, key: 'k', ifMatch: `"${first.etag}"` });
    for (let turn = 0; turn < 10; turn += 1) await new Promise((resolve) => setImmediate(resolve));
    hold.open();
    const written = await second;
    t.true(isObjectError(await t.throwsAsync(conditionalDelete), 'PreconditionFailed'));
    const current = harness.layer.objects.head({ bucket, key: 'k' });
    t.is(current.versionId, written.versionId);
    t.is(await readText((await harness.layer.objects.get({ bucket, key: 'k' })).body), 'second');
    const history = harness.layer.listing.listObjectVersions({ bucket, prefix: 'k' }).versions;
    t.is(history.filter((version) => version.isDeleteMarker).length, 0);
    t.is(history.length, versioning === 'Enabled' ? 2 : 1);
  });
}
