// The controllers' executor against fakes: the order of finalizer, agent calls and status, the
// second observation that the status describes, terminal refusals and unreachable agents.
import test from 'ava';
import { reconcileBucketKey } from '../../operator/controllers/bucket-controller.ts';
import { reconcileRetentionPolicyKey } from '../../operator/controllers/retention-controller.ts';
import { reconcileTenantKey } from '../../operator/controllers/tenant-controller.ts';
import { TerminalError } from '../../operator/runtime/errors.ts';
import { fakeContext } from './fakes.ts';
import { bucket, nowMs, policy, tenant } from './fixtures.ts';

const secrets = { 'tenants/acme-keys/secretAccessKey': 'acme-secret-0123456789abcdef' };

test('tenant executor: finalizer first, then the agent calls, then one status write describing the agent after them', async (t) => {
  const { context, agent, tenants, events } = fakeContext(secrets);
  tenants.put(tenant({ metadata: { finalizers: [] } }));
  const result = await reconcileTenantKey(context, 'acme');
  t.deepEqual(tenants.writes, ['finalizers=coffre.infofy.fr/agents', 'status']);
  t.deepEqual(
    agent.calls.filter((call) => call.startsWith('PUT')),
    ['PUT tenant acme', 'PUT key ACMEBACKUPKEY00001'],
  );
  t.is(agent.keys.get('ACMEBACKUPKEY00001')?.secretAccessKey, secrets['tenants/acme-keys/secretAccessKey']);
  const stored = tenants.objects.get('acme')!;
  t.like(stored.status?.conditions?.[0], {
    type: 'Ready',
    status: 'True',
    reason: 'Provisioned',
    observedGeneration: 1,
  });
  t.deepEqual(stored.status?.buckets, []);
  t.is(stored.status?.usage?.billedTerabytes, 0);
  t.deepEqual(
    events.map((event) => `${event.type}/${event.reason}/${event.regarding.name}`),
    ['Normal/Provisioned/acme'],
  );
  t.deepEqual(result, { requeueAfterMs: 60_000 });
});

test('tenant executor: resyncIntervalMs replaces the minute of a Ready tenant, longer or shorter, and caps a wait for a Secret', async (t) => {
  for (const resyncIntervalMs of [600_000, 500]) {
    const { context, tenants } = fakeContext(secrets);
    tenants.put(tenant());
    t.deepEqual(await reconcileTenantKey({ ...context, resyncIntervalMs }, 'acme'), {
      requeueAfterMs: resyncIntervalMs,
    });
  }
  const waiting = fakeContext({});
  waiting.tenants.put(tenant());
  t.deepEqual(await reconcileTenantKey({ ...waiting.context, resyncIntervalMs: 600_000 }, 'acme'), {
    requeueAfterMs: 10_000,
  });
  const capped = fakeContext({});
  capped.tenants.put(tenant());
  t.deepEqual(await reconcileTenantKey({ ...capped.context, resyncIntervalMs: 500 }, 'acme'), {
    requeueAfterMs: 500,
  });
});

test('tenant executor: a second reconcile with nothing changed calls no PUT and writes nothing', async (t) => {
  const { context, agent, tenants, events } = fakeContext(secrets);
  tenants.put(tenant({ metadata: { finalizers: [] } }));
  await reconcileTenantKey(context, 'acme');
  agent.calls.length = 0;
  tenants.writes.length = 0;
  events.length = 0;
  await reconcileTenantKey(context, 'acme');
  t.deepEqual(
    agent.calls.filter((call) => call.startsWith('PUT')),
    [],
  );
  t.deepEqual(tenants.writes, []);
  t.deepEqual(events, []);
});

test('tenant executor: an unreachable agent sets Ready=False (AgentUnavailable) and throws for a retry', async (t) => {
  const { context, agent, tenants } = fakeContext(secrets);
  tenants.put(tenant());
  agent.unreachable = true;
  const error = await t.throwsAsync(reconcileTenantKey(context, 'acme'));
  t.false(error instanceof TerminalError);
  t.like(tenants.objects.get('acme')?.status?.conditions?.[0], {
    status: 'False',
    reason: 'AgentUnavailable',
  });
});

