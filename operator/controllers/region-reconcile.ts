// The Region reconciler, pure: a Region is Provisioned when its Pulumi stack (the same program as
// `pulumi up`, stacks/) is up to date with the spec, RolledOut when every host the stack reports
// runs spec.agentVersion (operator/rollout), and Ready when both hold. What the deployer and the
// rollout last did is observed state, kept by the executor (region-controller.ts); this function
// only decides the next action and the conditions. Deleting a Region orders nothing and destroys
// nothing: servers holding locked backups are released by hand (`pulumi destroy`), never by a
// `kubectl delete`.

import type { RegionOutputs } from '../../stacks/region.ts';
import type { RegionConfig } from '../../stacks/region-config.ts';
import { validateRegionConfig } from '../../stacks/region-validation.ts';
import type { RolloutResult } from '../rollout/rollout.ts';
import { type Condition, type ConditionStatus, findCondition, setCondition } from '../runtime/conditions.ts';
import { isBeingDeleted } from '../runtime/finalizers.ts';
import { canonicalJson } from './execute.ts';
import { readyCondition } from './kinds.ts';
import type { Plan, PlannedEvent } from './plan.ts';
import { resyncIntervalMs, waitingRetryMs } from './plan.ts';
import type { RegionResource, RegionSpec, RegionStatus } from './region-kinds.ts';

export const provisionedCondition = 'Provisioned';
export const rolledOutCondition = 'RolledOut';
/** A failed `pulumi up` is tried again after this long (OVHcloud orders and installs are slow). */
export const deployRetryMs = 5 * 60_000;
/** A halted rollout (a host failed its health check and was rolled back) is tried again after this long. */
export const haltedRolloutRetryMs = 5 * 60_000;
/** A completed rollout is run again this often: it observes every host and repairs drift. */
export const driftCheckIntervalMs = 10 * 60_000;

/** What the last `pulumi up` of this region did, for the configuration it was given. */
export interface StackRecord {
  /** canonicalJson of the RegionConfig deployed (or tried). */
  configKey: string;
  atMs: number;
  outcome: { kind: 'deployed'; outputs: RegionOutputs } | { kind: 'failed'; code: string; message: string };
}

export interface HostObservation {
  version: string | null;
  healthy: boolean;
}

/** What the last rollout of this region did, for the hosts, version and secrets it was given. */
export interface RolloutRecord {
  rolloutKey: string;
  atMs: number;
  result: RolloutResult;
  /** The last thing the rollout saw of each host. */
  hosts: Record<string, HostObservation>;
}

/** Whether a rollout can be prepared from the stack's outputs, and the identity of the one that would run. */
export type RolloutTarget =
  | { ready: true; rolloutKey: string }
  | { ready: false; reason: string; message: string };

export interface RegionObserved {
  nowMs: number;
  stack: StackRecord | null;
  /** Absent until the stack is deployed. */
  rolloutTarget: RolloutTarget | null;
  rollout: RolloutRecord | null;
}

export type RegionAction =
  | { type: 'deployStack'; config: RegionConfig; configKey: string }
  | { type: 'rollout'; rolloutKey: string };

export type RegionPlan = Plan<RegionAction, RegionStatus>;

/** The stack configuration a Region's spec asks for; hosts are named `<region>-<n>` when not listed. */
export function regionConfigFromSpec(name: string, spec: RegionSpec): RegionConfig {
  const hosts =
    spec.hosts?.map((host) => ({ name: host.name, datacenter: host.datacenter })) ??
    Array.from({ length: spec.hostCount }, (_, index) => ({
      name: `${name}-${index + 1}`,
      datacenter: spec.datacenters[index % spec.datacenters.length] as string,
    }));
  return {
    name,
    ovhSubsidiary: spec.ovhSubsidiary ?? 'FR',
    osTemplate: spec.osTemplate ?? 'debian12_64',
    systemDiskGroupId: spec.systemDiskGroupId ?? 0,
    server: {
      planCode: spec.server.planCode,
      duration: spec.server.duration ?? 'P1M',
      pricingMode: spec.server.pricingMode ?? 'default',
      options: spec.server.options ?? [],
    },
    hosts,
    availableDatacenters: spec.datacenters,
    privateNetworkCidr: spec.privateNetworkCidr,
    ...(spec.vrackServiceName ? { vrackServiceName: spec.vrackServiceName } : {}),
    s3Port: spec.s3Port ?? 443,
    adminPort: spec.adminPort ?? 9443,
    sshPublicKeys: spec.sshPublicKeys,
    adminSourceCidrs: spec.adminSourceCidrs,
    ...(spec.dns ? { dns: spec.dns } : {}),
  };
}

interface Verdict {
  status: ConditionStatus;
  reason: string;
  message: string;
}

