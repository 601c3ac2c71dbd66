/**
 * Rollback monitor of a micro-live slice: after each new equity observation, decide whether
 * the slice keeps trading (`hold`) or is rolled back (`rollback`: flatten it and stop).
 *
 * Checks, on the slice's equity curve (USD, oldest first, the first point being the slice's
 * starting equity):
 * - drawdown: the maximum drawdown from the running peak, fraction of the peak (Magdon-Ismail
 *   & Atiya, "Maximum drawdown", Risk 17(10), 2004; risk/drawdown.ts); rollback when
 *   `drawdownFraction > maxDrawdownFraction`. Checked from the first observation on.
 * - variance ratio: the sample variance (n − 1) of the curve's per-period simple returns
 *   divided by the candidate's backtest variance of returns at the SAME sampling period;
 *   rollback when `varianceRatio > maxVarianceRatio` (the live slice is far more volatile than
 *   what was approved). Only checked once there are `minObservations` returns; before that
 *   the monitor holds (drawdown still applies) and says so.
 *
 * Fail closed: an empty curve, a non-finite point, a non-positive starting equity, or a
 * missing / non-finite / non-positive backtest variance is `rollback` (the monitor cannot see
 * the slice, so the slice must not trade).
 */
import * as z from 'zod';
import { parseOrThrow } from '../errors.js';
import { maxDrawdownFraction } from '../risk/drawdown.js';
import { sampleStdev, simpleReturns } from '../scoring/metrics.js';

/** Zod schema of {@link RollbackConfig}; strict. */
export const RollbackConfigSchema = z.strictObject({
  /** Roll back when the max drawdown exceeds this, fraction of peak equity, in (0, 1]. */
  maxDrawdownFraction: z.number().positive().max(1),
  /** Roll back when realized / backtest return variance exceeds this ratio (> 0). */
  maxVarianceRatio: z.number().positive(),
  /** Returns needed before the variance ratio is checked, count (>= 2). */
  minObservations: z.number().int().min(2),
});
export type RollbackConfig = z.infer<typeof RollbackConfigSchema>;

/** 5 % drawdown, 4x the backtest variance (2x volatility), 30 returns. */
export const DEFAULT_ROLLBACK_CONFIG: RollbackConfig = RollbackConfigSchema.parse({
  maxDrawdownFraction: 0.05,
  maxVarianceRatio: 4,
  minObservations: 30,
});

/** What the monitor watches. */
export interface RollbackInput {
  /** Slice equity, USD, oldest first; the first point is the starting equity. */
  readonly equityCurveUsd: readonly number[] | null | undefined;
  /**
   * Variance of the candidate's per-period simple returns in its backtest, at the sampling
   * period of `equityCurveUsd` (fraction², > 0).
   */
  readonly backtestReturnVariance: number | null | undefined;
}

/** Why the monitor decided as it did. */
export type RollbackTrigger =
  | 'within_limits'
  | 'awaiting_observations'
  | 'drawdown'
  | 'variance'
  | 'drawdown_and_variance'
  | 'missing_data'
  /** The paper broker could not value the slice (`paper/slice-rollback.ts`): fail closed. */
  | 'broker_unreadable';

/** The monitor's verdict. */
export interface RollbackVerdict {
  readonly action: 'hold' | 'rollback';
  readonly trigger: RollbackTrigger;
  /** Human explanation with the observed values and thresholds. */
  readonly reason: string;
  readonly observed: {
    /** Max drawdown, fraction of peak; null when the curve is unusable. */
    readonly drawdownFraction: number | null;
    /** Realized / backtest return variance; null when not (yet) computable. */
    readonly varianceRatio: number | null;
    /** Returns in the curve (points − 1). */
    readonly observations: number;
  };
  readonly thresholds: RollbackConfig;
}

const pct = (v: number) => `${(v * 100).toFixed(2)}%`;
const ratio = (v: number) => String(Number(v.toPrecision(4)));

