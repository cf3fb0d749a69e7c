// One SSH connection to a host (ssh2), with the host key pinned: the server's key must have the
// SHA-256 fingerprint written in the host's spec, and ssh2 checks it in `hostVerifier`, during the
// key exchange, before the client authenticates or sends anything else. A mismatch is a
// HostKeyMismatch, never a prompt and never "trust on first use".
import { createHash } from 'node:crypto';
import { Client, type ClientChannel, type SFTPWrapper } from 'ssh2';
import { RolloutError } from './errors.ts';

export interface SshTarget {
  /** The host's name in the Region, used in errors and progress. */
  name: string;
  address: string;
  port: number;
  username: string;
  /** `SHA256:<base64 without padding>`, as `ssh-keygen -l -E sha256 -f key.pub` prints it. */
  hostKeySha256: string;
}

export interface SshCredentials {
  privateKey: string | Buffer;
  passphrase?: string;
}

export interface SshTimeouts {
  connectTimeoutMs: number;
  commandTimeoutMs: number;
  uploadTimeoutMs: number;
}

export const DEFAULT_SSH_TIMEOUTS: SshTimeouts = {
  connectTimeoutMs: 20_000,
  commandTimeoutMs: 120_000,
  uploadTimeoutMs: 600_000,
};

export interface CommandResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

/** Command output is for status and errors only: anything past this is cut. */
const MAXIMUM_COMMAND_OUTPUT_BYTES = 1024 * 1024;

/** The OpenSSH SHA-256 fingerprint of a public key blob (RFC 4253 section 6.6 encoding). */
export function sshFingerprintSha256(publicKeyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(publicKeyBlob).digest('base64').replace(/=+$/, '')}`;
}

function appendBounded(collected: string, chunk: Buffer): string {
  if (collected.length >= MAXIMUM_COMMAND_OUTPUT_BYTES) return collected;
  return collected + chunk.toString('utf8').slice(0, MAXIMUM_COMMAND_OUTPUT_BYTES - collected.length);
}

export class SshSession {
  readonly target: SshTarget;
  readonly timeouts: SshTimeouts;
  readonly #client: Client;
  #sftp: SFTPWrapper | null = null;

  private constructor(target: SshTarget, client: Client, timeouts: SshTimeouts) {
    this.target = target;
    this.#client = client;
    this.timeouts = timeouts;
  }

  static connect(
    target: SshTarget,
    credentials: SshCredentials,
    timeouts: SshTimeouts = DEFAULT_SSH_TIMEOUTS,
  ): Promise<SshSession> {
    const client = new Client();
    let presentedFingerprint: string | null = null;
    return new Promise((resolve, reject) => {
      let connected = false;
      client.once('ready', () => {
        connected = true;
        resolve(new SshSession(target, client, timeouts));
      });
      client.on('error', (error) => {
        // After the handshake, a lost connection shows up as the failure of the command in flight
        // (its channel closes); this listener only keeps the error from crashing the process.
        if (connected) return;
        client.end();
        if (presentedFingerprint !== null && presentedFingerprint !== target.hostKeySha256) {
          reject(
            new RolloutError(
              'HostKeyMismatch',
              `host key ${presentedFingerprint} is not the pinned ${target.hostKeySha256}; nothing was sent`,
              target.name,
            ),
          );
          return;
        }
        reject(new RolloutError('SshConnectFailed', error.message, target.name));
      });
      client.connect({
        host: target.address,
        port: target.port,
        username: target.username,
        privateKey: credentials.privateKey,
        passphrase: credentials.passphrase,
        readyTimeout: timeouts.connectTimeoutMs,
        // Never fall back to an agent or a password: the rollout key is the only credential.
        tryKeyboard: false,
        hostVerifier: (key: Buffer) => {
          presentedFingerprint = sshFingerprintSha256(key);
          return presentedFingerprint === target.hostKeySha256;
        },
      });
    });
  }

  /** Runs `command` through the remote user's shell; the result carries its exit code. */
  exec(command: string, options: { timeoutMs?: number; stdin?: string } = {}): Promise<CommandResult> {
    const timeoutMs = options.timeoutMs ?? this.timeouts.commandTimeoutMs;
    return new Promise((resolve, reject) => {
      const onChannel = (error: Error | undefined, channel: ClientChannel) => {
        if (error) {
          reject(new RolloutError('CommandFailed', `${command}: ${error.message}`, this.target.name));
          return;
        }
        let stdout = '';
        let stderr = '';
        const timer = setTimeout(() => {
          channel.close();
          reject(
            new RolloutError('Timeout', `${command}: no answer within ${timeoutMs} ms`, this.target.name),
          );
        }, timeoutMs);
        channel.on('data', (chunk: Buffer) => {
          stdout = appendBounded(stdout, chunk);
        });
        channel.stderr.on('data', (chunk: Buffer) => {
          stderr = appendBounded(stderr, chunk);
        });
        channel.on('close', (exitCode: number | null) => {
          clearTimeout(timer);
          resolve({ exitCode: exitCode ?? null, stdout, stderr });
        });
        channel.end(options.stdin ?? '');
      };
      try {
        this.#client.exec(command, onChannel);
      } catch (error) {
        // ssh2 throws at once when the connection is already gone.
        reject(
          new RolloutError('SshConnectFailed', `${command}: ${(error as Error).message}`, this.target.name),
        );
      }
    });
  }

  /** Like exec, but a non-zero exit is a CommandFailed with the command's stderr. */
  async run(command: string, options: { timeoutMs?: number; stdin?: string } = {}): Promise<string> {
    const result = await this.exec(command, options);
    if (result.exitCode !== 0) {
      throw new RolloutError(
        'CommandFailed',
        `\`${command}\` exited with ${result.exitCode}: ${result.stderr.trim() || result.stdout.trim()}`,
        this.target.name,
      );
    }
    return result.stdout;
  }

  #sftpChannel(): Promise<SFTPWrapper> {
    if (this.#sftp !== null) return Promise.resolve(this.#sftp);
    return new Promise((resolve, reject) => {
      this.#client.sftp((error, sftp) => {
        if (error) {
          reject(new RolloutError('CommandFailed', `sftp: ${error.message}`, this.target.name));
          return;
        }
        this.#sftp = sftp;
        resolve(sftp);
      });
    });
  }

  /** Streams a local file to `remotePath` over SFTP (parallel requests, ssh2's fastPut). */
  async upload(
    localPath: string,
    remotePath: string,
    timeoutMs = this.timeouts.uploadTimeoutMs,
  ): Promise<void> {
    const sftp = await this.#sftpChannel();
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new RolloutError('Timeout', `upload of ${localPath} took over ${timeoutMs} ms`, this.target.name),
          ),
        timeoutMs,
      );
      sftp.fastPut(localPath, remotePath, { mode: 0o600 }, (error) => {
        clearTimeout(timer);
        if (error)
          reject(
            new RolloutError('CommandFailed', `upload to ${remotePath}: ${error.message}`, this.target.name),
          );
        else resolve();
      });
    });
  }

  /** Writes a small file in one SFTP request, with its mode set at creation. */
  async writeFile(remotePath: string, contents: string, mode: number): Promise<void> {
    const sftp = await this.#sftpChannel();
    await new Promise<void>((resolve, reject) => {
      sftp.writeFile(remotePath, contents, { mode }, (error) => {
        if (error)
          reject(
            new RolloutError('CommandFailed', `write ${remotePath}: ${error.message}`, this.target.name),
          );
        else resolve();
      });
    });
  }

  close(): void {
    this.#sftp?.end();
    this.#client.end();
  }
}
