import { describe, expect, it } from 'vitest';
import {
  formatCount,
  formatMarketTime,
  formatNumber,
  formatNyTime,
  formatPercent,
  formatUsd,
} from '../../../functions/core/report/format.js';
import { paperOrdersTable } from '../../../local/format.js';

describe('report number formatting', () => {
  it.each([
    [1234.5, '$1,234.50'],
    [1_000_000, '$1,000,000.00'],
    [0.005, '$0.01'],
    [-0.75, '-$0.75'],
    [-1234.567, '-$1,234.57'],
    [-0.001, '$0.00'],
    [0, '$0.00'],
    [Number.NaN, 'n/a'],
    [Number.POSITIVE_INFINITY, 'n/a'],
  ])('formatUsd(%d) = %s', (v, expected) => {
    // Act / Assess
    expect(formatUsd(v)).toBe(expected);
  });

  it.each([
    [0.01234, 2, '1.23%'],
    [-0.05, 2, '-5.00%'],
    [1, 0, '100%'],
    [0.000123, 3, '0.012%'],
    [-0.0000001, 2, '0.00%'],
    [Number.NaN, 2, 'n/a'],
  ])('formatPercent(%d, %d) = %s', (v, digits, expected) => {
    // Act / Assess
    expect(formatPercent(v, digits)).toBe(expected);
  });

  it('formats plain numbers and counts', () => {
    // Act / Assess
    expect(formatNumber(1.5)).toBe('1.50');
    expect(formatNumber(-0.001)).toBe('0.00');
    expect(formatNumber(-72.555, 1)).toBe('-72.6');
    expect(formatNumber(Number.NEGATIVE_INFINITY)).toBe('n/a');
    expect(formatCount(1234)).toBe('1,234');
  });
});

describe('formatNyTime', () => {
  it('prints America/New_York wall-clock time in summer (EDT) and winter (EST)', () => {
    // Act / Assess
    expect(formatNyTime(Date.UTC(2013, 9, 7, 13, 30))).toBe('09:30');
    expect(formatNyTime(Date.UTC(2013, 9, 7, 20, 0))).toBe('16:00');
    expect(formatNyTime(Date.UTC(2013, 11, 2, 14, 30))).toBe('09:30');
    expect(formatNyTime(Date.UTC(2013, 11, 3, 4, 5))).toBe('23:05');
    expect(formatNyTime(Date.UTC(2013, 11, 3, 5, 0))).toBe('00:00');
    expect(formatNyTime(Number.NaN)).toBe('n/a');
  });
});

describe("times in the market's own zone", () => {
  it('prints a crypto time in UTC and an equity time in New York', () => {
    const t = Date.UTC(2018, 3, 5, 23, 58);
    expect(formatMarketTime(t, 'crypto')).toBe('23:58');
    expect(formatMarketTime(t, 'equity-usa')).toBe('19:58');
    expect(formatMarketTime(Number.NaN, 'crypto')).toBe('n/a');
  });

  it('labels and prints the paper orders of a crypto session in UTC', () => {
    const order = {
      clientOrderId: 'sg_x_1',
      side: 'sell',
      qty: 0.01,
      reason: 'flatten',
      status: 'filled',
      filledQty: 0.01,
      avgPriceUsd: 6800,
      submittedAtMs: Date.UTC(2018, 3, 5, 23, 58, 1),
    };
    const crypto = paperOrdersTable([order], 'crypto');
    expect(crypto).toContain('time (UTC)');
    expect(crypto).toContain('23:58:01');
    const equity = paperOrdersTable([order]);
    expect(equity).toContain('time (NY)');
    expect(equity).toContain('19:58:01');
  });
});
