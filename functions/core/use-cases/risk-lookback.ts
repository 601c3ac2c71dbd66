/**
 * The VaR / ES lookback of a promoted genome: its own recent sessions, so that the daily
 * promotion and the Day-3 review judge risk on the same sample rule (docs/evidence.md, "Risk on
 * the strategy's own P&L": the lookback pooled AND the latest session, the worse one judged).
 */
import type { CohortRepository } from '../../ports/cohort-repository.js';
import type { CohortRecord } from './cohort-records.js';

/**
 * Sessions in a promotion's VaR / ES lookback, count: the promotion's own session and the
 * sessions of the two cohorts before it, the same three-session window the Day-3 review reads
 * (its three reviewed cohorts).
 */
export const RISK_LOOKBACK_SESSIONS = 3;

/** One session of the lookback: the genome's agent in one cohort. */
export interface RiskSession {
  readonly cohortId: string;
  readonly agentId: string;
}

/**
 * The genome's lookback, oldest first, ending with the promoted agent in its own cohort: among
 * the complete cohorts of the same market on the `sessions − 1` session dates before the
 * cohort's (the newest cohort of each date), those in which the SAME genome (same genome id)
 * traded, its best-ranked agent there. A date on which the genome did not run is skipped, never
 * replaced by a descendant (a lineage's evidence is one genome, #13 item 4).
 *
 * @param sessions lookback length in sessions, ≥ 1 (default {@link RISK_LOOKBACK_SESSIONS}).
 * @throws NotFoundError when a listed cohort cannot be read (the repository's own error).
 */
export async function riskLookbackOf(
  cohorts: Pick<CohortRepository, 'list' | 'get'>,
  cohort: Pick<CohortRecord, 'cohortId' | 'sessionDate' | 'market'>,
  agentId: string,
  genomeId: string,
  sessions: number = RISK_LOOKBACK_SESSIONS,
): Promise<RiskSession[]> {
  const market = cohort.market ?? 'equity-usa';
  const earlier = new Map<string, string>();
  for (const c of await cohorts.list(20 * sessions)) {
    if (earlier.size >= sessions - 1) break;
    if (c.partialUpToIso !== undefined || (c.market ?? 'equity-usa') !== market) continue;
    if (c.sessionDate >= cohort.sessionDate || earlier.has(c.sessionDate)) continue;
    earlier.set(c.sessionDate, c.cohortId);
  }
  const found: RiskSession[] = [];
  for (const [, cohortId] of [...earlier].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const record = await cohorts.get(cohortId);
    const row = record.leaderboard
      .filter((r) => r.genomeId === genomeId)
      .sort((a, b) => a.rank - b.rank)[0];
    if (row) found.push({ cohortId, agentId: row.agentId });
  }
  return [...found, { cohortId: cohort.cohortId, agentId }];
}
