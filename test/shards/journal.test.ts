import { createHash } from 'node:crypto';
import { cp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { crc32 } from 'node:zlib';
import test from 'ava';
import { FaultyDrive, LocalDrive } from '../../agent/disk/index.ts';
import { encodeVersionRecord, type VersionRecord } from '../../agent/shards/formats.ts';
import { openErasureSet } from '../../agent/shards/index.ts';
import { DriveJournal } from '../../agent/shards/journal.ts';
import {
  encodeJournalEntry,
  type JournalChange,
  parseSegment,
  segmentHeaderBytes,
} from '../../agent/shards/journal-format.ts';
import { versionDirectory } from '../../agent/shards/layout.ts';
import { journalSampleVersions } from './fixtures/make-journal-sample.ts';
import {
  bodyOf,
  checkpointHeldOff,
  databaseRecords,
  filesUnder,
  makeDriveDirectories,
  noMetadata,
  patternBytes,
  readAll,
} from './helpers.ts';

function recordChange(key: string, payload: Uint8Array): JournalChange {
  const address = { bucket: 'b', key, versionId: 'v' };
  const record: VersionRecord = {
    ...address,
    sizeBytes: payload.byteLength,
    dataId: '00000000-0000-4000-8000-000000000001',
    committedAtMs: 1,
    metadataRevision: 0,
    updatedAtMs: 1,
    inline: true,
    erasure: {
      dataShards: 4,
      parityShards: 2,
      blockSizeBytes: 1024,
      distribution: [0, 1, 2, 3, 4, 5],
      checksumAlgorithm: 'crc32',
    },
    metadata: { key },
  };
  return {
    kind: 'record',
    directory: versionDirectory(address),
    address,
    recordBytes: encodeVersionRecord(record, payload),
  };
}

/** The journal segment files of a drive. */
async function segmentsOf(root: string): Promise<string[]> {
  return (await readdir(join(root, 'journal'))).filter((name) => name.endsWith('.log'));
}

function newJournal(root: string): DriveJournal {
  return new DriveJournal(new LocalDrive(root), {
    maxBatchEntries: 64,
    maxBatchBytes: 1024 * 1024,
    segmentBytes: 1024 * 1024,
    onCommitted: () => {},
    onBatch: () => {},
  });
}

test('journal torn tail: a segment cut at every byte of its last entry replays without it and with every earlier entry whole', async (t) => {
  const [root, scratch] = await makeDriveDirectories(t, 2);
  const first = recordChange('first', patternBytes(300, 'first'));
  const removal: JournalChange = {
    kind: 'removal',
    directory: versionDirectory({ bucket: 'b', key: 'gone', versionId: 'v' }),
    address: { bucket: 'b', key: 'gone', versionId: 'v' },
  };
  const last = recordChange('last', patternBytes(200, 'last'));
  const journal = newJournal(root);
  await journal.ready();
  await journal.append(first);
  await journal.append(removal);
  await journal.append(last);
  await journal.close();
  const [segmentName] = await readdir(join(root, 'journal'));
  const whole = await readFile(join(root, 'journal', segmentName));
  const lastStart = whole.byteLength - encodeJournalEntry(last).byteLength;
  t.is(parseSegment(whole).changes.length, 3);
  t.false(parseSegment(whole).tornTail);
  await mkdir(join(scratch, 'journal'));
  for (let cut = lastStart; cut < whole.byteLength; cut += 1) {
    const torn = whole.subarray(0, cut);
    const parsed = parseSegment(torn);
    t.deepEqual(
      parsed.changes.map((change) => change.directory),
      [first.directory, removal.directory],
      `cut at ${cut}`,
    );
    t.is(parsed.validBytes, lastStart);
    t.is(parsed.tornTail, cut > lastStart);
    // End to end: the drive's journal replays the torn segment the same way.
    await writeFile(join(scratch, 'journal', segmentName), torn);
    const replayed = newJournal(scratch);
    t.is((await replayed.lookup(first.directory))?.kind, 'record');
    t.is((await replayed.lookup(removal.directory))?.kind, 'removal');
    t.is(await replayed.lookup(last.directory), undefined, `cut at ${cut}: the torn entry is dropped`);
  }
  // After a torn tail, new entries go to a new segment and both replay.
  const reopened = newJournal(scratch);
  await reopened.ready();
  const next = recordChange('next', patternBytes(10, 'next'));
  await reopened.append(next);
  await reopened.close();
  t.is((await readdir(join(scratch, 'journal'))).length, 2);
  const again = newJournal(scratch);
  t.truthy(await again.lookup(first.directory));
  t.truthy(await again.lookup(next.directory));
  t.is(await again.lookup(last.directory), undefined);
});

test('journal format: a wrong magic, a future version or a damaged header is CORRUPT, and an unfinished header is an empty segment', (t) => {
  // A header without its CRC is damage, not a torn write (headers are fsynced before any entry).
  const unchecked = Buffer.alloc(segmentHeaderBytes);
  unchecked.write('COFFREJL', 0, 'latin1');
  unchecked.writeUInt16BE(1, 8);
  t.throws(() => parseSegment(unchecked), { message: /header checksum/ });
  const valid = Buffer.from(encodeJournalEntry(recordChange('x', new Uint8Array(4))));
  const journalBytes = (version: number, magic = 'COFFREJL') => {
    const header = Buffer.alloc(segmentHeaderBytes);
    header.write(magic, 0, 'latin1');
    header.writeUInt16BE(version, 8);
    header.writeUInt32BE(crc32(header.subarray(0, 12)), 12);
    return Buffer.concat([header, valid]);
  };
  t.is(parseSegment(journalBytes(1)).changes.length, 1);
  t.throws(() => parseSegment(journalBytes(2)), { message: /unsupported format version 2/ });
  t.throws(() => parseSegment(journalBytes(1, 'COFFREXX')), { message: /bad magic/ });
  t.deepEqual(parseSegment(journalBytes(1).subarray(0, 9)).changes, []);
});

const journalSample = join(import.meta.dirname, 'fixtures', 'journal-v1');
const journalSampleDigests: Record<string, string> = {
  small: '4dfd3e7b90ee120b08c6e0f749aa287eeb86c494ecacf305c00901749dc823ee',
  spilled: 'b1d4eda806e1db27bb85061e70e16005c07c4a58c6b297c937661084c05685ae',
  empty: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
};

test('journal format v1: a committed sample whose changes are only in the journals opens, replays and reads back byte-identical', async (t) => {
  const drives = await makeDriveDirectories(t);
  for (const [index, drive] of drives.entries()) {
    await cp(join(journalSample, `drive-${index}`), drive, { recursive: true });
    const segments = await readdir(join(drive, 'journal'));
    t.deepEqual(segments, ['0000000000000001.log']);
    const header = await readFile(join(drive, 'journal', segments[0]));
    t.is(header.subarray(0, 8).toString('latin1'), 'COFFREJL');
    t.is(header.readUInt16BE(8), 1);
  }
  const set = await openErasureSet({ drives, blockSizeBytes: 4096, journal: checkpointHeldOff });
  t.teardown(() => set.close());
  for (const { address, label } of journalSampleVersions) {
    const version = await set.statVersion(address);
    if (label === 'removed') {
      t.is(version, null, 'the removal in the journal wins over the record before it');
      continue;
    }
    const { body } = await set.readVersion(address);
    const digest = createHash('sha256')
      .update(await readAll(body))
      .digest('hex');
    t.is(digest, journalSampleDigests[label], label);
    t.is(version?.metadata.label, label);
  }
  const small = await set.statVersion(journalSampleVersions[0].address);
  t.is(small?.metadata.retainUntilMs, 1_800_000_000_000);
  t.is(small?.metadataRevision, 1);
  const listed = [];
  for await (const version of set.listVersions({ bucket: 'journal' })) listed.push(version.metadata.label);
  t.deepEqual(listed.sort(), ['empty', 'small', 'spilled']);
  // A checkpoint moves it all into record files and empties the journals; it still reads.
  await set.checkpoint();
  for (const drive of drives) t.deepEqual(await segmentsOf(drive), []);
  const { body } = await set.readVersion(journalSampleVersions[1].address);
  t.is(
    createHash('sha256')
      .update(await readAll(body))
      .digest('hex'),
    journalSampleDigests.spilled,
  );
});

test('journal format: a drive whose segment has a future version is left out, and the versions read from the others', async (t) => {
  const drives = await makeDriveDirectories(t);
  for (const [index, drive] of drives.entries())
    await cp(join(journalSample, `drive-${index}`), drive, { recursive: true });
  const segment = join(drives[2], 'journal', '0000000000000001.log');
  const bytes = await readFile(segment);
  bytes.writeUInt16BE(2, 8);
  bytes.writeUInt32BE(crc32(bytes.subarray(0, 12)), 12);
  await writeFile(segment, bytes);
  const set = await openErasureSet({ drives, blockSizeBytes: 4096, journal: checkpointHeldOff });
  t.teardown(() => set.close());
  const { body } = await set.readVersion(journalSampleVersions[0].address);
  t.is(
    createHash('sha256')
      .update(await readAll(body))
      .digest('hex'),
    journalSampleDigests.small,
  );
  // The unreadable segment is kept as it is, for a person (or a newer version) to look at.
  t.true((await readFile(segment)).equals(bytes));
});

test('group commit: 64 concurrent small writes share journal batches, read back from the journal, then from the record databases after a checkpoint', async (t) => {
  const drives = await makeDriveDirectories(t);
  const set = await openErasureSet({ drives, journal: checkpointHeldOff });
  t.teardown(() => set.close());
  const versions = Array.from({ length: 64 }, (_, index) => ({
    address: { bucket: 'group', key: `k${index}`, versionId: 'v' },
    data: patternBytes(index * 61, `group-${index}`),
  }));
  await Promise.all(versions.map(({ address, data }) => set.writeVersion(address, bodyOf(data), noMetadata)));
  t.is(set.metrics.journalEntries, 64 * drives.length);
  t.true(set.metrics.journalBatches < set.metrics.journalEntries, `${set.metrics.journalBatches} batches`);
  for (const drive of drives) {
    t.deepEqual(
      (await filesUnder(drive)).filter((path) => path.startsWith('objects/')),
      [],
    );
  }
  const check = async () => {
    for (const { address, data } of versions)
      t.true((await readAll((await set.readVersion(address)).body)).equals(data));
    let listed = 0;
    for await (const _ of set.listVersions({ bucket: 'group' })) listed += 1;
    t.is(listed, 64);
  };
  await check();
  const scrub = await set.scrub({ bytesPerSecond: 1e9 });
  t.is(scrub.versionsChecked, 64);
  t.is(scrub.versionsHealed, 0);
  await set.checkpoint();
  t.is(set.metrics.checkpointedEntries, 64 * drives.length);
  for (const drive of drives) {
    const files = await filesUnder(drive);
    t.is(databaseRecords(drive).size, 64);
    t.deepEqual(
      files.filter((path) => path.startsWith('objects/')),
      [],
      'small versions leave no directories behind',
    );
    t.deepEqual(await readdir(join(drive, 'objects')), [], 'not even empty ones');
    t.deepEqual(
      files.filter((path) => path.endsWith('.log')),
      [],
    );
  }
  await check();
});

test('checkpoint failure: when a drive cannot sync its files the pass fails, its journal is kept, and the next pass or the next open completes it', async (t) => {
  const roots = await makeDriveDirectories(t);
  const drives = roots.map((root, index) => new FaultyDrive(new LocalDrive(root), { seed: index }));
  const set = await openErasureSet({ drives, journal: checkpointHeldOff });
  const versions = Array.from({ length: 8 }, (_, index) => ({
    address: { bucket: 'c', key: `k${index}`, versionId: 'v' },
    data: patternBytes(1000 + index, `c-${index}`),
  }));
  for (const { address, data } of versions) await set.writeVersion(address, bodyOf(data), noMetadata);
  await set.updateMetadata(versions[0].address, () => ({ touched: true }));
  await set.deleteVersion(versions[1].address);
  drives[4].addFault({ operations: ['syncFileSystem'], effect: { fail: 'DRIVE_OFFLINE' } });
  await t.throwsAsync(set.checkpoint());
  t.is(set.metrics.checkpointFailures, 1);
  t.is((await segmentsOf(roots[4])).length, 1, 'the failed drive keeps its segment');
  t.deepEqual(await segmentsOf(roots[0]), [], 'the others are trimmed');
  // Closing tries a last pass, which fails on drive 4 again: its journal stays for the next open.
  await set.close();
  t.is((await segmentsOf(roots[4])).length, 1);
  const reopened = await openErasureSet({ drives: roots, journal: checkpointHeldOff });
  t.teardown(() => reopened.close());
  for (const [index, { address, data }] of versions.entries()) {
    if (index === 1) {
      t.is(await reopened.statVersion(address), null);
      continue;
    }
    const { version, body } = await reopened.readVersion(address);
    t.true((await readAll(body)).equals(data));
    if (index === 0) t.deepEqual(version.metadata, { touched: true });
  }
  await reopened.checkpoint();
  for (const root of roots) t.deepEqual(await segmentsOf(root), []);
  t.deepEqual(
    [...databaseRecords(roots[4]).keys()].sort(),
    versions
      .filter((_, index) => index !== 1)
      .map(({ address }) => versionDirectory(address))
      .sort(),
  );
});

test('rebuild: a drive replaced while the set is open gets back the versions that were only in the journals', async (t) => {
  const drives = await makeDriveDirectories(t);
  const set = await openErasureSet({ drives, blockSizeBytes: 4096, journal: checkpointHeldOff });
  t.teardown(() => set.close());
  const versions = [10, 3000, 9000].map((sizeBytes) => ({
    address: { bucket: 'r', key: `k${sizeBytes}`, versionId: 'v' },
    data: patternBytes(sizeBytes, `r${sizeBytes}`),
  }));
  for (const { address, data } of versions) await set.writeVersion(address, bodyOf(data), noMetadata);
  await rm(drives[3], { recursive: true });
  await mkdir(drives[3]);
  const report = await set.rebuildDrive(3);
  t.is(report.versionsChecked, 3);
  t.is(report.shardsRewritten, 3);
  await set.checkpoint();
  t.is(databaseRecords(drives[3]).size, 3);
  // Formatted anew, the drive's database says it never held record files (no `meta` fallback).
  const settings = new DatabaseSync(join(drives[3], 'records', 'records.db'));
  const flag = settings.prepare("SELECT value FROM settings WHERE name = 'record_files_before'").get();
  settings.close();
  t.deepEqual({ ...flag }, { value: 0 });
  // Drive 3 now carries its share: with two other drives gone, everything still reads.
  await set.close();
  await rm(drives[0], { recursive: true });
  await rm(drives[1], { recursive: true });
  const degraded = await openErasureSet({ drives, blockSizeBytes: 4096, journal: checkpointHeldOff });
  t.teardown(() => degraded.close());
  for (const { address, data } of versions)
    t.true((await readAll((await degraded.readVersion(address)).body)).equals(data));
});

test('backpressure: past maxJournaledBytes a change first waits for a checkpoint pass, so the journals stay bounded', async (t) => {
  const drives = await makeDriveDirectories(t);
  const set = await openErasureSet({ drives, journal: { ...checkpointHeldOff, maxJournaledBytes: 1 } });
  t.teardown(() => set.close());
  const versions = Array.from({ length: 5 }, (_, index) => ({
    address: { bucket: 'p', key: `k${index}`, versionId: 'v' },
    data: patternBytes(500 + index, `p${index}`),
  }));
  for (const { address, data } of versions) await set.writeVersion(address, bodyOf(data), noMetadata);
  // Each write after the first found the journals over the bound and let a pass empty them.
  t.is(set.metrics.checkpointedEntries, 4 * drives.length);
  for (const { address, data } of versions)
    t.true((await readAll((await set.readVersion(address)).body)).equals(data));
});

/** A local drive whose deletions of renamed-away version directories wait until `release` is called. */
class HeldTrashDrive extends LocalDrive {
  readonly held: string[] = [];
  #release!: () => void;
  readonly #gate = new Promise<void>((resolve) => {
    this.#release = resolve;
  });
  #firstHeld!: () => void;
  /** Resolves when the first deletion is held. */
  readonly firstHeld = new Promise<void>((resolve) => {
    this.#firstHeld = resolve;
  });

  release(): void {
    this.#release();
  }

  override async remove(path: string, options?: { entries?: readonly string[] }): Promise<void> {
    if (path.startsWith('journal/staging/')) {
      this.held.push(path);
      this.#firstHeld();
      await this.#gate;
    }
    return super.remove(path, options);
  }
}

