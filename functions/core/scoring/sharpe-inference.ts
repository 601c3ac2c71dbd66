/**
 * Inference on Sharpe ratios: how much a measured Sharpe ratio can be trusted given its sample
 * size, the shape of the returns and the number of strategies tried before it was picked.
 *
 * Sources:
 * - D. H. Bailey and M. López de Prado, "The Sharpe Ratio Efficient Frontier", Journal of Risk
 *   15(2), 2012: the probabilistic Sharpe ratio (PSR, eq. 11) and the minimum track record
 *   length (MinTRL, eq. 13), both allowing for skewness and kurtosis (Mertens 2002).
 * - D. H. Bailey and M. López de Prado, "The Deflated Sharpe Ratio: Correcting for Selection
 *   Bias, Backtest Overfitting and Non-Normality", Journal of Portfolio Management 40(5), 2014:
 *   the expected maximum Sharpe ratio of N independent trials (eq. 6, with the
 *   Euler-Mascheroni constant) and the deflated Sharpe ratio (DSR = PSR against that maximum).
 *
 * Conventions (as in both papers): Sharpe ratios are NOT annualized here, they are per period
 * of the returns (`frequency` says which period); the risk-free rate is 0; skewness γ3 and
 * kurtosis γ4 are the moment estimators of the sample (γ4 = 3 for normal returns, not the
 * excess); the sample standard deviation divides by n − 1. Pure: no I/O.
 */
import { inverseNormalCdf, normalCdf } from '../risk/normal.js';

/** Euler-Mascheroni constant γ (DSR paper, eq. 6). */
export const EULER_MASCHERONI = 0.5772156649015329;

/** Φ⁻¹(p) refined by one Halley step on {@link normalCdf} (Acklam's start is within 1e-9). */
function probit(p: number): number {
  const x = inverseNormalCdf(p);
  const e = normalCdf(x) - p;
  const u = e * Math.sqrt(2 * Math.PI) * Math.exp((x * x) / 2);
  return x - u / (1 + (x * u) / 2);
}

/** The sample statistics PSR and DSR need, with the sample size they rest on. */
export interface ReturnMoments {
  /** Number of returns, count. */
  readonly n: number;
  /** Arithmetic mean return per period, fraction. */
  readonly mean: number;
  /** Sample standard deviation (divisor n − 1) per period, fraction; 0 when n < 2. */
  readonly stdev: number;
  /** Skewness γ3 = m3 / m2^1.5 (moment estimator); 0 when undefined (n < 3 or no variance). */
  readonly skewness: number;
  /** Kurtosis γ4 = m4 / m2² (moment estimator, normal = 3); 3 when undefined (n < 4 or flat). */
  readonly kurtosis: number;
}

/**
 * Mean, sample standard deviation, skewness and kurtosis of a return series (moment
 * estimators, as in the papers' code: `scipy.stats.skew` and `kurtosis(fisher=False)`).
 * With too few returns or no variance, the normal values (γ3 = 0, γ4 = 3) stand in.
 */
export function returnMoments(returns: readonly number[]): ReturnMoments {
  const n = returns.length;
  if (n === 0) return { n: 0, mean: 0, stdev: 0, skewness: 0, kurtosis: 3 };
  let sum = 0;
  for (const r of returns) sum += r;
  const mean = sum / n;
  let m2 = 0;
  let m3 = 0;
  let m4 = 0;
  for (const r of returns) {
    const d = r - mean;
    const d2 = d * d;
    m2 += d2;
    m3 += d2 * d;
    m4 += d2 * d2;
  }
  const stdev = n > 1 ? Math.sqrt(m2 / (n - 1)) : 0;
  m2 /= n;
  m3 /= n;
  m4 /= n;
  const flat = !(m2 > 0);
  return {
    n,
    mean,
    stdev,
    skewness: flat || n < 3 ? 0 : m3 / m2 ** 1.5,
    kurtosis: flat || n < 4 ? 3 : m4 / (m2 * m2),
  };
}

