import { spawn } from 'node:child_process';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { openErasureSet, type VersionAddress } from '../../agent/shards/index.ts';
import { filesUnder, makeDriveDirectories, patternBytes, readAll } from './helpers.ts';

const writerScript = join(import.meta.dirname, 'journal-crash-writer.ts');

interface Change {
  address: VersionAddress;
  label?: string;
  sizeBytes?: number;
  touch?: number;
  deleted?: true;
}

/**
 * Starts the writer and kills it with SIGKILL `killAfterMs` after it has printed `startLine` and at
 * least `acknowledgedBeforeKill` ACK lines. Waiting for acknowledgements, rather than for time only,
 * keeps every round meaningful however slow a loaded machine makes the writer.
 */
function runWriterUntilKilled(
  seed: number,
  mode: 'mixed' | 'checkpoint',
  drives: string[],
  startLine: string,
  killAfterMs: number,
  acknowledgedBeforeKill = 0,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [writerScript, String(seed), mode, ...drives], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let errors = '';
    let timer: NodeJS.Timeout | undefined;
    child.stdout.on('data', (chunk) => {
      output += chunk;
      const acknowledged = output.split('\nACK ').length - 1 + (output.startsWith('ACK ') ? 1 : 0);
      if (timer === undefined && output.includes(startLine) && acknowledged >= acknowledgedBeforeKill) {
        timer = setTimeout(() => process.kill(child.pid!, 'SIGKILL'), killAfterMs);
      }
    });
    child.stderr.on('data', (chunk) => {
      errors += chunk;
    });
    // 'close', not 'exit': only then has everything the child printed been read.
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL') resolve(output);
      else reject(new Error(`writer exited with ${code ?? signal}: ${errors}`));
    });
  });
}

/** What an address may show: "absent", or "<label>#<touch>". */
function outcomeOf(change: Change): string {
  return change.deleted ? 'absent' : `${change.label}#${change.touch}`;
}

/**
 * Follows the writer's output. Per address, the outcomes it may show after a crash: its last
 * acknowledged outcome (or absent), plus the outcome of a change that was started but not
 * acknowledged (it may or may not have reached its quorum, but it is never half there).
 */
class Expectations {
  readonly possible = new Map<string, Set<string>>();
  readonly sizes = new Map<string, number>();
  acknowledged = 0;

  read(output: string): void {
    for (const line of output.split('\n')) {
      const space = line.indexOf(' ');
      const kind = line.slice(0, space);
      if (kind !== 'START' && kind !== 'ACK') continue;
      const change = JSON.parse(line.slice(space + 1)) as Change;
      const where = JSON.stringify(change.address);
      if (change.label !== undefined) this.sizes.set(change.label, change.sizeBytes!);
      if (kind === 'START') {
        const outcomes = this.possible.get(where) ?? new Set(['absent']);
        outcomes.add(outcomeOf(change));
        this.possible.set(where, outcomes);
      } else {
        this.possible.set(where, new Set([outcomeOf(change)]));
        this.acknowledged += 1;
      }
    }
  }

  /** Reopens the set and checks every address; what it shows becomes the only possibility. */
  async verify(t: ExecutionContext, drives: string[], round: number): Promise<void> {
    const set = await openErasureSet({ drives, blockSizeBytes: 256 * 1024, inlineThresholdBytes: 32 * 1024 });
    try {
      for (const drive of drives)
        t.deepEqual(await filesUnder(join(drive, 'tmp')), [], `round ${round}: tmp`);
      for (const [where, outcomes] of this.possible) {
        const address = JSON.parse(where) as VersionAddress;
        const version = await set.statVersion(address);
        const seen = version === null ? 'absent' : `${version.metadata.label}#${version.metadata.touch}`;
        t.true(
          outcomes.has(seen),
          `round ${round}: ${where} shows ${seen}, expected one of ${[...outcomes]}`,
        );
        this.possible.set(where, new Set([seen]));
        if (version === null) continue;
        const label = version.metadata.label as string;
        const data = await readAll((await set.readVersion(address)).body);
        t.true(data.equals(patternBytes(this.sizes.get(label)!, label)), `round ${round}: ${label} differs`);
      }
      // Nothing else is visible: every listed version is one of the outcomes just checked.
      for await (const version of set.listVersions({ bucket: 'crash' })) {
        const seen = `${version.metadata.label}#${version.metadata.touch}`;
        const outcomes = this.possible.get(JSON.stringify(version.address));
        t.true(outcomes?.has(seen) ?? false, `round ${round}: listed ${seen} was not expected`);
      }
    } finally {
      await set.close();
    }
  }
}

/** Seeded kill delays (a linear congruential generator), so a failing run replays. */
function delays(seed: number, fromMs: number, spanMs: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return fromMs + (state % spanMs);
  };
}

const rounds = 20;
const roundsPerDriveSet = 5;
/** Each round kills the writer only after this many acknowledged changes (then after a seeded delay). */
const acknowledgedPerRound = 11;

test(`journal crash: ${rounds} SIGKILLs amid 24 concurrent small writes, updates and deletes lose no acknowledged change and show no partial one`, async (t) => {
  const nextDelay = delays(20_261_129, 30, 600);
  let drives: string[] = [];
  let expectations = new Expectations();
  let total = 0;
  for (let round = 0; round < rounds; round += 1) {
    // A fresh set of drives every few rounds keeps the verification of every address affordable.
    if (round % roundsPerDriveSet === 0) {
      total += expectations.acknowledged;
      drives = await makeDriveDirectories(t);
      expectations = new Expectations();
    }
    expectations.read(
      await runWriterUntilKilled(round + 1, 'mixed', drives, 'START', nextDelay(), acknowledgedPerRound),
    );
    await expectations.verify(t, drives, round);
  }
  total += expectations.acknowledged;
  t.log(`${total} acknowledged changes over ${rounds} kills`);
  t.true(total > rounds * 10);
});

test('journal crash: SIGKILL during a checkpoint pass loses nothing, and the journal is replayed over the half-written record databases', async (t) => {
  const checkpointRounds = 8;
  const nextDelay = delays(7, 0, 40);
  const drives = await makeDriveDirectories(t);
  const expectations = new Expectations();
  let killedMidPass = 0;
  for (let round = 0; round < checkpointRounds; round += 1) {
    const output = await runWriterUntilKilled(round + 101, 'checkpoint', drives, 'CHECKPOINT\n', nextDelay());
    if (!output.includes('CHECKPOINTED')) killedMidPass += 1;
    expectations.read(output);
    await expectations.verify(t, drives, round);
  }
  t.log(
    `${expectations.acknowledged} acknowledged changes; ${killedMidPass} of ${checkpointRounds} kills mid-pass`,
  );
  // The kills did land inside checkpoint passes (otherwise this test would prove nothing).
  t.true(killedMidPass > 0);
});
