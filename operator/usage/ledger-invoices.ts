// From an agent's usage ledger to invoices: the daily peaks that the admin API reports
// (GET /v1/tenants/{tenantId}/peaks) become usage samples for operator/billing, which takes the
// peak of the billing period (the highest value reached, and the level carried into the period)
// under the contract's own rules. A pure function: the caller fetches the peaks and numbers the
// invoice. The days are one agent's ledger of the tenant (a single-host region, or the host the
// operator reads the tenant's usage from).
import {
  type BillingPeriod,
  billingPeriod,
  buildInvoice,
  type CompanyIdentity,
  type Contract,
  type Invoice,
  type IsoDate,
  type UsageSample,
} from '../billing/index.ts';

/** One Paris day of a tenant's ledger, as the agent's admin API returns it (agent/objects/usage-ledger.ts). */
export interface LedgerDailyPeak {
  day: string;
  peakBytes: number;
  peakAtMs: number;
  lastBytes: number;
  lastAtMs: number;
}

/**
 * Each day gives two samples: its peak at the instant it was reached, then the level it ended on
 * (which holds until the next day with a change). Their maximum inside a period is the period's
 * peak, and the last one before it is the level the period opened with: exactly the rule of
 * operator/billing's peakStoredBytes.
 */
export function usageSamplesFromLedger(days: Iterable<LedgerDailyPeak>): UsageSample[] {
  const samples: UsageSample[] = [];
  for (const day of days) {
    samples.push({ atMs: day.peakAtMs, storedBytes: day.peakBytes });
    samples.push({ atMs: day.lastAtMs, storedBytes: day.lastBytes });
  }
  return samples;
}

export function invoiceFromLedger(input: {
  contract: Contract;
  /** The period to bill: its index in the contract, or the period itself. */
  period: number | BillingPeriod;
  days: Iterable<LedgerDailyPeak>;
  invoiceNumber: string;
  issuedOn: IsoDate;
  dueDate: IsoDate;
  seller: CompanyIdentity;
}): Invoice {
  const period =
    typeof input.period === 'number' ? billingPeriod(input.contract, input.period) : input.period;
  return buildInvoice({
    contract: input.contract,
    period,
    usage: { samples: usageSamplesFromLedger(input.days) },
    invoiceNumber: input.invoiceNumber,
    issuedOn: input.issuedOn,
    dueDate: input.dueDate,
    seller: input.seller,
  });
}
