// The child process of the memory test (run with --expose-gc): writes then reads one large
// version through a set and prints, as JSON, the peak growth of live memory (after a forced
// garbage collection) over the baseline, during the write and during the read.
// Usage: node --expose-gc memory-probe.ts <drives parent directory> <size in MiB>
import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { openErasureSet } from '../../agent/shards/index.ts';

const [root, sizeText] = process.argv.slice(2);
const mebibyte = 1024 * 1024;
const sizeMebibytes = Number(sizeText);
const collect = (globalThis as { gc?: () => void }).gc;
if (collect === undefined) throw new Error('run with --expose-gc');

function liveBytes(): number {
  collect!();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

const drives = Array.from({ length: 6 }, (_, index) => join(root, `drive-${index}`));
for (const drive of drives) await mkdir(drive, { recursive: true });
const set = await openErasureSet({ drives });
const baseline = liveBytes();
let writePeak = 0;
const written = createHash('sha256');
async function* body(): AsyncGenerator<Uint8Array> {
  const chunk = new Uint8Array(mebibyte);
  for (let index = 0; index < sizeMebibytes; index += 1) {
    chunk.fill(index & 0xff);
    chunk[0] = index >> 8;
    written.update(chunk);
    if (index % 8 === 0) writePeak = Math.max(writePeak, liveBytes() - baseline);
    yield chunk;
  }
}
const address = { bucket: 'memory', key: 'large', versionId: 'v' };
await set.writeVersion(address, body(), { finalize: () => ({}) });

let readPeak = 0;
let readBytes = 0;
const read = createHash('sha256');
for await (const chunk of (await set.readVersion(address)).body) {
  read.update(chunk);
  readBytes += chunk.byteLength;
  if (readBytes % (8 * mebibyte) < chunk.byteLength) readPeak = Math.max(readPeak, liveBytes() - baseline);
}
await set.close();
const identical = written.digest('hex') === read.digest('hex') && readBytes === sizeMebibytes * mebibyte;
process.stdout.write(JSON.stringify({ writePeak, readPeak, identical }));
