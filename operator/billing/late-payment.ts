import { addDays, checkIsoDate, compareIsoDates, daysBetween, type IsoDate } from './calendar.ts';
import { BillingError } from './errors.ts';
import {
  type Cents,
  centsFromBigint,
  checkCents,
  type DecimalInput,
  divideRoundHalfUp,
  parseDecimal,
} from './money.ts';

/** General terms: "penalties at three times the legal interest rate". */
export const latePenaltyRateMultiplier = 3n;
/** General terms: "plus a 40 € fixed indemnity" (Code de commerce, art. D441-5), per invoice paid late. */
export const lateFixedIndemnityCents: Cents = 4000;
/** Interest accrues per day over a 365-day year, as the contract's formula writes it, leap years included. */
export const daysPerInterestYear = 365n;

/**
 * The French legal interest rate (taux de l'intérêt légal) changes each half-year; the rate for
 * professional creditors is the one for "tous les autres cas". Each entry holds from its date
 * (normally 1 January or 1 July) until the next entry's date.
 */
export interface LegalInterestRate {
  readonly from: IsoDate;
  /** The annual rate in percent, e.g. '3.71' for 3.71 %. */
  readonly percent: DecimalInput;
}

/** A stretch of late days charged at one legal rate. */
export interface PenaltySegment {
  readonly fromDate: IsoDate;
  readonly toDateExclusive: IsoDate;
  readonly days: number;
  readonly legalRatePercent: DecimalInput;
}

export interface LatePaymentPenalty {
  /** Days from the day after the due date through the payment date: paid the day after = 1. */
  readonly daysLate: number;
  readonly segments: readonly PenaltySegment[];
  /** amount × 3 × legal rate × days late / 365, half-up to the cent. */
  readonly penaltyCents: Cents;
  /** 40 € when the invoice is paid late at all, else 0. */
  readonly fixedIndemnityCents: Cents;
  readonly totalCents: Cents;
}

function rateOn(rates: readonly LegalInterestRate[], date: IsoDate): LegalInterestRate {
  let found: LegalInterestRate | undefined;
  for (const rate of rates) {
    if (compareIsoDates(rate.from, date) > 0) continue;
    if (found === undefined || compareIsoDates(rate.from, found.from) > 0) found = rate;
  }
  if (found === undefined)
    throw new BillingError('LegalRateMissing', `no legal interest rate is known for ${date}`);
  return found;
}

/** The late days [fromDate, toDateExclusive) cut where the legal rate changes. */
function penaltySegments(
  rates: readonly LegalInterestRate[],
  fromDate: IsoDate,
  toDateExclusive: IsoDate,
): PenaltySegment[] {
  const changes = rates
    .map((rate) => checkIsoDate(rate.from, 'legal rate start date'))
    .filter((date) => compareIsoDates(date, fromDate) > 0 && compareIsoDates(date, toDateExclusive) < 0)
    .sort(compareIsoDates);
  const boundaries = [fromDate, ...new Set(changes), toDateExclusive];
  const segments: PenaltySegment[] = [];
  for (let position = 0; position + 1 < boundaries.length; position++) {
    const start = boundaries[position];
    const end = boundaries[position + 1];
    const rate = rateOn(rates, start);
    parseDecimal(rate.percent, `legal rate from ${rate.from}`);
    segments.push({
      fromDate: start,
      toDateExclusive: end,
      days: daysBetween(start, end),
      legalRatePercent: rate.percent,
    });
  }
  return segments;
}

/**
 * General terms: "Late or partial payment: penalties at three times the legal interest rate from
 * the day after the due date, plus a 40 € fixed indemnity". Penalties = amount due × 3 × legal
 * rate × days late / 365, where each late day bears the legal rate in force that day (a delay over
 * 30 June is charged at both half-years' rates), summed exactly and rounded half-up to the cent
 * once. `amountDueCents` is what remained unpaid, tax included; `paidOn` is the payment date, or
 * the date the penalty is computed to while unpaid.
 */
export function latePaymentPenalty(input: {
  amountDueCents: Cents;
  dueDate: IsoDate;
  paidOn: IsoDate;
  legalRates: readonly LegalInterestRate[];
}): LatePaymentPenalty {
  const amount = checkCents(input.amountDueCents, 'amount due');
  if (amount < 0) throw new BillingError('InvalidAmount', 'amount due is negative');
  const dueDate = checkIsoDate(input.dueDate, 'due date');
  const paidOn = checkIsoDate(input.paidOn, 'payment date');
  const daysLate = Math.max(0, daysBetween(dueDate, paidOn));
  if (daysLate === 0 || amount === 0) {
    return { daysLate, segments: [], penaltyCents: 0, fixedIndemnityCents: 0, totalCents: 0 };
  }
  const segments = penaltySegments(input.legalRates, addDays(dueDate, 1), addDays(paidOn, 1));
  // Sum of amount × 3 × (rate.n / rate.d) / 100 × days / 365 over segments, as one exact fraction.
  let numerator = 0n;
  let denominator = 1n;
  for (const segment of segments) {
    const rate = parseDecimal(segment.legalRatePercent, 'legal rate');
    const termNumerator = BigInt(amount) * latePenaltyRateMultiplier * rate.numerator * BigInt(segment.days);
    const termDenominator = rate.denominator * 100n * daysPerInterestYear;
    numerator = numerator * termDenominator + termNumerator * denominator;
    denominator *= termDenominator;
  }
  const penaltyCents = centsFromBigint(divideRoundHalfUp(numerator, denominator));
  return {
    daysLate,
    segments,
    penaltyCents,
    fixedIndemnityCents: lateFixedIndemnityCents,
    totalCents: penaltyCents + lateFixedIndemnityCents,
  };
}
