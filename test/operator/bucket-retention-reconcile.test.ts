// The Bucket and RetentionPolicy reconcilers as pure functions, table-style.
import test from 'ava';
import type { AgentBucket } from '../../operator/controllers/agent-admin.ts';
import { type BucketObserved, reconcileBucket } from '../../operator/controllers/bucket-reconcile.ts';
import {
  applyingPolicy,
  type RetentionObserved,
  reconcileRetentionPolicy,
} from '../../operator/controllers/retention-reconcile.ts';
import { bucket, nowMs, policy, tenant } from './fixtures.ts';

const agentBucket: AgentBucket = {
  name: 'acme-veeam',
  tenantId: 'acme',
  versioning: 'Enabled',
  objectLockEnabled: true,
  defaultRetention: null,
  quotaBytes: null,
  usage: { storedBytes: 42 },
};

function bucketObserved(overrides: Partial<BucketObserved> = {}): BucketObserved {
  return { nowMs, tenant: tenant(), agentHasTenant: true, agentBucket, otherBuckets: [], ...overrides };
}

const bucketCases: {
  title: string;
  resource: ReturnType<typeof bucket>;
  observed: BucketObserved;
  actions: string[];
  ready: string;
  terminal: boolean;
}[] = [
  {
    title: 'a new bucket with Object Lock is created for its tenant',
    resource: bucket(),
    observed: bucketObserved({ agentBucket: null }),
    actions: ['putBucket acme-veeam tenant=acme versioning=Enabled lock=true quota=null'],
    ready: 'True/Provisioned',
    terminal: false,
  },
  {
    title: 'a converged bucket: nothing to call',
    resource: bucket(),
    observed: bucketObserved(),
    actions: [],
    ready: 'True/Provisioned',
    terminal: false,
  },
  {
    title: 'a quota added in the spec is put',
    resource: bucket({ spec: { quotaBytes: 1_000_000 } }),
    observed: bucketObserved(),
    actions: ['putBucket acme-veeam tenant=acme versioning=Enabled lock=true quota=1000000'],
    ready: 'True/Provisioned',
    terminal: false,
  },
  {
    title: 'no Tenant resource: the bucket waits (TenantNotFound)',
    resource: bucket(),
    observed: bucketObserved({ tenant: undefined, agentHasTenant: false, agentBucket: null }),
    actions: [],
    ready: 'False/TenantNotFound',
    terminal: false,
  },
  {
    title: 'the tenant is not on the agent yet: the bucket waits (TenantNotProvisioned)',
    resource: bucket(),
    observed: bucketObserved({ agentHasTenant: false, agentBucket: null }),
    actions: [],
    ready: 'False/TenantNotProvisioned',
    terminal: false,
  },
  {
    title:
      'a second, younger Bucket resource for the same bucket of the same tenant: Conflict, nothing is put',
    resource: bucket({
      metadata: { name: 'acme-veeam-copy', creationTimestamp: new Date('2026-11-20T00:00:00Z') },
      spec: { name: 'acme-veeam' },
    }),
    observed: bucketObserved({
      agentBucket: null,
      otherBuckets: [bucket({ metadata: { creationTimestamp: new Date('2026-11-01T00:00:00Z') } })],
    }),
    actions: [],
    ready: 'False/Conflict',
    terminal: false,
  },
  {
    title: 'spec.name gives the S3 name: a resource acme-backups manages the bucket backups of acme',
    resource: bucket({ metadata: { name: 'acme-backups' }, spec: { name: 'backups' } }),
    observed: bucketObserved({ agentBucket: null }),
    actions: ['putBucket backups tenant=acme versioning=Enabled lock=true quota=null'],
    ready: 'True/Provisioned',
    terminal: false,
  },
  {
    title: 'Object Lock asked on an existing bucket without it: terminal (S3 sets it at creation)',
    resource: bucket(),
    observed: bucketObserved({ agentBucket: { ...agentBucket, objectLockEnabled: false } }),
    actions: [],
    ready: 'False/ObjectLockOnlyAtCreation',
    terminal: true,
  },
];

for (const testCase of bucketCases) {
  test(`bucket reconcile: ${testCase.title}`, (t) => {
    const plan = reconcileBucket(testCase.resource, testCase.observed);
    t.deepEqual(
      plan.actions.map(
        ({ bucket: name, tenantId, settings }) =>
          `putBucket ${name} tenant=${tenantId} versioning=${settings.versioning} lock=${settings.objectLockEnabled} quota=${settings.quotaBytes}`,
      ),
      testCase.actions,
    );
    const ready = plan.status.conditions?.find((condition) => condition.type === 'Ready');
    t.is(`${ready?.status}/${ready?.reason}`, testCase.ready);
    t.is(plan.terminal !== undefined, testCase.terminal);
    t.is(plan.finalizer, 'keep', 'a Bucket has no finalizer: deleting it deletes nothing on the agents');
  });
}

test('bucket reconcile: the status mirrors the agent (versioning, lock, default retention, stored bytes)', (t) => {
  const plan = reconcileBucket(
    bucket(),
    bucketObserved({ agentBucket: { ...agentBucket, defaultRetention: { mode: 'COMPLIANCE', days: 30 } } }),
  );
  t.like(plan.status, {
    versioning: 'Enabled',
    objectLockEnabled: true,
    storedBytes: 42,
    defaultRetention: { mode: 'COMPLIANCE', days: 30 },
  });
});

