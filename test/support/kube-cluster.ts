// A real Kubernetes control plane for the operator's tests: etcd (Debian's etcd-server) and
// kube-apiserver (built from source by scripts/kube-apiserver.ts), both on 127.0.0.1 with reserved
// ports (started again on others if one is taken), over a fresh temporary directory holding etcd's
// data, a self-made CA, the apiserver's serving certificate, a cluster-admin client certificate
// (group system:masters) and the service-account signing key. No controller-manager or scheduler
// runs: objects are stored and served, validated, admitted and watched, but nothing acts on them
// except the code under test.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { KubeConfig } from '@kubernetes/client-node';
import * as k8s from '@kubernetes/client-node';
import { ensureKubeApiserver } from '../../scripts/kube-apiserver.ts';
import { isAddressInUse, portAttempts, reservePort } from './ports.ts';

export interface KubeCluster {
  server: string; // https://127.0.0.1:<port>
  kubeconfigPath: string; // a kubeconfig file with a cluster-admin user
  kubeConfig(): KubeConfig; // loaded from kubeconfigPath
  stop(): Promise<void>; // stops kube-apiserver then etcd by PID, removes the temp dir
}

export const etcdPath = '/usr/bin/etcd';
const etcdStartTimeoutMs = 60_000;
/** kube-apiserver runs its post-start hooks (RBAC roles, priority classes, API discovery) before it is ready. */
const apiserverStartTimeoutMs = 180_000;
const stopGraceMs = 10_000;
const pollIntervalMs = 200;
const outputTailChars = 8_000;
const certificateValidityDays = '2';

export class KubeClusterStartError extends Error {
  readonly code = 'KUBE_CLUSTER_START_FAILED';
}

interface RunningProcess {
  name: string;
  child: ChildProcess;
  /** Its orphan guard (see startOrphanGuard), ended by stop() once the process is. */
  guard: ChildProcess | null;
  exited: Promise<void>;
  output(): string;
}

/** Every process started and not yet stopped, killed if the test process exits without stopping them. */
const liveProcesses = new Set<RunningProcess>();
process.once('exit', () => {
  for (const running of liveProcesses) if (!hasExited(running)) running.child.kill('SIGKILL');
});

