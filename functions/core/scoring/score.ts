/**
 * Scoring of a simulated cohort: per-agent and parent-wallet (whole cohort) performance, and a
 * ranked leaderboard. Pure over a {@link SimulationResult} (which may come back from JSON).
 * Money in USD, returns and ratios as fractions. Formulas and their sources: `metrics.ts`.
 */
import type { StrategyFamily } from '../cohort/genome.js';
import type { SimulationResult } from '../cohort/simulate.js';
import { ValidationError } from '../errors.js';
import {
  hourlyRoi,
  maxDrawdown,
  maxDrawdownFractionOfPeak,
  mean,
  rankLeaderboard,
  returnOnInvestment,
  sampleStdev,
  sharpeRatio,
  simpleReturns,
  utilization,
} from './metrics.js';

export * from './metrics.js';

/** One agent's scores. */
export interface AgentScore {
  /** 1 = best (see {@link rankLeaderboard}). */
  readonly rank: number;
  readonly agentId: string;
  readonly genomeId: string;
  readonly family: StrategyFamily;
  readonly symbol: string;
  readonly allocationUsd: number;
  /** Realized PnL, gross of fees. */
  readonly realizedPnlUsd: number;
  /** Unrealized PnL at the last mark. */
  readonly unrealizedPnlUsd: number;
  readonly feesUsd: number;
  /** realized + unrealized − fees (= final equity − allocation). */
  readonly totalPnlUsd: number;
  /** totalPnl / allocation. */
  readonly roi: number;
  /** Return of each session hour (see `hourlyRoi`). */
  readonly hourlyRoi: number[];
  readonly meanHourlyRoi: number;
  /**
   * Annualized Sharpe of 1-minute equity returns, risk-free 0 (see `sharpeRatio`). Kept for
   * the record only: one session of minute returns is not evidence (no ranking uses it; the
   * Day-3 evidence is the PSR/DSR of session returns, docs/evidence.md).
   */
  readonly sharpe: number;
  /**
   * Volatility of the session: sample standard deviation of the 1-minute returns × √(minutes
   * in the session), a fraction per session (the √T scaling of i.i.d. returns).
   */
  readonly sessionVolatility: number;
  /** Peak-to-trough fall of the agent's equity, USD. */
  readonly maxDrawdownUsd: number;
  /**
   * maxDrawdownUsd / parent bankroll: the share of the shared bankroll the agent put under
   * water (what learning fitness charges). NOT the agent's drawdown: see
   * `maxDrawdownOfPeakFraction`.
   */
  readonly maxDrawdownFraction: number;
  /**
   * The agent's own drawdown: largest fall of its equity from its running peak, over that peak
   * (fraction; `maxDrawdownFractionOfPeak`). What the `drawdown_agent` gate compares.
   */
  readonly maxDrawdownOfPeakFraction: number;
  /** Mean gross exposure / allocation. */
  readonly bankrollUtilization: number;
  /** Peak gross exposure / allocation. */
  readonly peakBankrollUtilization: number;
  readonly leverageBreaches: number;
  readonly exposureBreaches: number;
  readonly forcedReductions: number;
  readonly tradeCount: number;
}

/** The parent wallet's (whole cohort's) scores. */
export interface ParentScore {
  readonly bankrollUsd: number;
  readonly unallocatedCashUsd: number;
  readonly realizedPnlUsd: number;
  readonly unrealizedPnlUsd: number;
  readonly feesUsd: number;
  /** Σ agent total PnL (= final parent equity − bankroll). */
  readonly totalPnlUsd: number;
  /** totalPnl / bankroll. */
  readonly roi: number;
  readonly hourlyRoi: number[];
  readonly meanHourlyRoi: number;
  /**
   * Annualized Sharpe of the parent's 1-minute returns. Kept for the record only (no ranking,
   * gate or report reads it): one session of minute returns is not evidence.
   */
  readonly sharpe: number;
  /**
   * Volatility of the session: sample standard deviation of the parent's 1-minute returns ×
   * √(minutes in the session), a fraction per session (absent in scores saved before it).
   */
  readonly sessionVolatility?: number;
  readonly maxDrawdownUsd: number;
  /** maxDrawdownUsd / bankroll. */
  readonly maxDrawdownFraction: number;
  /** Mean Σ gross exposure / bankroll. */
  readonly meanUtilization: number;
  /** Peak Σ gross exposure / bankroll. */
  readonly peakUtilization: number;
  readonly leverageBreaches: number;
  readonly exposureBreaches: number;
  readonly forcedReductions: number;
  readonly tradeCount: number;
}

/** Scores of a cohort. Plain JSON. */
export interface CohortScore {
  readonly cohortId: string;
  readonly sessionDate: string;
  readonly bankrollUsd: number;
  readonly agentCount: number;
  readonly parent: ParentScore;
  /** In agent order (same as the simulation), each with its rank. */
  readonly agents: AgentScore[];
  /** The same rows sorted by rank. */
  readonly leaderboard: AgentScore[];
}

function checkCurve(curve: readonly number[], bars: number, field: string): void {
  if (!Array.isArray(curve) || curve.length !== bars) {
    throw new ValidationError(field, `must have one entry per timestamp (${bars})`);
  }
}

