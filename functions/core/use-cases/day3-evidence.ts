/**
 * The Day-3 candidate's statistical evidence: its own track record (the sessions in which the
 * SAME genome traded, never a descendant standing in for it), the number of trials behind its
 * selection (every distinct genome evaluated since the pool was seeded), and the PSR / DSR /
 * minimum track record length of its session returns (`scoring/sharpe-inference.ts`).
 *
 * Frequency: one return per trading session, the genome's session PnL over its allocation.
 * The agents are flat overnight (every position is closed at the session's end), so a session
 * return is also its daily return.
 *
 * Walk-forward: the genome is frozen at its creation (its genes never change), and its
 * selection by the Day-3 ranking looks only at sessions up to a cutoff; every session after the
 * cutoff is out of sample (it played no part in the selection). The evidence states both
 * samples side by side (`inSample`, `outOfSample`) and the `oos` gate asks for a positive mean
 * return out of sample.
 */

import type { GenomePoolRepository } from '../../ports/genome-pool.js';
import type { Market } from '../calendar/market-calendar.js';
import {
  type BaselineComparison,
  type BaselineSession,
  compareWithBaselines,
} from '../gates/baseline.js';
import type { PaperSessionResult } from '../paper/track-record.js';
import {
  periodSharpe,
  returnMoments,
  type SharpeEvidence,
  sharpeEvidence,
} from '../scoring/sharpe-inference.js';
import type { CohortRecord } from './cohort-records.js';

/** One session of a genome's own track record. */
export interface TrackRecordSession {
  readonly sessionDate: string;
  /** The cohort of a simulated session; a paper session's promotion id. */
  readonly cohortId: string;
  /** The agent of a simulated session; a paper session's broker (`<name>:<account>`). */
  readonly agentId: string;
  /** Session PnL / allocation (a paper session: paper PnL / its capital slice), fraction. */
  readonly sessionReturn: number;
  /** Round trips (or fills where counted so) that session, count. */
  readonly tradeCount: number;
  /**
   * Where the return comes from: `cohort` (the simulated agent; absent means so) or `paper`
   * (the broker's fills of a paper session at parity, see {@link withPaperSessions}).
   */
  readonly source?: 'cohort' | 'paper';
}

/** The candidate's paper track record as the Day-3 evidence reads it (#11's record). */
export interface PaperEvidence {
  /** Paper sessions of the genome up to Day 3, count. */
  readonly sessions: number;
  /** Their dates, oldest first, `YYYY-MM-DD`. */
  readonly sessionDates: string[];
  /** Σ paper PnL from the broker's fills, USD. */
  readonly totalPaperPnlUsd: number;
  /** Σ (paper − reference simulation) PnL, USD. */
  readonly totalParityDifferenceUsd: number;
  /** Sessions at parity to the cent, count. */
  readonly paritySessions: number;
  /** Sessions whose paper and reference PnL differ by a cent or more, count. */
  readonly divergedSessions: number;
  /** Sessions halted by a breaker, count. */
  readonly haltedSessions: number;
  /** Sessions counted as returns in the evidence (at parity, reconciled), count. */
  readonly counted: number;
}

/** Whether a session played a part in the candidate's selection. */
export type SessionSample = 'in_sample' | 'out_of_sample';

/** A track-record session labelled in or out of sample. */
export interface LabelledSession extends TrackRecordSession {
  readonly sample: SessionSample;
}

/** Summary of the sessions of one sample. */
export interface SampleSummary {
  /** Sessions, count. */
  readonly n: number;
  /** Mean session return, fraction per session; null without sessions. */
  readonly meanReturn: number | null;
  /** Σ session returns, fraction (a simple, uncompounded total). */
  readonly totalReturn: number;
  /** Session dates, oldest first. */
  readonly sessionDates: string[];
}

/**
 * Labels each session: `out_of_sample` when its date is after `selectionCutoffDate` (the last
 * session the selection looked at), `in_sample` otherwise.
 */
