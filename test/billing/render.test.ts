import test from 'ava';
import {
  billingPeriod,
  buildInvoice,
  type Contract,
  csvField,
  escapeHtml,
  type Invoice,
  invoiceCsvHeader,
  invoiceLinesToCsv,
  invoiceToJson,
  renderInvoiceHtml,
  validateContract,
} from '../../operator/billing/index.ts';
import { contractInput, seller } from './fixtures.ts';

function monthlyInvoice(
  contract: Contract = validateContract(contractInput({ periodicity: 'monthly' })),
): Invoice {
  return buildInvoice({
    contract,
    period: billingPeriod(contract, 0),
    usage: { peakStoredBytes: 12_300_000_000_000n },
    invoiceNumber: 'F-2026-0001',
    issuedOn: '2026-02-01',
    dueDate: '2026-03-03',
    seller,
  });
}

/** A strict RFC 4180 reader, to check that what is written reads back field for field. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let position = 0;
  while (position < text.length) {
    if (text[position] === '"') {
      position++;
      for (;;) {
        const quote = text.indexOf('"', position);
        if (quote < 0) throw new Error('unterminated quoted field');
        field += text.slice(position, quote);
        position = quote + 1;
        if (text[position] !== '"') break;
        field += '"';
        position++;
      }
    } else {
      const end = text.slice(position).search(/,|\r\n/);
      const stop = end < 0 ? text.length : position + end;
      field += text.slice(position, stop);
      position = stop;
    }
    if (text.startsWith('\r\n', position)) {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      position += 2;
    } else if (text[position] === ',') {
      row.push(field);
      field = '';
      position++;
    } else if (position < text.length) {
      throw new Error(`unexpected character at ${position}`);
    }
  }
  if (field !== '' || row.length > 0) throw new Error('last row not terminated by CRLF');
  return rows;
}

test('CSV field: commas, double quotes and line breaks are quoted, quotes doubled (RFC 4180)', (t) => {
  t.is(csvField('plain'), 'plain');
  t.is(csvField(230), '230');
  t.is(csvField('Dupont & Fils, Lille'), '"Dupont & Fils, Lille"');
  t.is(csvField('la "Clinique"'), '"la ""Clinique"""');
  t.is(csvField('line\r\nbreak'), '"line\r\nbreak"');
  t.is(csvField('line\nbreak'), '"line\nbreak"');
});

test('CSV: a header row then one row per line, CRLF-terminated, reading back exactly', (t) => {
  const csv = invoiceLinesToCsv(monthlyInvoice());
  t.true(csv.endsWith('\r\n'));
  const rows = parseCsv(csv);
  t.deepEqual(rows[0], [...invoiceCsvHeader]);
  t.is(rows.length, 3);
  t.deepEqual(
    rows.slice(1).map((row) => [row[0], row[1], row[2], row[3], row[4], row[6], row[7], row[8], row[9]]),
    [
      [
        'F-2026-0001',
        'CSI-2026-0042',
        '2026-01-01',
        '2026-01-31',
        'subscription',
        '10',
        '1',
        '23.00',
        '230.00',
      ],
      ['F-2026-0001', 'CSI-2026-0042', '2026-01-01', '2026-01-31', 'consumption', '3', '1', '23.00', '69.00'],
    ],
  );
  // The consumption description contains commas, so it must have been quoted to read back whole.
  t.true(rows[2][5].includes('pic de la période : 13 To, par palier de 1 To'));
  t.true(rows.every((row) => row.length === invoiceCsvHeader.length));
});

test('JSON: lines in cents and euros, totals HT/TVA/TTC, the period and the peak in bytes as a string', (t) => {
  const json = JSON.parse(invoiceToJson(monthlyInvoice()));
  t.is(json.contractNumber, 'CSI-2026-0042');
  t.is(json.customer.name, 'Dupont & Fils <Santé> "Clinique", Lille');
  t.deepEqual(json.period, {
    startDate: '2026-01-01',
    lastDate: '2026-01-31',
    endDateExclusive: '2026-02-01',
    months: 1,
  });
  t.deepEqual(
    json.lines.map((line: { amountExcludingTaxCents: number; amountExcludingTaxEuros: string }) => [
      line.amountExcludingTaxCents,
      line.amountExcludingTaxEuros,
    ]),
    [
      [23000, '230.00'],
      [6900, '69.00'],
    ],
  );
  t.is(json.totalExcludingTaxCents, 29900);
  t.is(json.vatCents, 5980);
  t.is(json.totalIncludingTaxCents, 35880);
  t.is(json.totalIncludingTaxEuros, '358.80');
  t.is(json.peakStoredBytes, '12300000000000');
  t.is(json.peakTerabytes, 13);
});

test('HTML escaping: & < > " and \' become entities', (t) => {
  t.is(
    escapeHtml(`Dupont & Fils <b>"x"</b> l'eau`),
    'Dupont &amp; Fils &lt;b&gt;&quot;x&quot;&lt;/b&gt; l&#39;eau',
  );
});

test('HTML invoice: contract number, period, both companies, lines and HT / TVA 20 % / TTC', (t) => {
  const html = renderInvoiceHtml(monthlyInvoice());
  t.true(html.startsWith('<!DOCTYPE html>'));
  t.true(html.includes('CSI-2026-0042'));
  t.true(html.includes('Facture n° F-2026-0001'));
  t.true(html.includes('du 01/01/2026 au 31/01/2026'));
  t.true(html.includes("Date d'échéance</dt><dd>03/03/2026"));
  t.true(html.includes('SIREN 987654324'));
  t.true(html.includes('TVA intracommunautaire FR14987654324'));
  t.true(html.includes('Représentant : Camille Martin'));
  t.true(html.includes('Coffre SAS'));
  t.true(html.includes('230,00\u00a0€'));
  t.true(html.includes('69,00\u00a0€'));
  t.regex(html, /Total HT<\/th><td class="number">299,00\u00a0€/);
  t.regex(html, /TVA 20 %<\/th><td class="number">59,80\u00a0€/);
  t.regex(html, /Total TTC<\/th><td class="number">358,80\u00a0€/);
  t.true(html.includes('indemnité forfaitaire pour frais de recouvrement de 40 €'));
});

test('HTML invoice: a company name with & < > " is escaped, never markup', (t) => {
  const html = renderInvoiceHtml(monthlyInvoice());
  t.true(html.includes('Dupont &amp; Fils &lt;Santé&gt; &quot;Clinique&quot;, Lille'));
  t.false(html.includes('<Santé>'));
  t.false(html.includes('Dupont & Fils'));
});

test('HTML invoice: a revised price says which SYNTEC indices it comes from', (t) => {
  const contract = validateContract(contractInput({ periodicity: 'annual' }));
  const invoice = buildInvoice({
    contract,
    period: billingPeriod(contract, 1),
    usage: { peakStoredBytes: 0 },
    invoiceNumber: 'F-2027-0001',
    issuedOn: '2027-01-01',
    dueDate: '2027-01-31',
    seller,
  });
  const html = renderInvoiceHtml(invoice);
  t.true(html.includes('Prix révisé au 01/01/2027'));
  t.true(html.includes('S = 305,1 (2026-11)'));
  t.true(html.includes('S0 = 296,3'));
  t.true(html.includes('23,68\u00a0€'));
  t.true(html.includes('du 01/01/2027 au 31/12/2027'));
});
