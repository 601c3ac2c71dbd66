/**
 * Market calendar on known dates: NYSE holidays with their observance rules, Good Friday,
 * one-off closures, 1:00 p.m. early closes, the EST/EDT switch, and the 24/7 crypto calendar.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dayNumber, easterSunday, formatDay } from '../../../functions/core/calendar/civil-date.js';
import {
  isMarketOpen,
  isTradingDay,
  marketDate,
  marketTimeMs,
  marketTimeZone,
  nextTradingDay,
  previousTradingDay,
  sessionHours,
  tradingDaysBetween,
} from '../../../functions/core/calendar/market-calendar.js';
import { nyseSpecialDays } from '../../../functions/core/calendar/nyse.js';
import { ValidationError } from '../../../functions/core/errors.js';

/** [date, why] of NYSE dates with no session. */
const NYSE_CLOSED: ReadonlyArray<readonly [string, string]> = [
  ['2013-12-25', 'Christmas Day'],
  ['2013-11-28', 'Thanksgiving Day'],
  ['2013-03-29', 'Good Friday 2013'],
  ['2013-11-03', 'a Sunday (DST ends)'],
  ['2013-11-02', 'a Saturday'],
  ['2013-01-01', "New Year's Day"],
  ['2013-01-21', 'Martin Luther King, Jr. Day (3rd Monday of January)'],
  ['2013-02-18', "Washington's Birthday (3rd Monday of February)"],
  ['2013-05-27', 'Memorial Day (last Monday of May)'],
  ['2013-07-04', 'Independence Day'],
  ['2013-09-02', 'Labor Day (1st Monday of September)'],
  ['2000-04-21', 'Good Friday 2000'],
  ['2008-03-21', 'Good Friday 2008'],
  ['2016-03-25', 'Good Friday 2016'],
  ['2024-03-29', 'Good Friday 2024'],
  ['2030-04-19', 'Good Friday 2030'],
  ['2010-12-24', 'Christmas on a Saturday, observed Friday'],
  ['2011-12-26', 'Christmas on a Sunday, observed Monday'],
  ['2015-07-03', 'Independence Day on a Saturday, observed Friday'],
  ['2021-07-05', 'Independence Day on a Sunday, observed Monday'],
  ['2017-01-02', "New Year's Day on a Sunday, observed Monday"],
  ['2022-06-20', 'Juneteenth on a Sunday, observed Monday (first year)'],
  ['2023-06-19', 'Juneteenth'],
  ['2027-06-18', 'Juneteenth on a Saturday, observed Friday'],
  ['2001-09-11', 'September 11 attacks'],
  ['2001-09-14', 'September 11 attacks'],
  ['2004-06-11', 'National Day of Mourning (Reagan)'],
  ['2007-01-02', 'National Day of Mourning (Ford)'],
  ['2012-10-29', 'Hurricane Sandy'],
  ['2012-10-30', 'Hurricane Sandy'],
  ['2018-12-05', 'National Day of Mourning (G. H. W. Bush)'],
  ['2025-01-09', 'National Day of Mourning (Carter)'],
];

/** [date, openIso, closeIso, earlyClose, why] of NYSE sessions. */
const NYSE_SESSIONS: ReadonlyArray<readonly [string, string, string, boolean, string]> = [
  ['2013-11-29', '14:30', '18:00', true, 'day after Thanksgiving, 13:00 EST'],
  ['2013-07-03', '13:30', '17:00', true, 'day before Independence Day, 13:00 EDT'],
  ['2013-12-24', '14:30', '18:00', true, 'Christmas Eve'],
  ['2013-11-01', '13:30', '20:00', false, 'last Friday on EDT'],
  ['2013-11-04', '14:30', '21:00', false, 'first Monday on EST'],
  ['2013-03-28', '13:30', '20:00', false, 'Thursday before Good Friday'],
  ['2021-12-31', '14:30', '21:00', false, "New Year's Day 2022 on a Saturday is not observed"],
  ['2010-12-31', '14:30', '21:00', false, "New Year's Day 2011 on a Saturday is not observed"],
  ['2022-01-03', '14:30', '21:00', false, 'Monday after a Saturday New Year'],
  ['2021-06-18', '13:30', '20:00', false, 'Juneteenth is an NYSE holiday only from 2022'],
  ['2002-07-05', '13:30', '17:00', true, 'Friday after a Thursday July 4, before 2013'],
  ['2002-07-03', '13:30', '20:00', false, 'Wednesday July 3 before 2013: full day'],
  ['2019-07-03', '13:30', '17:00', true, 'Wednesday July 3 from 2013: early close'],
  ['2019-07-05', '13:30', '20:00', false, 'Friday July 5 from 2013: full day'],
  ['2020-07-02', '13:30', '20:00', false, 'July 3 closed (observed), July 2 full day'],
  ['2003-12-26', '14:30', '18:00', true, 'one-off early close'],
  ['2008-12-26', '14:30', '21:00', false, 'no early close after a Thursday Christmas'],
  ['2018-12-24', '14:30', '18:00', true, 'Christmas Eve on a Monday'],
  ['2025-12-24', '14:30', '18:00', true, 'Christmas Eve on a Wednesday'],
  ['2012-10-31', '13:30', '20:00', false, 'reopening after Hurricane Sandy'],
];