function startProcess(
  name: string,
  command: string,
  args: string[],
  guardedDirectory: string | null,
): RunningProcess {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const guard = child.pid === undefined ? null : startOrphanGuard(child.pid, guardedDirectory);
  let printed = '';
  const keep = (chunk: Buffer): void => {
    printed = (printed + chunk.toString('utf8')).slice(-outputTailChars);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const running = { name, child, guard, exited, output: () => printed };
  liveProcesses.add(running);
  return running;
}

function hasExited(running: RunningProcess): boolean {
  return running.child.exitCode !== null || running.child.signalCode !== null;
}

/** SIGTERM, then SIGKILL after the grace period; resolves once the process is gone. */
async function stopProcess(running: RunningProcess): Promise<void> {
  if (!hasExited(running)) {
    running.child.kill('SIGTERM');
    const timer = setTimeout(() => running.child.kill('SIGKILL'), stopGraceMs);
    await running.exited;
    clearTimeout(timer);
  }
  // Its watch is over: without this it would linger up to a second, until its next look.
  if (running.guard?.exitCode === null && running.guard.signalCode === null) running.guard.kill('SIGTERM');
}

/**
 * A detached shell that SIGKILLs a cluster process (and removes the cluster's directory, when given)
 * once this test process is gone, even if it was itself killed (SIGKILL, an ava timeout) and ran no
 * exit handler; it ends by itself when the process it guards ends.
 */
function startOrphanGuard(pid: number, directory: string | null): ChildProcess {
  const script =
    'parent=$1; pid=$2; dir=$3; ' +
    'while kill -0 "$pid" 2>/dev/null; do kill -0 "$parent" 2>/dev/null || break; sleep 1; done; ' +
    'kill -0 "$parent" 2>/dev/null && exit 0; kill -9 "$pid" 2>/dev/null; [ -z "$dir" ] || rm -rf "$dir"';
  const guard = spawn(
    'sh',
    ['-c', script, 'kube-cluster-guard', String(process.pid), String(pid), directory ?? ''],
    {
      detached: true,
      stdio: 'ignore',
    },
  );
  guard.unref();
  return guard;
}

function openssl(directory: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: directory, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** An EC P-256 key and a certificate for it, signed by the test CA (or self-signed for the CA itself). */
function issueCertificate(
  directory: string,
  name: string,
  subject: string,
  extensions: string[],
  signer?: string,
) {
  const signing = signer ? ['-CA', `${signer}.crt`, '-CAkey', `${signer}.key`] : [];
  openssl(directory, [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.crt`,
    '-days',
    certificateValidityDays,
    '-subj',
    subject,
    ...signing,
    ...extensions.flatMap((extension) => ['-addext', extension]),
  ]);
}

function makeCertificates(directory: string): void {
  issueCertificate(directory, 'ca', '/CN=coffre-test-kubernetes-ca', [
    'basicConstraints=critical,CA:TRUE',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  issueCertificate(
    directory,
    'serving',
    '/CN=kube-apiserver',
    [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature',
      'extendedKeyUsage=serverAuth',
      'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default.svc',
    ],
    'ca',
  );
  // Kubernetes reads a client certificate's CN as the user name and each O as a group;
  // system:masters is bound to cluster-admin and bypasses RBAC altogether.
  issueCertificate(
    directory,
    'admin',
    '/O=system:masters/CN=coffre-test-admin',
    [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature',
      'extendedKeyUsage=clientAuth',
    ],
    'ca',
  );
  // Service-account tokens are signed with the private key and verified with the public one.
  openssl(directory, [
    'genpkey',
    '-algorithm',
    'EC',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-out',
    'service-account.key',
  ]);
  openssl(directory, ['pkey', '-in', 'service-account.key', '-pubout', '-out', 'service-account.pub']);
}

function writeKubeconfig(directory: string, server: string): string {
  const base64 = (file: string): string => readFileSync(path.join(directory, file)).toString('base64');
  const kubeconfigPath = path.join(directory, 'kubeconfig');
  const kubeconfig = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'coffre-test', cluster: { server, 'certificate-authority-data': base64('ca.crt') } }],
    users: [
      {
        name: 'coffre-test-admin',
        user: { 'client-certificate-data': base64('admin.crt'), 'client-key-data': base64('admin.key') },
      },
    ],
    contexts: [{ name: 'coffre-test', context: { cluster: 'coffre-test', user: 'coffre-test-admin' } }],
    'current-context': 'coffre-test',
  };
  // JSON is YAML: kubectl and client-node read it as a kubeconfig.
  writeFileSync(kubeconfigPath, `${JSON.stringify(kubeconfig, null, 2)}\n`, { mode: 0o600 });
  return kubeconfigPath;
}

async function startEtcd(directory: string, started: RunningProcess[]): Promise<string> {
  const clientPort = await reservePort();
  const peerPort = await reservePort();
  const url = `http://127.0.0.1:${clientPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const etcd = startProcess(
    'etcd',
    etcdPath,
    [
      '--name=coffre-test',
      `--data-dir=${path.join(directory, 'etcd')}`,
      `--listen-client-urls=${url}`,
      `--advertise-client-urls=${url}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=coffre-test=${peerUrl}`,
      '--initial-cluster-state=new',
      '--log-level=warn',
    ],
    directory,
  );
  started.push(etcd);
  await waitUntil(etcd, etcdStartTimeoutMs, async () => {
    const response = await fetch(`${url}/health`).catch(() => null);
    if (!response?.ok) return false;
    return ((await response.json()) as { health?: string }).health === 'true';
  });
  return url;
}

async function startApiserver(
  binary: string,
  directory: string,
  etcdUrl: string,
  started: RunningProcess[],
): Promise<string> {
  const port = await reservePort();
  const file = (name: string): string => path.join(directory, name);
  const apiserver = startProcess(
    'kube-apiserver',
    binary,
    [
      `--etcd-servers=${etcdUrl}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${port}`,
      `--cert-dir=${file('apiserver-certificates')}`,
      `--tls-cert-file=${file('serving.crt')}`,
      `--tls-private-key-file=${file('serving.key')}`,
      `--client-ca-file=${file('ca.crt')}`,
      '--authorization-mode=RBAC',
      `--service-account-key-file=${file('service-account.pub')}`,
      `--service-account-signing-key-file=${file('service-account.key')}`,
      '--service-account-issuer=https://kubernetes.default.svc',
      '--service-cluster-ip-range=10.96.0.0/24',
      // No controller-manager creates service-account tokens, so the ServiceAccount admission
      // plugin would refuse every Pod; nothing reconciles the kubernetes Service's endpoints to a
      // loopback address either.
      '--disable-admission-plugins=ServiceAccount',
      '--endpoint-reconciler-type=none',
      '--profiling=false',
    ],
    null,
  );
  started.push(apiserver);
  const server = `https://127.0.0.1:${port}`;
  const readFile = (name: string): Buffer => readFileSync(file(name));
  const agent = new https.Agent({
    ca: readFile('ca.crt'),
    cert: readFile('admin.crt'),
    key: readFile('admin.key'),
  });
  // Ready once every post-start hook ran and the apiserver created the "default" namespace itself.
  await waitUntil(
    apiserver,
    apiserverStartTimeoutMs,
    async () =>
      (await statusOf(agent, `${server}/readyz`)) === 200 &&
      (await statusOf(agent, `${server}/api/v1/namespaces/default`)) === 200,
  );
  agent.destroy();
  return server;
}

function statusOf(agent: https.Agent, url: string): Promise<number> {
  return new Promise((resolve) => {
    const request = https.get(url, { agent }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('error', () => resolve(0));
  });
}

async function waitUntil(
  running: RunningProcess,
  timeoutMs: number,
  isReady: () => Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (hasExited(running))
      throw new KubeClusterStartError(
        `${running.name} exited with ${running.child.exitCode}:\n${running.output()}`,
      );
    if (await isReady()) return;
    await delay(pollIntervalMs);
  }
  throw new KubeClusterStartError(`${running.name} not ready within ${timeoutMs} ms:\n${running.output()}`);
}

/**
 * Runs `start` again, on newly reserved ports, when the process it started exited because its port
 * was taken between reservePort() and its bind (see test/support/ports.ts).
 */
async function onFreshPorts<T>(started: RunningProcess[], start: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    const before = started.length;
    try {
      return await start();
    } catch (error) {
      const failed = started.length > before ? started[started.length - 1] : undefined;
      if (!(error instanceof KubeClusterStartError) || !failed || !hasExited(failed)) throw error;
      if (attempt >= portAttempts || !isAddressInUse(failed.output())) throw error;
      started.pop();
      await stopProcess(failed);
      liveProcesses.delete(failed);
    }
  }
}

/** Starts etcd and kube-apiserver and resolves once the apiserver is ready; stops both on failure. */
export async function startKubeCluster(): Promise<KubeCluster> {
  const binary = await ensureKubeApiserver();
  const directory = mkdtempSync(path.join(os.tmpdir(), 'coffre-kube-'));
  const started: RunningProcess[] = [];
  const stop = async (): Promise<void> => {
    // The apiserver first: stopped after etcd, it would spend its grace period retrying etcd.
    while (started.length > 0) {
      const running = started.pop() as RunningProcess;
      await stopProcess(running);
      liveProcesses.delete(running);
    }
    rmSync(directory, { recursive: true, force: true });
  };
  try {
    makeCertificates(directory);
    const etcdUrl = await onFreshPorts(started, () => {
      // A member that never bound its ports must not leave a data directory naming them.
      rmSync(path.join(directory, 'etcd'), { recursive: true, force: true });
      return startEtcd(directory, started);
    });
    const server = await onFreshPorts(started, () => startApiserver(binary, directory, etcdUrl, started));
    const kubeconfigPath = writeKubeconfig(directory, server);
    return {
      server,
      kubeconfigPath,
      kubeConfig: () => {
        const config = new k8s.KubeConfig();
        config.loadFromFile(kubeconfigPath);
        return config;
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
