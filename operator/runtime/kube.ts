// The few Kubernetes calls the runtime makes, over @kubernetes/client-node: custom resources
// (get, list, status and finalizer patches), Secrets, the leader Lease and Events. Controllers
// take the narrow interfaces below, so their executors run against a fake in unit tests and
// against a real kube-apiserver end to end.
import * as k8s from '@kubernetes/client-node';
import type { Condition } from './conditions.ts';
import { kubernetesStatus } from './errors.ts';
import type { LeaseRecord, LeaseStore } from './leader-election.ts';

export interface ResourceKind {
  group: string;
  version: string;
  kind: string;
  plural: string;
}

/** A custom resource as the API server returns it. */
export interface CustomResource<Spec = unknown, Status = object> {
  apiVersion: string;
  kind: string;
  metadata: k8s.V1ObjectMeta & { name: string };
  spec: Spec;
  status?: Status & { conditions?: Condition[]; observedGeneration?: number };
}

/** Cluster-scoped custom resources of one kind. */
// biome-ignore lint/suspicious/noExplicitAny: a client of any kind of custom resource.
export interface ResourceClient<Resource extends CustomResource<any, any> = CustomResource> {
  readonly kind: ResourceKind;
  list(): Promise<{ items: Resource[]; metadata?: { resourceVersion?: string } }>;
  get(name: string): Promise<Resource | null>;
  /**
   * Merge-patches the status subresource (the spec is never written by the operator); returns the
   * resource's new resourceVersion.
   */
  patchStatus(name: string, status: object): Promise<string>;
  /**
   * Sets metadata.finalizers, failing with a conflict (409) if the resource changed since
   * `resourceVersion`; returns the new resourceVersion.
   */
  setFinalizers(name: string, finalizers: string[], resourceVersion: string): Promise<string>;
}

export interface SecretValue {
  value: string;
  /** Changes whenever the Secret does: lets a controller push a secret again only when it changed. */
  resourceVersion: string;
}

export interface SecretReader {
  /** The decoded value of one key of a Secret, or null when the Secret or the key is missing. */
  read(namespace: string, name: string, key: string): Promise<SecretValue | null>;
}

export interface EventInput {
  regarding: { kind: ResourceKind; name: string; uid?: string };
  type: 'Normal' | 'Warning';
  /** CamelCase, e.g. TenantProvisioned. */
  reason: string;
  message: string;
}

export interface EventRecorder {
  record(event: EventInput): Promise<void>;
}

const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

// biome-ignore lint/suspicious/noExplicitAny: a client of any kind of custom resource.
export function resourceClient<Resource extends CustomResource<any, any>>(
  kubeConfig: k8s.KubeConfig,
  kind: ResourceKind,
): ResourceClient<Resource> {
  const api = kubeConfig.makeApiClient(k8s.CustomObjectsApi);
  const base = { group: kind.group, version: kind.version, plural: kind.plural };
  return {
    kind,
    list: async () => (await api.listClusterCustomObject(base)) as { items: Resource[] },
    get: async (name) => {
      try {
        return (await api.getClusterCustomObject({ ...base, name })) as Resource;
      } catch (error) {
        if (kubernetesStatus(error) === 404) return null;
        throw error;
      }
    },
    patchStatus: async (name, status) => {
      const patched = await api.patchClusterCustomObjectStatus(
        { ...base, name, body: { status } },
        mergePatch,
      );
      return (patched as Resource).metadata.resourceVersion ?? '';
    },
    setFinalizers: async (name, finalizers, resourceVersion) => {
      const patched = await api.patchClusterCustomObject(
        { ...base, name, body: { metadata: { finalizers, resourceVersion } } },
        mergePatch,
      );
      return (patched as Resource).metadata.resourceVersion ?? '';
    },
  };
}

/** The watch path of a cluster-scoped custom resource, for informers. */
export function resourcePath(kind: ResourceKind): string {
  return `/apis/${kind.group}/${kind.version}/${kind.plural}`;
}

