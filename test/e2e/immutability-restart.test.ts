// Immutability across what happens to a host: the agent restarted on its data, and the host clock
// set back two years (the agent run under libfaketime, the client signing at the same false time).
// Neither releases a locked version. And the drives hold only ciphertext.
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectLockConfigurationCommand,
  GetObjectRetentionCommand,
  PutObjectLockConfigurationCommand,
  PutObjectRetentionCommand,
} from '@aws-sdk/client-s3';
import test from 'ava';
import { adminRequest } from '../../agent/admin/admin-client.ts';
import { signAdminRequest } from '../../agent/admin/admin-signature.ts';
import { type AgentProcess, startAgent } from '../support/agent-process.ts';
import {
  assertIntact,
  clientFor,
  dayMs,
  daysAhead,
  expectS3Error,
  type LockedVersion,
  putLocked,
} from './object-lock-support.ts';
import { signedRequest } from './signed-request.ts';

const libfaketime = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';
const clockBackDays = 730;

function dataDirectory(t: { teardown: (fn: () => void) => void }): string {
  const directory = mkdtempSync(path.join(os.tmpdir(), 'coffre-immutability-'));
  t.teardown(() => rmSync(directory, { recursive: true, force: true }));
  return directory;
}

/** The agent on `directory`, its clock moved `daysBack` days into the past when asked. */
function agentOn(directory: string, daysBack = 0): Promise<AgentProcess> {
  const environment: NodeJS.ProcessEnv =
    daysBack === 0
      ? {}
      : { LD_PRELOAD: libfaketime, FAKETIME: `-${daysBack}d`, FAKETIME_DONT_FAKE_MONOTONIC: '1' };
  return startAgent({ dataDirectory: directory, environment });
}

async function tryEveryDelete(
  t: Parameters<typeof assertIntact>[0],
  s3: ReturnType<typeof clientFor>,
  version: LockedVersion,
): Promise<void> {
  for (const bypass of [false, true]) {
    await expectS3Error(
      t,
      s3.send(
        new DeleteObjectCommand({
          Bucket: version.bucket,
          Key: version.key,
          VersionId: version.versionId,
          BypassGovernanceRetention: bypass || undefined,
        }),
      ),
      'AccessDenied',
      403,
    );
  }
  const batch = await s3.send(
    new DeleteObjectsCommand({
      Bucket: version.bucket,
      BypassGovernanceRetention: true,
      Delete: { Objects: [{ Key: version.key, VersionId: version.versionId }] },
    }),
  );
  t.is(batch.Errors?.[0]?.Code, 'AccessDenied');
}

test('restart: after the agent is stopped and started again on its data, locked versions stay locked and intact', async (t) => {
  const directory = dataDirectory(t);
  let agent = await agentOn(directory);
  let s3 = clientFor(agent);
  await s3.send(new CreateBucketCommand({ Bucket: 'vault', ObjectLockEnabledForBucket: true }));
  const lock = { mode: 'COMPLIANCE' as const, until: daysAhead(1) };
  const compliant = await putLocked(s3, 'vault', 'a/b/c/block-1', lock);
  const held = await putLocked(s3, 'vault', 'a/b/c/block-2', null, { legalHold: true });
  s3.destroy();
  await agent.stop();
  agent = await agentOn(directory);
  t.teardown(() => agent.stop());
  s3 = clientFor(agent);
  await tryEveryDelete(t, s3, compliant);
  await tryEveryDelete(t, s3, held);
  await assertIntact(t, s3, compliant, lock);
  await assertIntact(t, s3, held);
  s3.destroy();
});