/** One agent's metrics before ranking (curves checked against the cohort's `bars`). */
function unrankedScore(result: SimulationResult, a: SimulationResult['agents'][number], i: number) {
  const bars = result.timestamps.length;
  const bankroll = result.bankrollUsd;
  const open = result.sessionOpenMs;
  checkCurve(a.equityCurve, bars, `agents[${i}].equityCurve`);
  checkCurve(a.grossExposureCurve, bars, `agents[${i}].grossExposureCurve`);
  const totalPnlUsd = a.realizedPnlUsd + a.unrealizedPnlUsd - a.feesUsd;
  const hourly = hourlyRoi(result.timestamps, a.equityCurve, a.allocationUsd, open);
  const dd = maxDrawdown(a.equityCurve, a.allocationUsd).maxDrawdownUsd;
  const minuteReturns = simpleReturns(a.equityCurve, a.allocationUsd);
  const use = utilization(a.grossExposureCurve, a.allocationUsd);
  return {
    agentId: a.agentId,
    genomeId: a.genome.id,
    family: a.genome.family,
    symbol: a.genome.symbol,
    allocationUsd: a.allocationUsd,
    realizedPnlUsd: a.realizedPnlUsd,
    unrealizedPnlUsd: a.unrealizedPnlUsd,
    feesUsd: a.feesUsd,
    totalPnlUsd,
    roi: returnOnInvestment(totalPnlUsd, a.allocationUsd),
    hourlyRoi: hourly,
    meanHourlyRoi: mean(hourly),
    sharpe: sharpeRatio(minuteReturns),
    sessionVolatility: sampleStdev(minuteReturns) * Math.sqrt(minuteReturns.length),
    maxDrawdownUsd: dd,
    maxDrawdownFraction: returnOnInvestment(dd, bankroll),
    maxDrawdownOfPeakFraction: maxDrawdownFractionOfPeak(a.equityCurve, a.allocationUsd),
    bankrollUtilization: use.mean,
    peakBankrollUtilization: use.peak,
    leverageBreaches: a.leverageBreaches,
    exposureBreaches: a.exposureBreaches,
    forcedReductions: a.forcedReductions ?? 0,
    tradeCount: a.tradeCount,
  };
}

/** The parent wallet's metrics: the agents' sums, and the parent's own curves against the bankroll. */
function parentScore(result: SimulationResult, agents: readonly AgentScore[]): ParentScore {
  const bankroll = result.bankrollUsd;
  const open = result.sessionOpenMs;
  let realized = 0;
  let unrealized = 0;
  let fees = 0;
  let leverageBreaches = 0;
  let exposureBreaches = 0;
  let forcedReductions = 0;
  let tradeCount = 0;
  for (const a of agents) {
    realized += a.realizedPnlUsd;
    unrealized += a.unrealizedPnlUsd;
    fees += a.feesUsd;
    leverageBreaches += a.leverageBreaches;
    exposureBreaches += a.exposureBreaches;
    forcedReductions += a.forcedReductions;
    tradeCount += a.tradeCount;
  }
  const totalPnlUsd = realized + unrealized - fees;
  const parentHourly = hourlyRoi(result.timestamps, result.parent.equityCurve, bankroll, open);
  const parentDd = maxDrawdown(result.parent.equityCurve, bankroll).maxDrawdownUsd;
  const parentUse = utilization(result.parent.grossExposureCurve, bankroll);
  const parentMinuteReturns = simpleReturns(result.parent.equityCurve, bankroll);
  return {
    bankrollUsd: bankroll,
    unallocatedCashUsd: result.parent.unallocatedCashUsd,
    realizedPnlUsd: realized,
    unrealizedPnlUsd: unrealized,
    feesUsd: fees,
    totalPnlUsd,
    roi: returnOnInvestment(totalPnlUsd, bankroll),
    hourlyRoi: parentHourly,
    meanHourlyRoi: mean(parentHourly),
    sharpe: sharpeRatio(parentMinuteReturns),
    sessionVolatility: sampleStdev(parentMinuteReturns) * Math.sqrt(parentMinuteReturns.length),
    maxDrawdownUsd: parentDd,
    maxDrawdownFraction: returnOnInvestment(parentDd, bankroll),
    meanUtilization: parentUse.mean,
    peakUtilization: parentUse.peak,
    leverageBreaches,
    exposureBreaches,
    forcedReductions,
    tradeCount,
  };
}

/**
 * Scores every agent and the parent wallet of a simulated cohort and ranks the agents.
 *
 * Per agent: PnL split, ROI on its allocation, hourly ROI, Sharpe of 1-minute returns,
 * maximum drawdown (USD and as a fraction of the parent bankroll), utilization of its
 * allocation, breach and trade counts. Parent: the same over the parent equity curve
 * (unallocated cash + Σ agent equity), against the bankroll.
 *
 * @throws ValidationError('agents[i].equityCurve' | ...) when a curve does not have one entry
 *   per timestamp (a corrupted or truncated artifact).
 */
export function scoreCohort(result: SimulationResult): CohortScore {
  const bars = result.timestamps.length;
  const bankroll = result.bankrollUsd;
  checkCurve(result.parent.equityCurve, bars, 'parent.equityCurve');
  checkCurve(result.parent.grossExposureCurve, bars, 'parent.grossExposureCurve');

  const unranked = result.agents.map((a, i) => unrankedScore(result, a, i));
  const leaderboard: AgentScore[] = rankLeaderboard(unranked);
  const rankOf = new Map(leaderboard.map((row) => [row.agentId, row]));
  const agents = unranked.map((row) => rankOf.get(row.agentId) as AgentScore);

  return {
    cohortId: result.cohortId,
    sessionDate: result.sessionDate,
    bankrollUsd: bankroll,
    agentCount: agents.length,
    parent: parentScore(result, agents),
    agents,
    leaderboard,
  };
}