test('tenant executor: deletion with no bucket disables the keys with a random secret, then removes the finalizer', async (t) => {
  const { context, agent, tenants } = fakeContext(secrets);
  tenants.put(tenant({ metadata: { finalizers: [] } }));
  await reconcileTenantKey(context, 'acme');
  tenants.objects.get('acme')!.metadata.deletionTimestamp = new Date(nowMs);
  await reconcileTenantKey(context, 'acme');
  t.false(tenants.objects.has('acme'), 'the finalizer was removed, so the API server deletes the resource');
  const key = agent.keys.get('ACMEBACKUPKEY00001')!;
  t.false(key.enabled);
  t.not(key.secretAccessKey, secrets['tenants/acme-keys/secretAccessKey']);
  t.is(agent.tenants.get('acme')?.quotaBytes, 0);
});

test('bucket executor: two tenants each get their own bucket of the same name (names are per tenant)', async (t) => {
  const { context, agent, tenants, buckets } = fakeContext(secrets);
  tenants.put(tenant());
  tenants.put(tenant({ metadata: { name: 'globex', uid: 'uid-globex' }, spec: { accessKeys: [] } }));
  await reconcileTenantKey(context, 'acme');
  await reconcileTenantKey(context, 'globex');
  buckets.put(bucket({ metadata: { name: 'acme-backups' }, spec: { name: 'backups' } }));
  buckets.put(
    bucket({
      metadata: { name: 'globex-backups', uid: 'uid-globex-backups' },
      spec: { name: 'backups', tenantRef: { name: 'globex' }, objectLock: false },
    }),
  );
  await reconcileBucketKey(context, 'acme-backups');
  await reconcileBucketKey(context, 'globex-backups');
  t.like(agent.buckets.get('acme/backups'), { tenantId: 'acme', objectLockEnabled: true });
  t.like(agent.buckets.get('globex/backups'), {
    tenantId: 'globex',
    objectLockEnabled: false,
    versioning: 'Enabled',
  });
  t.like(buckets.objects.get('globex-backups')?.status?.conditions?.[0], {
    status: 'True',
    reason: 'Provisioned',
  });
});

test('bucket executor: Object Lock asked for an existing bucket without it is terminal and the bucket is untouched', async (t) => {
  const { context, agent, tenants, buckets } = fakeContext(secrets);
  tenants.put(tenant());
  await agent.putTenant('acme', { displayName: 'ACME', quotaBytes: null });
  await agent.putBucket('acme', 'acme-veeam', { versioning: 'Suspended' });
  buckets.put(bucket());
  const error = await t.throwsAsync(reconcileBucketKey(context, 'acme-veeam'));
  t.true(error instanceof TerminalError);
  t.like(agent.buckets.get('acme/acme-veeam'), { objectLockEnabled: false, versioning: 'Suspended' });
  t.like(buckets.objects.get('acme-veeam')?.status?.conditions?.[0], {
    status: 'False',
    reason: 'ObjectLockOnlyAtCreation',
  });
});

test('bucket and retention executors: the bucket is created locked, then the policy sets its default retention', async (t) => {
  const { context, agent, tenants, buckets, retentionPolicies } = fakeContext(secrets);
  tenants.put(tenant());
  buckets.put(bucket());
  retentionPolicies.put(policy({ metadata: { finalizers: [] } }));
  await reconcileTenantKey(context, 'acme');
  await reconcileBucketKey(context, 'acme-veeam');
  await reconcileRetentionPolicyKey(context, 'acme-veeam-30d');
  t.like(agent.buckets.get('acme/acme-veeam'), {
    objectLockEnabled: true,
    versioning: 'Enabled',
    defaultRetention: { mode: 'COMPLIANCE', days: 30 },
  });
  t.like(buckets.objects.get('acme-veeam')?.status, { objectLockEnabled: true, versioning: 'Enabled' });
  t.like(retentionPolicies.objects.get('acme-veeam-30d')?.status, {
    appliedRetention: { mode: 'COMPLIANCE', days: 30 },
  });
  t.deepEqual(retentionPolicies.objects.get('acme-veeam-30d')?.metadata.finalizers, [
    'coffre.infofy.fr/agents',
  ]);
});
