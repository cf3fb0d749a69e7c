import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { loadConfig } from '../../agent/config.ts';
import {
  type AgentSettings,
  renderAgentConfig,
  validateAgentSettings,
} from '../../operator/rollout/agent-config.ts';
import { RolloutError } from '../../operator/rollout/errors.ts';
import { hostLayout } from '../../operator/rollout/host-layout.ts';
import { shellCommand, shellQuote } from '../../operator/rollout/shell.ts';

const settings: AgentSettings = {
  listenAddress: '10.0.0.2',
  port: 443,
  dataDirectory: '/var/lib/coffre',
  drives: ['/srv/coffre/drive-1', '/srv/coffre/drive-2', '/srv/coffre/drive-3', '/srv/coffre/drive-4'],
  parityShards: 2,
  region: 'fr-gra',
  baseDomain: 's3.fr-gra.coffre.example',
  tls: { certificatePem: 'CERT', privateKeyPem: 'KEY' },
};
const credentials = { accessKeyId: 'COFFREADMINKEY000001', secretAccessKey: 'secret/with+special=chars' };

test('agent config: the file the rollout writes is read by the agent as the rollout meant it', (t) => {
  const directory = mkdtempSync(path.join(os.tmpdir(), 'coffre-agent-config-'));
  try {
    const file = path.join(directory, 'agent.yaml');
    writeFileSync(file, renderAgentConfig(settings, credentials, hostLayout()));
    const config = loadConfig(['--config', file], {});
    t.is(config.host, '10.0.0.2');
    t.is(config.port, 443);
    t.is(config.dataDirectory, '/var/lib/coffre');
    t.deepEqual(config.drives, settings.drives);
    t.is(config.parityShards, 2);
    t.is(config.region, 'fr-gra');
    t.is(config.baseDomain, 's3.fr-gra.coffre.example');
    t.deepEqual(config.tls, {
      certificateFile: '/etc/coffre/tls/agent.crt',
      privateKeyFile: '/etc/coffre/tls/agent.key',
    });
    t.deepEqual(config.firstKey, credentials);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
});

test('agent config: relative paths, too few drives or a bad port are refused before any host is touched', (t) => {
  for (const broken of [
    { ...settings, dataDirectory: 'relative' },
    { ...settings, drives: ['/srv/only-one'] },
    { ...settings, parityShards: 4 },
    { ...settings, port: 70_000 },
  ]) {
    const error = t.throws(() => validateAgentSettings('host-a', broken), { instanceOf: RolloutError });
    t.is(error?.code, 'InvalidHostSpec');
  }
  t.notThrows(() => validateAgentSettings('host-a', settings));
});

test('shell quoting: a value with quotes, spaces and $ reaches the command as one literal word', (t) => {
  t.is(shellQuote('/opt/coffre/releases/0.1.0+abc'), '/opt/coffre/releases/0.1.0+abc');
  t.is(shellQuote("it's $HOME; rm -rf /"), `'it'\\''s $HOME; rm -rf /'`);
  t.is(shellCommand('ls', '-1', 'a b'), "ls -1 'a b'");
});
