// The control plane never outlives its test: stop() ends kube-apiserver and etcd and removes their
// directory, and a test process killed outright (no exit handler, no after hook) leaves nothing
// running either.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import test from 'ava';
import { repositoryRoot } from '../support/agent-process.ts';
import { startKubeCluster } from '../support/kube-cluster.ts';

/** PIDs of the processes whose command line mentions `text` (kube-apiserver and etcd name their directory). */
function processesMentioning(text: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(text)) pids.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

async function waitUntilGone(directory: string): Promise<number[]> {
  for (let attempt = 0; attempt < 300; attempt += 1) {
    const left = processesMentioning(directory);
    if (left.length === 0 && !existsSync(directory)) return left;
    await delay(100);
  }
  return processesMentioning(directory);
}

test.serial('stop(): kube-apiserver and etcd are gone and the cluster directory is removed', async (t) => {
  const cluster = await startKubeCluster();
  const directory = path.dirname(cluster.kubeconfigPath);
  t.true(processesMentioning(directory).length >= 2, 'etcd and kube-apiserver run over the directory');
  await cluster.stop();
  t.deepEqual(processesMentioning(directory), []);
  t.false(existsSync(directory));
});

test.serial(
  'a test process killed with SIGKILL leaves no kube-apiserver, etcd or directory behind',
  async (t) => {
    const script = [
      `import { startKubeCluster } from ${JSON.stringify(path.join(repositoryRoot, 'test/support/kube-cluster.ts'))};`,
      'const cluster = await startKubeCluster();',
      'console.log(cluster.kubeconfigPath);',
      "process.kill(process.pid, 'SIGKILL');",
    ].join('\n');
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let printed = '';
    child.stdout.on('data', (chunk: Buffer) => {
      printed += chunk.toString('utf8');
    });
    const signal = await new Promise((resolve) => child.once('exit', (_code, received) => resolve(received)));
    t.is(signal, 'SIGKILL');
    const directory = path.dirname(printed.trim());
    t.true(directory.includes('coffre-kube-'), printed);
    t.deepEqual(await waitUntilGone(directory), []);
    t.false(existsSync(directory));
  },
);