test('restart with the listing index lost: it is rebuilt from the encrypted drives and every lock holds', async (t) => {
  const directory = dataDirectory(t);
  let agent = await agentOn(directory);
  let s3 = clientFor(agent);
  await s3.send(new CreateBucketCommand({ Bucket: 'vault', ObjectLockEnabledForBucket: true }));
  const lock = { mode: 'COMPLIANCE' as const, until: daysAhead(1) };
  const compliant = await putLocked(s3, 'vault', 'deep/prefix/block', lock, { sizeBytes: 300_000 });
  s3.destroy();
  await agent.stop();
  for (const suffix of ['', '-wal', '-shm'])
    rmSync(path.join(directory, `index.sqlite${suffix}`), { force: true });
  agent = await agentOn(directory);
  t.teardown(() => agent.stop());
  t.regex(agent.output(), /listing index: rebuilt/);
  s3 = clientFor(agent);
  await tryEveryDelete(t, s3, compliant);
  await assertIntact(t, s3, compliant, lock);
  s3.destroy();
});

test('a PUT naming the locked version id does not overwrite it: the version reads back identical', async (t) => {
  const directory = dataDirectory(t);
  const agent = await agentOn(directory);
  t.teardown(() => agent.stop());
  const s3 = clientFor(agent);
  await s3.send(new CreateBucketCommand({ Bucket: 'vault', ObjectLockEnabledForBucket: true }));
  const lock = { mode: 'COMPLIANCE' as const, until: daysAhead(1) };
  const version = await putLocked(s3, 'vault', 'block', lock);
  const body = 'overwritten?';
  const response = await signedRequest({
    endpoint: agent.endpoint,
    accessKeyId: agent.accessKeyId,
    secretAccessKey: agent.secretAccessKey,
    method: 'PUT',
    path: '/vault/block',
    query: { versionId: version.versionId },
    headers: { 'content-md5': createHash('md5').update(body).digest('base64') },
    body,
  });
  t.not(response.headers.get('x-amz-version-id'), version.versionId, `status ${response.status}`);
  await assertIntact(t, s3, version, lock);
  s3.destroy();
});

test('clock set back two years: nothing is released, new default retention counts from the high-water mark', async (t) => {
  const directory = dataDirectory(t);
  let agent = await agentOn(directory);
  let s3 = clientFor(agent);
  await s3.send(new CreateBucketCommand({ Bucket: 'vault', ObjectLockEnabledForBucket: true }));
  await s3.send(
    new PutObjectLockConfigurationCommand({
      Bucket: 'vault',
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 1 } },
      },
    }),
  );
  const before = await putLocked(s3, 'vault', 'before', null);
  const beforeRetention = await s3.send(new GetObjectRetentionCommand({ Bucket: 'vault', Key: 'before' }));
  s3.destroy();
  await agent.stop();

  // The host clock now reads two years earlier; the client signs at that time too.
  const realStartMs = Date.now();
  agent = await agentOn(directory, clockBackDays);
  s3 = clientFor(agent, { systemClockOffsetMs: -clockBackDays * dayMs });
  await tryEveryDelete(t, s3, before);
  await assertIntact(t, s3, before, {
    mode: 'COMPLIANCE',
    until: beforeRetention.Retention!.RetainUntilDate!,
  });
  // A retention "extension" to a date that the false clock thinks is ten days ahead is a shortening.
  await expectS3Error(
    t,
    s3.send(
      new PutObjectRetentionCommand({
        Bucket: 'vault',
        Key: 'before',
        VersionId: before.versionId,
        Retention: {
          Mode: 'COMPLIANCE',
          RetainUntilDate: daysAhead(10, realStartMs - clockBackDays * dayMs),
        },
      }),
    ),
    'AccessDenied',
    403,
  );
  const during = await putLocked(s3, 'vault', 'during', null);
  const duringRetention = await s3.send(new GetObjectRetentionCommand({ Bucket: 'vault', Key: 'during' }));
  const untilMs = duringRetention.Retention!.RetainUntilDate!.getTime();
  // One day after the real time, not one day after the false time (which is long past).
  t.true(untilMs >= realStartMs + dayMs - 60_000, new Date(untilMs).toISOString());
  s3.destroy();
  await agent.stop();

  // The clock is put right: the version written while it was wrong is still locked.
  agent = await agentOn(directory);
  t.teardown(() => agent.stop());
  s3 = clientFor(agent);
  await tryEveryDelete(t, s3, during);
  await assertIntact(t, s3, during, { mode: 'COMPLIANCE', until: new Date(untilMs) });
  s3.destroy();
});

