// The operator end to end: a real kube-apiserver + etcd (startKubeCluster), the real agent with
// its admin API, the CRDs of operator/crds applied, and the operator run in-process and as
// `node operator/main.ts`. What a platform engineer declares is checked the way a customer would
// see it: through the AWS SDK with the tenant's own key.
import { spawn } from 'node:child_process';
import {
  GetBucketVersioningCommand,
  GetObjectLockConfigurationCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import * as k8s from '@kubernetes/client-node';
import test, { type ExecutionContext } from 'ava';
import { type AgentAdmin, httpAgentAdmin } from '../../operator/controllers/agent-admin.ts';
import { createOperator, type Operator } from '../../operator/controllers/operator.ts';
import { type AgentProcess, repositoryRoot, startAgent } from '../support/agent-process.ts';
import { type KubeCluster, startKubeCluster } from '../support/kube-cluster.ts';
import {
  applyCrds,
  type CustomObjects,
  customObjects,
  declareTenant as declareTenantIn,
  rotateKeySecret,
  s3Client,
  tenantContract,
  waitFor,
  waitForReady,
} from './kube-fixtures.ts';

const adminKey = 'operator-e2e-admin-key-0123456789abcdef-xyz';
let cluster: KubeCluster;
let agent: AgentProcess;
let adminEndpoint: string;
let kubeConfig: k8s.KubeConfig;
let objects: CustomObjects;
let core: k8s.CoreV1Api;

const tenantNamespace = 'tenants';

/** A Secret holding the key's secret, and a Tenant that references it. */
function declareTenant(name: string, accessKeyId: string, secretAccessKey: string) {
  return declareTenantIn(core, objects, {
    name,
    namespace: tenantNamespace,
    accessKeyId,
    secretAccessKey,
    displayName: `${name} backups`,
    quotaBytes: 10_000_000_000,
  });
}

/** A single operator (no leader election) against the test's cluster and agent, stopped after the test. */
async function startOperator(
  t: ExecutionContext,
  options: { resyncIntervalMs?: number } = {},
): Promise<void> {
  const operator = createOperator({
    kubeConfig,
    admin: httpAgentAdmin(adminEndpoint, adminKey),
    leaderElection: null,
    ...options,
    log: (line) => t.log(line),
  });
  t.teardown(() => operator.stop());
  await operator.start();
}

/** An admin client that counts the PUTs it sends: which operator instance acted. */
function countingAdmin(): { admin: AgentAdmin; puts: () => number } {
  const inner = httpAgentAdmin(adminEndpoint, adminKey);
  let puts = 0;
  const counted =
    <Arguments extends unknown[], Result>(call: (...args: Arguments) => Promise<Result>) =>
    (...args: Arguments) => {
      puts += 1;
      return call(...args);
    };
  return {
    admin: {
      ...inner,
      putTenant: counted(inner.putTenant),
      putKey: counted(inner.putKey),
      putBucket: counted(inner.putBucket),
    },
    puts: () => puts,
  };
}

test.before(async () => {
  // One after the other, so that a failure of either leaves nothing running that after.always
  // cannot stop.
  agent = await startAgent({ arguments: ['--admin-port', '0'], environment: { COFFRE_ADMIN_KEY: adminKey } });
  cluster = await startKubeCluster();
  const match = /admin API:\s+(\S+)/.exec(agent.output());
  if (!match) throw new Error(`no admin API line in:\n${agent.output()}`);
  adminEndpoint = match[1];
  kubeConfig = cluster.kubeConfig();
  objects = customObjects(kubeConfig);
  core = kubeConfig.makeApiClient(k8s.CoreV1Api);
  await applyCrds(kubeConfig);
  await core.createNamespace({ body: { metadata: { name: tenantNamespace } } });
});

test.after.always(async () => {
  await agent?.destroy();
  await cluster?.stop();
});

test.serial(
  'CRDs: the API server refuses a contract number that is not CSI-…, a retention with days and years or an unknown mode, and Object Lock without versioning',
  async (t) => {
    const tenantError = await t.throwsAsync(
      objects.create('tenants', {
        apiVersion: 'coffre.infofy.fr/v1alpha1',
        kind: 'Tenant',
        metadata: { name: 'bad-contract' },
        spec: { displayName: 'Bad', contract: tenantContract('ORDER-42') },
      }),
    );
    t.regex(String(tenantError?.message), /contractNumber/);
    const policyError = await t.throwsAsync(
      objects.create('retentionpolicies', {
        apiVersion: 'coffre.infofy.fr/v1alpha1',
        kind: 'RetentionPolicy',
        metadata: { name: 'both' },
        spec: { bucketRef: { name: 'some-bucket' }, mode: 'COMPLIANCE', days: 1, years: 1 },
      }),
    );
    t.regex(String(policyError?.message), /exactly one of days and years/);
    const modeError = await t.throwsAsync(
      objects.create('retentionpolicies', {
        apiVersion: 'coffre.infofy.fr/v1alpha1',
        kind: 'RetentionPolicy',
        metadata: { name: 'lenient' },
        spec: { bucketRef: { name: 'some-bucket' }, mode: 'LENIENT', days: 1 },
      }),
    );
    t.regex(String(modeError?.message), /mode/);
    const bucketError = await t.throwsAsync(
      objects.create('buckets', {
        apiVersion: 'coffre.infofy.fr/v1alpha1',
        kind: 'Bucket',
        metadata: { name: 'suspended-lock' },
        spec: { tenantRef: { name: 'acme' }, versioning: 'Suspended', objectLock: true },
      }),
    );
    t.regex(String(bucketError?.message), /Object Lock needs versioning Enabled/);
  },
);

test.serial(
  'operator: a Tenant, a locked Bucket and a RetentionPolicy become Ready; the tenant key works over S3 and a PUT gets the default retention',
  async (t) => {
    const accessKeyId = 'ACMEOPERATORKEY001';
    const secretAccessKey = 'acme-operator-secret-0123456789abcdef';
    await startOperator(t);
    await declareTenant('acme', accessKeyId, secretAccessKey);
    await objects.create('buckets', {
      apiVersion: 'coffre.infofy.fr/v1alpha1',
      kind: 'Bucket',
      metadata: { name: 'acme-veeam' },
      spec: { tenantRef: { name: 'acme' }, versioning: 'Enabled', objectLock: true },
    });
    await objects.create('retentionpolicies', {
      apiVersion: 'coffre.infofy.fr/v1alpha1',
      kind: 'RetentionPolicy',
      metadata: { name: 'acme-veeam-default' },
      spec: { bucketRef: { name: 'acme-veeam' }, mode: 'COMPLIANCE', days: 1 },
    });
    const tenant = await waitForReady(objects, 'tenants', 'acme');
    const bucket = await waitForReady(objects, 'buckets', 'acme-veeam');
    const policy = await waitForReady(objects, 'retentionpolicies', 'acme-veeam-default');
    t.deepEqual(tenant.metadata.finalizers, ['coffre.infofy.fr/agents']);
    t.like(bucket.status, { versioning: 'Enabled', objectLockEnabled: true });
    t.like(policy.status, { appliedRetention: { mode: 'COMPLIANCE', days: 1 } });
    // The CRD's transition rules: Object Lock stays on and a bucket keeps its tenant.
    const unlock = await t.throwsAsync(
      objects.patch('buckets', 'acme-veeam', { spec: { objectLock: false } }),
    );
    t.regex(String(unlock?.message), /Object Lock cannot be turned off once on/);
    const move = await t.throwsAsync(
      objects.patch('buckets', 'acme-veeam', { spec: { tenantRef: { name: 'globex' } } }),
    );
    t.regex(String(move?.message), /a bucket cannot change tenant/);
    const ready = tenant.status?.conditions?.find((condition) => condition.type === 'Ready');
    t.like(ready, { reason: 'Provisioned' });
    t.true(!JSON.stringify(tenant).includes(secretAccessKey), 'the secret never appears in the Tenant');

    const client = s3(accessKeyId, secretAccessKey);
    const listed = await client.send(new ListBucketsCommand({}));
    t.deepEqual(
      listed.Buckets?.map((entry) => entry.Name),
      ['acme-veeam'],
    );
    const versioning = await client.send(new GetBucketVersioningCommand({ Bucket: 'acme-veeam' }));
    t.is(versioning.Status, 'Enabled');
    const lock = await client.send(new GetObjectLockConfigurationCommand({ Bucket: 'acme-veeam' }));
    t.is(lock.ObjectLockConfiguration?.ObjectLockEnabled, 'Enabled');
    t.deepEqual(lock.ObjectLockConfiguration?.Rule?.DefaultRetention, { Mode: 'COMPLIANCE', Days: 1 });
    const beforePutMs = Date.now();
    const put = await client.send(
      new PutObjectCommand({ Bucket: 'acme-veeam', Key: 'backup-1.vbk', Body: 'restore me' }),
    );
    const head = await client.send(
      new HeadObjectCommand({ Bucket: 'acme-veeam', Key: 'backup-1.vbk', VersionId: put.VersionId }),
    );
    t.is(head.ObjectLockMode, 'COMPLIANCE');
    const retainUntilMs = head.ObjectLockRetainUntilDate!.getTime();
    const dayMs = 24 * 60 * 60 * 1000;
    t.true(retainUntilMs >= beforePutMs + dayMs - 1000 && retainUntilMs <= Date.now() + dayMs + 1000);

    const events = await core.listNamespacedEvent({ namespace: 'default' });
    const reasons = events.items
      .filter((event) => event.involvedObject.name === 'acme' && event.involvedObject.kind === 'Tenant')
      .map((event) => `${event.type}/${event.reason}`);
    t.true(reasons.includes('Normal/Provisioned'), reasons.join(', '));
  },
);

test.serial(
  'operator: a second tenant gets its own bucket of the same name; deleting that Tenant waits while a Bucket names it, then disables its key; the bucket and its locked version stay',
  async (t) => {
    const accessKeyId = 'GLOBEXOPERATORKEY1';
    const secretAccessKey = 'globex-operator-secret-0123456789abcd';
    await startOperator(t);
    await declareTenant('globex', accessKeyId, secretAccessKey);
    await objects.create('buckets', {
      apiVersion: 'coffre.infofy.fr/v1alpha1',
      kind: 'Bucket',
      metadata: { name: 'globex-archive' },
      // The same S3 name as acme's bucket: bucket names are per tenant.
      spec: { tenantRef: { name: 'globex' }, name: 'acme-veeam', objectLock: true },
    });
    await waitForReady(objects, 'buckets', 'globex-archive');
    const client = s3(accessKeyId, secretAccessKey);
    await client.send(
      new PutObjectCommand({
        Bucket: 'acme-veeam',
        Key: 'ledger.db',
        Body: 'locked',
        ObjectLockMode: 'COMPLIANCE',
        ObjectLockRetainUntilDate: new Date(Date.now() + 3_600_000),
      }),
    );
    await objects.delete('tenants', 'globex');
    const blocked = await waitForReady(objects, 'tenants', 'globex', {
      status: 'False',
      reason: 'DeletionBlocked',
    });
    t.truthy(blocked.metadata.deletionTimestamp);
    t.is(
      (await client.send(new ListBucketsCommand({}))).Buckets?.length,
      1,
      'the key still works while blocked',
    );

    await objects.delete('buckets', 'globex-archive');
    await waitFor('the Tenant to be gone', async () => (await objects.get('tenants', 'globex')) === null);
    const refused = await t.throwsAsync(client.send(new ListBucketsCommand({})));
    t.truthy(refused);
    const onAgent = await httpAgentAdmin(adminEndpoint, adminKey).getBucket('globex', 'acme-veeam');
    t.like(onAgent, { tenantId: 'globex', objectLockEnabled: true });
    t.true((onAgent?.usage.storedBytes ?? 0) > 0, 'the locked version is still stored');
  },
);

test.serial(
  'operator: the Tenant status shows the bytes stored and the billed To; a rotated Secret replaces the key on the agent',
  async (t) => {
    const accessKeyId = 'WAYNEOPERATORKEY01';
    const firstSecret = 'wayne-first-secret-0123456789abcdef';
    // Resync often, so that the usage and the Secret are read again within the test.
    await startOperator(t, { resyncIntervalMs: 500 });
    await declareTenant('wayne', accessKeyId, firstSecret);
    await objects.create('buckets', {
      apiVersion: 'coffre.infofy.fr/v1alpha1',
      kind: 'Bucket',
      metadata: { name: 'wayne-backups' },
      spec: { tenantRef: { name: 'wayne' }, name: 'backups' },
    });
    await waitForReady(objects, 'buckets', 'wayne-backups');
    const body = Buffer.alloc(100_000, 7);
    await s3(accessKeyId, firstSecret).send(
      new PutObjectCommand({ Bucket: 'backups', Key: 'disk.img', Body: body }),
    );
    const measured = await waitFor('the stored bytes in the Tenant status', async () => {
      const tenant = await objects.get('tenants', 'wayne');
      const usage = tenant?.status?.usage as { storedBytes: number; billedTerabytes: number } | undefined;
      return usage !== undefined && usage.storedBytes >= body.length ? usage : undefined;
    });
    t.is(measured.storedBytes, body.length);
    t.is(measured.billedTerabytes, 1, 'a started To is billed');

    const rotatedSecret = 'wayne-rotated-secret-0123456789abcd';
    await rotateKeySecret(
      core,
      { namespace: tenantNamespace, name: 'wayne-keys', endpoint: agent.endpoint, accessKeyId },
      rotatedSecret,
    );
    await t.throwsAsync(s3(accessKeyId, firstSecret).send(new ListBucketsCommand({})));
  },
);

test.serial(
  'leader election: of two operators only the Lease holder reconciles; when it stops, the other takes over',
  async (t) => {
    const election = {
      namespace: 'default',
      leaseName: 'coffre-operator-e2e',
      leaseDurationMs: 6_000,
      renewDeadlineMs: 4_000,
      retryPeriodMs: 1_000,
    };
    const first = countingAdmin();
    const second = countingAdmin();
    const operatorA: Operator = createOperator({
      kubeConfig,
      admin: first.admin,
      leaderElection: { ...election, identity: 'operator-a' },
    });
    const operatorB: Operator = createOperator({
      kubeConfig,
      admin: second.admin,
      leaderElection: { ...election, identity: 'operator-b' },
    });
    t.teardown(async () => {
      await operatorA.stop();
      await operatorB.stop();
    });
    await operatorA.start();
    await waitFor('operator-a to lead', async () => operatorA.manager.isLeader);
    await operatorB.start();
    const coordination = kubeConfig.makeApiClient(k8s.CoordinationV1Api);
    const lease = await coordination.readNamespacedLease({
      name: election.leaseName,
      namespace: election.namespace,
    });
    t.is(lease.spec?.holderIdentity, 'operator-a');

    await declareTenant('initech', 'INITECHOPERATORK01', 'initech-operator-secret-0123456789ab');
    await waitForReady(objects, 'tenants', 'initech');
    t.true(first.puts() > 0, 'the leader pushed the tenant');
    t.is(second.puts(), 0, 'the standby pushed nothing');
    t.false(operatorB.manager.isLeader);

    await operatorA.stop();
    await waitFor('operator-b to lead', async () => operatorB.manager.isLeader);
    const taken = await coordination.readNamespacedLease({
      name: election.leaseName,
      namespace: election.namespace,
    });
    t.is(taken.spec?.holderIdentity, 'operator-b');
    const putsOfA = first.puts();
    await declareTenant('hooli', 'HOOLIOPERATORKEY01', 'hooli-operator-secret-0123456789abcd');
    await waitForReady(objects, 'tenants', 'hooli');
    t.true(second.puts() > 0, 'the new leader pushed the new tenant');
    t.is(first.puts(), putsOfA, 'the stopped operator did nothing more');
  },
);

test.serial(
  'operator/main.ts: runs from KUBECONFIG and the admin flags, reconciles, and on SIGTERM releases its Lease and exits 0',
  async (t) => {
    const child = spawn(
      process.execPath,
      [
        `${repositoryRoot}/operator/main.ts`,
        '--admin-endpoint',
        adminEndpoint,
        '--lease-name',
        'coffre-operator-main',
        '--identity',
        'operator-main',
      ],
      {
        cwd: repositoryRoot,
        env: { ...process.env, KUBECONFIG: cluster.kubeconfigPath, COFFRE_ADMIN_KEY: adminKey },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    t.teardown(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    await declareTenant('umbrella', 'UMBRELLAOPERATOR01', 'umbrella-operator-secret-0123456789a');
    await waitForReady(objects, 'tenants', 'umbrella').catch((error: unknown) => {
      throw new Error(`${String(error)}\noperator output:\n${output}`);
    });
    child.kill('SIGTERM');
    t.is(await exited, 0, output);
    const coordination = kubeConfig.makeApiClient(k8s.CoordinationV1Api);
    const lease = await coordination.readNamespacedLease({
      name: 'coffre-operator-main',
      namespace: 'default',
    });
    t.falsy(lease.spec?.holderIdentity, 'the Lease was released');
  },
);

function s3(accessKeyId: string, secretAccessKey: string): S3Client {
  return s3Client(agent.endpoint, accessKeyId, secretAccessKey);
}
