// The rollout driver: connects to every host of a Region over SSH (pinned host keys, a bounded
// number of connections at once), observes what each runs, then asks the planner for the next
// step and executes it, until the planner says done or halt. Each step is reported as a
// RolloutProgress event and a log line.
import assert from 'node:assert/strict';
import type { AgentBundle } from '../bundle/build.ts';
import { type AdminCredentials, type AgentSettings, validateAgentSettings } from './agent-config.ts';
import {
  type Clock,
  type HealthWait,
  type HostContext,
  type ObservedHost,
  observeHost,
  rollbackHost,
  systemClock,
  upgradeHost,
  wantedConfigText,
} from './deploy-host.ts';
import { RolloutError } from './errors.ts';
import { type HealthCheck, s3HealthCheck } from './health.ts';
import { type HostLayout, hostLayout } from './host-layout.ts';
import { isUpToDate, type PlannerHost, type PlannerReplicaSet, planNextStep } from './planner.ts';
import { formatProgress, type RolloutProgress, type RolloutProgressDetail } from './progress.ts';
import { type ServiceManager, systemdServiceManager } from './service-manager.ts';
import { DEFAULT_SSH_TIMEOUTS, type SshCredentials, SshSession, type SshTimeouts } from './ssh.ts';

export interface RolloutHost {
  name: string;
  ssh: { address: string; port: number; username: string; hostKeySha256: string };
  /** The S3 endpoint the health check calls, e.g. https://10.0.0.2:443. */
  endpoint: string;
  agent: AgentSettings;
  /** Default /opt/coffre and /etc/coffre; tests give each host its own temporary roots. */
  installRoot?: string;
  configDirectory?: string;
}

export interface RegionRollout {
  region: string;
  hosts: RolloutHost[];
  replicaSets: PlannerReplicaSet[];
  bundle: AgentBundle;
  adminCredentials: AdminCredentials;
  sshCredentials: SshCredentials;
}

export interface RolloutOptions {
  serviceManager?: ServiceManager;
  healthCheck?: HealthCheck;
  onProgress?: (event: RolloutProgress) => void;
  /** One line per event; default console.log. */
  log?: (line: string) => void;
  quorum?: number;
  maxParallelHosts?: number;
  maxConcurrentConnections?: number;
  sshTimeouts?: Partial<SshTimeouts>;
  healthWait?: Partial<HealthWait>;
  clock?: Clock;
}

export interface RolloutResult {
  outcome: 'completed' | 'halted';
  version: string;
  upgraded: string[];
  unchanged: string[];
  rolledBack: string[];
  failure: { host: string | null; code: string; message: string } | null;
}

const DEFAULT_QUORUM = 2;
const DEFAULT_MAX_CONCURRENT_CONNECTIONS = 8;
const DEFAULT_HEALTH_WAIT: HealthWait = { timeoutMs: 60_000, intervalMs: 500 };

/**
 * Runs `work` over `items`, at most `limit` at a time. After a failure no new item starts, and the
 * first error is thrown only once the items in flight have settled, so nothing outlives the call.
 */
