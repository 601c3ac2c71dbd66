/**
 * #13 item 4: the candidate's paper sessions (the paper track record, #11) in its Day-3
 * evidence: a session at parity that reconciled counts as that date's return (the broker's
 * fills, not the simulator's), a diverged one is reported and never counted, and nothing after
 * Day 3 is read. Figures by hand.
 */
import { describe, expect, it } from 'vitest';
import type { PaperSessionResult } from '../../../functions/core/paper/track-record.js';
import {
  candidateEvidence,
  trackRecords,
  withPaperSessions,
} from '../../../functions/core/use-cases/day3-evidence.js';
import { lineageMetrics } from '../../../functions/core/use-cases/day3-ranking.js';

const row = (rank: number, agentId: string, genomeId: string, roi: number) => ({
  rank,
  agentId,
  genomeId,
  roi,
  tradeCount: 2,
});

function paper(
  date: string,
  pnl: number,
  over: Partial<PaperSessionResult> = {},
): PaperSessionResult {
  return {
    genomeId: 'g1',
    promotionId: `pr-${date.replaceAll('-', '')}-00000000000000`,
    date,
    symbol: 'SPY',
    family: 'momentum',
    broker: 'simulated:paper-1',
    capitalUsd: 50,
    paperPnlUsd: pnl,
    referencePnlUsd: pnl,
    parityDifferenceUsd: 0,
    parity: 'exact',
    dailyReturn: pnl / 50,
    filledOrders: 4,
    roundTrips: 2,
    cohortPnlUsd: pnl * 2,
    halt: null,
    reconciliationClean: true,
    recordedAtIso: `${date}T20:00:00.000Z`,
    ...over,
  };
}

describe("the Day-3 evidence reads the genome's paper sessions", () => {
  // g1 simulated on 10-07 (+1 %), 10-08 (−2 %), 10-09 (+0.5 %); Day 2 (10-08) is the cutoff
  const cohorts = [
    { sessionDate: '2013-10-07', cohortId: 'c1', leaderboard: [row(1, 'a1', 'g1', 0.01)] },
    { sessionDate: '2013-10-08', cohortId: 'c2', leaderboard: [row(3, 'a3', 'g1', -0.02)] },
    { sessionDate: '2013-10-09', cohortId: 'c3', leaderboard: [row(2, 'a2', 'g1', 0.005)] },
  ] as never;
  const records = trackRecords(cohorts);
  const results = [
    // 10-04: a paper session on a date the genome was not simulated: one more session
    paper('2013-10-04', 0.25),
    // 10-08 at parity: its −0.75 USD on a 50 USD slice (−1.5 %) replaces the simulated −2 %
    paper('2013-10-08', -0.75),
    // 10-09 diverged by 3 cents: reported, not counted (the simulated +0.5 % stays)
    paper('2013-10-09', 0.4, {
      referencePnlUsd: 0.37,
      parityDifferenceUsd: 0.03,
      parity: 'diverged',
    }),
    // 10-10: after Day 3, never read
    paper('2013-10-10', 5),
  ];

  it('counts a paper session at parity as its date, reports the rest, reads nothing after Day 3', () => {
    // Act
    const merged = withPaperSessions(records.get('g1') ?? [], results, '2013-10-09');
    // Assess
    expect(
      merged.sessions.map((s) => [s.sessionDate, s.sessionReturn, s.source ?? 'cohort']),
    ).toEqual([
      ['2013-10-04', 0.005, 'paper'],
      ['2013-10-07', 0.01, 'cohort'],
      ['2013-10-08', -0.015, 'paper'],
      ['2013-10-09', 0.005, 'cohort'],
    ]);
    expect(merged.paper).toEqual({
      sessions: 3,
      sessionDates: ['2013-10-04', '2013-10-08', '2013-10-09'],
      totalPaperPnlUsd: 0.25 - 0.75 + 0.4,
      totalParityDifferenceUsd: 0.03,
      paritySessions: 2,
      divergedSessions: 1,
      haltedSessions: 0,
      counted: 2,
    });
    // An unreconciled session at parity is not counted either
    const unreconciled = withPaperSessions(
      records.get('g1') ?? [],
      [paper('2013-10-08', -0.75, { reconciliationClean: false })],
      '2013-10-09',
    );
    expect(unreconciled.paper.counted).toBe(0);
    expect(unreconciled.sessions.find((s) => s.sessionDate === '2013-10-08')?.sessionReturn).toBe(
      -0.02,
    );
  });

  it('the PSR rests on the merged returns, the walk-forward labels by date, and the metrics show the paper record', () => {
    // Act
    const e = candidateEvidence({
      genomeId: 'g1',
      selectionCutoffDate: '2013-10-08',
      lastSessionDate: '2013-10-09',
      paper: results,
      records,
      trials: 30,
      confidence: 0.95,
      minSessionsToAnnualize: 20,
    });
    const without = candidateEvidence({
      genomeId: 'g1',
      selectionCutoffDate: '2013-10-08',
      records,
      trials: 30,
      confidence: 0.95,
      minSessionsToAnnualize: 20,
    });
    // Assess: returns 0.005, 0.01, −0.015, 0.005: mean 0.00125 (4 sessions; 3 in sample)
    expect(e.n).toBe(4);
    expect(e.meanReturn).toBeCloseTo(0.00125, 15);
    expect(e.inSample.n).toBe(3);
    expect(e.outOfSample.sessionDates).toEqual(['2013-10-09']);
    expect(e.paper.counted).toBe(2);
    expect(without.n).toBe(3);
    expect(without.paper.sessions).toBe(0);
    const metrics = lineageMetrics({ days: [], inSampleMeanRoi: 0, outOfSampleMeanRoi: 0 }, e);
    expect(metrics).toMatchObject({
      paperSessions: 3,
      paperPnlUsd: 0.25 - 0.75 + 0.4,
      paperParitySessions: 2,
      paperCountedSessions: 2,
    });
  });
});
