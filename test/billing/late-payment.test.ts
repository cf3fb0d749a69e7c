import test from 'ava';
import {
  BillingError,
  lateFixedIndemnityCents,
  latePaymentPenalty,
  latePenaltyRateMultiplier,
} from '../../operator/billing/index.ts';
import { legalRates } from './fixtures.ts';

test('late payment: 358.80 € TTC paid 30 days late at a 3.71 % legal rate costs 3.28 € + 40 €', (t) => {
  // 35880 × 3 × 3.71 % × 30 / 365 = 328.23 cents.
  const penalty = latePaymentPenalty({
    amountDueCents: 35880,
    dueDate: '2025-03-01',
    paidOn: '2025-03-31',
    legalRates,
  });
  t.is(penalty.daysLate, 30);
  t.is(penalty.penaltyCents, 328);
  t.is(penalty.fixedIndemnityCents, 4000);
  t.is(penalty.totalCents, 4328);
  t.deepEqual(penalty.segments, [
    { fromDate: '2025-03-02', toDateExclusive: '2025-04-01', days: 30, legalRatePercent: '3.71' },
  ]);
});

test('late payment: the contract constants are three times the legal rate and 40 €', (t) => {
  t.is(latePenaltyRateMultiplier, 3n);
  t.is(lateFixedIndemnityCents, 4000);
});

test('late payment: paid on the due date or before costs nothing, not even the indemnity', (t) => {
  for (const paidOn of ['2025-03-01', '2025-02-15']) {
    const penalty = latePaymentPenalty({ amountDueCents: 35880, dueDate: '2025-03-01', paidOn, legalRates });
    t.deepEqual(penalty, {
      daysLate: 0,
      segments: [],
      penaltyCents: 0,
      fixedIndemnityCents: 0,
      totalCents: 0,
    });
  }
});

test('late payment: penalties run from the day after the due date — paid the next day is 1 day', (t) => {
  const penalty = latePaymentPenalty({
    amountDueCents: 3_650_000,
    dueDate: '2025-03-01',
    paidOn: '2025-03-02',
    legalRates: [{ from: '2025-01-01', percent: '10' }],
  });
  // 3 650 000 × 3 × 10 % × 1 / 365 = 3000 cents.
  t.is(penalty.daysLate, 1);
  t.is(penalty.penaltyCents, 3000);
  t.is(penalty.totalCents, 7000);
});

test('late payment: a delay across 1 July bears each half-year its own legal rate', (t) => {
  const penalty = latePaymentPenalty({
    amountDueCents: 1_000_000,
    dueDate: '2025-06-15',
    paidOn: '2025-07-15',
    legalRates,
  });
  t.is(penalty.daysLate, 30);
  t.deepEqual(
    penalty.segments.map((segment) => [segment.fromDate, segment.days, segment.legalRatePercent]),
    [
      ['2025-06-16', 15, '3.71'],
      ['2025-07-01', 15, '2.76'],
    ],
  );
  // 1 000 000 × 3 × (3.71 % × 15 + 2.76 % × 15) / 365 = 7976.71 cents.
  t.is(penalty.penaltyCents, 7977);
});

test('late payment: the penalty rounds half-up to the cent, once for the whole delay', (t) => {
  const rates = [{ from: '2025-01-01', percent: '10' }];
  // amount × 3 × 10 % × 73 / 365 = amount × 0.06: 25 cents → 1.5, 75 cents → 4.5.
  t.is(
    latePaymentPenalty({ amountDueCents: 25, dueDate: '2025-01-01', paidOn: '2025-03-15', legalRates: rates })
      .penaltyCents,
    2,
  );
  t.is(
    latePaymentPenalty({ amountDueCents: 75, dueDate: '2025-01-01', paidOn: '2025-03-15', legalRates: rates })
      .penaltyCents,
    5,
  );
  t.is(
    latePaymentPenalty({ amountDueCents: 24, dueDate: '2025-01-01', paidOn: '2025-03-15', legalRates: rates })
      .penaltyCents,
    1,
  );
});

test('late payment: a day with no legal rate in the table is a LegalRateMissing error', (t) => {
  const error = t.throws(
    () =>
      latePaymentPenalty({ amountDueCents: 35880, dueDate: '2024-12-15', paidOn: '2025-01-15', legalRates }),
    { instanceOf: BillingError },
  );
  t.is(error?.code, 'LegalRateMissing');
});

test('late payment: a float amount is refused with InvalidAmount', (t) => {
  const error = t.throws(
    () =>
      latePaymentPenalty({ amountDueCents: 358.8, dueDate: '2025-03-01', paidOn: '2025-03-31', legalRates }),
    { instanceOf: BillingError },
  );
  t.is(error?.code, 'InvalidAmount');
});
