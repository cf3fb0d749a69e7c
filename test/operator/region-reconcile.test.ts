import test from 'ava';
import { canonicalJson } from '../../operator/controllers/execute.ts';
import {
  deployRetryMs,
  driftCheckIntervalMs,
  haltedRolloutRetryMs,
  type RegionObserved,
  type RolloutRecord,
  reconcileRegion,
  regionConfigFromSpec,
  type StackRecord,
} from '../../operator/controllers/region-reconcile.ts';
import type { RolloutResult } from '../../operator/rollout/rollout.ts';
import { nowMs } from './fixtures.ts';
import { region, regionSpec, stackOutputs } from './region-fixtures.ts';

const configKey = canonicalJson(regionConfigFromSpec('fr-test', regionSpec));
const outputs = stackOutputs([
  { name: 'fr-test-1', datacenter: 'gra', address: '198.51.100.1' },
  { name: 'fr-test-2', datacenter: 'rbx', address: '198.51.100.2' },
  { name: 'fr-test-3', datacenter: 'sbg', address: '198.51.100.3' },
]);
const deployed: StackRecord = { configKey, atMs: nowMs - 1_000, outcome: { kind: 'deployed', outputs } };
const ready = { ready: true as const, rolloutKey: 'rollout-1' };

function rolloutRecord(result: Partial<RolloutResult>, ageMs = 1_000): RolloutRecord {
  return {
    rolloutKey: 'rollout-1',
    atMs: nowMs - ageMs,
    result: {
      outcome: 'completed',
      version: regionSpec.agentVersion,
      upgraded: ['fr-test-1', 'fr-test-2', 'fr-test-3'],
      unchanged: [],
      rolledBack: [],
      failure: null,
      ...result,
    },
    hosts: {
      'fr-test-1': { version: regionSpec.agentVersion, healthy: true },
      'fr-test-2': {
        version: result.outcome === 'halted' ? '0.0.9+aaaaaaaaaaaa' : regionSpec.agentVersion,
        healthy: result.outcome !== 'halted',
      },
      'fr-test-3': { version: regionSpec.agentVersion, healthy: true },
    },
  };
}

function observed(overrides: Partial<RegionObserved> = {}): RegionObserved {
  return { nowMs, stack: null, rolloutTarget: null, rollout: null, ...overrides };
}

const conditionOf = (plan: ReturnType<typeof reconcileRegion>, type: string) =>
  plan.status.conditions?.find((condition) => condition.type === type);

test('a new region: pulumi up of its stack, Provisioned Unknown (Provisioning), not Ready', (t) => {
  const plan = reconcileRegion(region(), observed());
  t.is(plan.actions.length, 1);
  const action = plan.actions[0];
  t.is(action?.type, 'deployStack');
  if (action?.type === 'deployStack') {
    t.deepEqual(
      action.config.hosts,
      [
        { name: 'fr-test-1', datacenter: 'gra' },
        { name: 'fr-test-2', datacenter: 'rbx' },
        { name: 'fr-test-3', datacenter: 'sbg' },
      ],
      'hosts are named <region>-<n> and spread over the datacenters in turn',
    );
    t.is(action.config.s3Port, 443);
  }
  t.like(conditionOf(plan, 'Provisioned'), {
    status: 'Unknown',
    reason: 'Provisioning',
    observedGeneration: 1,
  });
  t.like(conditionOf(plan, 'RolledOut'), { status: 'Unknown', reason: 'WaitingForProvisioning' });
  t.like(conditionOf(plan, 'Ready'), { status: 'False', reason: 'Provisioning' });
  t.deepEqual(
    plan.events.map((event) => `${event.type}/${event.reason}`),
    ['Normal/Provisioning', 'Normal/WaitingForProvisioning'],
  );
});

