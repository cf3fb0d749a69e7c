// The child process of the journal crash tests: many concurrent small writes, metadata updates
// and deletes (group commit), until killed with SIGKILL. Each change is printed "START <json>"
// before it is asked and "ACK <json>" once acknowledged. Each worker owns its addresses, so the
// changes of one address never overlap and the parent can tell what each address may show.
// Modes: "mixed" checkpoints in the background every few milliseconds over small segments;
// "checkpoint" prints "CHECKPOINT" right before an explicit checkpoint pass over a few hundred
// journaled versions, and "CHECKPOINTED" after it, so the parent can kill it during the pass.
// Usage: node journal-crash-writer.ts <seed> <mode> <drive directory>...
import { openErasureSet, type VersionAddress } from '../../agent/shards/index.ts';
import { bodyOf, patternBytes } from './helpers.ts';

const [seedText, mode, ...drives] = process.argv.slice(2);
const workers = 24;
let state = Number(seedText) || 1;
function random(): number {
  state ^= state << 13;
  state ^= state >>> 17;
  state ^= state << 5;
  return (state >>> 0) / 4294967296;
}

const set = await openErasureSet({
  drives,
  blockSizeBytes: 256 * 1024,
  inlineThresholdBytes: 32 * 1024,
  journal:
    mode === 'checkpoint'
      ? { checkpointIntervalMs: 3_600_000, segmentBytes: 256 * 1024 }
      : { checkpointIntervalMs: 15, segmentBytes: 64 * 1024 },
});

interface Owned {
  address: VersionAddress;
  label: string;
  sizeBytes: number;
  touch: number;
}

let acknowledged = 0;
let pause = false;

function print(kind: 'START' | 'ACK', entry: object): void {
  process.stdout.write(`${kind} ${JSON.stringify(entry)}\n`);
}

async function change(worker: number, sequence: number, owned: Map<string, Owned>): Promise<void> {
  const choice = random();
  const mine = [...owned.values()];
  if (choice < 0.15 && mine.length > 0) {
    const target = mine[Math.floor(random() * mine.length)];
    const next = { ...target, touch: target.touch + 1 };
    print('START', next);
    await set.updateMetadata(target.address, (old) => ({ ...old, touch: next.touch }));
    owned.set(JSON.stringify(target.address), next);
    print('ACK', next);
  } else if (choice < 0.25 && mine.length > 0) {
    const target = mine[Math.floor(random() * mine.length)];
    print('START', { address: target.address, deleted: true });
    await set.deleteVersion(target.address);
    owned.delete(JSON.stringify(target.address));
    print('ACK', { address: target.address, deleted: true });
  } else {
    // A fifth overwrite the worker's own "null" version; some spill past the inline threshold.
    const overwrite = random() < 0.2;
    const key = overwrite ? `shared-${seedText}-${worker}` : `object-${seedText}-${worker}-${sequence}`;
    const address = { bucket: 'crash', key, versionId: overwrite ? 'null' : `v${sequence}` };
    const sizeBytes =
      random() < 0.85 ? Math.floor(random() * 20_000) : 33_000 + Math.floor(random() * 90_000);
    const label = `${seedText}-${worker}-${sequence}`;
    const entry = { address, label, sizeBytes, touch: 0 };
    print('START', entry);
    await set.writeVersion(address, bodyOf(patternBytes(sizeBytes, label), 8_192), {
      finalize: () => ({ label, touch: 0 }),
    });
    owned.set(JSON.stringify(address), entry);
    print('ACK', entry);
  }
  acknowledged += 1;
}

async function work(worker: number): Promise<void> {
  const owned = new Map<string, Owned>();
  for (let sequence = 0; ; sequence += 1) {
    while (pause) await new Promise((resolve) => setTimeout(resolve, 5));
    await change(worker, sequence, owned);
  }
}

for (let worker = 0; worker < workers; worker += 1) void work(worker);
if (mode === 'checkpoint') {
  for (;;) {
    const target = acknowledged + 300;
    while (acknowledged < target) await new Promise((resolve) => setTimeout(resolve, 5));
    pause = true;
    process.stdout.write('CHECKPOINT\n');
    await set.checkpoint();
    process.stdout.write('CHECKPOINTED\n');
    pause = false;
  }
}
