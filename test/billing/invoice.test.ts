import test from 'ava';
import {
  BillingError,
  billingPeriod,
  buildInvoice,
  type Contract,
  type PeriodUsage,
  periodCharges,
  periodsDue,
  validateContract,
  vatCents,
} from '../../operator/billing/index.ts';
import { contractInput, seller, terabyte } from './fixtures.ts';

const peakOf12Point3Terabytes: PeriodUsage = { peakStoredBytes: 12_300_000_000_000n };

function invoiceFor(contract: Contract, periodIndex: number, usage: PeriodUsage) {
  return buildInvoice({
    contract,
    period: billingPeriod(contract, periodIndex),
    usage,
    invoiceNumber: 'F-2026-0001',
    issuedOn: '2026-02-01',
    dueDate: '2026-03-03',
    seller,
  });
}

test('worked example, monthly: 10 To committed, peak 12.3 To → 13 To × 23 € = 299 € HT', (t) => {
  const contract = validateContract(contractInput({ periodicity: 'monthly' }));
  const invoice = invoiceFor(contract, 0, peakOf12Point3Terabytes);
  t.deepEqual(
    invoice.lines.map((line) => [
      line.kind,
      line.quantityTerabytes,
      line.months,
      line.amountExcludingTaxCents,
    ]),
    [
      ['subscription', 10, 1, 23000],
      ['consumption', 3, 1, 6900],
    ],
  );
  t.is(invoice.totalExcludingTaxCents, 29900);
  t.is(invoice.vatCents, 5980);
  t.is(invoice.totalIncludingTaxCents, 35880);
  t.is(invoice.period.startDate, '2026-01-01');
  t.is(invoice.period.endDateExclusive, '2026-02-01');
});

test('worked example, annual: the same usage over a year is 13 To × 23 € × 12 = 3588 € HT', (t) => {
  const contract = validateContract(contractInput());
  const invoice = invoiceFor(contract, 0, peakOf12Point3Terabytes);
  t.deepEqual(
    invoice.lines.map((line) => [
      line.kind,
      line.quantityTerabytes,
      line.months,
      line.amountExcludingTaxCents,
    ]),
    [
      ['subscription', 10, 12, 276000],
      ['consumption', 3, 12, 82800],
    ],
  );
  t.is(invoice.totalExcludingTaxCents, 358800);
  t.is(invoice.vatCents, 71760);
  t.is(invoice.totalIncludingTaxCents, 430560);
});

test('worked example, indexation: the second year is billed at 23.68 € (S0 296.3, S 305.1)', (t) => {
  const contract = validateContract(contractInput());
  const charges = periodCharges(contract, billingPeriod(contract, 1), peakOf12Point3Terabytes);
  t.is(charges.period.startDate, '2027-01-01');
  t.is(charges.price.priceCentsPerTerabyteMonth, 2368);
  t.is(charges.price.revision?.index.value, '305.1');
  // 13 To × 23.68 € × 12 months.
  t.is(charges.lines[0].amountExcludingTaxCents + charges.lines[1].amountExcludingTaxCents, 369408);
});

test('indexation on a monthly contract: the month that starts on the anniversary takes the new price', (t) => {
  const contract = validateContract(contractInput({ periodicity: 'monthly' }));
  t.is(
    periodCharges(contract, billingPeriod(contract, 11), { peakStoredBytes: 0 }).lines[0]
      .unitPriceCentsPerTerabyteMonth,
    2300,
  );
  t.is(
    periodCharges(contract, billingPeriod(contract, 12), { peakStoredBytes: 0 }).lines[0]
      .unitPriceCentsPerTerabyteMonth,
    2368,
  );
});

test('zero usage: the subscribed volume is still due, the consumption line is 0 To', (t) => {
  const contract = validateContract(contractInput({ periodicity: 'monthly' }));
  const charges = periodCharges(contract, billingPeriod(contract, 0), { samples: [] });
  t.is(charges.peakTerabytes, 0);
  t.deepEqual(
    charges.lines.map((line) => [line.quantityTerabytes, line.amountExcludingTaxCents]),
    [
      [10, 23000],
      [0, 0],
    ],
  );
});

