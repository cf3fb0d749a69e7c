import test from 'ava';
import {
  billingPeriod,
  billingPeriodContaining,
  monthsPerPeriod,
  periodInstants,
  periodsDue,
  regularisationLastDate,
} from '../../operator/billing/index.ts';

const annual = { startDate: '2026-01-15', periodicity: 'annual' } as const;
const monthly = { startDate: '2026-01-31', periodicity: 'monthly' } as const;

test('periodicity: an annual period is 12 monthly prices, a monthly one is 1', (t) => {
  t.is(monthsPerPeriod('annual'), 12);
  t.is(monthsPerPeriod('monthly'), 1);
});

test('annual periods run from anniversary to anniversary', (t) => {
  t.deepEqual(billingPeriod(annual, 0), {
    index: 0,
    startDate: '2026-01-15',
    endDateExclusive: '2027-01-15',
    months: 12,
  });
  t.is(billingPeriod(annual, 2).startDate, '2028-01-15');
});

test('monthly periods from the 31st use the last day of short months and come back to the 31st', (t) => {
  const starts = [0, 1, 2, 3].map((index) => billingPeriod(monthly, index).startDate);
  t.deepEqual(starts, ['2026-01-31', '2026-02-28', '2026-03-31', '2026-04-30']);
  t.is(billingPeriod(monthly, 0).endDateExclusive, '2026-02-28');
});

test('the period containing a date; none before the contract starts', (t) => {
  t.is(billingPeriodContaining(monthly, '2026-03-30')?.index, 1);
  t.is(billingPeriodContaining(monthly, '2026-03-31')?.index, 2);
  t.is(billingPeriodContaining(annual, '2027-01-14')?.index, 0);
  t.is(billingPeriodContaining(annual, '2026-01-14'), undefined);
});

test('a started period is due: on its first day it is already owed', (t) => {
  t.deepEqual(
    periodsDue(annual, '2027-01-15').map((period) => period.index),
    [0, 1],
  );
  t.deepEqual(
    periodsDue(annual, '2027-01-14').map((period) => period.index),
    [0],
  );
  t.deepEqual(periodsDue(annual, '2026-01-14'), []);
});

test('leaving mid-period: the whole started period is due, later ones are not', (t) => {
  const due = periodsDue(annual, '2030-01-01', '2027-03-01');
  t.deepEqual(
    due.map((period) => [period.startDate, period.endDateExclusive, period.months]),
    [
      ['2026-01-15', '2027-01-15', 12],
      ['2027-01-15', '2028-01-15', 12],
    ],
  );
  t.deepEqual(
    periodsDue(annual, '2030-01-01', '2027-01-15').map((period) => period.index),
    [0],
  );
});

test('period boundaries are Paris midnights: a summer month starts at 22:00 UTC the day before', (t) => {
  const period = billingPeriod({ startDate: '2026-06-01', periodicity: 'monthly' }, 0);
  const { startMs, endMs } = periodInstants(period);
  t.is(new Date(startMs).toISOString(), '2026-05-31T22:00:00.000Z');
  t.is(new Date(endMs).toISOString(), '2026-06-30T22:00:00.000Z');
});

test('regularisation: a period may be invoiced or corrected until six months after it ends', (t) => {
  t.is(regularisationLastDate(billingPeriod(annual, 0)), '2027-07-14');
  t.is(
    regularisationLastDate(billingPeriod({ startDate: '2026-08-01', periodicity: 'monthly' }, 0)),
    '2027-02-28',
  );
});
