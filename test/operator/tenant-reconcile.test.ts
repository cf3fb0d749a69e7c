// The Tenant reconciler as a pure function: a table of desired resources and observed agent
// states, and the calls, status and finalizer decisions each must produce.
import test from 'ava';
import type { AgentKey, AgentTenant } from '../../operator/controllers/agent-admin.ts';
import { reconcileTenant, type TenantObserved } from '../../operator/controllers/tenant-reconcile.ts';
import { nowMs, tenant } from './fixtures.ts';

const secret = { value: 'acme-secret-0123456789abcdef', resourceVersion: '7' };
const agentTenant: AgentTenant = {
  id: 'acme',
  displayName: 'ACME SAS',
  quotaBytes: 5_000_000_000_000,
  buckets: [],
};
const agentKey: AgentKey = {
  accessKeyId: 'ACMEBACKUPKEY00001',
  tenantId: 'acme',
  role: 'write-only',
  enabled: true,
};
const pushedStatus = {
  accessKeys: [
    {
      accessKeyId: 'ACMEBACKUPKEY00001',
      role: 'write-only' as const,
      enabled: true,
      secretResourceVersion: '7',
    },
  ],
};

function observed(overrides: Partial<TenantObserved> = {}): TenantObserved {
  return {
    nowMs,
    agentTenant,
    agentKeys: [agentKey],
    secrets: { ACMEBACKUPKEY00001: secret },
    bucketResources: [],
    usage: {
      storedBytes: 1_500_000_000_001,
      retainedBytes: 1_000,
      currentMonth: { fromDay: '2026-11-01', toDay: '2026-12-01', peakBytes: 2_000_000_000_000 },
    },
    ...overrides,
  };
}

const cases: {
  title: string;
  resource: ReturnType<typeof tenant>;
  observed: TenantObserved;
  actions: string[];
  ready: string;
  finalizer: 'add' | 'keep' | 'remove';
}[] = [
  {
    title: 'a new tenant: the agent gets the tenant with its quota, then its key; the finalizer is added',
    resource: tenant({ metadata: { finalizers: [] } }),
    observed: observed({ agentTenant: null, agentKeys: [], usage: null }),
    actions: ['putTenant acme quota=5000000000000', 'putKey ACMEBACKUPKEY00001 write-only enabled'],
    ready: 'True/Provisioned',
    finalizer: 'add',
  },
  {
    title: 'a converged tenant whose secret did not change: nothing to call',
    resource: tenant({ status: pushedStatus }),
    observed: observed(),
    actions: [],
    ready: 'True/Provisioned',
    finalizer: 'keep',
  },
  {
    title: 'the Secret changed (new resourceVersion): the key is pushed again',
    resource: tenant({ status: pushedStatus }),
    observed: observed({
      secrets: { ACMEBACKUPKEY00001: { value: 'rotated-secret-0123456789', resourceVersion: '8' } },
    }),
    actions: ['putKey ACMEBACKUPKEY00001 write-only enabled'],
    ready: 'True/Provisioned',
    finalizer: 'keep',
  },
  {
    title: 'the quota changed: only the tenant is put again',
    resource: tenant({ spec: { quotaBytes: 10_000_000_000_000 }, status: pushedStatus }),
    observed: observed(),
    actions: ['putTenant acme quota=10000000000000'],
    ready: 'True/Provisioned',
    finalizer: 'keep',
  },
  {
    title: 'no quota in the spec removes the agent quota (null)',
    resource: tenant({ spec: { quotaBytes: undefined }, status: pushedStatus }),
    observed: observed(),
    actions: ['putTenant acme quota=null'],
    ready: 'True/Provisioned',
    finalizer: 'keep',
  },
  {
    title: 'a key disabled in the spec is disabled on the agent with its secret',
    resource: tenant({
      spec: {
        accessKeys: [
          {
            accessKeyId: 'ACMEBACKUPKEY00001',
            role: 'write-only',
            enabled: false,
            secretRef: { namespace: 'tenants', name: 'acme-keys' },
          },
        ],
      },
      status: pushedStatus,
    }),
    observed: observed(),
    actions: ['putKey ACMEBACKUPKEY00001 write-only disabled'],
    ready: 'True/Provisioned',
    finalizer: 'keep',
  },
  {
    title: 'a key removed from the spec is disabled (its secret replaced)',
    resource: tenant({ spec: { accessKeys: [] }, status: pushedStatus }),
    observed: observed(),
    actions: ['disableKey ACMEBACKUPKEY00001'],
    ready: 'True/Provisioned',
    finalizer: 'keep',
  },
  {
    title: 'a missing Secret: the tenant is still pushed, the key is not, Ready is False (SecretNotFound)',
    resource: tenant({ metadata: { finalizers: [] } }),
    observed: observed({
      agentTenant: null,
      agentKeys: [],
      secrets: { ACMEBACKUPKEY00001: null },
      usage: null,
    }),
    actions: ['putTenant acme quota=5000000000000'],
    ready: 'False/SecretNotFound',
    finalizer: 'add',
  },
  {
    title: 'an invalid contract (SIREN with a wrong Luhn key): nothing is pushed, the error is terminal',
    resource: tenant({
      spec: {
        contract: {
          ...tenant().spec.contract,
          company: { ...tenant().spec.contract.company, siren: '123456789' },
        },
      },
    }),
    observed: observed({ agentTenant: null, agentKeys: [] }),
    actions: [],
    ready: 'False/InvalidContract',
    finalizer: 'keep',
  },
  {
    title: 'deletion while Bucket resources name the tenant: blocked, nothing revoked, the finalizer stays',
    resource: tenant({ metadata: { deletionTimestamp: new Date(nowMs) }, status: pushedStatus }),
    observed: observed({ bucketResources: ['acme-veeam'] }),
    actions: [],
    ready: 'False/DeletionBlocked',
    finalizer: 'keep',
  },
  {
    title:
      'deletion without buckets: keys disabled and quota 0 first; the finalizer stays until that is done',
    resource: tenant({ metadata: { deletionTimestamp: new Date(nowMs) }, status: pushedStatus }),
    observed: observed(),
    actions: ['disableKey ACMEBACKUPKEY00001', 'putTenant acme quota=0'],
    ready: 'False/AccessRevoked',
    finalizer: 'keep',
  },
  {
    title: 'deletion once access is revoked: the finalizer is removed (the data stays on the agents)',
    resource: tenant({ metadata: { deletionTimestamp: new Date(nowMs) } }),
    observed: observed({
      agentTenant: { ...agentTenant, quotaBytes: 0 },
      agentKeys: [{ ...agentKey, enabled: false }],
    }),
    actions: [],
    ready: 'False/AccessRevoked',
    finalizer: 'remove',
  },
];

