import { addDays, type IsoDate } from './calendar.ts';
import type { CompanyIdentity } from './contract.ts';
import type { Invoice } from './invoice.ts';
import { formatEuroFrench } from './money.ts';

const htmlEscapes: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(text: string | number): string {
  return String(text).replace(/[&<>"']/g, (character) => htmlEscapes[character]);
}

function frenchDate(date: IsoDate): string {
  const [year, month, day] = date.split('-');
  return `${day}/${month}/${year}`;
}

function companyBlock(title: string, company: CompanyIdentity, representativeName?: string): string {
  const rows = [
    `<strong>${escapeHtml(company.name)}</strong>`,
    ...company.address.lines.map(escapeHtml),
    `${escapeHtml(company.address.postalCode)} ${escapeHtml(company.address.city)}`,
    escapeHtml(company.address.country),
    `SIREN ${escapeHtml(company.siren)}`,
    ...(company.siret === undefined ? [] : [`SIRET ${escapeHtml(company.siret)}`]),
    ...(company.vatNumber === undefined ? [] : [`TVA intracommunautaire ${escapeHtml(company.vatNumber)}`]),
    ...(representativeName === undefined ? [] : [`Représentant : ${escapeHtml(representativeName)}`]),
  ];
  return `<section class="party"><h2>${escapeHtml(title)}</h2><p>${rows.join('<br>')}</p></section>`;
}

function linesTable(invoice: Invoice): string {
  const rows = invoice.lines.map(
    (line) =>
      `<tr><td>${escapeHtml(line.description)}</td><td class="number">${line.quantityTerabytes}</td>` +
      `<td class="number">${line.months}</td>` +
      `<td class="number">${escapeHtml(formatEuroFrench(line.unitPriceCentsPerTerabyteMonth))}</td>` +
      `<td class="number">${escapeHtml(formatEuroFrench(line.amountExcludingTaxCents))}</td></tr>`,
  );
  const vatPercent = `${invoice.vatRateBasisPoints / 100}`.replace('.', ',');
  return [
    '<table class="lines"><thead><tr><th>Désignation</th><th>Quantité (To)</th><th>Mois</th>',
    '<th>Prix unitaire HT (To/mois)</th><th>Montant HT</th></tr></thead><tbody>',
    ...rows,
    '</tbody><tfoot>',
    `<tr><th colspan="4">Total HT</th><td class="number">${escapeHtml(formatEuroFrench(invoice.totalExcludingTaxCents))}</td></tr>`,
    `<tr><th colspan="4">TVA ${vatPercent} %</th><td class="number">${escapeHtml(formatEuroFrench(invoice.vatCents))}</td></tr>`,
    `<tr><th colspan="4">Total TTC</th><td class="number">${escapeHtml(formatEuroFrench(invoice.totalIncludingTaxCents))}</td></tr>`,
    '</tfoot></table>',
  ].join('\n');
}

function decimalFrench(value: string | number): string {
  return String(value).replace('.', ',');
}

/** How the figures were reached: the peak measured, and the SYNTEC revision of the price if any. */
function basisParagraph(invoice: Invoice): string {
  const bytes = invoice.peakStoredBytes.toString().replace(/\B(?=(\d{3})+(?!\d))/g, '\u202f');
  const sentences = [
    `Volume souscrit : ${invoice.committedTerabytes} To. Volume maximal stocké sur la période : ${bytes} octets, ` +
      `soit ${invoice.peakTerabytes} To par palier de 1 To (1 To = 10¹² octets).`,
  ];
  const revision = invoice.price.revision;
  if (revision !== undefined) {
    sentences.push(
      `Prix révisé au ${frenchDate(revision.anniversaryDate)} selon l'indice SYNTEC : ` +
        `P = P0 × S / S0, S = ${decimalFrench(revision.index.value)} (${revision.index.month}), ` +
        `S0 = ${decimalFrench(revision.indexAtSignature)}.`,
    );
  }
  return `<p class="basis">${sentences.map(escapeHtml).join('<br>')}</p>`;
}

/**
 * General terms: "Late or partial payment: penalties at three times the legal interest rate from
 * the day after the due date, plus a 40 € fixed indemnity" — a mention that French B2B invoices
 * must carry (Code de commerce, art. L441-9).
 */
const latePaymentNotice =
  "En cas de retard de paiement, des pénalités au taux de trois fois le taux d'intérêt légal sont dues à " +
  "compter du lendemain de la date d'échéance, ainsi qu'une indemnité forfaitaire pour frais de recouvrement de 40 €.";

/** A complete, self-contained HTML page of the invoice, every inserted text escaped. */
export function renderInvoiceHtml(invoice: Invoice): string {
  const lastDay = addDays(invoice.period.endDateExclusive, -1);
  const title = `Facture ${invoice.invoiceNumber} — contrat ${invoice.contractNumber}`;
  return [
    '<!DOCTYPE html>',
    '<html lang="fr"><head><meta charset="utf-8">',
    `<title>${escapeHtml(title)}</title>`,
    '<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;width:100%}',
    'td,th{border:1px solid #999;padding:4px 8px;text-align:left}.number{text-align:right}',
    '.parties{display:flex;gap:4em}dl{display:grid;grid-template-columns:max-content auto;gap:2px 1em}',
    'dt{font-weight:bold}dd{margin:0}</style></head><body>',
    `<h1>Facture n° ${escapeHtml(invoice.invoiceNumber)}</h1>`,
    '<dl>',
    `<dt>Contrat</dt><dd>${escapeHtml(invoice.contractNumber)}</dd>`,
    `<dt>Période</dt><dd>du ${frenchDate(invoice.period.startDate)} au ${frenchDate(lastDay)}</dd>`,
    `<dt>Date d'émission</dt><dd>${frenchDate(invoice.issuedOn)}</dd>`,
    `<dt>Date d'échéance</dt><dd>${frenchDate(invoice.dueDate)}</dd>`,
    '</dl>',
    '<div class="parties">',
    companyBlock('Prestataire', invoice.seller),
    companyBlock('Client', invoice.customer, invoice.representativeName),
    '</div>',
    linesTable(invoice),
    basisParagraph(invoice),
    `<p class="terms">${escapeHtml(latePaymentNotice)}</p>`,
    '</body></html>',
    '',
  ].join('\n');
}
