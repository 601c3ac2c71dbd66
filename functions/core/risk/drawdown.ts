/**
 * Drawdown helpers feeding the drawdown circuit breakers (parent wallet and agent).
 *
 * Drawdown is the fall of equity from its running peak, as a fraction of that peak:
 * DD_t = (peak_t − equity_t) / peak_t, in [0, 1] for positive equity (Magdon-Ismail & Atiya,
 * "Maximum drawdown", Risk 17(10), 2004).
 */
import { ValidationError } from '../errors.js';

/**
 * Current drawdown from a peak, fraction of the peak (0 at or above the peak).
 *
 * @param peakEquityUsd running peak equity, USD, > 0.
 * @param equityUsd current equity, USD (may be ≤ 0: the drawdown is then ≥ 1).
 * @throws ValidationError when the peak is not a positive finite number or equity is not finite.
 */
export function drawdownFraction(peakEquityUsd: number, equityUsd: number): number {
  if (!(Number.isFinite(peakEquityUsd) && peakEquityUsd > 0)) {
    throw new ValidationError('peakEquityUsd', `must be a positive amount, got ${peakEquityUsd}`);
  }
  if (!Number.isFinite(equityUsd)) {
    throw new ValidationError('equityUsd', `must be finite, got ${equityUsd}`);
  }
  return Math.max(0, (peakEquityUsd - equityUsd) / peakEquityUsd);
}

/**
 * Maximum drawdown of an equity curve (USD, oldest first), fraction of the running peak;
 * 0 for an empty or never-falling curve.
 *
 * @throws ValidationError when a point is not finite or the first point is not positive.
 */
export function maxDrawdownFraction(equityCurveUsd: readonly number[]): number {
  let peak = Number.NaN;
  let worst = 0;
  for (let i = 0; i < equityCurveUsd.length; i++) {
    const e = equityCurveUsd[i] as number;
    if (!Number.isFinite(e)) {
      throw new ValidationError(`equityCurveUsd[${i}]`, `must be finite, got ${e}`);
    }
    if (i === 0) {
      if (e <= 0) throw new ValidationError('equityCurveUsd[0]', `must be positive, got ${e}`);
      peak = e;
      continue;
    }
    if (e > peak) peak = e;
    worst = Math.max(worst, (peak - e) / peak);
  }
  return worst;
}
