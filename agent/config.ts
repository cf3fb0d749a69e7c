// The agent's configuration: command-line flags win over environment variables, which win over
// the YAML file, which wins over the defaults. Everything is validated here, once, so the rest of
// the agent can trust it.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';

export interface AgentConfig {
  host: string;
  port: number;
  dataDirectory: string;
  /** One directory per drive (one mount per disk on a real host). */
  drives: string[];
  parityShards: number;
  region: string;
  /** Virtual-hosted-style requests are recognised under this domain (bucket.domain). */
  baseDomain: string | null;
  tls: { certificateFile: string; privateKeyFile: string } | null;
  firstKey: { accessKeyId: string; secretAccessKey: string } | null;
  /** The scrubber's read rate over the drives; 0 turns it off. */
  scrubBytesPerSecond: number;
  /** The operator's admin listener (off unless --admin-port is given) and its signing key. */
  admin: { host: string; port: number; key: string; metricsBearerToken: string | null } | null;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const usage = `usage: npm start -- [--port N] [--host ADDRESS] [--data DIR] [--drives N] [--parity M]
                     [--drive PATH]... [--config FILE.yaml] [--tls-cert FILE --tls-key FILE]
                     [--region NAME] [--domain BASE] [--scrub-rate MB_PER_SECOND]
                     [--admin-port N [--admin-host ADDRESS] [--admin-key-file FILE]]
environment: COFFRE_PORT, COFFRE_HOST, COFFRE_DATA, COFFRE_DRIVES, COFFRE_PARITY, COFFRE_CONFIG,
             COFFRE_REGION, COFFRE_DOMAIN, COFFRE_SCRUB_RATE, COFFRE_TLS_CERT, COFFRE_TLS_KEY,
             COFFRE_ACCESS_KEY, COFFRE_SECRET_KEY,
             COFFRE_ADMIN_PORT, COFFRE_ADMIN_HOST, COFFRE_ADMIN_KEY (or COFFRE_ADMIN_KEY_FILE),
             COFFRE_METRICS_TOKEN`;

export function configUsage(): string {
  return usage;
}

/** The YAML file's keys are the long flag names: port, host, data, drives, parity, drive (list)... */
type FileConfig = Record<string, unknown>;

function readFileConfig(file: string | undefined): FileConfig {
  if (!file) return {};
  let parsed: unknown;
  try {
    parsed = parseYaml(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError(`cannot read config file ${file}: ${(error as Error).message}`);
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(`config file ${file} must be a YAML mapping`);
  }
  return parsed as FileConfig;
}

function integerIn(name: string, value: unknown, minimum: number, maximum: number): number {
  const number = typeof value === 'number' ? value : Number(String(value));
  if (!Number.isInteger(number) || number < minimum || number > maximum) {
    throw new ConfigError(`${name} must be an integer from ${minimum} to ${maximum}, got "${String(value)}"`);
  }
  return number;
}

function pick(...values: unknown[]): unknown {
  return values.find((value) => value !== undefined && value !== '');
}

export function loadConfig(argv: string[], environment: NodeJS.ProcessEnv): AgentConfig {
  let flags: ReturnType<typeof parseFlags>;
  try {
    flags = parseFlags(argv);
  } catch (error) {
    throw new ConfigError(`${(error as Error).message}\n${usage}`);
  }
  const file = readFileConfig(pick(flags.config, environment.COFFRE_CONFIG) as string | undefined);
  const dataDirectory = path.resolve(String(pick(flags.data, environment.COFFRE_DATA, file.data, '.coffre')));
  const listedDrives = pick(flags.drive, file.drive) as string[] | undefined;
  const driveCount = integerIn(
    'drives',
    pick(flags.drives, environment.COFFRE_DRIVES, file.drives, listedDrives?.length, 6),
    2,
    24,
  );
  const drives =
    listedDrives && listedDrives.length > 0
      ? listedDrives.map((drive) => path.resolve(String(drive)))
      : Array.from({ length: driveCount }, (_, index) => path.join(dataDirectory, `drive-${index + 1}`));
  if (listedDrives && listedDrives.length > 0 && listedDrives.length !== driveCount) {
    throw new ConfigError(`--drives ${driveCount} disagrees with the ${listedDrives.length} --drive paths`);
  }
  const parityShards = integerIn(
    'parity',
    pick(flags.parity, environment.COFFRE_PARITY, file.parity, 2),
    1,
    Math.min(8, drives.length - 1),
  );
  if (drives.length - parityShards > 16) throw new ConfigError('at most 16 data shards per erasure set');
  const certificateFile = pick(flags['tls-cert'], environment.COFFRE_TLS_CERT, file['tls-cert']) as string;
  const privateKeyFile = pick(flags['tls-key'], environment.COFFRE_TLS_KEY, file['tls-key']) as string;
  if (Boolean(certificateFile) !== Boolean(privateKeyFile)) {
    throw new ConfigError('TLS needs both --tls-cert and --tls-key');
  }
  const accessKeyId = pick(environment.COFFRE_ACCESS_KEY, file['access-key']) as string | undefined;
  const secretAccessKey = pick(environment.COFFRE_SECRET_KEY, file['secret-key']) as string | undefined;
  if (Boolean(accessKeyId) !== Boolean(secretAccessKey)) {
    throw new ConfigError('COFFRE_ACCESS_KEY and COFFRE_SECRET_KEY go together');
  }
  return {
    admin: adminConfig(flags, environment, file),
    host: String(pick(flags.host, environment.COFFRE_HOST, file.host, '127.0.0.1')),
    port: integerIn('port', pick(flags.port, environment.COFFRE_PORT, file.port, 9000), 0, 65535),
    dataDirectory,
    drives,
    parityShards,
    region: String(pick(flags.region, environment.COFFRE_REGION, file.region, 'fr-par')),
    scrubBytesPerSecond:
      integerIn(
        'scrub-rate',
        pick(flags['scrub-rate'], environment.COFFRE_SCRUB_RATE, file['scrub-rate'], 32),
        0,
        10_000,
      ) * 1_000_000,
    baseDomain: (pick(flags.domain, environment.COFFRE_DOMAIN, file.domain) as string | undefined) ?? null,
    tls: certificateFile ? { certificateFile, privateKeyFile } : null,
    firstKey: accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey } : null,
  };
}

/**
 * The admin listener is off by default; with a port it listens on loopback unless told otherwise,
 * and it refuses to start without an operator key of at least 32 characters (HMAC-SHA256 secret).
 */
function adminConfig(
  flags: ReturnType<typeof parseFlags>,
  environment: NodeJS.ProcessEnv,
  file: FileConfig,
): AgentConfig['admin'] {
  const port = pick(flags['admin-port'], environment.COFFRE_ADMIN_PORT, file['admin-port']);
  if (port === undefined) return null;
  const keyFile = pick(flags['admin-key-file'], environment.COFFRE_ADMIN_KEY_FILE, file['admin-key-file']) as
    | string
    | undefined;
  let key = environment.COFFRE_ADMIN_KEY;
  if (keyFile) {
    try {
      key = readFileSync(keyFile, 'utf8').trim();
    } catch (error) {
      throw new ConfigError(`cannot read the admin key file ${keyFile}: ${(error as Error).message}`);
    }
  }
  if (!key || key.length < 32) {
    throw new ConfigError(
      'the admin API needs an operator key of 32+ characters (COFFRE_ADMIN_KEY or --admin-key-file)',
    );
  }
  return {
    host: String(pick(flags['admin-host'], environment.COFFRE_ADMIN_HOST, file['admin-host'], '127.0.0.1')),
    port: integerIn('admin-port', port, 0, 65535),
    key,
    metricsBearerToken: environment.COFFRE_METRICS_TOKEN || null,
  };
}

function parseFlags(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      data: { type: 'string' },
      drives: { type: 'string' },
      parity: { type: 'string' },
      drive: { type: 'string', multiple: true },
      config: { type: 'string' },
      region: { type: 'string' },
      domain: { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'scrub-rate': { type: 'string' },
      'admin-port': { type: 'string' },
      'admin-host': { type: 'string' },
      'admin-key-file': { type: 'string' },
    },
  }).values;
}
