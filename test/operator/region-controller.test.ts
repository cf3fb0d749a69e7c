// The Region controller end to end: a real kube-apiserver holds the Region (its CRD from
// operator/crds), the Secrets and the Events; the rollout reaches three real sshd hosts with the
// real agent bundle. Only the deployer is a fake, because the Pulumi CLI cannot run here: it
// returns the hosts that `pulumi up` would have ordered, pointing at the sshd hosts.
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import anyTest, { type TestFn } from 'ava';
import { parse } from 'yaml';
import { type AgentBundle, buildAgentBundle } from '../../operator/bundle/build.ts';
import { regionKind } from '../../operator/controllers/kinds.ts';
import {
  type RegionControllerContext,
  reconcileRegionKey,
  regionMemory,
} from '../../operator/controllers/region-controller.ts';
import type { RegionResource, RegionSpec } from '../../operator/controllers/region-kinds.ts';
import { pidfileServiceManager } from '../../operator/rollout/service-manager.ts';
import { systemClock } from '../../operator/runtime/clock.ts';
import { isTerminalError } from '../../operator/runtime/errors.ts';
import {
  eventRecorder,
  type ResourceClient,
  resourceClient,
  secretReader,
} from '../../operator/runtime/kube.ts';
import type { RegionDeployer, RegionPreview } from '../../stacks/deployer.ts';
import type { RegionOutputs } from '../../stacks/region.ts';
import type { RegionConfig } from '../../stacks/region-config.ts';
import {
  adminCredentials,
  agentLog,
  agentPid,
  currentRelease,
  removeDirectory,
  startTestHosts,
  stopTestHost,
  type TestHost,
} from '../rollout/region-fixture.ts';
import { repositoryRoot } from '../support/agent-process.ts';
import { type KubeCluster, startKubeCluster } from '../support/kube-cluster.ts';
import { regionSpec, stackOutputs } from './region-fixtures.ts';

interface Context {
  cluster: KubeCluster;
  kubeConfig: k8s.KubeConfig;
  directory: string;
  hosts: TestHost[];
  bundle: AgentBundle;
  regions: ResourceClient<RegionResource>;
}

const test = anyTest as TestFn<Context>;
const secretsNamespace = 'coffre-system';

