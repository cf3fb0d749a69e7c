// Wires the Tenant, Bucket and RetentionPolicy controllers to a cluster: one informer per kind
// (shared), the clients, Events, Secrets, leader election, and the Manager that runs them, with
// any additional controller (the Region controller) under the same Lease.
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { CoreV1Api, type KubeConfig, type KubernetesObject, type V1Secret } from '@kubernetes/client-node';
import { type Clock, systemClock } from '../runtime/clock.ts';
import { ResourceInformer } from '../runtime/informer.ts';
import {
  eventRecorder,
  leaseStore,
  type ResourceKind,
  resourceClient,
  resourcePath,
  secretReader,
} from '../runtime/kube.ts';
import { type ControllerSpec, Manager, whenChanged } from '../runtime/manager.ts';
import type { AgentAdmin } from './agent-admin.ts';
import { reconcileBucketKey } from './bucket-controller.ts';
import type { ControllerContext, KindAccess } from './context.ts';
import {
  type BucketResource,
  bucketKind,
  bucketsOfTenant,
  bucketsSharingName,
  policiesOfBucket,
  type RetentionPolicyResource,
  retentionPolicyKind,
  type TenantResource,
  tenantKind,
} from './kinds.ts';
import { reconcileRetentionPolicyKey } from './retention-controller.ts';
import { reconcileTenantKey } from './tenant-controller.ts';

export interface OperatorOptions {
  kubeConfig: KubeConfig;
  admin: AgentAdmin;
  clock?: Clock;
  /** Leader election on a Lease; null runs without (a single replica). */
  leaderElection?: {
    namespace: string;
    leaseName: string;
    identity?: string;
    leaseDurationMs?: number;
    renewDeadlineMs?: number;
    retryPeriodMs?: number;
  } | null;
  workersPerController?: number;
  log?: (line: string) => void;
  randomSecret?: () => string;
  /** Each Ready resource's periodic re-reconcile (default a minute); also caps shorter waits. */
  resyncIntervalMs?: number;
  /**
   * The namespaces whose Secrets are watched: a change to a Secret that a Tenant references there
   * queues that Tenant at once. A Secret elsewhere is read again at the periodic resync only.
   * Default none; each needs get/list/watch on Secrets in that namespace (operator/deploy/rbac.yaml).
   */
  secretNamespaces?: readonly string[];
  /**
   * More controllers run by the same Manager, under the same Lease (the Region controller:
   * region-operator.ts regionController(...).spec). Each brings its own informers in its sources.
   */
  additionalControllers?: readonly ControllerSpec[];
}

