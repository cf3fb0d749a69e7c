// Helpers for the operator's end-to-end tests against a real kube-apiserver: apply the CRDs of
// operator/crds, create resources, and wait for a condition with a generous timeout.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import * as k8s from '@kubernetes/client-node';
import { group, version } from '../../operator/controllers/kinds.ts';
import { repositoryRoot } from '../support/agent-process.ts';

import { tenantContract } from './fixtures.ts';

export { tenantContract };

export const crdDirectory = path.join(repositoryRoot, 'operator', 'crds');
const pollIntervalMs = 200;

export async function waitFor<Value>(
  what: string,
  probe: () => Promise<Value | undefined | null | false>,
  timeoutMs = 90_000,
): Promise<Value> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined && value !== null && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    await delay(pollIntervalMs);
  }
  throw new Error(`timed out waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
}

/** Creates every CRD in operator/crds and waits until the API server serves each one. */
export async function applyCrds(kubeConfig: k8s.KubeConfig): Promise<string[]> {
  const api = kubeConfig.makeApiClient(k8s.ApiextensionsV1Api);
  const names: string[] = [];
  for (const file of readdirSync(crdDirectory)
    .filter((name) => name.endsWith('.yaml'))
    .sort()) {
    // loadYaml maps the manifest onto the client's typed model (x-kubernetes-validations ->
    // xKubernetesValidations, enum -> _enum); a plain parse would be sent without those fields.
    const body = k8s.loadYaml<k8s.V1CustomResourceDefinition>(
      readFileSync(path.join(crdDirectory, file), 'utf8'),
    );
    await api.createCustomResourceDefinition({ body });
    names.push(body.metadata!.name!);
  }
  for (const name of names) {
    await waitFor(`CRD ${name} established`, async () => {
      const crd = await api.readCustomResourceDefinition({ name });
      return crd.status?.conditions?.some(
        (condition) => condition.type === 'Established' && condition.status === 'True',
      );
    });
  }
  return names;
}

export function customObjects(kubeConfig: k8s.KubeConfig) {
  const api = kubeConfig.makeApiClient(k8s.CustomObjectsApi);
  return {
    create: (plural: string, body: object) => api.createClusterCustomObject({ group, version, plural, body }),
    get: async (plural: string, name: string) => {
      try {
        return (await api.getClusterCustomObject({ group, version, plural, name })) as {
          metadata: k8s.V1ObjectMeta;
          status?: {
            conditions?: { type: string; status: string; reason: string; message: string }[];
          } & Record<string, unknown>;
        };
      } catch (error) {
        if ((error as { code?: number }).code === 404) return null;
        throw error;
      }
    },
    delete: (plural: string, name: string) => api.deleteClusterCustomObject({ group, version, plural, name }),
    /** A JSON merge patch of the resource (what `kubectl patch --type merge` sends). */
    patch: (plural: string, name: string, body: object) =>
      api.patchClusterCustomObject(
        { group, version, plural, name, body },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
      ),
  };
}

export type CustomObjects = ReturnType<typeof customObjects>;

/** Waits until the resource's Ready condition has `status` (and `reason`, when given). */
export async function waitForReady(
  objects: CustomObjects,
  plural: string,
  name: string,
  expected: { status: 'True' | 'False'; reason?: string } = { status: 'True' },
) {
  return waitFor(
    `${plural}/${name} Ready=${expected.status}${expected.reason ? ` (${expected.reason})` : ''}`,
    async () => {
      const object = await objects.get(plural, name);
      const ready = object?.status?.conditions?.find((condition) => condition.type === 'Ready');
      if (
        ready?.status === expected.status &&
        (expected.reason === undefined || ready.reason === expected.reason)
      )
        return object;
      return undefined;
    },
  );
}

/** A real S3 client for one key, path-style, no retries (a refusal must show at once). */
export function s3Client(endpoint: string, accessKeyId: string, secretAccessKey: string): S3Client {
  return new S3Client({
    endpoint,
    region: 'fr-par',
    forcePathStyle: true,
    credentials: { accessKeyId, secretAccessKey },
    maxAttempts: 1,
  });
}

/**
 * Rotates the key Secret `name` to `rotatedSecret`, then waits until the new secret works over S3;
 * the old one must then be refused.
 */
export async function rotateKeySecret(
  core: k8s.CoreV1Api,
  target: { namespace: string; name: string; endpoint: string; accessKeyId: string },
  rotatedSecret: string,
): Promise<void> {
  await core.replaceNamespacedSecret({
    name: target.name,
    namespace: target.namespace,
    body: { metadata: { name: target.name }, stringData: { secretAccessKey: rotatedSecret } },
  });
  await waitFor('the rotated secret to work', async () => {
    await s3Client(target.endpoint, target.accessKeyId, rotatedSecret).send(new ListBucketsCommand({}));
    return true;
  });
}

/**
 * A Secret `<name>-keys` holding the key's secret in `namespace`, and a Tenant `name` whose one
 * access key references it (a contract numbered from the name; a quota when given).
 */
export async function declareTenant(
  core: k8s.CoreV1Api,
  objects: CustomObjects,
  tenant: {
    name: string;
    namespace: string;
    accessKeyId: string;
    secretAccessKey: string;
    displayName?: string;
    quotaBytes?: number;
  },
): Promise<void> {
  const { name, namespace, accessKeyId, secretAccessKey } = tenant;
  await core.createNamespacedSecret({
    namespace,
    body: { metadata: { name: `${name}-keys` }, stringData: { secretAccessKey } },
  });
  await objects.create('tenants', {
    apiVersion: 'coffre.infofy.fr/v1alpha1',
    kind: 'Tenant',
    metadata: { name },
    spec: {
      displayName: tenant.displayName ?? name,
      ...(tenant.quotaBytes === undefined ? {} : { quotaBytes: tenant.quotaBytes }),
      contract: tenantContract(`CSI-2026-${name.toUpperCase()}`),
      accessKeys: [{ accessKeyId, role: 'full', secretRef: { namespace, name: `${name}-keys` } }],
    },
  });
}
