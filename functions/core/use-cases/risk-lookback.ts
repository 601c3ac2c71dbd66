/**
 * The VaR / ES lookback of a promoted genome: its own recent sessions, so that the daily
 * promotion and the Day-3 review judge risk on the same sample rule (docs/evidence.md, "Risk on
 * the strategy's own P&L": the lookback pooled AND the latest session, the worse one judged).
 */
import type { CohortRepository } from '../../ports/cohort-repository.js';
import { ValidationError } from '../errors.js';
import { DEFAULT_GATE_THRESHOLDS } from '../gates/thresholds.js';
import type { CohortRecord } from './cohort-records.js';

/**
 * The default VaR / ES lookback, sessions (3): the stage's value is `gates.riskLookbackSessions`
 * (`GateThresholds`), which the promotion and the Day-3 review pass to {@link riskLookbackOf}.
 * The paper slot's challenger evidence (`promotion-slot.ts`) still reads this default.
 */
export const RISK_LOOKBACK_SESSIONS = DEFAULT_GATE_THRESHOLDS.riskLookbackSessions;

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
 * @param sessions lookback length in sessions, an integer ≥ 1: the stage's
 *   `gates.riskLookbackSessions` (`GateThresholds`, default 3).
 * @throws ValidationError('riskLookbackSessions') when `sessions` is not an integer ≥ 1.
 * @throws NotFoundError when a listed cohort cannot be read (the repository's own error).
 */
export async function riskLookbackOf(
  cohorts: Pick<CohortRepository, 'list' | 'get'>,
  cohort: Pick<CohortRecord, 'cohortId' | 'sessionDate' | 'market'>,
  agentId: string,
  genomeId: string,
  sessions: number,
): Promise<RiskSession[]> {
  if (!Number.isInteger(sessions) || sessions < 1) {
    throw new ValidationError('riskLookbackSessions', `must be an integer >= 1, got ${sessions}`);
  }
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