/** A RegionDeployer that records what it was asked and returns the sshd hosts as the stack's outputs. */
class FakeRegionDeployer implements RegionDeployer {
  readonly upCalls: RegionConfig[] = [];
  readonly #outputs: RegionOutputs;
  constructor(outputs: RegionOutputs) {
    this.#outputs = outputs;
  }
  async preview(): Promise<RegionPreview> {
    return { changes: { create: this.#outputs.hosts.length } };
  }
  async up(config: RegionConfig): Promise<RegionOutputs> {
    this.upCalls.push(config);
    return { ...this.#outputs, region: config.name };
  }
}

async function applyRegionDefinition(kubeConfig: k8s.KubeConfig): Promise<void> {
  const extensions = kubeConfig.makeApiClient(k8s.ApiextensionsV1Api);
  const definition = parse(
    readFileSync(path.join(repositoryRoot, 'operator', 'crds', 'region.yaml'), 'utf8'),
  ) as k8s.V1CustomResourceDefinition;
  await extensions.createCustomResourceDefinition({ body: definition });
  const custom = kubeConfig.makeApiClient(k8s.CustomObjectsApi);
  for (let attempt = 0; attempt < 300; attempt += 1) {
    const served = await custom
      .listClusterCustomObject({
        group: regionKind.group,
        version: regionKind.version,
        plural: regionKind.plural,
      })
      .then(() => true)
      .catch(() => false);
    if (served) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('the Region CRD was not served within 30 s');
}

test.before(async (t) => {
  t.context.directory = mkdtempSync(path.join(os.tmpdir(), 'coffre-region-'));
  t.context.cluster = await startKubeCluster();
  const kubeConfig = t.context.cluster.kubeConfig();
  t.context.kubeConfig = kubeConfig;
  await applyRegionDefinition(kubeConfig);
  const { hosts, privateKey } = await startTestHosts(t.context.directory, ['par-1', 'rbx-1', 'gra-1']);
  t.context.hosts = hosts;
  t.context.bundle = await buildAgentBundle({ repositoryRoot });
  const core = kubeConfig.makeApiClient(k8s.CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: secretsNamespace } } });
  await core.createNamespacedSecret({
    namespace: secretsNamespace,
    body: {
      metadata: { name: 'rollout-ssh' },
      type: 'kubernetes.io/ssh-auth',
      stringData: { 'ssh-privatekey': privateKey },
    },
  });
  await core.createNamespacedSecret({
    namespace: secretsNamespace,
    body: { metadata: { name: 'agent-admin' }, stringData: { ...adminCredentials } },
  });
  t.context.regions = resourceClient<RegionResource>(kubeConfig, regionKind);
});

test.after.always(async (t) => {
  for (const host of t.context.hosts ?? []) await stopTestHost(host);
  await t.context.cluster?.stop();
  if (t.context.directory) removeDirectory(t.context.directory);
});

const datacenterOf: Record<string, string> = { 'par-1': 'par', 'rbx-1': 'rbx', 'gra-1': 'gra' };

function spec(context: Context, pins: (host: TestHost) => string): RegionSpec {
  return {
    ...regionSpec,
    datacenters: ['par', 'rbx', 'gra'],
    agentVersion: context.bundle.manifest.version,
    hosts: context.hosts.map((host) => ({
      name: host.spec.name,
      datacenter: datacenterOf[host.spec.name] as string,
      sshHostKeySha256: pins(host),
    })),
    rollout: { maxParallelHosts: 1, quorum: 2 },
  };
}

async function createRegion(context: Context, name: string, regionSpecification: RegionSpec): Promise<void> {
  await context.kubeConfig.makeApiClient(k8s.CustomObjectsApi).createClusterCustomObject({
    group: regionKind.group,
    version: regionKind.version,
    plural: regionKind.plural,
    body: {
      apiVersion: `${regionKind.group}/${regionKind.version}`,
      kind: 'Region',
      metadata: { name },
      spec: regionSpecification,
    },
  });
}

function controllerContext(context: Context, deployer: RegionDeployer): RegionControllerContext {
  let cached: RegionResource | undefined;
  return {
    // The informer's cache, read fresh from the apiserver before each reconcile (see reconcile below).
    regions: {
      cache: { get: () => cached, list: () => (cached ? [cached] : []) },
      client: {
        ...context.regions,
        get: async (name) => {
          cached = (await context.regions.get(name)) ?? undefined;
          return cached ?? null;
        },
      },
    },
    secrets: secretReader(context.kubeConfig),
    events: eventRecorder(context.kubeConfig, 'coffre-operator'),
    clock: systemClock,
    deployer,
    bundles: async (version) => (version === context.bundle.manifest.version ? context.bundle : null),
    // The sshd hosts' ports and roots, with the host key the Region pins.
    rolloutHost: (host, region) => {
      const testHost = context.hosts.find((candidate) => candidate.spec.name === host.name);
      if (testHost === undefined) throw new Error(`no test host ${host.name}`);
      const pinned =
        region.spec.hosts?.find((candidate) => candidate.name === host.name)?.sshHostKeySha256 ?? '';
      return { ...testHost.spec, ssh: { ...testHost.spec.ssh, hostKeySha256: pinned } };
    },
    rolloutOptions: {
      serviceManager: pidfileServiceManager(),
      log: () => {},
      healthWait: { timeoutMs: 60_000, intervalMs: 200 },
    },
    memory: regionMemory(),
  };
}

async function reconcile(controller: RegionControllerContext, name: string) {
  await controller.regions.client.get(name);
  return reconcileRegionKey(controller, name);
}

async function regionEvents(context: Context, name: string): Promise<string[]> {
  const events = await context.kubeConfig
    .makeApiClient(k8s.CoreV1Api)
    .listNamespacedEvent({ namespace: 'default', fieldSelector: `involvedObject.name=${name}` });
  return events.items.map((event) => `${event.type}/${event.reason}`);
}

/**
 * Collects the RolledOut reasons of every status the apiserver stores for `name`. client-node ends
 * a watch after 30 s without an event (a rollout is longer), so it resumes from the last
 * resourceVersion seen, as an informer does, and misses nothing.
 */
function watchRolledOut(context: Context, name: string, seen: string[]): { stop(): void } {
  let stopped = false;
  let controller: AbortController | undefined;
  let resourceVersion: string | undefined;
  const watch = (): void => {
    if (stopped) return;
    new k8s.Watch(context.kubeConfig)
      .watch(
        `/apis/${regionKind.group}/${regionKind.version}/${regionKind.plural}`,
        { fieldSelector: `metadata.name=${name}`, ...(resourceVersion ? { resourceVersion } : {}) },
        (_phase, object: RegionResource) => {
          resourceVersion = object.metadata.resourceVersion;
          const rolledOut = conditionOf(object, 'RolledOut');
          if (rolledOut && seen.at(-1) !== rolledOut.reason) seen.push(rolledOut.reason);
        },
        () => watch(),
      )
      .then((started) => {
        controller = started;
      }, watch);
  };
  watch();
  return {
    stop: () => {
      stopped = true;
      controller?.abort();
    },
  };
}

const conditionOf = (region: RegionResource | null, type: string) =>
  region?.status?.conditions?.find((condition) => condition.type === type);

function outputsFor(context: Context): RegionOutputs {
  return stackOutputs(
    context.hosts.map((host) => ({
      name: host.spec.name,
      datacenter: datacenterOf[host.spec.name] as string,
      address: '127.0.0.1',
    })),
  );
}

test.serial(
  'a new Region: the stack is deployed, the real bundle reaches the three sshd hosts, and the Region reads Ready',
  async (t) => {
    const { context } = t;
    await createRegion(
      context,
      'fr-par',
      spec(context, (host) => host.server.hostKeySha256),
    );
    const deployer = new FakeRegionDeployer(outputsFor(context));
    const controller = controllerContext(context, deployer);
    // Every status the apiserver stored, as a watch sees them, to prove progress was reported as it went.
    const seen: string[] = [];
    const watching = watchRolledOut(context, 'fr-par', seen);

    const result = await reconcile(controller, 'fr-par');
    t.true((result.requeueAfterMs ?? 0) > 0, 'a Ready region is looked at again later');
    t.is(deployer.upCalls.length, 1);
    t.deepEqual(
      deployer.upCalls[0]?.hosts.map((host) => host.name),
      ['par-1', 'rbx-1', 'gra-1'],
    );
    const region = await context.regions.get('fr-par');
    const logs = context.hosts.map(agentLog).join('\n');
    t.like(conditionOf(region, 'Provisioned'), {
      status: 'True',
      reason: 'Provisioned',
      observedGeneration: 1,
    });
    t.like(
      conditionOf(region, 'RolledOut'),
      { status: 'True', reason: 'Completed' },
      JSON.stringify(region?.status) + logs,
    );
    t.like(conditionOf(region, 'Ready'), { status: 'True', reason: 'RegionReady' });
    t.is(region?.status?.agentVersion, context.bundle.manifest.version);
    t.is(region?.status?.readyHosts, 3);
    t.deepEqual(
      region?.status?.hosts?.map((host) => `${host.name}@${host.datacenter}:${host.healthy}`),
      ['par-1@par:true', 'rbx-1@rbx:true', 'gra-1@gra:true'],
    );
    for (const host of context.hosts) t.is(currentRelease(host), context.bundle.manifest.version);

    const events = await regionEvents(context, 'fr-par');
    for (const expected of [
      'Normal/Provisioning',
      'Normal/Provisioned',
      'Normal/RollingOut',
      'Normal/RegionReady',
    ]) {
      t.true(events.includes(expected), `${expected} in ${events.join(', ')}`);
    }
    t.is(events.filter((event) => event === 'Normal/HostUpgraded').length, 3);
    // The watch may deliver the last update a moment after the reconcile returns.
    for (let attempt = 0; attempt < 300 && seen.at(-1) !== 'Completed'; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    watching.stop();
    t.deepEqual(seen, ['WaitingForProvisioning', 'RollingOut', 'Completed']);
  },
);

test.serial(
  'the same Region reconciled again: no pulumi up, no upload, no restart, no new Event',
  async (t) => {
    const { context } = t;
    const deployer = new FakeRegionDeployer(outputsFor(context));
    // A fresh controller, as after an operator restart: it remembers nothing of the first one.
    const controller = controllerContext(context, deployer);
    const pids = context.hosts.map(agentPid);
    const eventsBefore = await regionEvents(context, 'fr-par');
    const before = await context.regions.get('fr-par');
    await reconcile(controller, 'fr-par');
    t.is(deployer.upCalls.length, 1, 'pulumi up runs once, and finds nothing to change');
    const result = await reconcile(controller, 'fr-par');
    t.is(deployer.upCalls.length, 1);
    t.true((result.requeueAfterMs ?? 0) > 0);
    t.deepEqual(context.hosts.map(agentPid), pids);
    t.deepEqual(await regionEvents(context, 'fr-par'), eventsBefore);
    const after = await context.regions.get('fr-par');
    t.deepEqual(after?.status, before?.status);
    t.is(after?.metadata.resourceVersion, before?.metadata.resourceVersion, 'not one status write meanwhile');
    t.like(conditionOf(await context.regions.get('fr-par'), 'Ready'), { status: 'True' });
  },
);

test.serial(
  'a Region pinning a wrong SSH host key: nothing is sent, RolledOut and Ready are False (HostKeyMismatch)',
  async (t) => {
    const { context } = t;
    const wrongPin = 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
    await createRegion(
      context,
      'fr-rbx',
      spec(context, (host) => (host.spec.name === 'rbx-1' ? wrongPin : host.server.hostKeySha256)),
    );
    const controller = controllerContext(context, new FakeRegionDeployer(outputsFor(context)));
    const pids = context.hosts.map(agentPid);
    const result = await reconcile(controller, 'fr-rbx');
    t.true((result.requeueAfterMs ?? 0) > 0, 'a halted rollout is tried again later');
    const region = await context.regions.get('fr-rbx');
    t.like(conditionOf(region, 'Provisioned'), { status: 'True' });
    t.like(conditionOf(region, 'RolledOut'), { status: 'False', reason: 'HostKeyMismatch' });
    t.regex(conditionOf(region, 'RolledOut')?.message ?? '', /rbx-1/);
    t.like(conditionOf(region, 'Ready'), { status: 'False', reason: 'HostKeyMismatch' });
    t.deepEqual(context.hosts.map(agentPid), pids, 'no agent was restarted');
    t.true((await regionEvents(context, 'fr-rbx')).includes('Warning/HostKeyMismatch'));
  },
);

test.serial(
  'a Region opening SSH to the internet is refused before any deployment: terminal, Provisioned False',
  async (t) => {
    const { context } = t;
    // The CRD's patterns accept 0.0.0.0/0; the stacks' rules, applied by the controller before Pulumi, do not.
    const invalid = {
      ...spec(context, (host) => host.server.hostKeySha256),
      adminSourceCidrs: ['0.0.0.0/0'],
    };
    await createRegion(context, 'fr-open', invalid);
    const deployer = new FakeRegionDeployer(outputsFor(context));
    const error = await t.throwsAsync(reconcile(controllerContext(context, deployer), 'fr-open'));
    t.true(isTerminalError(error));
    t.is(deployer.upCalls.length, 0);
    const region = await context.regions.get('fr-open');
    t.like(conditionOf(region, 'Provisioned'), { status: 'False', reason: 'InvalidRegionConfig' });
    t.regex(conditionOf(region, 'Provisioned')?.message ?? '', /internet/);
  },
);
