/**
 * Fitness of genomes from their scored cohort results inside the learning cycle's lookback
 * window. Pure; money in USD, returns and drawdowns as fractions.
 *
 * Formula (per genome g of the pool, over the results r of g completed inside the window):
 *
 *   fitness(g) = mean_r(roi_r) − drawdownPenalty × mean_r(maxDrawdownFraction_r)
 *
 * - `roi` is the agent's total PnL over its allocation (`AgentScore.roi`).
 * - `maxDrawdownFraction` is the agent's peak-to-trough loss over the PARENT bankroll
 *   (`AgentScore.maxDrawdownFraction`): a genome is charged for the share of the shared
 *   bankroll it put under water. With `drawdownPenalty = 1`, one percentage point of parent
 *   drawdown costs one point of ROI. This is the additive form of a return-over-drawdown
 *   (Calmar / MAR-style) criterion, which stays finite when the drawdown is zero.
 * - Activity requirement: a genome whose results add up to fewer than `minTrades` fills
 *   (default 2, one round trip) is `idle`: it gets `min(0, worst active fitness) −
 *   idlePenalty`, strictly below every active genome, so doing nothing never survives.
 * - A genome with no result in the window is `unscored`: it gets the mean fitness of the active
 *   genomes (0 when there are none), i.e. it is assumed average until a cohort tests it.
 * - Ties are broken by the Sharpe ratio of the genome's session returns, per session (mean ÷
 *   sample standard deviation of its `roi`s, not annualized; higher first; genomes with fewer
 *   than two sessions, or no dispersion, last), then by id, so the ranking is total and
 *   deterministic. No Sharpe ratio of minute returns enters the fitness (docs/evidence.md).
 */
import type { Genome } from '../cohort/genome.js';
import { mean, sampleStdev } from '../scoring/metrics.js';

/** What the learning cycle reads from one agent's scored result (a leaderboard row). */
export interface FitnessInputs {
  /** realized + unrealized − fees, USD. */
  readonly totalPnlUsd: number;
  /** totalPnl / allocation, fraction. */
  readonly roi: number;
  /** Max drawdown in USD / parent bankroll, fraction >= 0. */
  readonly maxDrawdownFraction: number;
  /** Fills of the agent in the session. */
  readonly tradeCount: number;
}

/** One agent's result in one scored cohort, attributed to its genome. */
export interface ScoredGenomeResult {
  readonly genomeId: string;
  readonly fitnessInputs: FitnessInputs;
  /** Session date of the cohort, `YYYY-MM-DD`. */
  readonly sessionDate: string;
  /** When the cohort completed, UTC ISO-8601 (same clock as the cycle's `now`). */
  readonly completedAtIso: string;
}

/** Tunables of the fitness formula. */
export interface FitnessPolicy {
  /** Weight of the mean parent-bankroll drawdown fraction, >= 0. @default 1 */
  readonly drawdownPenalty: number;
  /** Fewer fills than this over the window makes a genome idle, integer >= 0. @default 2 */
  readonly minTrades: number;
  /** How far below the worst active genome (or 0) idle genomes rank, >= 0. @default 0.01 */
  readonly idlePenalty: number;
}

export const DEFAULT_FITNESS_POLICY: FitnessPolicy = {
  drawdownPenalty: 1,
  minTrades: 2,
  idlePenalty: 0.01,
};

/** `scored`: active with results; `idle`: results but too few fills; `unscored`: no results. */
export type FitnessStatus = 'scored' | 'idle' | 'unscored';

/** Fitness of one genome of the evaluated pool. */
export interface GenomeFitness {
  readonly genomeId: string;
  /** See the module formula; higher is better. */
  readonly fitness: number;
  /** Results inside the window. */
  readonly samples: number;
  readonly status: FitnessStatus;
  /** Mean ROI over the samples, fraction; null without samples. */
  readonly meanRoi: number | null;
  /** Mean parent-bankroll drawdown fraction over the samples; null without samples. */
  readonly meanMaxDrawdownFraction: number | null;
  /**
   * Sharpe ratio of the samples' session returns, per session (mean ÷ sample standard
   * deviation of `roi`, risk-free 0, not annualized); null with fewer than two samples or a
   * zero standard deviation.
   */
  readonly sessionSharpe: number | null;
  /** Σ fills over the samples. */
  readonly tradeCount: number;
  /** Σ total PnL over the samples, USD. */
  readonly totalPnlUsd: number;
}

