/**
 * The daily promotion's `baseline` gate (`use-cases/promotion-baseline.ts`): a genome whose
 * paper sessions (out of sample) are not above the best baseline of the same dates is
 * refused, with both figures in the gate; too few sessions are `not_judged` (never a pass, does
 * not block: no gate failed); a date
 * without a recorded baseline fails closed.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_GATE_THRESHOLDS } from '../../../functions/core/gates/thresholds.js';
import {
  countVerdicts,
  noGateFailed,
  strongestAction,
} from '../../../functions/core/gates/types.js';
import type { PaperSessionResult } from '../../../functions/core/paper/track-record.js';
import type {
  CohortRecord,
  CohortSummary,
} from '../../../functions/core/use-cases/cohort-records.js';
import { dailyBaselineCheck } from '../../../functions/core/use-cases/promotion-baseline.js';

const GENOME = 'g0-aaaaaaaaaaaa';

function paper(date: string, dailyReturn: number, extra: Partial<PaperSessionResult> = {}) {
  return {
    genomeId: GENOME,
    promotionId: `pr-${date}`,
    date,
    symbol: 'IBM',
    family: 'momentum',
    broker: 'simulated:paper-1',
    capitalUsd: 100,
    paperPnlUsd: dailyReturn * 100,
    referencePnlUsd: dailyReturn * 100,
    parityDifferenceUsd: 0,
    parity: 'exact' as const,
    dailyReturn,
    filledOrders: 4,
    roundTrips: 2,
    cohortPnlUsd: 0,
    halt: null,
    reconciliationClean: true,
    recordedAtIso: `${date}T20:05:00.000Z`,
    ...extra,
  } satisfies PaperSessionResult;
}

/** A cohort of `date` whose IBM buy-and-hold returned `ibm` (flat 0), or none recorded. */
function cohort(date: string, ibm: number | null, market?: 'crypto'): CohortRecord {
  return {
    cohortId: `coh-${date}${market ? '-crypto' : ''}`,
    sessionDate: date,
    ...(market ? { market } : {}),
    ...(ibm === null
      ? {}
      : {
          baselines: [
            { baseline: 'flat', symbol: null, sessionReturn: 0 },
            { baseline: 'buy_and_hold', symbol: 'IBM', sessionReturn: ibm },
          ],
        }),
  } as unknown as CohortRecord;
}

function deps(sessions: PaperSessionResult[], cohorts: CohortRecord[], min = 1) {
  return {
    paperTrackRecord: { list: async (id: string) => sessions.filter((s) => s.genomeId === id) },
    cohorts: {
      list: async () =>
        cohorts.map(
          (c) =>
            ({
              cohortId: c.cohortId,
              sessionDate: c.sessionDate,
              market: c.market,
            }) as CohortSummary,
        ),
      get: async (id: string) => cohorts.find((c) => c.cohortId === id) as CohortRecord,
    } as never,
    gateThresholds: { ...DEFAULT_GATE_THRESHOLDS, minOutOfSampleSessions: min },
  };
}

const promotion = {
  genome: {
    id: GENOME,
    family: 'momentum',
    symbol: 'IBM',
    generation: 0,
    parentIds: [],
    params: {},
  },
  sessionDate: '2013-10-09',
};