/** Per-period Sharpe ratio `mean / stdev` (risk-free 0); 0 when the stdev is 0. */
export function periodSharpe(moments: Pick<ReturnMoments, 'mean' | 'stdev'>): number {
  return moments.stdev > 0 ? moments.mean / moments.stdev : 0;
}

/** Inputs of {@link probabilisticSharpeRatio}: non-annualized, same period. */
export interface PsrInput {
  /** Observed Sharpe ratio per period (not annualized). */
  readonly sharpe: number;
  /** Benchmark Sharpe ratio SR* per period (0 = "any skill at all"). */
  readonly benchmarkSharpe: number;
  /** Number of returns the Sharpe ratio was measured on, count >= 2. */
  readonly n: number;
  readonly skewness: number;
  /** Kurtosis γ4 (normal = 3). */
  readonly kurtosis: number;
}

/** `1 − γ3·SR + (γ4 − 1)/4·SR²`: the variance factor of the Sharpe estimator (Mertens 2002). */
function sharpeVarianceFactor(sharpe: number, skewness: number, kurtosis: number): number {
  return 1 - skewness * sharpe + ((kurtosis - 1) / 4) * sharpe * sharpe;
}

/**
 * Probabilistic Sharpe ratio, PSR(SR*) = Φ((SR − SR*)·√(n − 1) / √(1 − γ3·SR + (γ4 − 1)/4·SR²))
 * (Bailey & López de Prado 2012, eq. 11): the probability that the true Sharpe ratio exceeds
 * SR* given the observed one. NaN when n < 2 or the variance factor is not positive (the
 * statistic is undefined: callers must treat it as "no evidence").
 */
export function probabilisticSharpeRatio(input: PsrInput): number {
  const { sharpe, benchmarkSharpe, n, skewness, kurtosis } = input;
  const factor = sharpeVarianceFactor(sharpe, skewness, kurtosis);
  if (!(n >= 2) || !(factor > 0)) return Number.NaN;
  return normalCdf(((sharpe - benchmarkSharpe) * Math.sqrt(n - 1)) / Math.sqrt(factor));
}

/**
 * The per-period Sharpe ratio of a return series and its PSR against SR* = 0 ("any skill"),
 * Bailey & López de Prado 2012, eq. 11 via {@link probabilisticSharpeRatio}.
 *
 * @param returns fractions per period (e.g. one per session), oldest first.
 * @returns the moments, the Sharpe ratio (not annualized) and PSR(0) (NaN when undefined), or
 *   `null` with fewer than 2 returns (no Sharpe ratio can be measured).
 */
export function sharpeWithPsr(
  returns: readonly number[],
): { readonly moments: ReturnMoments; readonly sharpe: number; readonly psr: number } | null {
  const moments = returnMoments(returns);
  if (moments.n < 2) return null;
  const sharpe = periodSharpe(moments);
  const psr = probabilisticSharpeRatio({
    sharpe,
    benchmarkSharpe: 0,
    n: moments.n,
    skewness: moments.skewness,
    kurtosis: moments.kurtosis,
  });
  return { moments, sharpe, psr };
}

/**
 * Minimum track record length, MinTRL = 1 + (1 − γ3·SR + (γ4 − 1)/4·SR²)·(Z_α / (SR − SR*))²
 * (Bailey & López de Prado 2012, eq. 13): the number of returns (same period as SR) needed
 * for PSR(SR*) to reach the confidence α. Infinity when SR <= SR* (no track record is long
 * enough), NaN when the variance factor is not positive.
 *
 * @param confidence α, a probability in (0, 1), e.g. 0.95.
 */
export function minimumTrackRecordLength(
  input: Omit<PsrInput, 'n'> & { readonly confidence: number },
): number {
  const { sharpe, benchmarkSharpe, skewness, kurtosis, confidence } = input;
  const factor = sharpeVarianceFactor(sharpe, skewness, kurtosis);
  if (!(factor > 0)) return Number.NaN;
  if (!(sharpe > benchmarkSharpe)) return Number.POSITIVE_INFINITY;
  const z = probit(confidence);
  return 1 + factor * (z / (sharpe - benchmarkSharpe)) ** 2;
}

