/**
 * A minimal Day-3 selection (what SelectCandidate hands the rest of the Day-3 state machine),
 * valid against `Day3SelectionSchema`: for handler tests of the steps after it (Conclude)
 * without running three cohorts. One genome, three sessions, every gate passed, `go`.
 */
import {
  type Day3Selection,
  Day3SelectionSchema,
} from '../../functions/core/use-cases/day3-records.js';

const DATES = ['2013-10-07', '2013-10-08', '2013-10-09'];

/** @param reviewId the review id (`d3-<execution name>`). */
export function day3SelectionFixture(reviewId: string): Day3Selection {
  const days = DATES.map((sessionDate, i) => ({
    sessionDate,
    cohortId: `c-${sessionDate}`,
    agentId: 'a0003',
    genomeId: 'g2-fixture',
    allocationUsd: 100,
    totalPnlUsd: 0.5,
    roi: 0.005,
    maxDrawdownFraction: 0.004,
    tradeCount: 12,
    simulationKey: `sim/${sessionDate}/a0003.json`,
    sample: i < 2 ? ('in_sample' as const) : ('out_of_sample' as const),
  }));
  const candidate = {
    rank: 1,
    lineageId: 'g2-fixture',
    family: 'momentum',
    symbol: 'SPY',
    inSampleMeanRoi: 0.005,
    inSampleSessions: 2,
    outOfSampleMeanRoi: 0.005,
    outOfSampleSessions: 1,
    minDailyTrades: 12,
    eligible: true,
    days,
  };
  const sample = (dates: string[]) => ({
    n: dates.length,
    meanReturn: 0.005,
    totalReturn: 0.005 * dates.length,
    sessionDates: dates,
  });
  return Day3SelectionSchema.parse({
    reviewId,
    cohortIds: days.map((d) => d.cohortId),
    sessionDates: DATES,
    candidate,
    ranking: [candidate],
    candidateBasis: {
      basis: 'walk_forward_ranking',
      reason: 'walk-forward ranking: no genome holds the equity-usa paper slot',
      holder: null,
      paperSessions: 0,
    },
    metrics: {
      totalPnlUsd: 1.5,
      roi: 0.015,
      sharpe: 1.2,
      maxDrawdownFraction: 0.004,
      tradeCount: 36,
      sessions: 3,
    },
    gates: {
      passed: true,
      strongestAction: 'none',
      results: [],
      nowIso: '2013-10-09T20:00:00.000Z',
    },
    evidence: {
      genomeId: 'g2-fixture',
      frequency: 'session',
      n: 3,
      meanReturn: 0.005,
      stdevReturn: 0.001,
      sharpe: 5,
      skewness: 0,
      kurtosis: 3,
      benchmarkSharpe: 0,
      psr: 0.99,
      trials: 1,
      trialSharpeVariance: null,
      trialSharpeVarianceSource: 'estimator',
      trialsWithSharpe: 1,
      expectedMaxSharpe: null,
      dsr: 0.99,
      minTrackRecordLength: 2,
      minTrackRecordLengthDeflated: 2,
      confidence: 0.95,
      annualizedSharpe: null,
      minSessionsToAnnualize: 20,
      sessions: days.map((d) => ({
        sessionDate: d.sessionDate,
        cohortId: d.cohortId,
        agentId: d.agentId,
        sessionReturn: d.roi,
        tradeCount: d.tradeCount,
        sample: d.sample,
      })),
      selectionCutoffDate: DATES[1],
      inSample: sample(DATES.slice(0, 2)),
      outOfSample: sample(DATES.slice(2)),
    },
    verdict: 'go',
    evidenceAgainst: [],
    proceed: true,
    demoOverride: null,
    bankrollUsd: 1000,
    capitalSliceUsd: 50,
    leverage: 2,
    reportUrl: null,
    approval: { timeoutSeconds: 14_400, heartbeatSeconds: 14_400 },
  });
}