interface Decision {
  actions: RegionAction[];
  provisioned: Verdict;
  rolledOut: Verdict;
  requeueAfterMs?: number;
  terminal?: { reason: string; message: string };
}

export function reconcileRegion(region: RegionResource, observed: RegionObserved): RegionPlan {
  if (isBeingDeleted(region))
    return { actions: [], status: region.status ?? {}, events: [], finalizer: 'keep' };
  const config = regionConfigFromSpec(region.metadata.name, region.spec);
  const problems = validateRegionConfig(config);
  if (problems.length > 0) {
    const message = problems.map((problem) => problem.message).join('; ');
    return finish(region, observed, {
      actions: [],
      provisioned: { status: 'False', reason: 'InvalidRegionConfig', message },
      rolledOut: {
        status: 'Unknown',
        reason: 'WaitingForProvisioning',
        message: 'the region is not provisioned',
      },
      terminal: { reason: 'InvalidRegionConfig', message },
    });
  }
  return finish(region, observed, decide(region, observed, config, canonicalJson(config)));
}

function decide(
  region: RegionResource,
  observed: RegionObserved,
  config: RegionConfig,
  configKey: string,
): Decision {
  const stack = observed.stack?.configKey === configKey ? observed.stack : null;
  const waitingForStack: Verdict = {
    status: 'Unknown',
    reason: 'WaitingForProvisioning',
    message: 'the agent is rolled out once the region is provisioned',
  };
  const deploy: Decision = {
    actions: [{ type: 'deployStack', config, configKey }],
    provisioned: {
      status: 'Unknown',
      reason: 'Provisioning',
      message: `pulumi up of stack ${config.name}: ${config.hosts.length} hosts in ${config.availableDatacenters.join(', ')}`,
    },
    rolledOut: waitingForStack,
  };
  // An operator that restarted remembers nothing: it runs pulumi up again, which finds nothing to
  // change, without telling the region is being provisioned when it was for this generation.
  if (stack === null)
    return { ...deploy, ...stillTrue(region, 'provisioned', deploy.provisioned, deploy.rolledOut) };
  if (stack.outcome.kind === 'failed') {
    const waitedMs = observed.nowMs - stack.atMs;
    if (waitedMs >= deployRetryMs) return deploy;
    return {
      actions: [],
      provisioned: { status: 'False', reason: stack.outcome.code, message: stack.outcome.message },
      rolledOut: waitingForStack,
      requeueAfterMs: deployRetryMs - waitedMs,
    };
  }
  const outputs = stack.outcome.outputs;
  const provisioned: Verdict = {
    status: 'True',
    reason: 'Provisioned',
    message: `${outputs.hosts.length} hosts, S3 at ${outputs.s3Endpoint}`,
  };
  const target = observed.rolloutTarget;
  if (target === null || !target.ready) {
    const blocked = target ?? { reason: 'RolloutNotPrepared', message: 'the rollout could not be prepared' };
    return {
      actions: [],
      provisioned,
      rolledOut: { status: 'False', reason: blocked.reason, message: blocked.message },
      requeueAfterMs: waitingRetryMs,
    };
  }
  const version = region.spec.agentVersion;
  const rollout = observed.rollout?.rolloutKey === target.rolloutKey ? observed.rollout : null;
  const rollOut: Decision = {
    actions: [{ type: 'rollout', rolloutKey: target.rolloutKey }],
    provisioned,
    rolledOut: {
      status: 'Unknown',
      reason: 'RollingOut',
      message: `agent ${version} to ${outputs.hosts.length} hosts, ${region.spec.rollout?.maxParallelHosts ?? 1} at a time`,
    },
  };
  if (rollout === null)
    return { ...rollOut, ...stillTrue(region, 'rolledOut', provisioned, rollOut.rolledOut) };
  const ageMs = observed.nowMs - rollout.atMs;
  if (rollout.result.outcome === 'completed') {
    const done: Verdict = { status: 'True', reason: 'Completed', message: `agent ${version} on every host` };
    // A drift check keeps the condition as it is: it is a look, not a change of version.
    if (ageMs >= driftCheckIntervalMs) return { ...rollOut, rolledOut: done };
    return {
      actions: [],
      provisioned,
      rolledOut: done,
      requeueAfterMs: Math.min(resyncIntervalMs, driftCheckIntervalMs - ageMs),
    };
  }
  if (ageMs >= haltedRolloutRetryMs) return rollOut;
  const failure = rollout.result.failure;
  return {
    actions: [],
    provisioned,
    rolledOut: {
      status: 'False',
      reason: failure?.code ?? 'Halted',
      message: `rollout of agent ${version} halted${failure?.host ? ` at host ${failure.host}` : ''}: ${failure?.message ?? 'no detail'}`,
    },
    requeueAfterMs: haltedRolloutRetryMs - ageMs,
  };
}

