// The Region controller's executor: gathers what the pure reconciler needs (what the stack and the
// last rollout did, kept in memory; the Secrets; the bundle of the wanted agent version), runs its
// actions (`pulumi up` through a RegionDeployer, then rolloutRegion over SSH), and writes the status
// before each long action (so `kubectl get region` shows Provisioning / RollingOut while it runs)
// and after. The rollout's host-level progress becomes Events as it happens.
//
// The memory is lost when the operator restarts; the next reconcile then runs `pulumi up` and the
// rollout again, which find nothing to change (both are idempotent) and rebuild it.

import type { RegionDeployer } from '../../stacks/deployer.ts';
import { deployRegion } from '../../stacks/deployer.ts';
import type { HostOutputs } from '../../stacks/host.ts';
import type { RegionOutputs } from '../../stacks/region.ts';
import type { AgentBundle } from '../bundle/build.ts';
import type { RolloutProgress } from '../rollout/progress.ts';
import {
  type RegionRollout,
  type RolloutHost,
  type RolloutOptions,
  rolloutRegion,
} from '../rollout/rollout.ts';
import type { Clock } from '../runtime/clock.ts';
import { TerminalError } from '../runtime/errors.ts';
import type { EventRecorder, ResourceClient, SecretReader } from '../runtime/kube.ts';
import type { ReconcileResult } from '../runtime/work-queue.ts';
import type { Cache } from './context.ts';
import { canonicalJson } from './execute.ts';
import { regionKind } from './kinds.ts';
import type { PlannedEvent } from './plan.ts';
import type { RegionResource, RegionSpec } from './region-kinds.ts';
import {
  type HostObservation,
  type RegionAction,
  type RegionObserved,
  type RolloutRecord,
  type RolloutTarget,
  reconcileRegion,
  type StackRecord,
} from './region-reconcile.ts';

/** What the controller remembers of each region between reconciles. */
export interface RegionMemory {
  stacks: Map<string, StackRecord>;
  rollouts: Map<string, RolloutRecord>;
}

export function regionMemory(): RegionMemory {
  return { stacks: new Map(), rollouts: new Map() };
}

/** Maps a host of the stack's outputs to where and how the rollout reaches it. */
export type RolloutHostMapper = (
  host: HostOutputs,
  region: RegionResource,
  outputs: RegionOutputs,
) => RolloutHost;

export interface RegionControllerContext {
  regions: { cache: Cache<RegionResource>; client: ResourceClient<RegionResource> };
  secrets: SecretReader;
  events: EventRecorder;
  clock: Clock;
  deployer: RegionDeployer;
  /** The bundle of an agent version, or null when this operator has none for it. */
  bundles: (version: string) => Promise<AgentBundle | null>;
  rolloutHost?: RolloutHostMapper;
  /** Service manager, health check and timeouts of the rollout; progress and quorum come from here. */
  rolloutOptions?: Omit<RolloutOptions, 'onProgress' | 'quorum' | 'maxParallelHosts'>;
  memory: RegionMemory;
}

/** Production layout of a host: SSH as root on port 22, data drives mounted at /srv/coffre/<drive id>. */
export const productionRolloutHost: RolloutHostMapper = (host, region) => {
  const pinned = region.spec.hosts?.find((candidate) => candidate.name === host.name)?.sshHostKeySha256 ?? '';
  const port = region.spec.s3Port ?? 443;
  return {
    name: host.name,
    ssh: { address: host.publicAddress, port: 22, username: 'root', hostKeySha256: pinned },
    endpoint: `https://${host.privateAddress}:${port}`,
    agent: {
      listenAddress: '0.0.0.0',
      port,
      dataDirectory: '/var/lib/coffre',
      drives: host.drives.filter((drive) => drive.role === 'data').map((drive) => `/srv/coffre/${drive.id}`),
      parityShards: 2,
      region: region.metadata.name,
      baseDomain: region.spec.dns ? `${region.spec.dns.subdomain}.${region.spec.dns.zone}` : null,
    },
  };
};

interface PreparedRollout {
  target: RolloutTarget;
  rollout?: RegionRollout;
}

