// A benchmark stopped midway (bench/scratch.ts): its servers are killed and its scratch directories
// removed before it exits, so a Ctrl-C leaves no agent running and no GiBs of shard files behind.
// A real child node process, stopped by a real signal.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import test from 'ava';

const scratchModule = path.resolve(import.meta.dirname, '../../bench/scratch.ts');

/** Whether a process with this PID still exists. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  test(`stopped by ${signal}: the owned server is killed, the scratch directory removed, the exit code 128 + signal`, async (t) => {
    const script = `
      import { spawn } from 'node:child_process';
      import { writeFile } from 'node:fs/promises';
      import { ownChild, scratchDirectory } from ${JSON.stringify(scratchModule)};
      const directory = await scratchDirectory('coffre-scratch-test-');
      await writeFile(directory + '/shard', Buffer.alloc(1024));
      const server = spawn('sleep', ['300'], { stdio: 'ignore' });
      ownChild(server);
      console.log(JSON.stringify({ directory, serverPid: server.pid }));
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const started = await new Promise<{ directory: string; serverPid: number }>((resolve, reject) => {
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('\n')) resolve(JSON.parse(output.split('\n')[0]));
      });
      child.once('exit', (code) => reject(new Error(`exited with ${code} before starting`)));
    });
    t.teardown(() => {
      if (alive(started.serverPid)) process.kill(started.serverPid, 'SIGKILL');
    });
    t.true(existsSync(started.directory));
    t.true(alive(started.serverPid));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill(signal);
    t.is(await exited, signal === 'SIGINT' ? 130 : 143);
    t.false(existsSync(started.directory), 'the scratch directory is gone');
    // The killed server is reaped by now or is about to be: wait for it, a few seconds at most.
    const deadline = Date.now() + 5_000;
    while (alive(started.serverPid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    t.false(alive(started.serverPid), 'the server process is gone');
  });
}
