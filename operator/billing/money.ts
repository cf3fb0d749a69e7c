import assert from 'node:assert/strict';
import { BillingError } from './errors.ts';

/**
 * Money is integer euro cents in a safe integer `number`; intermediate products and quotients are
 * exact `bigint` fractions rounded once, half-up (half away from zero), to the cent. Binary floats
 * never hold an amount. A decimal library would do the same job; exact bigint fractions are a few
 * lines, exact for every division (P0 × S / S0 does not terminate in base 10), and need no dependency.
 */
export type Cents = number;

/** An exact non-negative decimal read from a string such as '296.3' or a number literal such as 3.71. */
export type DecimalInput = string | number;

/** An exact fraction numerator / denominator, denominator > 0. */
export interface Fraction {
  readonly numerator: bigint;
  readonly denominator: bigint;
}

const decimalPattern = /^(\d{1,15})(?:\.(\d{1,15}))?$/;

/**
 * Reads a non-negative decimal exactly. A `number` is read through its shortest round-trip
 * spelling (`String(296.3)` is '296.3'), which is the literal the caller wrote.
 */
export function parseDecimal(value: DecimalInput, what: string): Fraction {
  const text = typeof value === 'number' ? String(value) : value;
  const match = typeof text === 'string' ? decimalPattern.exec(text) : null;
  if (match === null) {
    throw new BillingError(
      'InvalidDecimal',
      `${what}: ${JSON.stringify(value)} is not a non-negative decimal`,
    );
  }
  const fractionDigits = match[2] ?? '';
  return {
    numerator: BigInt(match[1] + fractionDigits),
    denominator: 10n ** BigInt(fractionDigits.length),
  };
}

/** Whether an exact decimal is zero. */
export function isZeroFraction(value: Fraction): boolean {
  return value.numerator === 0n;
}

/**
 * numerator / denominator rounded to the nearest integer, halves away from zero: the "arrondi
 * commercial" that French invoices use (0.5 cent rounds up to 1 cent).
 */
export function divideRoundHalfUp(numerator: bigint, denominator: bigint): bigint {
  assert.ok(denominator !== 0n, 'division by zero');
  const negative = numerator < 0n !== denominator < 0n;
  const absoluteNumerator = numerator < 0n ? -numerator : numerator;
  const absoluteDenominator = denominator < 0n ? -denominator : denominator;
  const rounded = (2n * absoluteNumerator + absoluteDenominator) / (2n * absoluteDenominator);
  return negative ? -rounded : rounded;
}

/** Checks that an amount is a whole, safe number of cents (never a float such as 299.5). */
export function checkCents(amount: number, what: string): Cents {
  if (!Number.isSafeInteger(amount)) {
    throw new BillingError('InvalidAmount', `${what}: ${amount} is not a whole number of cents`);
  }
  return amount;
}

/** Converts an exact bigint amount of cents back to a `Cents` number, asserting it stays exact. */
export function centsFromBigint(amount: bigint): Cents {
  assert.ok(
    amount <= BigInt(Number.MAX_SAFE_INTEGER) && amount >= BigInt(Number.MIN_SAFE_INTEGER),
    'amount beyond safe integer cents',
  );
  return Number(amount);
}

function splitCents(amount: Cents): { sign: string; units: string; cents: string } {
  checkCents(amount, 'amount');
  const absolute = Math.abs(amount);
  return {
    sign: amount < 0 ? '-' : '',
    units: String(Math.trunc(absolute / 100)),
    cents: String(absolute % 100).padStart(2, '0'),
  };
}

/** Machine form for JSON and CSV: '299.00', '-0.05'. */
export function formatEuroDecimal(amount: Cents): string {
  const { sign, units, cents } = splitCents(amount);
  return `${sign}${units}.${cents}`;
}

/** Narrow no-break space, the French thousands separator (as `Intl.NumberFormat('fr-FR')` writes it). */
const frenchThousandsSeparator = '\u202f';

/** Human French form for the HTML invoice: '3 588,00 €'. */
export function formatEuroFrench(amount: Cents): string {
  const { sign, units, cents } = splitCents(amount);
  const grouped = units.replace(/\B(?=(\d{3})+(?!\d))/g, frenchThousandsSeparator);
  return `${sign}${grouped},${cents}\u00a0€`;
}
