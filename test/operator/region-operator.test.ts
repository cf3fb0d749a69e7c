// The Region controller run by the operator's Manager (createOperator's additionalControllers)
// against a real kube-apiserver: the informer sees the Region, the work queue reconciles it, and a
// Region waiting on a Secret looks again by itself once the Secret exists. The deployer is a fake
// (no Pulumi CLI here); no host is reached, since the rollout waits on the Secrets (the rollout
// over SSH is in region-controller.test.ts).
import { setTimeout as delay } from 'node:timers/promises';
import * as k8s from '@kubernetes/client-node';
import anyTest, { type TestFn } from 'ava';
import { httpAgentAdmin } from '../../operator/controllers/agent-admin.ts';
import { regionKind } from '../../operator/controllers/kinds.ts';
import { createOperator } from '../../operator/controllers/operator.ts';
import type { RegionResource } from '../../operator/controllers/region-kinds.ts';
import { regionController } from '../../operator/controllers/region-operator.ts';
import type { RegionDeployer } from '../../stacks/deployer.ts';
import type { RegionConfig } from '../../stacks/region-config.ts';
import { type KubeCluster, startKubeCluster } from '../support/kube-cluster.ts';
import { applyCrds, customObjects, waitFor } from './kube-fixtures.ts';
import { regionSpec, stackOutputs } from './region-fixtures.ts';

const test = anyTest as TestFn<{ cluster: KubeCluster }>;

test.before(async (t) => {
  t.context.cluster = await startKubeCluster();
});

test.after.always(async (t) => {
  await t.context.cluster?.stop();
});

function waitForCondition(
  kubeConfig: k8s.KubeConfig,
  name: string,
  matches: (region: RegionResource) => boolean,
): Promise<RegionResource> {
  const regions = customObjects(kubeConfig);
  return waitFor(`Region ${name} to match`, async () => {
    const region = (await regions.get(regionKind.plural, name)) as RegionResource | null;
    return region !== null && matches(region) ? region : undefined;
  });
}

const rolledOut = (region: RegionResource) =>
  region.status?.conditions?.find((condition) => condition.type === 'RolledOut');

test("createOperator runs the Region controller beside the others, under the operator's one Lease: a new Region is provisioned, then waits on its Secrets, and looks again once one exists", async (t) => {
  const kubeConfig = t.context.cluster.kubeConfig();
  await applyCrds(kubeConfig);
  const custom = kubeConfig.makeApiClient(k8s.CustomObjectsApi);
  const body = {
    apiVersion: `${regionKind.group}/${regionKind.version}`,
    kind: 'Region',
    metadata: { name: 'fr-gra' },
    spec: regionSpec,
  };
  for (let attempt = 0; ; attempt += 1) {
    // A new CRD is served a moment after it is created.
    const created = await custom
      .createClusterCustomObject({
        group: regionKind.group,
        version: regionKind.version,
        plural: regionKind.plural,
        body,
      })
      .then(() => true)
      .catch((error) => (attempt < 300 ? false : Promise.reject(error)));
    if (created) break;
    await delay(100);
  }
  const upCalls: RegionConfig[] = [];
  const deployer: RegionDeployer = {
    preview: async () => ({ changes: { create: 3 } }),
    up: async (config) => {
      upCalls.push(config);
      return stackOutputs(
        config.hosts.map((host, index) => ({ ...host, address: `198.51.100.${index + 1}` })),
      );
    },
  };
  const region = regionController({ kubeConfig, deployer, bundles: async () => null, log: () => {} });
  const operator = createOperator({
    kubeConfig,
    // No Tenant is declared here: the agent admin API is never called.
    admin: httpAgentAdmin('http://127.0.0.1:9', 'region-operator-test-admin-key-0123456789'),
    leaderElection: { namespace: 'default', leaseName: 'coffre-operator', identity: 'region-test' },
    additionalControllers: [region.spec],
  });
  await operator.start();
  try {
    t.deepEqual([...operator.manager.queues.keys()], ['tenant', 'bucket', 'retentionpolicy', 'region']);
    const waiting = await waitForCondition(
      kubeConfig,
      'fr-gra',
      (candidate) => rolledOut(candidate)?.reason === 'SecretMissing',
    );
    t.like(
      waiting.status?.conditions?.find((condition) => condition.type === 'Provisioned'),
      { status: 'True', reason: 'Provisioned' },
    );
    t.like(rolledOut(waiting), { status: 'False' });
    t.regex(rolledOut(waiting)?.message ?? '', /SSH private key/);
    t.deepEqual(
      waiting.status?.hosts?.map((host) => host.name),
      ['fr-gra-1', 'fr-gra-2', 'fr-gra-3'],
    );
    t.is(upCalls.length, 1);

    const core = kubeConfig.makeApiClient(k8s.CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: 'coffre-system' } } });
    await core.createNamespacedSecret({
      namespace: 'coffre-system',
      body: { metadata: { name: 'rollout-ssh' }, stringData: { 'ssh-privatekey': 'a key' } },
    });
    // No watch on Secrets: the Region's own requeue finds the Secret and the next thing missing.
    const next = await waitForCondition(kubeConfig, 'fr-gra', (candidate) =>
      /admin credentials/.test(rolledOut(candidate)?.message ?? ''),
    );
    t.like(rolledOut(next), { status: 'False', reason: 'SecretMissing' });
    t.is(upCalls.length, 1, 'the stack is not deployed again for an unchanged spec');
    const events = await core.listNamespacedEvent({
      namespace: 'default',
      fieldSelector: 'involvedObject.name=fr-gra',
    });
    t.true(events.items.some((event) => event.reason === 'Provisioned' && event.type === 'Normal'));
    t.true(events.items.some((event) => event.reason === 'SecretMissing' && event.type === 'Warning'));
    const leases = await kubeConfig
      .makeApiClient(k8s.CoordinationV1Api)
      .listNamespacedLease({ namespace: 'default' });
    t.deepEqual(
      leases.items.map((lease) => `${lease.metadata?.name}=${lease.spec?.holderIdentity}`),
      ['coffre-operator=region-test'],
      'one Lease for every controller',
    );
  } finally {
    await operator.stop();
  }
});
