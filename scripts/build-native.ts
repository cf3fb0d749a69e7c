// Builds the optional native addons, each a small N-API addon compiled with the system C compiler
// directly, not node-gyp: node-gyp downloads Node's headers from nodejs.org, which this project's
// machines cannot reach, while N-API needs only the headers of the `node-api-headers` package (the
// napi_* symbols resolve against the running node binary when the addon is loaded).
//
// - build/coffre_isal.node, the erasure kernel over Intel ISA-L (agent/erasure/native/coffre_isal.c);
//   needs ISA-L (Debian: libisal-dev).
// - build/coffre_gcm.node, AES-256-GCM into caller-provided memory (agent/crypto/native/coffre_gcm.c);
//   needs the OpenSSL headers that ship with the running Node.js (include/node/openssl beside its
//   binary): the addon calls that binary's own OpenSSL, so it is built against its headers.
//
// - build/coffre_md5.node, MD5 of up to sixteen bodies at once (agent/digest/native/coffre_md5.c);
//   like the cipher, built against the OpenSSL headers of the running Node.js, whose MD5 it calls.
// - build/coffre_aligned.node, memory aligned for O_DIRECT writes (agent/disk/native/coffre_aligned.c);
//   needs only N-API and libc.
//
// It never fails an install: without a compiler or a library it says so, and the agent uses its
// portable code (the WebAssembly and JavaScript erasure kernels, Node's cipher and hash APIs, writes
// through the page cache).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, realpathSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const projectRoot = fileURLToPath(new URL('..', import.meta.url));
const napiHeadersPath = `${projectRoot}node_modules/node-api-headers/include`;
/** Where agent/erasure/kernels/isa-l.ts loads the erasure addon from. */
export const nativeKernelPath = `${projectRoot}build/coffre_isal.node`;
/** Where agent/crypto/native-gcm.ts loads the cipher addon from. */
export const nativeCipherPath = `${projectRoot}build/coffre_gcm.node`;

/** C helpers the addons include: a change to them builds those addons again. */
const sharedHeaderPath = `${projectRoot}agent/native/coffre_napi.h`;
/** Where agent/digest/native-md5.ts loads the MD5 addon from. */
export const nativeMd5Path = `${projectRoot}build/coffre_md5.node`;
/** Where agent/disk/aligned-memory.ts loads the aligned memory addon from. */
export const nativeAlignedPath = `${projectRoot}build/coffre_aligned.node`;

/** Where ISA-L's header is looked for; CPATH-style overrides go through CFLAGS. */
const isalHeaderCandidates = [
  '/usr/include/isa-l.h',
  '/usr/local/include/isa-l.h',
  '/opt/homebrew/include/isa-l.h',
];
const compileTimeoutMs = 120_000;

export type NativeBuildOutcome = 'built' | 'up-to-date' | 'skipped' | 'failed';

export interface NativeBuildOptions {
  /** Print nothing (`npm test` wants silence); otherwise one line says what happened. */
  quiet: boolean;
  /** The C compiler; default $CC, else `cc`. */
  compiler?: string;
  /** Where to write the addon; default its place under build/ (tests build variants elsewhere). */
  outputPath?: string;
  /** Extra compiler flags, after $CFLAGS (tests pass -D definitions). */
  extraFlags?: string[];
}

interface Addon {
  /** How its lines start. */
  label: string;
  /** What the agent does without it. */
  fallback: string;
  sourcePath: string;
  outputPath: string;
  /** Include directories besides N-API's, or a reason to skip the build. */
  includes(): string[] | { skip: string };
  libraries: string[];
  /** Files besides the source that a built addon must be newer than (else it is built again). */
  builtAgainst(): string[];
}

const isalAddon: Addon = {
  label: 'erasure native kernel',
  fallback: 'the portable kernels will be used',
  sourcePath: `${projectRoot}agent/erasure/native/coffre_isal.c`,
  outputPath: nativeKernelPath,
  includes() {
    const isalHeader = isalHeaderCandidates.find((candidate) => existsSync(candidate));
    if (isalHeader === undefined && process.env.CFLAGS === undefined)
      return { skip: 'ISA-L is not installed (Debian: apt-get install libisal-dev)' };
    return [];
  },
  libraries: ['-lisal'],
  // N-API is stable across Node releases, and ISA-L is linked dynamically.
  builtAgainst: () => [],
};

/** include/node of the Node.js running this script: its OpenSSL headers match its OpenSSL. */
export function runningNodeIncludePath(): string {
  return join(dirname(realpathSync(process.execPath)), '..', 'include', 'node');
}

/** The include directory of the running Node's OpenSSL headers, or why there is none. */
function nodeOpensslIncludes(header: string): string[] | { skip: string } {
  const include = runningNodeIncludePath();
  if (!existsSync(join(include, 'openssl', header)))
    return { skip: `this Node.js ships no OpenSSL headers (${include}/openssl)` };
  return [include];
}

