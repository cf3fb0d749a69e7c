import { addMonths, compareIsoDates, type IsoDate } from './calendar.ts';
import type { Contract } from './contract.ts';
import { BillingError } from './errors.ts';
import type { Cents, DecimalInput } from './money.ts';
import { maximumPeriodCount } from './periods.ts';
import { lastPublishedSyntecIndex, revisedPriceCents, type SyntecIndexPublication } from './syntec-table.ts';

/** The price per To per month that applies on a date, and where it comes from. */
export interface PriceInForce {
  readonly priceCentsPerTerabyteMonth: Cents;
  /** Absent during the first contract year, when P0 applies. */
  readonly revision?: {
    /** The anniversary on which the price was revised. */
    readonly anniversaryDate: IsoDate;
    /** The number of whole contract years elapsed at that anniversary (1 for the first). */
    readonly contractYear: number;
    /** S, the last index published on the anniversary. */
    readonly index: SyntecIndexPublication;
    /** S0, the index at signature. */
    readonly indexAtSignature: DecimalInput;
  };
}

/** The last contract anniversary on or before a date (start + k years, k ≥ 1), if any. */
export function lastAnniversary(
  startDate: IsoDate,
  date: IsoDate,
): { anniversaryDate: IsoDate; contractYear: number } | undefined {
  let found: { anniversaryDate: IsoDate; contractYear: number } | undefined;
  for (let contractYear = 1; contractYear * 12 < maximumPeriodCount; contractYear++) {
    const anniversaryDate = addMonths(startDate, contractYear * 12);
    if (compareIsoDates(anniversaryDate, date) > 0) return found;
    found = { anniversaryDate, contractYear };
  }
  throw new BillingError('TooManyPeriods', `${date} is beyond the contract's ${maximumPeriodCount} months`);
}

/**
 * General terms: "prices follow the SYNTEC index, revised at each contract anniversary:
 * P = P0 × (S / S0)". Before the first anniversary the price is P0; from each anniversary on it is
 * P0 × S / S0 with S the last index published on that anniversary, rounded half-up to the cent.
 * A billing period is priced at the price in force on its first day.
 */
export function priceInForce(contract: Contract, date: IsoDate): PriceInForce {
  const anniversary = lastAnniversary(contract.startDate, date);
  if (anniversary === undefined) return { priceCentsPerTerabyteMonth: contract.priceCentsPerTerabyteMonth };
  const index = lastPublishedSyntecIndex(contract.syntecIndices, anniversary.anniversaryDate);
  return {
    priceCentsPerTerabyteMonth: revisedPriceCents(
      contract.priceCentsPerTerabyteMonth,
      contract.syntecIndexAtSignature,
      index.value,
    ),
    revision: { ...anniversary, index, indexAtSignature: contract.syntecIndexAtSignature },
  };
}
