import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  HOUR_MS,
  hourlyRoi,
  MINUTES_PER_TRADING_YEAR,
  maxDrawdown,
  mean,
  rankLeaderboard,
  returnOnInvestment,
  sampleStdev,
  sharpeRatio,
  simpleReturns,
  utilization,
} from '../../../functions/core/scoring/metrics.js';

const OPEN = Date.UTC(2013, 9, 7, 13, 30);
const MIN = 60_000;

describe('simpleReturns', () => {
  it('measures each minute against the previous equity, the first against the start', () => {
    // Prepare: start 100; equity 110, 99, 99.
    // r = 110/100 − 1 = 0.1; 99/110 − 1 = −0.1; 99/99 − 1 = 0

    // Act
    const r = simpleReturns([110, 99, 99], 100);

    // Assess
    expect(r[0]).toBeCloseTo(0.1, 12);
    expect(r[1]).toBeCloseTo(-0.1, 12);
    expect(r[2]).toBe(0);
  });

  it('gives 0 after a non-positive equity', () => {
    // Act / Assess
    expect(simpleReturns([0, 5], 10)).toEqual([-1, 0]);
  });
});

describe('sharpeRatio', () => {
  it('annualizes mean / sample stdev of 1-minute returns by √(252 × 390)', () => {
    // Prepare: returns 0.01, −0.01, 0.02, 0.
    // mean = 0.02 / 4 = 0.005
    // deviations: 0.005, −0.015, 0.015, −0.005 → squares 25e-6, 225e-6, 225e-6, 25e-6 → Σ = 500e-6
    // sample variance = 500e-6 / 3 = 166.667e-6 → stdev = 0.0129099
    // Sharpe = 0.005 / 0.0129099 × √98280 = 0.387298 × 313.4964 = 121.4166
    const returns = [0.01, -0.01, 0.02, 0];

    // Act
    const sharpe = sharpeRatio(returns);

    // Assess
    expect(MINUTES_PER_TRADING_YEAR).toBe(98_280);
    expect(sharpe).toBeCloseTo(121.4166, 3);
    expect(sharpeRatio(returns, 1)).toBeCloseTo(0.387298, 5);
  });

  it('is 0 when the returns do not vary or are too few', () => {
    // Act / Assess
    expect(sharpeRatio([0.01, 0.01, 0.01])).toBe(0);
    expect(sharpeRatio([0.02])).toBe(0);
    expect(sharpeRatio([])).toBe(0);
  });
});

describe('mean and sampleStdev', () => {
  it('match a hand computation', () => {
    // Prepare: 2, 4, 4, 4, 5, 5, 7, 9: mean 5; Σ squared deviations = 32; sample var = 32/7
    const xs = [2, 4, 4, 4, 5, 5, 7, 9];

    // Act / Assess
    expect(mean(xs)).toBe(5);
    expect(sampleStdev(xs)).toBeCloseTo(Math.sqrt(32 / 7), 12);
    expect(mean([])).toBe(0);
  });
});

describe('maxDrawdown', () => {
  it('finds the largest fall from a running peak, the start included', () => {
    // Prepare: start 100: 105 (peak) → 95 (−10) → 110 (peak) → 96 (−14) → 100.
    // Max drawdown = 110 − 96 = 14 at index 3.

    // Act
    const dd = maxDrawdown([105, 95, 110, 96, 100], 100);

    // Assess
    expect(dd).toEqual({ maxDrawdownUsd: 14, troughIndex: 3 });
  });

  it('counts a fall below the starting equity', () => {
    // Prepare: start 100, curve never above it: 98, 97, 99 → 100 − 97 = 3

    // Act / Assess
    expect(maxDrawdown([98, 97, 99], 100).maxDrawdownUsd).toBe(3);
  });

  it('is 0 for a curve that never falls', () => {
    // Act / Assess
    expect(maxDrawdown([100, 101, 102], 100)).toEqual({ maxDrawdownUsd: 0, troughIndex: -1 });
  });

  it('is never negative and never above the range of the curve', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 1e6, noNaN: true }), { minLength: 1 }),
        (curve) => {
          // Act
          const dd = maxDrawdown(curve, curve[0] as number).maxDrawdownUsd;

          // Assess
          expect(dd).toBeGreaterThanOrEqual(0);
          expect(dd).toBeLessThanOrEqual(Math.max(...curve) - Math.min(...curve));
        },
      ),
    );
  });
});