export function labelSessions(
  sessions: readonly TrackRecordSession[],
  selectionCutoffDate: string,
): LabelledSession[] {
  return sessions.map((s) => ({
    ...s,
    sample: s.sessionDate > selectionCutoffDate ? 'out_of_sample' : 'in_sample',
  }));
}

/** {@link SampleSummary} of the sessions of one sample. */
export function summarizeSample(
  sessions: readonly LabelledSession[],
  sample: SessionSample,
): SampleSummary {
  const of = sessions.filter((s) => s.sample === sample);
  const total = of.reduce((t, s) => t + s.sessionReturn, 0);
  return {
    n: of.length,
    meanReturn: of.length > 0 ? total / of.length : null,
    totalReturn: total,
    sessionDates: of.map((s) => s.sessionDate),
  };
}

/**
 * Every genome's track record over the cohorts: one session per distinct session date (the
 * first cohort read of a date wins; a genome with several agents in one cohort, which only
 * happens in oversized cohorts, is represented by its best-ranked agent). Sessions oldest first.
 */
export function trackRecords(
  cohorts: readonly Pick<CohortRecord, 'sessionDate' | 'cohortId' | 'leaderboard'>[],
): Map<string, TrackRecordSession[]> {
  const ordered = [...cohorts].sort((a, b) =>
    a.sessionDate < b.sessionDate ? -1 : a.sessionDate > b.sessionDate ? 1 : 0,
  );
  const out = new Map<string, TrackRecordSession[]>();
  for (const cohort of ordered) {
    const rows = [...cohort.leaderboard].sort((a, b) => a.rank - b.rank);
    for (const row of rows) {
      const sessions = out.get(row.genomeId) ?? [];
      if (sessions.some((s) => s.sessionDate === cohort.sessionDate)) continue;
      sessions.push({
        sessionDate: cohort.sessionDate,
        cohortId: cohort.cohortId,
        agentId: row.agentId,
        sessionReturn: row.roi,
        tradeCount: row.tradeCount,
      });
      out.set(row.genomeId, sessions);
    }
  }
  return out;
}

/**
 * A genome's track record with its paper sessions (the paper-session workflow's results,
 * `paper/track-record.ts`) up to `lastDate`: a paper session at parity to the cent whose book
 * reconciled with the broker counts as one session return (paper PnL / its capital slice,
 * `source: 'paper'`); it replaces the simulated session of the same date (one return per
 * session date: the broker's fills, not the simulator's, for a day the genome traded both).
 * A diverged or unreconciled paper session is reported ({@link PaperEvidence}), never counted:
 * its fills are not the strategy the evidence describes. Sessions oldest first.
 */
export function withPaperSessions(
  sessions: readonly TrackRecordSession[],
  paper: readonly PaperSessionResult[],
  lastDate: string,
): { sessions: TrackRecordSession[]; paper: PaperEvidence } {
  const upTo = paper.filter((p) => p.date <= lastDate);
  const usable = new Map<string, PaperSessionResult>();
  for (const p of upTo) {
    if (p.parity !== 'exact' || !p.reconciliationClean || usable.has(p.date)) continue;
    usable.set(p.date, p);
  }
  const merged: TrackRecordSession[] = sessions.filter((s) => !usable.has(s.sessionDate));
  for (const p of usable.values()) {
    merged.push({
      sessionDate: p.date,
      cohortId: p.promotionId,
      agentId: p.broker,
      sessionReturn: p.dailyReturn,
      tradeCount: p.roundTrips,
      source: 'paper',
    });
  }
  merged.sort((a, b) =>
    a.sessionDate < b.sessionDate ? -1 : a.sessionDate > b.sessionDate ? 1 : 0,
  );
  return {
    sessions: merged,
    paper: {
      sessions: upTo.length,
      sessionDates: upTo.map((p) => p.date),
      totalPaperPnlUsd: upTo.reduce((t, p) => t + p.paperPnlUsd, 0),
      totalParityDifferenceUsd: upTo.reduce((t, p) => t + p.parityDifferenceUsd, 0),
      paritySessions: upTo.filter((p) => p.parity === 'exact').length,
      divergedSessions: upTo.filter((p) => p.parity === 'diverged').length,
      haltedSessions: upTo.filter((p) => p.halt !== null).length,
      counted: usable.size,
    },
  };
}