test('a region outside France is refused before Pulumi runs: terminal InvalidRegionConfig', (t) => {
  const plan = reconcileRegion(region({ spec: { datacenters: ['gra', 'fra'] } }), observed());
  t.deepEqual(plan.actions, []);
  t.is(plan.terminal?.reason, 'InvalidRegionConfig');
  t.like(conditionOf(plan, 'Provisioned'), { status: 'False', reason: 'InvalidRegionConfig' });
  t.regex(conditionOf(plan, 'Provisioned')?.message ?? '', /fra/);
  t.true(plan.events.some((event) => event.type === 'Warning' && event.reason === 'InvalidRegionConfig'));
});

test('a failed pulumi up: Provisioned False with its code, retried only after deployRetryMs', (t) => {
  const failed: StackRecord = {
    configKey,
    atMs: nowMs - 60_000,
    outcome: { kind: 'failed', code: 'UpFailed', message: 'update of region fr-test failed: quota' },
  };
  const waiting = reconcileRegion(region(), observed({ stack: failed }));
  t.deepEqual(waiting.actions, []);
  t.like(conditionOf(waiting, 'Provisioned'), { status: 'False', reason: 'UpFailed' });
  t.is(waiting.requeueAfterMs, deployRetryMs - 60_000);
  const retried = reconcileRegion(region(), observed({ stack: { ...failed, atMs: nowMs - deployRetryMs } }));
  t.is(retried.actions[0]?.type, 'deployStack');
});

test('a changed spec (one more host) runs pulumi up again; a new agent version alone does not', (t) => {
  const moreHosts = reconcileRegion(region({ spec: { hostCount: 4 } }), observed({ stack: deployed }));
  t.is(moreHosts.actions[0]?.type, 'deployStack');
  const newVersion = reconcileRegion(
    region({ spec: { agentVersion: '0.2.0+0123456789ab' } }),
    observed({ stack: deployed, rolloutTarget: ready }),
  );
  t.deepEqual(newVersion.actions, [{ type: 'rollout', rolloutKey: 'rollout-1' }]);
  t.like(conditionOf(newVersion, 'Provisioned'), { status: 'True', reason: 'Provisioned' });
  t.like(conditionOf(newVersion, 'RolledOut'), { status: 'Unknown', reason: 'RollingOut' });
});

test('provisioned but the rollout cannot be prepared (a Secret missing): RolledOut False with that reason, waits', (t) => {
  const plan = reconcileRegion(
    region(),
    observed({
      stack: deployed,
      rolloutTarget: { ready: false, reason: 'SecretMissing', message: 'no SSH private key in Secret x/y' },
    }),
  );
  t.deepEqual(plan.actions, []);
  t.like(conditionOf(plan, 'RolledOut'), { status: 'False', reason: 'SecretMissing' });
  t.like(conditionOf(plan, 'Ready'), { status: 'False', reason: 'SecretMissing' });
  t.true(typeof plan.requeueAfterMs === 'number');
});

test('a completed rollout: RolledOut True, Ready True, every host reported with its version', (t) => {
  const plan = reconcileRegion(
    region(),
    observed({ stack: deployed, rolloutTarget: ready, rollout: rolloutRecord({}) }),
  );
  t.deepEqual(plan.actions, []);
  t.like(conditionOf(plan, 'RolledOut'), { status: 'True', reason: 'Completed' });
  t.like(conditionOf(plan, 'Ready'), { status: 'True', reason: 'RegionReady' });
  t.is(plan.status.agentVersion, regionSpec.agentVersion);
  t.is(plan.status.readyHosts, 3);
  t.deepEqual(plan.status.hosts?.[1], {
    name: 'fr-test-2',
    datacenter: 'rbx',
    agentVersion: regionSpec.agentVersion,
    healthy: true,
  });
  t.true(plan.events.some((event) => event.reason === 'RegionReady'));
  t.true((plan.requeueAfterMs ?? 0) > 0);
});

