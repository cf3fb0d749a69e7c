// The operator's deployment manifests (operator/deploy) against a real kube-apiserver + etcd with
// RBAC on: the Namespaces and RBAC objects applied as they ship, the ServiceAccount's token made
// through the TokenRequest API, and the operator run with a kubeconfig holding that token alone
// (not the cluster-admin certificate). It must provision a Tenant and a Bucket on a real agent,
// and be refused what it has no business doing: least privilege, proven both ways.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ListBucketsCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import * as k8s from '@kubernetes/client-node';
import test from 'ava';
import { httpAgentAdmin } from '../../operator/controllers/agent-admin.ts';
import { createOperator } from '../../operator/controllers/operator.ts';
import { kubernetesStatus } from '../../operator/runtime/errors.ts';
import { type AgentProcess, repositoryRoot, startAgent } from '../support/agent-process.ts';
import { type KubeCluster, startKubeCluster } from '../support/kube-cluster.ts';
import {
  applyCrds,
  type CustomObjects,
  customObjects,
  declareTenant as declareTenantIn,
  rotateKeySecret,
  s3Client,
  waitFor,
  waitForReady,
} from './kube-fixtures.ts';

const adminKey = 'operator-rbac-admin-key-0123456789abcdef-xyz';
const deployDirectory = path.join(repositoryRoot, 'operator', 'deploy');
const operatorNamespace = 'coffre-system';
const tenantNamespace = 'coffre-tenants';
const serviceAccount = 'coffre-operator';
const tokenLifetimeSeconds = 3600;
/** Far longer than this test file runs: no periodic pass happens within it. */
const resyncBeyondTheTestMs = 30 * 60_000;

let cluster: KubeCluster;
let agent: AgentProcess;
let adminEndpoint: string;
/** cluster-admin: sets the scene and reads the results. */
let admin: k8s.KubeConfig;
/** The operator's ServiceAccount token, and nothing else. */
let operatorIdentity: k8s.KubeConfig;
let operatorToken: string;

function manifests(file: string): k8s.KubernetesObject[] {
  return k8s.loadAllYaml(readFileSync(path.join(deployDirectory, file), 'utf8')) as k8s.KubernetesObject[];
}

/** A kubeconfig for the same API server whose only credential is a bearer token. */
function tokenKubeConfig(token: string): k8s.KubeConfig {
  const cluster = admin.getCurrentCluster();
  if (cluster === null) throw new Error('the admin kubeconfig has no cluster');
  const config = new k8s.KubeConfig();
  config.loadFromOptions({
    clusters: [{ name: 'coffre-test', server: cluster.server, caData: cluster.caData }],
    users: [{ name: serviceAccount, token }],
    contexts: [{ name: 'operator', cluster: 'coffre-test', user: serviceAccount }],
    currentContext: 'operator',
  });
  return config;
}

function declareTenant(objects: CustomObjects, name: string, accessKeyId: string, secretAccessKey: string) {
  return declareTenantIn(admin.makeApiClient(k8s.CoreV1Api), objects, {
    name,
    namespace: tenantNamespace,
    accessKeyId,
    secretAccessKey,
  });
}

/** The HTTP status the API server answered a refused call with. */
async function refusal(call: () => Promise<unknown>): Promise<number | undefined> {
  try {
    await call();
  } catch (error) {
    return kubernetesStatus(error);
  }
  return 200;
}

test.before(async () => {
  agent = await startAgent({ arguments: ['--admin-port', '0'], environment: { COFFRE_ADMIN_KEY: adminKey } });
  cluster = await startKubeCluster();
  const match = /admin API:\s+(\S+)/.exec(agent.output());
  if (!match) throw new Error(`no admin API line in:\n${agent.output()}`);
  adminEndpoint = match[1];
  admin = cluster.kubeConfig();
  await applyCrds(admin);
  const objects = k8s.KubernetesObjectApi.makeApiClient(admin);
  for (const manifest of [...manifests('namespace.yaml'), ...manifests('rbac.yaml')])
    await objects.create(manifest);
  const token = await admin.makeApiClient(k8s.CoreV1Api).createNamespacedServiceAccountToken({
    name: serviceAccount,
    namespace: operatorNamespace,
    body: { spec: { audiences: [], expirationSeconds: tokenLifetimeSeconds } },
  });
  if (!token.status?.token) throw new Error('TokenRequest returned no token');
  operatorToken = token.status.token;
  operatorIdentity = tokenKubeConfig(operatorToken);
});

test.after.always(async () => {
  await agent?.destroy();
  await cluster?.stop();
});

