import { checkIsoDate, compareIsoDates, type IsoDate } from './calendar.ts';
import { type InvoiceLine, type PeriodUsage, periodCharges } from './charges.ts';
import { type CompanyIdentity, type Contract, validateCompanyIdentity } from './contract.ts';
import { BillingError } from './errors.ts';
import { type Cents, centsFromBigint, divideRoundHalfUp } from './money.ts';
import type { BillingPeriod } from './periods.ts';
import type { PriceInForce } from './pricing.ts';

/** French standard VAT rate (CGI art. 278), 20 %, in basis points. */
export const standardVatRateBasisPoints = 2000;

/** The invoice of one billing period of one contract. */
export interface Invoice {
  readonly invoiceNumber: string;
  readonly contractNumber: string;
  /** The provider issuing the invoice. */
  readonly seller: CompanyIdentity;
  readonly customer: CompanyIdentity;
  readonly representativeName: string;
  readonly period: BillingPeriod;
  readonly issuedOn: IsoDate;
  readonly dueDate: IsoDate;
  readonly lines: readonly InvoiceLine[];
  /** The price per To per month applied, and the SYNTEC revision it comes from, if any. */
  readonly price: PriceInForce;
  readonly committedTerabytes: number;
  /** The highest stored volume in the period, in bytes, and in started To. */
  readonly peakStoredBytes: bigint;
  readonly peakTerabytes: number;
  readonly totalExcludingTaxCents: Cents;
  readonly vatRateBasisPoints: number;
  readonly vatCents: Cents;
  readonly totalIncludingTaxCents: Cents;
  readonly currency: 'EUR';
}

/**
 * VAT on the invoice's total excluding tax, half-up to the cent. French invoices may total VAT
 * per rate rather than per line (CGI annex II art. 242 nonies A): one rate here, so one rounding.
 */
export function vatCents(
  totalExcludingTaxCents: Cents,
  vatRateBasisPoints = standardVatRateBasisPoints,
): Cents {
  return centsFromBigint(
    divideRoundHalfUp(BigInt(totalExcludingTaxCents) * BigInt(vatRateBasisPoints), 10_000n),
  );
}

/** Invoice numbers come from the caller's unbroken sequence; they must be short and printable. */
const invoiceNumberPattern = /^[A-Za-z0-9][A-Za-z0-9/_.-]{0,39}$/;

/** Totals lines into HT, TVA and TTC. */
export function invoiceTotals(
  lines: readonly InvoiceLine[],
  vatRateBasisPoints = standardVatRateBasisPoints,
): { totalExcludingTaxCents: Cents; vatCents: Cents; totalIncludingTaxCents: Cents } {
  const totalExcludingTax = lines.reduce((sum, line) => sum + line.amountExcludingTaxCents, 0);
  const vat = vatCents(totalExcludingTax, vatRateBasisPoints);
  return {
    totalExcludingTaxCents: totalExcludingTax,
    vatCents: vat,
    totalIncludingTaxCents: totalExcludingTax + vat,
  };
}

/**
 * The invoice of a period: the subscription and consumption lines of `periodCharges`, totalled
 * with 20 % VAT. The invoice number (an unbroken sequence, kept by the caller), the issue and due
 * dates and the seller's identity are inputs, so the function stays pure.
 */
export function buildInvoice(input: {
  contract: Contract;
  period: BillingPeriod;
  usage: PeriodUsage;
  invoiceNumber: string;
  issuedOn: IsoDate;
  dueDate: IsoDate;
  seller: CompanyIdentity;
  vatRateBasisPoints?: number;
}): Invoice {
  if (typeof input.invoiceNumber !== 'string' || !invoiceNumberPattern.test(input.invoiceNumber)) {
    throw new BillingError(
      'InvalidInvoice',
      `invoice number ${JSON.stringify(input.invoiceNumber)} is not valid`,
    );
  }
  const issuedOn = checkIsoDate(input.issuedOn, 'issue date');
  const dueDate = checkIsoDate(input.dueDate, 'due date');
  if (compareIsoDates(dueDate, issuedOn) < 0) {
    throw new BillingError('InvalidInvoice', `due date ${dueDate} is before issue date ${issuedOn}`);
  }
  const vatRate = input.vatRateBasisPoints ?? standardVatRateBasisPoints;
  if (!Number.isSafeInteger(vatRate) || vatRate < 0) {
    throw new BillingError('InvalidInvoice', `VAT rate ${vatRate} basis points is not valid`);
  }
  const charges = periodCharges(input.contract, input.period, input.usage);
  return {
    invoiceNumber: input.invoiceNumber,
    contractNumber: input.contract.contractNumber,
    seller: validateCompanyIdentity(input.seller),
    customer: input.contract.company,
    representativeName: input.contract.representativeName,
    period: input.period,
    issuedOn,
    dueDate,
    lines: charges.lines,
    price: charges.price,
    committedTerabytes: charges.committedTerabytes,
    peakStoredBytes: charges.peakStoredBytes,
    peakTerabytes: charges.peakTerabytes,
    ...invoiceTotals(charges.lines, vatRate),
    vatRateBasisPoints: vatRate,
    currency: 'EUR',
  };
}
