// The runtime's two kinds of reconcile failure, after controller-runtime: a terminal error means
// that retrying cannot help until the resource itself changes (an invalid spec, a bucket owned by
// someone else), so the key is not retried; any other error is transient (the agent or the API
// server did not answer) and the key is retried with exponential backoff.

export class TerminalError extends Error {
  override name = 'TerminalError';
  /** A CamelCase reason, used as the condition reason and the Event reason. */
  readonly reason: string;

  constructor(reason: string, message: string) {
    super(message);
    this.reason = reason;
  }
}

export function isTerminalError(error: unknown): error is TerminalError {
  return error instanceof TerminalError;
}

/** The HTTP status of an error thrown by @kubernetes/client-node (ApiException.code), else undefined. */
export function kubernetesStatus(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}
