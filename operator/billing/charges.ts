import type { Contract } from './contract.ts';
import { BillingError } from './errors.ts';
import { type Cents, centsFromBigint } from './money.ts';
import { type BillingPeriod, billingPeriod, periodInstants } from './periods.ts';
import { type PriceInForce, priceInForce } from './pricing.ts';
import { billedTerabytes, peakStoredBytes, type UsageSample } from './usage.ts';

/**
 * One invoice line. Its amount is quantity × months × unit price, all whole numbers, so it is
 * exact; the only roundings are on the unit price (SYNTEC revision, half-up to the cent) and on
 * the invoice's VAT and late-payment penalties (half-up to the cent each).
 */
export interface InvoiceLine {
  readonly kind: 'subscription' | 'consumption';
  /** French wording printed on the invoice. */
  readonly description: string;
  readonly quantityTerabytes: number;
  readonly months: number;
  readonly unitPriceCentsPerTerabyteMonth: Cents;
  readonly amountExcludingTaxCents: Cents;
}

/** What a period's usage is known by: the usage samples, or the peak already computed. */
export type PeriodUsage =
  | { readonly samples: Iterable<UsageSample> }
  | { readonly peakStoredBytes: bigint | number };

/** The charges of one billing period, with the figures that justify them. */
export interface PeriodCharges {
  readonly period: BillingPeriod;
  readonly price: PriceInForce;
  readonly committedTerabytes: number;
  readonly peakStoredBytes: bigint;
  /** The peak in whole To, rounded up. */
  readonly peakTerabytes: number;
  /** The To above the committed volume: max(0, peak To − committed To). */
  readonly consumptionTerabytes: number;
  readonly lines: readonly [InvoiceLine, InvoiceLine];
}

function lineAmount(quantityTerabytes: number, months: number, unitPriceCents: Cents): Cents {
  return centsFromBigint(BigInt(quantityTerabytes) * BigInt(months) * BigInt(unitPriceCents));
}

/**
 * General terms: "subscribed offer + variable consumption". The subscribed (committed) volume is
 * billed every period, whatever is stored: committed To × price per To per month × months in the
 * period (12 for an annual periodicity).
 */
export function subscriptionLine(
  committedTerabytes: number,
  months: number,
  unitPriceCents: Cents,
): InvoiceLine {
  return {
    kind: 'subscription',
    description: `Stockage objet, volume souscrit : ${committedTerabytes} To × ${months} mois`,
    quantityTerabytes: committedTerabytes,
    months,
    unitPriceCentsPerTerabyteMonth: unitPriceCents,
    amountExcludingTaxCents: lineAmount(committedTerabytes, months, unitPriceCents),
  };
}

/** The To above the commitment: the peak in started To, less the committed To, never negative. */
export function consumptionAboveCommitment(peakTerabytes: number, committedTerabytes: number): number {
  return Math.max(0, peakTerabytes - committedTerabytes);
}

/**
 * General terms: "Variable consumption is the real consumption counted over the current period,
 * taking the highest value reached, measured as real storage volume in To, in steps of 1 To".
 * The To of the peak above the committed volume, billed at the same price per To per month for
 * the months of the period.
 */
export function consumptionLine(
  peakTerabytes: number,
  committedTerabytes: number,
  months: number,
  unitPriceCents: Cents,
): InvoiceLine {
  const quantity = consumptionAboveCommitment(peakTerabytes, committedTerabytes);
  return {
    kind: 'consumption',
    description: `Stockage objet, consommation variable au-delà du volume souscrit (pic de la période : ${peakTerabytes} To, par palier de 1 To) : ${quantity} To × ${months} mois`,
    quantityTerabytes: quantity,
    months,
    unitPriceCentsPerTerabyteMonth: unitPriceCents,
    amountExcludingTaxCents: lineAmount(quantity, months, unitPriceCents),
  };
}

function periodPeak(period: BillingPeriod, usage: PeriodUsage): bigint {
  if ('samples' in usage) return peakStoredBytes(usage.samples, periodInstants(period));
  const peak = usage.peakStoredBytes;
  if (typeof peak === 'bigint' && peak >= 0n) return peak;
  if (typeof peak === 'number' && Number.isSafeInteger(peak) && peak >= 0) return BigInt(peak);
  throw new BillingError('InvalidUsage', `peak ${String(peak)} is not a whole number of bytes, zero or more`);
}

/** A period billed must be one of the contract's own: same start, end and length. */
function checkPeriodOfContract(contract: Contract, period: BillingPeriod): void {
  const expected =
    Number.isSafeInteger(period.index) && period.index >= 0
      ? billingPeriod(contract, period.index)
      : undefined;
  if (
    expected === undefined ||
    expected.startDate !== period.startDate ||
    expected.endDateExclusive !== period.endDateExclusive ||
    expected.months !== period.months
  ) {
    throw new BillingError(
      'PeriodMismatch',
      `period ${period.startDate}..${period.endDateExclusive} is not a ${contract.periodicity} period of ${contract.contractNumber}`,
    );
  }
}

/**
 * The two lines of a period, priced at the price in force on its first day. A customer leaving
 * mid-period pays the whole period (general terms: "every period started is due"): the period is
 * never shortened, and its peak counts whatever was stored until the customer left.
 */
export function periodCharges(contract: Contract, period: BillingPeriod, usage: PeriodUsage): PeriodCharges {
  checkPeriodOfContract(contract, period);
  const price = priceInForce(contract, period.startDate);
  const unitPrice = price.priceCentsPerTerabyteMonth;
  const peak = periodPeak(period, usage);
  const peakTerabytes = billedTerabytes(peak);
  return {
    period,
    price,
    committedTerabytes: contract.committedTerabytes,
    peakStoredBytes: peak,
    peakTerabytes,
    consumptionTerabytes: consumptionAboveCommitment(peakTerabytes, contract.committedTerabytes),
    lines: [
      subscriptionLine(contract.committedTerabytes, period.months, unitPrice),
      consumptionLine(peakTerabytes, contract.committedTerabytes, period.months, unitPrice),
    ],
  };
}
