import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { type DriveError, FaultyDrive, LocalDrive } from '../../agent/disk/index.ts';

async function makeFaulty(t: ExecutionContext, seed: number): Promise<FaultyDrive> {
  const root = await mkdtemp(join(tmpdir(), 'coffre-faulty-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  return new FaultyDrive(new LocalDrive(root), { seed });
}

test('faulty drive: fails the chosen call with the chosen code, after N calls, for a number of times', async (t) => {
  const drive = await makeFaulty(t, 1);
  await drive.writeFileAtomic('f', Buffer.from('data'));
  drive.addFault({ operations: ['readFile'], afterCalls: 1, times: 2, effect: { fail: 'DRIVE_OFFLINE' } });
  t.is(Buffer.from(await drive.readFile('f')).toString(), 'data');
  for (let attempt = 0; attempt < 2; attempt += 1) {
    const error = await t.throwsAsync<DriveError>(drive.readFile('f'));
    t.is(error?.code, 'DRIVE_OFFLINE');
  }
  t.is(Buffer.from(await drive.readFile('f')).toString(), 'data');
  t.is(drive.faultsInjected, 2);
  t.is(drive.calls.get('readFile'), 4);
});

test('faulty drive: corrupt flips exactly one bit of what is read, the same bit for the same seed', async (t) => {
  const flipped: number[] = [];
  for (const seed of [7, 7, 8]) {
    const drive = await makeFaulty(t, seed);
    const data = Buffer.alloc(4096, 0);
    await drive.writeFileAtomic('f', data);
    drive.addFault({ operations: ['readRange'], pathIncludes: 'f', effect: 'corrupt' });
    const read = Buffer.from(await drive.readRange('f', 0, 4096));
    const differing = [...read.entries()].filter(([, byte]) => byte !== 0);
    t.is(differing.length, 1);
    t.is(differing[0][1].toString(2).replaceAll('0', ''), '1', 'a single bit');
    flipped.push(differing[0][0] * 8 + Math.log2(differing[0][1]));
  }
  t.is(flipped[0], flipped[1]);
  t.not(flipped[0], flipped[2]);
});

test('faulty drive: a range reader draws the readRange faults per read (counted as readRange calls)', async (t) => {
  const drive = await makeFaulty(t, 5);
  await drive.writeFileAtomic('g', Buffer.alloc(1024, 0));
  const reader = await drive.openRangeReader('g');
  const callsBefore = drive.calls.get('readRange') ?? 0;
  t.deepEqual([...(await reader.read(0, 16))], new Array(16).fill(0));
  drive.addFault({ operations: ['readRange'], pathIncludes: 'g', effect: { fail: 'CORRUPT' }, times: 1 });
  await t.throwsAsync(reader.read(0, 16), { message: /injected CORRUPT/ });
  t.is((await reader.read(16, 16)).byteLength, 16, 'the fault was for one read only');
  t.is((drive.calls.get('readRange') ?? 0) - callsBefore, 3);
  await reader.close();
});

test('faulty drive: corrupting a streamed write stores a flipped bit; offline fails everything', async (t) => {
  const drive = await makeFaulty(t, 3);
  drive.addFault({ operations: ['write'], times: 1, effect: 'corrupt' });
  const writer = await drive.createFileWriter('s');
  await writer.write([Buffer.alloc(100, 1)]);
  await writer.finish();
  const stored = Buffer.from(await drive.inner.readFile('s'));
  t.is([...stored].filter((byte) => byte !== 1).length, 1);
  drive.setOffline(true);
  const error = await t.throwsAsync<DriveError>(drive.list(''));
  t.is(error?.code, 'DRIVE_OFFLINE');
  drive.setOffline(false);
  t.deepEqual(await drive.list(''), ['s']);
});

test('faulty drive: probabilistic faults replay identically from the seed', async (t) => {
  const outcomes: string[] = [];
  for (const seed of [99, 99]) {
    const drive = await makeFaulty(t, seed);
    await drive.writeFileAtomic('f', Buffer.from('x'));
    drive.addFault({ operations: ['stat'], probability: 0.3, effect: { fail: 'CORRUPT' } });
    let pattern = '';
    for (let call = 0; call < 40; call += 1) {
      pattern += await drive.stat('f').then(
        () => '.',
        () => 'x',
      );
    }
    outcomes.push(pattern);
  }
  t.is(outcomes[0], outcomes[1]);
  t.true(outcomes[0].includes('x') && outcomes[0].includes('.'));
});
