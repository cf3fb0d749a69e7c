import { execFileSync } from 'node:child_process';
import { constants } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, normalize } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import test, { type ExecutionContext } from 'ava';
import { alignedMemory, type DriveError, FaultyDrive, LocalDrive } from '../../agent/disk/index.ts';
import { isPlainRelativePath } from '../../agent/disk/local-drive.ts';

/** The flags this process holds `path` open with, as the kernel reports them (/proc/self/fdinfo). */
async function openFlags(path: string): Promise<number> {
  for (const fd of await readdir('/proc/self/fd')) {
    const target = await readlink(`/proc/self/fd/${fd}`).catch(() => '');
    if (target !== path) continue;
    const info = await readFile(`/proc/self/fdinfo/${fd}`, 'utf8');
    return Number.parseInt(/flags:\s+([0-7]+)/.exec(info)?.[1] ?? '0', 8);
  }
  throw new Error(`${path} is not open`);
}

async function makeDrive(t: ExecutionContext): Promise<{ drive: LocalDrive; root: string }> {
  const root = await mkdtemp(join(tmpdir(), 'coffre-drive-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  return { drive: new LocalDrive(root), root };
}

test('local drive: an atomic write replaces the file and reads back, whole and by range', async (t) => {
  const { drive, root } = await makeDrive(t);
  await drive.writeFileAtomic('a.bin', Buffer.from('first'));
  await drive.writeFileAtomic('a.bin', Buffer.from('0123456789'));
  t.is(Buffer.from(await drive.readFile('a.bin')).toString(), '0123456789');
  t.is(Buffer.from(await drive.readRange('a.bin', 3, 4)).toString(), '3456');
  t.is(Buffer.from(await drive.readRange('a.bin', 8, 10)).toString(), '89', 'short at the end of the file');
  t.deepEqual(await drive.list(''), ['a.bin'], 'no temp file is left beside it');
  t.is((await drive.stat('a.bin')).sizeBytes, 10);
  t.is((await readFile(join(root, 'a.bin'))).toString(), '0123456789');
});

test('local drive: a range reader reads many ranges through one open file, short at its end; a missing file is NOT_FOUND', async (t) => {
  const { drive } = await makeDrive(t);
  await drive.writeFileAtomic('r.bin', Buffer.from('0123456789'));
  const reader = await drive.openRangeReader('r.bin');
  const reads = await Promise.all([reader.read(0, 3), reader.read(5, 2), reader.read(8, 10)]);
  t.deepEqual(
    reads.map((bytes) => Buffer.from(bytes).toString()),
    ['012', '56', '89'],
  );
  await reader.close();
  await reader.close();
  const error = await t.throwsAsync<DriveError>(drive.openRangeReader('absent.bin'));
  t.is(error?.code, 'NOT_FOUND');
});

test('local drive: the streaming writer appends chunks and finish makes the file whole; abort removes it', async (t) => {
  const { drive } = await makeDrive(t);
  await drive.ensureDirectory('deep/er/dir');
  const writer = await drive.createFileWriter('deep/er/dir/f');
  await writer.write([Buffer.from('ab'), Buffer.from(''), Buffer.from('cd')]);
  await writer.write([Buffer.from('e')]);
  await writer.finish();
  t.is(Buffer.from(await drive.readFile('deep/er/dir/f')).toString(), 'abcde');
  const aborted = await drive.createFileWriter('deep/er/dir/g');
  await aborted.write([Buffer.from('partial')]);
  await aborted.abort();
  t.deepEqual(await drive.list('deep/er/dir'), ['f']);
  const error = await t.throwsAsync<DriveError>(drive.createFileWriter('deep/er/dir/f'));
  t.truthy(error, 'creating a file that exists fails');
});

test('local drive: a streamed file is written back as it grows, one writeback per drive at a time, and ends whole', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'coffre-drive-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  const writebackBytes = 64 * 1024;
  const drive = new LocalDrive(root, { writebackBytes });
  const writers = [await drive.createFileWriter('a'), await drive.createFileWriter('b')];
  const expected = [[] as Buffer[], [] as Buffer[]];
  let mostInFlight = 0;
  for (let round = 0; round < 40; round += 1) {
    await Promise.all(
      writers.map((writer, index) => {
        const piece = Buffer.alloc(16 * 1024, (round * 2 + index) % 251);
        expected[index].push(piece);
        return writer.write([piece]);
      }),
    );
    mostInFlight = Math.max(mostInFlight, drive.writebacks.inFlight);
  }
  // 640 KiB per file, so up to ten writebacks each were due; the drive allows one at a time.
  t.true(drive.writebacks.started >= 2, `${drive.writebacks.started} writebacks started`);
  t.true(mostInFlight <= 1, `${mostInFlight} writebacks at once`);
  await Promise.all(writers.map((writer) => writer.finish()));
  t.is(drive.writebacks.inFlight, 0);
  for (const [index, name] of ['a', 'b'].entries()) {
    t.deepEqual(Buffer.from(await drive.readFile(name)), Buffer.concat(expected[index]));
  }
  // A small file never reaches the threshold; one aborted during its writeback is still removed.
  const started = drive.writebacks.started;
  const small = await drive.createFileWriter('small');
  await small.write([Buffer.alloc(writebackBytes - 1)]);
  await small.finish();
  t.is(drive.writebacks.started, started);
  const aborted = await drive.createFileWriter('aborted');
  await aborted.write([Buffer.alloc(writebackBytes)]);
  t.is(drive.writebacks.started, started + 1, 'the write that crossed the threshold started one');
  await aborted.abort();
  t.deepEqual((await drive.list('')).sort(), ['a', 'b', 'small']);
});

test('local drive: rename, remove and list behave, and a missing file is NOT_FOUND', async (t) => {
  const { drive } = await makeDrive(t);
  await drive.ensureDirectory('x');
  await drive.writeFile('x/one', Buffer.from('1'));
  await drive.rename('x/one', 'two');
  t.deepEqual(await drive.list('x'), []);
  t.deepEqual(await drive.list(''), ['two', 'x']);
  await drive.remove('x');
  await drive.remove('x');
  t.deepEqual(await drive.list(''), ['two']);
  for (const call of [() => drive.readFile('nope'), () => drive.list('nope'), () => drive.stat('nope')]) {
    const error = await t.throwsAsync<DriveError>(call());
    t.is(error?.code, 'NOT_FOUND');
  }
});

test("local drive: a removal that names the directory's entries unlinks them and the directory; anything else there is removed too", async (t) => {
  const { drive, root } = await makeDrive(t);
  await mkdir(join(root, 'staging'));
  await writeFile(join(root, 'staging', 'meta'), 'record');
  await drive.remove('staging', { entries: ['meta'] });
  t.deepEqual(await readdir(root), []);
  // More than was named (a shard file never published, a subdirectory): the whole tree goes.
  await mkdir(join(root, 'fuller', 'deeper'), { recursive: true });
  await writeFile(join(root, 'fuller', 'meta'), 'record');
  await writeFile(join(root, 'fuller', 'shard'), 'bytes');
  await writeFile(join(root, 'fuller', 'deeper', 'file'), 'bytes');
  await drive.remove('fuller', { entries: ['meta'] });
  t.deepEqual(await readdir(root), []);
  // A named entry that is a directory is not unlinked, but goes with the tree.
  await mkdir(join(root, 'nested', 'meta'), { recursive: true });
  await drive.remove('nested', { entries: ['meta'] });
  t.deepEqual(await readdir(root), []);
  // Named entries already gone, or the directory itself: nothing to do, no error.
  await mkdir(join(root, 'empty'));
  await drive.remove('empty', { entries: ['meta'] });
  await drive.remove('absent', { entries: ['meta'] });
  t.deepEqual(await readdir(root), []);
  t.throws(() => drive.remove('x', { entries: ['../escape'] }), { message: /one name/ });
  t.throws(() => drive.remove('x', { entries: ['..'] }), { message: /one name/ });
});

test('local drive: when its directory is gone every call is DRIVE_OFFLINE and the directory is not recreated', async (t) => {
  const { drive, root } = await makeDrive(t);
  await drive.writeFileAtomic('f', Buffer.from('x'));
  await rm(root, { recursive: true });
  const calls = [
    () => drive.checkOnline(),
    () => drive.readFile('f'),
    () => drive.readRange('f', 0, 1),
    () => drive.list(''),
    () => drive.ensureDirectory('tmp/a'),
    () => drive.writeFile('g', Buffer.from('y')),
    () => drive.createFileWriter('g'),
    () => drive.freeSpace(),
  ];
  for (const call of calls) {
    const error = await t.throwsAsync<DriveError>(call());
    t.is(error?.code, 'DRIVE_OFFLINE');
  }
  await t.throwsAsync(stat(root), { code: 'ENOENT' });
});

test('local drive: paths that climb out of the drive are refused', async (t) => {
  const { drive } = await makeDrive(t);
  // A programmer error: an assertion, thrown before any file-system call.
  t.throws(() => drive.readFile('../etc/passwd'), { message: /escapes/ });
  t.throws(() => drive.readFile('/etc/passwd'), { message: /relative/ });
  t.throws(() => drive.remove(''), { message: /root/ });
});

test('local drive: plain paths are joined as they are; any other goes through normalize and the checks', async (t) => {
  for (const path of ['a', 'objects/b/00/k/v1', 'tmp/x.y/shard.1', '.hidden/a', 'a/.../b', 'a/..b/c.']) {
    t.true(isPlainRelativePath(path), path);
    t.is(join('/srv/drive-1', path), normalize(`/srv/drive-1/${path}`), path);
  }
  for (const path of ['', '/etc', 'a/', 'a//b', '.', '..', './a', '../a', 'a/./b', 'a/../b', 'a/.', 'a/..']) {
    t.false(isPlainRelativePath(path), path);
  }
  const { drive } = await makeDrive(t);
  t.throws(() => drive.readFile('a/../../etc/passwd'), { message: /escapes/ });
  t.throws(() => drive.readFile('objects/../..'), { message: /escapes/ });
  await drive.ensureDirectory('objects/./a/');
  await drive.writeFile('objects/./a//b', Buffer.from('inside'));
  t.is(Buffer.from(await drive.readFile('objects/a/b')).toString(), 'inside');
});

test('local drive: free space comes from statfs', async (t) => {
  const { drive } = await makeDrive(t);
  const space = await drive.freeSpace();
  t.true(space.totalBytes > 0);
  t.true(space.freeBytes > 0 && space.freeBytes <= space.totalBytes);
});

test('local drive: on a full file system writes are DISK_FULL and the partial file is removed', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'coffre-full-drive-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', root], { stdio: 'pipe' });
  } catch (error) {
    await rm(root, { recursive: true, force: true });
    t.log(
      `mount not permitted (${String(error)}): checking the error mapping through the fault-injecting drive`,
    );
    const drive = new FaultyDrive(new LocalDrive(tmpdir()), { seed: 1 });
    drive.addFault({ operations: ['writeFile'], effect: { fail: 'DISK_FULL' } });
    const error2 = await t.throwsAsync<DriveError>(drive.writeFile('x', Buffer.alloc(1)));
    t.is(error2?.code, 'DISK_FULL');
    return;
  }
  t.teardown(async () => {
    execFileSync('umount', [root]);
    await rm(root, { recursive: true, force: true });
  });
  const drive = new LocalDrive(root);
  const big = Buffer.alloc(2 * 1024 * 1024, 7);
  const atomic = await t.throwsAsync<DriveError>(drive.writeFileAtomic('big', big));
  t.is(atomic?.code, 'DISK_FULL');
  const writer = await drive.createFileWriter('streamed');
  const streamed = await t.throwsAsync<DriveError>(writer.write([big]));
  t.is(streamed?.code, 'DISK_FULL');
  await writer.abort();
  t.deepEqual(await drive.list(''), []);
  const space = await drive.freeSpace();
  t.true(space.freeBytes > 900 * 1024, 'the space of the failed writes came back');
});