export async function mapBounded<Item, Result>(
  items: readonly Item[],
  limit: number,
  work: (item: Item) => Promise<Result>,
): Promise<Result[]> {
  const results: Result[] = new Array(items.length);
  let next = 0;
  let firstError: { error: unknown } | null = null;
  const worker = async () => {
    while (next < items.length && firstError === null) {
      const index = next++;
      try {
        results[index] = await work(items[index]);
      } catch (error) {
        firstError ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (firstError !== null) throw (firstError as { error: unknown }).error;
  return results;
}

interface HostState {
  name: string;
  /** Null when the host could not be reached over SSH. */
  context: HostContext | null;
  observed: ObservedHost;
  planner: PlannerHost;
}

function errorDetails(error: unknown, host: string | null) {
  if (error instanceof RolloutError)
    return { host: error.host ?? host, code: error.code, message: error.message };
  return { host, code: 'Unexpected', message: (error as Error).message ?? String(error) };
}

export async function rolloutRegion(
  rollout: RegionRollout,
  options: RolloutOptions = {},
): Promise<RolloutResult> {
  const clock = options.clock ?? systemClock;
  const log = options.log ?? ((line: string) => console.log(line));
  const emit = (detail: RolloutProgressDetail) => {
    const event = {
      ...detail,
      region: rollout.region,
      time: new Date(clock.now()).toISOString(),
    } as RolloutProgress;
    log(formatProgress(event));
    options.onProgress?.(event);
  };
  const version = rollout.bundle.manifest.version;
  const result: RolloutResult = {
    outcome: 'halted',
    version,
    upgraded: [],
    unchanged: [],
    rolledBack: [],
    failure: null,
  };
  const halt = (failure: RolloutResult['failure'] & {}) => {
    result.failure = failure;
    emit({ kind: 'rollout-halted', code: failure.code, message: failure.message });
    return result;
  };
  emit({ kind: 'rollout-started', version, hostCount: rollout.hosts.length });
  const sessions: SshSession[] = [];
  try {
    for (const host of rollout.hosts) validateAgentSettings(host.name, host.agent);
    const states = await mapBounded(
      rollout.hosts,
      options.maxConcurrentConnections ?? DEFAULT_MAX_CONCURRENT_CONNECTIONS,
      async (host) => {
        const state = await connectAndObserve(rollout, host, options, clock, emit, sessions).catch(
          (error) => {
            // A pinned key that does not match may be an attack: stop everything. Anything else makes
            // the host unreachable, which the planner treats as down.
            if (error instanceof RolloutError && error.code === 'HostKeyMismatch') throw error;
            emit({ kind: 'host-unreachable', host: host.name, message: (error as Error).message });
            return unreachableState(host.name);
          },
        );
        emit({
          kind: 'host-observed',
          host: host.name,
          version: state.observed.version,
          configUpToDate: state.planner.configUpToDate,
          healthy: state.planner.healthy,
        });
        return state;
      },
    );
    const byName = new Map(states.map((state) => [state.name, state]));
    for (const state of states) {
      if (isUpToDate(state.planner, version) && state.planner.healthy) {
        result.unchanged.push(state.name);
        emit({ kind: 'host-unchanged', host: state.name, version });
      }
    }
    // Each step upgrades or rolls back at least one host, or ends the loop.
    for (let steps = 0; steps <= 2 * states.length; steps += 1) {
      const step = planNextStep({
        wantedVersion: version,
        hosts: states.map((state) => state.planner),
        replicaSets: rollout.replicaSets,
        quorum: options.quorum ?? DEFAULT_QUORUM,
        maxParallelHosts: options.maxParallelHosts ?? 1,
      });
      if (step.kind === 'done') {
        result.outcome = 'completed';
        emit({ kind: 'rollout-completed', version, upgraded: result.upgraded, unchanged: result.unchanged });
        return result;
      }
      if (step.kind === 'halt') {
        return halt(result.failure ?? { host: null, code: step.code, message: step.reason });
      }
      if (step.kind === 'rollback') {
        const state = byName.get(step.host)!;
        assert.ok(state.context !== null, 'only a reached host can fail its upgrade');
        const healthy = await rollbackHost(state.context, state.observed).catch(() => false);
        state.planner = {
          ...state.planner,
          version: state.observed.version,
          healthy,
          failure: 'rolled-back',
        };
        result.rolledBack.push(step.host);
        emit({ kind: 'host-rolled-back', host: step.host, version: state.observed.version, healthy });
        continue;
      }
      await Promise.all(
        step.hosts.map((name) => upgradeOne(byName.get(name)!, rollout.bundle, clock, emit, result)),
      );
    }
    throw new Error('the rollout planner did not converge');
  } catch (error) {
    return halt(errorDetails(error, null));
  } finally {
    for (const session of sessions) session.close();
  }
}

async function upgradeOne(
  state: HostState,
  bundle: AgentBundle,
  clock: Clock,
  emit: (detail: RolloutProgressDetail) => void,
  result: RolloutResult,
): Promise<void> {
  const started = clock.now();
  const name = state.name;
  const context = state.context;
  assert.ok(context !== null, 'the planner upgrades only reachable hosts');
  try {
    await upgradeHost(context, bundle, state.observed);
    state.planner = {
      ...state.planner,
      version: bundle.manifest.version,
      configUpToDate: true,
      active: true,
      healthy: true,
    };
    result.upgraded.push(name);
    emit({
      kind: 'host-upgraded',
      host: name,
      fromVersion: state.observed.version,
      version: bundle.manifest.version,
      durationMs: clock.now() - started,
    });
  } catch (error) {
    const failure = errorDetails(error, name);
    result.failure ??= failure;
    state.planner = { ...state.planner, healthy: false, failure: 'failed' };
    emit({ kind: 'host-failed', host: name, code: failure.code, message: failure.message });
  }
}

async function connectAndObserve(
  rollout: RegionRollout,
  host: RolloutHost,
  options: RolloutOptions,
  clock: Clock,
  emit: (detail: RolloutProgressDetail) => void,
  sessions: SshSession[],
): Promise<HostState> {
  emit({
    kind: 'host-phase',
    host: host.name,
    phase: 'connect',
    detail: `${host.ssh.username}@${host.ssh.address}:${host.ssh.port}`,
  });
  const session = await SshSession.connect({ name: host.name, ...host.ssh }, rollout.sshCredentials, {
    ...DEFAULT_SSH_TIMEOUTS,
    ...options.sshTimeouts,
  });
  sessions.push(session);
  const layout: HostLayout = hostLayout(host.installRoot, host.configDirectory);
  const context: HostContext = {
    name: host.name,
    endpoint: host.endpoint,
    session,
    layout,
    settings: host.agent,
    credentials: rollout.adminCredentials,
    serviceManager: options.serviceManager ?? systemdServiceManager(),
    healthCheck:
      options.healthCheck ??
      s3HealthCheck({ credentials: rollout.adminCredentials, region: host.agent.region }),
    healthWait: { ...DEFAULT_HEALTH_WAIT, ...options.healthWait },
    clock,
    reportPhase: (phase, detail) => emit({ kind: 'host-phase', host: host.name, phase, detail }),
  };
  const observed = await observeHost(context);
  const healthy =
    observed.active && (await context.healthCheck({ name: host.name, endpoint: host.endpoint })).healthy;
  return {
    name: host.name,
    context,
    observed,
    planner: {
      name: host.name,
      version: observed.version,
      configUpToDate: observed.configText === wantedConfigText(context),
      active: observed.active,
      reachable: true,
      healthy,
      failure: null,
    },
  };
}

function unreachableState(name: string): HostState {
  return {
    name,
    context: null,
    observed: { version: null, configText: null, active: false },
    planner: {
      name,
      version: null,
      configUpToDate: false,
      active: false,
      reachable: false,
      healthy: false,
      failure: null,
    },
  };
}
