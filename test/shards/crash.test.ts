import { spawn } from 'node:child_process';
import { join } from 'node:path';
import test from 'ava';
import { openErasureSet, type VersionAddress } from '../../agent/shards/index.ts';
import { filesUnder, makeDriveDirectories, patternBytes, readAll } from './helpers.ts';

const rounds = 20;
const writerScript = join(import.meta.dirname, 'crash-writer.ts');

interface Entry {
  address: VersionAddress;
  label: string;
  sizeBytes: number;
}

/** Runs the writer until killed with SIGKILL after `killAfterMs`; returns what it printed. */
function runWriterUntilKilled(seed: number, drives: string[], killAfterMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [writerScript, String(seed), ...drives], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let errors = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr.on('data', (chunk) => {
      errors += chunk;
    });
    // Count from the first START so every kill lands in the middle of the writing.
    let timer: NodeJS.Timeout | undefined;
    child.stdout.once('data', () => {
      timer = setTimeout(() => process.kill(child.pid!, 'SIGKILL'), killAfterMs);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL') resolve(output);
      else reject(new Error(`writer exited with ${code ?? signal}: ${errors}`));
    });
  });
}

const addressText = (address: VersionAddress) => JSON.stringify(address);

test(`crash: a writer killed with SIGKILL at ${rounds} random points loses no acknowledged version and shows no partial one`, async (t) => {
  const drives = await makeDriveDirectories(t);
  let random = 20_251_129;
  /**
   * For each acknowledged address, the labels it may show: its last acknowledged write, plus a
   * later write to it that was cut short (it may have reached its commit before the kill). After
   * each check, what it showed becomes the only possibility.
   */
  const expected = new Map<string, Set<string>>();
  const started = new Map<string, Entry>();
  let totalAcknowledged = 0;
  let temporaryEntriesCleaned = 0;
  for (let round = 0; round < rounds; round += 1) {
    random = (random * 1_103_515_245 + 12_345) % 2_147_483_648;
    const killAfterMs = 20 + (random % 500);
    const output = await runWriterUntilKilled(round + 1, drives, killAfterMs);
    for (const line of output.split('\n')) {
      const [kind, json] = [line.slice(0, line.indexOf(' ')), line.slice(line.indexOf(' ') + 1)];
      if (kind !== 'START' && kind !== 'ACK') continue;
      const entry = JSON.parse(json) as Entry;
      const where = addressText(entry.address);
      started.set(entry.label, entry);
      if (kind === 'START') expected.get(where)?.add(entry.label);
      else {
        expected.set(where, new Set([entry.label]));
        totalAcknowledged += 1;
      }
    }

    const set = await openErasureSet({ drives, blockSizeBytes: 256 * 1024, inlineThresholdBytes: 32 * 1024 });
    temporaryEntriesCleaned += set.metrics.temporaryEntriesCleaned;
    for (const drive of drives)
      t.deepEqual(await filesUnder(join(drive, 'tmp')), [], `round ${round}: temp files left`);
    // Every acknowledged version reads back byte-identical: the last acknowledged write of its
    // address, or the write to that address that was cut short (it may have committed).
    for (const [where, labels] of expected) {
      const address = JSON.parse(where) as VersionAddress;
      const { version, body } = await set.readVersion(address);
      const label = version.metadata.label as string;
      t.true(labels.has(label), `round ${round}: ${where} has ${label}, expected one of ${[...labels]}`);
      expected.set(where, new Set([label]));
      t.true((await readAll(body)).equals(patternBytes(started.get(label)!.sizeBytes, label)));
    }
    // Nothing visible is half-written: every listed version is whole and is one that was written.
    for await (const version of set.listVersions({ bucket: 'crash' })) {
      const entry = started.get(version.metadata.label as string);
      t.truthy(entry, `round ${round}: unknown version ${JSON.stringify(version.address)}`);
      const data = await readAll((await set.readVersion(version.address)).body);
      t.true(data.equals(patternBytes(entry!.sizeBytes, entry!.label)), `round ${round}: ${entry!.label}`);
    }
    await set.close();
  }
  t.log(
    `${totalAcknowledged} acknowledged writes over ${rounds} kills; ${temporaryEntriesCleaned} leftovers cleaned`,
  );
  t.true(totalAcknowledged > rounds);
  // The kills did land in the middle of writes (otherwise this test would prove nothing).
  t.true(temporaryEntriesCleaned > 0);
});