test('local drive: an append log grows by each append, syncData keeps it open, and it must be a new file', async (t) => {
  const { drive } = await makeDrive(t);
  await drive.ensureDirectory('journal');
  const log = await drive.openAppendLog('journal/1.log');
  await log.append([Buffer.from('ab'), Buffer.from('c')]);
  await log.syncData();
  await log.append([Buffer.from('de')]);
  await log.syncData();
  t.is(Buffer.from(await drive.readFile('journal/1.log')).toString(), 'abcde');
  await log.close();
  await log.close();
  const error = await t.throwsAsync<DriveError>(drive.openAppendLog('journal/1.log'));
  t.truthy(error, 'opening a log that exists fails');
});

test('local drive: the record database writes, replaces, reads, lists in order and removes records; they survive a reopen', async (t) => {
  const { drive, root } = await makeDrive(t);
  t.is(await drive.readRecord('objects/a/00/k/v1'), null, 'no database yet: no record');
  t.deepEqual(await drive.listRecords({ after: 'objects/', before: 'objects0', limit: 10 }), []);
  await drive.writeRecords([
    { directory: 'objects/b/00/k/v2', data: Buffer.from('two, first') },
    { directory: 'objects/a/00/k/v1', data: Buffer.from('one') },
    { directory: 'other/x', data: Buffer.from('outside the range') },
  ]);
  await drive.writeRecords([{ directory: 'objects/b/00/k/v2', data: Buffer.from('two') }]);
  // Reads made in one turn travel to the worker together and each gets its own answer.
  const [one, two, none] = await Promise.all([
    drive.readRecord('objects/a/00/k/v1'),
    drive.readRecord('objects/b/00/k/v2'),
    drive.readRecord('objects/c/00/k/v3'),
  ]);
  t.is(Buffer.from(one as Uint8Array).toString(), 'one');
  t.is(Buffer.from(two as Uint8Array).toString(), 'two', 'replaced');
  t.is(none, null);
  t.deepEqual(await drive.listRecords({ after: 'objects/', before: 'objects0', limit: 10 }), [
    'objects/a/00/k/v1',
    'objects/b/00/k/v2',
  ]);
  t.deepEqual(await drive.listRecords({ after: 'objects/a/00/k/v1', before: 'objects0', limit: 10 }), [
    'objects/b/00/k/v2',
  ]);
  t.deepEqual(await drive.listRecords({ after: 'objects/', before: 'objects0', limit: 1 }), [
    'objects/a/00/k/v1',
  ]);
  await mkdir(join(root, 'objects/b/00/k/v2'), { recursive: true });
  t.deepEqual(
    await drive.removeRecords(['objects/a/00/k/v1', 'objects/never/written', 'objects/b/00/k/v2']),
    ['objects/b/00/k/v2'],
    'the directories that exist on the drive, for the caller to remove',
  );
  t.is(await drive.readRecord('objects/a/00/k/v1'), null);
  t.is(await drive.readRecord('objects/b/00/k/v2'), null);
  await drive.writeRecords([{ directory: 'objects/b/00/k/v2', data: Buffer.from('two') }]);
  await drive.syncFileSystem();
  await Promise.all([drive.syncFileSystem(), drive.syncFileSystem()]);
  await drive.closeRecords();
  t.true((await readdir(join(root, 'records'))).includes('records.db'), 'records/records.db on the drive');
  const reopened = new LocalDrive(root);
  t.is(Buffer.from((await reopened.readRecord('objects/b/00/k/v2')) as Uint8Array).toString(), 'two');
  await reopened.closeRecords();
  await t.throwsAsync(drive.writeRecords([{ directory: '../escape', data: Buffer.from('x') }]), {
    message: /escapes/,
  });
});

