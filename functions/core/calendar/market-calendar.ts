/**
 * Market calendar: which dates have a session and when it opens and closes.
 *
 * Markets:
 * - `equity-usa`: the NYSE calendar (see `nyse.ts` for the rules and their sources): Monday to
 *   Friday 09:30-16:00 America/New_York, closed on NYSE holidays and one-off closures, closing
 *   at 13:00 on early-close days. Times are converted to UTC with `@date-fns/tz` (IANA rules),
 *   so the EST/EDT switch is exact: 09:30 is 14:30Z in winter and 13:30Z in summer.
 * - `crypto`: 24/7; every UTC calendar day is a session from 00:00Z to 00:00Z the next day.
 *
 * Dates are civil dates `YYYY-MM-DD`: the exchange-local date (America/New_York) for
 * `equity-usa`, the UTC date for `crypto`, as in `MarketSession.date`. The calendar covers
 * {@link CALENDAR_FIRST_DATE}..{@link CALENDAR_LAST_DATE}; the NYSE one-off closures are
 * tabulated through 2030 (`NYSE_SPECIAL_CLOSURES`), later years follow the standing rules.
 */
import { TZDate } from '@date-fns/tz';
import { ValidationError } from '../errors.js';
import type { MarketSession } from '../market/types.js';
import {
  civilOf,
  formatDay,
  type IsoDate,
  parseIsoDate,
  SATURDAY,
  SUNDAY,
  weekdayOf,
} from './civil-date.js';
import { nyseYear } from './nyse.js';

/** A market with a calendar: `equity-usa` (NYSE) or `crypto` (24/7). */
export type Market = MarketSession['market'];

/** Every market this calendar knows. */
export const MARKETS: readonly Market[] = ['equity-usa', 'crypto'];

/** First date the calendar answers for. */
export const CALENDAR_FIRST_DATE: IsoDate = '2000-01-01';
/** Last date the calendar answers for. */
export const CALENDAR_LAST_DATE: IsoDate = '2099-12-31';

/**
 * IANA zone of the NYSE session times: the one New York time-zone constant (promotion window,
 * schedules, session dates and report times all use it).
 */
export const NYSE_TIME_ZONE = 'America/New_York';

/**
 * IANA zone a market's wall-clock times (schedules, promotion window, session dates) are read
 * in: {@link NYSE_TIME_ZONE} for `equity-usa`, `UTC` for `crypto`.
 *
 * @throws ValidationError('market') for an unknown market.
 */
export function marketTimeZone(market: Market): typeof NYSE_TIME_ZONE | 'UTC' {
  return checkMarket(market) === 'crypto' ? 'UTC' : NYSE_TIME_ZONE;
}

/** One session's hours. */
export interface SessionHours {
  /** Session open, UTC ISO-8601 (e.g. `2013-11-04T14:30:00.000Z`). */
  readonly openIso: string;
  /** Session close, UTC ISO-8601 (16:00 or, on an early-close day, 13:00 New York). */
  readonly closeIso: string;
  /** True on an NYSE 1:00 p.m. early-close day; always false for `crypto`. */
  readonly earlyClose: boolean;
}

const FIRST_DAY = parseIsoDate(CALENDAR_FIRST_DATE, 'CALENDAR_FIRST_DATE');
const LAST_DAY = parseIsoDate(CALENDAR_LAST_DATE, 'CALENDAR_LAST_DATE');
const DAY_MS = 86_400_000;

function checkMarket(market: unknown): Market {
  if (!MARKETS.includes(market as Market)) {
    throw new ValidationError('market', `must be one of ${MARKETS.join(', ')}, got ${market}`);
  }
  return market as Market;
}

function checkDay(date: unknown, field: string): number {
  const day = parseIsoDate(date, field);
  if (day < FIRST_DAY || day > LAST_DAY) {
    throw new ValidationError(
      field,
      `${date} is outside the calendar (${CALENDAR_FIRST_DATE}..${CALENDAR_LAST_DATE})`,
    );
  }
  return day;
}

