/**
 * The rollout's operating errors: a host, a network or a bundle that is not as expected. Each one
 * stops the work on its host; the rollout driver then rolls back and stops (see rollout.ts).
 */
export type RolloutErrorCode =
  | 'HostKeyMismatch'
  | 'SshConnectFailed'
  | 'CommandFailed'
  | 'Timeout'
  | 'ChecksumMismatch'
  | 'HealthCheckFailed'
  | 'QuorumAtRisk'
  | 'InvalidHostSpec';

export class RolloutError extends Error {
  readonly code: RolloutErrorCode;
  readonly host: string | null;

  constructor(code: RolloutErrorCode, message: string, host: string | null = null) {
    super(host === null ? message : `${host}: ${message}`);
    this.name = 'RolloutError';
    this.code = code;
    this.host = host;
  }
}
