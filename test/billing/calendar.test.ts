import test from 'ava';
import {
  addDays,
  addMonths,
  BillingError,
  daysBetween,
  parisDateOfInstant,
  parisMidnightUtcMs,
  parseIsoDate,
} from '../../operator/billing/index.ts';

test('calendar: adding months clamps to the end of a shorter month', (t) => {
  t.is(addMonths('2026-01-31', 1), '2026-02-28');
  t.is(addMonths('2028-01-31', 1), '2028-02-29');
  t.is(addMonths('2026-01-31', 2), '2026-03-31');
  t.is(addMonths('2024-02-29', 12), '2025-02-28');
  t.is(addMonths('2026-11-15', 3), '2027-02-15');
});

test('calendar: days cross month, year and leap-day boundaries', (t) => {
  t.is(addDays('2026-12-31', 1), '2027-01-01');
  t.is(addDays('2026-03-01', -1), '2026-02-28');
  t.is(daysBetween('2024-02-28', '2024-03-01'), 2);
  t.is(daysBetween('2026-01-31', '2026-03-02'), 30);
});

test('calendar: impossible or malformed dates are refused with InvalidDate', (t) => {
  for (const text of ['2026-02-30', '2026-13-01', '2026-1-01', '01/02/2026', '2026-02-29T00:00']) {
    const error = t.throws(() => parseIsoDate(text), { instanceOf: BillingError });
    t.is(error?.code, 'InvalidDate', text);
  }
});

test('Paris midnight: 23:00 UTC the day before in winter, 22:00 UTC in summer', (t) => {
  t.is(new Date(parisMidnightUtcMs('2026-01-01')).toISOString(), '2025-12-31T23:00:00.000Z');
  t.is(new Date(parisMidnightUtcMs('2026-07-01')).toISOString(), '2026-06-30T22:00:00.000Z');
});

test('Paris midnight: the days of the daylight-saving changes (29 March and 25 October 2026)', (t) => {
  // Clocks go forward at 02:00 on 29 March: that midnight is still winter time.
  t.is(new Date(parisMidnightUtcMs('2026-03-29')).toISOString(), '2026-03-28T23:00:00.000Z');
  t.is(new Date(parisMidnightUtcMs('2026-03-30')).toISOString(), '2026-03-29T22:00:00.000Z');
  // Clocks go back at 03:00 on 25 October: that midnight is still summer time.
  t.is(new Date(parisMidnightUtcMs('2026-10-25')).toISOString(), '2026-10-24T22:00:00.000Z');
  t.is(new Date(parisMidnightUtcMs('2026-10-26')).toISOString(), '2026-10-25T23:00:00.000Z');
});

test('Paris dates: an instant just before Paris midnight belongs to the previous day', (t) => {
  const midnight = parisMidnightUtcMs('2026-04-01');
  t.is(parisDateOfInstant(midnight), '2026-04-01');
  t.is(parisDateOfInstant(midnight - 1), '2026-03-31');
});
