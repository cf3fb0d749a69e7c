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
import { hostLayout } from './host-layout.ts';
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

/** What one call of rolloutRegion carries from step to step. */
interface Run {
  rollout: RegionRollout;
  options: RolloutOptions;
  clock: Clock;
  result: RolloutResult;
  sessions: SshSession[];
  emit(detail: RolloutProgressDetail): void;
}

function errorDetails(error: unknown, host: string | null) {
  if (error instanceof RolloutError) {
    return { host: error.host ?? host, code: error.code, message: error.message };
  }
  return { host, code: 'Unexpected', message: (error as Error).message ?? String(error) };
}

export async function rolloutRegion(
  rollout: RegionRollout,
  options: RolloutOptions = {},
): Promise<RolloutResult> {
  const clock = options.clock ?? systemClock;
  const log = options.log ?? ((line: string) => console.log(line));
  const version = rollout.bundle.manifest.version;
  const run: Run = {
    rollout,
    options,
    clock,
    result: { outcome: 'halted', version, upgraded: [], unchanged: [], rolledBack: [], failure: null },
    sessions: [],
    emit(detail) {
      const time = new Date(clock.now()).toISOString();
      const event = { ...detail, region: rollout.region, time } as RolloutProgress;
      log(formatProgress(event));
      options.onProgress?.(event);
    },
  };
  run.emit({ kind: 'rollout-started', version, hostCount: rollout.hosts.length });
  try {
    for (const host of rollout.hosts) validateAgentSettings(host.name, host.agent);
    const states = await observeAll(run);
    return await followPlan(run, states);
  } catch (error) {
    return halt(run, errorDetails(error, null));
  } finally {
    for (const session of run.sessions) session.close();
  }
}

function halt(run: Run, failure: NonNullable<RolloutResult['failure']>): RolloutResult {
  run.result.failure = failure;
  run.emit({ kind: 'rollout-halted', code: failure.code, message: failure.message });
  return run.result;
}

/** Connects to every host (a bounded number at a time) and observes what it runs. */
async function observeAll(run: Run): Promise<HostState[]> {
  const limit = run.options.maxConcurrentConnections ?? DEFAULT_MAX_CONCURRENT_CONNECTIONS;
  const states = await mapBounded(run.rollout.hosts, limit, async (host) => {
    const state = await connectAndObserve(run, host).catch((error) => {
      // A pinned key that does not match may be an attack: stop everything. Anything else makes the
      // host unreachable, which the planner treats as down.
      if (error instanceof RolloutError && error.code === 'HostKeyMismatch') throw error;
      run.emit({ kind: 'host-unreachable', host: host.name, message: (error as Error).message });
      return unreachableState(host.name);
    });
    const { version } = state.observed;
    const { configUpToDate, healthy } = state.planner;
    run.emit({ kind: 'host-observed', host: host.name, version, configUpToDate, healthy });
    return state;
  });
  const wanted = run.rollout.bundle.manifest.version;
  for (const state of states) {
    if (isUpToDate(state.planner, wanted) && state.planner.healthy) {
      run.result.unchanged.push(state.name);
      run.emit({ kind: 'host-unchanged', host: state.name, version: wanted });
    }
  }
  return states;
}

/** Asks the planner for the next step and executes it, until done or halt. */
async function followPlan(run: Run, states: HostState[]): Promise<RolloutResult> {
  const byName = new Map(states.map((state) => [state.name, state]));
  const version = run.rollout.bundle.manifest.version;
  // Each step upgrades or rolls back at least one host, or ends the loop.
  for (let steps = 0; steps <= 2 * states.length; steps += 1) {
    const step = planNextStep({
      wantedVersion: version,
      hosts: states.map((state) => state.planner),
      replicaSets: run.rollout.replicaSets,
      quorum: run.options.quorum ?? DEFAULT_QUORUM,
      maxParallelHosts: run.options.maxParallelHosts ?? 1,
    });
    switch (step.kind) {
      case 'done':
        run.result.outcome = 'completed';
        run.emit({
          kind: 'rollout-completed',
          version,
          upgraded: run.result.upgraded,
          unchanged: run.result.unchanged,
        });
        return run.result;
      case 'halt':
        return halt(run, run.result.failure ?? { host: null, code: step.code, message: step.reason });
      case 'rollback':
        await rollbackOne(run, byName.get(step.host)!);
        break;
      case 'upgrade':
        await Promise.all(step.hosts.map((name) => upgradeOne(run, byName.get(name)!)));
        break;
    }
  }
  throw new Error('the rollout planner did not converge');
}

async function rollbackOne(run: Run, state: HostState): Promise<void> {
  const context = state.context;
  assert.ok(context !== null, 'only a reached host can fail its upgrade');
  const healthy = await rollbackHost(context, state.observed).catch((error) => {
    const failure = errorDetails(error, state.name);
    run.emit({
      kind: 'host-failed',
      host: state.name,
      code: failure.code,
      message: `rollback: ${failure.message}`,
    });
    return false;
  });
  state.planner = { ...state.planner, version: state.observed.version, healthy, failure: 'rolled-back' };
  run.result.rolledBack.push(state.name);
  run.emit({ kind: 'host-rolled-back', host: state.name, version: state.observed.version, healthy });
}

async function upgradeOne(run: Run, state: HostState): Promise<void> {
  const started = run.clock.now();
  const context = state.context;
  assert.ok(context !== null, 'the planner upgrades only reachable hosts');
  const version = run.rollout.bundle.manifest.version;
  try {
    await upgradeHost(context, run.rollout.bundle, state.observed);
    state.planner = { ...state.planner, version, configUpToDate: true, active: true, healthy: true };
    run.result.upgraded.push(state.name);
    run.emit({
      kind: 'host-upgraded',
      host: state.name,
      fromVersion: state.observed.version,
      version,
      durationMs: run.clock.now() - started,
    });
  } catch (error) {
    const failure = errorDetails(error, state.name);
    run.result.failure ??= failure;
    state.planner = { ...state.planner, healthy: false, failure: 'failed' };
    run.emit({ kind: 'host-failed', host: state.name, code: failure.code, message: failure.message });
  }
}

function hostContext(run: Run, host: RolloutHost, session: SshSession): HostContext {
  const { options, rollout } = run;
  return {
    name: host.name,
    endpoint: host.endpoint,
    session,
    layout: hostLayout(host.installRoot, host.configDirectory),
    settings: host.agent,
    credentials: rollout.adminCredentials,
    serviceManager: options.serviceManager ?? systemdServiceManager(),
    healthCheck:
      options.healthCheck ??
      s3HealthCheck({ credentials: rollout.adminCredentials, region: host.agent.region }),
    healthWait: { ...DEFAULT_HEALTH_WAIT, ...options.healthWait },
    clock: run.clock,
    reportPhase: (phase, detail) => run.emit({ kind: 'host-phase', host: host.name, phase, detail }),
  };
}

async function connectAndObserve(run: Run, host: RolloutHost): Promise<HostState> {
  const { address, port, username } = host.ssh;
  run.emit({
    kind: 'host-phase',
    host: host.name,
    phase: 'connect',
    detail: `${username}@${address}:${port}`,
  });
  const session = await SshSession.connect({ name: host.name, ...host.ssh }, run.rollout.sshCredentials, {
    ...DEFAULT_SSH_TIMEOUTS,
    ...run.options.sshTimeouts,
  });
  run.sessions.push(session);
  const context = hostContext(run, host, session);
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
