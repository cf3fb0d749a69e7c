// What a benchmark leaves on the machine when it is stopped midway (Ctrl-C, SIGTERM): the servers it
// started and their data directories, several GiB of shard files and a page cache full of dirty
// pages that slow the next runs down (BENCHMARKS run 13). Each is registered while it exists; a stop
// signal kills the servers, waits for them (2 s at most), removes the directories and exits.
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

const directories = new Set<string>();
const children = new Set<ChildProcess>();
let installed = false;

function install(): void {
  if (installed) return;
  installed = true;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      void tidyAndExit(128 + os.constants.signals[signal]);
    });
  }
}

async function tidyAndExit(code: number): Promise<void> {
  // The run's requests fail as their servers go: nothing of that matters any more.
  process.on('uncaughtException', () => {});
  process.on('unhandledRejection', () => {});
  const exits = [...children].map(
    (child) =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) resolve();
        else child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
  );
  await Promise.race([Promise.all(exits), new Promise((resolve) => setTimeout(resolve, 2_000))]);
  await Promise.all([...directories].map((directory) => rm(directory, { recursive: true, force: true })));
  process.exit(code);
}

/** A fresh directory under the system's temporary directory, removed if the run is stopped. */
export async function scratchDirectory(prefix: string): Promise<string> {
  install();
  const directory = await mkdtemp(path.join(os.tmpdir(), prefix));
  directories.add(directory);
  return directory;
}

/** Removes a scratch directory (the normal end of a suite). */
export async function removeScratch(directory: string): Promise<void> {
  await rm(directory, { recursive: true, force: true });
  directories.delete(directory);
}

/** A server process killed if the run is stopped before it is. */
export function ownChild(child: ChildProcess): void {
  install();
  children.add(child);
  child.once('exit', () => children.delete(child));
}
