/**
 * The daily promotion's `baseline` gate: a genome whose out-of-sample record is not above the
 * best baseline's is not promoted again (docs/evidence.md, "Baselines").
 *
 * Out of sample, for a daily promotion, is the genome's paper track record: each paper
 * session traded after the decision that staged it, so none played a part in its selection.
 * The sessions counted are those the Day-3 evidence counts (`withPaperSessions`,
 * day3-evidence.ts): at parity to the cent, reconciled, one per date, up to the promotion's
 * cohort session. Each is compared with the baselines (`flat`, buy-and-hold of the genome's
 * symbol) recorded by a cohort of the same market on the same date (`baselinesFromCohorts`),
 * by the Day-3 rule (`baselineGate`, gates/baseline.ts): the candidate's mean session return
 * must be strictly above the best baseline's mean over the same dates; a date without a
 * recorded baseline fails closed.
 *
 * With fewer than `minOutOfSampleSessions` counted paper sessions (a challenger that never
 * paper-traded, an incumbent on its first day) there is nothing to judge yet: the gate's
 * verdict is `not_judged` (never a pass: counted and shown apart), which does not block the
 * promotion, since paper sessions are how a genome builds the record (the Day-3 go/no-go's
 * evidence gates ask for more). The Day-3 review does not run this gate; its own `baseline`
 * evidence gate judges the whole out-of-sample record.
 */
import type { Market } from '../calendar/market-calendar.js';
import { type BaselineComparison, baselineGate, compareWithBaselines } from '../gates/baseline.js';
import type { GateResult } from '../gates/types.js';
import { readPaperTrackRecord } from '../paper/track-record.js';
import type { CohortRecord } from './cohort-records.js';
import { baselinesFromCohorts, withPaperSessions } from './day3-evidence.js';
import type { PromotionDeps } from './promotion.js';
import type { StagedPromotion } from './promotion-records.js';

/** Cohorts read (newest first) to find the baselines of the paper sessions' dates, count. */
const BASELINE_SCAN_COHORTS = 60;

/** What the daily `baseline` gate judged: the comparison, or null when too few sessions. */
export interface DailyBaselineCheck {
  readonly gate: GateResult;
  /** The paper sessions compared with the baselines; null when there were too few to judge. */
  readonly comparison: BaselineComparison | null;
}

/**
 * The daily promotion's `baseline` gate (see the module comment).
 *
 * @param market the promotion's market (the cohorts whose baselines count).
 * @throws TransientError (storage), ValidationError (a stored record that fails its schema).
 */
export async function dailyBaselineCheck(
  deps: Pick<PromotionDeps, 'paperTrackRecord' | 'cohorts' | 'gateThresholds'>,
  p: Pick<StagedPromotion, 'genome' | 'sessionDate'>,
  market: Market,
): Promise<DailyBaselineCheck> {
  const record = await readPaperTrackRecord(deps.paperTrackRecord, p.genome.id);
  const { sessions } = withPaperSessions([], record.sessions, p.sessionDate);
  const min = deps.gateThresholds.minOutOfSampleSessions;
  const label = `daily promotion, out of sample = genome ${p.genome.id}'s paper sessions at parity`;
  if (!Number.isFinite(min)) {
    const gate = baselineGate(null);
    return {
      gate: { ...gate, reason: `threshold minOutOfSampleSessions missing: failing closed` },
      comparison: null,
    };
  }
  if (sessions.length < min) {
    return {
      gate: {
        gate: 'baseline',
        verdict: 'not_judged',
        observed: `${sessions.length} session(s)`,
        threshold: `${min} to judge`,
        unit: 'out-of-sample sessions',
        reason: `${label}: ${sessions.length} < ${min} required to compare with the baselines; not judged yet (paper sessions build the record; the Day-3 go/no-go judges it)`,
        breakerAction: 'none',
      },
      comparison: null,
    };
  }
  const dates = new Set(sessions.map((s) => s.sessionDate));
  const cohorts: CohortRecord[] = [];
  for (const c of await deps.cohorts.list(BASELINE_SCAN_COHORTS)) {
    if (!dates.has(c.sessionDate) || (c.market ?? 'equity-usa') !== market) continue;
    cohorts.push(await deps.cohorts.get(c.cohortId));
  }
  const baselinesOf = baselinesFromCohorts(cohorts);
  const comparison = compareWithBaselines(
    p.genome.symbol,
    sessions.map((s) => ({
      sessionDate: s.sessionDate,
      sessionReturn: s.sessionReturn,
      baselines: baselinesOf(s),
    })),
  );
  const gate = baselineGate(comparison);
  return { gate: { ...gate, reason: `${label}: ${gate.reason}` }, comparison };
}
