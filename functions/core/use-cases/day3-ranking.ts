/**
 * Day-3 lineage ranking (pure): which genome the go/no-go review puts forward, walk-forward
 * (docs/evidence.md), its summary figures and its micro-live capital slice.
 */
import type { Genome } from '../cohort/genome.js';
import { baselineSummary } from '../gates/baseline.js';
import { sliceOfBankroll } from '../risk/capital-slice.js';
import { mean } from '../scoring/metrics.js';
import type { CandidateEvidence } from './day3-evidence.js';
import type { CandidateMetrics, LineageDay, RankedLineage } from './day3-records.js';

/** One agent of one daily cohort, as the lineage tracker reads it. */
export interface DayAgent {
  readonly agentId: string;
  readonly genome: Pick<Genome, 'id' | 'parentIds' | 'family' | 'symbol'>;
  /** Leaderboard rank that day (1 = best). */
  readonly rank: number;
  readonly allocationUsd: number;
  readonly totalPnlUsd: number;
  readonly roi: number;
  /** The agent's drawdown from its own peak equity, fraction. */
  readonly maxDrawdownFraction: number;
  readonly tradeCount: number;
}

/** One daily cohort, as the lineage tracker reads it. */
export interface DayCohort {
  readonly sessionDate: string;
  readonly cohortId: string;
  readonly simulationKey: string;
  readonly agents: readonly DayAgent[];
}

/**
 * Ranks the Day-3 candidates, walk-forward (docs/evidence.md). Days oldest first; the last one
 * is Day 3.
 *
 * A candidate is ONE genome (same genome id: a content hash of its family, symbol and genes):
 * its days are the sessions in which that genome itself traded, never a descendant standing in
 * for it. When a genome has several agents on one day (oversized cohorts), its best-ranked
 * agent stands for it that day. Candidates are the genomes that traded on Day 3 and on at
 * least one earlier reviewed day (elites the learning cycles carried over unchanged).
 *
 * Walk-forward: the ranking looks only at the sessions before Day 3 (in sample); Day 3 played
 * no part in the selection and is the candidate's out-of-sample session (`sample` of each day,
 * `outOfSampleMeanRoi`), judged by the `oos` gate.
 *
 * Order: candidates whose in-sample sessions together reached `minTradeCount` trades
 * (eligible) first; then the higher mean in-sample session return, then the smaller worst
 * in-sample drawdown (from the agent's own peak), then genome id (ascending, deterministic).
 * No Sharpe ratio of one session's minute returns. Ranks start at 1.
 *
 * @param minTradeCount minimum trades over the in-sample sessions, count (the gate threshold
 *   `minTradeCount`).
 */
export function rankLineages(days: readonly DayCohort[], minTradeCount: number): RankedLineage[] {
  const lastDay = days.at(-1);
  if (!lastDay || days.length < 2) return [];
  const perDay = bestAgentPerGenome(days);
  const last = perDay.at(-1) as Map<string, DayAgent>;
  const rows: Omit<RankedLineage, 'rank'>[] = [];
  for (const genomeId of last.keys()) {
    const row = lineageRow(days, perDay, genomeId, minTradeCount, (day) =>
      day === lastDay ? 'out_of_sample' : 'in_sample',
    );
    if (row && row.inSampleSessions > 0) rows.push(row);
  }
  const worstInSampleDrawdown = (r: Omit<RankedLineage, 'rank'>) =>
    Math.max(
      0,
      ...r.days.filter((d) => d.sample === 'in_sample').map((d) => d.maxDrawdownFraction),
    );
  rows.sort(
    (a, b) =>
      Number(b.eligible) - Number(a.eligible) ||
      b.inSampleMeanRoi - a.inSampleMeanRoi ||
      worstInSampleDrawdown(a) - worstInSampleDrawdown(b) ||
      (a.lineageId < b.lineageId ? -1 : a.lineageId > b.lineageId ? 1 : 0),
  );
  return rows.map((r, i) => ({ rank: i + 1, ...r }));
}

/**
 * The paper-slot holder as a Day-3 candidate (not ranked: `rank` 0): ONE genome, its own
 * sessions among the reviewed `days` (oldest first), labelled walk-forward at
 * `selectionCutoffDate` (the cohort session the decision that put it in the slot looked at;
 * every later session is out of sample). Its last day is the latest reviewed session it traded
 * (the agent the gates and a micro-live slice use), not necessarily Day 3.
 *
 * @returns null when the genome traded on none of the reviewed days.
 */
export function holderLineage(
  days: readonly DayCohort[],
  genomeId: string,
  selectionCutoffDate: string,
  minTradeCount: number,
): RankedLineage | null {
  const row = lineageRow(days, bestAgentPerGenome(days), genomeId, minTradeCount, (day) =>
    day.sessionDate > selectionCutoffDate ? 'out_of_sample' : 'in_sample',
  );
  return row ? { rank: 0, ...row } : null;
}

/** Per day, each genome's best-ranked agent (oversized cohorts hold a genome more than once). */
function bestAgentPerGenome(days: readonly DayCohort[]): Map<string, DayAgent>[] {
  return days.map((day) => {
    const best = new Map<string, DayAgent>();
    for (const agent of [...day.agents].sort((a, b) => a.rank - b.rank)) {
      if (!best.has(agent.genome.id)) best.set(agent.genome.id, agent);
    }
    return best;
  });
}