test('local drive: the record database of a drive whose directory is gone is DRIVE_OFFLINE, and the directory is not recreated', async (t) => {
  const { drive, root } = await makeDrive(t);
  await drive.writeRecords([{ directory: 'objects/a/00/k/v1', data: Buffer.from('1') }]);
  await rm(root, { recursive: true });
  for (const call of [
    () => drive.writeRecords([{ directory: 'objects/a/00/k/v1', data: Buffer.from('2') }]),
    () => drive.readRecord('objects/a/00/k/v1'),
    () => drive.listRecords({ after: 'objects/', before: 'objects0', limit: 10 }),
    () => drive.removeRecords(['objects/a/00/k/v1']),
  ]) {
    const error = await t.throwsAsync<DriveError>(call());
    t.is(error?.code, 'DRIVE_OFFLINE');
  }
  await t.throwsAsync(stat(root));
});

test('local drive: a database replaced under the agent (a new disk) is never answered from the old one', async (t) => {
  const { drive, root } = await makeDrive(t);
  await drive.writeRecords([{ directory: 'objects/a/00/k/v1', data: Buffer.from('old disk') }]);
  await rm(join(root, 'records'), { recursive: true });
  t.is(await drive.readRecord('objects/a/00/k/v1'), null);
  await drive.writeRecords([{ directory: 'objects/b/00/k/v2', data: Buffer.from('new disk') }]);
  t.deepEqual(await drive.listRecords({ after: 'objects/', before: 'objects0', limit: 10 }), [
    'objects/b/00/k/v2',
  ]);
  await drive.closeRecords();
});

