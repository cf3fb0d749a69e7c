// s3cmd (Debian's) against the real agent, configured as its users do for a non-AWS endpoint: a
// config file with host_base/host_bucket set to the endpoint (path-style), plain HTTP, SigV4.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import anyTest, { type TestFn } from 'ava';
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
  configFile: string;
  environment: NodeJS.ProcessEnv;
}

const test = anyTest as TestFn<Context>;
const s3cmdCommand = '/usr/bin/s3cmd';

test.before(async (t) => {
  const agent = await startAgent();
  const workDirectory = mkdtempSync(path.join(os.tmpdir(), 'coffre-s3cmd-'));
  const hostAndPort = new URL(agent.endpoint).host;
  const configFile = path.join(workDirectory, 's3cfg');
  // host_bucket without %(bucket)s keeps every request path-style on the endpoint.
  writeFileSync(
    configFile,
    [
      '[default]',
      `access_key = ${agent.accessKeyId}`,
      `secret_key = ${agent.secretAccessKey}`,
      `host_base = ${hostAndPort}`,
      `host_bucket = ${hostAndPort}`,
      'use_https = False',
      'signature_v2 = False',
      'bucket_location = fr-par',
      'multipart_chunk_size_mb = 5',
      'progress_meter = False',
      '',
    ].join('\n'),
  );
  t.context = { agent, workDirectory, configFile, environment: clientEnvironment({ HOME: workDirectory }) };
});

test.after.always(async (t) => {
  await t.context.agent?.destroy();
  if (t.context.workDirectory) rmSync(t.context.workDirectory, { recursive: true, force: true });
});

function s3cmd(t: { context: Context }, ...commandArguments: string[]): Promise<CommandResult> {
  return runCommand(s3cmdCommand, ['-c', t.context.configFile, ...commandArguments], t.context.environment);
}

async function s3cmdOk(t: { context: Context }, ...commandArguments: string[]): Promise<string> {
  const result = await runChecked(
    s3cmdCommand,
    ['-c', t.context.configFile, ...commandArguments],
    t.context.environment,
  );
  return result.stdout;
}

/** `s3cmd ls` lines: "DATE TIME SIZE s3://bucket/key" for objects, "DIR s3://bucket/prefix/" for prefixes. */
function listedUrls(output: string): string[] {
  return output
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => line.slice(line.indexOf('s3://')));
}

test('s3cmd: mb makes a bucket that ls shows; rb removes it', async (t) => {
  t.regex(await s3cmdOk(t, 'mb', 's3://s3cmd-basics'), /Bucket 's3:\/\/s3cmd-basics\/' created/);
  t.true(listedUrls(await s3cmdOk(t, 'ls')).includes('s3://s3cmd-basics'));
  const info = await s3cmdOk(t, 'info', 's3://s3cmd-basics');
  t.regex(info, /Location:\s+fr-par/);
  await s3cmdOk(t, 'rb', 's3://s3cmd-basics');
  t.false(listedUrls(await s3cmdOk(t, 'ls')).includes('s3://s3cmd-basics'));
});

test('s3cmd: info reports a bucket and an object as on S3 for unset settings: owner pays, no expiration rule, policy or CORS, the owner with FULL_CONTROL', async (t) => {
  await s3cmdOk(t, 'mb', 's3://s3cmd-info');
  const source = path.join(t.context.workDirectory, 'info-source');
  writeTree(source, { 'note.txt': 100 });
  await s3cmdOk(t, 'put', path.join(source, 'note.txt'), 's3://s3cmd-info/note.txt');
  const bucket = await s3cmdOk(t, 'info', 's3://s3cmd-info');
  t.regex(bucket, /Payer:\s+BucketOwner/);
  t.regex(bucket, /Expiration Rule:\s+none/);
  t.regex(bucket, /Policy:\s+none/);
  t.regex(bucket, /CORS:\s+none/);
  t.regex(bucket, /ACL:\s+[^\n]+: FULL_CONTROL/);
  const object = await s3cmdOk(t, 'info', 's3://s3cmd-info/note.txt');
  t.regex(object, /SSE:\s+AES256/);
  t.regex(object, /ACL:\s+[^\n]+: FULL_CONTROL/);
  t.notRegex(`${bucket}${object}`, /ERROR|NotImplemented/);
});

