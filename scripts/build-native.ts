// Builds the optional native erasure kernel, build/coffre_isal.node: a small N-API addon over
// Intel ISA-L (agent/erasure/native/coffre_isal.c). It is compiled with the system C compiler
// directly, not node-gyp: node-gyp downloads Node's headers from nodejs.org, which this project's
// machines cannot reach, while N-API needs only the headers of the `node-api-headers` package
// (the napi_* symbols resolve against the running node binary when the addon is loaded).
//
// It never fails an install: without a compiler or ISA-L (Debian: libisal-dev) it says so and
// the codec uses its portable kernels (WebAssembly SIMD, then JavaScript).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const projectRoot = fileURLToPath(new URL('..', import.meta.url));
const sourcePath = `${projectRoot}agent/erasure/native/coffre_isal.c`;
const headersPath = `${projectRoot}node_modules/node-api-headers/include`;
/** Where agent/erasure/kernels/isa-l.ts loads the addon from. */
export const nativeKernelPath = `${projectRoot}build/coffre_isal.node`;

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
  /** Where to write the addon; default nativeKernelPath (tests build variants elsewhere). */
  outputPath?: string;
  /** Extra compiler flags, after $CFLAGS (tests pass -D definitions). */
  extraFlags?: string[];
}

export async function buildNativeKernel(options: NativeBuildOptions): Promise<NativeBuildOutcome> {
  const say = (message: string): void => {
    if (!options.quiet) console.log(`erasure native kernel: ${message}`);
  };
  try {
    return build(options, say);
  } catch (error) {
    // A read-only tree, a full disk...: still not a reason to fail `npm install`.
    say(`build failed (the portable kernels will be used): ${String(error)}`);
    return 'failed';
  }
}

function build(options: NativeBuildOptions, say: (message: string) => void): NativeBuildOutcome {
  const compiler = options.compiler ?? process.env.CC ?? 'cc';
  if (spawnSync(compiler, ['--version'], { stdio: 'ignore' }).status !== 0) {
    say(`skipped, no C compiler "${compiler}" (the portable kernels will be used)`);
    return 'skipped';
  }
  const isalHeader = isalHeaderCandidates.find((candidate) => existsSync(candidate));
  if (isalHeader === undefined && process.env.CFLAGS === undefined) {
    say('skipped, ISA-L is not installed (Debian: apt-get install libisal-dev)');
    return 'skipped';
  }
  if (!existsSync(headersPath)) {
    say('skipped, node-api-headers is not installed');
    return 'skipped';
  }
  const outputPath = options.outputPath ?? nativeKernelPath;
  if (isUpToDate(outputPath)) {
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
    headersPath,
    sourcePath,
    '-lisal',
    '-o',
    temporaryPath,
  ];
  const result = spawnSync(compiler, flags, { encoding: 'utf8', timeout: compileTimeoutMs });
  if (result.status !== 0) {
    rmSync(temporaryPath, { force: true });
    say(`build failed (the portable kernels will be used):\n${result.stderr ?? result.error}`);
    return 'failed';
  }
  // Rename into place so a concurrent loader never sees a half-written addon.
  renameSync(temporaryPath, outputPath);
  say(`built ${outputPath}`);
  return 'built';
}

function isUpToDate(outputPath: string): boolean {
  if (!existsSync(outputPath)) return false;
  return statSync(outputPath).mtimeMs >= statSync(sourcePath).mtimeMs;
}