function isSessionDay(day: number, market: Market): boolean {
  if (market === 'crypto') return true;
  const wd = weekdayOf(day);
  if (wd === SATURDAY || wd === SUNDAY) return false;
  return nyseYear(civilOf(day).year).get(day)?.kind !== 'closed';
}

/**
 * True when `market` has a session on `date`.
 *
 * @param date civil date `YYYY-MM-DD` (New York date for `equity-usa`, UTC date for `crypto`).
 * @throws ValidationError('date') for a malformed date or one outside
 *   {@link CALENDAR_FIRST_DATE}..{@link CALENDAR_LAST_DATE};
 *   ValidationError('market') for an unknown market.
 */
export function isTradingDay(date: IsoDate, market: Market): boolean {
  const m = checkMarket(market);
  return isSessionDay(checkDay(date, 'date'), m);
}

/**
 * Open and close of `market`'s session on `date`, or `null` when there is none.
 * `equity-usa`: 09:30 and 16:00 America/New_York (13:00 on an early-close day), in UTC.
 * `crypto`: `date`T00:00Z to the next day's T00:00Z.
 *
 * Example: 2013-11-29 (day after Thanksgiving) → open `2013-11-29T14:30:00.000Z`, close
 * `2013-11-29T18:00:00.000Z`, earlyClose true.
 *
 * @throws ValidationError('date' | 'market') as {@link isTradingDay}.
 */
export function sessionHours(date: IsoDate, market: Market): SessionHours | null {
  const m = checkMarket(market);
  const day = checkDay(date, 'date');
  if (!isSessionDay(day, m)) return null;
  if (m === 'crypto') {
    return {
      openIso: new Date(day * DAY_MS).toISOString(),
      closeIso: new Date((day + 1) * DAY_MS).toISOString(),
      earlyClose: false,
    };
  }
  const { year, month, day: dom } = civilOf(day);
  const earlyClose = nyseYear(year).get(day)?.kind === 'early-close';
  const at = (hour: number, minute: number) =>
    new Date(
      new TZDate(year, month - 1, dom, hour, minute, NYSE_TIME_ZONE).getTime(),
    ).toISOString();
  return { openIso: at(9, 30), closeIso: earlyClose ? at(13, 0) : at(16, 0), earlyClose };
}

function step(date: IsoDate, market: Market, direction: 1 | -1): IsoDate {
  const m = checkMarket(market);
  let day = checkDay(date, 'date') + direction;
  while (day >= FIRST_DAY && day <= LAST_DAY) {
    if (isSessionDay(day, m)) return formatDay(day);
    day += direction;
  }
  throw new ValidationError(
    'date',
    `no ${direction > 0 ? 'later' : 'earlier'} session inside the calendar (${CALENDAR_FIRST_DATE}..${CALENDAR_LAST_DATE})`,
  );
}

/**
 * The first session date strictly after `date` (e.g. `equity-usa` 2013-11-27 → 2013-11-29).
 *
 * @throws ValidationError('date' | 'market') as {@link isTradingDay}, also when the next
 *   session would fall after {@link CALENDAR_LAST_DATE}.
 */
export function nextTradingDay(date: IsoDate, market: Market): IsoDate {
  return step(date, market, 1);
}

/**
 * The last session date strictly before `date` (e.g. `equity-usa` 2013-11-04 → 2013-11-01).
 *
 * @throws ValidationError('date' | 'market') as {@link isTradingDay}, also when the previous
 *   session would fall before {@link CALENDAR_FIRST_DATE}.
 */
export function previousTradingDay(date: IsoDate, market: Market): IsoDate {
  return step(date, market, -1);
}

/**
 * Session dates `d` with `from <= d <= to` (both inclusive), ascending; its `length` is the
 * number of trading days in the range. Example: `equity-usa` 2013-10-04..2013-10-11 →
 * 04, 07, 08, 09, 10, 11 (6 sessions).
 *
 * @throws ValidationError('from' | 'to') for a malformed or out-of-calendar date, or when
 *   `to` is before `from`; ValidationError('market') for an unknown market.
 */
