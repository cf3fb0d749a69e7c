// What a server process costs, read from /proc by PID: resident memory now (VmRSS), its peak
// (VmHWM, which `echo 5 > /proc/PID/clear_refs` resets so each cell reports its own peak, see
// proc(5) "clear_refs"), and CPU time (utime + stime from /proc/PID/stat).
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';

/** USER_HZ: the unit of utime and stime in /proc/PID/stat; 100 on every Linux we run on. */
const clockTicksPerSecond = 100;

export interface MemoryReading {
  rssBytes: number;
  peakRssBytes: number;
}

export function readMemory(pid: number): MemoryReading {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kibibytes = (field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
  return { rssBytes: kibibytes('VmRSS') * 1024, peakRssBytes: kibibytes('VmHWM') * 1024 };
}

/** Returns false where the kernel refuses (then VmHWM is the process's lifetime peak). */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** User plus system CPU seconds the process (all its threads) has used so far. */
export function readCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name may hold spaces and parentheses; the fields after the last ')' are fixed.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the whole line, so 12 and 13 after the name.
  return (Number(fields[11]) + Number(fields[12])) / clockTicksPerSecond;
}

/** Samples VmRSS every `intervalMs` until stopped; keeps the count, first, last and largest. */
export class RssSampler {
  private readonly timer: NodeJS.Timeout;
  readonly firstBytes: number;
  largestBytes: number;
  lastBytes: number;
  sampleCount = 1;

  constructor(pid: number, intervalMs: number) {
    this.firstBytes = readMemory(pid).rssBytes;
    this.largestBytes = this.firstBytes;
    this.lastBytes = this.firstBytes;
    this.timer = setInterval(() => {
      try {
        const { rssBytes } = readMemory(pid);
        this.sampleCount += 1;
        this.lastBytes = rssBytes;
        this.largestBytes = Math.max(this.largestBytes, rssBytes);
      } catch {
        // The process is gone; the caller finds out from its own requests.
      }
    }, intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** User plus system CPU seconds of each thread of a process so far, by "name#tid". */
export function threadCpuSeconds(pid: number): Map<string, number> {
  const usage = new Map<string, number>();
  for (const thread of readdirSync(`/proc/${pid}/task`)) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/task/${thread}/stat`, 'utf8');
    } catch {
      continue; // the thread ended meanwhile
    }
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    usage.set(`${name}#${thread}`, (Number(fields[11]) + Number(fields[12])) / clockTicksPerSecond);
  }
  return usage;
}

/**
 * CPU seconds of the process's threads but a profiler's (`node --cpu-prof` samples from a thread
 * of its own, busy even when the server is idle).
 */
function workCpuSeconds(pid: number): number {
  let seconds = 0;
  for (const [thread, threadSeconds] of threadCpuSeconds(pid)) {
    if (!thread.startsWith('v8:ProfEvntProc#')) seconds += threadSeconds;
  }
  return seconds;
}

/** A server counts as idle below this share of one core. */
const idleCoreShare = 0.05;
const settleSampleMs = 500;
/**
 * Idle this long in a row: longer than the background work a server defers after a step (Coffre's
 * journal checkpoints run 5 s after the last change, and remove what the step deleted).
 */
const settleIdleMs = 8_000;
const settleLimitMs = 60_000;

/**
 * Waits until what a step left behind is done, so the next step measures its own work only: the
 * server idle (under 5 % of a core for 8 s in a row: Coffre's checkpoint of the step's deletions,
 * MinIO's own background work), then the file system's dirty pages written out (syncfs, through
 * coreutils' `sync -f`: a 5 GiB upload leaves gigabytes for the kernel to write, whose writeback
 * slows every fsync after it). At most a minute for each; returns the seconds waited.
 */
export async function settle(pid: number, directory: string): Promise<number> {
  const startMs = performance.now();
  let idleSinceMs = performance.now();
  while (performance.now() - startMs < settleLimitMs) {
    const before = workCpuSeconds(pid);
    await new Promise((resolve) => setTimeout(resolve, settleSampleMs));
    if (workCpuSeconds(pid) - before >= (idleCoreShare * settleSampleMs) / 1000)
      idleSinceMs = performance.now();
    else if (performance.now() - idleSinceMs >= settleIdleMs) break;
  }
  spawnSync('sync', ['-f', directory], { stdio: 'ignore', timeout: settleLimitMs });
  return (performance.now() - startMs) / 1000;
}