const gcmAddon: Addon = {
  label: 'native AES-GCM',
  fallback: "Node's cipher API will be used",
  sourcePath: `${projectRoot}agent/crypto/native/coffre_gcm.c`,
  outputPath: nativeCipherPath,
  includes: () => nodeOpensslIncludes('evp.h'),
  // The EVP functions resolve against the node binary, which exports the OpenSSL it links.
  libraries: [],
  // A newer Node may ship another OpenSSL: the addon is built again against its headers.
  builtAgainst: () => [realpathSync(process.execPath), sharedHeaderPath],
};

const md5Addon: Addon = {
  label: 'native multi-stream MD5',
  fallback: "Node's hash API will be used, one body at a time",
  sourcePath: `${projectRoot}agent/digest/native/coffre_md5.c`,
  outputPath: nativeMd5Path,
  includes: () => nodeOpensslIncludes('md5.h'),
  // MD5_Init, MD5_Update and MD5_Final resolve against the node binary, as the cipher's EVP does.
  libraries: [],
  builtAgainst: () => [realpathSync(process.execPath), sharedHeaderPath],
};

const alignedAddon: Addon = {
  label: 'aligned memory for direct I/O',
  fallback: 'shard files are written through the page cache',
  sourcePath: `${projectRoot}agent/disk/native/coffre_aligned.c`,
  outputPath: nativeAlignedPath,
  includes: () => [],
  // posix_memalign and free come from libc; N-API is stable across Node releases.
  libraries: [],
  builtAgainst: () => [sharedHeaderPath],
};

/** Builds the ISA-L erasure addon. */
export function buildNativeKernel(options: NativeBuildOptions): Promise<NativeBuildOutcome> {
  return buildAddon(isalAddon, options);
}

/** Builds the AES-GCM addon. */
export function buildNativeCipher(options: NativeBuildOptions): Promise<NativeBuildOutcome> {
  return buildAddon(gcmAddon, options);
}

/** Builds the multi-stream MD5 addon. */
export function buildNativeMd5(options: NativeBuildOptions): Promise<NativeBuildOutcome> {
  return buildAddon(md5Addon, options);
}

/** Builds the aligned memory addon. */
export function buildNativeAligned(options: NativeBuildOptions): Promise<NativeBuildOutcome> {
  return buildAddon(alignedAddon, options);
}

/** Builds every addon; each is optional, so this never rejects. */
export async function buildNativeAddons(options: { quiet: boolean }): Promise<void> {
  await buildNativeKernel(options);
  await buildNativeCipher(options);
  await buildNativeMd5(options);
  await buildNativeAligned(options);
}

async function buildAddon(addon: Addon, options: NativeBuildOptions): Promise<NativeBuildOutcome> {
  const say = (message: string): void => {
    if (!options.quiet) console.log(`${addon.label}: ${message}`);
  };
  try {
    return build(addon, options, say);
  } catch (error) {
    // A read-only tree, a full disk...: still not a reason to fail `npm install`.
    say(`build failed (${addon.fallback}): ${String(error)}`);
    return 'failed';
  }
}

function build(
  addon: Addon,
  options: NativeBuildOptions,
  say: (message: string) => void,
): NativeBuildOutcome {
  const compiler = options.compiler ?? process.env.CC ?? 'cc';
  if (spawnSync(compiler, ['--version'], { stdio: 'ignore' }).status !== 0) {
    say(`skipped, no C compiler "${compiler}" (${addon.fallback})`);
    return 'skipped';
  }
  const includes = addon.includes();
  if (!Array.isArray(includes)) {
    say(`skipped, ${includes.skip} (${addon.fallback})`);
    return 'skipped';
  }
  if (!existsSync(napiHeadersPath)) {
    say('skipped, node-api-headers is not installed');
    return 'skipped';
  }
  const outputPath = options.outputPath ?? addon.outputPath;
  if (isUpToDate([addon.sourcePath, ...addon.builtAgainst()], outputPath)) {
    say(`up to date, ${outputPath}`);
    return 'up-to-date';
  }
  mkdirSync(dirname(outputPath), { recursive: true });
  const temporaryPath = `${outputPath}.${process.pid}.tmp`;
  const platformFlags = process.platform === 'darwin' ? ['-undefined', 'dynamic_lookup'] : [];
  const flags = [
    '-O2',
    '-Wall',
    '-shared',
    '-fPIC',
    ...platformFlags,
    ...(process.env.CFLAGS?.split(/\s+/).filter(Boolean) ?? []),
    ...(options.extraFlags ?? []),
    '-I',
    napiHeadersPath,
    ...includes.flatMap((include) => ['-I', include]),
    addon.sourcePath,
    ...addon.libraries,
    '-o',
    temporaryPath,
  ];
  const result = spawnSync(compiler, flags, { encoding: 'utf8', timeout: compileTimeoutMs });
  if (result.status !== 0) {
    rmSync(temporaryPath, { force: true });
    say(`build failed (${addon.fallback}):\n${result.stderr ?? result.error}`);
    return 'failed';
  }
  // Rename into place so a concurrent loader never sees a half-written addon.
  renameSync(temporaryPath, outputPath);
  say(`built ${outputPath}`);
  return 'built';
}

function isUpToDate(inputs: string[], outputPath: string): boolean {
  if (!existsSync(outputPath)) return false;
  const builtMs = statSync(outputPath).mtimeMs;
  return inputs.every((input) => builtMs >= statSync(input).mtimeMs);
}