/** Why an equity curve cannot be judged (empty, a non-finite point, a start <= 0), or null. */
function unusableCurve(curve: readonly number[] | null | undefined): string | null {
  if (!Array.isArray(curve) || curve.length === 0) return 'no equity observations';
  const bad = curve.findIndex((v) => typeof v !== 'number' || !Number.isFinite(v));
  if (bad >= 0) return `equity point ${bad} is ${String(curve[bad])}`;
  const start = curve[0] as number;
  if (!(start > 0)) return `starting equity ${start} USD is not positive`;
  return null;
}

/** The verdict once both rules are measurable: either breach rolls back, both name both. */
function bothRules(
  ddBreached: boolean,
  varBreached: boolean,
  ddText: string,
  varText: string,
): { action: RollbackVerdict['action']; trigger: RollbackTrigger; reason: string } {
  if (ddBreached && varBreached) {
    return {
      action: 'rollback',
      trigger: 'drawdown_and_variance',
      reason: `${ddText} and ${varText}`,
    };
  }
  if (ddBreached)
    return { action: 'rollback', trigger: 'drawdown', reason: `${ddText} (${varText})` };
  if (varBreached)
    return { action: 'rollback', trigger: 'variance', reason: `${varText} (${ddText})` };
  return { action: 'hold', trigger: 'within_limits', reason: `${ddText} and ${varText}` };
}

/**
 * Evaluates the slice against the thresholds (see the module comment for the rules).
 *
 * @throws ValidationError when `config` is invalid (a configuration error, not market data).
 */
export function evaluateRollback(
  input: RollbackInput,
  config: RollbackConfig = DEFAULT_ROLLBACK_CONFIG,
): RollbackVerdict {
  const thresholds = parseOrThrow(RollbackConfigSchema, config, 'rollbackConfig');
  const curve = input.equityCurveUsd;
  const observations = Array.isArray(curve) ? Math.max(0, curve.length - 1) : 0;
  const verdict = (
    action: RollbackVerdict['action'],
    trigger: RollbackTrigger,
    reason: string,
    drawdownFraction: number | null,
    varianceRatio: number | null,
  ): RollbackVerdict => ({
    action,
    trigger,
    reason,
    observed: { drawdownFraction, varianceRatio, observations },
    thresholds,
  });

  const problem = unusableCurve(curve);
  if (problem !== null || !Array.isArray(curve)) {
    return verdict('rollback', 'missing_data', `fail closed: ${problem}`, null, null);
  }
  const start = curve[0] as number;
  const drawdownFraction = maxDrawdownFraction(curve);
  const backtest = input.backtestReturnVariance;
  if (typeof backtest !== 'number' || !Number.isFinite(backtest) || !(backtest > 0)) {
    return verdict(
      'rollback',
      'missing_data',
      `fail closed: backtest return variance is ${String(backtest)} (need a positive number)`,
      drawdownFraction,
      null,
    );
  }
  const ddBreached = drawdownFraction > thresholds.maxDrawdownFraction;
  const ddText = `drawdown ${pct(drawdownFraction)} ${ddBreached ? '>' : '<='} ${pct(thresholds.maxDrawdownFraction)}`;

  if (observations < thresholds.minObservations) {
    if (ddBreached) return verdict('rollback', 'drawdown', ddText, drawdownFraction, null);
    return verdict(
      'hold',
      'awaiting_observations',
      `${ddText}; variance ratio waits for ${thresholds.minObservations} returns (have ${observations})`,
      drawdownFraction,
      null,
    );
  }

  const returns = simpleReturns(curve.slice(1), start);
  const sd = sampleStdev(returns);
  const varianceRatio = (sd * sd) / backtest;
  const varBreached = varianceRatio > thresholds.maxVarianceRatio;
  const varText = `variance ratio ${ratio(varianceRatio)} ${varBreached ? '>' : '<='} ${ratio(thresholds.maxVarianceRatio)}`;
  const rule = bothRules(ddBreached, varBreached, ddText, varText);
  return verdict(rule.action, rule.trigger, rule.reason, drawdownFraction, varianceRatio);
}
