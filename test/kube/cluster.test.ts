// The operator's test control plane, proven against what the operator relies on: CRDs served with
// their OpenAPI schema enforced, optimistic concurrency on resourceVersion (leader election's
// Lease), watches, namespaces without a controller-manager, and RBAC authorization.
import { setTimeout as delay } from 'node:timers/promises';
import * as k8s from '@kubernetes/client-node';
import anyTest, { type TestFn } from 'ava';
import { type KubeCluster, startKubeCluster } from '../support/kube-cluster.ts';

const test = anyTest as TestFn<{ cluster: KubeCluster }>;

test.before(async (t) => {
  t.context.cluster = await startKubeCluster();
});

test.after.always(async (t) => {
  await t.context.cluster?.stop();
});

const group = 'harness.coffre.test';
const version = 'v1';
const plural = 'widgets';

const widgetDefinition: k8s.V1CustomResourceDefinition = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `${plural}.${group}` },
  spec: {
    group,
    scope: 'Namespaced',
    names: { plural, singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
    versions: [
      {
        name: version,
        served: true,
        storage: true,
        subresources: { status: {} },
        schema: {
          openAPIV3Schema: {
            type: 'object',
            required: ['spec'],
            properties: {
              spec: {
                type: 'object',
                required: ['replicas', 'colour'],
                properties: {
                  replicas: { type: 'integer', minimum: 1, maximum: 5 },
                  colour: { type: 'string', _enum: ['red', 'blue'] },
                },
              },
              status: { type: 'object', properties: { ready: { type: 'boolean' } } },
            },
          },
        },
      },
    ],
  },
};

/** The HTTP status and the Kubernetes Status message of a failed client-node call. */
function failureOf(error: unknown): { code: number; message: string } {
  if (!(error instanceof k8s.ApiException)) throw error;
  const body: unknown = typeof error.body === 'string' ? JSON.parse(error.body) : error.body;
  return { code: error.code, message: (body as { message?: string }).message ?? '' };
}

async function rejectionOf(call: Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    await call;
  } catch (error) {
    return failureOf(error);
  }
  throw new Error('the apiserver accepted a request that it should have refused');
}

/** A new CRD is Established asynchronously, and its REST endpoint appears in discovery a little later. */
async function waitUntilServed(config: k8s.KubeConfig, namespace: string): Promise<void> {
  const extensions = config.makeApiClient(k8s.ApiextensionsV1Api);
  const custom = config.makeApiClient(k8s.CustomObjectsApi);
  for (let attempt = 0; attempt < 300; attempt += 1) {
    const definition = await extensions.readCustomResourceDefinition({ name: `${plural}.${group}` });
    const established = definition.status?.conditions?.some(
      (condition) => condition.type === 'Established' && condition.status === 'True',
    );
    if (established) {
      const listed = await custom
        .listNamespacedCustomObject({ group, version, namespace, plural })
        .then(() => true)
        .catch(() => false);
      if (listed) return;
    }
    await delay(100);
  }
  throw new Error(`${plural}.${group} was not served within 30 s`);
}

test.serial(
  'a CustomResourceDefinition applied to the real apiserver is served and its OpenAPI schema rejects an invalid object',
  async (t) => {
    const config = t.context.cluster.kubeConfig();
    const extensions = config.makeApiClient(k8s.ApiextensionsV1Api);
    const custom = config.makeApiClient(k8s.CustomObjectsApi);
    await extensions.createCustomResourceDefinition({ body: widgetDefinition });
    await waitUntilServed(config, 'default');

    const created = await custom.createNamespacedCustomObject({
      group,
      version,
      namespace: 'default',
      plural,
      body: {
        apiVersion: `${group}/${version}`,
        kind: 'Widget',
        metadata: { name: 'valid' },
        spec: { replicas: 3, colour: 'blue', unknownField: 'pruned' },
      },
    });
    t.truthy(created.metadata.uid);
    const read = await custom.getNamespacedCustomObject({
      group,
      version,
      namespace: 'default',
      plural,
      name: 'valid',
    });
    // A structural schema prunes fields it does not declare before the object is stored.
    t.deepEqual(read.spec, { replicas: 3, colour: 'blue' });

    const refused = await rejectionOf(
      custom.createNamespacedCustomObject({
        group,
        version,
        namespace: 'default',
        plural,
        body: {
          apiVersion: `${group}/${version}`,
          kind: 'Widget',
          metadata: { name: 'invalid' },
          spec: { replicas: 9, colour: 'green' },
        },
      }),
    );
    t.is(refused.code, 422);
    t.regex(refused.message, /spec\.replicas/);
    t.regex(refused.message, /spec\.colour/);
    const missing = await rejectionOf(
      custom.getNamespacedCustomObject({ group, version, namespace: 'default', plural, name: 'invalid' }),
    );
    t.is(missing.code, 404);
  },
);

