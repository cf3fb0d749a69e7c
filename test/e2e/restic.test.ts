// restic (from Debian) against the real agent: init a repository in a bucket, back up a generated tree
// (nested directories, Unicode names, small and larger files), check every pack with --read-data,
// restore into a new directory and compare the restored tree file by file, byte for byte. The tests
// share one repository and run in order (two concurrent `restic init` would race on its config).
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import anyTest, { type TestFn } from 'ava';
import { type AgentProcess, startAgent } from '../support/agent-process.ts';

const test = anyTest as TestFn<{ agent: AgentProcess; work: string }>;

/** Relative path -> size in bytes: a few MB in all, with names restic and S3 keys must both carry. */
const treeFiles: Readonly<Record<string, number>> = {
  'README.txt': 1_500,
  empty: 0,
  'projets/été 2026/rapport final.pdf': 180_000,
  'projets/été 2026/données/mesures+1.csv': 40_000,
  'projets/日本語/ファイル.txt': 9_000,
  'projets/deep/a/b/c/d/e/leaf.bin': 12_345,
  'média/vidéo brute.mov': 3 * 1024 * 1024 + 17,
  'média/archive.tar': 5 * 1024 * 1024,
  'spaces  and  tabs\t/x y z.txt': 777,
  'emoji 🎉/fête.txt': 4_096,
};

function writeTree(root: string): void {
  for (const [relative, sizeBytes] of Object.entries(treeFiles)) {
    const file = path.join(root, relative);
    mkdirSync(path.dirname(file), { recursive: true });
    // Half random, half repeated: restic's deduplication and compression both get something to do.
    const random = randomBytes(Math.ceil(sizeBytes / 2));
    writeFileSync(file, Buffer.concat([random, Buffer.alloc(sizeBytes - random.length, 0x61)]));
  }
}

/** Every regular file under root, by relative path, with its sha256. */
function treeDigest(root: string): Record<string, string> {
  const digest: Record<string, string> = {};
  const walk = (directory: string) => {
    for (const entry of readdirSync(directory, { withFileTypes: true })) {
      const full = path.join(directory, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (statSync(full).isFile()) {
        digest[path.relative(root, full)] = createHash('sha256').update(readFileSync(full)).digest('hex');
      }
    }
  };
  walk(root);
  return digest;
}

function restic(context: { agent: AgentProcess; work: string }, resticArguments: string[]): Promise<string> {
  const { agent, work } = context;
  const repository = `s3:${agent.endpoint}/restic-repository`;
  return new Promise((resolve, reject) => {
    execFile(
      'restic',
      ['-r', repository, '--cache-dir', path.join(work, 'cache'), ...resticArguments],
      {
        env: {
          PATH: process.env.PATH,
          HOME: work,
          RESTIC_PASSWORD: 'correct horse battery staple',
          AWS_ACCESS_KEY_ID: agent.accessKeyId,
          AWS_SECRET_ACCESS_KEY: agent.secretAccessKey,
          AWS_DEFAULT_REGION: 'fr-par',
        },
        maxBuffer: 16 * 1024 * 1024,
        encoding: 'utf8',
      },
      (error, stdout, stderr) =>
        error
          ? reject(new Error(`restic ${resticArguments.join(' ')}: ${error.message}\n${stdout}\n${stderr}`))
          : resolve(stdout),
    );
  });
}

test.before(async (t) => {
  t.context = { agent: await startAgent(), work: mkdtempSync(path.join(os.tmpdir(), 'coffre-restic-')) };
});

test.after.always(async (t) => {
  await t.context.agent?.destroy();
  if (t.context.work) rmSync(t.context.work, { recursive: true, force: true });
});

test.serial(
  'restic: init, backup, check --read-data and restore give back a byte-identical tree',
  async (t) => {
    const { work } = t.context;
    const source = path.join(work, 'source');
    writeTree(source);
    await restic(t.context, ['init']);
    const backup = JSON.parse(
      (await restic(t.context, ['backup', '--json', source])).trim().split('\n').at(-1) ?? '{}',
    ) as { message_type?: string; total_files_processed?: number };
    t.is(backup.message_type, 'summary');
    t.is(backup.total_files_processed, Object.keys(treeFiles).length);
    const checked = await restic(t.context, ['check', '--read-data']);
    t.regex(checked, /no errors were found/);
    const target = path.join(work, 'restored');
    await restic(t.context, ['restore', 'latest', '--target', target]);
    // restic restores the backed-up absolute path under the target.
    t.deepEqual(treeDigest(path.join(target, source)), treeDigest(source));
    t.is(Object.keys(treeDigest(source)).length, Object.keys(treeFiles).length);
  },
);

test.serial(
  'restic: a second backup of the same tree finds every file unmodified and uploads no file data',
  async (t) => {
    const { work } = t.context;
    const source = path.join(work, 'source-twice');
    writeTree(source);
    await restic(t.context, ['backup', '--json', source]);
    const second = JSON.parse(
      (await restic(t.context, ['backup', '--json', source])).trim().split('\n').at(-1) ?? '{}',
    ) as { data_added?: number; files_unmodified?: number };
    // Only a new tree blob and the snapshot go up (a few hundred bytes); the files' megabytes do not.
    t.true((second.data_added ?? Number.POSITIVE_INFINITY) < 64 * 1024, String(second.data_added));
    t.is(second.files_unmodified, Object.keys(treeFiles).length);
    const snapshots = JSON.parse(
      await restic(t.context, ['snapshots', '--json', '--path', source]),
    ) as unknown[];
    t.is(snapshots.length, 2);
  },
);
