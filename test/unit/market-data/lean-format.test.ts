import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  epochConverter,
  leanDateToIso,
  leanTimeToEpochMs,
  parseIsoDate,
  parseMinuteTrades,
  readLeanCsv,
  WHOLE_DAY,
} from '../../../functions/adapters/market-data/lean-format.js';
import { DataFileCorruptError, ValidationError } from '../../../functions/core/errors.js';
import { hm, zipCsv } from './fixtures.js';

describe('leanTimeToEpochMs', () => {
  it('maps 09:30 New York in winter (EST, UTC-5) to 14:30Z', () => {
    // Prepare
    const date = parseIsoDate('2013-12-02');

    // Act
    const t = leanTimeToEpochMs(date, hm(9, 30), 'equity-usa');

    // Assess
    expect(new Date(t).toISOString()).toBe('2013-12-02T14:30:00.000Z');
  });

  it('maps 09:30 New York in summer (EDT, UTC-4) to 13:30Z', () => {
    // Prepare
    const date = parseIsoDate('2013-10-04');

    // Act
    const t = leanTimeToEpochMs(date, hm(9, 30), 'equity-usa');

    // Assess
    expect(new Date(t).toISOString()).toBe('2013-10-04T13:30:00.000Z');
  });

  it('follows the wall clock on the DST switch days', () => {
    // Prepare
    const springForward = parseIsoDate('2013-03-10');
    const fallBack = parseIsoDate('2013-11-03');

    // Act
    const spring = leanTimeToEpochMs(springForward, hm(9, 30), 'equity-usa');
    const fall = leanTimeToEpochMs(fallBack, hm(9, 30), 'equity-usa');

    // Assess
    expect(new Date(spring).toISOString()).toBe('2013-03-10T13:30:00.000Z');
    expect(new Date(fall).toISOString()).toBe('2013-11-03T14:30:00.000Z');
  });

  it('treats crypto ms as since midnight UTC', () => {
    // Prepare
    const date = parseIsoDate('2018-04-04');

    // Act
    const t = leanTimeToEpochMs(date, 60_000, 'crypto');

    // Assess
    expect(new Date(t).toISOString()).toBe('2018-04-04T00:01:00.000Z');
  });

  it('keeps one minute between consecutive regular-session minutes on any date', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date('1998-01-01'), max: new Date('2030-12-31'), noInvalidDate: true }),
        fc.integer({ min: 0, max: 388 }),
        (d, minute) => {
          // Prepare
          const date = parseIsoDate(d.toISOString().slice(0, 10));
          const ms = hm(9, 30) + minute * 60_000;

          // Act
          const a = leanTimeToEpochMs(date, ms, 'equity-usa');
          const b = leanTimeToEpochMs(date, ms + 60_000, 'equity-usa');

          // Assess
          expect(b - a).toBe(60_000);
          const offsetHours =
            (a - (Date.UTC(date.year, date.month - 1, date.day) + ms)) / 3_600_000;
          expect([4, 5]).toContain(offsetHours);
        },
      ),
    );
  });
});

describe('parseIsoDate', () => {
  it.each(['2013-02-30', '20131004', '2013-1-4', 'garbage', '2013-13-01'])(
    'rejects %s with ValidationError on the field',
    (bad) => {
      // Act
      const act = () => parseIsoDate(bad, 'date');

      // Assess
      expect(act).toThrow(ValidationError);
      expect(act).toThrow(/^date: /);
    },
  );

  it('accepts a leap day', () => {
    // Act
    const d = parseIsoDate('2016-02-29');

    // Assess
    expect(d).toEqual({ year: 2016, month: 2, day: 29 });
  });

  it('converts LEAN file dates and rejects impossible ones', () => {
    // Act / Assess
    expect(leanDateToIso('20131004')).toBe('2013-10-04');
    expect(leanDateToIso('20130230')).toBeUndefined();
  });
});

describe('readLeanCsv / parseMinuteTrades', () => {
  const relPath = 'crypto/coinbase/minute/x/20180404_trade.zip';
  const ctx = {
    relPath,
    date: parseIsoDate('2018-04-04'),
    market: 'crypto' as const,
    window: WHOLE_DAY,
  };

  it('reports the line of a row whose time goes backwards', () => {
    // Prepare
    const rows = readLeanCsv(zipCsv('x.csv', ['60000,1,1,1,1,1', '0,1,1,1,1,1']), relPath);

    // Act
    const act = () => parseMinuteTrades(rows, ctx);

    // Assess
    expect(act).toThrow(DataFileCorruptError);
    expect(act).toThrow(/line 2: bar time is not after the previous row/);
  });

  it('skips blank lines without shifting line numbers', () => {
    // Prepare
    const rows = readLeanCsv(zipCsv('x.csv', ['0,1,1,1,1,1', '', '120000,1,2,3,1,1']), relPath);

    // Act
    const act = () => parseMinuteTrades(rows, ctx);

    // Assess
    expect(act).toThrow(/line 3: high 2 is below low 3/);
  });

  it('rejects a zero-byte file as not a zip', () => {
    // Prepare
    const empty = zipCsv('x.csv', []).subarray(0, 0);

    // Act
    const act = () => readLeanCsv(empty, relPath);

    // Assess
    expect(act).toThrow(DataFileCorruptError);
  });
});

describe('epochConverter', () => {
  it.each(['2013-03-10', '2013-11-03', '2013-10-04', '2013-12-02'])(
    'agrees with leanTimeToEpochMs on every minute of %s (DST switch days included)',
    (iso) => {
      // Prepare
      const date = parseIsoDate(iso);
      const convert = epochConverter(date, 'equity-usa');
      const minutes = Array.from({ length: 1440 }, (_, i) => i * 60_000);

      // Act
      const fast = minutes.map(convert);
      const reference = minutes.map((ms) => leanTimeToEpochMs(date, ms, 'equity-usa'));

      // Assess
      expect(fast).toEqual(reference);
    },
  );

  it('agrees with leanTimeToEpochMs on random dates and times', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date('1998-01-01'), max: new Date('2030-12-31'), noInvalidDate: true }),
        fc.integer({ min: 0, max: 86_399_999 }),
        fc.constantFrom('equity-usa' as const, 'crypto' as const),
        (d, ms, market) => {
          // Prepare
          const date = parseIsoDate(d.toISOString().slice(0, 10));

          // Act
          const fast = epochConverter(date, market)(ms);

          // Assess
          expect(fast).toBe(leanTimeToEpochMs(date, ms, market));
        },
      ),
    );
  });
});
