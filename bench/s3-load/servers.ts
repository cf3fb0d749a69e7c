// The servers under load, each started on 127.0.0.1 over six directories (a 4+2 erasure set) in
// a temporary directory, with the same key, and stopped by PID: the Coffre agent as `npm start`
// runs it, and MinIO (`minio server DIR/d{1...6}`) when bench/minio.ts could build it.

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdir, symlink } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { agentNodeFlags } from '../../agent/node-flags.ts';
import { ownChild, removeScratch, scratchDirectory } from '../scratch.ts';
import type { S3Target } from './signed-client.ts';

const repositoryRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface BenchServer {
  readonly name: string;
  readonly pid: number;
  readonly target: S3Target;
  /** Where its drives are (what settle() syncs). */
  readonly directory: string;
  /** The last of what the server printed (for a failure's report). */
  output(): string;
  /** SIGTERM, then SIGKILL after a grace period; resolves when the process has exited. */
  stop(): Promise<void>;
}

export const benchKey = {
  accessKeyId: 'COFFREBENCHACCESSKEY',
  secretAccessKey: 'coffre-bench-secret-key-0123456789abcdef01',
};
export const benchRegion = 'fr-par';
const stopGraceMs = 15_000;
const keptOutputCharacters = 20_000;

/**
 * Spawns `node AGENT_MAIN` on port 0 over DIRECTORY and waits for it to print its endpoint.
 * `onOutput` sees everything it prints (`output()` keeps only the end).
 */
