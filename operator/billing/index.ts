/**
 * Billing for Coffre's contracts: a pure module (no clock, no I/O). See README.md beside this file
 * for the contract rules each function implements.
 */
export {
  addDays,
  addMonths,
  billingTimeZone,
  daysBetween,
  type IsoDate,
  parisDateOfInstant,
  parisMidnightUtcMs,
  parseIsoDate,
} from './calendar.ts';
export {
  consumptionAboveCommitment,
  consumptionLine,
  type InvoiceLine,
  type PeriodCharges,
  type PeriodUsage,
  periodCharges,
  subscriptionLine,
} from './charges.ts';
export {
  type CompanyIdentity,
  type Contract,
  type ContractInput,
  defaultPeriodicity,
  defaultPriceCentsPerTerabyteMonth,
  type Periodicity,
  type PostalAddress,
  validateCompanyIdentity,
  validateContract,
  validateContractNumber,
} from './contract.ts';
export { BillingError, type BillingErrorCode } from './errors.ts';
export { frenchVatKey, normaliseSiren, normaliseSiret, normaliseVatNumber } from './identity.ts';
export {
  buildInvoice,
  type Invoice,
  invoiceTotals,
  standardVatRateBasisPoints,
  vatCents,
} from './invoice.ts';
export {
  daysPerInterestYear,
  type LatePaymentPenalty,
  type LegalInterestRate,
  lateFixedIndemnityCents,
  latePaymentPenalty,
  latePenaltyRateMultiplier,
  type PenaltySegment,
} from './late-payment.ts';
export {
  type Cents,
  type DecimalInput,
  divideRoundHalfUp,
  formatEuroDecimal,
  formatEuroFrench,
  parseDecimal,
} from './money.ts';
export {
  type BillingPeriod,
  billingPeriod,
  billingPeriodContaining,
  maximumPeriodCount,
  monthsPerPeriod,
  type PeriodSchedule,
  periodInstants,
  periodsDue,
  regularisationLastDate,
} from './periods.ts';
export { lastAnniversary, type PriceInForce, priceInForce } from './pricing.ts';
export { csvField, invoiceCsvHeader, invoiceLinesToCsv, invoiceToJson } from './render-data.ts';
export { escapeHtml, renderInvoiceHtml } from './render-html.ts';
export { lastPublishedSyntecIndex, revisedPriceCents, type SyntecIndexPublication } from './syntec-table.ts';
export { billedTerabytes, bytesPerTerabyte, peakStoredBytes, type UsageSample } from './usage.ts';
