import { BillingError } from './errors.ts';

/** General terms: volume "measured as real storage volume in To"; 1 To = 10^12 bytes (SI, not 2^40). */
export const bytesPerTerabyte = 10n ** 12n;

/** One usage report: the bytes the tenant stored from instant `atMs` (UTC epoch milliseconds) on. */
export interface UsageSample {
  readonly atMs: number;
  readonly storedBytes: bigint | number;
}

function checkedBytes(value: bigint | number, what: string): bigint {
  if (typeof value === 'bigint' && value >= 0n) return value;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return BigInt(value);
  throw new BillingError(
    'InvalidUsage',
    `${what}: ${String(value)} is not a whole number of bytes, zero or more`,
  );
}

/**
 * General terms: "in steps of 1 To". A started To is due: the stored bytes divided by 10^12,
 * rounded up. Exactly 10^12 bytes is 1 To, one byte more is 2 To, nothing stored is 0 To.
 */
export function billedTerabytes(storedBytes: bigint | number): number {
  const bytes = checkedBytes(storedBytes, 'stored bytes');
  return Number((bytes + bytesPerTerabyte - 1n) / bytesPerTerabyte);
}

/**
 * General terms: "the real consumption counted over the current period, taking the highest value
 * reached". The highest stored volume in force at any instant of [startMs, endMs): the samples
 * inside the window, plus the last sample before it, because a sample is a level that holds until
 * the next one (the agents report on every change, not on a clock), so the volume stored when the
 * period opened is the one last reported before it. Samples may arrive in any order; they are read
 * once, so a caller can stream them. No sample at all means nothing was stored: 0 bytes.
 */
export function peakStoredBytes(
  samples: Iterable<UsageSample>,
  window: { startMs: number; endMs: number },
): bigint {
  let peak = 0n;
  let lastBefore: { atMs: number; storedBytes: bigint } | undefined;
  for (const sample of samples) {
    if (!Number.isFinite(sample.atMs)) {
      throw new BillingError('InvalidUsage', `usage sample instant ${String(sample.atMs)} is not a number`);
    }
    const storedBytes = checkedBytes(sample.storedBytes, 'usage sample');
    if (sample.atMs >= window.endMs) continue;
    if (sample.atMs >= window.startMs) {
      if (storedBytes > peak) peak = storedBytes;
    } else if (lastBefore === undefined || sample.atMs >= lastBefore.atMs) {
      lastBefore = { atMs: sample.atMs, storedBytes };
    }
  }
  if (lastBefore !== undefined && lastBefore.storedBytes > peak) peak = lastBefore.storedBytes;
  return peak;
}