export interface Operator {
  readonly manager: Manager;
  readonly context: ControllerContext;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export const operatorComponent = 'coffre-operator';

function kindAccess<Resource extends TenantResource | BucketResource | RetentionPolicyResource>(
  options: OperatorOptions,
  kind: ResourceKind,
): KindAccess<Resource> & { informer: ResourceInformer<Resource & KubernetesObject> } {
  const client = resourceClient<Resource>(options.kubeConfig, kind);
  const informer = new ResourceInformer<Resource & KubernetesObject>({
    kubeConfig: options.kubeConfig,
    path: resourcePath(kind),
    list: async () => (await client.list()) as { items: (Resource & KubernetesObject)[] },
    clock: options.clock,
    log: options.log,
  });
  return { client, informer, cache: { get: (name) => informer.get(name), list: () => informer.list() } };
}

const nameOf = (object: KubernetesObject) => [object.metadata?.name ?? ''];

/** The Secrets of one namespace, list + watch; their values stay in this process's memory only. */
function secretInformer(options: OperatorOptions, namespace: string): ResourceInformer<V1Secret> {
  const core = options.kubeConfig.makeApiClient(CoreV1Api);
  return new ResourceInformer<V1Secret>({
    kubeConfig: options.kubeConfig,
    path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets`,
    list: () => core.listNamespacedSecret({ namespace }),
    clock: options.clock,
    log: options.log,
  });
}

export function createOperator(options: OperatorOptions): Operator {
  const clock = options.clock ?? systemClock;
  const tenants = kindAccess<TenantResource>(options, tenantKind);
  const buckets = kindAccess<BucketResource>(options, bucketKind);
  const retentionPolicies = kindAccess<RetentionPolicyResource>(options, retentionPolicyKind);
  const context: ControllerContext = {
    tenants,
    buckets,
    retentionPolicies,
    admin: options.admin,
    secrets: secretReader(options.kubeConfig),
    events: eventRecorder(options.kubeConfig, operatorComponent, {
      nowMs: () => clock.nowMs(),
    }),
    clock,
    randomSecret: options.randomSecret ?? (() => randomBytes(30).toString('base64url')),
    resyncIntervalMs: options.resyncIntervalMs,
  };
  const namesOf = (resources: readonly KubernetesObject[]) =>
    resources.map((resource) => resource.metadata!.name!);
  const bucketsOfTenantNamed = (tenant: KubernetesObject) =>
    namesOf(bucketsOfTenant(buckets.informer.list(), tenant.metadata?.name ?? ''));
  const sameBucket = (bucket: BucketResource) =>
    namesOf(bucketsSharingName(buckets.informer.list(), bucket)).concat(bucket.metadata.name);
  const policiesOfBucketNamed = (bucketName: string) =>
    namesOf(policiesOfBucket(retentionPolicies.informer.list(), bucketName));
  // A Secret's data has no generation: every add, update or delete of one is a change worth acting on.
  const tenantsOfSecret = (secret: KubernetesObject) =>
    tenants.informer
      .list()
      .filter((tenant) =>
        (tenant.spec.accessKeys ?? []).some(
          (key) =>
            key.secretRef.namespace === secret.metadata?.namespace &&
            key.secretRef.name === secret.metadata?.name,
        ),
      )
      .map((tenant) => tenant.metadata.name);
  const secretSources = [...new Set(options.secretNamespaces ?? [])].map((namespace) => ({
    informer: secretInformer(options, namespace),
    keysOf: tenantsOfSecret,
  }));
  const workers = options.workersPerController;
  const controllers: ControllerSpec[] = [
    {
      name: 'tenant',
      reconcile: (name) => reconcileTenantKey(context, name),
      workers,
      sources: [
        { informer: tenants.informer, keysOf: whenChanged(nameOf) },
        // A Bucket created or deleted changes whether a Tenant's deletion may proceed.
        {
          informer: buckets.informer,
          keysOf: whenChanged((bucket) => [(bucket as BucketResource).spec.tenantRef.name]),
        },
        // A rotated key Secret is pushed to the agents at once, not at the next resync.
        ...secretSources,
      ],
    },
    {
      name: 'bucket',
      reconcile: (name) => reconcileBucketKey(context, name),
      workers,
      sources: [
        // The other resources naming the same bucket of the same tenant: one may now manage it.
        { informer: buckets.informer, keysOf: whenChanged((bucket) => sameBucket(bucket as BucketResource)) },
        // A Tenant becoming Ready lets its waiting buckets be created.
        { informer: tenants.informer, keysOf: whenChanged(bucketsOfTenantNamed) },
      ],
    },
    {
      name: 'retentionpolicy',
      reconcile: (name) => reconcileRetentionPolicyKey(context, name),
      workers,
      sources: [
        {
          informer: retentionPolicies.informer,
          // The other policies of the same bucket: one of them may now apply (Conflict resolved).
          keysOf: whenChanged((policy) =>
            policiesOfBucketNamed((policy as RetentionPolicyResource).spec.bucketRef.name).concat(
              nameOf(policy),
            ),
          ),
        },
        {
          informer: buckets.informer,
          keysOf: whenChanged((bucket) => policiesOfBucketNamed(bucket.metadata?.name ?? '')),
        },
      ],
    },
  ];
  const election = options.leaderElection;
  const manager = new Manager({
    controllers: [...controllers, ...(options.additionalControllers ?? [])],
    clock,
    log: options.log,
    leaderElection:
      election === null || election === undefined
        ? undefined
        : {
            identity:
              election.identity ?? `${os.hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`,
            store: leaseStore(options.kubeConfig, election.namespace, election.leaseName),
            leaseDurationMs: election.leaseDurationMs,
            renewDeadlineMs: election.renewDeadlineMs,
            retryPeriodMs: election.retryPeriodMs,
          },
  });
  return { manager, context, start: () => manager.start(), stop: () => manager.stop() };
}