export function secretReader(kubeConfig: k8s.KubeConfig): SecretReader {
  const api = kubeConfig.makeApiClient(k8s.CoreV1Api);
  return {
    read: async (namespace, name, key) => {
      try {
        const secret = await api.readNamespacedSecret({ namespace, name });
        const encoded = secret.data?.[key];
        if (encoded === undefined) return null;
        return {
          value: Buffer.from(encoded, 'base64').toString('utf8'),
          resourceVersion: secret.metadata?.resourceVersion ?? '',
        };
      } catch (error) {
        if (kubernetesStatus(error) === 404) return null;
        throw error;
      }
    },
  };
}

/**
 * Events as core/v1 Events (what `kubectl describe` and `kubectl get events` show). Events about
 * cluster-scoped resources go to the "default" namespace, as kubectl looks for them there.
 */
export function eventRecorder(
  kubeConfig: k8s.KubeConfig,
  component: string,
  options: { namespace?: string; nowMs?: () => number } = {},
): EventRecorder {
  const api = kubeConfig.makeApiClient(k8s.CoreV1Api);
  const namespace = options.namespace ?? 'default';
  const nowMs = options.nowMs ?? Date.now;
  return {
    record: async (event) => {
      const now = new Date(nowMs());
      await api.createNamespacedEvent({
        namespace,
        body: {
          metadata: { generateName: `${event.regarding.name}.` },
          involvedObject: {
            apiVersion: `${event.regarding.kind.group}/${event.regarding.kind.version}`,
            kind: event.regarding.kind.kind,
            name: event.regarding.name,
            uid: event.regarding.uid,
          },
          type: event.type,
          reason: event.reason,
          message: event.message.slice(0, 1024),
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
          source: { component },
          reportingComponent: component,
          reportingInstance: component,
        },
      });
    },
  };
}

export function leaseStore(kubeConfig: k8s.KubeConfig, namespace: string, name: string): LeaseStore {
  const api = kubeConfig.makeApiClient(k8s.CoordinationV1Api);
  const toRecord = (lease: k8s.V1Lease): LeaseRecord => ({
    holderIdentity: lease.spec?.holderIdentity ?? null,
    leaseDurationSeconds: lease.spec?.leaseDurationSeconds ?? 0,
    acquireTime: lease.spec?.acquireTime === undefined ? null : String(asIso(lease.spec.acquireTime)),
    renewTime: lease.spec?.renewTime === undefined ? null : String(asIso(lease.spec.renewTime)),
    leaseTransitions: lease.spec?.leaseTransitions ?? 0,
    resourceVersion: lease.metadata?.resourceVersion,
  });
  const toLease = (record: LeaseRecord): k8s.V1Lease => ({
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name, namespace, resourceVersion: record.resourceVersion },
    spec: {
      // An empty holder is how a released Lease reads (client-go writes "" too).
      holderIdentity: record.holderIdentity ?? '',
      leaseDurationSeconds: record.leaseDurationSeconds,
      acquireTime: microTime(record.acquireTime),
      renewTime: microTime(record.renewTime),
      leaseTransitions: record.leaseTransitions,
    },
  });
  return {
    get: async () => {
      try {
        return toRecord(await api.readNamespacedLease({ name, namespace }));
      } catch (error) {
        if (kubernetesStatus(error) === 404) return null;
        throw error;
      }
    },
    create: async (record) => toRecord(await api.createNamespacedLease({ namespace, body: toLease(record) })),
    replace: async (record) =>
      toRecord(await api.replaceNamespacedLease({ name, namespace, body: toLease(record) })),
  };
}

function asIso(value: unknown): string {
  return value instanceof Date ? value.toISOString() : String(value);
}

function microTime(value: string | null): k8s.V1MicroTime | undefined {
  // V1MicroTime serialises with the six fractional digits MicroTime requires.
  return value === null ? undefined : new k8s.V1MicroTime(Date.parse(value));
}

/** KUBECONFIG (or ~/.kube/config) when present, else the in-cluster service account. */
export function loadKubeConfig(): k8s.KubeConfig {
  const kubeConfig = new k8s.KubeConfig();
  if (process.env.KUBERNETES_SERVICE_HOST && !process.env.KUBECONFIG) kubeConfig.loadFromCluster();
  else kubeConfig.loadFromDefault();
  return kubeConfig;
}