/**
 * Distinct genomes evaluated from generation 0 through `generation` of `market`'s pool (each
 * market breeds its own pool, so a market's DSR counts only its own trials): the seeded
 * pool's genomes plus every non-elite child of each learning cycle (children are new genomes:
 * the cycle redraws a child identical to a parent or already in the pool; elites carry over
 * unchanged and are not new trials). Uses the count persisted with a generation (`trials`)
 * when present, else walks back and persists nothing.
 *
 * @returns the count, or null when the pool has no such generation.
 */
export async function trialsThrough(
  pool: GenomePoolRepository,
  market: Market,
  generation: number,
): Promise<number | null> {
  let added = 0;
  for (let g = generation; g >= 0; g--) {
    const gen = await pool.getGeneration(market, g);
    if (!gen) return null;
    if (typeof gen.trials === 'number') return gen.trials + added;
    if (g === 0) return gen.genomes.length + added;
    added += gen.lineage.filter((l) => l.operator !== 'elite').length;
  }
  return null;
}

/**
 * The trials count to persist with a new generation: the previous count plus the generation's
 * non-elite children (see {@link trialsThrough}).
 */
export function nextTrials(
  previousTrials: number,
  lineage: readonly { readonly operator: string }[],
): number {
  return previousTrials + lineage.filter((l) => l.operator !== 'elite').length;
}

/** Trading sessions in a US equity year (the √252 annualization of daily Sharpe ratios). */
export const SESSIONS_PER_YEAR = 252;

/**
 * The daily (session) Sharpe ratio annualized by √252, only on at least `minSessions`
 * sessions (Lo 2002's √T scaling of i.i.d. returns); null below: a handful of sessions
 * annualized is a number without meaning.
 */
export function annualizedDailySharpe(
  sharpePerSession: number,
  sessions: number,
  minSessions: number,
): number | null {
  return sessions >= minSessions && Number.isFinite(sharpePerSession)
    ? sharpePerSession * Math.sqrt(SESSIONS_PER_YEAR)
    : null;
}

/** The candidate's evidence and the track record it rests on. */
export interface CandidateEvidence extends SharpeEvidence {
  readonly genomeId: string;
  /** The genome's own sessions, oldest first, each labelled in or out of sample. */
  readonly sessions: LabelledSession[];
  /** The last session date the candidate's selection looked at, `YYYY-MM-DD`. */
  readonly selectionCutoffDate: string;
  /** Sessions on or before the cutoff (the selection saw them). */
  readonly inSample: SampleSummary;
  /** Sessions after the cutoff (walk-forward: the selection never saw them). */
  readonly outOfSample: SampleSummary;
  /**
   * Sharpe ratio per session × √252, or null with fewer than `minEvidenceSessions` sessions
   * (see {@link annualizedDailySharpe}).
   */
  readonly annualizedSharpe: number | null;
  /** Sessions required before the Sharpe ratio is annualized (`minEvidenceSessions`), count. */
  readonly minSessionsToAnnualize: number;
  /** The genome's paper sessions up to the last reviewed session ({@link withPaperSessions}). */
  readonly paper: PaperEvidence;
  /**
   * The out-of-sample sessions beside the cohort baselines of the same sessions (the
   * `baseline` gate); null when the candidate's symbol or the baselines were not given.
   */
  readonly baselines: BaselineComparison | null;
}

/**
 * The evidence of one genome: the PSR / DSR of its own session returns, N = `trials`, V[SR]
 * from the per-session Sharpe ratios of every genome with at least two sessions in the cohorts
 * read (see `sharpeEvidence` for the fallback). The PSR / DSR use every session of the genome's
 * own record (the DSR deflates for the selection among `trials`); `inSample` / `outOfSample`
 * split them at `selectionCutoffDate`.
 *
 * @param confidence α of the minimum track record lengths (the `minPsr` threshold).
 */