export async function startCoffre(
  agentMain: string,
  directory: string,
  nodeArguments: string[] = [],
  onOutput?: (text: string) => void,
): Promise<BenchServer> {
  const child = spawn(
    process.execPath,
    [
      // The agent's own flags first: arguments given for a run come after them and win.
      ...agentNodeFlags,
      ...nodeArguments,
      agentMain,
      '--port',
      '0',
      '--data',
      directory,
      '--drives',
      '6',
      '--parity',
      '2',
      '--region',
      benchRegion,
    ],
    {
      cwd: path.dirname(path.dirname(agentMain)),
      env: {
        ...process.env,
        COFFRE_ACCESS_KEY: benchKey.accessKeyId,
        COFFRE_SECRET_KEY: benchKey.secretAccessKey,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  ownChild(child);
  const watched = watchProcess(child, onOutput);
  const deadline = Date.now() + 60_000;
  let endpoint: string | undefined;
  while (endpoint === undefined) {
    endpoint = /S3 endpoint:\s+(\S+)/.exec(watched.output())?.[1];
    if (endpoint) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      await watched.stop();
      throw new Error(`the agent did not start:\n${watched.output()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  if (child.pid === undefined) throw new Error('the agent has no PID');
  return {
    name: 'coffre',
    pid: child.pid,
    directory,
    target: { endpoint, region: benchRegion, ...benchKey },
    output: watched.output,
    stop: watched.stop,
  };
}

/** Keeps the last of what a child printed, and stops it by PID: SIGTERM, SIGKILL after a grace. */
function watchProcess(
  child: ChildProcess,
  onOutput?: (text: string) => void,
): { output: () => string; stop: () => Promise<void> } {
  let printed = '';
  const keep = (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    onOutput?.(text);
    printed = (printed + text).slice(-keptOutputCharacters);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    output: () => printed,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), stopGraceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function waitForMinio(endpoint: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`minio exited with ${child.exitCode}:\n${output()}`);
    try {
      const response = await fetch(`${endpoint}/minio/health/ready`);
      if (response.status === 200) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`minio not ready within 60 s:\n${output()}`);
}

export async function startMinio(binary: string, directory: string): Promise<BenchServer> {
  for (let index = 1; index <= 6; index += 1)
    await mkdir(path.join(directory, `d${index}`), { recursive: true });
  const port = await freePort();
  const consolePort = await freePort();
  const child = spawn(
    binary,
    [
      'server',
      '--quiet',
      '--address',
      `127.0.0.1:${port}`,
      '--console-address',
      `127.0.0.1:${consolePort}`,
      path.join(directory, 'd{1...6}'),
    ],
    {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        MINIO_ROOT_USER: benchKey.accessKeyId,
        MINIO_ROOT_PASSWORD: benchKey.secretAccessKey,
        MINIO_SITE_REGION: benchRegion,
        // Six drives default to EC:3; Coffre's set is 4+2, so MinIO gets the same parity.
        MINIO_STORAGE_CLASS_STANDARD: 'EC:2',
        // The six directories share the root filesystem, which MinIO refuses outside CI mode.
        MINIO_CI_CD: 'on',
        MINIO_BROWSER: 'off',
        MINIO_UPDATE: 'off',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  ownChild(child);
  const watched = watchProcess(child);
  const endpoint = `http://127.0.0.1:${port}`;
  try {
    await waitForMinio(endpoint, child, watched.output);
  } catch (error) {
    await watched.stop();
    throw error;
  }
  if (child.pid === undefined) throw new Error('minio has no PID');
  return {
    name: 'minio',
    pid: child.pid,
    directory,
    target: { endpoint, region: benchRegion, ...benchKey },
    output: watched.output,
    stop: watched.stop,
  };
}

/**
 * The agent's entry file: the work tree's, or a copy of `agent/` at a commit (other engineers edit
 * the work tree while this runs; a commit is a fixed, named subject), sharing node_modules and build.
 */
export async function agentEntry(commit: string | null, root: string): Promise<string> {
  if (commit === null) return path.join(repositoryRoot, 'agent', 'main.ts');
  const copy = path.join(root, 'agent-snapshot');
  await mkdir(copy);
  const archive = spawnSync(
    'sh',
    ['-c', `git archive "$0" agent package.json | tar -x -C "$1"`, commit, copy],
    {
      cwd: repositoryRoot,
      encoding: 'utf8',
    },
  );
  if (archive.status !== 0) throw new Error(`git archive ${commit} failed: ${archive.stderr}`);
  await symlink(path.join(repositoryRoot, 'node_modules'), path.join(copy, 'node_modules'));
  await symlink(path.join(repositoryRoot, 'build'), path.join(copy, 'build'));
  return path.join(copy, 'agent', 'main.ts');
}

/** The suites' common agent options: `--agent-commit=REV` and `--agent-node-args=A,B`. */
export interface AgentOptions {
  agentCommit?: unknown;
  agentNodeArgs?: unknown;
  /** Node arguments of the suite itself, before `--agent-node-args` (which win). */
  nodeArguments?: string[];
  /** Everything the agent prints, as it prints it. */
  onOutput?: (text: string) => void;
}

/** The `--agent-node-args=A,B` of a suite, as a list. */
export function agentNodeArguments(options: AgentOptions): string[] {
  return String(options.agentNodeArgs ?? '')
    .split(',')
    .filter(Boolean);
}

/**
 * A suite's `--name=value` flags (`npm run bench SUITE -- --flags`), with `--agent-commit` and
 * `--agent-node-args` besides its own, and the AgentOptions withAgent takes.
 */
export function suiteArguments(names: string[]): { values: Record<string, unknown>; agent: AgentOptions } {
  const { values } = parseArgs({
    args: process.argv.slice(2).filter((argument) => argument.startsWith('--')),
    strict: false,
    options: Object.fromEntries(
      [...names, 'agent-commit', 'agent-node-args'].map((name) => [name, { type: 'string' as const }]),
    ),
  });
  return { values, agent: { agentCommit: values['agent-commit'], agentNodeArgs: values['agent-node-args'] } };
}

/**
 * Runs `work` against one Coffre agent over a fresh temporary directory, both gone afterwards: the
 * work tree's agent, or the one at `--agent-commit`, with `--agent-node-args` given to node.
 */
export async function withAgent<T>(
  label: string,
  options: AgentOptions,
  work: (server: BenchServer) => Promise<T>,
): Promise<T> {
  const nodeArguments = [...(options.nodeArguments ?? []), ...agentNodeArguments(options)];
  const root = await scratchDirectory(`coffre-bench-${label}-`);
  try {
    const agentMain = await agentEntry(options.agentCommit ? String(options.agentCommit) : null, root);
    const data = path.join(root, 'data');
    await mkdir(data);
    const server = await startCoffre(agentMain, data, nodeArguments, options.onOutput);
    try {
      return await work(server);
    } finally {
      await server.stop();
    }
  } finally {
    await removeScratch(root);
  }
}
