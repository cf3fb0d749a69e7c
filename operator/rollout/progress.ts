// Rollout progress: one event per thing that happened, for the operator to turn into the Region's
// status conditions and Events, and one log line per event.
export type RolloutPhase =
  | 'connect'
  | 'upload'
  | 'verify'
  | 'unpack'
  | 'configure'
  | 'switch'
  | 'restart'
  | 'health'
  | 'rollback';

export type RolloutProgressDetail =
  | { kind: 'rollout-started'; version: string; hostCount: number }
  | { kind: 'host-observed'; host: string; version: string | null; configUpToDate: boolean; healthy: boolean }
  | { kind: 'host-phase'; host: string; phase: RolloutPhase; detail: string }
  | { kind: 'host-unreachable'; host: string; message: string }
  | { kind: 'host-unchanged'; host: string; version: string }
  | { kind: 'host-upgraded'; host: string; fromVersion: string | null; version: string; durationMs: number }
  | { kind: 'host-failed'; host: string; code: string; message: string }
  | { kind: 'host-rolled-back'; host: string; version: string | null; healthy: boolean }
  | { kind: 'rollout-halted'; code: string; message: string }
  | { kind: 'rollout-completed'; version: string; upgraded: string[]; unchanged: string[] };

export type RolloutProgress = RolloutProgressDetail & { region: string; time: string };

export function formatProgress(event: RolloutProgress): string {
  const prefix = `rollout ${event.region}`;
  switch (event.kind) {
    case 'rollout-started':
      return `${prefix}: version ${event.version} to ${event.hostCount} host(s)`;
    case 'host-observed':
      return `${prefix}: ${event.host} runs ${event.version ?? 'nothing'}${event.configUpToDate ? '' : ' (config differs)'}, ${event.healthy ? 'healthy' : 'unhealthy'}`;
    case 'host-phase':
      return `${prefix}: ${event.host} ${event.phase}: ${event.detail}`;
    case 'host-unreachable':
      return `${prefix}: ${event.host} unreachable: ${event.message}`;
    case 'host-unchanged':
      return `${prefix}: ${event.host} already runs ${event.version}, nothing to do`;
    case 'host-upgraded':
      return `${prefix}: ${event.host} upgraded ${event.fromVersion ?? 'nothing'} -> ${event.version} in ${event.durationMs} ms`;
    case 'host-failed':
      return `${prefix}: ${event.host} FAILED (${event.code}): ${event.message}`;
    case 'host-rolled-back':
      return `${prefix}: ${event.host} rolled back to ${event.version ?? 'nothing (stopped)'}, ${event.healthy ? 'healthy' : 'still unhealthy'}`;
    case 'rollout-halted':
      return `${prefix}: HALTED (${event.code}): ${event.message}`;
    case 'rollout-completed':
      return `${prefix}: version ${event.version} everywhere (${event.upgraded.length} upgraded, ${event.unchanged.length} unchanged)`;
  }
}

/** A Kubernetes-style condition for the Region's status, from the latest rollout event. */
export interface RolloutCondition {
  type: 'AgentsRolledOut';
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
}

export function rolloutCondition(event: RolloutProgress): RolloutCondition {
  const base = {
    type: 'AgentsRolledOut' as const,
    message: formatProgress(event),
    lastTransitionTime: event.time,
  };
  if (event.kind === 'rollout-completed') return { ...base, status: 'True', reason: 'Completed' };
  if (event.kind === 'rollout-halted') return { ...base, status: 'False', reason: event.code };
  return { ...base, status: 'Unknown', reason: 'InProgress' };
}