test('local drive: records in files are read as a fallback only on a drive that held version directories before its database', async (t) => {
  const legacy = await makeDrive(t);
  await mkdir(join(legacy.root, 'objects/a/00/k/v1'), { recursive: true });
  await writeFile(join(legacy.root, 'objects/a/00/k/v1/meta'), 'from the file');
  await legacy.drive.writeRecords([]);
  const fromFile = await legacy.drive.readRecord('objects/a/00/k/v1', { fallbackFile: 'meta' });
  t.is(Buffer.from(fromFile as Uint8Array).toString(), 'from the file');
  t.is(await legacy.drive.readRecord('objects/a/00/k/v1'), null, 'no fallback asked: the database only');
  await legacy.drive.writeRecords([
    { directory: 'objects/a/00/k/v1', data: Buffer.from('from the database') },
  ]);
  const fromDatabase = await legacy.drive.readRecord('objects/a/00/k/v1', { fallbackFile: 'meta' });
  t.is(Buffer.from(fromDatabase as Uint8Array).toString(), 'from the database', 'the row shadows the file');
  t.is(await legacy.drive.readRecord('objects/b/00/k/v9', { fallbackFile: 'meta' }), null);
  await legacy.drive.closeRecords();

  const fresh = await makeDrive(t);
  await fresh.drive.writeRecords([]);
  await mkdir(join(fresh.root, 'objects/a/00/k/v1'), { recursive: true });
  await writeFile(join(fresh.root, 'objects/a/00/k/v1/meta'), 'a stray file');
  t.is(await fresh.drive.readRecord('objects/a/00/k/v1', { fallbackFile: 'meta' }), null);
  await fresh.drive.closeRecords();
});

