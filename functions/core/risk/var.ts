/**
 * One-day Value at Risk (VaR) and expected shortfall (ES) of a position, historical and
 * parametric (Gaussian variance-covariance), plus daily-return helpers.
 *
 * Conventions shared by every function here:
 * - `returns` are one-day **simple** returns as fractions (0.01 = +1 %), oldest first, e.g.
 *   from {@link simpleReturns}; the horizon is therefore one trading day.
 * - `positionNotionalUsd` is the signed market value of the position, USD (long > 0,
 *   short < 0). The one-day P&L of a return r is `positionNotionalUsd · r`; the loss is its
 *   negative, `L = −positionNotionalUsd · r`.
 * - `confidence` is α, e.g. 0.99; VaR_α is the α-quantile of the loss and ES_α the mean loss
 *   in the worst (1 − α) tail.
 * - Results are USD **losses**: positive means a loss. A negative figure means that even the
 *   α-quantile of the P&L is a gain (possible for a strongly trending history); callers that
 *   need a non-negative capital charge take `max(0, x)`.
 *
 * Sources: P. Jorion, *Value at Risk: The New Benchmark for Managing Financial Risk*,
 * 3rd ed., McGraw-Hill 2007 (historical simulation, ch. 10; delta-normal VaR, ch. 5 & 10);
 * C. Acerbi & D. Tasche, "On the coherence of expected shortfall", Journal of Banking &
 * Finance 26(7), 2002, 1487–1503 (ES definition and its discrete form).
 */
import { InsufficientDataError, ValidationError } from '../errors.js';
import type { DailyBar } from '../market/types.js';
import { inverseNormalCdf, normalPdf } from './normal.js';

/** Inputs of every VaR / ES function in this module (see the module JSDoc for units). */
export interface RiskInput {
  /** One-day simple returns, fractions, oldest first. All must be finite. */
  readonly returns: readonly number[];
  /** Signed position notional, USD (long > 0, short < 0). */
  readonly positionNotionalUsd: number;
  /** Confidence level α, strictly between 0 and 1 (e.g. 0.99). */
  readonly confidence: number;
}

/** Smallest sample any estimator here accepts (the sample standard deviation needs two). */
export const MIN_RISK_OBSERVATIONS = 2;

function validate(input: RiskInput): void {
  const { returns, positionNotionalUsd, confidence } = input;
  if (!(Number.isFinite(confidence) && confidence > 0 && confidence < 1)) {
    throw new ValidationError('confidence', `must be in (0, 1), got ${confidence}`);
  }
  if (!Number.isFinite(positionNotionalUsd)) {
    throw new ValidationError('positionNotionalUsd', `must be finite, got ${positionNotionalUsd}`);
  }
  if (returns.length < MIN_RISK_OBSERVATIONS) {
    throw new InsufficientDataError('returns', MIN_RISK_OBSERVATIONS, returns.length);
  }
  for (let i = 0; i < returns.length; i++) {
    if (!Number.isFinite(returns[i])) {
      throw new ValidationError(`returns[${i}]`, `must be finite, got ${returns[i]}`);
    }
  }
}

/** Losses `−N·r`, sorted ascending (worst loss last). */
function sortedLosses(returns: readonly number[], notionalUsd: number): Float64Array {
  const losses = new Float64Array(returns.length);
  for (let i = 0; i < returns.length; i++) losses[i] = -notionalUsd * (returns[i] as number);
  return losses.sort();
}

/**
 * Rank (1-based) of the empirical α-quantile among n ascending losses: k = ⌈α·n⌉. The tiny
 * tolerance keeps e.g. 0.9 · 10 = 9 from rounding up to 10 through floating-point noise.
 */
function quantileRank(confidence: number, n: number): number {
  return Math.min(n, Math.max(1, Math.ceil(confidence * n - 1e-9)));
}

/**
 * Historical-simulation one-day VaR, USD loss (Jorion 2007, ch. 10).
 *
 * Quantile convention: the **lower empirical quantile** of the loss distribution,
 * VaR_α = inf{ l : F̂(l) ≥ α } = L₍ₖ₎ with k = ⌈α·n⌉, where L₍₁₎ ≤ … ≤ L₍ₙ₎ are the n losses
 * sorted ascending. No interpolation. Example: n = 10, α = 0.9 → k = 9, the second-worst loss.
 *
 * @throws ValidationError on a non-finite return or notional, or α outside (0, 1).
 * @throws InsufficientDataError with fewer than {@link MIN_RISK_OBSERVATIONS} returns.
 */
export function historicalVar(input: RiskInput): number {
  validate(input);
  const losses = sortedLosses(input.returns, input.positionNotionalUsd);
  return losses[quantileRank(input.confidence, losses.length) - 1] as number;
}

/**
 * Historical-simulation one-day expected shortfall, USD loss: the exact ES of the empirical
 * loss distribution (Acerbi & Tasche 2002, definition of ES for a general, here discrete,
 * distribution — their α is our 1 − α — written in the equivalent form of R. T. Rockafellar &
 * S. Uryasev, "Conditional value-at-risk for general loss distributions", Journal of Banking
 * & Finance 26(7), 2002):
 *
 *   ES_α = VaR_α + (1 / ((1 − α)·n)) · Σᵢ max(Lᵢ − VaR_α, 0)
 *
 * i.e. the mean of the worst (1 − α)·n losses, with a fractional weight on the VaR atom when
 * (1 − α)·n is not an integer. Always ES_α ≥ VaR_α (same quantile convention as
 * {@link historicalVar}). Example: n = 10, α = 0.9 → ES = the worst loss.
 *
 * @throws ValidationError / InsufficientDataError as {@link historicalVar}.
 */
