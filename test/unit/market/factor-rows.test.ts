/**
 * LEAN factor rows derived from a provider's raw, split- and fully-adjusted daily closes
 * (what the ingestion stores for live data): a 7-for-1 split and a dividend become rows that
 * the LEAN adjustment turns back into the provider's adjusted closes.
 */
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../functions/core/errors.js';
import {
  adjustDailyBars,
  factorRowsFromAdjustedCloses,
  splitsBetween,
} from '../../../functions/core/market/corporate-actions.js';
import type { DailyBar } from '../../../functions/core/market/types.js';

const bar = (date: string, close: number): DailyBar => ({
  date,
  open: close,
  high: close,
  low: close,
  close,
  volume: 1000,
});

describe('factorRowsFromAdjustedCloses', () => {
  // Raw: 700, 700, (7-for-1 split) 100, (ex-dividend 1 %) 99, 99
  const dates = ['2026-06-01', '2026-06-02', '2026-06-03', '2026-06-04', '2026-06-05'];
  const raw = [700, 700, 100, 99, 99].map((c, i) => bar(dates[i] as string, c));
  const split = [100, 100, 100, 99, 99].map((c, i) => bar(dates[i] as string, c));
  const all = [99, 99, 99, 99, 99].map((c, i) => bar(dates[i] as string, c));

  it('reproduces the adjusted closes and the split through the LEAN convention', () => {
    const rows = factorRowsFromAdjustedCloses(raw, split, all);
    expect(rows.map((r) => r.date)).toEqual(['2026-06-02', '2026-06-03', '2050-12-31']);
    const adjusted = adjustDailyBars(raw, rows);
    adjusted.forEach((b, i) => {
      expect(b.close).toBeCloseTo((all[i] as DailyBar).close, 9);
    });
    expect(splitsBetween('X', rows, '2026-06-01', '2026-06-05')).toEqual([
      { symbol: 'X', effectiveDate: '2026-06-03', ratio: 7 },
    ]);
  });

  it('refuses series whose dates differ', () => {
    expect(() => factorRowsFromAdjustedCloses(raw, split.slice(1), all)).toThrow(ValidationError);
  });
});
