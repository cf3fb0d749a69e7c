// `npm test` runs this first (the `pretest` script): it installs what the test suites need and
// a fresh machine lacks. Debian packages come from apt-get, which needs root; elsewhere it says
// what to install and stops, so a missing tool is a clear error rather than a silently skipped test.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { buildNativeAddons } from './build-native.ts';
import { ensureKubeApiserver } from './kube-apiserver.ts';
import { awsCommand, pythonClientsDirectory, pythonClientsPython } from './test-clients.ts';

/** Debian package -> a file whose presence shows it is installed. */
const debianPackages: Record<string, string> = {
  // The native addons (ISA-L erasure kernel, AES-GCM sealer) are compiled with the system's cc.
  gcc: '/usr/bin/cc',
  'libisal-dev': '/usr/include/isa-l.h',
  // Real S3 clients for the end-to-end suites.
  rclone: '/usr/bin/rclone',
  s3cmd: '/usr/bin/s3cmd',
  restic: '/usr/bin/restic',
  // The agent rollout tests: a real sshd per simulated host, and `systemd-analyze verify` of the unit.
  'openssh-server': '/usr/sbin/sshd',
  systemd: '/usr/bin/systemd-analyze',
  openssl: '/usr/bin/openssl',
  // Object Lock tests move the agent's clock (LD_PRELOAD libfaketime) without touching the host's.
  faketime: '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1',
  // The operator tests run a real control plane: etcd from Debian, kube-apiserver built below.
  'etcd-server': '/usr/bin/etcd',
};

/** Python S3 clients: awscli v1 and boto3, current releases, with their default trailing checksums. */
const pythonPackages = ['awscli', 'boto3'];

function installPythonClients(): void {
  if (existsSync(awsCommand) && existsSync(pythonClientsPython)) return;
  console.log(`test setup: python venv with ${pythonPackages.join(' ')} in ${pythonClientsDirectory}`);
  execFileSync('python3', ['-m', 'venv', pythonClientsDirectory], { stdio: 'inherit' });
  execFileSync(
    pythonClientsPython,
    ['-m', 'pip', 'install', '-q', '--disable-pip-version-check', ...pythonPackages],
    {
      stdio: 'inherit',
    },
  );
}

function missingPackages(): string[] {
  return Object.entries(debianPackages)
    .filter(([, witness]) => !existsSync(witness))
    .map(([name]) => name);
}

const missing = missingPackages();
if (missing.length > 0) {
  if (process.getuid?.() !== 0) {
    console.error(`test setup: install these Debian packages first: ${missing.join(' ')}`);
    process.exit(1);
  }
  console.log(`test setup: apt-get install ${missing.join(' ')}`);
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
}
installPythonClients();
await buildNativeAddons({ quiet: true });
// Built from the Go module proxy on a fresh machine (20 minutes or more on 2 cores), cached after.
await ensureKubeApiserver();