export function historicalExpectedShortfall(input: RiskInput): number {
  validate(input);
  const losses = sortedLosses(input.returns, input.positionNotionalUsd);
  const n = losses.length;
  const varUsd = losses[quantileRank(input.confidence, n) - 1] as number;
  let excess = 0;
  for (let i = n - 1; i >= 0; i--) {
    const l = losses[i] as number;
    if (l <= varUsd) break;
    excess += l - varUsd;
  }
  return varUsd + excess / ((1 - input.confidence) * n);
}

/** Sample mean and sample standard deviation (n − 1 denominator) of the returns. */
export function meanAndStdev(returns: readonly number[]): { mean: number; stdev: number } {
  const n = returns.length;
  if (n < MIN_RISK_OBSERVATIONS) {
    throw new InsufficientDataError('returns', MIN_RISK_OBSERVATIONS, n);
  }
  let sum = 0;
  for (const r of returns) sum += r;
  const mean = sum / n;
  let ss = 0;
  for (const r of returns) ss += (r - mean) * (r - mean);
  return { mean, stdev: Math.sqrt(ss / (n - 1)) };
}

/**
 * Parametric (Gaussian, variance-covariance / delta-normal) one-day VaR, USD loss
 * (Jorion 2007, ch. 5): with μ, σ the sample mean and standard deviation of the returns,
 * N the signed notional and z_α = Φ⁻¹(α),
 *
 *   VaR_α = |N|·σ·z_α − N·μ
 *
 * Examples: N = 1,000,000, μ = 0, σ = 0.01, α = 0.99 → 23,263 USD; α = 0.95 → 16,449 USD.
 *
 * @throws ValidationError / InsufficientDataError as {@link historicalVar}.
 */
export function parametricVar(input: RiskInput): number {
  validate(input);
  const { mean, stdev } = meanAndStdev(input.returns);
  const n = input.positionNotionalUsd;
  return Math.abs(n) * stdev * inverseNormalCdf(input.confidence) - n * mean;
}

/**
 * Parametric (Gaussian) one-day expected shortfall, USD loss. For a normal loss with mean
 * −N·μ and standard deviation |N|·σ (Acerbi & Tasche 2002; Jorion 2007):
 *
 *   ES_α = |N|·σ·φ(z_α) / (1 − α) − N·μ,   z_α = Φ⁻¹(α), φ the standard normal density
 *
 * Since φ(z)/(1 − α) > z for every α, ES_α > VaR_α whenever σ > 0. Example: N = 1,000,000,
 * μ = 0, σ = 0.01, α = 0.975 → 23,378 USD.
 *
 * @throws ValidationError / InsufficientDataError as {@link historicalVar}.
 */
export function parametricExpectedShortfall(input: RiskInput): number {
  validate(input);
  const { mean, stdev } = meanAndStdev(input.returns);
  const n = input.positionNotionalUsd;
  const z = inverseNormalCdf(input.confidence);
  return (Math.abs(n) * stdev * normalPdf(z)) / (1 - input.confidence) - n * mean;
}

function closes(bars: readonly DailyBar[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < bars.length; i++) {
    const bar = bars[i] as DailyBar;
    if (!(Number.isFinite(bar.close) && bar.close > 0)) {
      throw new ValidationError(`bars[${i}].close`, `must be a positive price, got ${bar.close}`);
    }
    if (i > 0 && !(bar.date > (bars[i - 1] as DailyBar).date)) {
      throw new ValidationError(
        `bars[${i}].date`,
        `bars must be in strictly ascending date order (${bar.date} after ${(bars[i - 1] as DailyBar).date})`,
      );
    }
    out.push(bar.close);
  }
  return out;
}

/**
 * Daily simple returns r_t = C_t / C_{t−1} − 1 (fractions) from daily bars sorted by date
 * ascending; n bars give n − 1 returns, oldest first. Close-to-close, no dividend adjustment
 * (the LEAN daily bars are already split/dividend-adjusted when the data set is).
 *
 * @throws ValidationError when a close is not a positive finite price or dates are not
 *   strictly ascending.
 */
export function simpleReturns(bars: readonly DailyBar[]): number[] {
  const c = closes(bars);
  const out: number[] = [];
  for (let i = 1; i < c.length; i++) out.push((c[i] as number) / (c[i - 1] as number) - 1);
  return out;
}

/**
 * Daily log returns ln(C_t / C_{t−1}) from daily bars sorted by date ascending; n bars give
 * n − 1 returns. Convert to simple returns with `Math.expm1(r)` before using them as VaR input.
 *
 * @throws ValidationError as {@link simpleReturns}.
 */
export function logReturns(bars: readonly DailyBar[]): number[] {
  const c = closes(bars);
  const out: number[] = [];
  for (let i = 1; i < c.length; i++) out.push(Math.log((c[i] as number) / (c[i - 1] as number)));
  return out;
}