test('a Ready region reconciled again: same conditions, no Event, no action until the drift check', (t) => {
  const first = reconcileRegion(
    region(),
    observed({ stack: deployed, rolloutTarget: ready, rollout: rolloutRecord({}) }),
  );
  const again = reconcileRegion(
    region({ status: first.status }),
    observed({ nowMs: nowMs + 30_000, stack: deployed, rolloutTarget: ready, rollout: rolloutRecord({}) }),
  );
  t.deepEqual(again.actions, []);
  t.deepEqual(again.events, []);
  t.deepEqual(again.status, first.status);
  const drift = reconcileRegion(
    region({ status: first.status }),
    observed({ stack: deployed, rolloutTarget: ready, rollout: rolloutRecord({}, driftCheckIntervalMs) }),
  );
  t.deepEqual(drift.actions, [{ type: 'rollout', rolloutKey: 'rollout-1' }]);
  t.like(conditionOf(drift, 'RolledOut'), { status: 'True' }, 'a drift check does not flip the condition');
});

test('a halted rollout: RolledOut False with the failing host and code, Ready False, retried after haltedRolloutRetryMs', (t) => {
  const halted = rolloutRecord({
    outcome: 'halted',
    upgraded: ['fr-test-1'],
    rolledBack: ['fr-test-2'],
    failure: { host: 'fr-test-2', code: 'HealthCheckFailed', message: 'the agent is not running' },
  });
  const plan = reconcileRegion(
    region(),
    observed({ stack: deployed, rolloutTarget: ready, rollout: halted }),
  );
  t.deepEqual(plan.actions, []);
  t.like(conditionOf(plan, 'RolledOut'), { status: 'False', reason: 'HealthCheckFailed' });
  t.regex(conditionOf(plan, 'RolledOut')?.message ?? '', /fr-test-2/);
  t.like(conditionOf(plan, 'Ready'), { status: 'False', reason: 'HealthCheckFailed' });
  t.is(plan.status.readyHosts, 2);
  t.is(plan.status.agentVersion, undefined, 'hosts disagree on the version');
  t.true(plan.events.some((event) => event.type === 'Warning' && event.reason === 'HealthCheckFailed'));
  const later = reconcileRegion(
    region(),
    observed({
      stack: deployed,
      rolloutTarget: ready,
      rollout: { ...halted, atMs: nowMs - haltedRolloutRetryMs },
    }),
  );
  t.is(later.actions[0]?.type, 'rollout');
});

test('a region being deleted: nothing is destroyed or rolled out', (t) => {
  const deleting = region();
  deleting.metadata.deletionTimestamp = new Date(nowMs);
  const plan = reconcileRegion(deleting, observed({ stack: deployed, rolloutTarget: ready }));
  t.deepEqual(plan.actions, []);
  t.is(plan.finalizer, 'keep');
});

test('an operator that restarted (nothing remembered) re-runs pulumi up and the rollout without flipping a Ready region', (t) => {
  const first = reconcileRegion(
    region(),
    observed({ stack: deployed, rolloutTarget: ready, rollout: rolloutRecord({}) }),
  );
  const restarted = reconcileRegion(region({ status: first.status }), observed({ nowMs: nowMs + 5_000 }));
  t.is(restarted.actions[0]?.type, 'deployStack');
  t.deepEqual(restarted.events, []);
  t.deepEqual(restarted.status, first.status);
  const redeployed = reconcileRegion(
    region({ status: first.status }),
    observed({ nowMs: nowMs + 6_000, stack: deployed, rolloutTarget: ready }),
  );
  t.deepEqual(redeployed.actions, [{ type: 'rollout', rolloutKey: 'rollout-1' }]);
  t.deepEqual(redeployed.events, []);
  t.deepEqual(redeployed.status, first.status, 'the hosts keep what was last reported of them');
  // A new agent version is a real change: the rollout is reported as in progress.
  const upgrade = reconcileRegion(
    region({ status: first.status, spec: { agentVersion: '0.2.0+0123456789ab' } }),
    observed({ nowMs: nowMs + 6_000, stack: deployed, rolloutTarget: ready }),
  );
  t.like(
    upgrade.status.conditions?.find((condition) => condition.type === 'RolledOut'),
    { status: 'Unknown', reason: 'RollingOut' },
  );
});
