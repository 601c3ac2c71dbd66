import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../functions/core/errors.js';
import {
  DEFAULT_ROLLBACK_CONFIG,
  evaluateRollback,
  type RollbackConfig,
  type RollbackTrigger,
} from '../../../functions/core/rollback/monitor.js';

const CONFIG: RollbackConfig = {
  maxDrawdownFraction: 0.05,
  maxVarianceRatio: 4,
  minObservations: 4,
};

/** A curve from $100 following the given per-period simple returns. */
function curve(returns: readonly number[], start = 100): number[] {
  const out = [start];
  for (const r of returns) out.push((out.at(-1) as number) * (1 + r));
  return out;
}

/** Sample variance of returns (n − 1). */
function variance(returns: readonly number[]): number {
  const m = returns.reduce((a, b) => a + b, 0) / returns.length;
  return returns.reduce((a, r) => a + (r - m) ** 2, 0) / (returns.length - 1);
}

const CALM = [0.001, -0.001, 0.002, -0.002, 0.001, 0.0];
const CALM_VAR = variance(CALM);

describe('evaluateRollback', () => {
  it.each<
    [
      string,
      number[] | null | undefined,
      number | null | undefined,
      'hold' | 'rollback',
      RollbackTrigger,
    ]
  >([
    ['calm slice like its backtest holds', curve(CALM), CALM_VAR, 'hold', 'within_limits'],
    [
      '6% drawdown rolls back',
      curve([0.01, -0.03, -0.03, 0.001, 0.0]),
      0.0004,
      'rollback',
      'drawdown',
    ],
    [
      'drawdown rolls back even before minObservations',
      curve([-0.06]),
      CALM_VAR,
      'rollback',
      'drawdown',
    ],
    [
      'few observations within drawdown holds',
      curve([0.001, -0.001]),
      CALM_VAR,
      'hold',
      'awaiting_observations',
    ],
    [
      '5x the backtest variance rolls back',
      curve(CALM.map((r) => r * Math.sqrt(5))),
      CALM_VAR,
      'rollback',
      'variance',
    ],
    [
      'both breached names both',
      curve([0.02, -0.04, 0.03, -0.05, 0.01]),
      1e-6,
      'rollback',
      'drawdown_and_variance',
    ],
    ['empty curve fails closed', [], CALM_VAR, 'rollback', 'missing_data'],
    ['null curve fails closed', null, CALM_VAR, 'rollback', 'missing_data'],
    ['NaN point fails closed', [100, 101, Number.NaN, 102], CALM_VAR, 'rollback', 'missing_data'],
    [
      'infinite point fails closed',
      [100, Number.POSITIVE_INFINITY],
      CALM_VAR,
      'rollback',
      'missing_data',
    ],
    ['non-positive start fails closed', [0, 1, 2], CALM_VAR, 'rollback', 'missing_data'],
    ['missing backtest variance fails closed', curve(CALM), undefined, 'rollback', 'missing_data'],
    ['NaN backtest variance fails closed', curve(CALM), Number.NaN, 'rollback', 'missing_data'],
    ['zero backtest variance fails closed', curve(CALM), 0, 'rollback', 'missing_data'],
    ['wiped-out equity rolls back', [100, 50, -10], CALM_VAR, 'rollback', 'drawdown'],
  ])('%s', (_name, equity, backtestVar, action, trigger) => {
    // Act
    const v = evaluateRollback(
      { equityCurveUsd: equity, backtestReturnVariance: backtestVar },
      CONFIG,
    );
    // Assess
    expect(v.action).toBe(action);
    expect(v.trigger).toBe(trigger);
    expect(v.thresholds).toEqual(CONFIG);
    expect(v.reason.length).toBeGreaterThan(0);
  });

  it('reports the observed drawdown and variance ratio with their thresholds', () => {
    // Prepare
    const returns = [0.01, -0.02, 0.005, 0.0];
    // Act
    const v = evaluateRollback(
      { equityCurveUsd: curve(returns), backtestReturnVariance: variance(returns) / 2 },
      CONFIG,
    );
    // Assess
    expect(v.observed.observations).toBe(4);
    expect(v.observed.drawdownFraction).toBeCloseTo(0.02, 12);
    expect(v.observed.varianceRatio).toBeCloseTo(2, 9);
    expect(v.action).toBe('hold');
    expect(v.reason).toBe('drawdown 2.00% <= 5.00% and variance ratio 2 <= 4');
  });

  it('rolls back just above the drawdown threshold and holds at it', () => {
    // Act
    const at = evaluateRollback({ equityCurveUsd: [100, 95], backtestReturnVariance: 1 }, CONFIG);
    const above = evaluateRollback(
      { equityCurveUsd: [100, 94.99], backtestReturnVariance: 1 },
      CONFIG,
    );
    // Assess
    expect(at.action).toBe('hold');
    expect(above.action).toBe('rollback');
    expect(above.reason).toContain('drawdown 5.01% > 5.00%');
  });

  it('has sane defaults and rejects an invalid config', () => {
    // Act / Assess
    expect(DEFAULT_ROLLBACK_CONFIG).toEqual({
      maxDrawdownFraction: 0.05,
      maxVarianceRatio: 4,
      minObservations: 30,
    });
    expect(() =>
      evaluateRollback(
        { equityCurveUsd: [100], backtestReturnVariance: 1 },
        { ...CONFIG, minObservations: 1 },
      ),
    ).toThrow(ValidationError);
  });
});
