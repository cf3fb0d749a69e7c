import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { LocalDrive } from '../../agent/disk/index.ts';
import { assertDeletable } from '../../agent/objects/objects.ts';
import type { ObjectVersionRecord } from '../../agent/objects/records.ts';
import { RetentionClock, RetentionClockError } from '../../agent/objects/retention-clock.ts';
import { testClock } from './helpers.ts';

const dayMs = 86_400_000;

async function drive(t: ExecutionContext): Promise<LocalDrive> {
  const directory = await mkdtemp(join(tmpdir(), 'coffre-retention-clock-'));
  t.teardown(() => rm(directory, { recursive: true, force: true }));
  return new LocalDrive(directory);
}

function lockedVersion(retainUntilMs: number): ObjectVersionRecord {
  return {
    bucket: 'vault',
    key: 'block',
    versionId: 'v1',
    sequence: 's1',
    isDeleteMarker: false,
    sizeBytes: 1,
    etag: 'e',
    lastModifiedMs: 0,
    storageClass: 'STANDARD',
    headers: {},
    userMetadata: {},
    tags: {},
    checksum: null,
    multipart: null,
    retention: { mode: 'COMPLIANCE', retainUntilMs },
    legalHold: false,
    encryption: null,
  };
}

test('retention clock: the wall clock moved back a year does not move now() back', async (t) => {
  const wall = testClock(Date.UTC(2026, 10, 29));
  const clock = await RetentionClock.open({ drive: await drive(t), clock: wall.now });
  const before = clock.now();
  wall.advance(-365 * dayMs);
  t.is(clock.now(), before);
  t.is(clock.wallClockLagMs(), 365 * dayMs);
  wall.set(before + 1000);
  t.is(clock.now(), before + 1000);
});

test('retention clock: a restart with the wall clock set back resumes from the persisted mark', async (t) => {
  const disk = await drive(t);
  const wall = testClock(Date.UTC(2026, 10, 29));
  const first = await RetentionClock.open({ drive: disk, clock: wall.now });
  wall.advance(3 * dayMs);
  const reached = first.now();
  await first.close();
  wall.set(Date.UTC(2020, 0, 1));
  const second = await RetentionClock.open({ drive: disk, clock: wall.now });
  t.is(second.now(), reached);
});

test('retention clock: a COMPLIANCE-locked version stays locked when the clock is moved back, in the run and after a restart', async (t) => {
  const disk = await drive(t);
  const wall = testClock(Date.UTC(2026, 10, 29));
  const clock = await RetentionClock.open({ drive: disk, clock: wall.now, persistIntervalMs: 1000 });
  // Written with a 30-day default retention while the wall clock read 2026-11-29.
  const version = lockedVersion(clock.now() + 30 * dayMs);
  // 31 days later the lock has expired...
  wall.advance(31 * dayMs);
  t.notThrows(() => assertDeletable(version, clock.now(), false));
  // ...but a version written then with the wall clock set back two years gets its date from the mark.
  wall.advance(-2 * 365 * dayMs);
  const writtenWhileBack = lockedVersion(clock.now() + 30 * dayMs);
  t.is(writtenWhileBack.retention?.retainUntilMs, Date.UTC(2026, 10, 29) + 61 * dayMs);
  t.throws(() => assertDeletable(writtenWhileBack, clock.now(), false), { message: /object lock/ });
  await clock.close();
  const restarted = await RetentionClock.open({ drive: disk, clock: wall.now });
  t.throws(() => assertDeletable(writtenWhileBack, restarted.now(), false), { message: /object lock/ });
  t.throws(() => assertDeletable(writtenWhileBack, restarted.now(), true), { message: /object lock/ });
});

test('retention clock: the mark is persisted by reads once it runs past the interval', async (t) => {
  const disk = await drive(t);
  const wall = testClock(Date.UTC(2026, 10, 29));
  const clock = await RetentionClock.open({ drive: disk, clock: wall.now, persistIntervalMs: 1000 });
  wall.advance(5000);
  const reached = clock.now();
  await clock.persist();
  // A crash now (no close): the next start still knows the mark.
  wall.set(0);
  t.is((await RetentionClock.open({ drive: disk, clock: wall.now })).now(), reached);
});

test('retention clock: a damaged mark file stops the start rather than trusting the wall clock', async (t) => {
  const disk = await drive(t);
  await writeFile(
    join(disk.description, 'retention-clock.json'),
    '{"magic":"coffre.retention-clock","formatVersion":1}',
  );
  await t.throwsAsync(RetentionClock.open({ drive: disk }), { instanceOf: RetentionClockError });
  await writeFile(join(disk.description, 'retention-clock.json'), 'garbage');
  await t.throwsAsync(RetentionClock.open({ drive: disk }), { instanceOf: RetentionClockError });
});

test('retention clock: reads the version 1 file format', async (t) => {
  const disk = await drive(t);
  await writeFile(
    join(disk.description, 'retention-clock.json'),
    '{"magic":"coffre.retention-clock","formatVersion":1,"highWaterMs":4102444800000}\n',
  );
  const clock = await RetentionClock.open({ drive: disk, clock: () => 0 });
  t.is(clock.now(), 4102444800000);
});
