import test from 'ava';
import {
  BillingError,
  billedTerabytes,
  bytesPerTerabyte,
  peakStoredBytes,
} from '../../operator/billing/index.ts';
import { terabyte } from './fixtures.ts';

test('To steps: 1 To is 10^12 bytes (SI), not 2^40', (t) => {
  t.is(bytesPerTerabyte, 1_000_000_000_000n);
  t.is(billedTerabytes(2n ** 40n), 2);
});

test('To steps: exactly 10^12 bytes is 1 To; one byte more is 2 To (a started To is due)', (t) => {
  t.is(billedTerabytes(terabyte), 1);
  t.is(billedTerabytes(terabyte + 1n), 2);
  t.is(billedTerabytes(2n * terabyte), 2);
});

test('To steps: zero bytes is 0 To, one byte is 1 To', (t) => {
  t.is(billedTerabytes(0), 0);
  t.is(billedTerabytes(1), 1);
});

test('To steps: 12.3 To is billed as 13 To', (t) => {
  t.is(billedTerabytes(12_300_000_000_000), 13);
});

test('To steps: volumes beyond 2^53 bytes are exact as bigint', (t) => {
  t.is(billedTerabytes(9_007_199_254_740_993n), 9008);
});

test('To steps: negative or fractional byte counts are refused with InvalidUsage', (t) => {
  for (const value of [-1, 1.5, -1n, Number.NaN]) {
    const error = t.throws(() => billedTerabytes(value), { instanceOf: BillingError });
    t.is(error?.code, 'InvalidUsage', String(value));
  }
});

const window = { startMs: 1_000, endMs: 2_000 };

test('peak: the highest sample inside the period, whatever the order of the samples', (t) => {
  const samples = [
    { atMs: 1_500, storedBytes: 5n * terabyte },
    { atMs: 1_100, storedBytes: 12_300_000_000_000n },
    { atMs: 1_900, storedBytes: 3n * terabyte },
  ];
  t.is(peakStoredBytes(samples, window), 12_300_000_000_000n);
});

test('peak: samples at or after the period end are ignored; one at the start counts', (t) => {
  const samples = [
    { atMs: 1_000, storedBytes: 4n * terabyte },
    { atMs: 2_000, storedBytes: 90n * terabyte },
    { atMs: 2_500, storedBytes: 99n * terabyte },
  ];
  t.is(peakStoredBytes(samples, window), 4n * terabyte);
});

test('peak: the level last reported before the period holds when it opens', (t) => {
  const samples = [
    { atMs: 100, storedBytes: 50n * terabyte },
    { atMs: 900, storedBytes: 7n * terabyte },
    { atMs: 1_500, storedBytes: 2n * terabyte },
  ];
  t.is(peakStoredBytes(samples, window), 7n * terabyte);
});

test('peak: a tenant that never reported stored nothing; one that emptied stores 0', (t) => {
  t.is(peakStoredBytes([], window), 0n);
  t.is(peakStoredBytes([{ atMs: 1_200, storedBytes: 0 }], window), 0n);
});

test('peak: samples are read once from any iterable, so they can be streamed', (t) => {
  let reads = 0;
  function* stream() {
    for (let index = 0; index < 1_000; index++) {
      reads++;
      yield { atMs: 1_000 + index, storedBytes: BigInt(index) * 1_000_000_000n };
    }
  }
  t.is(peakStoredBytes(stream(), window), 999_000_000_000n);
  t.is(reads, 1_000);
});