function describeAction(action: ReturnType<typeof reconcileTenant>['actions'][number]): string {
  switch (action.type) {
    case 'putTenant':
      return `putTenant ${action.tenantId} quota=${action.quotaBytes}`;
    case 'putKey':
      return `putKey ${action.accessKeyId} ${action.role} ${action.enabled ? 'enabled' : 'disabled'}`;
    case 'disableKey':
      return `disableKey ${action.accessKeyId}`;
  }
}

for (const testCase of cases) {
  test(`tenant reconcile: ${testCase.title}`, (t) => {
    const plan = reconcileTenant(testCase.resource, testCase.observed);
    t.deepEqual(plan.actions.map(describeAction), testCase.actions);
    const ready = plan.status.conditions?.find((condition) => condition.type === 'Ready');
    t.is(`${ready?.status}/${ready?.reason}`, testCase.ready);
    t.is(ready?.observedGeneration, testCase.resource.metadata.generation);
    t.is(plan.finalizer, testCase.finalizer);
    t.is(
      plan.terminal !== undefined,
      testCase.ready === 'False/InvalidContract',
      'only a refused contract is terminal',
    );
  });
}

test('tenant reconcile: the status reports usage in started To, from the agent figures', (t) => {
  const plan = reconcileTenant(tenant({ status: pushedStatus }), observed());
  t.deepEqual(plan.status.usage, {
    storedBytes: 1_500_000_000_001,
    retainedBytes: 1_000,
    billedTerabytes: 2,
    currentMonthPeakBytes: 2_000_000_000_000,
    currentMonthBilledTerabytes: 2,
    measuredAt: '2026-11-29T12:00:00Z',
  });
});

test('tenant reconcile: the pushed secret is a call argument, never in the status', (t) => {
  const plan = reconcileTenant(tenant({ metadata: { finalizers: [] } }), observed({ agentKeys: [] }));
  t.true(plan.actions.some((action) => action.type === 'putKey' && action.secretAccessKey === secret.value));
  t.false(JSON.stringify(plan.status).includes(secret.value));
  t.deepEqual(plan.status.accessKeys, pushedStatus.accessKeys);
});

test('tenant reconcile: an Event is planned when Ready changes, not on a resync that changes nothing', (t) => {
  const first = reconcileTenant(tenant({ metadata: { finalizers: [] } }), observed({ agentKeys: [] }));
  t.deepEqual(
    first.events.map((event) => `${event.type}/${event.reason}`),
    ['Normal/Provisioned'],
  );
  const again = reconcileTenant(tenant({ status: first.status }), observed());
  t.deepEqual(again.events, []);
  t.deepEqual(again.status.conditions, first.status.conditions);
});
