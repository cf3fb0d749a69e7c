import { readdir } from 'node:fs/promises';
import test from 'ava';
import { openErasureSet } from '../../agent/shards/index.ts';
import { bodyOf, makeDriveDirectories, noMetadata, patternBytes, readAll } from './helpers.ts';

const kibibyte = 1024;

/** File descriptors this process holds open now. */
async function openFileCount(): Promise<number> {
  return (await readdir('/proc/self/fd')).length;
}

test.serial(
  'read: a whole-version read opens each shard file once and closes them all, read to the end or left early',
  async (t) => {
    const blockSizeBytes = 64 * kibibyte;
    const set = await openErasureSet({ drives: await makeDriveDirectories(t), blockSizeBytes });
    t.teardown(() => set.close());
    const address = { bucket: 'b', key: 'many-blocks', versionId: 'v' };
    const data = patternBytes(20 * blockSizeBytes + 123, 'many-blocks');
    await set.writeVersion(address, bodyOf(data), noMetadata);
    const before = await openFileCount();

    const whole = await set.readVersion(address);
    t.true((await readAll(whole.body)).equals(data));
    t.is(await openFileCount(), before, 'every shard file closed after a full read');

    const partial = await set.readVersion(address);
    const iterator = partial.body[Symbol.asyncIterator]();
    const first = await iterator.next();
    t.false(first.done);
    t.true((await openFileCount()) > before, 'the shard files are open while the read goes on');
    await iterator.return?.();
    t.is(await openFileCount(), before, 'every shard file closed when the reader stops early');
  },
);
