// The child process of the crash test: writes versions forever (until killed with SIGKILL),
// printing "START <json>" before each write and "ACK <json>" once it is acknowledged. Sizes,
// keys and overwrites come from a seeded PRNG so a failing round replays.
// Usage: node crash-writer.ts <seed> <drive directory>...
import { openErasureSet } from '../../agent/shards/index.ts';
import { bodyOf, patternBytes } from './helpers.ts';

const [seedText, ...drives] = process.argv.slice(2);
let state = Number(seedText) || 1;
function random(): number {
  state ^= state << 13;
  state ^= state >>> 17;
  state ^= state << 5;
  return (state >>> 0) / 4294967296;
}

const set = await openErasureSet({ drives, blockSizeBytes: 256 * 1024, inlineThresholdBytes: 32 * 1024 });
for (let sequence = 0; ; sequence += 1) {
  const small = random() < 0.5;
  const sizeBytes = Math.floor(random() * (small ? 40_000 : 1_500_000));
  // A third of the writes overwrite one of a few addresses (an unversioned bucket's "null" version).
  const overwrite = random() < 0.33;
  const key = overwrite ? `shared-${Math.floor(random() * 3)}` : `object-${seedText}-${sequence}`;
  const address = { bucket: 'crash', key, versionId: overwrite ? 'null' : `v${sequence}` };
  const label = `${seedText}-${sequence}`;
  const entry = JSON.stringify({ address, label, sizeBytes });
  process.stdout.write(`START ${entry}\n`);
  await set.writeVersion(address, bodyOf(patternBytes(sizeBytes, label), 100_000), {
    finalize: () => ({ label }),
  });
  process.stdout.write(`ACK ${entry}\n`);
}
