// MinIO for the S3 load comparison, built from source through the Go module proxy only
// (`go install github.com/minio/minio@VERSION`), with GOPATH and GOCACHE under
// ~/.cache/coffre/go, outside the repository: neither MinIO's code nor its binary is ever committed.
// `node bench/minio.ts [VERSION]` builds it (default: latest) and prints the binary's path;
// bench/s3-load.ts uses the binary when it is there.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const goRoot = path.join(os.homedir(), '.cache', 'coffre', 'go');
const goPath = path.join(goRoot, 'path');

export function minioBinary(): string | null {
  const binary = path.join(goPath, 'bin', 'minio');
  return existsSync(binary) ? binary : null;
}

/** The module version `go install` resolved (a binary built by `go install` records it), or why not. */
export function minioVersion(binary: string): string {
  const shown = spawnSync('go', ['version', '-m', binary], { encoding: 'utf8' });
  const module = /^\s+mod\s+(\S+)\s+(\S+)/m.exec(shown.stdout ?? '');
  return module ? `${module[1]}@${module[2]} (${binary})` : `unknown version (${binary})`;
}

/** Builds MinIO at low priority (nice 10: the machine is shared); resolves with its path. */
export async function buildMinio(version = 'latest'): Promise<string> {
  const child = spawn('nice', ['-n', '10', 'go', 'install', `github.com/minio/minio@${version}`], {
    env: {
      ...process.env,
      GOPATH: goPath,
      GOCACHE: path.join(goRoot, 'cache'),
      GOMODCACHE: path.join(goPath, 'pkg', 'mod'),
      GOFLAGS: '-mod=mod',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const binary = minioBinary();
  if (code !== 0 || binary === null)
    throw new Error(`go install github.com/minio/minio@${version} exited with ${code}`);
  return binary;
}

if (import.meta.main) {
  console.log(await buildMinio(process.argv[2]));
}
