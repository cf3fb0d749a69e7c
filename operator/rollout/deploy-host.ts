// One host's part of a rollout, over an open SSH session: observe what runs, install the bundle's
// release (upload, verify the SHA-256, unpack, rename into place), write the configuration, switch
// the `current` link atomically, restart, and wait until the health check passes. A rollback puts
// back the release and the configuration observed before, by the same moves.
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { AgentBundle } from '../bundle/build.ts';
import {
  type AdminCredentials,
  type AgentSettings,
  renderAgentConfig,
  tlsFiles,
  writablePaths,
} from './agent-config.ts';
import { RolloutError } from './errors.ts';
import type { HealthCheck, HealthResult } from './health.ts';
import { type HostLayout, releaseDirectory } from './host-layout.ts';
import type { RolloutPhase } from './progress.ts';
import { type ServiceManager, writeRemoteFile } from './service-manager.ts';
import { shellCommand, shellQuote } from './shell.ts';
import type { SshSession } from './ssh.ts';

export interface Clock {
  now(): number;
  sleep(milliseconds: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (milliseconds) => new Promise((resolve) => setTimeout(resolve, milliseconds)),
};

export interface HealthWait {
  timeoutMs: number;
  intervalMs: number;
}

export interface HostContext {
  name: string;
  endpoint: string;
  session: SshSession;
  layout: HostLayout;
  settings: AgentSettings;
  credentials: AdminCredentials;
  serviceManager: ServiceManager;
  healthCheck: HealthCheck;
  healthWait: HealthWait;
  clock: Clock;
  reportPhase(phase: RolloutPhase, detail: string): void;
}

export interface ObservedHost {
  /** The release `current` points to, or null. */
  version: string | null;
  /** The configuration file's text, or null; kept to restore it on a rollback. */
  configText: string | null;
  active: boolean;
}

const CONFIG_MODE = 0o640;
const PRIVATE_KEY_MODE = 0o640;
const CERTIFICATE_MODE = 0o644;

export function sha256Text(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export async function observeHost(host: HostContext): Promise<ObservedHost> {
  const { session, layout } = host;
  // `base64 -w0` keeps the configuration's bytes intact through the line-based output.
  const output = await session.run(
    `printf 'current=%s\\n' "$(readlink ${shellQuote(layout.currentLink)} 2>/dev/null)"; ` +
      `printf 'config=%s\\n' "$(base64 -w0 ${shellQuote(layout.configFile)} 2>/dev/null)"`,
  );
  const values = new Map(
    output.split('\n').map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
  const link = values.get('current') ?? '';
  const encodedConfig = values.get('config') ?? '';
  const version = link === '' ? null : path.posix.basename(link);
  const configText = encodedConfig === '' ? null : Buffer.from(encodedConfig, 'base64').toString('utf8');
  const active = version === null ? false : await host.serviceManager.isActive(session, host);
  return { version, configText, active };
}

/** Uploads and unpacks the release unless it is already there; verifies the archive's SHA-256. */
export async function installRelease(
  host: HostContext,
  bundle: AgentBundle,
): Promise<'installed' | 'present'> {
  const { session, layout } = host;
  const { version, archive, archiveSha256, archiveSizeBytes } = bundle.manifest;
  const target = releaseDirectory(layout, version);
  const present = await session.exec(shellCommand('test', '-f', path.posix.join(target, 'bundle.json')));
  if (present.exitCode === 0) return 'present';
  await session.run(shellCommand('mkdir', '-p', layout.incomingDirectory, layout.releasesDirectory));
  const partial = path.posix.join(layout.incomingDirectory, `${archive}.partial`);
  host.reportPhase('upload', `${archive} (${archiveSizeBytes} bytes)`);
  await session.upload(bundle.archivePath, partial);
  host.reportPhase('verify', `sha256 ${archiveSha256}`);
  const remoteSha256 = (await session.run(shellCommand('sha256sum', partial))).split(' ')[0];
  if (remoteSha256 !== archiveSha256) {
    await session.run(shellCommand('rm', '-f', partial));
    throw new RolloutError(
      'ChecksumMismatch',
      `uploaded ${archive} has sha256 ${remoteSha256}, not ${archiveSha256}`,
      host.name,
    );
  }
  host.reportPhase('unpack', target);
  // Unpacked beside its final place and renamed into it, so a release directory is always whole.
  const unpacking = path.posix.join(layout.releasesDirectory, `.${version}.unpacking`);
  await session.run(
    [
      shellCommand('rm', '-rf', unpacking),
      shellCommand('mkdir', '-p', unpacking),
      shellCommand('tar', '-xzf', partial, '-C', unpacking, '--no-same-owner'),
      shellCommand('mv', '-T', unpacking, target),
      shellCommand('rm', '-f', partial),
    ].join(' && '),
  );
  return 'installed';
}

/** Writes the TLS files and the configuration; creates the data directory and drives. */
export async function writeConfiguration(host: HostContext, configText: string): Promise<void> {
  const { session, layout, settings } = host;
  await session.run(
    shellCommand('mkdir', '-p', layout.configDirectory, layout.tlsDirectory, ...writablePaths(settings)),
  );
  if (settings.tls) {
    const files = tlsFiles(layout);
    await writeRemoteFile(session, files.certificateFile, settings.tls.certificatePem, CERTIFICATE_MODE);
    await writeRemoteFile(session, files.privateKeyFile, settings.tls.privateKeyPem, PRIVATE_KEY_MODE);
  }
  await writeRemoteFile(session, layout.configFile, configText, CONFIG_MODE);
}

/** Points `current` at a release: a new link renamed over the old one (rename(2) is atomic). */
export async function switchCurrent(host: HostContext, version: string): Promise<void> {
  const { layout } = host;
  const temporary = `${layout.currentLink}.tmp-rollout`;
  await host.session.run(
    `${shellCommand('ln', '-sfn', path.posix.join('releases', version), temporary)} && ` +
      shellCommand('mv', '-T', temporary, layout.currentLink),
  );
}

/**
 * An agent that exited does not become healthy: after this many looks in a row at a stopped service
 * (more than one, because systemd may be between a crash and its restart) the wait ends early.
 */
const INACTIVE_LOOKS_BEFORE_GIVING_UP = 2;

/** Polls the health check until it passes, the service stays stopped, or the timeout has passed. */
export async function waitForHealth(host: HostContext): Promise<HealthResult> {
  const deadline = host.clock.now() + host.healthWait.timeoutMs;
  let inactiveLooks = 0;
  for (;;) {
    const last = await host.healthCheck({ name: host.name, endpoint: host.endpoint });
    if (last.healthy) return last;
    const active = await host.serviceManager.isActive(host.session, host);
    inactiveLooks = active ? 0 : inactiveLooks + 1;
    if (inactiveLooks >= INACTIVE_LOOKS_BEFORE_GIVING_UP) {
      return {
        healthy: false,
        detail: `the agent is not running (${host.serviceManager.name}); ${last.detail}`,
      };
    }
    if (host.clock.now() >= deadline) return last;
    await host.clock.sleep(host.healthWait.intervalMs);
  }
}

/** Removes releases other than the ones named: a host keeps the running one and the one before. */
async function pruneReleases(host: HostContext, keep: readonly string[]): Promise<void> {
  const listing = await host.session.run(shellCommand('ls', '-1', host.layout.releasesDirectory));
  const stale = listing
    .split('\n')
    .filter((entry) => entry !== '' && !entry.startsWith('.') && !keep.includes(entry))
    .map((entry) => releaseDirectory(host.layout, entry));
  if (stale.length > 0) await host.session.run(shellCommand('rm', '-rf', ...stale));
}

export function wantedConfigText(host: Pick<HostContext, 'settings' | 'credentials' | 'layout'>): string {
  return renderAgentConfig(host.settings, host.credentials, host.layout);
}

/** Installs, configures, switches, restarts and waits for health; throws HealthCheckFailed if not. */
export async function upgradeHost(
  host: HostContext,
  bundle: AgentBundle,
  observed: ObservedHost,
): Promise<void> {
  const version = bundle.manifest.version;
  const installed = await installRelease(host, bundle);
  host.reportPhase('configure', `${host.layout.configFile}, release ${installed}`);
  await writeConfiguration(host, wantedConfigText(host));
  await host.serviceManager.install(host.session, host);
  host.reportPhase('switch', `current -> releases/${version}`);
  await switchCurrent(host, version);
  host.reportPhase('restart', `${host.serviceManager.name} restart`);
  await host.serviceManager.restart(host.session, host);
  host.reportPhase('health', host.endpoint);
  const health = await waitForHealth(host);
  if (!health.healthy) {
    throw new RolloutError(
      'HealthCheckFailed',
      `not healthy after the restart (waited up to ${host.healthWait.timeoutMs} ms): ${health.detail}`,
      host.name,
    );
  }
  await pruneReleases(host, [version, ...(observed.version === null ? [] : [observed.version])]);
}

/**
 * Restores what `observed` saw before the upgrade: its release and configuration, restarted; or,
 * for a host that ran nothing, stops the agent. Returns whether the host is healthy afterwards.
 */
export async function rollbackHost(host: HostContext, observed: ObservedHost): Promise<boolean> {
  if (observed.version === null) {
    host.reportPhase('rollback', 'nothing ran before: stopping the agent');
    await host.serviceManager.stop(host.session, host);
    return false;
  }
  const now = await observeHost(host);
  if (now.version === observed.version && now.configText === observed.configText && now.active) {
    // The upgrade failed before it changed anything that runs (an upload or a checksum): the
    // agent was never restarted, so it is left alone.
    host.reportPhase('rollback', `nothing to undo, still on releases/${observed.version}`);
    return (await waitForHealth(host)).healthy;
  }
  host.reportPhase('rollback', `current -> releases/${observed.version}`);
  if (observed.configText !== null) await writeConfiguration(host, observed.configText);
  await switchCurrent(host, observed.version);
  await host.serviceManager.restart(host.session, host);
  if (!observed.active) return false;
  return (await waitForHealth(host)).healthy;
}
