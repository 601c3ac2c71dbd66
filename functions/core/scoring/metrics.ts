/**
 * Performance formulas used to score agents and cohorts. Each is a small pure function over
 * plain arrays; money in USD, returns and ratios as fractions.
 */

/** 1-minute bars in a US equity trading year: 252 sessions × 390 minutes. */
export const MINUTES_PER_TRADING_YEAR = 252 * 390;

/** One hour, ms. */
export const HOUR_MS = 3_600_000;

/** Length of one bar, ms (bars are labelled by their start). */
export const BAR_MS = 60_000;

/** Arithmetic mean; 0 for an empty list. */
export function mean(values: readonly number[]): number {
  if (values.length === 0) return 0;
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

/** Sample standard deviation (divisor n − 1); 0 for fewer than two values. */
export function sampleStdev(values: readonly number[]): number {
  const n = values.length;
  if (n < 2) return 0;
  const m = mean(values);
  let ss = 0;
  for (const v of values) ss += (v - m) * (v - m);
  return Math.sqrt(ss / (n - 1));
}

/**
 * Simple period returns of an equity curve: `r_t = V_t / V_{t−1} − 1`, with `V_{−1} =
 * startEquityUsd` (so the first minute's return is measured from the starting equity). A
 * return after a non-positive equity is 0 (a wiped-out book has no meaningful return).
 */
export function simpleReturns(equityUsd: readonly number[], startEquityUsd: number): number[] {
  const out = new Array<number>(equityUsd.length);
  let prev = startEquityUsd;
  for (let t = 0; t < equityUsd.length; t++) {
    const v = equityUsd[t] as number;
    out[t] = prev > 0 ? v / prev - 1 : 0;
    prev = v;
  }
  return out;
}

/**
 * Annualized Sharpe ratio of per-period returns (Sharpe, "Mutual Fund Performance",
 * J. Business 39(1), 1966; "The Sharpe Ratio", J. Portfolio Management 21(1), 1994):
 * `mean(r) / stdev(r) × √periodsPerYear`, with the risk-free rate taken as 0 (intraday books
 * earn no interest), the sample standard deviation (n − 1), and the √T annualization of
 * i.i.d. returns (Lo, "The Statistics of Sharpe Ratios", Financial Analysts J. 58(4), 2002).
 * Default annualization: 1-minute returns, 252 × 390 per year. 0 when the standard deviation
 * is 0 (or there are fewer than two returns).
 */
export function sharpeRatio(
  returns: readonly number[],
  periodsPerYear: number = MINUTES_PER_TRADING_YEAR,
): number {
  const sd = sampleStdev(returns);
  if (!(sd > 0)) return 0;
  return (mean(returns) / sd) * Math.sqrt(periodsPerYear);
}

/** The result of {@link maxDrawdown}. */
export interface Drawdown {
  /** Largest peak-to-trough fall of the curve, USD, >= 0. */
  readonly maxDrawdownUsd: number;
  /** Index of the trough of that fall (−1 when there is none). */
  readonly troughIndex: number;
}

/**
 * Maximum drawdown: the largest fall from a running peak to a later value,
 * `max_t (max_{s<=t} V_s − V_t)`, the peak starting at `startEquityUsd` (Magdon-Ismail &
 * Atiya, "Maximum drawdown", Risk 17(10), 2004). In USD; divide by a base for a fraction
 * (the scoring divides by the parent bankroll).
 */
export function maxDrawdown(equityUsd: readonly number[], startEquityUsd: number): Drawdown {
  let peak = startEquityUsd;
  let worst = 0;
  let troughIndex = -1;
  for (let t = 0; t < equityUsd.length; t++) {
    const v = equityUsd[t] as number;
    if (v > peak) peak = v;
    else if (peak - v > worst) {
      worst = peak - v;
      troughIndex = t;
    }
  }
  return { maxDrawdownUsd: worst, troughIndex };
}

/**
 * Maximum drawdown as a fraction of the running peak: `max_t (P_t − V_t) / P_t` with
 * `P_t = max(startEquityUsd, max_{s<=t} V_s)`: the largest fall from a peak measured against
 * that peak (the usual definition of a drawdown in percent; Magdon-Ismail & Atiya 2004 for
 * the USD form). 0 for an empty or never-falling curve; a non-positive peak counts as a full
 * loss (1).
 */
export function maxDrawdownFractionOfPeak(
  equityUsd: readonly number[],
  startEquityUsd: number,
): number {
  let peak = startEquityUsd;
  let worst = 0;
  for (const v of equityUsd) {
    if (v > peak) peak = v;
    const dd = peak > 0 ? (peak - v) / peak : peak - v > 0 ? 1 : 0;
    if (dd > worst) worst = dd;
  }
  return worst;
}

/**
 * Return on each session hour: bucket k holds the bars starting in
 * `[sessionOpenMs + k h, sessionOpenMs + (k+1) h)` (09:30-10:30, ..., 15:30-16:00 for a US
 * equity session: 7 buckets, the last one half an hour); there are as many buckets as needed
 * to cover the last bar's end. Each value is `(V_end − V_start) / V_start`, `V_start` being the
 * equity before the bucket's first bar (the starting equity for the first bucket) and `V_end`
 * the equity after its last bar; 0 for an empty bucket or when `V_start <= 0`.
 */
export function hourlyRoi(
  timestamps: readonly number[],
  equityUsd: readonly number[],
  startEquityUsd: number,
  sessionOpenMs: number,
): number[] {
  if (timestamps.length === 0) return [];
  const last = timestamps[timestamps.length - 1] as number;
  const buckets = Math.max(1, Math.ceil((last + BAR_MS - sessionOpenMs) / HOUR_MS));
  const out = new Array<number>(buckets).fill(0);
  let bucket = 0;
  let startEquity = startEquityUsd;
  let endEquity = startEquityUsd;
  for (let t = 0; t < timestamps.length; t++) {
    const k = Math.min(
      buckets - 1,
      Math.max(0, Math.floor(((timestamps[t] as number) - sessionOpenMs) / HOUR_MS)),
    );
    while (bucket < k) {
      out[bucket] = startEquity > 0 ? (endEquity - startEquity) / startEquity : 0;
      startEquity = endEquity;
      bucket++;
    }
    endEquity = equityUsd[t] as number;
  }
  out[bucket] = startEquity > 0 ? (endEquity - startEquity) / startEquity : 0;
  return out;
}

/** Return on investment: `pnlUsd / baseUsd` (fraction); 0 when the base is not positive. */
export function returnOnInvestment(pnlUsd: number, baseUsd: number): number {
  return baseUsd > 0 ? pnlUsd / baseUsd : 0;
}

/** Mean and peak utilization of a base amount. */
export interface Utilization {
  /** Mean of gross exposure / base over the curve (fraction). */
  readonly mean: number;
  /** Largest gross exposure / base (fraction). */
  readonly peak: number;
}

/**
 * Bankroll utilization: gross exposure divided by the capital it draws on (an agent's
 * allocation, or the parent bankroll), averaged over the minutes and at its peak. 0 when the
 * base is not positive or the curve is empty.
 */
export function utilization(grossExposureUsd: readonly number[], baseUsd: number): Utilization {
  if (!(baseUsd > 0) || grossExposureUsd.length === 0) return { mean: 0, peak: 0 };
  let sum = 0;
  let peak = 0;
  for (const g of grossExposureUsd) {
    sum += g;
    if (g > peak) peak = g;
  }
  return { mean: sum / grossExposureUsd.length / baseUsd, peak: peak / baseUsd };
}

/** What {@link rankLeaderboard} sorts on. */
export interface Rankable {
  readonly agentId: string;
  readonly totalPnlUsd: number;
  readonly maxDrawdownUsd: number;
}

/**
 * Leaderboard order: total PnL of the session (net of fees) descending, then the smaller
 * drawdown (USD), then agent id ascending (a total, deterministic order). No Sharpe ratio: one
 * session of minute returns annualized says nothing about skill (docs/evidence.md). Returns new
 * rows with `rank` 1..n.
 */
export function rankLeaderboard<T extends Rankable>(rows: readonly T[]): (T & { rank: number })[] {
  return [...rows]
    .sort(
      (a, b) =>
        b.totalPnlUsd - a.totalPnlUsd ||
        a.maxDrawdownUsd - b.maxDrawdownUsd ||
        (a.agentId < b.agentId ? -1 : a.agentId > b.agentId ? 1 : 0),
    )
    .map((row, i) => ({ ...row, rank: i + 1 }));
}
