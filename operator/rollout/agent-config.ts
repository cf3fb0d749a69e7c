// The agent's configuration file on a host, /etc/coffre/agent.yaml, in the keys agent/config.ts
// reads (its long flag names). The admin credentials go in the file rather than the environment:
// the file is mode 0640, readable by root and the agent's group only, and it never shows in `ps`.
import path from 'node:path';
import { stringify } from 'yaml';
import { RolloutError } from './errors.ts';
import type { HostLayout } from './host-layout.ts';

export interface AgentTls {
  certificatePem: string;
  privateKeyPem: string;
}

export interface AgentSettings {
  listenAddress: string;
  port: number;
  dataDirectory: string;
  /** One directory per drive: each drive's mount point on a real host. */
  drives: string[];
  parityShards: number;
  region: string;
  baseDomain?: string | null;
  tls?: AgentTls | null;
}

export interface AdminCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export function tlsFiles(layout: HostLayout): { certificateFile: string; privateKeyFile: string } {
  return {
    certificateFile: path.posix.join(layout.tlsDirectory, 'agent.crt'),
    privateKeyFile: path.posix.join(layout.tlsDirectory, 'agent.key'),
  };
}

/** The paths the agent writes to: its data directory and every drive. */
export function writablePaths(settings: AgentSettings): string[] {
  return [...new Set([settings.dataDirectory, ...settings.drives])];
}

export function validateAgentSettings(hostName: string, settings: AgentSettings): void {
  const absolute = [settings.dataDirectory, ...settings.drives].every((entry) =>
    path.posix.isAbsolute(entry),
  );
  if (!absolute)
    throw new RolloutError('InvalidHostSpec', 'data directory and drives must be absolute', hostName);
  if (
    settings.drives.length < 2 ||
    settings.parityShards < 1 ||
    settings.parityShards >= settings.drives.length
  ) {
    throw new RolloutError(
      'InvalidHostSpec',
      `${settings.drives.length} drives cannot hold ${settings.parityShards} parity shards`,
      hostName,
    );
  }
  if (!Number.isInteger(settings.port) || settings.port < 1 || settings.port > 65535) {
    throw new RolloutError('InvalidHostSpec', `port ${settings.port} is not a TCP port`, hostName);
  }
}

export function renderAgentConfig(
  settings: AgentSettings,
  credentials: AdminCredentials,
  layout: HostLayout,
): string {
  const tls = settings.tls ? tlsFiles(layout) : null;
  const document: Record<string, unknown> = {
    host: settings.listenAddress,
    port: settings.port,
    data: settings.dataDirectory,
    drive: settings.drives,
    parity: settings.parityShards,
    region: settings.region,
    ...(settings.baseDomain ? { domain: settings.baseDomain } : {}),
    ...(tls ? { 'tls-cert': tls.certificateFile, 'tls-key': tls.privateKeyFile } : {}),
    'access-key': credentials.accessKeyId,
    'secret-key': credentials.secretAccessKey,
  };
  return `# Written by the Coffre operator's rollout; changes here are overwritten.\n${stringify(document)}`;
}