async function prepareRollout(
  context: RegionControllerContext,
  region: RegionResource,
  outputs: RegionOutputs,
): Promise<PreparedRollout> {
  const spec: RegionSpec = region.spec;
  const blocked = (reason: string, message: string): PreparedRollout => ({
    target: { ready: false, reason, message },
  });
  const sshRef = spec.sshKeySecretRef;
  const sshKey = await context.secrets.read(sshRef.namespace, sshRef.name, sshRef.key ?? 'ssh-privatekey');
  if (sshKey === null)
    return blocked('SecretMissing', `no SSH private key in Secret ${sshRef.namespace}/${sshRef.name}`);
  const adminRef = spec.adminKeySecretRef;
  const accessKeyId = await context.secrets.read(adminRef.namespace, adminRef.name, 'accessKeyId');
  const secretAccessKey = await context.secrets.read(
    adminRef.namespace,
    adminRef.name,
    adminRef.key ?? 'secretAccessKey',
  );
  if (accessKeyId === null || secretAccessKey === null) {
    return blocked('SecretMissing', `no admin credentials in Secret ${adminRef.namespace}/${adminRef.name}`);
  }
  const bundle = await context.bundles(spec.agentVersion);
  if (bundle === null)
    return blocked('AgentVersionUnavailable', `no agent bundle ${spec.agentVersion} in this operator`);
  const mapper = context.rolloutHost ?? productionRolloutHost;
  const hosts = outputs.hosts.map((host) => mapper(host, region, outputs));
  const unpinned = hosts.filter((host) => host.ssh.hostKeySha256 === '').map((host) => host.name);
  if (unpinned.length > 0) {
    return blocked('HostKeyNotPinned', `no sshHostKeySha256 in spec.hosts for ${unpinned.join(', ')}`);
  }
  const rollout: RegionRollout = {
    region: region.metadata.name,
    hosts,
    replicaSets: outputs.replicaSets.map((set) => ({ id: set.id, hosts: set.hosts })),
    bundle,
    adminCredentials: { accessKeyId: accessKeyId.value, secretAccessKey: secretAccessKey.value },
    sshCredentials: { privateKey: sshKey.value },
  };
  // The rollout's identity: what it deploys and to where, with the Secrets' versions, never their values.
  const rolloutKey = canonicalJson({
    version: bundle.manifest.version,
    hosts,
    replicaSets: rollout.replicaSets,
    secrets: [sshKey.resourceVersion, accessKeyId.resourceVersion, secretAccessKey.resourceVersion],
    parallel: spec.rollout?.maxParallelHosts ?? 1,
    quorum: spec.rollout?.quorum ?? 2,
  });
  return { target: { ready: true, rolloutKey }, rollout };
}

async function observeRegion(
  context: RegionControllerContext,
  region: RegionResource,
): Promise<{ observed: RegionObserved; prepared: PreparedRollout | null }> {
  const name = region.metadata.name;
  const stack = context.memory.stacks.get(name) ?? null;
  const prepared =
    stack?.outcome.kind === 'deployed' ? await prepareRollout(context, region, stack.outcome.outputs) : null;
  return {
    observed: {
      nowMs: context.clock.nowMs(),
      stack,
      rolloutTarget: prepared?.target ?? null,
      rollout: context.memory.rollouts.get(name) ?? null,
    },
    prepared,
  };
}

/** The Events a rollout's progress is told as, host by host. */
function progressEvent(event: RolloutProgress): PlannedEvent | null {
  switch (event.kind) {
    case 'host-upgraded':
      return {
        type: 'Normal',
        reason: 'HostUpgraded',
        message: `${event.host}: ${event.fromVersion ?? 'nothing'} -> ${event.version}`,
      };
    case 'host-failed':
      return {
        type: 'Warning',
        reason: 'HostFailed',
        message: `${event.host} (${event.code}): ${event.message}`,
      };
    case 'host-rolled-back':
      return {
        type: 'Warning',
        reason: 'HostRolledBack',
        message: `${event.host} back to ${event.version ?? 'nothing'}, ${event.healthy ? 'healthy' : 'still unhealthy'}`,
      };
    case 'host-unreachable':
      return { type: 'Warning', reason: 'HostUnreachable', message: `${event.host}: ${event.message}` };
    default:
      return null;
  }
}

