// Starts the real agent the way `npm start` does (node agent/main.ts) on 127.0.0.1 with a port
// chosen by the kernel, over drives in a fresh temporary directory, and stops it by its PID.

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { agentNodeFlags } from '../../agent/node-flags.ts';

export const repositoryRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface AgentProcess {
  readonly endpoint: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly dataDirectory: string;
  readonly child: ChildProcess;
  /** Everything the agent printed so far. */
  output(): string;
  /** SIGTERM (graceful) and wait for the exit; SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<number | null>;
  /** Stops it and removes its data directory. */
  destroy(): Promise<void>;
}

export interface StartOptions {
  dataDirectory?: string;
  arguments?: string[];
  environment?: NodeJS.ProcessEnv;
  startTimeoutMs?: number;
}

const testAccessKeyId = 'COFFRETESTACCESSKEY1';
const testSecretAccessKey = 'coffre-test-secret-key-0123456789abcdef0123';

export async function startAgent(options: StartOptions = {}): Promise<AgentProcess> {
  const dataDirectory = options.dataDirectory ?? mkdtempSync(path.join(os.tmpdir(), 'coffre-agent-'));
  const child = spawn(
    process.execPath,
    [
      ...agentNodeFlags,
      path.join(repositoryRoot, 'agent', 'main.ts'),
      '--port',
      '0',
      '--data',
      dataDirectory,
      ...(options.arguments ?? []),
    ],
    {
      cwd: repositoryRoot,
      env: {
        ...process.env,
        COFFRE_ACCESS_KEY: testAccessKeyId,
        COFFRE_SECRET_KEY: testSecretAccessKey,
        ...options.environment,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let printed = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    printed += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    printed += chunk.toString('utf8');
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const endpoint = await waitForEndpoint(() => printed, exited, options.startTimeoutMs ?? 30_000);
  const stop = async (graceMs = 10_000): Promise<number | null> => {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    const code = await exited;
    clearTimeout(timer);
    return code;
  };
  return {
    endpoint,
    accessKeyId: options.environment?.COFFRE_ACCESS_KEY ?? testAccessKeyId,
    secretAccessKey: options.environment?.COFFRE_SECRET_KEY ?? testSecretAccessKey,
    dataDirectory,
    child,
    output: () => printed,
    stop,
    destroy: async () => {
      await stop();
      if (!options.dataDirectory) rmSync(dataDirectory, { recursive: true, force: true });
    },
  };
}

/** The agent prints `S3 endpoint: URL` once it accepts requests. */
async function waitForEndpoint(
  output: () => string,
  exited: Promise<number | null>,
  timeoutMs: number,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let exitCode: number | null | undefined;
  exited.then((code) => {
    exitCode = code;
  });
  while (Date.now() < deadline) {
    const match = /S3 endpoint:\s+(\S+)/.exec(output());
    if (match) return match[1];
    if (exitCode !== undefined)
      throw new Error(`agent exited with ${exitCode} before listening:\n${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`agent did not print its endpoint within ${timeoutMs} ms:\n${output()}`);
}
