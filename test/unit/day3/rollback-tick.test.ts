/**
 * The rollback monitor's per-tick decision for a micro-live slice (table-driven): the slice's
 * equity from its position and marks, rollback on drawdown / variance breach with the leverage
 * reset, and the closing tick's leverage decision (step up, step down on a loss, hold).
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_LEVERAGE_POLICY } from '../../../functions/core/leverage/policy.js';
import { DEFAULT_ROLLBACK_CONFIG } from '../../../functions/core/rollback/monitor.js';
import {
  closedDayInputs,
  decideTick,
  sliceEquityCurve,
} from '../../../functions/core/use-cases/day3-rollback.js';

/** A flat-ish curve of `n` points around `start` with tiny alternating moves. */
function calm(start: number, n: number, step = 0.01): number[] {
  return Array.from({ length: n }, (_, i) => start + (i % 2 === 0 ? step : -step));
}

describe('sliceEquityCurve', () => {
  it.each<[string, number, number, number, number[], number[]]>([
    ['long gains when the mark rises', 1, 100, 0, [101, 102], [50, 51, 52]],
    ['short gains when the mark falls', -2, 100, 0, [99], [50, 52]],
    ['fees are taken off every point after the start', 1, 100, 0.5, [100], [50, 49.5]],
  ])('%s', (_name, qty, avg, fees, marks, expected) => {
    // Act
    const curve = sliceEquityCurve({ capitalUsd: 50, qty, avgPriceUsd: avg, feesUsd: fees, marks });

    // Assess
    expect(curve).toEqual(expected);
  });
});

describe('closedDayInputs', () => {
  it.each<[string, number[], number, number, boolean, number]>([
    ['first day: PnL from the capital, no Sharpe yet', [], 51, 1, false, 0],
    ['a losing day after a peak: drawdown from the peak close', [52], 49.4, -2.6, false, 0.05],
    ['three days of gains: too few days for an annualized Sharpe', [50.5, 51], 51.6, 0.6, false, 0],
    [
      'twenty days of gains: a rolling Sharpe',
      Array.from({ length: 19 }, (_, i) => 50 + 0.1 * (i + 1) + (i % 2) * 0.05),
      52.1,
      0.2,
      true,
      0,
    ],
  ])('%s', (_name, previous, equity, pnl, hasSharpe, drawdown) => {
    // Act
    const out = closedDayInputs({ capitalUsd: 50, previousCloses: previous, equityUsd: equity });

    // Assess
    expect(out.dayPnlUsd).toBeCloseTo(pnl, 10);
    expect(out.drawdownFraction).toBeCloseTo(drawdown, 10);
    expect(out.rollingSharpe !== null && Number.isFinite(out.rollingSharpe)).toBe(hasSharpe);
  });
});

describe('decideTick', () => {
  const base = {
    backtestReturnVariance: 1e-6,
    leverage: 2,
    previousCloses: [] as number[],
    rollback: DEFAULT_ROLLBACK_CONFIG,
    policy: DEFAULT_LEVERAGE_POLICY,
  };

  it.each<
    [
      string,
      Partial<Parameters<typeof decideTick>[0]> & { curveUsd: number[]; closeOfDay: boolean },
      'hold' | 'rollback',
      string,
      string | null,
      number | null,
    ]
  >([
    [
      'calm intraday tick: hold, no leverage decision',
      { curveUsd: calm(50, 10), closeOfDay: false },
      'hold',
      'awaiting_observations',
      null,
      null,
    ],
    [
      'drawdown beyond 5 %: rollback, leverage reset',
      { curveUsd: [50, 51, 47], closeOfDay: false, leverage: 5 },
      'rollback',
      'drawdown',
      'reset_after_rollback',
      2,
    ],
    [
      'live variance 100x the backtest: rollback',
      {
        curveUsd: [50, ...Array.from({ length: 40 }, (_, i) => 50 + (i % 2 ? 0.4 : -0.4))],
        closeOfDay: false,
        backtestReturnVariance: 1e-6,
      },
      'rollback',
      'variance',
      'reset_after_rollback',
      2,
    ],
    [
      'no backtest variance: fail closed, rollback',
      { curveUsd: [50, 50.1], closeOfDay: false, backtestReturnVariance: null },
      'rollback',
      'missing_data',
      'reset_after_rollback',
      2,
    ],
    [
      'closing tick after a loss: step down',
      { curveUsd: [50, 49.9, 49.5], closeOfDay: true, leverage: 3 },
      'hold',
      'awaiting_observations',
      'step_down_loss',
      2,
    ],
    [
      'closing tick, first winning day: hold (no Sharpe yet)',
      { curveUsd: [50, 50.2, 50.5], closeOfDay: true },
      'hold',
      'awaiting_observations',
      'hold',
      2,
    ],
    [
      'closing tick, third strong day: hold (fewer than 20 days, no annualized Sharpe)',
      { curveUsd: [50, 50.9, 51.6], closeOfDay: true, previousCloses: [50.4, 51] },
      'hold',
      'awaiting_observations',
      'hold',
      2,
    ],
    [
      'closing tick, twentieth strong day with a tiny drawdown: step up',
      {
        curveUsd: [50, 51.6, 52.1],
        closeOfDay: true,
        previousCloses: Array.from({ length: 19 }, (_, i) => 50 + 0.1 * (i + 1) + (i % 2) * 0.05),
      },
      'hold',
      'awaiting_observations',
      'step_up',
      3,
    ],
  ])('%s', (_name, input, action, trigger, rule, next) => {
    // Act
    const out = decideTick({ ...base, ...input });

    // Assess
    expect(out.verdict.action).toBe(action);
    expect(out.verdict.trigger).toBe(trigger);
    expect(out.leverage?.rule ?? null).toBe(rule);
    expect(out.leverage?.next ?? null).toBe(next);
    if (out.leverage) expect(out.leverage.rationale.length).toBeGreaterThan(10);
  });
});