/**
 * Expected maximum Sharpe ratio of `trials` independent trials whose Sharpe estimates are
 * normal with mean `meanSharpe` and variance `varianceSharpe` (Bailey & López de Prado 2014,
 * eq. 6; Bailey, Borwein, López de Prado and Zhu 2014):
 * `E[max] ≈ mean + √V·((1 − γ)·Φ⁻¹(1 − 1/N) + γ·Φ⁻¹(1 − 1/(N·e)))`, γ the Euler-Mascheroni
 * constant. One trial: its mean (nothing was selected). Non-decreasing in N.
 *
 * @param trials N, integer >= 1.
 * @param varianceSharpe V[SR_n] >= 0, in the same (per-period) units as the Sharpe ratios.
 */
export function expectedMaxSharpe(input: {
  readonly trials: number;
  readonly varianceSharpe: number;
  readonly meanSharpe?: number;
}): number {
  const mean = input.meanSharpe ?? 0;
  const n = Math.floor(input.trials);
  if (!(n > 1) || !(input.varianceSharpe > 0)) return mean;
  const z =
    (1 - EULER_MASCHERONI) * probit(1 - 1 / n) + EULER_MASCHERONI * probit(1 - 1 / (n * Math.E));
  return mean + Math.sqrt(input.varianceSharpe) * z;
}

/**
 * Deflated Sharpe ratio (Bailey & López de Prado 2014, eq. 8): the PSR of the observed Sharpe
 * ratio against the expected maximum Sharpe ratio of `trials` unskilled trials
 * ({@link expectedMaxSharpe} with mean 0). More trials never raise it. NaN as the PSR.
 */
export function deflatedSharpeRatio(
  input: Omit<PsrInput, 'benchmarkSharpe'> & {
    readonly trials: number;
    readonly trialSharpeVariance: number;
  },
): number {
  const benchmarkSharpe = expectedMaxSharpe({
    trials: input.trials,
    varianceSharpe: input.trialSharpeVariance,
  });
  return probabilisticSharpeRatio({ ...input, benchmarkSharpe });
}

/** Where the variance of the trials' Sharpe ratios came from. */
export type TrialVarianceSource =
  /** The sample variance of the Sharpe ratios of trials with at least two returns. */
  | 'trials'
  /**
   * Fewer than two such trials: the asymptotic variance of the candidate's own Sharpe estimator
   * under the null (SR = 0): `1 / (n − 1)` (Lo 2002; the PSR's denominator at SR = 0).
   */
  | 'estimator';

/**
 * Everything the `psr` and `dsr` gates decide on, stated with its units: per-period
 * (non-annualized) Sharpe ratios, the period, the sample size and shape of the returns, the
 * number of trials behind the selection and the minimum track record length.
 */
export interface SharpeEvidence {
  /** Period of one return, e.g. `session` (one trading session, flat overnight). */
  readonly frequency: string;
  /** Returns measured, count. */
  readonly n: number;
  readonly meanReturn: number;
  readonly stdevReturn: number;
  /** Observed Sharpe ratio per period (not annualized). */
  readonly sharpe: number;
  readonly skewness: number;
  /** Kurtosis γ4 (normal = 3). */
  readonly kurtosis: number;
  /** Benchmark of the PSR per period (0: "better than no skill"). */
  readonly benchmarkSharpe: number;
  /** PSR(benchmark); null when undefined (n < 2, no variance). */
  readonly psr: number | null;
  /** Distinct genomes evaluated since the pool was seeded (N of the DSR), count. */
  readonly trials: number;
  /** V[SR_n] of the trials, per-period Sharpe²; null when undefined (n < 2). */
  readonly trialSharpeVariance: number | null;
  readonly trialSharpeVarianceSource: TrialVarianceSource;
  /** Trials whose Sharpe ratio entered the variance, count. */
  readonly trialsWithSharpe: number;
  /** Expected maximum Sharpe ratio of the trials per period (the DSR's benchmark); null when undefined. */
  readonly expectedMaxSharpe: number | null;
  /** DSR; null when undefined. */
  readonly dsr: number | null;
  /**
   * Returns needed for PSR(benchmark) to reach `confidence`, count; null when no track record
   * is long enough (SR <= benchmark) or the statistic is undefined.
   */
  readonly minTrackRecordLength: number | null;
  /** Returns needed for the DSR to reach `confidence`, count; null as above. */
  readonly minTrackRecordLengthDeflated: number | null;
  /** α of the minimum track record lengths. */
  readonly confidence: number;
}

