// awscli v1 (as installed by the test setup) against the real agent: the high-level `aws s3`
// commands backup scripts use (mb, cp, sync, ls, rm, rb) and the `aws s3api` calls behind bucket
// administration, each output parsed (--output json) and compared with what was sent.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import anyTest, { type TestFn } from 'ava';
import { awsCommand } from '../../scripts/test-clients.ts';
import { type AgentProcess, startAgent } from '../support/agent-process.ts';
import {
  awkwardTreeFiles,
  type CommandResult,
  clientEnvironment,
  listTree,
  runChecked,
  runCommand,
  treeDifferences,
  writeTree,
} from './client-fixtures.ts';

interface Context {
  agent: AgentProcess;
  workDirectory: string;
  environment: NodeJS.ProcessEnv;
}

const test = anyTest as TestFn<Context>;

test.before(async (t) => {
  const agent = await startAgent();
  const workDirectory = mkdtempSync(path.join(os.tmpdir(), 'coffre-awscli-'));
  const configFile = path.join(workDirectory, 'aws-config');
  // Path-style addressing against a plain-HTTP endpoint; 5 MiB parts so a 9 MiB file goes multipart.
  writeFileSync(
    configFile,
    [
      '[default]',
      'region = fr-par',
      's3 =',
      '    addressing_style = path',
      '    multipart_threshold = 8MB',
      '    multipart_chunksize = 5MB',
      '',
    ].join('\n'),
  );
  const credentialsFile = path.join(workDirectory, 'aws-credentials');
  writeFileSync(
    credentialsFile,
    `[default]\naws_access_key_id = ${agent.accessKeyId}\naws_secret_access_key = ${agent.secretAccessKey}\n`,
  );
  const environment = clientEnvironment({
    HOME: workDirectory,
    AWS_CONFIG_FILE: configFile,
    AWS_SHARED_CREDENTIALS_FILE: credentialsFile,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_PAGER: '',
  });
  t.context = { agent, workDirectory, environment };
});

test.after.always(async (t) => {
  await t.context.agent?.destroy();
  if (t.context.workDirectory) rmSync(t.context.workDirectory, { recursive: true, force: true });
});

function aws(t: { context: Context }, ...commandArguments: string[]): Promise<CommandResult> {
  return runCommand(
    awsCommand,
    ['--endpoint-url', t.context.agent.endpoint, '--output', 'json', ...commandArguments],
    t.context.environment,
  );
}

async function awsJson(
  t: { context: Context },
  ...commandArguments: string[]
): Promise<Record<string, unknown>> {
  const result = await runChecked(
    awsCommand,
    ['--endpoint-url', t.context.agent.endpoint, '--output', 'json', ...commandArguments],
    t.context.environment,
  );
  return result.stdout.trim() === '' ? {} : (JSON.parse(result.stdout) as Record<string, unknown>);
}

async function awsOk(t: { context: Context }, ...commandArguments: string[]): Promise<string> {
  const result = await runChecked(
    awsCommand,
    ['--endpoint-url', t.context.agent.endpoint, ...commandArguments],
    t.context.environment,
  );
  return result.stdout;
}

test('awscli: s3 mb makes a bucket that head-bucket, get-bucket-location and list-buckets show; s3 rb removes it', async (t) => {
  t.is((await awsOk(t, 's3', 'mb', 's3://cli-basics')).trim(), 'make_bucket: cli-basics');
  const head = await awsJson(t, 's3api', 'head-bucket', '--bucket', 'cli-basics');
  t.is(head.BucketRegion, 'fr-par');
  const location = await awsJson(t, 's3api', 'get-bucket-location', '--bucket', 'cli-basics');
  t.is(location.LocationConstraint, 'fr-par');
  const buckets = (await awsJson(t, 's3api', 'list-buckets')).Buckets as { Name: string }[];
  t.true(buckets.some((bucket) => bucket.Name === 'cli-basics'));
  t.regex(await awsOk(t, 's3', 'ls'), /\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} cli-basics\n/);
  t.is((await awsOk(t, 's3', 'rb', 's3://cli-basics')).trim(), 'remove_bucket: cli-basics');
  const missing = await aws(t, 's3api', 'head-bucket', '--bucket', 'cli-basics');
  t.not(missing.exitCode, 0);
  t.regex(missing.stderr, /\(404\)/);
});