/**
 * The verdicts to report while an action only re-checks what was already True for this generation
 * (and, for the rollout, this agent version): the previous conditions, unchanged.
 */
function stillTrue(
  region: RegionResource,
  from: 'provisioned' | 'rolledOut',
  provisioned: Verdict,
  rolledOut: Verdict,
): { provisioned: Verdict; rolledOut: Verdict } {
  const current = (type: string): Verdict | null => {
    const condition = findCondition(region.status?.conditions, type);
    if (condition?.status !== 'True' || condition.observedGeneration !== region.metadata.generation)
      return null;
    return { status: condition.status, reason: condition.reason, message: condition.message };
  };
  const wasProvisioned = current(provisionedCondition);
  const wasRolledOut =
    region.status?.agentVersion === region.spec.agentVersion ? current(rolledOutCondition) : null;
  if (from === 'provisioned' && wasProvisioned !== null) {
    return { provisioned: wasProvisioned, rolledOut: wasRolledOut ?? rolledOut };
  }
  if (from === 'rolledOut' && wasRolledOut !== null) return { provisioned, rolledOut: wasRolledOut };
  return { provisioned, rolledOut };
}

function finish(region: RegionResource, observed: RegionObserved, decision: Decision): RegionPlan {
  const generation = region.metadata.generation;
  const events: PlannedEvent[] = [];
  let conditions = region.status?.conditions;
  const apply = (type: string, verdict: Verdict) => {
    const before = findCondition(conditions, type);
    conditions = setCondition(
      conditions,
      { type, ...verdict, observedGeneration: generation },
      observed.nowMs,
    );
    if (before?.status !== verdict.status || before.reason !== verdict.reason) {
      events.push({
        type: verdict.status === 'False' ? 'Warning' : 'Normal',
        reason: verdict.reason,
        message: verdict.message,
      });
    }
  };
  apply(provisionedCondition, decision.provisioned);
  apply(rolledOutCondition, decision.rolledOut);
  const notReady = [decision.provisioned, decision.rolledOut].find((verdict) => verdict.status !== 'True');
  const readiness: Verdict =
    notReady === undefined
      ? {
          status: 'True',
          reason: 'RegionReady',
          message: `every host runs agent ${region.spec.agentVersion}`,
        }
      : { status: 'False', reason: notReady.reason, message: notReady.message };
  // Ready's own Event would repeat the one of the condition that caused it; only its recovery is told.
  const readyBefore = findCondition(conditions, readyCondition);
  conditions = setCondition(
    conditions,
    { type: readyCondition, ...readiness, observedGeneration: generation },
    observed.nowMs,
  );
  if (readiness.status === 'True' && readyBefore?.status !== 'True') {
    events.push({ type: 'Normal', reason: readiness.reason, message: readiness.message });
  }
  return {
    actions: decision.actions,
    status: {
      ...hostsStatus(region, observed),
      observedGeneration: generation,
      conditions: conditions as Condition[],
    },
    events,
    finalizer: 'keep',
    ...(decision.requeueAfterMs === undefined ? {} : { requeueAfterMs: decision.requeueAfterMs }),
    ...(decision.terminal ? { terminal: decision.terminal } : {}),
  };
}

/** The hosts as the stack reports them, with what the last rollout saw of each. */
function hostsStatus(region: RegionResource, observed: RegionObserved): Omit<RegionStatus, 'conditions'> {
  const previous = { agentVersion: region.status?.agentVersion, readyHosts: region.status?.readyHosts };
  const stack = observed.stack;
  if (stack === null || stack.outcome.kind !== 'deployed')
    return dropUndefined({ ...previous, hosts: region.status?.hosts });
  const rollout = observed.rollout;
  const hosts = stack.outcome.outputs.hosts.map((host) => {
    // Until a rollout looked at a host (after an operator restart, say), what was last reported stands.
    const reported = region.status?.hosts?.find((candidate) => candidate.name === host.name);
    const seen = rollout?.hosts[host.name] ?? { version: reported?.agentVersion, healthy: reported?.healthy };
    return dropUndefined({
      name: host.name,
      datacenter: host.datacenter,
      agentVersion: seen.version ?? undefined,
      healthy: seen.healthy,
    });
  });
  const versions = new Set(hosts.map((host) => host.agentVersion));
  const agreed = versions.size === 1 ? [...versions][0] : undefined;
  return dropUndefined({
    agentVersion: agreed ?? previous.agentVersion,
    readyHosts: hosts.filter((host) => host.healthy === true).length,
    hosts,
  });
}

/** JSON merge patches and the status comparison both read an undefined field as absent. */
function dropUndefined<Value extends object>(value: Value): Value {
  return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as Value;
}
