// Three simulated hosts for the rollout tests: one real sshd each on 127.0.0.1, each with its own
// install root, config directory, data directory, drives and agent port under a temporary
// directory, and the region spec that points the rollout at them.
import { readFileSync, readlinkSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { AdminCredentials } from '../../operator/rollout/agent-config.ts';
import { type HostLayout, hostLayout } from '../../operator/rollout/host-layout.ts';
import type { RolloutHost } from '../../operator/rollout/rollout.ts';
import { reservePort } from '../support/ports.ts';
import { generateClientKey, startSshServer, type TestSshServer } from './sshd.ts';

export interface TestHost {
  spec: RolloutHost;
  server: TestSshServer;
  layout: HostLayout;
}

export const adminCredentials: AdminCredentials = {
  accessKeyId: 'COFFREROLLOUTADMIN01',
  secretAccessKey: 'coffre-rollout-secret-0123456789abcdefghij',
};

export async function startTestHosts(directory: string, names: string[]) {
  const client = generateClientKey(path.join(directory, 'client'));
  const hosts: TestHost[] = [];
  for (const name of names) {
    const base = path.join(directory, name);
    const server = await startSshServer(path.join(base, 'sshd'), [client.publicKeyLine]);
    const port = await reservePort();
    const data = path.join(base, 'data');
    const spec: RolloutHost = {
      name,
      ssh: {
        address: server.address,
        port: server.port,
        username: 'root',
        hostKeySha256: server.hostKeySha256,
      },
      endpoint: `http://127.0.0.1:${port}`,
      agent: {
        listenAddress: '127.0.0.1',
        port,
        dataDirectory: data,
        drives: [1, 2, 3, 4].map((drive) => path.join(base, 'drives', `drive-${drive}`)),
        parityShards: 2,
        region: 'fr-par',
      },
      installRoot: path.join(base, 'opt'),
      configDirectory: path.join(base, 'etc'),
    };
    hosts.push({ spec, server, layout: hostLayout(spec.installRoot, spec.configDirectory) });
  }
  return { hosts, privateKey: client.privateKey };
}

/** The release `current` points to on a test host. */
export function currentRelease(host: TestHost): string {
  return path.basename(readlinkSync(host.layout.currentLink));
}

export function agentPid(host: TestHost): number | null {
  try {
    return Number(readFileSync(path.join(host.layout.runDirectory, 'agent.pid'), 'utf8').trim());
  } catch {
    return null;
  }
}

/** The test service manager's log of the host's agent, for failure messages. */
export function agentLog(host: TestHost): string {
  try {
    return readFileSync(path.join(host.layout.runDirectory, 'agent.log'), 'utf8');
  } catch (error) {
    return String(error);
  }
}

function alive(pid: number): boolean {
  try {
    const state = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '')[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** Stops the host's agent by its PID, then its sshd. */
export async function stopTestHost(host: TestHost): Promise<void> {
  const pid = agentPid(host);
  if (pid !== null && alive(pid)) {
    process.kill(pid, 'SIGTERM');
    for (let tries = 0; tries < 200 && alive(pid); tries += 1)
      await new Promise((resolve) => setTimeout(resolve, 50));
    if (alive(pid)) process.kill(pid, 'SIGKILL');
  }
  await host.server.stop();
}

export function removeDirectory(directory: string): void {
  rmSync(directory, { recursive: true, force: true });
}

export { alive };