test('local drive: a records.db that is not a SQLite database at all is CORRUPT, and stays as found', async (t) => {
  const { drive, root } = await makeDrive(t);
  await mkdir(join(root, 'records'));
  const garbage = Buffer.alloc(8192, 0x5a);
  await writeFile(join(root, 'records/records.db'), garbage);
  const error = await t.throwsAsync<DriveError>(drive.readRecord('objects/a/00/k/v1'));
  t.is(error?.code, 'CORRUPT');
  t.deepEqual(await readFile(join(root, 'records/records.db')), garbage);
});

test('local drive: a record database of another application or schema version is CORRUPT, never rewritten', async (t) => {
  const { drive, root } = await makeDrive(t);
  await mkdir(join(root, 'records'));
  const foreign = new DatabaseSync(join(root, 'records/records.db'));
  foreign.exec('PRAGMA user_version = 7; CREATE TABLE other (x);');
  foreign.close();
  const error = await t.throwsAsync<DriveError>(drive.readRecord('objects/a/00/k/v1'));
  t.is(error?.code, 'CORRUPT');
  t.regex(error?.message ?? '', /version 7/);
  const again = await t.throwsAsync<DriveError>(
    drive.writeRecords([{ directory: 'x', data: Buffer.from('1') }]),
  );
  t.is(again?.code, 'CORRUPT');
  const check = new DatabaseSync(join(root, 'records/records.db'));
  t.is((check.prepare('PRAGMA user_version').get() as { user_version: number }).user_version, 7);
  check.close();
});

test('local drive: an append log opened with durableAppends is O_DSYNC (each append is durable when it resolves)', async (t) => {
  const { drive, root } = await makeDrive(t);
  await drive.ensureDirectory('journal');
  const durable = await drive.openAppendLog('journal/2.log', { durableAppends: true });
  const plain = await drive.openAppendLog('journal/3.log');
  t.teardown(() => Promise.all([durable.close(), plain.close()]));
  await durable.append([Buffer.from('xy')]);
  t.is(Buffer.from(await drive.readFile('journal/2.log')).toString(), 'xy');
  t.truthy((await openFlags(join(root, 'journal/2.log'))) & constants.O_DSYNC);
  t.falsy((await openFlags(join(root, 'journal/3.log'))) & constants.O_DSYNC);
});

test('local drive: concurrent checkOnline calls share one check, and a check after the drive went fails', async (t) => {
  const { drive, root } = await makeDrive(t);
  const first = drive.checkOnline();
  t.is(drive.checkOnline(), first, 'a call made while a check runs waits for that check');
  await first;
  await rm(root, { recursive: true });
  const error = await t.throwsAsync<DriveError>(drive.checkOnline());
  t.is(error?.code, 'DRIVE_OFFLINE');
});

