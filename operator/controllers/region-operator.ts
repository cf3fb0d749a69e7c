// Wires the Region controller to a cluster: its informer, clients, Secrets and Events, as a
// ControllerSpec for the operator's Manager (createOperator's additionalControllers, under the
// operator's one Lease). A Region waiting on a Secret looks again by itself (requeueAfterMs), so
// no cluster-wide Secret watch is needed.
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { PulumiRegionDeployer, type RegionDeployer } from '../../stacks/deployer.ts';
import { type AgentBundle, buildAgentBundle } from '../bundle/build.ts';
import { type Clock, systemClock } from '../runtime/clock.ts';
import { ResourceInformer } from '../runtime/informer.ts';
import { eventRecorder, resourceClient, resourcePath, secretReader } from '../runtime/kube.ts';
import { type ControllerSpec, whenChanged } from '../runtime/manager.ts';
import { regionKind } from './kinds.ts';
import { operatorComponent } from './operator.ts';
import {
  type RegionControllerContext,
  type RolloutHostMapper,
  reconcileRegionKey,
  regionMemory,
} from './region-controller.ts';
import type { RegionResource } from './region-kinds.ts';

export interface RegionControllerOptions {
  kubeConfig: KubeConfig;
  /** PulumiRegionDeployer in production (stacks/deployer.ts). */
  deployer: RegionDeployer;
  /** The bundle of an agent version; default: the one built from this operator's own sources. */
  bundles?: (version: string) => Promise<AgentBundle | null>;
  rolloutHost?: RolloutHostMapper;
  rolloutOptions?: RegionControllerContext['rolloutOptions'];
  clock?: Clock;
  log?: (line: string) => void;
}

/**
 * The agent version an operator can roll out is the one it carries: the bundle built from its own
 * sources (cached by version), so an operator upgrade is what brings a new agent version.
 */
export function ownSourcesBundles(repositoryRoot: string): (version: string) => Promise<AgentBundle | null> {
  return async (version) => {
    const bundle = await buildAgentBundle({ repositoryRoot });
    return bundle.manifest.version === version ? bundle : null;
  };
}

export function regionController(options: RegionControllerOptions): {
  spec: ControllerSpec;
  informer: ResourceInformer<RegionResource & KubernetesObject>;
  context: RegionControllerContext;
} {
  const clock = options.clock ?? systemClock;
  const client = resourceClient<RegionResource>(options.kubeConfig, regionKind);
  const informer = new ResourceInformer<RegionResource & KubernetesObject>({
    kubeConfig: options.kubeConfig,
    path: resourcePath(regionKind),
    list: async () => (await client.list()) as { items: (RegionResource & KubernetesObject)[] },
    clock,
    log: options.log,
  });
  const context: RegionControllerContext = {
    regions: { client, cache: { get: (name) => informer.get(name), list: () => informer.list() } },
    secrets: secretReader(options.kubeConfig),
    events: eventRecorder(options.kubeConfig, operatorComponent, {
      nowMs: () => clock.nowMs(),
    }),
    clock,
    deployer: options.deployer,
    bundles: options.bundles ?? ownSourcesBundles(new URL('../..', import.meta.url).pathname),
    rolloutHost: options.rolloutHost,
    rolloutOptions: { log: options.log, ...options.rolloutOptions },
    memory: regionMemory(),
  };
  return {
    informer,
    context,
    spec: {
      name: 'region',
      reconcile: (name) => reconcileRegionKey(context, name),
      // One region at a time: a rollout holds SSH sessions and a pulumi up holds the stack's lock.
      workers: 1,
      sources: [{ informer, keysOf: whenChanged((object) => [object.metadata?.name ?? '']) }],
    },
  };
}

/** The environment `pulumi up` needs: OVHcloud credentials and the state backend, nothing else. */
export function pulumiRegionDeployer(environment: NodeJS.ProcessEnv): RegionDeployer {
  const passed = Object.entries(environment).filter(
    (entry): entry is [string, string] => /^(OVH_|PULUMI_)/.test(entry[0]) && entry[1] !== undefined,
  );
  return new PulumiRegionDeployer({ environment: Object.fromEntries(passed) });
}
