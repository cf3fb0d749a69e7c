import { BillingError } from './errors.ts';

/**
 * Calendar dates of French contracts: 'YYYY-MM-DD' strings read as local dates in Europe/Paris.
 * A contract signed in France starts, renews and falls due on Paris dates, so every billing
 * period boundary is a Paris local midnight; usage samples carry UTC instants and are placed in a
 * period by comparing them with the UTC instant of that midnight (23:00 or 22:00 UTC the day
 * before, depending on daylight saving time).
 */
export type IsoDate = string;

export const billingTimeZone = 'Europe/Paris';

export interface CalendarDate {
  readonly year: number;
  readonly month: number;
  readonly day: number;
}

const isoDatePattern = /^(\d{4})-(\d{2})-(\d{2})$/;
const millisecondsPerDay = 86_400_000;

export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** Reads 'YYYY-MM-DD', refusing dates that do not exist (2026-02-30). */
export function parseIsoDate(text: IsoDate, what = 'date'): CalendarDate {
  const match = typeof text === 'string' ? isoDatePattern.exec(text) : null;
  if (match !== null) {
    const year = Number(match[1]);
    const month = Number(match[2]);
    const day = Number(match[3]);
    if (year >= 1900 && month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month)) {
      return { year, month, day };
    }
  }
  throw new BillingError('InvalidDate', `${what}: ${JSON.stringify(text)} is not a YYYY-MM-DD calendar date`);
}

export function formatIsoDate(date: CalendarDate): IsoDate {
  const month = String(date.month).padStart(2, '0');
  const day = String(date.day).padStart(2, '0');
  return `${String(date.year).padStart(4, '0')}-${month}-${day}`;
}

/** Validates and returns the date unchanged, for use in checks. */
export function checkIsoDate(text: IsoDate, what: string): IsoDate {
  return formatIsoDate(parseIsoDate(text, what));
}

/**
 * Adds months to a date, keeping its day of month and clamping it to the last day of a shorter
 * month: 2026-01-31 + 1 month = 2026-02-28, and 2024-02-29 + 12 months = 2025-02-28. Callers step
 * from the contract's start date each time (start + n months), so a clamp never carries over.
 */
export function addMonths(date: IsoDate, months: number): IsoDate {
  const start = parseIsoDate(date);
  const monthIndex = start.year * 12 + (start.month - 1) + months;
  const year = Math.floor(monthIndex / 12);
  const month = (monthIndex % 12) + 1;
  return formatIsoDate({ year, month, day: Math.min(start.day, daysInMonth(year, month)) });
}

function dayNumber(date: IsoDate): number {
  const { year, month, day } = parseIsoDate(date);
  return Date.UTC(year, month - 1, day) / millisecondsPerDay;
}

export function addDays(date: IsoDate, days: number): IsoDate {
  const shifted = new Date((dayNumber(date) + days) * millisecondsPerDay);
  return formatIsoDate({
    year: shifted.getUTCFullYear(),
    month: shifted.getUTCMonth() + 1,
    day: shifted.getUTCDate(),
  });
}

/** Calendar days from `from` to `to` (positive when `to` is later). */
export function daysBetween(from: IsoDate, to: IsoDate): number {
  return dayNumber(to) - dayNumber(from);
}

export function compareIsoDates(left: IsoDate, right: IsoDate): number {
  return dayNumber(left) - dayNumber(right);
}

const parisOffsetFormat = new Intl.DateTimeFormat('en-US', {
  timeZone: billingTimeZone,
  timeZoneName: 'longOffset',
});

/** Europe/Paris offset from UTC at an instant, in milliseconds (+1 h in winter, +2 h in summer). */
function parisOffsetMs(instantMs: number): number {
  const zoneName = parisOffsetFormat.formatToParts(instantMs).find((part) => part.type === 'timeZoneName');
  const match = /^GMT(?:([+-])(\d{2}):(\d{2}))?$/.exec(zoneName?.value ?? '');
  if (match === null) throw new Error(`unexpected time zone name ${zoneName?.value}`);
  if (match[1] === undefined) return 0;
  const minutes = Number(match[2]) * 60 + Number(match[3]);
  return (match[1] === '-' ? -minutes : minutes) * 60_000;
}

/**
 * The UTC instant (epoch milliseconds) of midnight at the start of a Paris calendar date. Midnight
 * always exists in Europe/Paris (clocks change at 02:00 and 03:00), so the offset found at the
 * first guess is checked once and corrected once at most.
 */
export function parisMidnightUtcMs(date: IsoDate): number {
  const localMidnightAsUtcMs = dayNumber(date) * millisecondsPerDay;
  const firstGuessMs = localMidnightAsUtcMs - parisOffsetMs(localMidnightAsUtcMs);
  return localMidnightAsUtcMs - parisOffsetMs(firstGuessMs);
}

const parisDateFormat = new Intl.DateTimeFormat('en-CA', {
  timeZone: billingTimeZone,
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
});

/** The Paris calendar date of a UTC instant. */
export function parisDateOfInstant(instantMs: number): IsoDate {
  return parisDateFormat.format(instantMs);
}