test.serial(
  'deploy: the Deployment manifest passes the API server validation (dryRun=All) with 2 non-root replicas and a read-only root',
  async (t) => {
    const [deployment, ...others] = manifests('deployment.yaml') as k8s.V1Deployment[];
    t.is(others.length, 0);
    const validated = (await k8s.KubernetesObjectApi.makeApiClient(admin).create(
      deployment,
      undefined,
      'All',
    )) as k8s.V1Deployment;
    t.is(validated.spec?.replicas, 2);
    const pod = validated.spec?.template.spec;
    t.is(pod?.serviceAccountName, serviceAccount);
    t.true(pod?.securityContext?.runAsNonRoot);
    const container = pod?.containers[0];
    t.true(container?.securityContext?.readOnlyRootFilesystem);
    t.false(container?.securityContext?.allowPrivilegeEscalation);
    const keyVolume = pod?.volumes?.find((volume) => volume.secret !== undefined);
    t.is(keyVolume?.secret?.secretName, 'coffre-operator-admin');
    t.true(container?.args?.some((argument) => argument.startsWith('--admin-key-file=/etc/coffre/admin/')));
    const notStored = await refusal(() =>
      admin.makeApiClient(k8s.AppsV1Api).readNamespacedDeployment({
        name: 'coffre-operator',
        namespace: operatorNamespace,
      }),
    );
    t.is(notStored, 404, 'a dry run stores nothing');
  },
);

test.serial(
  'rbac: the operator running on its ServiceAccount token alone makes a Tenant and a Bucket Ready on the agent, under its Lease, with its Events',
  async (t) => {
    const objects = customObjects(admin);
    const accessKeyId = 'RBACOPERATORKEY001';
    const secretAccessKey = 'rbac-operator-secret-0123456789abcdef';
    const operator = createOperator({
      kubeConfig: operatorIdentity,
      admin: httpAgentAdmin(adminEndpoint, adminKey),
      leaderElection: { namespace: operatorNamespace, leaseName: 'coffre-operator', identity: 'rbac-test' },
      log: (line) => t.log(line),
    });
    t.teardown(() => operator.stop());
    await operator.start();
    await waitFor('the operator to lead', async () => operator.manager.isLeader);
    await declareTenant(objects, 'rbac-acme', accessKeyId, secretAccessKey);
    await objects.create('buckets', {
      apiVersion: 'coffre.infofy.fr/v1alpha1',
      kind: 'Bucket',
      metadata: { name: 'rbac-acme-backups' },
      spec: { tenantRef: { name: 'rbac-acme' }, name: 'backups', versioning: 'Enabled', objectLock: true },
    });
    const tenant = await waitForReady(objects, 'tenants', 'rbac-acme');
    await waitForReady(objects, 'buckets', 'rbac-acme-backups');
    t.deepEqual(tenant.metadata.finalizers, ['coffre.infofy.fr/agents'], 'the finalizer was patched in');

    const client = s3(accessKeyId, secretAccessKey);
    t.deepEqual(
      (await client.send(new ListBucketsCommand({}))).Buckets?.map((bucket) => bucket.Name),
      ['backups'],
    );
    await client.send(new PutObjectCommand({ Bucket: 'backups', Key: 'disk.img', Body: 'restore me' }));

    const lease = await admin
      .makeApiClient(k8s.CoordinationV1Api)
      .readNamespacedLease({ name: 'coffre-operator', namespace: operatorNamespace });
    t.is(lease.spec?.holderIdentity, 'rbac-test');
    // The Event follows the status write: wait for it.
    const provisioned = await waitFor('the Provisioned Event', async () => {
      const events = await admin.makeApiClient(k8s.CoreV1Api).listNamespacedEvent({ namespace: 'default' });
      return events.items.find(
        (event) => event.involvedObject.name === 'rbac-acme' && event.reason === 'Provisioned',
      );
    });
    t.is(provisioned.involvedObject.kind, 'Tenant');
  },
);

test.serial(
  'rbac: the operator identity may not delete or change a Secret, read one outside coffre-tenants, delete a Tenant or change its spec',
  async (t) => {
    const core = operatorIdentity.makeApiClient(k8s.CoreV1Api);
    const objects = customObjects(operatorIdentity);
    await admin.makeApiClient(k8s.CoreV1Api).createNamespacedSecret({
      namespace: 'default',
      body: { metadata: { name: 'someone-else' }, stringData: { password: 'not-for-the-operator' } },
    });
    await declareTenant(
      customObjects(admin),
      'rbac-guarded',
      'RBACGUARDEDKEY0001',
      'rbac-guarded-secret-0123456789ab',
    );
    const secret = { name: 'rbac-guarded-keys', namespace: tenantNamespace };

    t.is((await core.readNamespacedSecret(secret)).metadata?.name, 'rbac-guarded-keys', 'it may read one');
    t.is(await refusal(() => core.deleteNamespacedSecret(secret)), 403);
    t.is(
      await refusal(() =>
        core.replaceNamespacedSecret({
          ...secret,
          body: {
            metadata: { name: secret.name },
            stringData: { secretAccessKey: 'stolen-0123456789abcdef' },
          },
        }),
      ),
      403,
    );
    t.is(
      await refusal(() =>
        core.createNamespacedSecret({ namespace: tenantNamespace, body: { metadata: { name: 'planted' } } }),
      ),
      403,
    );
    t.is(await refusal(() => core.readNamespacedSecret({ name: 'someone-else', namespace: 'default' })), 403);
    t.is(await refusal(() => objects.delete('tenants', 'rbac-guarded')), 403);
    t.is(await refusal(() => objects.delete('buckets', 'rbac-acme-backups')), 403);
    t.is(
      await refusal(() =>
        operatorIdentity.makeApiClient(k8s.CustomObjectsApi).replaceClusterCustomObject({
          group: 'coffre.infofy.fr',
          version: 'v1alpha1',
          plural: 'tenants',
          name: 'rbac-guarded',
          body: {
            apiVersion: 'coffre.infofy.fr/v1alpha1',
            kind: 'Tenant',
            metadata: { name: 'rbac-guarded' },
          },
        }),
      ),
      403,
    );
    t.is(
      await refusal(() => objects.patch('buckets', 'rbac-acme-backups', { metadata: { finalizers: ['x'] } })),
      403,
    );
    t.is(
      await refusal(() =>
        core.createNamespacedEvent({
          namespace: tenantNamespace,
          body: { metadata: { name: 'elsewhere' }, involvedObject: { name: 'x' } },
        }),
      ),
      403,
    );
    t.not(await customObjects(admin).get('tenants', 'rbac-guarded'), null, 'the Tenant is still there');
  },
);