function observeProgress(hosts: Record<string, HostObservation>, event: RolloutProgress): void {
  if (event.kind === 'host-observed') hosts[event.host] = { version: event.version, healthy: event.healthy };
  else if (event.kind === 'host-upgraded') hosts[event.host] = { version: event.version, healthy: true };
  else if (event.kind === 'host-rolled-back')
    hosts[event.host] = { version: event.version, healthy: event.healthy };
  else if (event.kind === 'host-failed' || event.kind === 'host-unreachable') {
    hosts[event.host] = { version: hosts[event.host]?.version ?? null, healthy: false };
  }
}

async function runRegionAction(
  context: RegionControllerContext,
  region: RegionResource,
  action: RegionAction,
  prepared: PreparedRollout | null,
): Promise<void> {
  const name = region.metadata.name;
  if (action.type === 'deployStack') {
    try {
      const outputs = await deployRegion(context.deployer, action.config);
      context.memory.stacks.set(name, {
        configKey: action.configKey,
        atMs: context.clock.nowMs(),
        outcome: { kind: 'deployed', outputs },
      });
    } catch (error) {
      // RegionDeployError and RegionConfigError carry a code; anything else is reported as it is.
      const code =
        typeof (error as { code?: unknown }).code === 'string'
          ? (error as { code: string }).code
          : 'DeployFailed';
      const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
      context.memory.stacks.set(name, {
        configKey: action.configKey,
        atMs: context.clock.nowMs(),
        outcome: { kind: 'failed', code: /^[A-Za-z]\w*$/.test(code) ? code : 'DeployFailed', message },
      });
    }
    return;
  }
  if (
    prepared?.rollout === undefined ||
    !prepared.target.ready ||
    prepared.target.rolloutKey !== action.rolloutKey
  ) {
    throw new Error(`region ${name}: the rollout planned is not the one prepared`);
  }
  const hosts: Record<string, HostObservation> = {};
  const result = await rolloutRegion(prepared.rollout, {
    ...context.rolloutOptions,
    quorum: region.spec.rollout?.quorum,
    maxParallelHosts: region.spec.rollout?.maxParallelHosts,
    onProgress: (event) => {
      observeProgress(hosts, event);
      const told = progressEvent(event);
      if (told !== null) void recordEvents(context, region, [told]);
    },
  });
  context.memory.rollouts.set(name, {
    rolloutKey: action.rolloutKey,
    atMs: context.clock.nowMs(),
    result,
    hosts,
  });
}

async function recordEvents(
  context: RegionControllerContext,
  region: RegionResource,
  events: PlannedEvent[],
) {
  for (const event of events) {
    await context.events
      .record({
        regarding: { kind: regionKind, name: region.metadata.name, uid: region.metadata.uid },
        ...event,
      })
      // An Event is informative: failing to write one must not fail the reconcile.
      .catch(() => {});
  }
}

/** Plans and actions in one reconcile: deploy, then roll out, then report. */
const maximumPasses = 4;

/** Reconciles the Region `name`: the work queue's `reconcile` for the region controller. */
export async function reconcileRegionKey(
  context: RegionControllerContext,
  name: string,
): Promise<ReconcileResult> {
  let region = context.regions.cache.get(name);
  if (region === undefined) {
    // Deleted: nothing is destroyed (see region-reconcile.ts), only forgotten.
    context.memory.stacks.delete(name);
    context.memory.rollouts.delete(name);
    return {};
  }
  for (let pass = 1; pass <= maximumPasses; pass += 1) {
    const { observed, prepared } = await observeRegion(context, region);
    const plan = reconcileRegion(region, observed);
    if (canonicalJson(region.status ?? {}) !== canonicalJson(plan.status)) {
      await context.regions.client.patchStatus(name, plan.status);
      region = { ...region, status: plan.status };
    }
    await recordEvents(context, region, plan.events);
    if (plan.terminal !== undefined) throw new TerminalError(plan.terminal.reason, plan.terminal.message);
    if (plan.actions.length === 0) return { requeueAfterMs: plan.requeueAfterMs };
    for (const action of plan.actions) await runRegionAction(context, region, action, prepared);
  }
  return { requeueAfterMs: 5_000 };
}