/**
 * Fitness of every genome of `pool` from the results completed in the window
 * `(windowEndMs − lookbackMs, windowEndMs]`, in `pool` order. Results of genomes not in the
 * pool, or completed outside the window, are ignored. Results are summed in
 * (completedAtIso, sessionDate) order so the outcome does not depend on their input order.
 *
 * @param windowStartMs exclusive start, epoch ms UTC.
 * @param windowEndMs inclusive end (the cycle's `now`), epoch ms UTC.
 */
export function evaluateFitness(
  pool: readonly Genome[],
  scored: readonly ScoredGenomeResult[],
  windowStartMs: number,
  windowEndMs: number,
  policy: FitnessPolicy = DEFAULT_FITNESS_POLICY,
): GenomeFitness[] {
  const ids = new Set(pool.map((g) => g.id));
  const byGenome = new Map<string, ScoredGenomeResult[]>();
  const inWindow = scored
    .filter((r) => {
      const t = Date.parse(r.completedAtIso);
      return ids.has(r.genomeId) && t > windowStartMs && t <= windowEndMs;
    })
    .sort(
      (a, b) =>
        Date.parse(a.completedAtIso) - Date.parse(b.completedAtIso) ||
        a.sessionDate.localeCompare(b.sessionDate),
    );
  for (const r of inWindow) {
    const list = byGenome.get(r.genomeId);
    if (list) list.push(r);
    else byGenome.set(r.genomeId, [r]);
  }

  const raw = pool.map((g) => {
    const results = byGenome.get(g.id) ?? [];
    const n = results.length;
    let roi = 0;
    let dd = 0;
    let trades = 0;
    let pnl = 0;
    for (const { fitnessInputs: f } of results) {
      roi += f.roi;
      dd += f.maxDrawdownFraction;
      trades += f.tradeCount;
      pnl += f.totalPnlUsd;
    }
    const status: FitnessStatus =
      n === 0 ? 'unscored' : trades < policy.minTrades ? 'idle' : 'scored';
    return {
      genomeId: g.id,
      samples: n,
      status,
      meanRoi: n ? roi / n : null,
      meanMaxDrawdownFraction: n ? dd / n : null,
      sessionSharpe: sessionSharpe(results.map((r) => r.fitnessInputs.roi)),
      tradeCount: trades,
      totalPnlUsd: pnl,
      active: n ? roi / n - policy.drawdownPenalty * (dd / n) : 0,
    };
  });

  const active = raw.filter((r) => r.status === 'scored').map((r) => r.active);
  const neutral = active.length ? active.reduce((s, v) => s + v, 0) / active.length : 0;
  const idleFitness = active.reduce((m, v) => Math.min(m, v), 0) - policy.idlePenalty;
  return raw.map(({ active: value, genomeId, samples, status, ...rest }) => ({
    genomeId,
    fitness: status === 'scored' ? value : status === 'idle' ? idleFitness : neutral,
    samples,
    status,
    ...rest,
  }));
}

/**
 * Per-session Sharpe ratio of session returns (fractions): mean ÷ sample standard deviation
 * (n − 1), risk-free 0, not annualized (Sharpe 1994; Lo 2002). Null with fewer than two
 * returns or a zero standard deviation.
 */
export function sessionSharpe(returns: readonly number[]): number | null {
  const sd = sampleStdev(returns);
  return returns.length >= 2 && sd > 0 ? mean(returns) / sd : null;
}

/**
 * Total order of fitness rows, best first: fitness descending, then the per-session Sharpe
 * ratio descending (rows without one last), then genome id ascending.
 */
export function compareFitness(a: GenomeFitness, b: GenomeFitness): number {
  if (a.fitness !== b.fitness) return b.fitness - a.fitness;
  const sa = a.sessionSharpe ?? Number.NEGATIVE_INFINITY;
  const sb = b.sessionSharpe ?? Number.NEGATIVE_INFINITY;
  if (sa !== sb) return sb > sa ? 1 : -1;
  return a.genomeId < b.genomeId ? -1 : a.genomeId > b.genomeId ? 1 : 0;
}

/** How the cycle's results were split: `off` (no validation asked), `split`, `unavailable`. */
export type ValidationStatus = 'off' | 'split' | 'unavailable';

/**
 * The results of a learning cycle split by session into a training part (what breeding sees)
 * and a validation part (what decides which genomes survive unchanged), walk-forward: every
 * validation session is later than every training session.
 */