test('checkpoint removals: a write of a key is not held while the pass deletes the files of its removed versions', async (t) => {
  const roots = await makeDriveDirectories(t);
  const drives = roots.map((root) => new HeldTrashDrive(root));
  const set = await openErasureSet({ drives, journal: checkpointHeldOff });
  t.teardown(() => set.close());
  // Large enough for shard files in a version directory (not inline in the record).
  const version = (versionId: string) => ({
    address: { bucket: 'r', key: 'same key', versionId },
    data: patternBytes(300 * 1024, versionId),
  });
  const removed = [version('v1'), version('v2')];
  for (const { address, data } of removed) await set.writeVersion(address, bodyOf(data), noMetadata);
  const kept = version('v3');
  await set.writeVersion(kept.address, bodyOf(kept.data), noMetadata);
  for (const { address } of removed) await set.deleteVersion(address);
  const events: string[] = [];
  const pass = set.checkpoint();
  // A drive's removed directories are out of the key's directory, their deletion held.
  await Promise.race(drives.map((drive) => drive.firstHeld));
  const next = version('v4');
  const written = set.writeVersion(next.address, bodyOf(next.data), noMetadata).then(() => {
    events.push('written');
  });
  // Before the change, the pass held the key's lock through the deletions: the write waited for
  // them. The timer only keeps a regression from hanging the test; the order is the assertion.
  let fallbackTimer: NodeJS.Timeout | undefined;
  const fallback = new Promise<void>((resolve) => {
    fallbackTimer = setTimeout(resolve, 20_000);
  });
  await Promise.race([written, fallback]);
  clearTimeout(fallbackTimer);
  events.push('deletions released');
  for (const drive of drives) drive.release();
  await Promise.all([pass, written]);
  t.deepEqual(events, ['written', 'deletions released']);
  for (const drive of drives) t.is(drive.held.length, 2, 'both removed versions of the key, on every drive');
  for (const { address } of removed) t.is(await set.statVersion(address), null);
  for (const { address, data } of [kept, next])
    t.true((await readAll((await set.readVersion(address)).body)).equals(data));
  for (const root of roots) {
    t.deepEqual(
      await readdir(join(root, 'journal', 'staging')),
      [],
      'the renamed-away directories are deleted',
    );
    const shardDirectories = (await filesUnder(root)).filter((path) => path.startsWith('objects/'));
    for (const { address } of removed)
      t.false(
        shardDirectories.some((path) => path.startsWith(versionDirectory(address))),
        `${address.versionId} has no files left`,
      );
  }
});
