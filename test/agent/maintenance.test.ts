import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { startMaintenance } from '../../agent/maintenance.ts';
import { openErasureSet } from '../../agent/shards/index.ts';
import { temporaryDirectory } from '../support/temporary-directory.ts';

async function drives(t: ExecutionContext): Promise<string[]> {
  const root = temporaryDirectory(t, 'coffre-maintenance');
  const list = Array.from({ length: 6 }, (_, index) => path.join(root, `drive-${index + 1}`));
  for (const drive of list) await mkdir(drive);
  return list;
}

async function* bodyOf(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}

async function readAll(body: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

const blockSizeBytes = 64 * 1024;
const payload = Buffer.alloc(3 * blockSizeBytes + 123, 7);
const addresses = ['a', 'b', 'c'].map((key) => ({ bucket: 'bucket', key, versionId: 'v1' }));

async function storeWithObjects(list: string[]) {
  const set = await openErasureSet({ drives: list, blockSizeBytes });
  for (const address of addresses) await set.writeVersion(address, bodyOf(payload), { finalize: () => ({}) });
  await set.close();
}

function quietOptions(lines: string[]) {
  return {
    parityShards: 2,
    scrubBytesPerSecond: 0,
    scrubIntervalMs: 1000,
    log: (line: string) => lines.push(line),
  };
}

test('maintenance: a drive replaced by an empty one is rebuilt at start, and every object reads back', async (t) => {
  const list = await drives(t);
  await storeWithObjects(list);
  await rm(list[2], { recursive: true });
  await mkdir(list[2]);
  const set = await openErasureSet({ drives: list, blockSizeBytes });
  t.teardown(() => set.close());
  const lines: string[] = [];
  const maintenance = startMaintenance(set, quietOptions(lines));
  await maintenance.rebuilt;
  await maintenance.stop();
  t.is((await set.driveStates())[2].state, 'online');
  t.true(
    lines.some((line) =>
      line.includes('drive 3 rebuilt: 3 versions checked, 3 shards rewritten, 0 failures'),
    ),
  );
  await set.checkpoint();
  t.true((await readdir(list[2], { recursive: true })).length > 0);
  for (const address of addresses)
    t.true((await readAll((await set.readVersion(address)).body)).equals(payload));
});

test('maintenance: more empty drives than the parity can cover are left alone (mounts, not replacements)', async (t) => {
  const list = await drives(t);
  await storeWithObjects(list);
  for (const drive of list.slice(0, 3)) {
    await rm(drive, { recursive: true });
    await mkdir(drive);
  }
  const set = await openErasureSet({ drives: list, blockSizeBytes });
  t.teardown(() => set.close());
  const lines: string[] = [];
  const maintenance = startMaintenance(set, quietOptions(lines));
  await maintenance.rebuilt;
  await maintenance.stop();
  t.true(lines.some((line) => line.includes('not rebuilding')));
  t.deepEqual(
    (await set.driveStates()).map((drive) => drive.state),
    ['needs-rebuild', 'needs-rebuild', 'needs-rebuild', 'online', 'online', 'online'],
  );
});

test('maintenance: the scrubber finds and heals a shard no read touched, then stops when asked', async (t) => {
  const list = await drives(t);
  await storeWithObjects(list);
  const set = await openErasureSet({ drives: list, blockSizeBytes });
  t.teardown(() => set.close());
  await set.checkpoint();
  // Damage every data file on drive 4 (parity shards and data shards alike live there).
  const files = (await readdir(list[3], { recursive: true, withFileTypes: true })).filter(
    (entry) => entry.isFile() && !entry.name.startsWith('.') && entry.parentPath.includes(path.sep),
  );
  let damaged = 0;
  for (const entry of files) {
    const file = path.join(entry.parentPath, entry.name);
    if (!/part|shard|data/.test(file)) continue;
    await writeFile(file, Buffer.alloc(16, 0xff), { flag: 'r+' });
    damaged += 1;
  }
  t.true(damaged > 0, 'the test damaged some shard files');
  const lines: string[] = [];
  let passes = 0;
  const maintenance = startMaintenance(set, {
    ...quietOptions(lines),
    scrubBytesPerSecond: 1e9,
    sleep: async () => {
      passes += 1;
      void maintenance.stop();
    },
  });
  await maintenance.rebuilt;
  while (passes === 0) await new Promise((resolve) => setTimeout(resolve, 20));
  await maintenance.stop();
  await set.settle();
  t.true(set.metrics.corruptionsDetected > 0);
  t.true(
    lines.some((line) => /scrub: \d+ versions checked, [1-9]\d* healed/.test(line)),
    lines.join('\n'),
  );
  for (const address of addresses)
    t.true((await readAll((await set.readVersion(address)).body)).equals(payload));
});
