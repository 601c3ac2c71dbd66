/**
 * The New York Stock Exchange calendar: full-day closures and 1:00 p.m. early closes.
 *
 * Sources:
 * - NYSE Rule 7.2 ("Holidays"): the Exchange is closed on New Year's Day, Martin Luther King,
 *   Jr. Day, Washington's Birthday, Good Friday, Memorial Day, Juneteenth National
 *   Independence Day, Independence Day, Labor Day, Thanksgiving Day and Christmas Day. A
 *   holiday on a Saturday closes the preceding Friday and one on a Sunday closes the following
 *   Monday, "unless unusual business conditions exist, such as the ending of a monthly or the
 *   yearly accounting period": that is why New Year's Day on a Saturday (2005, 2011, 2022,
 *   2028) is not observed on Friday December 31.
 * - NYSE holiday and trading-hours pages: regular session 09:30-16:00 America/New_York;
 *   "each market will close early at 1:00 p.m." on the day before Independence Day, the day
 *   after Thanksgiving and Christmas Eve when those are weekdays the Exchange is open.
 * - Juneteenth is an NYSE holiday from 2022 (first observed Monday 2022-06-20).
 * - The Independence Day early close: July 3 on a Monday, Tuesday or Thursday; on a Wednesday
 *   only from 2013 (2013-07-03 was the first); before 2013, a Thursday July 4 was followed by
 *   an early close on Friday July 5 instead (2002-07-05). The same rules, and the one-off
 *   2003-12-26 early close, are encoded in pandas_market_calendars
 *   (`exchange_calendar_nyse.py`, built from NYSE's historical closings list).
 *
 * Good Friday is Easter Sunday − 2 days ({@link easterSunday}, Meeus/Jones/Butcher).
 *
 * Verified: every weekday 2000-01-03..2021-03-31 against the real SPY daily bars in the LEAN
 * data (a session exists iff this calendar says the NYSE was open), and the published NYSE
 * calendars through 2028. Later years follow the standing rules; a new one-off closure (a
 * national day of mourning, a storm) must be added to {@link NYSE_SPECIAL_CLOSURES}.
 */
import {
  civilOf,
  dayNumber,
  easterSunday,
  FRIDAY,
  formatDay,
  type IsoDate,
  lastWeekday,
  MONDAY,
  nthWeekday,
  SATURDAY,
  SUNDAY,
  THURSDAY,
  weekdayOf,
} from './civil-date.js';

/** A day on which the NYSE deviates from its regular weekday session. */
export interface NyseSpecialDay {
  readonly date: IsoDate;
  /** `closed`: no session; `early-close`: 09:30-13:00 America/New_York. */
  readonly kind: 'closed' | 'early-close';
  readonly name: string;
}

/**
 * One-off full-day closures 2000..2030 (not derivable from the holiday rules), with the
 * reason. Source: NYSE historical closings; each also listed in pandas_market_calendars.
 */
export const NYSE_SPECIAL_CLOSURES: readonly NyseSpecialDay[] = [
  { date: '2001-09-11', kind: 'closed', name: 'September 11 attacks' },
  { date: '2001-09-12', kind: 'closed', name: 'September 11 attacks' },
  { date: '2001-09-13', kind: 'closed', name: 'September 11 attacks' },
  { date: '2001-09-14', kind: 'closed', name: 'September 11 attacks' },
  { date: '2004-06-11', kind: 'closed', name: 'National Day of Mourning (Ronald Reagan)' },
  { date: '2007-01-02', kind: 'closed', name: 'National Day of Mourning (Gerald Ford)' },
  { date: '2012-10-29', kind: 'closed', name: 'Hurricane Sandy' },
  { date: '2012-10-30', kind: 'closed', name: 'Hurricane Sandy' },
  { date: '2018-12-05', kind: 'closed', name: 'National Day of Mourning (George H. W. Bush)' },
  { date: '2025-01-09', kind: 'closed', name: 'National Day of Mourning (Jimmy Carter)' },
];

/** One-off 1:00 p.m. early closes 2000..2030 not produced by the standing rules. */
export const NYSE_SPECIAL_EARLY_CLOSES: readonly NyseSpecialDay[] = [
  { date: '2003-12-26', kind: 'early-close', name: 'Day after Christmas (one-off)' },
];