describe('hourlyRoi', () => {
  it('splits a 09:30-16:00 session into 7 buckets with the equity change over the equity at hour start', () => {
    // Prepare: 390 minutes; equity 1000 until 10:29, 1010 from 10:30 (bucket 1's first bar), 1010
    // until 15:29, then 999.9 from 15:30 (bucket 6, the half hour).
    // Bucket 0: (1000 − 1000)/1000 = 0. Bucket 1: (1010 − 1000)/1000 = 0.01.
    // Buckets 2-5: 0. Bucket 6: (999.9 − 1010)/1010 = −0.01.
    const timestamps = Array.from({ length: 390 }, (_, t) => OPEN + t * MIN);
    const equity = timestamps.map((_, t) => (t < 60 ? 1000 : t < 360 ? 1010 : 999.9));

    // Act
    const roi = hourlyRoi(timestamps, equity, 1000, OPEN);

    // Assess
    expect(roi).toHaveLength(7);
    expect(roi[0]).toBe(0);
    expect(roi[1]).toBeCloseTo(0.01, 12);
    expect(roi.slice(2, 6)).toEqual([0, 0, 0, 0]);
    expect(roi[6]).toBeCloseTo(-0.01, 12);
  });

  it('chains the hours: Π (1 + hourly roi) = final / start', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 1, max: 2_000, noNaN: true }), { minLength: 1, maxLength: 390 }),
        (equity) => {
          // Prepare
          const timestamps = equity.map((_, t) => OPEN + t * MIN);

          // Act
          const roi = hourlyRoi(timestamps, equity, 1000, OPEN);

          // Assess
          const growth = roi.reduce((g, r) => g * (1 + r), 1);
          expect(growth).toBeCloseTo((equity.at(-1) as number) / 1000, 6);
          expect(roi).toHaveLength(Math.ceil((equity.length * MIN) / HOUR_MS));
        },
      ),
    );
  });

  it('gives 0 to an hour without bars', () => {
    // Prepare: bars at 09:30 and 11:45 only (bucket 1 empty).
    const timestamps = [OPEN, OPEN + 135 * MIN];

    // Act
    const roi = hourlyRoi(timestamps, [1000, 1100], 1000, OPEN);

    // Assess: bucket 2 = (1100 − 1000)/1000 = 0.1
    expect(roi).toEqual([0, 0, expect.closeTo(0.1, 12)]);
  });
});

describe('utilization and returnOnInvestment', () => {
  it('averages and peaks gross exposure over the base', () => {
    // Prepare: gross 0, 50, 100, 50 over a base of 100 → mean 200/4/100 = 0.5, peak 1

    // Act / Assess
    expect(utilization([0, 50, 100, 50], 100)).toEqual({ mean: 0.5, peak: 1 });
    expect(utilization([10], 0)).toEqual({ mean: 0, peak: 0 });
    expect(returnOnInvestment(5, 50)).toBe(0.1);
    expect(returnOnInvestment(5, 0)).toBe(0);
  });
});

describe('rankLeaderboard', () => {
  it('orders by total PnL desc, then the smaller drawdown, then agent id asc (no Sharpe)', () => {
    // Prepare
    const rows = [
      { agentId: 'a0003', totalPnlUsd: 5, maxDrawdownUsd: 2 },
      { agentId: 'a0001', totalPnlUsd: 5, maxDrawdownUsd: 1 },
      { agentId: 'a0004', totalPnlUsd: 9, maxDrawdownUsd: 7 },
      { agentId: 'a0002', totalPnlUsd: 5, maxDrawdownUsd: 2 },
    ];

    // Act
    const ranked = rankLeaderboard(rows);

    // Assess
    expect(ranked.map((r) => [r.rank, r.agentId])).toEqual([
      [1, 'a0004'],
      [2, 'a0001'],
      [3, 'a0002'],
      [4, 'a0003'],
    ]);
  });
});
