import { writeFileSync } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { ConfigError, loadConfig } from '../../agent/config.ts';
import { temporaryDirectory } from '../support/temporary-directory.ts';

test('config: with nothing given, one agent on 127.0.0.1:9000 over six drives in ./.coffre, 4+2', (t) => {
  const config = loadConfig([], {});
  t.is(config.host, '127.0.0.1');
  t.is(config.port, 9000);
  t.is(config.dataDirectory, path.resolve('.coffre'));
  t.deepEqual(
    config.drives,
    [1, 2, 3, 4, 5, 6].map((index) => path.resolve('.coffre', `drive-${index}`)),
  );
  t.is(config.parityShards, 2);
  t.is(config.tls, null);
  t.is(config.firstKey, null);
});

test('config: flags win over environment variables, which win over the YAML file', (t) => {
  const directory = temporaryDirectory(t, 'coffre-config');
  const file = path.join(directory, 'agent.yaml');
  writeFileSync(file, 'port: 7000\nparity: 3\ndrives: 8\nregion: fr-rbx\n');
  const config = loadConfig(['--port', '9100', '--config', file], {
    COFFRE_PORT: '9200',
    COFFRE_PARITY: '2',
  });
  t.is(config.port, 9100);
  t.is(config.parityShards, 2);
  t.is(config.drives.length, 8);
  t.is(config.region, 'fr-rbx');
});

test('config: repeated --drive flags name one mount per disk', (t) => {
  const config = loadConfig(
    ['--drive', '/mnt/a', '--drive', '/mnt/b', '--drive', '/mnt/c', '--parity', '1'],
    {},
  );
  t.deepEqual(config.drives, ['/mnt/a', '/mnt/b', '/mnt/c']);
  t.is(config.parityShards, 1);
});

test('config: the first key comes from COFFRE_ACCESS_KEY and COFFRE_SECRET_KEY together', (t) => {
  const config = loadConfig([], { COFFRE_ACCESS_KEY: 'AKIDEXAMPLE', COFFRE_SECRET_KEY: 'secret' });
  t.deepEqual(config.firstKey, { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' });
  t.throws(() => loadConfig([], { COFFRE_ACCESS_KEY: 'AKIDEXAMPLE' }), { instanceOf: ConfigError });
});

const invalid: [string, string[], NodeJS.ProcessEnv][] = [
  ['a port out of range', ['--port', '70000'], {}],
  ['a port that is not a number', [], { COFFRE_PORT: 'http' }],
  ['as many parity shards as drives', ['--drives', '4', '--parity', '4'], {}],
  ['an unknown flag', ['--prot', '9000'], {}],
  ['a TLS certificate without its key', ['--tls-cert', '/tmp/cert.pem'], {}],
  [
    '--drives disagreeing with the --drive list',
    ['--drives', '6', '--drive', '/mnt/a', '--drive', '/mnt/b'],
    {},
  ],
];
for (const [what, argv, environment] of invalid) {
  test(`config: ${what} is refused with a ConfigError`, (t) => {
    t.throws(() => loadConfig(argv, environment), { instanceOf: ConfigError });
  });
}