/** First year Juneteenth National Independence Day is an NYSE holiday. */
const JUNETEENTH_FIRST_YEAR = 2022;
/** First year the early close falls on a Wednesday July 3 (before: Friday July 5). */
const WEDNESDAY_JULY_3_FROM = 2013;

/**
 * Rule 7.2 observance: Saturday → preceding Friday, Sunday → following Monday.
 * `saturdayObserved = false` for New Year's Day (the Friday is a year-end).
 */
function observed(day: number, saturdayObserved = true): number | null {
  const wd = weekdayOf(day);
  if (wd === SATURDAY) return saturdayObserved ? day - 1 : null;
  if (wd === SUNDAY) return day + 1;
  return day;
}

const cache = new Map<number, ReadonlyMap<number, NyseSpecialDay>>();

function buildYear(year: number): ReadonlyMap<number, NyseSpecialDay> {
  const days = new Map<number, NyseSpecialDay>();
  const close = (day: number | null, name: string) => {
    if (day === null || civilOf(day).year !== year) return;
    days.set(day, { date: formatDay(day), kind: 'closed', name });
  };
  const early = (day: number, name: string) => {
    const wd = weekdayOf(day);
    if (wd === SATURDAY || wd === SUNDAY || days.has(day)) return; // a closure wins
    days.set(day, { date: formatDay(day), kind: 'early-close', name });
  };

  // Full-day holidays (NYSE Rule 7.2).
  close(observed(dayNumber(year, 1, 1), false), "New Year's Day");
  close(nthWeekday(year, 1, MONDAY, 3), 'Martin Luther King, Jr. Day');
  close(nthWeekday(year, 2, MONDAY, 3), "Washington's Birthday");
  close(easterSunday(year) - 2, 'Good Friday');
  close(lastWeekday(year, 5, MONDAY), 'Memorial Day');
  if (year >= JUNETEENTH_FIRST_YEAR) {
    close(observed(dayNumber(year, 6, 19)), 'Juneteenth National Independence Day');
  }
  close(observed(dayNumber(year, 7, 4)), 'Independence Day');
  close(nthWeekday(year, 9, MONDAY, 1), 'Labor Day');
  const thanksgiving = nthWeekday(year, 11, THURSDAY, 4);
  close(thanksgiving, 'Thanksgiving Day');
  close(observed(dayNumber(year, 12, 25)), 'Christmas Day');
  for (const special of [...NYSE_SPECIAL_CLOSURES, ...NYSE_SPECIAL_EARLY_CLOSES]) {
    if (special.date.startsWith(`${year}-`)) {
      const [y, m, d] = special.date.split('-').map(Number) as [number, number, number];
      const day = dayNumber(y, m, d);
      if (special.kind === 'closed') days.set(day, special);
      else early(day, special.name);
    }
  }

  // 1:00 p.m. early closes.
  const july3 = dayNumber(year, 7, 3);
  const july3Weekday = weekdayOf(july3);
  if (july3Weekday !== 3 || year >= WEDNESDAY_JULY_3_FROM) {
    early(july3, 'Day before Independence Day');
  } else {
    const july5 = dayNumber(year, 7, 5);
    if (weekdayOf(july5) === FRIDAY) early(july5, 'Day after Independence Day');
  }
  early(thanksgiving + 1, 'Day after Thanksgiving');
  early(dayNumber(year, 12, 24), 'Christmas Eve');
  return days;
}

/** The NYSE special days of `year` keyed by day number (memoized; pure). */
export function nyseYear(year: number): ReadonlyMap<number, NyseSpecialDay> {
  let days = cache.get(year);
  if (!days) {
    days = buildYear(year);
    cache.set(year, days);
  }
  return days;
}

/**
 * Every NYSE closure and early close of `year`, in date order (weekends are not listed).
 * Example: 2013 → 2013-01-01 closed (New Year's Day), ..., 2013-07-03 early-close, ...,
 * 2013-11-29 early-close, 2013-12-24 early-close, 2013-12-25 closed.
 */
export function nyseSpecialDays(year: number): readonly NyseSpecialDay[] {
  return [...nyseYear(year).entries()].sort((a, b) => a[0] - b[0]).map(([, d]) => d);
}
