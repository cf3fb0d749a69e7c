// The agent process: one agent serving S3 over a local erasure-coded shard store. It prints its endpoint
// and first key, and writes them to DATA/credentials (an AWS shared-credentials file, so
// `AWS_SHARED_CREDENTIALS_FILE=.coffre/credentials aws --profile coffre ...` works at once).
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type OperatorServices, openOperatorServices } from './admin/operator-services.ts';
import { type AgentConfig, ConfigError, loadConfig } from './config.ts';
import { chunkWorkers } from './crypto/chunk-workers.ts';
import { digestWorkers } from './digest/digest-workers.ts';
import { LocalDrive } from './disk/index.ts';
import { describeKernels } from './erasure/index.ts';
import { listen, type RunningServer } from './http/server.ts';
import { type Maintenance, startMaintenance } from './maintenance.ts';
import { Identities } from './objects/identities.ts';
import { type ObjectLayer, openObjectLayer } from './objects/object-layer.ts';
import { openProtection, type Protection } from './protection.ts';
import { createS3Handler } from './s3/handler.ts';
import { headerSectionTooLarge } from './s3/responses.ts';
import { type ErasureSet, openErasureSet } from './shards/index.ts';

interface RunningAgent {
  server: RunningServer;
  layer: ObjectLayer;
  store: ErasureSet;
  operatorServices: OperatorServices;
  protection: Protection;
  maintenance: Maintenance;
}

async function credentialsFile(
  config: AgentConfig,
  endpoint: string,
  key: { accessKeyId: string; secretAccessKey: string },
) {
  const file = path.join(config.dataDirectory, 'credentials');
  const text = [
    "# Written by the Coffre agent at its start: the first tenant's key.",
    `# Endpoint: ${endpoint}  Region: ${config.region}`,
    '[coffre]',
    `aws_access_key_id = ${key.accessKeyId}`,
    `aws_secret_access_key = ${key.secretAccessKey}`,
    '',
  ].join('\n');
  await writeFile(file, text, { mode: 0o600 });
  await chmod(file, 0o600);
  return file;
}

async function start(config: AgentConfig): Promise<RunningAgent> {
  await mkdir(config.dataDirectory, { recursive: true });
  for (const drive of config.drives) await mkdir(drive, { recursive: true });
  const store = await openErasureSet({
    drives: config.drives,
    dataShards: config.drives.length - config.parityShards,
    parityShards: config.parityShards,
  });
  const protection = await openProtection(config.dataDirectory, process.env, config.drives);
  const layer = await openObjectLayer({
    store,
    indexPath: path.join(config.dataDirectory, 'index.sqlite'),
    clock: () => protection.retentionClock.now(),
    encryption: protection.encryption,
  });
  const identities = await Identities.open(new LocalDrive(config.dataDirectory));
  const first = await identities.ensureFirstTenant(config.firstKey);
  const operatorServices = await openOperatorServices({ config, layer, store, identities });
  const handler = createS3Handler({
    layer,
    identities,
    region: config.region,
    baseDomain: config.baseDomain,
    ...operatorServices.s3HandlerOptions,
    // Veeam's capacity report: without a quota, the drives' space net of parity.
    sosapi: {
      modelName: 'Coffre',
      storageSpace: async () => {
        const drives = await store.driveStates();
        const usable = (config.drives.length - config.parityShards) / config.drives.length;
        const sum = (pick: (drive: (typeof drives)[number]) => number | undefined) =>
          Math.floor(drives.reduce((total, drive) => total + (pick(drive) ?? 0), 0) * usable);
        return { totalBytes: sum((drive) => drive.totalBytes), freeBytes: sum((drive) => drive.freeBytes) };
      },
    },
    // A 5xx is a fault of ours: its cause goes to the log (the client only sees InternalError).
    onError: (error, operation) => {
      if (error.status >= 500) console.error(`${operation} failed:`, error.cause ?? error);
    },
  });
  const server = await listen(handler, {
    host: config.host,
    port: config.port,
    tls: config.tls ?? undefined,
    onHandlerCrash: (error) => console.error('request failed after its response started:', error),
    headersTooLarge: headerSectionTooLarge,
  });
  const file = await credentialsFile(config, server.url, first.key);
  const dataShards = config.drives.length - config.parityShards;
  console.log(
    [
      'Coffre agent started',
      `  S3 endpoint:   ${server.url}`,
      `  region:        ${config.region}`,
      `  access key:    ${first.key.accessKeyId}`,
      `  secret key:    ${first.key.secretAccessKey}`,
      `  credentials:   ${file} (profile "coffre")`,
      `  erasure set:   ${dataShards}+${config.parityShards} over ${config.drives.length} drives under ${config.dataDirectory}`,
      `  erasure code:  ${describeKernels()}`,
      ...operatorServices.startupLines,
      `  encryption:    AES-256-GCM per object version, master key ${protection.masterKeySource}`,
      layer.openRebuildReason ? `  listing index: rebuilt from the drives (${layer.openRebuildReason})` : '',
    ]
      .filter((line) => line !== '')
      .join('\n'),
  );
  const maintenance = startMaintenance(store, {
    parityShards: config.parityShards,
    scrubBytesPerSecond: config.scrubBytesPerSecond,
    // A full pass a day at most: the scrubber is a safety net under the reads, which verify too.
    scrubIntervalMs: 24 * 60 * 60 * 1000,
    log: (line) => console.log(`coffre: ${line}`),
  });
  return { operatorServices, server, layer, store, protection, maintenance };
}

async function stop(agent: RunningAgent): Promise<void> {
  await agent.server.close();
  await agent.maintenance.stop();
  await agent.operatorServices.close();
  agent.layer.close();
  await agent.store.close();
  await agent.protection.close();
  await digestWorkers.close();
  await chunkWorkers.close();
}

async function main(): Promise<void> {
  let config: AgentConfig;
  try {
    config = loadConfig(process.argv.slice(2), process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`coffre: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
  const agent = await start(config);
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    console.log(`Coffre agent stopping (${signal}): finishing requests in flight`);
    stop(agent).then(
      () => process.exit(0),
      (error: unknown) => {
        console.error('coffre: unclean stop:', error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

await main();