test.serial(
  'a Lease can be created and updated, and an update carrying a stale resourceVersion is refused with 409 Conflict',
  async (t) => {
    const coordination = t.context.cluster.kubeConfig().makeApiClient(k8s.CoordinationV1Api);
    const namespace = 'default';
    const created = await coordination.createNamespacedLease({
      namespace,
      body: {
        metadata: { name: 'coffre-operator-test' },
        spec: { holderIdentity: 'replica-a', leaseDurationSeconds: 15, acquireTime: new k8s.V1MicroTime() },
      },
    });
    const staleVersion = created.metadata?.resourceVersion;
    t.truthy(staleVersion);

    const renewed = await coordination.replaceNamespacedLease({
      name: 'coffre-operator-test',
      namespace,
      body: { ...created, spec: { ...created.spec, holderIdentity: 'replica-b' } },
    });
    t.is(renewed.spec?.holderIdentity, 'replica-b');
    t.not(renewed.metadata?.resourceVersion, staleVersion);

    // A second contender that read the Lease before replica-b took it must lose, not overwrite.
    const conflict = await rejectionOf(
      coordination.replaceNamespacedLease({
        name: 'coffre-operator-test',
        namespace,
        body: { ...created, spec: { ...created.spec, holderIdentity: 'replica-c' } },
      }),
    );
    t.is(conflict.code, 409);
    const current = await coordination.readNamespacedLease({ name: 'coffre-operator-test', namespace });
    t.is(current.spec?.holderIdentity, 'replica-b');
  },
);

test.serial(
  'a namespace is usable without a controller-manager and a watch on it sees a ConfigMap being added',
  async (t) => {
    const config = t.context.cluster.kubeConfig();
    const core = config.makeApiClient(k8s.CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: 'coffre-watch' } } });
    // Watching from the list's resourceVersion delivers every change after it, however late the
    // watch connection is established: the informer contract the operator's runtime relies on.
    const listed = await core.listNamespacedConfigMap({ namespace: 'coffre-watch' });
    let stopWatching: AbortController | undefined;
    const seen = new Promise<{ phase: string; name: string }>((resolve, reject) => {
      new k8s.Watch(config)
        .watch(
          '/api/v1/namespaces/coffre-watch/configmaps',
          { resourceVersion: listed.metadata?.resourceVersion },
          (phase, object: k8s.V1ConfigMap) => {
            if (object.metadata?.name === 'watched') resolve({ phase, name: object.metadata.name });
          },
          (error) => reject(error ?? new Error('the watch ended before the ConfigMap was seen')),
        )
        .then((controller) => {
          stopWatching = controller;
        }, reject);
    });
    await core.createNamespacedConfigMap({
      namespace: 'coffre-watch',
      body: { metadata: { name: 'watched' }, data: { key: 'value' } },
    });
    t.deepEqual(await seen, { phase: 'ADDED', name: 'watched' });
    stopWatching?.abort();
  },
);

test.serial(
  'RBAC is enforced: an ordinary user may not create Leases while system:masters may',
  async (t) => {
    const authorization = t.context.cluster.kubeConfig().makeApiClient(k8s.AuthorizationV1Api);
    const review = async (user: string, groups: string[]): Promise<boolean | undefined> => {
      const answer = await authorization.createSubjectAccessReview({
        body: {
          spec: {
            user,
            groups,
            resourceAttributes: {
              verb: 'create',
              group: 'coordination.k8s.io',
              resource: 'leases',
              namespace: 'default',
            },
          },
        },
      });
      return answer.status?.allowed;
    };
    t.false(await review('someone', ['system:authenticated']));
    t.true(await review('coffre-test-admin', ['system:masters']));
  },
);