export function tradingDaysBetween(from: IsoDate, to: IsoDate, market: Market): IsoDate[] {
  const m = checkMarket(market);
  const first = checkDay(from, 'from');
  const last = checkDay(to, 'to');
  if (last < first) throw new ValidationError('to', `${to} is before from ${from}`);
  const out: IsoDate[] = [];
  for (let day = first; day <= last; day++) if (isSessionDay(day, m)) out.push(formatDay(day));
  return out;
}

/**
 * The market's civil date at instant `epochMs`: the America/New_York date for `equity-usa`
 * (so 2013-11-05T03:00Z is 2013-11-04), the UTC date for `crypto`.
 *
 * @param epochMs epoch milliseconds UTC (e.g. from the `Clock` port).
 * @throws ValidationError('epochMs') when not a finite number; ValidationError('market').
 */
export function marketDate(epochMs: number, market: Market): IsoDate {
  const m = checkMarket(market);
  if (!Number.isFinite(epochMs)) {
    throw new ValidationError('epochMs', `must be a finite number, got ${epochMs}`);
  }
  if (m === 'crypto') return new Date(epochMs).toISOString().slice(0, 10);
  const local = new TZDate(epochMs, NYSE_TIME_ZONE);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${local.getFullYear()}-${pad(local.getMonth() + 1)}-${pad(local.getDate())}`;
}

/**
 * Epoch ms UTC of the New York wall-clock time `hhmm` (`HH:MM`, 24 h) on the civil date `date`
 * (`YYYY-MM-DD`), daylight saving time included (e.g. `2024-03-11`, `09:45` is 13:45Z).
 *
 * @throws ValidationError('date') / ValidationError('time') when not in those forms.
 */
export function newYorkTimeMs(date: IsoDate, hhmm: string): number {
  const d = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!d) throw new ValidationError('date', `must be YYYY-MM-DD, got ${date}`);
  const t = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(hhmm);
  if (!t) throw new ValidationError('time', `must be HH:MM (24 h), got ${hhmm}`);
  const [y, m, day, hh, mm] = [d[1], d[2], d[3], t[1], t[2]].map(Number) as [
    number,
    number,
    number,
    number,
    number,
  ];
  return new TZDate(y, m - 1, day, hh, mm, 0, 0, NYSE_TIME_ZONE).getTime();
}

/**
 * Epoch ms UTC of the wall-clock time `hhmm` (`HH:MM`, 24 h) on the civil date `date` in
 * `market`'s zone ({@link marketTimeZone}): New York time for `equity-usa` (as
 * {@link newYorkTimeMs}), UTC for `crypto` (e.g. `2018-04-05`, `01:00` is
 * `2018-04-05T01:00:00.000Z`).
 *
 * @throws ValidationError('date' | 'time') when not in those forms; ValidationError('market').
 */
export function marketTimeMs(date: IsoDate, hhmm: string, market: Market): number {
  if (checkMarket(market) === 'equity-usa') return newYorkTimeMs(date, hhmm);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) {
    throw new ValidationError('date', `must be YYYY-MM-DD, got ${date}`);
  }
  if (!/^([01]\d|2[0-3]):([0-5]\d)$/.test(hhmm)) {
    throw new ValidationError('time', `must be HH:MM (24 h), got ${hhmm}`);
  }
  return Date.parse(`${date}T${hhmm}:00.000Z`);
}

/**
 * True when `market` is in session at instant `epochMs` (open inclusive, close exclusive).
 *
 * @throws ValidationError('epochMs' | 'market'), or ValidationError('date') when the instant's
 *   market date is outside the calendar.
 */
export function isMarketOpen(epochMs: number, market: Market): boolean {
  const hours = sessionHours(marketDate(epochMs, market), market);
  if (!hours) return false;
  return epochMs >= Date.parse(hours.openIso) && epochMs < Date.parse(hours.closeIso);
}
