// What the command-line client suites share: running a real client as a child process (never through
// a shell), and directory trees of files whose names have spaces, accents, CJK and "+" in them, to
// upload and compare byte for byte.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface CommandResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Largest output kept from one client run; the suites print far less. */
const maximumOutputBytes = 64 * 1024 * 1024;

export function runCommand(
  command: string,
  commandArguments: readonly string[],
  environment: NodeJS.ProcessEnv,
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      commandArguments,
      { env: environment, maxBuffer: maximumOutputBytes, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') {
          reject(error);
          return;
        }
        resolve({ exitCode: error ? Number(error.code) : 0, stdout, stderr });
      },
    );
  });
}

/** Runs a client and fails with its output when it does not exit 0. */
export async function runChecked(
  command: string,
  commandArguments: readonly string[],
  environment: NodeJS.ProcessEnv,
): Promise<CommandResult> {
  const result = await runCommand(command, commandArguments, environment);
  if (result.exitCode !== 0) {
    throw new Error(
      `${path.basename(command)} ${commandArguments.join(' ')} exited ${result.exitCode}\n${result.stdout}\n${result.stderr}`,
    );
  }
  return result;
}

/** Relative paths (with "/") of a tree with awkward names, including an empty file and a nested one. */
export const awkwardTreeFiles: Readonly<Record<string, number>> = {
  'readme.txt': 1200,
  'empty file': 0,
  'été/rapport final.pdf': 70_000,
  'été/données/ligne 1+2.csv': 3_000,
  '日本語/ファイル.txt': 4_096,
  'a+b/c d e.bin': 150_000,
  'deep/one/two/three/leaf.dat': 10,
  'percent%20name.txt': 20,
};

/** Writes `files` (relative path -> size in bytes, random content) under `root`. */
export function writeTree(root: string, files: Readonly<Record<string, number>>): void {
  for (const [relative, sizeBytes] of Object.entries(files)) {
    const file = path.join(root, ...relative.split('/'));
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, randomBytes(sizeBytes));
  }
}

/** Every file under `root`, as relative "/"-separated paths in sorted order. */
export function listTree(root: string): string[] {
  const found: string[] = [];
  const walk = (directory: string, prefix: string) => {
    for (const entry of readdirSync(directory, { withFileTypes: true })) {
      const relative = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
      if (entry.isDirectory()) walk(path.join(directory, entry.name), relative);
      else found.push(relative);
    }
  };
  walk(root, '');
  return found.sort();
}

/** The files of two trees that differ in name or bytes; empty when they are identical. */
export function treeDifferences(expectedRoot: string, actualRoot: string): string[] {
  const expected = listTree(expectedRoot);
  const actual = listTree(actualRoot);
  const differences: string[] = [];
  for (const name of new Set([...expected, ...actual])) {
    const expectedFile = path.join(expectedRoot, ...name.split('/'));
    const actualFile = path.join(actualRoot, ...name.split('/'));
    if (!expected.includes(name)) differences.push(`unexpected ${name}`);
    else if (!actual.includes(name)) differences.push(`missing ${name}`);
    else if (statSync(expectedFile).size !== statSync(actualFile).size) differences.push(`size of ${name}`);
    else if (!readFileSync(expectedFile).equals(readFileSync(actualFile)))
      differences.push(`bytes of ${name}`);
  }
  return differences;
}

/**
 * The environment of a client run: this process's, without any AWS_* variable (an AWS_CA_BUNDLE or
 * AWS_PROFILE of the machine would change what the client does), plus the suite's own settings.
 */
export function clientEnvironment(settings: Record<string, string>): NodeJS.ProcessEnv {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('AWS_')),
  );
  return { ...inherited, ...settings };
}
