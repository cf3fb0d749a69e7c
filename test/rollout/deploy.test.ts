import { existsSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import test from 'ava';
import { type AgentBundle, buildAgentBundle } from '../../operator/bundle/build.ts';
import { type HealthCheck, s3HealthCheck } from '../../operator/rollout/health.ts';
import { formatProgress, type RolloutProgress, rolloutCondition } from '../../operator/rollout/progress.ts';
import { type RegionRollout, type RolloutOptions, rolloutRegion } from '../../operator/rollout/rollout.ts';
import { pidfileServiceManager } from '../../operator/rollout/service-manager.ts';
import { repositoryRoot } from '../support/agent-process.ts';
import {
  adminCredentials,
  agentLog,
  agentPid,
  alive,
  currentRelease,
  removeDirectory,
  startTestHosts,
  stopTestHost,
  type TestHost,
} from './region-fixture.ts';

let directory: string;
let hosts: TestHost[];
let privateKey: string;
let bundle: AgentBundle;
/** The second version, built by the rolling-upgrade test and used by the ones after it. */
let upgrade: AgentBundle;

test.before(async () => {
  directory = mkdtempSync(path.join(os.tmpdir(), 'coffre-rollout-'));
  ({ hosts, privateKey } = await startTestHosts(directory, ['a', 'b', 'c']));
  bundle = await buildAgentBundle({ repositoryRoot });
});

test.after.always(async () => {
  for (const host of hosts ?? []) await stopTestHost(host);
  removeDirectory(directory);
});

function regionWith(agentBundle: AgentBundle): RegionRollout {
  return {
    region: 'fr-par',
    hosts: hosts.map((host) => host.spec),
    replicaSets: [{ id: 'a+b+c', hosts: ['a', 'b', 'c'] }],
    bundle: agentBundle,
    adminCredentials,
    sshCredentials: { privateKey },
  };
}

function options(events: RolloutProgress[], extra: Partial<RolloutOptions> = {}): RolloutOptions {
  return {
    serviceManager: pidfileServiceManager(),
    onProgress: (event) => events.push(event),
    log: () => {},
    healthWait: { timeoutMs: 60_000, intervalMs: 200 },
    ...extra,
  };
}

function s3Client(host: TestHost): S3Client {
  return new S3Client({
    endpoint: host.spec.endpoint,
    region: 'fr-par',
    forcePathStyle: true,
    credentials: adminCredentials,
  });
}

test.serial('first rollout: the real bundle reaches every host over SSH, which then serves S3', async (t) => {
  const events: RolloutProgress[] = [];
  const result = await rolloutRegion(regionWith(bundle), options(events, { maxParallelHosts: 3 }));
  t.is(result.outcome, 'completed', `${JSON.stringify(result.failure)}\n${hosts.map(agentLog).join('\n')}`);
  t.deepEqual([...result.upgraded].sort(), ['a', 'b', 'c']);
  for (const host of hosts) {
    t.is(currentRelease(host), bundle.manifest.version);
    t.is(statSync(host.layout.configFile).mode & 0o777, 0o640);
  }
  for (const event of events.filter((entry) => entry.kind === 'host-upgraded')) {
    t.log(`${event.host}: deployed in ${event.durationMs} ms`);
  }
  const client = s3Client(hosts[0]);
  try {
    await client.send(new CreateBucketCommand({ Bucket: 'rolled-out' }));
    await client.send(
      new PutObjectCommand({ Bucket: 'rolled-out', Key: 'hello.txt', Body: 'served by a deployed agent' }),
    );
    const answer = await client.send(new GetObjectCommand({ Bucket: 'rolled-out', Key: 'hello.txt' }));
    t.is(await answer.Body?.transformToString(), 'served by a deployed agent');
  } finally {
    client.destroy();
  }
  t.is(rolloutCondition(events.at(-1)!).status, 'True');
});

test.serial('same version again: nothing is uploaded, written or restarted', async (t) => {
  const pidsBefore = hosts.map(agentPid);
  const events: RolloutProgress[] = [];
  const result = await rolloutRegion(regionWith(bundle), options(events));
  t.is(result.outcome, 'completed');
  t.deepEqual(result.upgraded, []);
  t.deepEqual([...result.unchanged].sort(), ['a', 'b', 'c']);
  const phases = events.filter((event) => event.kind === 'host-phase').map((event) => event.phase);
  t.deepEqual([...new Set(phases)], ['connect']);
  t.deepEqual(hosts.map(agentPid), pidsBefore);
});

test.serial(
  'rolling upgrade, host b fails its health check: a upgraded, b rolled back, c untouched, halted',
  async (t) => {
    upgrade = await buildAgentBundle({
      repositoryRoot,
      extraFiles: { 'RELEASE-NOTES': 'rollout test upgrade\n' },
    });
    t.not(upgrade.manifest.version, bundle.manifest.version);
    const region = regionWith(upgrade);
    // b's new configuration asks for a port that a's sshd holds: the new agent on b cannot listen
    // and exits, for real, and the real S3 health check (injected here to count its calls) fails.
    const busyPort = hosts[0].server.port;
    region.hosts = region.hosts.map((spec) =>
      spec.name === 'b' ? { ...spec, agent: { ...spec.agent, port: busyPort } } : spec,
    );
    const realCheck = s3HealthCheck({ credentials: adminCredentials });
    const checked: string[] = [];
    const healthCheck: HealthCheck = (target) => {
      checked.push(target.name);
      return realCheck(target);
    };
    const cPid = agentPid(hosts[2]);
    const events: RolloutProgress[] = [];
    const result = await rolloutRegion(region, options(events, { healthCheck }));
    t.is(result.outcome, 'halted');
    t.is(result.failure?.code, 'HealthCheckFailed', JSON.stringify(result.failure));
    t.is(result.failure?.host, 'b', `${JSON.stringify(result.failure)}\n${agentLog(hosts[0])}`);
    t.regex(result.failure?.message ?? '', /not running/);
    t.deepEqual(result.upgraded, ['a'], events.map(formatProgress).join('\n'));
    t.deepEqual(result.rolledBack, ['b']);
    t.true(checked.includes('b'));
    t.is(currentRelease(hosts[0]), upgrade.manifest.version);
    t.is(currentRelease(hosts[1]), bundle.manifest.version);
    t.is(currentRelease(hosts[2]), bundle.manifest.version);
    t.is(agentPid(hosts[2]), cPid, 'c was not touched');
    const rolledBack = events.find((event) => event.kind === 'host-rolled-back');
    t.true(rolledBack?.kind === 'host-rolled-back' && rolledBack.healthy, 'b serves its old release again');
    t.true((await realCheck({ name: 'b', endpoint: hosts[1].spec.endpoint })).healthy);
    t.regex(agentLog(hosts[1]), /EADDRINUSE/);
    const kinds = events.map((event) => `${event.kind}${'host' in event ? ` ${event.host}` : ''}`);
    t.true(kinds.indexOf('host-failed b') < kinds.indexOf('host-rolled-back b'));
    t.is(kinds.at(-1), 'rollout-halted');
    t.false(kinds.includes('host-upgraded c'));
    t.is(rolloutCondition(events.at(-1)!).status, 'False');
  },
);

test.serial(
  'a member of the replica set unreachable over SSH: no healthy member is taken down, halted on quorum',
  async (t) => {
    const pids = hosts.map(agentPid);
    const region = regionWith(upgrade);
    // Nothing listens on c's SSH port (1): c is down as far as the rollout knows.
    region.hosts = region.hosts.map((spec) =>
      spec.name === 'c' ? { ...spec, ssh: { ...spec.ssh, port: 1 } } : spec,
    );
    const events: RolloutProgress[] = [];
    const result = await rolloutRegion(region, options(events));
    t.is(result.outcome, 'halted');
    t.is(result.failure?.code, 'QuorumAtRisk');
    t.deepEqual(result.upgraded, []);
    t.true(events.some((event) => event.kind === 'host-unreachable' && event.host === 'c'));
    t.is(currentRelease(hosts[1]), bundle.manifest.version);
    t.deepEqual(hosts.map(agentPid), pids);
  },
);

test.serial('host key not the pinned one: the rollout halts before touching any host', async (t) => {
  const pids = hosts.map(agentPid);
  const releases = hosts.map(currentRelease);
  const region = regionWith(upgrade);
  region.hosts = region.hosts.map((spec) =>
    spec.name === 'b'
      ? { ...spec, ssh: { ...spec.ssh, hostKeySha256: hosts[0].server.hostKeySha256 } }
      : spec,
  );
  const events: RolloutProgress[] = [];
  const result = await rolloutRegion(region, options(events));
  t.is(result.outcome, 'halted');
  t.is(result.failure?.code, 'HostKeyMismatch');
  t.deepEqual(result.upgraded, []);
  t.false(events.some((event) => event.kind === 'host-phase' && event.phase !== 'connect'));
  t.deepEqual(hosts.map(currentRelease), releases);
  t.deepEqual(hosts.map(agentPid), pids);
});

test.serial(
  "an archive whose SHA-256 is not the manifest's: nothing is unpacked, the agent is not restarted, halted",
  async (t) => {
    const pids = hosts.map(agentPid);
    const releases = hosts.map(currentRelease);
    const tampered: AgentBundle = {
      ...upgrade,
      manifest: { ...upgrade.manifest, version: '0.0.0+tampered', archiveSha256: '0'.repeat(64) },
    };
    const events: RolloutProgress[] = [];
    const result = await rolloutRegion(regionWith(tampered), options(events));
    t.is(result.outcome, 'halted');
    t.is(result.failure?.code, 'ChecksumMismatch');
    t.is(result.failure?.host, 'a');
    t.false(existsSync(path.join(hosts[0].layout.releasesDirectory, '0.0.0+tampered')));
    t.deepEqual(readdirSync(hosts[0].layout.incomingDirectory), []);
    t.deepEqual(hosts.map(currentRelease), releases);
    t.deepEqual(hosts.map(agentPid), pids);
    t.deepEqual(result.rolledBack, ['a']);
  },
);

test.serial(
  'rolling upgrade: a stopped agent is started first, then one host at a time, data kept',
  async (t) => {
    const aPid = agentPid(hosts[0])!;
    process.kill(aPid, 'SIGTERM');
    while (alive(aPid)) await new Promise((resolve) => setTimeout(resolve, 50));
    const events: RolloutProgress[] = [];
    const result = await rolloutRegion(regionWith(upgrade), options(events));
    t.is(result.outcome, 'completed', JSON.stringify(result.failure));
    t.deepEqual(result.upgraded, ['a', 'b', 'c']);
    for (const host of hosts) t.is(currentRelease(host), upgrade.manifest.version);
    // One at a time: each host is healthy again before the next one is switched.
    const order = events
      .filter(
        (event) =>
          event.kind === 'host-upgraded' || (event.kind === 'host-phase' && event.phase === 'switch'),
      )
      .map(
        (event) => `${event.kind === 'host-upgraded' ? 'up' : 'switch'} ${'host' in event ? event.host : ''}`,
      );
    t.deepEqual(order, ['switch a', 'up a', 'switch b', 'up b', 'switch c', 'up c']);
    // a runs it already and b kept it from its failed attempt: only c needs the upload.
    t.is(events.filter((event) => event.kind === 'host-phase' && event.phase === 'upload').length, 1);
    // Each host keeps the release it runs and the one it ran before: a ran the new one already.
    const releasesOf = (host: TestHost) =>
      readdirSync(host.layout.releasesDirectory)
        .filter((entry) => !entry.startsWith('.'))
        .sort();
    t.deepEqual(releasesOf(hosts[0]), [upgrade.manifest.version]);
    t.deepEqual(releasesOf(hosts[2]), [bundle.manifest.version, upgrade.manifest.version].sort());
    const client = s3Client(hosts[0]);
    try {
      const answer = await client.send(new GetObjectCommand({ Bucket: 'rolled-out', Key: 'hello.txt' }));
      t.is(await answer.Body?.transformToString(), 'served by a deployed agent');
    } finally {
      client.destroy();
    }
  },
);
