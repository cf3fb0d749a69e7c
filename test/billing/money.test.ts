import test from 'ava';
import {
  BillingError,
  divideRoundHalfUp,
  formatEuroDecimal,
  formatEuroFrench,
  parseDecimal,
} from '../../operator/billing/index.ts';

test('rounding: a half cent rounds up, below a half rounds down (half-up, as French invoices do)', (t) => {
  t.is(divideRoundHalfUp(23115n, 10n), 2312n);
  t.is(divideRoundHalfUp(23114n, 10n), 2311n);
  t.is(divideRoundHalfUp(23116n, 10n), 2312n);
  t.is(divideRoundHalfUp(1n, 3n), 0n);
  t.is(divideRoundHalfUp(2n, 3n), 1n);
});

test('rounding: a negative half rounds away from zero', (t) => {
  t.is(divideRoundHalfUp(-23115n, 10n), -2312n);
  t.is(divideRoundHalfUp(-23114n, 10n), -2311n);
});

test('decimals: strings and number literals are read exactly, never through a binary float', (t) => {
  t.deepEqual(parseDecimal('296.3', 'S0'), { numerator: 2963n, denominator: 10n });
  t.deepEqual(parseDecimal(305.1, 'S'), { numerator: 3051n, denominator: 10n });
  t.deepEqual(parseDecimal('3.71', 'rate'), { numerator: 371n, denominator: 100n });
  t.deepEqual(parseDecimal(0.1, 'rate'), { numerator: 1n, denominator: 10n });
});

test('decimals: negative, exponent and non-numeric values are refused with InvalidDecimal', (t) => {
  for (const value of ['-1', '1e3', 'abc', '', '1.', Number.NaN, 1e21, -0.5]) {
    const error = t.throws(() => parseDecimal(value, 'value'), { instanceOf: BillingError });
    t.is(error?.code, 'InvalidDecimal', String(value));
  }
});

test('formatting: cents print as a dotted decimal for machines and French euros for people', (t) => {
  t.is(formatEuroDecimal(29900), '299.00');
  t.is(formatEuroDecimal(5), '0.05');
  t.is(formatEuroDecimal(-5), '-0.05');
  t.is(formatEuroFrench(358800), '3\u202f588,00\u00a0€');
  t.is(formatEuroFrench(123456789), '1\u202f234\u202f567,89\u00a0€');
  t.is(formatEuroFrench(0), '0,00\u00a0€');
});

test('formatting: a float amount is refused rather than printed', (t) => {
  const error = t.throws(() => formatEuroDecimal(299.5), { instanceOf: BillingError });
  t.is(error?.code, 'InvalidAmount');
});
