// The agent's background care of its drives: a drive found empty at start (a replaced disk) is
// rebuilt from the others, and a scrubber walks every stored version at a bounded rate, so damage
// that no read touches is still found and repaired (heals and corruptions are counted by the store).
import type { ErasureSet } from './shards/index.ts';

export interface MaintenanceOptions {
  /** m of the erasure set: at most this many empty drives are taken for replaced disks. */
  parityShards: number;
  /** Bytes per second the scrubber may read; 0 turns scrubbing off. */
  scrubBytesPerSecond: number;
  /** Pause between the end of one scrub pass and the start of the next. */
  scrubIntervalMs: number;
  log: (line: string) => void;
  sleep?: (milliseconds: number, signal: AbortSignal) => Promise<void>;
}

export interface Maintenance {
  /** Resolves when the rebuilds started at open are done (for tests and the admin API). */
  readonly rebuilt: Promise<void>;
  /** Stops the scrubber between (or during) passes and waits for it. */
  stop(): Promise<void>;
}

function abortableSleep(milliseconds: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(resolve, milliseconds);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}

async function rebuildEmptyDrives(
  store: ErasureSet,
  parityShards: number,
  log: (line: string) => void,
): Promise<void> {
  const empty = (await store.driveStates()).filter((drive) => drive.state === 'needs-rebuild');
  if (empty.length > parityShards) {
    // More empty drives than the code can lose is not a set of replaced disks but mounts that did
    // not come up: writing a rebuild onto the bare mount points would help nobody, so wait.
    log(
      `${empty.length} drives are empty, more than the ${parityShards} the erasure code can lose: ` +
        'not rebuilding (check that every drive is mounted)',
    );
    return;
  }
  for (const drive of empty) {
    log(`drive ${drive.driveIndex + 1} (${drive.description}) is empty: rebuilding it from the others`);
    const report = await store.rebuildDrive(drive.driveIndex);
    log(
      `drive ${drive.driveIndex + 1} rebuilt: ${report.versionsChecked} versions checked, ` +
        `${report.shardsRewritten} shards rewritten, ${report.failures} failures`,
    );
  }
}

async function scrubForever(
  store: ErasureSet,
  options: MaintenanceOptions,
  signal: AbortSignal,
): Promise<void> {
  const sleep = options.sleep ?? abortableSleep;
  while (!signal.aborted) {
    const report = await store.scrub({ bytesPerSecond: options.scrubBytesPerSecond, signal });
    if (report.versionsHealed > 0 || report.failures > 0) {
      options.log(
        `scrub: ${report.versionsChecked} versions checked, ${report.versionsHealed} healed, ` +
          `${report.failures} failures`,
      );
    }
    await sleep(options.scrubIntervalMs, signal);
  }
}

export function startMaintenance(store: ErasureSet, options: MaintenanceOptions): Maintenance {
  const controller = new AbortController();
  const report = (what: string) => (error: unknown) => options.log(`${what} failed: ${String(error)}`);
  const rebuilt = rebuildEmptyDrives(store, options.parityShards, options.log).catch(report('drive rebuild'));
  // The scrubber starts after the rebuilds, so the two do not compete for the same disks.
  const scrubbing =
    options.scrubBytesPerSecond > 0
      ? rebuilt.then(() => scrubForever(store, options, controller.signal)).catch(report('scrub'))
      : Promise.resolve();
  return {
    rebuilt,
    async stop() {
      controller.abort();
      await Promise.all([rebuilt, scrubbing]);
    },
  };
}