function filesUnder(root: string): string[] {
  return readdirSync(root, { recursive: true, encoding: 'utf8' })
    .map((entry) => path.join(root, entry))
    .filter((file) => statSync(file).isFile());
}

test('encryption at rest: no 32-byte stretch of an object is found in any file the agent wrote', async (t) => {
  const directory = dataDirectory(t);
  const agent = await agentOn(directory);
  t.teardown(() => agent.stop());
  const s3 = clientFor(agent);
  await s3.send(new CreateBucketCommand({ Bucket: 'plain' }));
  const small = await putLocked(s3, 'plain', 'small', null, { sizeBytes: 2000 });
  const large = await putLocked(s3, 'plain', 'large', null, { sizeBytes: 3 * 1024 * 1024 + 5 });
  await assertIntact(t, s3, small);
  await assertIntact(t, s3, large);
  const probes = [small.bytes.subarray(100, 132), large.bytes.subarray(1_000_000, 1_000_032)];
  const leaking = filesUnder(directory).filter((file) => {
    const content = readFileSync(file);
    return probes.some((probe) => content.includes(probe));
  });
  t.deepEqual(leaking, []);
  s3.destroy();
});

test('operator API: no admin route deletes a bucket or version, suspends versioning or turns Object Lock off', async (t) => {
  const directory = dataDirectory(t);
  const adminKey = 'operator-key-for-lock-tests-0123456789abcdef';
  const agent = await startAgent({
    dataDirectory: directory,
    arguments: ['--admin-port', '0'],
    environment: { COFFRE_ADMIN_KEY: adminKey },
  });
  t.teardown(() => agent.stop());
  const adminEndpoint = /admin API:\s+(\S+)/.exec(agent.output())![1];
  const s3 = clientFor(agent);
  await s3.send(new CreateBucketCommand({ Bucket: 'vault', ObjectLockEnabledForBucket: true }));
  const lock = { mode: 'COMPLIANCE' as const, until: daysAhead(1) };
  const version = await putLocked(s3, 'vault', 'block', lock);
  const tenantId = 'default';
  const suspended = await adminRequest(
    adminEndpoint,
    adminKey,
    'PUT',
    `/v1/tenants/${tenantId}/buckets/vault`,
    {
      versioning: 'Suspended',
      objectLockEnabled: false,
    },
  );
  t.is(suspended.status, 409);
  const unlocked = await adminRequest(
    adminEndpoint,
    adminKey,
    'PUT',
    `/v1/tenants/${tenantId}/buckets/vault`,
    {
      objectLockEnabled: false,
    },
  );
  t.is(unlocked.status, 200);
  const configuration = await s3.send(new GetObjectLockConfigurationCommand({ Bucket: 'vault' }));
  t.is(configuration.ObjectLockConfiguration?.ObjectLockEnabled, 'Enabled');
  for (const target of [
    `/v1/tenants/${tenantId}/buckets/vault`,
    `/v1/tenants/${tenantId}/buckets/vault/objects/block?versionId=${version.versionId}`,
  ]) {
    const attempt = await fetch(`${adminEndpoint}${target}`, {
      method: 'DELETE',
      headers: signAdminRequest(adminKey, { method: 'DELETE', target }),
    });
    t.true(attempt.status === 404 || attempt.status === 405, `${target}: ${attempt.status}`);
  }
  await tryEveryDelete(t, s3, version);
  await assertIntact(t, s3, version, lock);
  s3.destroy();
});
