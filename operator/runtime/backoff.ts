// Exponential backoff for retried reconciles and restarted watches: base × 2^(failures − 1), capped,
// like client-go's ItemExponentialFailureRateLimiter (5 ms base, 1000 s cap there; ours are larger
// because each retry here may call the agents).

export interface BackoffSettings {
  baseDelayMs: number;
  maximumDelayMs: number;
}

export const defaultBackoff: BackoffSettings = { baseDelayMs: 500, maximumDelayMs: 5 * 60_000 };

/** The delay before retry number `failures` (1 for the first retry). */
export function backoffDelayMs(failures: number, settings: BackoffSettings = defaultBackoff): number {
  if (!Number.isSafeInteger(failures) || failures < 1) throw new RangeError('failures is 1 or more');
  // 2^60 already exceeds any cap; bounding the exponent keeps the arithmetic exact.
  const exponent = Math.min(failures - 1, 60);
  return Math.min(settings.maximumDelayMs, settings.baseDelayMs * 2 ** exponent);
}
