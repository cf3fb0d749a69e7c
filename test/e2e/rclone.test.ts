// rclone (Debian's) against the real agent through an S3 remote of provider "Other", as users set
// one up for an S3-compatible service: copy, sync, check, lsf, delete, purge.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
  environment: NodeJS.ProcessEnv;
}

const test = anyTest as TestFn<Context>;
const rcloneCommand = '/usr/bin/rclone';

test.before(async (t) => {
  const agent = await startAgent();
  const workDirectory = mkdtempSync(path.join(os.tmpdir(), 'coffre-rclone-'));
  const configFile = path.join(workDirectory, 'rclone.conf');
  writeFileSync(
    configFile,
    [
      '[coffre]',
      'type = s3',
      'provider = Other',
      `access_key_id = ${agent.accessKeyId}`,
      `secret_access_key = ${agent.secretAccessKey}`,
      `endpoint = ${agent.endpoint}`,
      'region = fr-par',
      'location_constraint = fr-par',
      'force_path_style = true',
      // 5 MiB parts above 8 MiB, so the larger file of a tree goes multipart.
      'upload_cutoff = 8Mi',
      'chunk_size = 5Mi',
      '',
    ].join('\n'),
  );
  const environment = clientEnvironment({ HOME: workDirectory, RCLONE_CONFIG: configFile });
  t.context = { agent, workDirectory, environment };
});

test.after.always(async (t) => {
  await t.context.agent?.destroy();
  if (t.context.workDirectory) rmSync(t.context.workDirectory, { recursive: true, force: true });
});

function rclone(t: { context: Context }, ...commandArguments: string[]): Promise<CommandResult> {
  return runCommand(rcloneCommand, commandArguments, t.context.environment);
}

async function rcloneOk(t: { context: Context }, ...commandArguments: string[]): Promise<CommandResult> {
  return runChecked(rcloneCommand, commandArguments, t.context.environment);
}

function lines(text: string): string[] {
  return text.split('\n').filter((line) => line !== '');
}

test('rclone: mkdir makes a bucket that lsd lists; rmdir removes it', async (t) => {
  await rcloneOk(t, 'mkdir', 'coffre:rclone-basics');
  t.regex((await rcloneOk(t, 'lsd', 'coffre:')).stdout, / rclone-basics\n/);
  await rcloneOk(t, 'rmdir', 'coffre:rclone-basics');
  t.notRegex((await rcloneOk(t, 'lsd', 'coffre:')).stdout, /rclone-basics/);
});

test('rclone: copy uploads a tree with unicode and space names; check finds it identical; lsf lists it; copy back is byte-identical', async (t) => {
  const source = path.join(t.context.workDirectory, 'copy-source');
  const files: Record<string, number> = {
    ...awkwardTreeFiles,
    'archives/gros fichier.bin': 11 * 1024 * 1024,
  };
  writeTree(source, files);
  await rcloneOk(t, 'mkdir', 'coffre:rclone-copy');
  await rcloneOk(t, 'copy', source, 'coffre:rclone-copy/tree');
  const listed = await rcloneOk(t, 'lsf', '-R', '--files-only', 'coffre:rclone-copy/tree');
  t.deepEqual(lines(listed.stdout).sort(), Object.keys(files).sort());
  const sizes = await rcloneOk(
    t,
    'lsf',
    '-R',
    '--files-only',
    '--format',
    'ps',
    '--separator',
    '|',
    'coffre:rclone-copy/tree',
  );
  for (const line of lines(sizes.stdout)) {
    const [name, size] = line.split('|');
    t.is(Number(size), files[name], name);
  }
  const directories = await rcloneOk(t, 'lsf', '--dirs-only', 'coffre:rclone-copy/tree');
  t.deepEqual(lines(directories.stdout).sort(), ['a+b/', 'archives/', 'deep/', 'été/', '日本語/'].sort());
  // check compares sizes and hashes (MD5 from the ETag, or rclone's own metadata for multipart).
  await rcloneOk(t, 'check', source, 'coffre:rclone-copy/tree');
  const again = await rcloneOk(t, 'copy', '-v', source, 'coffre:rclone-copy/tree');
  t.notRegex(again.stderr, /: Copied/);
  const restored = path.join(t.context.workDirectory, 'copy-restored');
  mkdirSync(restored);
  await rcloneOk(t, 'copy', 'coffre:rclone-copy/tree', restored);
  t.deepEqual(treeDifferences(source, restored), []);
  t.deepEqual(listTree(restored), Object.keys(files).sort());
});

test('rclone: sync mirrors changes (a new file, a changed one, a removed one) and check agrees; a changed byte is found by check', async (t) => {
  const source = path.join(t.context.workDirectory, 'sync-source');
  writeTree(source, awkwardTreeFiles);
  await rcloneOk(t, 'mkdir', 'coffre:rclone-sync');
  await rcloneOk(t, 'sync', source, 'coffre:rclone-sync/mirror');
  rmSync(path.join(source, 'readme.txt'));
  writeFileSync(path.join(source, 'été', 'nouveau fichier.txt'), 'nouveau');
  writeFileSync(path.join(source, 'percent%20name.txt'), 'changed, and longer than before');
  const synced = await rcloneOk(t, 'sync', '-v', source, 'coffre:rclone-sync/mirror');
  t.regex(synced.stderr, /readme\.txt: Deleted/);
  t.regex(synced.stderr, /été\/nouveau fichier\.txt: Copied/);
  t.regex(synced.stderr, /percent%20name\.txt: Copied/);
  await rcloneOk(t, 'check', source, 'coffre:rclone-sync/mirror');
  const listed = await rcloneOk(t, 'lsf', '-R', '--files-only', 'coffre:rclone-sync/mirror');
  t.deepEqual(lines(listed.stdout).sort(), listTree(source));
  // Same size, different bytes: check must notice through the hash.
  writeFileSync(path.join(source, 'été', 'nouveau fichier.txt'), 'NOUVEAU');
  const mismatch = await rclone(t, 'check', source, 'coffre:rclone-sync/mirror');
  t.not(mismatch.exitCode, 0);
  t.regex(mismatch.stderr, /1 differences found/);
});

test('rclone: delete removes the files under a path and purge removes the bucket', async (t) => {
  const source = path.join(t.context.workDirectory, 'delete-source');
  writeTree(source, awkwardTreeFiles);
  await rcloneOk(t, 'mkdir', 'coffre:rclone-delete');
  await rcloneOk(t, 'copy', source, 'coffre:rclone-delete');
  await rcloneOk(t, 'delete', 'coffre:rclone-delete/été');
  const remaining = await rcloneOk(t, 'lsf', '-R', '--files-only', 'coffre:rclone-delete');
  t.deepEqual(
    lines(remaining.stdout).sort(),
    Object.keys(awkwardTreeFiles)
      .filter((name) => !name.startsWith('été/'))
      .sort(),
  );
  const refused = await rclone(t, 'rmdir', 'coffre:rclone-delete');
  t.not(refused.exitCode, 0);
  t.regex(refused.stderr, /BucketNotEmpty/);
  await rcloneOk(t, 'purge', 'coffre:rclone-delete');
  t.notRegex((await rcloneOk(t, 'lsd', 'coffre:')).stdout, /rclone-delete/);
});