test.serial(
  'secret watch: a rotated key Secret in a watched namespace is pushed to the agent at once, long before any resync',
  async (t) => {
    const objects = customObjects(admin);
    const accessKeyId = 'RBACROTATEDKEY0001';
    const firstSecret = 'rbac-rotate-first-secret-0123456789';
    const operator = createOperator({
      kubeConfig: operatorIdentity,
      admin: httpAgentAdmin(adminEndpoint, adminKey),
      leaderElection: null,
      secretNamespaces: [tenantNamespace],
      // No periodic pass within the test: only the Secret watch can bring the rotated key.
      resyncIntervalMs: resyncBeyondTheTestMs,
      log: (line) => t.log(line),
    });
    t.teardown(() => operator.stop());
    await operator.start();
    await declareTenant(objects, 'rbac-rotate', accessKeyId, firstSecret);
    await waitForReady(objects, 'tenants', 'rbac-rotate');
    await s3(accessKeyId, firstSecret).send(new ListBucketsCommand({}));

    const rotatedSecret = 'rbac-rotate-second-secret-012345678';
    await rotateKeySecret(
      admin.makeApiClient(k8s.CoreV1Api),
      { namespace: tenantNamespace, name: 'rbac-rotate-keys', endpoint: agent.endpoint, accessKeyId },
      rotatedSecret,
    );
    await t.throwsAsync(s3(accessKeyId, firstSecret).send(new ListBucketsCommand({})));
  },
);

test.serial(
  "deploy: operator/main.ts run with the Deployment's own arguments and the ServiceAccount token alone provisions a Tenant, then exits 0 on SIGTERM",
  async (t) => {
    const [deployment] = manifests('deployment.yaml') as k8s.V1Deployment[];
    const container = deployment.spec!.template.spec!.containers[0];
    const directory = mkdtempSync(path.join(os.tmpdir(), 'coffre-operator-rbac-'));
    t.teardown(() => rmSync(directory, { recursive: true, force: true }));
    const keyFile = path.join(directory, 'admin.key');
    writeFileSync(keyFile, `${adminKey}\n`, { mode: 0o600 });
    const kubeconfigPath = path.join(directory, 'kubeconfig');
    writeFileSync(kubeconfigPath, operatorIdentity.exportConfig(), { mode: 0o600 });
    t.false(readFileSync(kubeconfigPath, 'utf8').includes('client-key'), 'no client certificate, a token');
    // The container's arguments as shipped, only the mounted key file's path moved to this test's.
    const args = (container.args ?? []).map((argument) =>
      argument.startsWith('--admin-key-file=') ? `--admin-key-file=${keyFile}` : argument,
    );
    t.true(args.includes(`--secret-namespace=${tenantNamespace}`));
    const child = spawn(process.execPath, [path.join(repositoryRoot, 'operator', 'main.ts'), ...args], {
      cwd: repositoryRoot,
      env: {
        PATH: process.env.PATH,
        KUBECONFIG: kubeconfigPath,
        COFFRE_ADMIN_ENDPOINT: adminEndpoint,
        POD_NAMESPACE: operatorNamespace,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const keep = (chunk: Buffer) => {
      output += chunk.toString('utf8');
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    t.teardown(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    const objects = customObjects(admin);
    await declareTenant(objects, 'rbac-main', 'RBACMAINKEY0000001', 'rbac-main-secret-0123456789abcdef');
    await waitForReady(objects, 'tenants', 'rbac-main').catch((error: unknown) => {
      throw new Error(`${String(error)}\noperator output:\n${output}`);
    });
    await s3('RBACMAINKEY0000001', 'rbac-main-secret-0123456789abcdef').send(new ListBucketsCommand({}));
    child.kill('SIGTERM');
    t.is(await exited, 0, output);
    t.notRegex(output, /forbidden/i, 'no call was refused');
  },
);

function s3(accessKeyId: string, secretAccessKey: string): S3Client {
  return s3Client(agent.endpoint, accessKeyId, secretAccessKey);
}