describe('daily baseline gate', () => {
  it('refuses an incumbent whose paper session lost against flat, with both figures', async () => {
    // Prepare: the shared week's shape: -0.127 % on 2013-10-08; flat 0 %, buy-and-hold -0.5 %
    const d = deps([paper('2013-10-08', -0.00127)], [cohort('2013-10-08', -0.005)]);
    // Act
    const { gate, comparison } = await dailyBaselineCheck(d, promotion, 'equity-usa');
    // Assess
    expect(gate).toMatchObject({
      gate: 'baseline',
      verdict: 'fail',
      observed: -0.00127,
      threshold: 0,
      unit: 'fraction per session',
    });
    expect(gate.reason).toMatch(
      /^daily promotion, out of sample = genome g0-aaaaaaaaaaaa's paper sessions at parity: out of sample n=1 \[2013-10-08\]/,
    );
    expect(gate.reason).toContain('does not beat the best baseline (0%)');
    expect(comparison?.baselines.map((b) => [b.baseline, b.meanReturn])).toEqual([
      ['flat', 0],
      ['buy_and_hold', -0.005],
    ]);
  });

  it('passes a record above the better baseline on the same dates, and refuses one below buy-and-hold', async () => {
    const sessions = [paper('2013-10-07', 0.004), paper('2013-10-08', 0.002)];
    const above = deps(sessions, [cohort('2013-10-07', 0.001), cohort('2013-10-08', 0.002)]);
    expect((await dailyBaselineCheck(above, promotion, 'equity-usa')).gate).toMatchObject({
      verdict: 'pass',
      observed: 0.003,
      threshold: 0.0015,
    });
    const below = deps(sessions, [cohort('2013-10-07', 0.006), cohort('2013-10-08', 0.004)]);
    expect((await dailyBaselineCheck(below, promotion, 'equity-usa')).gate).toMatchObject({
      verdict: 'fail',
      observed: 0.003,
      threshold: 0.005,
    });
  });

  it('does not judge fewer sessions than minOutOfSampleSessions: not_judged, which does not block (a challenger that never paper-traded is promoted)', async () => {
    // Act
    const none = await dailyBaselineCheck(deps([], []), promotion, 'equity-usa');
    const short = await dailyBaselineCheck(
      deps([paper('2013-10-08', -0.01)], [cohort('2013-10-08', 0)], 2),
      promotion,
      'equity-usa',
    );
    // Assess
    expect(none.gate).toMatchObject({
      verdict: 'not_judged',
      observed: '0 session(s)',
      threshold: '1 to judge',
      breakerAction: 'none',
    });
    expect(none.gate.reason).toContain('not judged yet');
    expect(none.comparison).toBeNull();
    expect(short.gate).toMatchObject({ verdict: 'not_judged', observed: '1 session(s)' });
    expect(short.gate.reason).toContain('1 < 2 required');
    // Not a pass, and not a failure: the promotion is not blocked
    expect(countVerdicts([none.gate])).toEqual({ passed: 0, failed: 0, notJudged: 1 });
    expect(noGateFailed([none.gate, short.gate])).toBe(true);
    // an unknown verdict blocks (fail closed), as countVerdicts counts it a failure
    expect(noGateFailed([{ verdict: 'maybe' }])).toBe(false);
    expect(strongestAction([none.gate])).toBe('none');
  });

  it('counts only paper sessions at parity, reconciled, up to the cohort session, on its own market', async () => {
    // Prepare: a diverged and an unreconciled loss, and a session after the cohort's date
    const sessions = [
      paper('2013-10-07', 0.003),
      paper('2013-10-08', -0.05, { parity: 'diverged', parityDifferenceUsd: 0.5 }),
      paper('2013-10-08', -0.05, { promotionId: 'pr-x', reconciliationClean: false }),
      paper('2013-10-10', -0.05),
    ];
    const cohorts = [cohort('2013-10-07', 0.001), cohort('2013-10-07', 0.01, 'crypto')];
    // Act
    const { gate, comparison } = await dailyBaselineCheck(
      deps(sessions, cohorts),
      promotion,
      'equity-usa',
    );
    // Assess: one session counted, compared with the equity cohort's baselines
    expect(comparison?.sessionDates).toEqual(['2013-10-07']);
    expect(gate).toMatchObject({ verdict: 'pass', observed: 0.003, threshold: 0.001 });
  });

  it('fails closed when a compared date has no recorded baseline, or the threshold is missing', async () => {
    const noBaseline = await dailyBaselineCheck(
      deps([paper('2013-10-08', 0.01)], [cohort('2013-10-08', null)]),
      promotion,
      'equity-usa',
    );
    expect(noBaseline.gate.verdict).toBe('fail');
    expect(noBaseline.gate.reason).toContain('no baseline recorded for 2013-10-08: failing closed');
    const noMin = await dailyBaselineCheck(
      deps([paper('2013-10-08', 0.01)], [cohort('2013-10-08', 0)], Number.NaN),
      promotion,
      'equity-usa',
    );
    expect(noMin.gate).toMatchObject({ verdict: 'fail', observed: null });
    expect(noMin.gate.reason).toContain('failing closed');
  });
});
