import { readFile, unlink, writeFile } from 'node:fs/promises';
import test from 'ava';
import { openErasureSet } from '../../agent/shards/index.ts';
import { bodyOf, makeDriveDirectories, noMetadata, patternBytes, shardFilePath } from './helpers.ts';

const blockSizeBytes = 64 * 1024;

/** Copies each piece as it arrives (what a consumer of reused buffers must do); notes the buffers seen. */
async function copyEachPiece(body: AsyncIterable<Uint8Array>): Promise<{ bytes: Buffer; buffers: number }> {
  const copies: Buffer[] = [];
  const buffers = new Set<ArrayBufferLike>();
  for await (const piece of body) {
    copies.push(Buffer.from(piece));
    buffers.add(piece.buffer);
  }
  return { bytes: Buffer.concat(copies), buffers: buffers.size };
}

test('reused read buffers: a whole read copied piece by piece is byte-identical, from a few buffers read into again', async (t) => {
  const set = await openErasureSet({ drives: await makeDriveDirectories(t), blockSizeBytes });
  t.teardown(() => set.close());
  const address = { bucket: 'b', key: 'reused', versionId: 'v' };
  const data = patternBytes(40 * blockSizeBytes + 777, 'reused');
  await set.writeVersion(address, bodyOf(data), noMetadata);

  const { bytes, buffers } = await copyEachPiece(
    (await set.readVersion(address, undefined, { reuseBuffers: true })).body,
  );
  t.true(bytes.equals(data));
  // 41 blocks of 4 data shards: without reuse that is 164 buffers.
  t.true(buffers <= 4 * 4, `${buffers} distinct buffers`);

  const range = { offsetBytes: 3 * blockSizeBytes + 5, lengthBytes: 20 * blockSizeBytes + 11 };
  const ranged = await copyEachPiece((await set.readVersion(address, range, { reuseBuffers: true })).body);
  t.true(ranged.bytes.equals(data.subarray(range.offsetBytes, range.offsetBytes + range.lengthBytes)));
});

test('reused read buffers: a read around a corrupt shard and a missing drive is byte-identical', async (t) => {
  const drives = await makeDriveDirectories(t);
  const set = await openErasureSet({ drives, blockSizeBytes });
  t.teardown(() => set.close());
  const address = { bucket: 'b', key: 'damaged', versionId: 'v' };
  const data = patternBytes(12 * blockSizeBytes + 99, 'damaged');
  const version = await set.writeVersion(address, bodyOf(data), noMetadata);
  // Shard 0 flipped in block 5 (each block is a 4-byte checksum and a 16 KiB shard after the
  // 40-byte header), shard 1's file gone: every block is rebuilt from parity, block 5 differently.
  const corrupt = shardFilePath(drives, version, 0).path;
  const bytes = await readFile(corrupt);
  bytes[40 + 5 * (4 + blockSizeBytes / 4) + 100] ^= 0x5a;
  await writeFile(corrupt, bytes);
  await unlink(shardFilePath(drives, version, 1).path);

  const read = await copyEachPiece((await set.readVersion(address, undefined, { reuseBuffers: true })).body);
  t.true(read.bytes.equals(data));
  t.true(set.metrics.corruptionsDetected >= 2);
});