test('a peak below the commitment bills only the commitment', (t) => {
  const contract = validateContract(contractInput({ periodicity: 'monthly' }));
  const charges = periodCharges(contract, billingPeriod(contract, 0), {
    peakStoredBytes: 9n * terabyte + 1n,
  });
  t.is(charges.peakTerabytes, 10);
  t.is(charges.consumptionTerabytes, 0);
  const above = periodCharges(contract, billingPeriod(contract, 0), { peakStoredBytes: 10n * terabyte + 1n });
  t.is(above.consumptionTerabytes, 1);
  t.is(above.lines[1].amountExcludingTaxCents, 2300);
});

test('period boundaries are Paris midnights: a sample at 00:30 on 1 April in Paris is April usage', (t) => {
  const contract = validateContract(contractInput({ periodicity: 'monthly', startDate: '2026-03-01' }));
  const samples = [
    // 1 March 00:30 in Paris (winter time, UTC+1), the first report of March.
    { atMs: Date.parse('2026-02-28T23:30:00Z'), storedBytes: 12_300_000_000_000n },
    // 31 March 23:59:59.999 in Paris (summer time, UTC+2).
    { atMs: Date.parse('2026-03-31T21:59:59.999Z'), storedBytes: 11n * terabyte },
    // 1 April 00:30 in Paris, still 31 March in UTC.
    { atMs: Date.parse('2026-03-31T22:30:00Z'), storedBytes: 50n * terabyte },
  ];
  const march = periodCharges(contract, billingPeriod(contract, 0), { samples });
  const april = periodCharges(contract, billingPeriod(contract, 1), { samples });
  t.is(march.peakTerabytes, 13);
  t.is(april.peakTerabytes, 50);
});

test('leaving mid-period: the customer pays the whole started year, with the peak reached', (t) => {
  const contract = validateContract(contractInput());
  const due = periodsDue(contract, '2026-06-01', '2026-03-01');
  t.is(due.length, 1);
  const invoice = buildInvoice({
    contract,
    period: due[0],
    usage: { samples: [{ atMs: Date.parse('2026-01-10T10:00:00Z'), storedBytes: 12_300_000_000_000n }] },
    invoiceNumber: 'F-2026-0099',
    issuedOn: '2026-03-01',
    dueDate: '2026-03-31',
    seller,
  });
  t.is(invoice.lines[0].months, 12);
  t.is(invoice.totalExcludingTaxCents, 358800);
});

test('VAT: 20 % of the total HT, rounded half-up to the cent', (t) => {
  t.is(vatCents(29900), 5980);
  t.is(vatCents(12), 2); // 2.4
  t.is(vatCents(13), 3); // 2.6
  t.is(vatCents(100, 550), 6); // 5.5 at 5.5 %
});

test('invoice: a malformed invoice number, a due date before issue or a bad seller are refused', (t) => {
  const contract = validateContract(contractInput());
  const base = {
    contract,
    period: billingPeriod(contract, 0),
    usage: { peakStoredBytes: 0 },
    invoiceNumber: 'F-1',
    issuedOn: '2026-02-01',
    dueDate: '2026-03-03',
    seller,
  };
  t.is(
    t.throws(() => buildInvoice({ ...base, invoiceNumber: '<script>' }), { instanceOf: BillingError })?.code,
    'InvalidInvoice',
  );
  t.is(
    t.throws(() => buildInvoice({ ...base, dueDate: '2026-01-31' }), { instanceOf: BillingError })?.code,
    'InvalidInvoice',
  );
  t.is(
    t.throws(() => buildInvoice({ ...base, seller: { ...seller, siren: '123456789' } }), {
      instanceOf: BillingError,
    })?.code,
    'InvalidSiren',
  );
  t.is(
    t.throws(() => buildInvoice({ ...base, usage: { peakStoredBytes: -1 } }), { instanceOf: BillingError })
      ?.code,
    'InvalidUsage',
  );
});

test("a period that is not one of the contract's own is refused with PeriodMismatch", (t) => {
  const contract = validateContract(contractInput());
  const monthlyPeriod = billingPeriod({ startDate: '2026-01-01', periodicity: 'monthly' }, 0);
  const error = t.throws(() => periodCharges(contract, monthlyPeriod, { peakStoredBytes: 0 }), {
    instanceOf: BillingError,
  });
  t.is(error?.code, 'PeriodMismatch');
  const shifted = { ...billingPeriod(contract, 0), startDate: '2026-01-02' };
  t.is(
    t
      .throws(() => periodCharges(contract, shifted, { peakStoredBytes: 0 }))
      ?.message.includes('CSI-2026-0042'),
    true,
  );
});
