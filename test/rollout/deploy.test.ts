import { mkdtempSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import test from 'ava';
import { type AgentBundle, buildAgentBundle } from '../../operator/bundle/build.ts';
import { s3HealthCheck } from '../../operator/rollout/health.ts';
import { type RolloutProgress, rolloutCondition } from '../../operator/rollout/progress.ts';
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
    const upgrade = await buildAgentBundle({
      repositoryRoot,
      extraFiles: { 'RELEASE-NOTES': 'rollout test upgrade\n' },
    });
    t.not(upgrade.manifest.version, bundle.manifest.version);
    const realCheck = s3HealthCheck({ credentials: adminCredentials });
    // The new release on b "does not come up": the check fails while b's current link points to it.
    const healthCheck: RolloutOptions['healthCheck'] = async (target) => {
      const host = hosts.find((entry) => entry.spec.name === target.name)!;
      if (target.name === 'b' && currentRelease(host) === upgrade.manifest.version) {
        return { healthy: false, detail: 'injected failure of the new release on b' };
      }
      return realCheck(target);
    };
    const cPid = agentPid(hosts[2]);
    const events: RolloutProgress[] = [];
    const result = await rolloutRegion(
      regionWith(upgrade),
      options(events, { healthCheck, healthWait: { timeoutMs: 1_500, intervalMs: 200 } }),
    );
    t.is(result.outcome, 'halted');
    t.is(result.failure?.code, 'HealthCheckFailed');
    t.is(result.failure?.host, 'b');
    t.deepEqual(result.upgraded, ['a']);
    t.deepEqual(result.rolledBack, ['b']);
    t.is(currentRelease(hosts[0]), upgrade.manifest.version);
    t.is(currentRelease(hosts[1]), bundle.manifest.version);
    t.is(currentRelease(hosts[2]), bundle.manifest.version);
    t.is(agentPid(hosts[2]), cPid, 'c was not touched');
    t.true(alive(agentPid(hosts[1])!));
    // The rollback restarted b on its old release; with the short wait above it may still be starting.
    let bHealth = await realCheck({ name: 'b', endpoint: hosts[1].spec.endpoint });
    for (let tries = 0; tries < 150 && !bHealth.healthy; tries += 1) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      bHealth = await realCheck({ name: 'b', endpoint: hosts[1].spec.endpoint });
    }
    t.true(bHealth.healthy, `b serves the old release: ${bHealth.detail}\n${agentLog(hosts[1])}`);
    const kinds = events.map((event) => `${event.kind}${'host' in event ? ` ${event.host}` : ''}`);
    t.true(kinds.indexOf('host-failed b') < kinds.indexOf('host-rolled-back b'));
    t.is(kinds.at(-1), 'rollout-halted');
    t.false(kinds.includes('host-upgraded c'));
    t.is(rolloutCondition(events.at(-1)!).status, 'False');
  },
);
