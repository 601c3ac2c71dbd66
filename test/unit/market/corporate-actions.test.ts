import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../functions/core/errors.js';
import {
  applyBookFill,
  emptyAccountBook,
  restateBookForSplit,
} from '../../../functions/core/exchange/position-book.js';
import {
  adjustDailyBars,
  type FactorRow,
  factorsOn,
  restatePositionForSplit,
  splitsBetween,
} from '../../../functions/core/market/corporate-actions.js';

/** A 7-for-1 split effective 2014-06-09 (row of the last pre-split session 2014-06-06). */
const ROWS: FactorRow[] = [
  { date: '2014-06-06', priceFactor: 0.9, splitFactor: 1 / 7, referencePrice: 645.57 },
  { date: '2050-12-31', priceFactor: 1, splitFactor: 1, referencePrice: 0 },
];
const bar = (date: string, close: number) => ({
  date,
  open: close,
  high: close,
  low: close,
  close,
  volume: 700,
});

describe('factorsOn (LEAN convention: a row applies to dates up to and including its own)', () => {
  it('uses the row of the date itself, the next row after it, 1 past the last row', () => {
    expect(factorsOn(ROWS, '2014-06-06')).toEqual({ priceFactor: 0.9, splitFactor: 1 / 7 });
    expect(factorsOn(ROWS, '2014-06-09')).toEqual({ priceFactor: 1, splitFactor: 1 });
    expect(factorsOn(ROWS, '2060-01-01')).toEqual({ priceFactor: 1, splitFactor: 1 });
  });
});

describe('adjustDailyBars', () => {
  it('restates pre-split prices and volumes on the post-split share basis', () => {
    // Act
    const out = adjustDailyBars([bar('2014-06-06', 645.57), bar('2014-06-09', 93.7)], ROWS);
    const splitOnly = adjustDailyBars([bar('2014-06-06', 645.57)], ROWS, { dividends: false });

    // Assess
    expect(out[0]?.close).toBeCloseTo((645.57 / 7) * 0.9, 9);
    expect(out[0]?.volume).toBeCloseTo(4900, 9);
    expect(out[1]).toEqual(bar('2014-06-09', 93.7));
    expect(splitOnly[0]?.close).toBeCloseTo(645.57 / 7, 9);
  });
});

describe('splitsBetween', () => {
  it('finds the split only for a holding period that spans it', () => {
    expect(splitsBetween('AAPL', ROWS, '2014-06-06', '2014-06-09')).toEqual([
      { symbol: 'AAPL', effectiveDate: '2014-06-07', ratio: 7 },
    ]);
    expect(splitsBetween('AAPL', ROWS, '2014-06-09', '2014-06-10')).toEqual([]);
    expect(splitsBetween('AAPL', ROWS, '2014-06-01', '2014-06-06')).toEqual([]);
  });
});

describe('restating a position across a split', () => {
  it('keeps cost basis: 0.2977 sh @ 647.05 become 2.0839 sh @ 92.436', () => {
    const r = restatePositionForSplit({ qty: 0.2977, avgCostUsd: 647.05 }, 7);
    expect(r.qty).toBeCloseTo(2.0839, 12);
    expect(r.avgCostUsd).toBeCloseTo(92.43571428571, 9);
    expect((r.qty * (r.avgCostUsd ?? 0)).toFixed(9)).toBe((0.2977 * 647.05).toFixed(9));
  });

  it('refuses a ratio that is not finite and > 0', () => {
    expect(() => restatePositionForSplit({ qty: 1, avgCostUsd: 1 }, 0)).toThrow(ValidationError);
  });

  it('re-states the position book and marks the date, so a later fill averages correctly', () => {
    // Prepare: the example — bought 0.2977 @ 647.05 before the split
    const book = applyBookFill(emptyAccountBook(), {
      symbol: 'AAPL',
      side: 'buy',
      qty: 0.2977,
      priceUsd: 647.05,
      feeUsd: 0,
      atMs: 0,
    });

    // Act
    const out = restateBookForSplit(book, 'AAPL', 7, '2014-06-09');
    const after = applyBookFill(out.book, {
      symbol: 'AAPL',
      side: 'buy',
      qty: 1.0242,
      priceUsd: 92.28,
      feeUsd: 0,
      atMs: 1,
    });

    // Assess: 3.1081 shares at ~92.40 (not 1.3219 at 217.21)
    expect(out.before).toEqual({ qty: 0.2977, avgPriceUsd: 647.05 });
    expect(out.after.qty).toBeCloseTo(2.0839, 12);
    expect(out.book.positions.AAPL?.restatedThrough).toBe('2014-06-09');
    const pos = after.positions.AAPL;
    expect(pos?.qty).toBeCloseTo(3.1081, 9);
    expect(pos?.avgPriceUsd).toBeCloseTo((0.2977 * 647.05 + 1.0242 * 92.28) / 3.1081, 9);
  });
});
