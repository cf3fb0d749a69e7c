// kube-apiserver for the operator's end-to-end tests, built from source through the Go module proxy
// only: no release binary is reachable from here. k8s.io/kubernetes replaces its own staging modules
// (k8s.io/api, k8s.io/apiserver, ...) with ./staging paths, which `go install module@version` refuses,
// so we build it from a throwaway wrapper module that requires k8s.io/kubernetes and pins every
// staging module to its published v0.<minor>.<patch> tag. Everything (GOPATH, GOCACHE, the wrapper,
// the binary) lives under ~/.cache/coffre/kube, outside the repository: no Kubernetes code or binary
// is ever committed. `node scripts/kube-apiserver.ts` builds it when missing and prints its path.
import { spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

/** The newest served k8s.io/kubernetes whose go.mod asks for no newer Go than the installed go1.26. */
export const kubernetesVersion = 'v1.37.2';
export const kubeCacheDirectory = path.join(os.homedir(), '.cache', 'coffre', 'kube');
const goCommand = existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : 'go';
const goPath = path.join(kubeCacheDirectory, 'go', 'path');
const progressIntervalMs = 30_000;
const lockPollIntervalMs = 5_000;

export class KubeApiserverBuildError extends Error {
  readonly code = 'KUBE_APISERVER_BUILD_FAILED';
}

export function kubeApiserverPath(version = kubernetesVersion): string {
  return path.join(kubeCacheDirectory, version, 'kube-apiserver');
}

function goEnvironment(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    GOPATH: goPath,
    GOCACHE: path.join(kubeCacheDirectory, 'go', 'cache'),
    GOMODCACHE: path.join(goPath, 'pkg', 'mod'),
    GOFLAGS: '-mod=mod -buildvcs=false',
    // A static binary: no C toolchain needed, and the same file runs on any Linux test machine.
    CGO_ENABLED: '0',
    GOTOOLCHAIN: 'local',
  };
}

function log(message: string): void {
  console.log(`kube-apiserver build: ${message}`);
}

/** Runs go at low priority (nice 10: the machine is shared); calls onLine for each stderr line. */
async function runGo(args: string[], directory: string, onLine?: (line: string) => void): Promise<string> {
  const child = spawn('nice', ['-n', '10', goCommand, ...args], {
    cwd: directory,
    env: goEnvironment(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderrTail = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  let partial = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      onLine?.(line);
      stderrTail = `${stderrTail}${line}\n`.slice(-4000);
    }
  });
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  if (code !== 0) {
    // `go mod download -json` reports its errors on stdout, in the JSON.
    const printed = `${stdout.slice(-2000)}\n${stderrTail}`.trim();
    throw new KubeApiserverBuildError(`go ${args.join(' ')} exited with ${code}:\n${printed}`);
  }
  return stdout;
}

/**
 * The staging modules k8s.io/kubernetes replaces with ./staging paths, read from its own go.mod:
 * exactly the list the wrapper must pin to published tags.
 */
export function stagingModules(kubernetesGoMod: string): string[] {
  const modules = new Set<string>();
  for (const match of kubernetesGoMod.matchAll(/^\s*(?:replace\s+)?(\S+)\s+=>\s+\.\/staging\/\S+/gm)) {
    modules.add(match[1] as string);
  }
  return [...modules].sort();
}

export function wrapperGoMod(version: string, staging: string[]): string {
  // Staging modules are tagged v0.<minor>.<patch> for Kubernetes v1.<minor>.<patch>.
  const stagingVersion = version.replace(/^v1\./, 'v0.');
  const replaces = staging.map((module) => `\t${module} => ${module} ${stagingVersion}`).join('\n');
  return [
    'module coffre.invalid/kube-apiserver-build',
    '',
    'go 1.26.0',
    '',
    `require k8s.io/kubernetes ${version}`,
    '',
    'tool k8s.io/kubernetes/cmd/kube-apiserver',
    '',
    `replace (\n${replaces}\n)`,
    '',
  ].join('\n');
}

