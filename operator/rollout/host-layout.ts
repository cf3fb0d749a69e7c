// Where things live on a host. Production: /opt/coffre/releases/<version>/ with a `current` symbolic
// link to the running one, configuration under /etc/coffre. Tests give each "host" its own roots
// in a temporary directory, which is why both roots are parameters.
import path from 'node:path';

export const PRODUCTION_INSTALL_ROOT = '/opt/coffre';
export const PRODUCTION_CONFIG_DIRECTORY = '/etc/coffre';

export interface HostLayout {
  installRoot: string;
  configDirectory: string;
  releasesDirectory: string;
  /** The symbolic link to the running release, switched by renaming a new link over it. */
  currentLink: string;
  configFile: string;
  /** The configuration that the previous release ran with, kept for a rollback. */
  previousConfigFile: string;
  tlsDirectory: string;
  /** Where uploads land before their checksum is verified. */
  incomingDirectory: string;
  /** The test service manager's pidfile, log and control script. */
  runDirectory: string;
}

export function hostLayout(
  installRoot: string = PRODUCTION_INSTALL_ROOT,
  configDirectory: string = PRODUCTION_CONFIG_DIRECTORY,
): HostLayout {
  const posix = path.posix;
  return {
    installRoot,
    configDirectory,
    releasesDirectory: posix.join(installRoot, 'releases'),
    currentLink: posix.join(installRoot, 'current'),
    configFile: posix.join(configDirectory, 'agent.yaml'),
    previousConfigFile: posix.join(configDirectory, 'agent.yaml.previous'),
    tlsDirectory: posix.join(configDirectory, 'tls'),
    incomingDirectory: posix.join(installRoot, 'incoming'),
    runDirectory: posix.join(installRoot, 'run'),
  };
}

export function releaseDirectory(layout: HostLayout, version: string): string {
  return path.posix.join(layout.releasesDirectory, version);
}
