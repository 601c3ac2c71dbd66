/**
 * Adapts persisted cohorts to the learning cycle's input: one {@link ScoredGenomeResult} per
 * leaderboard row (one agent), attributed to the agent's genome.
 */
import type { ScoredGenomeResult } from './fitness.js';

/** The figures of one leaderboard row the learning cycle reads (an `AgentRow` or `AgentScore`). */
export interface LeaderboardRowLike {
  readonly genomeId: string;
  readonly totalPnlUsd: number;
  readonly roi: number;
  readonly maxDrawdownFraction: number;
  readonly tradeCount: number;
}

/** What the adapter needs of a cohort: a `CohortRecord` has all of it. */
export interface ScoredCohortLike {
  /** `YYYY-MM-DD`. */
  readonly sessionDate: string;
  /** UTC ISO-8601 completion time of the cohort. */
  readonly completedAtIso: string;
  readonly leaderboard: readonly LeaderboardRowLike[];
}

/**
 * One learning-cycle result per leaderboard row of each cohort, in cohort then rank order.
 * Example: a persisted 30-agent `CohortRecord` → 30 results with its sessionDate and
 * completedAtIso.
 */
export function scoredResultsFromCohorts(
  cohorts: readonly ScoredCohortLike[],
): ScoredGenomeResult[] {
  return cohorts.flatMap((c) =>
    c.leaderboard.map((row) => ({
      genomeId: row.genomeId,
      fitnessInputs: {
        totalPnlUsd: row.totalPnlUsd,
        roi: row.roi,
        maxDrawdownFraction: row.maxDrawdownFraction,
        tradeCount: row.tradeCount,
      },
      sessionDate: c.sessionDate,
      completedAtIso: c.completedAtIso,
    })),
  );
}
