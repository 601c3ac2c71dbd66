import { describe, expect, it } from 'vitest';
import { InsufficientDataError, ValidationError } from '../../../functions/core/errors.js';
import { historicalVarGate } from '../../../functions/core/gates/gates.js';
import { DEFAULT_GATE_THRESHOLDS as T } from '../../../functions/core/gates/thresholds.js';
import type { DailyBar } from '../../../functions/core/market/types.js';
import {
  intradayReturns,
  maxIntradayExposureFraction,
  minutePnlReturns,
  sessionRiskFromMinutes,
} from '../../../functions/core/risk/strategy-pnl.js';
import { countRoundTrips } from '../../../functions/core/scoring/round-trips.js';

const bar = (date: string, open: number, close: number): DailyBar => ({
  date,
  open,
  high: Math.max(open, close),
  low: Math.min(open, close),
  close,
  volume: 1_000,
});

describe("the strategy's own P&L", () => {
  it('minute P&L per USD of allocation, from a small equity curve by hand', () => {
    // Prepare: 1,000 USD allocation; equity 1,000 → 1,010 → 1,005 → 1,005 (a flat minute)
    // Act
    const r = minutePnlReturns([1_000, 1_010, 1_005, 1_005], 1_000);
    // Assess: additive, so the minutes sum to the session return (+0.5 %)
    expect(r).toEqual([0, 0.01, -0.005, 0]);
    expect(r.reduce((a, b) => a + b, 0)).toBeCloseTo(0.005, 15);
    expect(() => minutePnlReturns([1], 0)).toThrow(ValidationError);
    expect(() => minutePnlReturns([Number.NaN], 1)).toThrow(ValidationError);
  });

  it('maximum intraday exposure is the peak gross exposure over the allocation', () => {
    expect(maxIntradayExposureFraction([0, 300, 1_500, 200, 0], 1_000)).toBe(1.5);
    expect(maxIntradayExposureFraction([0, 0], 1_000)).toBe(0);
  });

  it('one-session VaR / ES scale the minute figures by √m (historical) and m·μ, √m·σ (parametric)', () => {
    // Prepare: ten minute returns; m = 9 minutes (√m = 3)
    const ten = [-0.05, -0.03, -0.02, -0.01, 0, 0.01, 0.02, 0.03, 0.04, 0.05];
    // Act / Assess: 90 % minute VaR = 0.03 (9th of 10 sorted losses), ES = the worst = 0.05
    expect(sessionRiskFromMinutes('historical_var', ten, 9, 0.9)).toBeCloseTo(0.09, 12);
    expect(sessionRiskFromMinutes('historical_es', ten, 9, 0.9)).toBeCloseTo(0.15, 12);
    // μ = 0.004, σ = 0.0325918 (sample); VaR = 3·σ·z(0.99) − 9·μ
    const sigma = Math.sqrt(ten.reduce((s, r) => s + (r - 0.004) ** 2, 0) / 9);
    expect(sessionRiskFromMinutes('parametric_var', ten, 9, 0.99)).toBeCloseTo(
      3 * sigma * 2.3263479 - 9 * 0.004,
      6,
    );
    expect(sessionRiskFromMinutes('parametric_es', ten, 9, 0.975)).toBeCloseTo(
      3 * sigma * 2.3378027 - 9 * 0.004,
      6,
    );
    expect(() => sessionRiskFromMinutes('historical_var', [0.01], 9, 0.9)).toThrow(
      InsufficientDataError,
    );
    expect(() => sessionRiskFromMinutes('historical_var', ten, 0, 0.9)).toThrow(ValidationError);
  });

  it('a strategy flat overnight: the underlying view uses open-to-close returns, never the overnight gap', () => {
    // Prepare: every session opens 20 % away from the previous close (huge gaps) but closes
    // where it opened: close-to-close returns are ±20 %, open-to-close returns all 0.
    const bars = Array.from({ length: 12 }, (_, i) => {
      const px = i % 2 === 0 ? 100 : 120;
      return bar(`2024-01-${String(i + 2).padStart(2, '0')}`, px, px);
    });
    // Act
    const intraday = intradayReturns(bars);
    const r = historicalVarGate(
      {
        minuteReturns: [0.001, -0.001, 0.002, -0.002, 0],
        minutesPerSession: 5,
        capitalSliceUsd: 1_000,
        underlyingIntradayReturns: intraday,
        maxIntradayExposureFraction: 1,
      },
      { ...T, varMinObservations: 5, varConfidence: 0.9 },
    );
    // Assess
    expect(intraday).toEqual(new Array(12).fill(0));
    expect(r.reason).toMatch(
      /underlying view \(open-to-close, 12 sessions.*\): 0 of the slice \(0 USD\); stressed \(worst session of the history\): 0 USD/,
    );
    expect(() => intradayReturns([bar('2024-01-02', 0, 1)])).toThrow(ValidationError);
  });
});

describe('round trips', () => {
  it('count a position opened from flat and closed back to flat, per symbol', () => {
    // Prepare: AIG scaled in by three buys and closed by one sell (4 fills, 1 round trip);
    // IBM long then reversed short through zero (1 closed) then covered (2); SPY left open.
    const fills = [
      { symbol: 'AIG', side: 'buy', qty: 1 },
      { symbol: 'AIG', side: 'buy', qty: 1 },
      { symbol: 'IBM', side: 'buy', qty: 2 },
      { symbol: 'AIG', side: 'buy', qty: 0.5 },
      { symbol: 'AIG', side: 'sell', qty: 2.5 },
      { symbol: 'IBM', side: 'sell', qty: 5 },
      { symbol: 'SPY', side: 'buy', qty: 1 },
      { symbol: 'IBM', side: 'buy', qty: 3 },
    ] as const;
    // Act / Assess
    expect(countRoundTrips(fills)).toBe(3);
    expect(countRoundTrips(fills.slice(0, 4))).toBe(0);
    expect(countRoundTrips([])).toBe(0);
  });
});