export interface SessionSplit {
  readonly status: ValidationStatus;
  /** Why there is no validation part (`off`/`unavailable`); empty when `split`. */
  readonly reason: string;
  /** Results of pool genomes in the training sessions, in input order. */
  readonly training: readonly ScoredGenomeResult[];
  /** Results of pool genomes in the validation sessions; empty unless `split`. */
  readonly validation: readonly ScoredGenomeResult[];
  /** Training session dates, `YYYY-MM-DD`, ascending. */
  readonly trainingSessionDates: readonly string[];
  /** Validation session dates, `YYYY-MM-DD`, ascending; empty unless `split`. */
  readonly validationSessionDates: readonly string[];
}

/** Which results a cycle reads and how many sessions each part holds. */
export interface SplitWindow {
  /** Exclusive start of the lookback window, epoch ms UTC. */
  readonly windowStartMs: number;
  /** Inclusive end (the cycle's `now`), epoch ms UTC. */
  readonly windowEndMs: number;
  /** Latest sessions held out for validation, integer >= 0 (0 = no validation). */
  readonly validationSessions: number;
  /** Sessions before the validation ones that train, integer >= 1. */
  readonly trainingSessions: number;
}

/**
 * Splits the results of the pool's genomes into training and validation sessions, the
 * train/validation/test discipline of model selection (Hastie, Tibshirani & Friedman, "The
 * Elements of Statistical Learning", 2nd ed. 2009, §7.2) laid out in time as a walk-forward
 * (Pardo, "The Evaluation and Optimization of Trading Strategies", 2nd ed. 2008, ch. 11): the
 * data that breeds genomes never judges them, and the judging data is later than it.
 *
 * - `validationSessions = 0`: `off`; the training part is every result completed inside
 *   `(windowStartMs, windowEndMs]` (the cycle without validation).
 * - Otherwise the validation sessions are the latest `validationSessions` session dates among
 *   the results completed inside the window (the lookback keeps the judging evidence fresh),
 *   and the training sessions are the latest `trainingSessions` session dates strictly before
 *   the first validation date among the results completed by `windowEndMs` (inside the window
 *   or before it): `split`.
 * - With no result inside the window, or no earlier session to train on (a pool's first
 *   session), the split is `unavailable`: the results inside the window train, nothing
 *   validates, and `reason` says so. Never silently the same data twice.
 *
 * A result completed after `windowEndMs` is never read, so a session later than the cycle (the
 * out-of-sample session of the Day-3 review) cannot leak into either part.
 */
export function splitSessions(
  pool: readonly Genome[],
  scored: readonly ScoredGenomeResult[],
  window: SplitWindow,
): SessionSplit {
  const ids = new Set(pool.map((g) => g.id));
  const known = scored.filter(
    (r) => ids.has(r.genomeId) && Date.parse(r.completedAtIso) <= window.windowEndMs,
  );
  const inWindow = known.filter((r) => Date.parse(r.completedAtIso) > window.windowStartMs);
  const datesOf = (rs: readonly ScoredGenomeResult[]) =>
    [...new Set(rs.map((r) => r.sessionDate))].sort();
  const fallback = (status: ValidationStatus, reason: string): SessionSplit => ({
    status,
    reason,
    training: inWindow,
    validation: [],
    trainingSessionDates: datesOf(inWindow),
    validationSessionDates: [],
  });
  if (window.validationSessions === 0) return fallback('off', 'validationSessions is 0');
  const windowDates = datesOf(inWindow);
  if (windowDates.length === 0) {
    return fallback('unavailable', 'no result of the pool inside the lookback window');
  }
  const validationDates = windowDates.slice(-window.validationSessions);
  const firstValidation = validationDates[0] as string;
  const trainingDates = datesOf(known.filter((r) => r.sessionDate < firstValidation)).slice(
    -window.trainingSessions,
  );
  if (trainingDates.length === 0) {
    return fallback(
      'unavailable',
      `no session of the pool before ${firstValidation} to train on; ${windowDates.join(', ')} train${windowDates.length === 1 ? 's' : ''} and nothing validates`,
    );
  }
  const validationSet = new Set(validationDates);
  const trainingSet = new Set(trainingDates);
  return {
    status: 'split',
    reason: '',
    training: known.filter((r) => trainingSet.has(r.sessionDate)),
    validation: inWindow.filter((r) => validationSet.has(r.sessionDate)),
    trainingSessionDates: trainingDates,
    validationSessionDates: validationDates,
  };
}
