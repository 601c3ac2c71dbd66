/**
 * Risk of the strategy's OWN P&L (what the VaR / ES gates measure), and the underlying's
 * intraday history as a second, labelled view.
 *
 * Why not the underlying's close-to-close returns: the agents are flat overnight (every
 * position is closed at the session's end), so an overnight gap is a risk they never carry,
 * and a position of the entry leg says nothing about how much of the capital slice the
 * strategy puts at risk during the session. Here:
 *
 * - **Strategy view** (the gate's verdict): the candidate's minute P&L in its own session(s),
 *   per USD of its allocation (`r_i = (E_i − E_{i−1}) / allocation`, `E_{−1}` = the
 *   allocation), so Σ r_i is exactly the session return and a flat minute contributes 0. One
 *   session's loss distribution is obtained from the m minutes of a session by the
 *   square-root-of-time rule of i.i.d. P&L: parametric μ_s = m·μ, σ_s = √m·σ; historical
 *   VaR_s = √m · VaR_minute (and ES likewise), the scaling the Basel Committee allows from a
 *   1-day to a 10-day horizon ("Amendment to the Capital Accord to incorporate market risks",
 *   1996, §B.4(c); P. Jorion, *Value at Risk*, 3rd ed. 2007, ch. 4, "time aggregation").
 *   Applied to the capital slice the candidate will trade: loss USD = slice × fraction.
 * - **Underlying view** (labelled, reported beside the verdict): the underlying's adjusted
 *   daily history as OPEN-to-close returns only (never the overnight gap the strategy does not
 *   hold), times the candidate's maximum intraday gross exposure in USD of the slice; its
 *   **stressed** figure is the worst open-to-close move of the whole history at that exposure.
 *
 * Units: returns and VaR / ES as fractions of the allocation / slice; USD where named.
 */
import { InsufficientDataError, ValidationError } from '../errors.js';
import type { DailyBar } from '../market/types.js';
import {
  historicalExpectedShortfall,
  historicalVar,
  parametricExpectedShortfall,
  parametricVar,
} from './var.js';

/**
 * Minute P&L of a strategy per USD of its allocation: `r_i = (E_i − E_{i−1}) / allocationUsd`
 * with `E_{−1} = allocationUsd` (additive, not compounded: Σ r_i = final equity / allocation
 * − 1, the session return; a minute with no position and no fill gives exactly 0).
 *
 * @param equityCurveUsd the agent's equity after each minute of its session, USD.
 * @throws ValidationError when the allocation is not positive or an equity is not finite.
 */
export function minutePnlReturns(
  equityCurveUsd: readonly number[],
  allocationUsd: number,
): number[] {
  if (!(Number.isFinite(allocationUsd) && allocationUsd > 0)) {
    throw new ValidationError(
      'allocationUsd',
      `must be a positive USD amount, got ${allocationUsd}`,
    );
  }
  const out = new Array<number>(equityCurveUsd.length);
  let prev = allocationUsd;
  for (let i = 0; i < equityCurveUsd.length; i++) {
    const e = equityCurveUsd[i] as number;
    if (!Number.isFinite(e)) {
      throw new ValidationError(`equityCurveUsd[${i}]`, `must be finite, got ${e}`);
    }
    out[i] = (e - prev) / allocationUsd;
    prev = e;
  }
  return out;
}

/**
 * Largest gross exposure of the session over the allocation (a fraction; 1 = the whole
 * allocation in the market, above 1 on leverage). 0 for a strategy that never traded.
 *
 * @throws ValidationError when the allocation is not positive.
 */
export function maxIntradayExposureFraction(
  grossExposureCurveUsd: readonly number[],
  allocationUsd: number,
): number {
  if (!(Number.isFinite(allocationUsd) && allocationUsd > 0)) {
    throw new ValidationError(
      'allocationUsd',
      `must be a positive USD amount, got ${allocationUsd}`,
    );
  }
  let peak = 0;
  for (const g of grossExposureCurveUsd) if (Number.isFinite(g) && g > peak) peak = g;
  return peak / allocationUsd;
}

/**
 * Open-to-close returns `C_t / O_t − 1` of daily bars (fractions, oldest first): the intraday
 * part of each session only, so the overnight gap `O_t / C_{t−1}` (which a strategy flat
 * overnight never holds) is excluded. n bars give n returns.
 *
 * @throws ValidationError when an open or close is not a positive finite price.
 */
export function intradayReturns(bars: readonly DailyBar[]): number[] {
  return bars.map((b, i) => {
    if (!(Number.isFinite(b.open) && b.open > 0 && Number.isFinite(b.close) && b.close > 0)) {
      throw new ValidationError(
        `bars[${i}]`,
        `open and close must be positive prices (${b.date}: open ${b.open}, close ${b.close})`,
      );
    }
    return b.close / b.open - 1;
  });
}

/** Which estimator and which measure of a one-session loss. */
export type SessionRiskMeasure =
  | 'historical_var'
  | 'parametric_var'
  | 'historical_es'
  | 'parametric_es';

/**
 * One-session VaR or ES of a strategy from its minute P&L, as a fraction of its capital
 * (a positive number is a loss), by the square-root-of-time rule (module JSDoc):
 *
 * - `historical_var` / `historical_es`: √m × the historical one-minute VaR / ES of the minute
 *   returns (`risk/var.ts`, lower empirical quantile; Acerbi & Tasche 2002 for ES);
 * - `parametric_var`: √m·σ·z_α − m·μ; `parametric_es`: √m·σ·φ(z_α)/(1 − α) − m·μ, with μ, σ
 *   the sample mean and standard deviation of the minute returns (Jorion 2007, ch. 5).
 *
 * @param minuteReturns minute P&L per USD of capital ({@link minutePnlReturns}), ≥ 2.
 * @param minutesPerSession m, minutes of one session (390 on a full US equity day), ≥ 1.
 * @param confidence α in (0, 1).
 * @throws InsufficientDataError with fewer than 2 minute returns; ValidationError on a bad
 *   α, m or return.
 */
export function sessionRiskFromMinutes(
  measure: SessionRiskMeasure,
  minuteReturns: readonly number[],
  minutesPerSession: number,
  confidence: number,
): number {
  if (!(Number.isInteger(minutesPerSession) && minutesPerSession >= 1)) {
    throw new ValidationError(
      'minutesPerSession',
      `must be a positive whole number of minutes, got ${minutesPerSession}`,
    );
  }
  if (minuteReturns.length < 2)
    throw new InsufficientDataError('minuteReturns', 2, minuteReturns.length);
  const m = minutesPerSession;
  const rootM = Math.sqrt(m);
  switch (measure) {
    case 'historical_var':
      return rootM * historicalVar({ returns: minuteReturns, positionNotionalUsd: 1, confidence });
    case 'historical_es':
      return (
        rootM *
        historicalExpectedShortfall({ returns: minuteReturns, positionNotionalUsd: 1, confidence })
      );
    case 'parametric_var':
    case 'parametric_es': {
      // The Gaussian formulas are affine in (μ, σ): with a notional of √m they give
      // √m·σ·k − √m·μ; the session mean is m·μ, so add back the missing (√m − m)·μ.
      const f = measure === 'parametric_var' ? parametricVar : parametricExpectedShortfall;
      const scaled = f({ returns: minuteReturns, positionNotionalUsd: rootM, confidence });
      let sum = 0;
      for (const r of minuteReturns) sum += r;
      const mu = sum / minuteReturns.length;
      return scaled + (rootM - m) * mu;
    }
  }
}
