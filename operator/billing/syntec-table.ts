import { checkIsoDate, compareIsoDates, type IsoDate } from './calendar.ts';
import { BillingError } from './errors.ts';
import { type Cents, centsFromBigint, type DecimalInput, divideRoundHalfUp, parseDecimal } from './money.ts';

/**
 * One published SYNTEC index. The index of a month is published later (the federation publishes
 * it weeks after the month ends), so each entry states both the month it measures and the date it
 * became public: a revision on a given date may only use indices published on or before that date.
 */
export interface SyntecIndexPublication {
  /** The month measured, 'YYYY-MM'. */
  readonly month: string;
  readonly value: DecimalInput;
  /** The date the index was published, a Europe/Paris date. */
  readonly publishedOn: IsoDate;
}

const monthPattern = /^\d{4}-(0[1-9]|1[0-2])$/;

/** Checks every entry (month, value, publication date) and that no month appears twice. */
export function checkSyntecTable(
  table: readonly SyntecIndexPublication[],
): readonly SyntecIndexPublication[] {
  if (!Array.isArray(table)) throw new BillingError('SyntecTableInvalid', 'SYNTEC indices must be a list');
  const months = new Set<string>();
  for (const entry of table) {
    if (typeof entry?.month !== 'string' || !monthPattern.test(entry.month)) {
      throw new BillingError(
        'SyntecTableInvalid',
        `SYNTEC month ${JSON.stringify(entry?.month)} is not YYYY-MM`,
      );
    }
    if (months.has(entry.month)) {
      throw new BillingError('SyntecTableInvalid', `SYNTEC month ${entry.month} appears twice`);
    }
    months.add(entry.month);
    if (parseDecimal(entry.value, `SYNTEC index of ${entry.month}`).numerator === 0n) {
      throw new BillingError('SyntecTableInvalid', `SYNTEC index of ${entry.month} is zero`);
    }
    checkIsoDate(entry.publishedOn, `publication date of SYNTEC ${entry.month}`);
    if (compareIsoDates(entry.publishedOn, `${entry.month}-01`) < 0) {
      throw new BillingError('SyntecTableInvalid', `SYNTEC ${entry.month} is published before its month`);
    }
  }
  return table;
}

/**
 * General terms: "S the last [index] published at the revision date". Among the indices published
 * on or before `onDate`, the one for the most recent month.
 */
export function lastPublishedSyntecIndex(
  table: readonly SyntecIndexPublication[],
  onDate: IsoDate,
): SyntecIndexPublication {
  let latest: SyntecIndexPublication | undefined;
  for (const entry of table) {
    if (compareIsoDates(entry.publishedOn, onDate) > 0) continue;
    if (latest === undefined || entry.month > latest.month) latest = entry;
  }
  if (latest === undefined) {
    throw new BillingError('SyntecIndexNotPublished', `no SYNTEC index had been published on ${onDate}`);
  }
  return latest;
}

/**
 * General terms: "P = P0 × (S / S0)". The revised price per To per month, rounded half-up to the
 * cent. It is always computed from P0 and S0, never from the previous year's rounded price, so
 * rounding does not accumulate over the years. The formula is applied as written, so a fall of
 * the index lowers the price.
 */
export function revisedPriceCents(
  initialPriceCents: Cents,
  indexAtSignature: DecimalInput,
  indexAtRevision: DecimalInput,
): Cents {
  const base = parseDecimal(indexAtSignature, 'S0');
  const current = parseDecimal(indexAtRevision, 'S');
  if (base.numerator === 0n) throw new BillingError('InvalidDecimal', 'S0 is zero');
  // P0 × (S.n / S.d) / (S0.n / S0.d) = P0 × S.n × S0.d / (S.d × S0.n)
  return centsFromBigint(
    divideRoundHalfUp(
      BigInt(initialPriceCents) * current.numerator * base.denominator,
      current.denominator * base.numerator,
    ),
  );
}
