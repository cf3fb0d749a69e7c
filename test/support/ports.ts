// Ports for servers the tests start later (sshd, etcd, kube-apiserver, an agent a rollout installs),
// where listen(0) cannot be used because the port goes into a config or a command line first.
//
// Two things could take such a port before the server binds it:
// - an outgoing connection: the kernel hands out local ports from its ephemeral range, so the port
//   is chosen outside that range (read from /proc, since machines set it differently);
// - another test worker choosing the same number: every port handed out is claimed with a file
//   created exclusively in a directory all workers share (holding the claimer's PID), and released
//   when this process exits or once that PID is gone (each process sweeps such claims once).
// Whatever else might still bind it first, the callers that start a server retry with a new port
// when it reports "address already in use" (isAddressInUse).
import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const claimsDirectory = path.join(os.tmpdir(), 'coffre-test-ports');
/** A claim older than this is stale even if its PID was reused meanwhile. */
const staleClaimMs = 60 * 60 * 1000;
const lowestPort = 10_000;
const highestPort = 65_535;

const claimedHere = new Set<string>();
// Released when this process exits. A worker stopped by a signal runs no exit handler: its claims
// are taken over as soon as its PID is gone.
process.once('exit', () => {
  for (const file of claimedHere) {
    try {
      unlinkSync(file);
    } catch {
      // Already gone: nothing to release.
    }
  }
});

/** The kernel's ephemeral range, `[low, high]`; Linux's default when /proc cannot say. */
export function ephemeralRange(text?: string): [number, number] {
  let source = text;
  if (source === undefined) {
    try {
      source = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8');
    } catch {
      source = '32768 60999';
    }
  }
  const [low, high] = source.trim().split(/\s+/).map(Number);
  if (!Number.isInteger(low) || !Number.isInteger(high) || low > high) return [32_768, 60_999];
  return [low, high];
}

/** The ports from 10000 up that the kernel never hands to an outgoing connection, as `[from, to]` runs. */
export function portsOutside([low, high]: [number, number]): [number, number][] {
  const runs: [number, number][] = [];
  if (low > lowestPort) runs.push([lowestPort, Math.min(low - 1, highestPort)]);
  if (high < highestPort) runs.push([Math.max(high + 1, lowestPort), highestPort]);
  return runs.filter(([from, to]) => from <= to);
}

function randomPortIn(runs: [number, number][]): number {
  const total = runs.reduce((sum, [from, to]) => sum + (to - from + 1), 0);
  let index = Math.floor(Math.random() * total);
  for (const [from, to] of runs) {
    const size = to - from + 1;
    if (index < size) return from + index;
    index -= size;
  }
  throw new Error('unreachable: index within the runs');
}

/**
 * Removes the claims of processes that are gone (a worker stopped by a signal runs no exit handler)
 * and drafts older than a minute, so repeated runs do not pile files up. Once per process.
 */
export function sweepDeadClaims(): void {
  let names: string[];
  try {
    names = readdirSync(claimsDirectory);
  } catch {
    return;
  }
  for (const name of names) {
    const file = path.join(claimsDirectory, name);
    try {
      const abandoned = name.startsWith('.') ? Date.now() - statSync(file).mtimeMs > 60_000 : isStale(file);
      if (abandoned) unlinkSync(file);
    } catch {
      // Gone meanwhile, or taken by another worker's sweep.
    }
  }
}
let swept = false;

/** Whether a claim file was left by a process that is gone, or is older than any test run. */
function isStale(file: string): boolean {
  if (Date.now() - statSync(file).mtimeMs >= staleClaimMs) return true;
  const pid = Number(readFileSync(file, 'utf8'));
  // Claims are linked into place whole (claimPort), so a claim without a PID is not one of ours.
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * Claims `port` for this process; false when a live claim of another process holds it. The claim
 * is written to a file of this process's own, then linked into place: link() fails if the name
 * exists, so two workers cannot both create it, and nobody ever reads a claim not yet written.
 */
export function claimPort(port: number): boolean {
  mkdirSync(claimsDirectory, { recursive: true });
  const file = path.join(claimsDirectory, String(port));
  const draft = path.join(claimsDirectory, `.${port}.${process.pid}.${randomBytes(4).toString('hex')}`);
  writeFileSync(draft, String(process.pid));
  try {
    for (let attempt = 0; attempt < 2; attempt += 1) {
      try {
        linkSync(draft, file);
        claimedHere.add(file);
        return true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        try {
          if (!isStale(file)) return false;
          unlinkSync(file);
        } catch {
          // Released meanwhile: try again.
        }
      }
    }
    return false;
  } finally {
    unlinkSync(draft);
  }
}

function canBind(port: number): Promise<boolean> {
  const server = net.createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A port on 127.0.0.1 that is free now, outside the ephemeral range, and handed to no other test worker. */
export async function reservePort(): Promise<number> {
  if (!swept) {
    swept = true;
    sweepDeadClaims();
  }
  let runs = portsOutside(ephemeralRange());
  // A kernel that lends every port to outgoing connections: the retries on "in use" must do.
  if (runs.length === 0) runs = [[20_000, 32_000]];
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const port = randomPortIn(runs);
    if (claimPort(port) && (await canBind(port))) return port;
  }
  throw new Error('no free port outside the ephemeral range after 200 tries');
}

/** Whether a server's output says its port was taken between reservePort() and its bind. */
export function isAddressInUse(output: string): boolean {
  return /address already in use/i.test(output);
}

/** How many times a caller starts a server again, on new ports, after "address already in use". */
export const portAttempts = 3;