function retentionObserved(overrides: Partial<RetentionObserved> = {}): RetentionObserved {
  return { nowMs, bucket: bucket(), agentBucket, otherPolicies: [], ...overrides };
}

const retentionCases: {
  title: string;
  resource: ReturnType<typeof policy>;
  observed: RetentionObserved;
  actions: string[];
  ready: string;
  finalizer: 'add' | 'keep' | 'remove';
}[] = [
  {
    title: 'a new policy sets the default retention of its locked bucket; the finalizer is added',
    resource: policy({ metadata: { finalizers: [] } }),
    observed: retentionObserved(),
    actions: ['acme-veeam COMPLIANCE 30d'],
    ready: 'True/Applied',
    finalizer: 'add',
  },
  {
    title: 'the agent already has it: nothing to call',
    resource: policy(),
    observed: retentionObserved({
      agentBucket: { ...agentBucket, defaultRetention: { mode: 'COMPLIANCE', days: 30 } },
    }),
    actions: [],
    ready: 'True/Applied',
    finalizer: 'keep',
  },
  {
    title: 'a change from days to years is put',
    resource: policy({ spec: { mode: 'GOVERNANCE', days: undefined, years: 1 } }),
    observed: retentionObserved({
      agentBucket: { ...agentBucket, defaultRetention: { mode: 'COMPLIANCE', days: 30 } },
    }),
    actions: ['acme-veeam GOVERNANCE 1y'],
    ready: 'True/Applied',
    finalizer: 'keep',
  },
  {
    title: 'a bucket without Object Lock: nothing is put (that would turn Object Lock on)',
    resource: policy(),
    observed: retentionObserved({ agentBucket: { ...agentBucket, objectLockEnabled: false } }),
    actions: [],
    ready: 'False/ObjectLockNotEnabled',
    finalizer: 'keep',
  },
  {
    title: 'a bucket not on the agent yet: the policy waits',
    resource: policy(),
    observed: retentionObserved({ agentBucket: null }),
    actions: [],
    ready: 'False/BucketNotProvisioned',
    finalizer: 'keep',
  },
  {
    title: 'an older policy of the same bucket applies; this one reports Conflict and calls nothing',
    resource: policy({
      metadata: { name: 'acme-veeam-7d', creationTimestamp: new Date('2026-11-20T00:00:00Z') },
    }),
    observed: retentionObserved({ otherPolicies: [policy()] }),
    actions: [],
    ready: 'False/Conflict',
    finalizer: 'keep',
  },
  {
    title: 'deletion removes the default retention first, keeping the finalizer until done',
    resource: policy({ metadata: { deletionTimestamp: new Date(nowMs) } }),
    observed: retentionObserved({
      agentBucket: { ...agentBucket, defaultRetention: { mode: 'COMPLIANCE', days: 30 } },
    }),
    actions: ['acme-veeam none'],
    ready: 'False/Removed',
    finalizer: 'keep',
  },
  {
    title: 'deletion once the default retention is gone removes the finalizer',
    resource: policy({ metadata: { deletionTimestamp: new Date(nowMs) } }),
    observed: retentionObserved(),
    actions: [],
    ready: 'False/Removed',
    finalizer: 'remove',
  },
  {
    title: 'deletion while another policy names the bucket leaves the retention to it',
    resource: policy({ metadata: { deletionTimestamp: new Date(nowMs) } }),
    observed: retentionObserved({
      agentBucket: { ...agentBucket, defaultRetention: { mode: 'COMPLIANCE', days: 30 } },
      otherPolicies: [
        policy({ metadata: { name: 'acme-veeam-1y', creationTimestamp: new Date('2026-11-25T00:00:00Z') } }),
      ],
    }),
    actions: [],
    ready: 'False/Removed',
    finalizer: 'remove',
  },
];

for (const testCase of retentionCases) {
  test(`retention reconcile: ${testCase.title}`, (t) => {
    const plan = reconcileRetentionPolicy(testCase.resource, testCase.observed);
    t.deepEqual(
      plan.actions.map(({ bucket: name, defaultRetention: retention }) =>
        retention === null
          ? `${name} none`
          : `${name} ${retention.mode} ${retention.days ? `${retention.days}d` : `${retention.years}y`}`,
      ),
      testCase.actions,
    );
    const ready = plan.status.conditions?.find((condition) => condition.type === 'Ready');
    t.is(`${ready?.status}/${ready?.reason}`, testCase.ready);
    t.is(plan.finalizer, testCase.finalizer);
  });
}

test('retention: the applying policy is the oldest live one, then the first by name', (t) => {
  const older = policy({ metadata: { name: 'b', creationTimestamp: new Date('2026-01-01T00:00:00Z') } });
  const sameAge = policy({ metadata: { name: 'a', creationTimestamp: new Date('2026-01-01T00:00:00Z') } });
  const newer = policy({ metadata: { name: 'c', creationTimestamp: new Date('2026-06-01T00:00:00Z') } });
  const deleting = policy({
    metadata: {
      name: 'z',
      creationTimestamp: new Date('2025-01-01T00:00:00Z'),
      deletionTimestamp: new Date(nowMs),
    },
  });
  t.is(applyingPolicy([newer, older, sameAge, deleting])?.metadata.name, 'a');
  t.is(applyingPolicy([deleting]), undefined);
});