/** One genome's reviewed sessions and summary, each day labelled by `sampleOf`; null: none. */
function lineageRow(
  days: readonly DayCohort[],
  perDay: readonly Map<string, DayAgent>[],
  genomeId: string,
  minTradeCount: number,
  sampleOf: (day: DayCohort) => LineageDay['sample'],
): Omit<RankedLineage, 'rank'> | null {
  const genomeDays: LineageDay[] = [];
  let genome: DayAgent['genome'] | null = null;
  days.forEach((day, i) => {
    const agent = perDay[i]?.get(genomeId);
    if (!agent) return;
    genome = agent.genome;
    genomeDays.push({
      sessionDate: day.sessionDate,
      cohortId: day.cohortId,
      agentId: agent.agentId,
      genomeId,
      allocationUsd: agent.allocationUsd,
      totalPnlUsd: agent.totalPnlUsd,
      roi: agent.roi,
      maxDrawdownFraction: agent.maxDrawdownFraction,
      tradeCount: agent.tradeCount,
      simulationKey: day.simulationKey,
      sample: sampleOf(day),
    });
  });
  const g = genome as DayAgent['genome'] | null;
  if (!g) return null;
  const inSample = genomeDays.filter((d) => d.sample === 'in_sample');
  const outOfSample = genomeDays.filter((d) => d.sample === 'out_of_sample');
  return {
    lineageId: genomeId,
    family: g.family,
    symbol: g.symbol,
    inSampleMeanRoi: mean(inSample.map((d) => d.roi)),
    inSampleSessions: inSample.length,
    outOfSampleMeanRoi: mean(outOfSample.map((d) => d.roi)),
    outOfSampleSessions: outOfSample.length,
    minDailyTrades: inSample.length > 0 ? Math.min(...inSample.map((d) => d.tradeCount)) : 0,
    eligible: inSample.reduce((n, d) => n + d.tradeCount, 0) >= minTradeCount,
    days: genomeDays,
  };
}

/** The micro-live capital slice: `sliceOfBankroll` with the micro-live fraction and floor. */
export function microLiveSliceUsd(
  bankrollUsd: number,
  microLive: { readonly fraction: number; readonly minUsd: number },
  maxExposureFraction = 1,
): number {
  return sliceOfBankroll(bankrollUsd, microLive, maxExposureFraction);
}

/**
 * The approver's summary figures of a candidate over its reviewed sessions: total PnL (USD),
 * return = total PnL / mean daily allocation (fraction), worst daily drawdown from the agent's
 * own peak, total trades, sessions; in-sample and out-of-sample mean session returns side by
 * side; and the Sharpe ratio of the genome's own track record (`evidence`): per session, not
 * annualized, with its sample size, and annualized by √252 only when the evidence says so
 * (at least `minEvidenceSessions` sessions). No minute Sharpe. With the evidence's paper
 * record: the genome's paper sessions, their paper PnL (USD) and parity counts. The in-sample
 * and out-of-sample means are the evidence's (paper sessions in) when it states them, else the
 * reviewed days'. With the evidence's baseline comparison: the candidate's out-of-sample mean
 * beside the best baseline's, both sample sizes (`baselineSummary`).
 */
export function lineageMetrics(
  candidate: Pick<RankedLineage, 'days' | 'inSampleMeanRoi' | 'outOfSampleMeanRoi'>,
  evidence: Pick<CandidateEvidence, 'sharpe' | 'n' | 'annualizedSharpe'> &
    Partial<Pick<CandidateEvidence, 'paper' | 'baselines' | 'inSample' | 'outOfSample'>>,
): CandidateMetrics {
  const paper = evidence.paper;
  const days = candidate.days;
  const pnl = days.reduce((s, d) => s + d.totalPnlUsd, 0);
  const allocation = mean(days.map((d) => d.allocationUsd));
  const inSample = days.filter((d) => d.sample === 'in_sample').length;
  // The evidence's samples when given (its paper sessions replace the simulated ones): the
  // figures the `oos` gate judged.
  const is = evidence.inSample;
  const oos = evidence.outOfSample;
  const samples =
    is && oos
      ? {
          inSampleRoi: is.meanReturn ?? 0,
          inSampleSessions: is.n,
          outOfSampleRoi: oos.meanReturn ?? 0,
          outOfSampleSessions: oos.n,
        }
      : {
          inSampleRoi: candidate.inSampleMeanRoi,
          inSampleSessions: inSample,
          outOfSampleRoi: candidate.outOfSampleMeanRoi,
          outOfSampleSessions: days.length - inSample,
        };
  return {
    totalPnlUsd: pnl,
    roi: allocation > 0 ? pnl / allocation : 0,
    sharpe: Number.isFinite(evidence.sharpe) ? evidence.sharpe : 0,
    sharpeSessions: evidence.n,
    annualizedSharpe: evidence.annualizedSharpe,
    maxDrawdownFraction: Math.max(0, ...days.map((d) => d.maxDrawdownFraction)),
    tradeCount: days.reduce((s, d) => s + d.tradeCount, 0),
    sessions: days.length,
    ...samples,
    ...(evidence.baselines !== undefined
      ? { baseline: evidence.baselines ? baselineSummary(evidence.baselines) : null }
      : {}),
    ...(paper
      ? {
          paperSessions: paper.sessions,
          paperPnlUsd: paper.totalPaperPnlUsd,
          paperParitySessions: paper.paritySessions,
          paperCountedSessions: paper.counted,
        }
      : {}),
  };
}