/** JSON-safe: NaN and ±Infinity become null (documented per field). */
const finiteOrNull = (x: number): number | null => (Number.isFinite(x) ? x : null);

/**
 * The evidence of one candidate: its per-period returns, the number of trials and the other
 * trials' per-period Sharpe ratios.
 *
 * @param input.returns the candidate's own returns, oldest first, fractions (one per period).
 * @param input.trialSharpes per-period Sharpe ratios of the trials that have at least two
 *   returns (the candidate's own may be among them).
 * @param input.trials N, the number of distinct strategies evaluated (>= 1).
 */
export function sharpeEvidence(input: {
  readonly returns: readonly number[];
  readonly frequency: string;
  readonly trials: number;
  readonly trialSharpes: readonly number[];
  readonly confidence: number;
  readonly benchmarkSharpe?: number;
}): SharpeEvidence {
  const m = returnMoments(input.returns);
  const sharpe = periodSharpe(m);
  const benchmarkSharpe = input.benchmarkSharpe ?? 0;
  const trialSharpes = input.trialSharpes.filter(Number.isFinite);
  let trialSharpeVariance: number;
  let source: TrialVarianceSource;
  if (trialSharpes.length >= 2) {
    const mu = trialSharpes.reduce((s, x) => s + x, 0) / trialSharpes.length;
    trialSharpeVariance =
      trialSharpes.reduce((s, x) => s + (x - mu) * (x - mu), 0) / (trialSharpes.length - 1);
    source = 'trials';
  } else {
    trialSharpeVariance = m.n > 1 ? 1 / (m.n - 1) : Number.POSITIVE_INFINITY;
    source = 'estimator';
  }
  const trials = Math.max(1, Math.floor(input.trials));
  const sr0 = Number.isFinite(trialSharpeVariance)
    ? expectedMaxSharpe({ trials, varianceSharpe: trialSharpeVariance })
    : Number.POSITIVE_INFINITY;
  const shape = { skewness: m.skewness, kurtosis: m.kurtosis };
  const psr = probabilisticSharpeRatio({ sharpe, benchmarkSharpe, n: m.n, ...shape });
  const dsr = Number.isFinite(sr0)
    ? probabilisticSharpeRatio({ sharpe, benchmarkSharpe: sr0, n: m.n, ...shape })
    : Number.NaN;
  const mtrl = (benchmark: number) =>
    finiteOrNull(
      minimumTrackRecordLength({
        sharpe,
        benchmarkSharpe: benchmark,
        confidence: input.confidence,
        ...shape,
      }),
    );
  return {
    frequency: input.frequency,
    n: m.n,
    meanReturn: m.mean,
    stdevReturn: m.stdev,
    sharpe,
    ...shape,
    benchmarkSharpe,
    psr: finiteOrNull(psr),
    trials,
    trialSharpeVariance: finiteOrNull(trialSharpeVariance),
    trialSharpeVarianceSource: source,
    trialsWithSharpe: trialSharpes.length,
    expectedMaxSharpe: finiteOrNull(sr0),
    dsr: finiteOrNull(dsr),
    minTrackRecordLength: mtrl(benchmarkSharpe),
    minTrackRecordLengthDeflated: mtrl(sr0),
    confidence: input.confidence,
  };
}