describe('equity-usa (NYSE) closures', () => {
  it.each(NYSE_CLOSED)('%s is closed (%s)', (date) => {
    // Act
    const trading = isTradingDay(date, 'equity-usa');
    const hours = sessionHours(date, 'equity-usa');

    // Assess
    expect(trading).toBe(false);
    expect(hours).toBeNull();
  });
});

describe('equity-usa (NYSE) session hours', () => {
  it.each(NYSE_SESSIONS)('%s opens %sZ, closes %sZ, early %s (%s)', (date, open, close, early) => {
    // Act
    const hours = sessionHours(date, 'equity-usa');

    // Assess
    expect(isTradingDay(date, 'equity-usa')).toBe(true);
    expect(hours).toEqual({
      openIso: `${date}T${open}:00.000Z`,
      closeIso: `${date}T${close}:00.000Z`,
      earlyClose: early,
    });
  });

  it('has the six LEAN sessions 2013-10-04..11, each 09:30-16:00 EDT', () => {
    // Act
    const days = tradingDaysBetween('2013-10-04', '2013-10-11', 'equity-usa');

    // Assess
    expect(days).toEqual([
      '2013-10-04',
      '2013-10-07',
      '2013-10-08',
      '2013-10-09',
      '2013-10-10',
      '2013-10-11',
    ]);
    for (const d of days) {
      expect(sessionHours(d, 'equity-usa')).toEqual({
        openIso: `${d}T13:30:00.000Z`,
        closeIso: `${d}T20:00:00.000Z`,
        earlyClose: false,
      });
    }
  });

  it('opens at 13:30Z or 14:30Z and lasts 6.5 h (3.5 h on early closes) every session 2000..2030', () => {
    // Act
    const days = tradingDaysBetween('2000-01-01', '2030-12-31', 'equity-usa');

    // Assess
    for (const d of days) {
      const h = sessionHours(d, 'equity-usa');
      expect(h).not.toBeNull();
      const open = Date.parse(h?.openIso ?? '');
      const close = Date.parse(h?.closeIso ?? '');
      expect(['13:30', '14:30']).toContain(h?.openIso.slice(11, 16));
      expect(close - open).toBe((h?.earlyClose ? 3.5 : 6.5) * 3_600_000);
    }
    // about 252 sessions a year
    expect(days.length / 31).toBeGreaterThan(250);
    expect(days.length / 31).toBeLessThan(254);
  });

  it('lists 2013 special days with their names, in date order', () => {
    // Act
    const days = nyseSpecialDays(2013);

    // Assess
    expect(days.map((d) => `${d.date} ${d.kind}`)).toEqual([
      '2013-01-01 closed',
      '2013-01-21 closed',
      '2013-02-18 closed',
      '2013-03-29 closed',
      '2013-05-27 closed',
      '2013-07-03 early-close',
      '2013-07-04 closed',
      '2013-09-02 closed',
      '2013-11-28 closed',
      '2013-11-29 early-close',
      '2013-12-24 early-close',
      '2013-12-25 closed',
    ]);
    expect(days.find((d) => d.date === '2013-03-29')?.name).toBe('Good Friday');
  });
});