test('awscli: s3api create-bucket accepts the agent region, refuses another with IllegalLocationConstraintException, and a second create with BucketAlreadyOwnedByYou', async (t) => {
  const created = await awsJson(
    t,
    's3api',
    'create-bucket',
    '--bucket',
    'cli-located',
    '--create-bucket-configuration',
    'LocationConstraint=fr-par',
  );
  t.is(created.Location, '/cli-located');
  const elsewhere = await aws(
    t,
    's3api',
    'create-bucket',
    '--bucket',
    'cli-elsewhere',
    '--create-bucket-configuration',
    'LocationConstraint=eu-west-1',
  );
  t.not(elsewhere.exitCode, 0);
  t.regex(elsewhere.stderr, /IllegalLocationConstraintException/);
  const again = await aws(t, 's3api', 'create-bucket', '--bucket', 'cli-located');
  t.not(again.exitCode, 0);
  t.regex(again.stderr, /BucketAlreadyOwnedByYou/);
  await awsOk(t, 's3api', 'delete-bucket', '--bucket', 'cli-located');
  const buckets = (await awsJson(t, 's3api', 'list-buckets')).Buckets as { Name: string }[];
  t.false(buckets.some((bucket) => bucket.Name === 'cli-located'));
});

test('awscli: s3 sync uploads a tree with unicode and space names, a second sync transfers nothing, cp --recursive brings it back byte for byte', async (t) => {
  const source = path.join(t.context.workDirectory, 'sync-source');
  const files: Record<string, number> = { ...awkwardTreeFiles, 'archives/gros fichier.bin': 9 * 1024 * 1024 };
  writeTree(source, files);
  await awsOk(t, 's3', 'mb', 's3://cli-sync');
  const first = await awsOk(t, 's3', 'sync', source, 's3://cli-sync/backup', '--no-progress');
  const uploaded = first
    .split('\n')
    .filter((line) => line.startsWith('upload: '))
    .map((line) =>
      line.slice(line.indexOf(' to s3://cli-sync/backup/') + ' to s3://cli-sync/backup/'.length),
    );
  t.deepEqual(uploaded.sort(), Object.keys(files).sort());
  const second = await awsOk(t, 's3', 'sync', source, 's3://cli-sync/backup', '--no-progress');
  t.is(second.trim(), '', 'nothing to transfer the second time');
  const listed = await awsJson(
    t,
    's3api',
    'list-objects-v2',
    '--no-paginate',
    '--bucket',
    'cli-sync',
    '--prefix',
    'backup/',
  );
  const contents = listed.Contents as { Key: string; Size: number }[];
  t.deepEqual(
    contents.map((object) => object.Key),
    Object.keys(files)
      .map((name) => `backup/${name}`)
      .sort((left, right) => Buffer.compare(Buffer.from(left), Buffer.from(right))),
  );
  for (const object of contents) t.is(object.Size, files[object.Key.slice('backup/'.length)], object.Key);
  t.is(listed.KeyCount, Object.keys(files).length);
  const top = await awsOk(t, 's3', 'ls', 's3://cli-sync/backup/');
  t.true(top.includes('PRE été/'));
  t.true(top.includes('PRE 日本語/'));
  t.regex(top, / 0 empty file\n/);
  const restored = path.join(t.context.workDirectory, 'sync-restored');
  mkdirSync(restored);
  await awsOk(t, 's3', 'cp', '--recursive', 's3://cli-sync/backup', restored, '--no-progress');
  t.deepEqual(treeDifferences(source, restored), []);
  t.deepEqual(listTree(restored), Object.keys(files).sort());
});