test('local drive: a direct writer opens its file with O_DIRECT and writes aligned chunks with no early writeback; a chunk the kernel refuses sends the rest through the page cache', async (t) => {
  if (alignedMemory === undefined)
    throw new Error('build/coffre_aligned.node is not built (see the build test)');
  const root = await mkdtemp(join(tmpdir(), 'coffre-drive-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  const drive = new LocalDrive(root, { writebackBytes: 64 * 1024 });
  const writer = await drive.createFileWriter('direct', { direct: true });
  t.deepEqual(drive.directWrites, { files: 1, refused: 0 });
  t.truthy((await openFlags(join(root, 'direct'))) & constants.O_DIRECT, 'opened with O_DIRECT');
  const aligned = alignedMemory.allocate(256 * 1024);
  for (let index = 0; index < aligned.byteLength; index += 1) aligned[index] = index % 253;
  await writer.write([aligned.subarray(0, 128 * 1024), aligned.subarray(128 * 1024)]);
  t.is(drive.writebacks.started, 0, 'nothing in the page cache to write back, past the threshold');
  // 100 bytes: no direct write can take them (EINVAL, nothing written); the file leaves O_DIRECT.
  const odd = Buffer.alloc(100, 7);
  await writer.write([odd]);
  t.deepEqual(drive.directWrites, { files: 1, refused: 1 });
  t.falsy((await openFlags(join(root, 'direct'))) & constants.O_DIRECT, 'reopened without O_DIRECT');
  await writer.write([aligned.subarray(0, 4096)]);
  await writer.finish();
  t.true(
    Buffer.from(await drive.readFile('direct')).equals(
      Buffer.concat([aligned, odd, aligned.subarray(0, 4096)]),
    ),
  );
  // A writer not asked for direct writes never uses O_DIRECT.
  const plain = await drive.createFileWriter('plain');
  t.falsy((await openFlags(join(root, 'plain'))) & constants.O_DIRECT);
  await plain.abort();
});

test('local drive: on a file system without direct I/O (ramfs) a direct writer writes through the page cache, and the drive stops asking', async (t) => {
  // ramfs refuses O_DIRECT at open (EINVAL, after creating the file). It is mounted in a mount
  // namespace of the child's own (unshare -m), so nothing outside the test sees it.
  const mountPoint = await mkdtemp(join(tmpdir(), 'coffre-ramfs-'));
  t.teardown(() => rm(mountPoint, { recursive: true, force: true }));
  const child = `
    import { readdir, readFile, readlink } from 'node:fs/promises';
    import { alignedMemory, LocalDrive } from ${JSON.stringify(new URL('../../agent/disk/index.ts', import.meta.url).href)};
    const root = process.argv[1];
    const flags = async (path) => {
      for (const fd of await readdir('/proc/self/fd')) {
        if ((await readlink('/proc/self/fd/' + fd).catch(() => '')) !== path) continue;
        return Number.parseInt(/flags:\\s+([0-7]+)/.exec(await readFile('/proc/self/fdinfo/' + fd, 'utf8'))[1], 8);
      }
    };
    const drive = new LocalDrive(root);
    const bytes = alignedMemory.allocate(8192).fill(9);
    const files = [];
    for (const name of ['one', 'two']) {
      const writer = await drive.createFileWriter(name, { direct: true });
      const openFlags = await flags(root + '/' + name);
      await writer.write([bytes]);
      await writer.finish();
      files.push({ name, openFlags, intact: Buffer.from(await drive.readFile(name)).equals(bytes) });
    }
    console.log(JSON.stringify({ files, directWrites: drive.directWrites, listed: (await drive.list('')).sort() }));
  `;
  const output = execFileSync(
    'unshare',
    [
      '-m',
      'sh',
      '-c',
      'mount -t ramfs none "$1" && exec "$2" --input-type=module -e "$3" "$1"',
      'sh',
      mountPoint,
      process.execPath,
      child,
    ],
    { encoding: 'utf8' },
  );
  const result = JSON.parse(output) as {
    files: { name: string; openFlags: number; intact: boolean }[];
    directWrites: { files: number; refused: number };
    listed: string[];
  };
  for (const file of result.files) {
    t.true(file.intact, `${file.name} reads back`);
    t.falsy(file.openFlags & constants.O_DIRECT, `${file.name} is open without O_DIRECT`);
  }
  // The first open was refused and the file it created removed before the buffered open; the
  // second writer did not try again.
  t.deepEqual(result.directWrites, { files: 0, refused: 2 });
  t.deepEqual(result.listed, ['one', 'two']);
});