async function build(version: string, binary: string): Promise<void> {
  const startedAt = Date.now();
  const wrapperDirectory = path.join(kubeCacheDirectory, version, 'wrapper');
  mkdirSync(wrapperDirectory, { recursive: true });
  // A go.mod left by an interrupted build would steer the download; start from nothing.
  rmSync(path.join(wrapperDirectory, 'go.mod'), { force: true });
  log(`downloading k8s.io/kubernetes@${version} through the Go module proxy`);
  const downloaded = JSON.parse(
    await runGo(['mod', 'download', '-json', `k8s.io/kubernetes@${version}`], wrapperDirectory),
  ) as { GoMod: string };
  const staging = stagingModules(readFileSync(downloaded.GoMod, 'utf8'));
  if (staging.length === 0) throw new KubeApiserverBuildError(`no staging replaces in ${downloaded.GoMod}`);
  log(`pinning ${staging.length} staging modules to ${version.replace(/^v1\./, 'v0.')}`);
  writeFileSync(path.join(wrapperDirectory, 'go.mod'), wrapperGoMod(version, staging));
  rmSync(path.join(wrapperDirectory, 'go.sum'), { force: true });
  log('resolving dependencies (go mod tidy)');
  await runGo(['mod', 'tidy'], wrapperDirectory);
  const minor = /^v1\.(\d+)\./.exec(version)?.[1] ?? '0';
  const versionPackage = 'k8s.io/component-base/version';
  const linkerFlags = [
    '-s -w',
    `-X ${versionPackage}.gitVersion=${version}`,
    `-X ${versionPackage}.gitMajor=1`,
    `-X ${versionPackage}.gitMinor=${minor}`,
    `-X ${versionPackage}.gitTreeState=clean`,
  ].join(' ');
  let compiledPackages = 0;
  let lastProgressAt = Date.now();
  log('compiling (go build -v; a progress line every 30 s)');
  const temporaryBinary = `${binary}.partial`;
  await runGo(
    [
      'build',
      '-v',
      '-trimpath',
      '-ldflags',
      linkerFlags,
      '-o',
      temporaryBinary,
      'k8s.io/kubernetes/cmd/kube-apiserver',
    ],
    wrapperDirectory,
    () => {
      compiledPackages++;
      if (Date.now() - lastProgressAt >= progressIntervalMs) {
        lastProgressAt = Date.now();
        const elapsedSeconds = Math.round((Date.now() - startedAt) / 1000);
        log(
          `${compiledPackages} packages compiled, ${elapsedSeconds} s, load ${os.loadavg()[0]?.toFixed(2)}`,
        );
      }
    },
  );
  renameSync(temporaryBinary, binary);
  log(`done in ${Math.round((Date.now() - startedAt) / 1000)} s: ${binary}`);
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the build lock (a file holding our PID); false if a live process holds it. */
function tryLock(lockPath: string): boolean {
  try {
    const descriptor = openSync(lockPath, 'wx');
    writeFileSync(descriptor, String(process.pid));
    closeSync(descriptor);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const holder = Number.parseInt(readFileSync(lockPath, 'utf8'), 10);
    if (Number.isInteger(holder) && processIsAlive(holder)) return false;
    // The holder died mid-build: its lock is stale.
    rmSync(lockPath, { force: true });
    return tryLock(lockPath);
  }
}

/** The kube-apiserver binary's path, building it first when it is missing (idempotent, one build at a time). */
export async function ensureKubeApiserver(version = kubernetesVersion): Promise<string> {
  const binary = kubeApiserverPath(version);
  if (existsSync(binary)) return binary;
  mkdirSync(path.dirname(binary), { recursive: true });
  const lockPath = path.join(path.dirname(binary), 'build.lock');
  let announcedWait = false;
  while (!tryLock(lockPath)) {
    if (!announcedWait) log(`another build holds ${lockPath}; waiting for it`);
    announcedWait = true;
    await delay(lockPollIntervalMs);
    if (existsSync(binary)) return binary;
  }
  try {
    if (!existsSync(binary)) await build(version, binary);
  } finally {
    rmSync(lockPath, { force: true });
  }
  return binary;
}

if (import.meta.main) {
  console.log(await ensureKubeApiserver(process.argv[2]));
}
