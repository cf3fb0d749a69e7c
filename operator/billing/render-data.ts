import { addDays } from './calendar.ts';
import type { Invoice } from './invoice.ts';
import { formatEuroDecimal } from './money.ts';

/**
 * Machine-readable invoice lines. Amounts appear twice: in integer cents (exact, for programs)
 * and as a decimal euro string with a dot ('299.00', for spreadsheets and people). Periods give
 * their first day, last day, and the exclusive end used in computations.
 */
export function invoiceToJson(invoice: Invoice): string {
  const period = invoice.period;
  return JSON.stringify(
    {
      invoiceNumber: invoice.invoiceNumber,
      contractNumber: invoice.contractNumber,
      customer: invoice.customer,
      representativeName: invoice.representativeName,
      seller: invoice.seller,
      period: {
        startDate: period.startDate,
        lastDate: addDays(period.endDateExclusive, -1),
        endDateExclusive: period.endDateExclusive,
        months: period.months,
      },
      issuedOn: invoice.issuedOn,
      dueDate: invoice.dueDate,
      currency: invoice.currency,
      committedTerabytes: invoice.committedTerabytes,
      // A bigint has no JSON form; a decimal string keeps volumes beyond 2^53 bytes exact.
      peakStoredBytes: invoice.peakStoredBytes.toString(),
      peakTerabytes: invoice.peakTerabytes,
      price: invoice.price,
      lines: invoice.lines.map((line) => ({
        ...line,
        unitPriceEuros: formatEuroDecimal(line.unitPriceCentsPerTerabyteMonth),
        amountExcludingTaxEuros: formatEuroDecimal(line.amountExcludingTaxCents),
      })),
      totalExcludingTaxCents: invoice.totalExcludingTaxCents,
      vatRateBasisPoints: invoice.vatRateBasisPoints,
      vatCents: invoice.vatCents,
      totalIncludingTaxCents: invoice.totalIncludingTaxCents,
      totalExcludingTaxEuros: formatEuroDecimal(invoice.totalExcludingTaxCents),
      vatEuros: formatEuroDecimal(invoice.vatCents),
      totalIncludingTaxEuros: formatEuroDecimal(invoice.totalIncludingTaxCents),
    },
    null,
    2,
  );
}

/**
 * One CSV field, quoted as RFC 4180 section 2 says: "Fields containing line breaks (CRLF), double
 * quotes, and commas should be enclosed in double-quotes", and "a double-quote appearing inside a
 * field must be escaped by preceding it with another double quote".
 */
export function csvField(value: string | number): string {
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export const invoiceCsvHeader = [
  'invoice_number',
  'contract_number',
  'period_start',
  'period_last_day',
  'kind',
  'description',
  'quantity_to',
  'months',
  'unit_price_eur_ht',
  'amount_eur_ht',
] as const;

/** The invoice lines as CSV: a header row, then one row per line, CRLF after every row (RFC 4180). */
export function invoiceLinesToCsv(invoice: Invoice): string {
  const lastDay = addDays(invoice.period.endDateExclusive, -1);
  const rows = [
    invoiceCsvHeader,
    ...invoice.lines.map((line) => [
      invoice.invoiceNumber,
      invoice.contractNumber,
      invoice.period.startDate,
      lastDay,
      line.kind,
      line.description,
      line.quantityTerabytes,
      line.months,
      formatEuroDecimal(line.unitPriceCentsPerTerabyteMonth),
      formatEuroDecimal(line.amountExcludingTaxCents),
    ]),
  ];
  return rows.map((row) => `${row.map(csvField).join(',')}\r\n`).join('');
}
