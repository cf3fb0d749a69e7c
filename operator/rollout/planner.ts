// The rolling-upgrade planner: a pure function from what the rollout knows (each host's version,
// health and failure, the replica sets) to the next step. The driver (rollout.ts) executes the
// step, observes the result and asks again, so every decision here is a table-driven test.
//
// The rules: at most `maxParallelHosts` hosts go down at once (1 for a rolling upgrade); a host
// is never taken down when that would leave one of its replica sets with fewer healthy members
// than the write quorum (2 of 3); a host that failed is rolled back, then the rollout stops.

export interface PlannerHost {
  name: string;
  /** The bundle version it runs, or null when nothing is installed. */
  version: string | null;
  /** Whether its configuration file already is the wanted one. */
  configUpToDate: boolean;
  /** Whether its service runs (a stopped agent on the wanted version is started again). */
  active: boolean;
  /** False when SSH could not reach it: it cannot be upgraded and counts as unhealthy. */
  reachable: boolean;
  healthy: boolean;
  /** `failed`: its upgrade failed and it still runs the new release; `rolled-back`: it was restored. */
  failure: 'failed' | 'rolled-back' | null;
}

export interface PlannerReplicaSet {
  id: string;
  hosts: string[];
}

export interface PlannerInput {
  wantedVersion: string;
  hosts: PlannerHost[];
  replicaSets: PlannerReplicaSet[];
  /** The write quorum of a replica set: 2 of 3 by default (ARCHITECTURE.md, Writes). */
  quorum: number;
  maxParallelHosts: number;
}

export type RolloutStep =
  | { kind: 'upgrade'; hosts: string[] }
  | { kind: 'rollback'; host: string }
  | { kind: 'halt'; code: 'HealthCheckFailed' | 'QuorumAtRisk' | 'HostUnreachable'; reason: string }
  | { kind: 'done' };

export function isUpToDate(host: PlannerHost, wantedVersion: string): boolean {
  return host.version === wantedVersion && host.configUpToDate && host.active;
}

/**
 * The sets that would lose their quorum if `down` were all stopped: fewer healthy members left than
 * the quorum, and fewer than now (stopping hosts that are already down costs nothing).
 */
export function setsLosingQuorum(
  input: Pick<PlannerInput, 'hosts' | 'replicaSets' | 'quorum'>,
  down: ReadonlySet<string>,
): PlannerReplicaSet[] {
  const healthy = new Set(input.hosts.filter((host) => host.healthy).map((host) => host.name));
  return input.replicaSets.filter((set) => {
    const healthyNow = set.hosts.filter((name) => healthy.has(name)).length;
    const healthyAfter = set.hosts.filter((name) => healthy.has(name) && !down.has(name)).length;
    return healthyAfter < input.quorum && healthyAfter < healthyNow;
  });
}

export function planNextStep(input: PlannerInput): RolloutStep {
  const byName = [...input.hosts].sort((left, right) => left.name.localeCompare(right.name));
  const failed = byName.find((host) => host.failure === 'failed');
  if (failed) return { kind: 'rollback', host: failed.name };
  const rolledBack = byName.find((host) => host.failure === 'rolled-back');
  if (rolledBack) {
    return {
      kind: 'halt',
      code: 'HealthCheckFailed',
      reason: `${rolledBack.name} failed its upgrade and was rolled back`,
    };
  }
  const pending = byName.filter((host) => !isUpToDate(host, input.wantedVersion));
  if (pending.length === 0) return { kind: 'done' };
  const reachable = pending.filter((host) => host.reachable);
  if (reachable.length === 0) {
    return {
      kind: 'halt',
      code: 'HostUnreachable',
      reason: `${pending.map((host) => host.name).join(', ')} still to upgrade but unreachable over SSH`,
    };
  }
  // Hosts already down first: upgrading them cannot cost a quorum and may restore one.
  const ordered = [...reachable.filter((host) => !host.healthy), ...reachable.filter((host) => host.healthy)];
  const batch = new Set<string>();
  for (const host of ordered) {
    if (batch.size >= input.maxParallelHosts) break;
    const candidate = new Set([...batch, host.name]);
    if (setsLosingQuorum(input, candidate).length === 0) batch.add(host.name);
  }
  if (batch.size > 0) return { kind: 'upgrade', hosts: [...batch] };
  const blocked = setsLosingQuorum(input, new Set([ordered[0].name]));
  return {
    kind: 'halt',
    code: 'QuorumAtRisk',
    reason:
      `taking down ${ordered[0].name} would leave replica set ${blocked[0].id} below its quorum of ` +
      `${input.quorum}; ${pending.length} host(s) still to upgrade`,
  };
}
