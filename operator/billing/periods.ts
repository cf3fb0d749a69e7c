import { addDays, addMonths, compareIsoDates, type IsoDate, parisMidnightUtcMs } from './calendar.ts';
import type { Periodicity } from './contract.ts';
import { BillingError } from './errors.ts';

/**
 * Billing periods follow the contract's start date in Europe/Paris local dates: period n runs from
 * start + n × (1 or 12) months, at Paris midnight, up to the start of period n + 1 (excluded).
 * Each boundary is computed from the start date (not from the previous boundary), so a contract
 * starting on the 31st bills from the last day of short months and returns to the 31st after.
 */
export interface BillingPeriod {
  /** 0 for the first period of the contract. */
  readonly index: number;
  readonly startDate: IsoDate;
  /** The first day of the next period: this period ends at Paris midnight at its start. */
  readonly endDateExclusive: IsoDate;
  /** 1 for a monthly period, 12 for an annual one. */
  readonly months: number;
}

/** A contract of up to a hundred years, in months: bounds every walk over periods. */
export const maximumPeriodCount = 1200;

/** Order form: billing periodicity per contract; an annual period is twelve monthly prices. */
export function monthsPerPeriod(periodicity: Periodicity): number {
  return periodicity === 'annual' ? 12 : 1;
}

export interface PeriodSchedule {
  readonly startDate: IsoDate;
  readonly periodicity: Periodicity;
}

export function billingPeriod(schedule: PeriodSchedule, index: number): BillingPeriod {
  if (!Number.isSafeInteger(index) || index < 0 || index >= maximumPeriodCount) {
    throw new BillingError('TooManyPeriods', `period index ${index} is out of range`);
  }
  const months = monthsPerPeriod(schedule.periodicity);
  return {
    index,
    startDate: addMonths(schedule.startDate, index * months),
    endDateExclusive: addMonths(schedule.startDate, (index + 1) * months),
    months,
  };
}

/** The period containing a Paris date; a date before the contract starts has none. */
export function billingPeriodContaining(schedule: PeriodSchedule, date: IsoDate): BillingPeriod | undefined {
  if (compareIsoDates(date, schedule.startDate) < 0) return undefined;
  for (let index = 0; index < maximumPeriodCount; index++) {
    const period = billingPeriod(schedule, index);
    if (compareIsoDates(date, period.endDateExclusive) < 0) return period;
  }
  throw new BillingError('TooManyPeriods', `${date} is beyond ${maximumPeriodCount} periods of the contract`);
}

/**
 * General terms: "every period started is due; a customer leaving mid-period pays the services
 * and variable consumption used in that period". The periods due as of a date: every period that
 * has started on or before `asOfDate`, and before the end of service if the contract ended.
 * `serviceEndDateExclusive` is the first day without service; the period in which it falls is due
 * whole, and later ones are not.
 */
export function periodsDue(
  schedule: PeriodSchedule,
  asOfDate: IsoDate,
  serviceEndDateExclusive?: IsoDate,
): BillingPeriod[] {
  const due: BillingPeriod[] = [];
  for (let index = 0; index < maximumPeriodCount; index++) {
    const period = billingPeriod(schedule, index);
    if (compareIsoDates(period.startDate, asOfDate) > 0) return due;
    if (
      serviceEndDateExclusive !== undefined &&
      compareIsoDates(period.startDate, serviceEndDateExclusive) >= 0
    ) {
      return due;
    }
    due.push(period);
  }
  throw new BillingError(
    'TooManyPeriods',
    `${asOfDate} is beyond ${maximumPeriodCount} periods of the contract`,
  );
}

/** The UTC instants [startMs, endMs) of a period's Paris-midnight boundaries, to place usage samples. */
export function periodInstants(period: BillingPeriod): { startMs: number; endMs: number } {
  return {
    startMs: parisMidnightUtcMs(period.startDate),
    endMs: parisMidnightUtcMs(period.endDateExclusive),
  };
}

/**
 * General terms: "The provider has 6 months to invoice and regularise". The last day on which a
 * period may still be invoiced or corrected: the six months run from the end of the period (Paris
 * midnight at `endDateExclusive`), so the last day is the one before the same date six months on.
 */
export function regularisationLastDate(period: BillingPeriod): IsoDate {
  return addDays(addMonths(period.endDateExclusive, 6), -1);
}