test('awscli: with versioning Enabled, two uploads and an rm show as two versions and a latest delete marker', async (t) => {
  await awsOk(t, 's3', 'mb', 's3://cli-versions');
  await awsOk(
    t,
    's3api',
    'put-bucket-versioning',
    '--bucket',
    'cli-versions',
    '--versioning-configuration',
    'Status=Enabled',
  );
  t.is((await awsJson(t, 's3api', 'get-bucket-versioning', '--bucket', 'cli-versions')).Status, 'Enabled');
  const file = path.join(t.context.workDirectory, 'version.txt');
  writeFileSync(file, 'first');
  await awsOk(t, 's3', 'cp', file, 's3://cli-versions/doc.txt');
  writeFileSync(file, 'second, longer');
  await awsOk(t, 's3', 'cp', file, 's3://cli-versions/doc.txt');
  await awsOk(t, 's3', 'rm', 's3://cli-versions/doc.txt');
  const listed = await awsJson(t, 's3api', 'list-object-versions', '--bucket', 'cli-versions');
  const versions = listed.Versions as { Key: string; Size: number; IsLatest: boolean; VersionId: string }[];
  const markers = listed.DeleteMarkers as { Key: string; IsLatest: boolean; VersionId: string }[];
  t.deepEqual(
    versions.map((version) => [version.Key, version.Size, version.IsLatest]),
    [
      ['doc.txt', 14, false],
      ['doc.txt', 5, false],
    ],
  );
  t.deepEqual(
    markers.map((marker) => [marker.Key, marker.IsLatest]),
    [['doc.txt', true]],
  );
  t.not(versions[0].VersionId, versions[1].VersionId);
  const current = await awsJson(t, 's3api', 'list-objects-v2', '--no-paginate', '--bucket', 'cli-versions');
  t.is(current.KeyCount, 0);
  const older = path.join(t.context.workDirectory, 'older.txt');
  await awsOk(
    t,
    's3api',
    'get-object',
    '--bucket',
    'cli-versions',
    '--key',
    'doc.txt',
    '--version-id',
    versions[1].VersionId,
    older,
  );
  t.is(readFileSync(older, 'utf8'), 'first');
});

test('awscli: a bucket with objects refuses delete-bucket with BucketNotEmpty; s3 rm --recursive empties it and it goes', async (t) => {
  const source = path.join(t.context.workDirectory, 'rm-source');
  writeTree(source, awkwardTreeFiles);
  await awsOk(t, 's3', 'mb', 's3://cli-remove');
  await awsOk(t, 's3', 'cp', '--recursive', source, 's3://cli-remove/', '--no-progress');
  const refused = await aws(t, 's3api', 'delete-bucket', '--bucket', 'cli-remove');
  t.not(refused.exitCode, 0);
  t.regex(refused.stderr, /BucketNotEmpty/);
  const removed = await awsOk(t, 's3', 'rm', '--recursive', 's3://cli-remove/');
  t.is(
    removed.split('\n').filter((line) => line.startsWith('delete: ')).length,
    Object.keys(awkwardTreeFiles).length,
  );
  t.is((await awsJson(t, 's3api', 'list-objects-v2', '--no-paginate', '--bucket', 'cli-remove')).KeyCount, 0);
  await awsOk(t, 's3api', 'delete-bucket', '--bucket', 'cli-remove');
  const buckets = (await awsJson(t, 's3api', 'list-buckets')).Buckets as { Name: string }[];
  t.false(buckets.some((bucket) => bucket.Name === 'cli-remove'));
});

test('awscli: s3api object lock and CORS configuration round-trip', async (t) => {
  await awsOk(t, 's3api', 'create-bucket', '--bucket', 'cli-locked', '--object-lock-enabled-for-bucket');
  await awsOk(
    t,
    's3api',
    'put-object-lock-configuration',
    '--bucket',
    'cli-locked',
    '--object-lock-configuration',
    '{"ObjectLockEnabled":"Enabled","Rule":{"DefaultRetention":{"Mode":"GOVERNANCE","Days":7}}}',
  );
  const lock = await awsJson(t, 's3api', 'get-object-lock-configuration', '--bucket', 'cli-locked');
  t.deepEqual(lock.ObjectLockConfiguration, {
    ObjectLockEnabled: 'Enabled',
    Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 7 } },
  });
  const suspend = await aws(
    t,
    's3api',
    'put-bucket-versioning',
    '--bucket',
    'cli-locked',
    '--versioning-configuration',
    'Status=Suspended',
  );
  t.regex(suspend.stderr, /InvalidBucketState/);
  const cors = {
    CORSRules: [
      { AllowedOrigins: ['https://console.example.fr'], AllowedMethods: ['GET'], MaxAgeSeconds: 60 },
    ],
  };
  await awsOk(
    t,
    's3api',
    'put-bucket-cors',
    '--bucket',
    'cli-locked',
    '--cors-configuration',
    JSON.stringify(cors),
  );
  t.deepEqual(await awsJson(t, 's3api', 'get-bucket-cors', '--bucket', 'cli-locked'), cors);
  await awsOk(t, 's3api', 'delete-bucket-cors', '--bucket', 'cli-locked');
  const none = await aws(t, 's3api', 'get-bucket-cors', '--bucket', 'cli-locked');
  t.regex(none.stderr, /NoSuchCORSConfiguration/);
});