describe('next / previous trading day', () => {
  it.each([
    ['equity-usa', '2013-11-27', '2013-11-29', 'skips Thanksgiving'],
    ['equity-usa', '2013-11-01', '2013-11-04', 'skips a weekend'],
    ['equity-usa', '2012-10-26', '2012-10-31', 'skips a weekend and Hurricane Sandy'],
    ['equity-usa', '2013-03-28', '2013-04-01', 'skips Good Friday and a weekend'],
    ['crypto', '2017-09-02', '2017-09-03', 'crypto trades on Sunday'],
  ] as const)('%s next after %s is %s (%s)', (market, date, expected, _why) => {
    // Act / Assess
    expect(nextTradingDay(date, market)).toBe(expected);
    expect(previousTradingDay(expected, market)).toBe(date);
  });

  it('the next session is a session, strictly later, with none in between', () => {
    fc.assert(
      fc.property(fc.integer({ min: dayNumber(2000, 1, 3), max: dayNumber(2098, 12, 31) }), (n) => {
        // Prepare
        const date = formatDay(n);

        // Act
        const next = nextTradingDay(date, 'equity-usa');
        const prev = previousTradingDay(next, 'equity-usa');

        // Assess
        expect(next > date).toBe(true);
        expect(isTradingDay(next, 'equity-usa')).toBe(true);
        expect(tradingDaysBetween(date, next, 'equity-usa').filter((d) => d > date)).toEqual([
          next,
        ]);
        expect(prev <= date).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});

describe('crypto', () => {
  it('trades every UTC day, 00:00Z to 00:00Z', () => {
    // Act
    const days = tradingDaysBetween('2017-12-30', '2018-01-02', 'crypto');
    const sunday = sessionHours('2017-09-03', 'crypto');

    // Assess
    expect(days).toEqual(['2017-12-30', '2017-12-31', '2018-01-01', '2018-01-02']);
    expect(isTradingDay('2013-12-25', 'crypto')).toBe(true);
    expect(sunday).toEqual({
      openIso: '2017-09-03T00:00:00.000Z',
      closeIso: '2017-09-04T00:00:00.000Z',
      earlyClose: false,
    });
  });
});

describe('marketDate / isMarketOpen', () => {
  it.each([
    ['2013-11-04T14:30:00.000Z', 'equity-usa', '2013-11-04', true],
    ['2013-11-04T14:29:59.999Z', 'equity-usa', '2013-11-04', false],
    ['2013-11-01T13:30:00.000Z', 'equity-usa', '2013-11-01', true],
    ['2013-11-29T17:59:00.000Z', 'equity-usa', '2013-11-29', true],
    ['2013-11-29T18:00:00.000Z', 'equity-usa', '2013-11-29', false],
    ['2013-11-05T03:00:00.000Z', 'equity-usa', '2013-11-04', false],
    ['2013-12-25T15:00:00.000Z', 'equity-usa', '2013-12-25', false],
    ['2017-09-03T23:59:00.000Z', 'crypto', '2017-09-03', true],
  ] as const)('%s on %s is market date %s, open %s', (iso, market, date, open) => {
    // Prepare
    const ms = Date.parse(iso);

    // Act / Assess
    expect(marketDate(ms, market)).toBe(date);
    expect(isMarketOpen(ms, market)).toBe(open);
  });
});

describe('marketTimeZone / marketTimeMs', () => {
  it('reads wall-clock times in New York for equities (DST included) and in UTC for crypto', () => {
    expect(marketTimeZone('equity-usa')).toBe('America/New_York');
    expect(marketTimeZone('crypto')).toBe('UTC');
    expect(new Date(marketTimeMs('2024-01-10', '10:00', 'equity-usa')).toISOString()).toBe(
      '2024-01-10T15:00:00.000Z',
    );
    expect(new Date(marketTimeMs('2024-03-11', '10:00', 'equity-usa')).toISOString()).toBe(
      '2024-03-11T14:00:00.000Z',
    );
    expect(new Date(marketTimeMs('2018-04-05', '01:00', 'crypto')).toISOString()).toBe(
      '2018-04-05T01:00:00.000Z',
    );
  });

  it('is the inverse of marketDate for every instant on the minute (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 20 * 365 * 1440 }),
        fc.constantFrom('equity-usa' as const, 'crypto' as const),
        (minute, market) => {
          const ms = Date.UTC(2010, 0, 1) + minute * 60_000;
          const zone = marketTimeZone(market);
          const hhmm = new Intl.DateTimeFormat('en-GB', {
            timeZone: zone,
            hour: '2-digit',
            minute: '2-digit',
            hourCycle: 'h23',
          }).format(ms);
          const back = marketTimeMs(marketDate(ms, market), hhmm, market);
          // A New York wall-clock time repeated at the fall-back hour maps to its first instant.
          expect(back === ms || back === ms - 3_600_000).toBe(true);
        },
      ),
    );
  });

  it('refuses malformed dates and times', () => {
    expect(() => marketTimeMs('2018-4-5', '01:00', 'crypto')).toThrow(ValidationError);
    expect(() => marketTimeMs('2018-04-05', '24:00', 'crypto')).toThrow(ValidationError);
  });
});

describe('easterSunday (Meeus/Jones/Butcher)', () => {
  it.each([
    [2000, '2000-04-23'],
    [2008, '2008-03-23'],
    [2011, '2011-04-24'],
    [2013, '2013-03-31'],
    [2019, '2019-04-21'],
    [2024, '2024-03-31'],
    [2038, '2038-04-25'],
    [2285, '2285-03-22'],
  ])('Easter %i is %s', (year, expected) => {
    // Act / Assess
    expect(formatDay(easterSunday(year))).toBe(expected);
  });
});

describe('validation', () => {
  it.each([
    [() => isTradingDay('2013-02-30', 'equity-usa'), 'date'],
    [() => isTradingDay('20131004', 'equity-usa'), 'date'],
    [() => isTradingDay('1999-12-31', 'equity-usa'), 'date'],
    [() => sessionHours('2100-01-04', 'equity-usa'), 'date'],
    [() => isTradingDay('2013-10-04', 'forex' as never), 'market'],
    [() => tradingDaysBetween('2013-10-11', '2013-10-04', 'equity-usa'), 'to'],
    [() => nextTradingDay('2099-12-31', 'crypto'), 'date'],
    [() => marketDate(Number.NaN, 'crypto'), 'epochMs'],
  ])('rejects bad input %#, naming the field %s', (act, field) => {
    // Act / Assess
    expect(act).toThrow(ValidationError);
    try {
      act();
    } catch (err) {
      expect((err as ValidationError).field).toBe(field);
    }
  });
});