export function candidateEvidence(input: {
  readonly genomeId: string;
  /** Last session date the selection looked at, `YYYY-MM-DD`. */
  readonly selectionCutoffDate: string;
  readonly records: ReadonlyMap<string, readonly TrackRecordSession[]>;
  readonly trials: number;
  readonly confidence: number;
  /** Sessions required before annualizing (`minEvidenceSessions`). */
  readonly minSessionsToAnnualize: number;
  /** The genome's paper session results (`readPaperTrackRecord`); absent: none read. */
  readonly paper?: readonly PaperSessionResult[];
  /** The last reviewed session (Day 3), `YYYY-MM-DD`: later paper sessions are not read. */
  readonly lastSessionDate?: string;
  /** The genome's symbol (the buy-and-hold baseline it must beat); absent: no comparison. */
  readonly symbol?: string;
  /** The baselines recorded for a session of the record (null when none were). */
  readonly baselinesOf?: (session: TrackRecordSession) => readonly BaselineSession[] | null;
}): CandidateEvidence {
  const own = input.records.get(input.genomeId) ?? [];
  const lastDate = input.lastSessionDate ?? own.at(-1)?.sessionDate ?? input.selectionCutoffDate;
  const merged = withPaperSessions(own, input.paper ?? [], lastDate);
  const sessions = labelSessions(merged.sessions, input.selectionCutoffDate);
  const trialSharpes: number[] = [];
  for (const s of input.records.values()) {
    if (s.length < 2) continue;
    const m = returnMoments(s.map((x) => x.sessionReturn));
    if (m.stdev > 0) trialSharpes.push(periodSharpe(m));
  }
  const stats = sharpeEvidence({
    returns: sessions.map((s) => s.sessionReturn),
    frequency: 'session',
    trials: Math.max(input.trials, input.records.size),
    trialSharpes,
    confidence: input.confidence,
  });
  return {
    genomeId: input.genomeId,
    sessions,
    selectionCutoffDate: input.selectionCutoffDate,
    inSample: summarizeSample(sessions, 'in_sample'),
    outOfSample: summarizeSample(sessions, 'out_of_sample'),
    ...stats,
    annualizedSharpe: annualizedDailySharpe(stats.sharpe, stats.n, input.minSessionsToAnnualize),
    minSessionsToAnnualize: input.minSessionsToAnnualize,
    paper: merged.paper,
    baselines: baselinesOutOfSample(sessions, input.symbol, input.baselinesOf),
  };
}

function baselinesOutOfSample(
  sessions: readonly LabelledSession[],
  symbol: string | undefined,
  baselinesOf: ((s: TrackRecordSession) => readonly BaselineSession[] | null) | undefined,
): BaselineComparison | null {
  if (symbol === undefined || !baselinesOf) return null;
  return compareWithBaselines(
    symbol,
    sessions
      .filter((s) => s.sample === 'out_of_sample')
      .map((s) => ({
        sessionDate: s.sessionDate,
        sessionReturn: s.sessionReturn,
        baselines: baselinesOf(s),
      })),
  );
}

/**
 * The baselines of a track-record session: those of its cohort, or for a paper session (whose
 * `cohortId` is a promotion id) those of a cohort of its date; null when none was recorded.
 */
export function baselinesFromCohorts(
  cohorts: readonly Pick<CohortRecord, 'cohortId' | 'sessionDate' | 'baselines'>[],
): (session: TrackRecordSession) => readonly BaselineSession[] | null {
  const byId = new Map(cohorts.map((c) => [c.cohortId, c]));
  const byDate = new Map<string, readonly BaselineSession[]>();
  for (const c of cohorts) {
    if (c.baselines && c.baselines.length > 0 && !byDate.has(c.sessionDate)) {
      byDate.set(c.sessionDate, c.baselines);
    }
  }
  return (s) => {
    const own = byId.get(s.cohortId)?.baselines;
    if (own && own.length > 0) return own;
    return byDate.get(s.sessionDate) ?? null;
  };
}