test('s3cmd: put, ls, get and del of single files, including an awkward name and a multipart one', async (t) => {
  await s3cmdOk(t, 'mb', 's3://s3cmd-files');
  const source = path.join(t.context.workDirectory, 'files-source');
  const files = { 'note été.txt': 2_000, 'big.bin': 12 * 1024 * 1024 };
  writeTree(source, files);
  for (const name of Object.keys(files)) {
    await s3cmdOk(t, 'put', path.join(source, name), `s3://s3cmd-files/in/${name}`);
  }
  const listed = await s3cmdOk(t, 'ls', 's3://s3cmd-files/in/');
  t.deepEqual(listedUrls(listed).sort(), ['s3://s3cmd-files/in/big.bin', 's3://s3cmd-files/in/note été.txt']);
  t.regex(listed, /\s12582912\s+s3:\/\/s3cmd-files\/in\/big\.bin/);
  const grouped = await s3cmdOk(t, 'ls', 's3://s3cmd-files/');
  t.regex(grouped, /DIR\s+s3:\/\/s3cmd-files\/in\//);
  const back = path.join(t.context.workDirectory, 'files-back');
  mkdirSync(back);
  for (const name of Object.keys(files)) {
    await s3cmdOk(t, 'get', `s3://s3cmd-files/in/${name}`, path.join(back, name));
    t.true(readFileSync(path.join(back, name)).equals(readFileSync(path.join(source, name))), name);
  }
  await s3cmdOk(t, 'del', 's3://s3cmd-files/in/note été.txt');
  t.deepEqual(listedUrls(await s3cmdOk(t, 'ls', 's3://s3cmd-files/in/')), ['s3://s3cmd-files/in/big.bin']);
  const missing = await s3cmd(t, 'get', 's3://s3cmd-files/in/note été.txt', path.join(back, 'gone'));
  t.not(missing.exitCode, 0);
});

test('s3cmd: sync uploads a tree with unicode and space names, a second sync uploads nothing, sync back is byte-identical', async (t) => {
  await s3cmdOk(t, 'mb', 's3://s3cmd-sync');
  const source = path.join(t.context.workDirectory, 'sync-source');
  writeTree(source, awkwardTreeFiles);
  const first = await s3cmdOk(t, 'sync', `${source}/`, 's3://s3cmd-sync/tree/');
  const uploads = first.split('\n').filter((line) => line.startsWith('upload:'));
  t.is(uploads.length, Object.keys(awkwardTreeFiles).length);
  const second = await s3cmdOk(t, 'sync', `${source}/`, 's3://s3cmd-sync/tree/');
  t.deepEqual(
    second.split('\n').filter((line) => line.startsWith('upload:')),
    [],
  );
  const recursive = await s3cmdOk(t, 'ls', '--recursive', 's3://s3cmd-sync/tree/');
  t.deepEqual(
    listedUrls(recursive).sort(),
    Object.keys(awkwardTreeFiles)
      .map((name) => `s3://s3cmd-sync/tree/${name}`)
      .sort(),
  );
  const restored = path.join(t.context.workDirectory, 'sync-restored');
  mkdirSync(restored);
  await s3cmdOk(t, 'sync', 's3://s3cmd-sync/tree/', `${restored}/`);
  t.deepEqual(treeDifferences(source, restored), []);
  t.deepEqual(listTree(restored), Object.keys(awkwardTreeFiles).sort());
  // A file removed locally goes from the bucket with --delete-removed.
  rmSync(path.join(source, 'readme.txt'));
  const pruned = await s3cmdOk(t, 'sync', '--delete-removed', `${source}/`, 's3://s3cmd-sync/tree/');
  t.regex(pruned, /delete: 's3:\/\/s3cmd-sync\/tree\/readme\.txt'/);
  t.false(
    listedUrls(await s3cmdOk(t, 'ls', 's3://s3cmd-sync/tree/')).includes('s3://s3cmd-sync/tree/readme.txt'),
  );
});

test('s3cmd: rb of a bucket that holds objects fails with BucketNotEmpty; del --recursive then rb succeeds', async (t) => {
  await s3cmdOk(t, 'mb', 's3://s3cmd-remove');
  const file = path.join(t.context.workDirectory, 'one.txt');
  writeFileSync(file, 'one');
  await s3cmdOk(t, 'put', file, 's3://s3cmd-remove/a/one.txt');
  await s3cmdOk(t, 'put', file, 's3://s3cmd-remove/two.txt');
  const refused = await s3cmd(t, 'rb', 's3://s3cmd-remove');
  t.not(refused.exitCode, 0);
  t.regex(refused.stderr, /BucketNotEmpty/);
  await s3cmdOk(t, 'del', '--recursive', '--force', 's3://s3cmd-remove/');
  t.deepEqual(listedUrls(await s3cmdOk(t, 'ls', '--recursive', 's3://s3cmd-remove/')), []);
  await s3cmdOk(t, 'rb', 's3://s3cmd-remove');
  t.false(listedUrls(await s3cmdOk(t, 'ls')).includes('s3://s3cmd-remove'));
});
