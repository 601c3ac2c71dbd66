/**
 * A promotion's VaR / ES lookback: the same genome's own recent sessions (the Day-3 review's
 * sample rule), never a descendant, never another market's or a partial cohort.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_GATE_THRESHOLDS } from '../../../functions/core/gates/thresholds.js';
import type { CohortRecord } from '../../../functions/core/use-cases/cohort-records.js';
import { riskLookbackOf } from '../../../functions/core/use-cases/risk-lookback.js';
import type { CohortRepository } from '../../../functions/ports/cohort-repository.js';

type Row = { rank: number; agentId: string; genomeId: string };
interface Fake {
  cohortId: string;
  sessionDate: string;
  market?: 'equity-usa' | 'crypto';
  partialUpToIso?: string;
  rows: Row[];
}

function repo(cohorts: Fake[]): Pick<CohortRepository, 'list' | 'get'> {
  // newest first, as the port lists them
  const sorted = [...cohorts].sort((a, b) => (a.sessionDate < b.sessionDate ? 1 : -1));
  return {
    list: async (limit: number) =>
      sorted.slice(0, limit).map((c) => ({
        cohortId: c.cohortId,
        sessionDate: c.sessionDate,
        completedAtIso: `${c.sessionDate}T20:00:00Z`,
        symbols: ['SPY'],
        bankrollUsd: 1_000,
        agentCount: c.rows.length,
        ...(c.market ? { market: c.market } : {}),
        ...(c.partialUpToIso ? { partialUpToIso: c.partialUpToIso } : {}),
        totalPnlUsd: 0,
        bestAgentId: null,
      })),
    get: async (id: string) =>
      ({ leaderboard: cohorts.find((c) => c.cohortId === id)?.rows ?? [] }) as CohortRecord,
  };
}

describe('riskLookbackOf', () => {
  it("takes the same genome's best agent on the two session dates before the promotion's cohort, oldest first", async () => {
    // Prepare: g1 ran on 10-03 (two agents: rank 4 and 2), 10-04 (absent: only its child g2),
    // 10-07 (rank 1); a crypto cohort and a partial cohort in between; 10-08 the promotion's
    const cohorts = repo([
      {
        cohortId: 'c03',
        sessionDate: '2013-10-03',
        rows: [
          { rank: 4, agentId: 'a4', genomeId: 'g1' },
          { rank: 2, agentId: 'a2', genomeId: 'g1' },
        ],
      },
      {
        cohortId: 'c04',
        sessionDate: '2013-10-04',
        rows: [{ rank: 1, agentId: 'b1', genomeId: 'g2' }],
      },
      {
        cohortId: 'c07',
        sessionDate: '2013-10-07',
        rows: [{ rank: 1, agentId: 'd1', genomeId: 'g1' }],
      },
      {
        cohortId: 'x07',
        sessionDate: '2013-10-07',
        market: 'crypto',
        rows: [{ rank: 1, agentId: 'x', genomeId: 'g1' }],
      },
      {
        cohortId: 'p08',
        sessionDate: '2013-10-08',
        partialUpToIso: '2013-10-08T15:00:00Z',
        rows: [{ rank: 1, agentId: 'p', genomeId: 'g1' }],
      },
      {
        cohortId: 'c08',
        sessionDate: '2013-10-08',
        rows: [{ rank: 3, agentId: 'e3', genomeId: 'g1' }],
      },
    ]);
    const cohort = { cohortId: 'c08', sessionDate: '2013-10-08' };
    // Act
    const three = await riskLookbackOf(
      cohorts,
      cohort,
      'e3',
      'g1',
      DEFAULT_GATE_THRESHOLDS.riskLookbackSessions,
    );
    const five = await riskLookbackOf(cohorts, cohort, 'e3', 'g1', 5);
    const one = await riskLookbackOf(cohorts, cohort, 'e3', 'g1', 1);
    // Assess: the window is 10-04 and 10-07 (the two dates before 10-08); 10-04 has only the
    // child, so it is skipped, never replaced; with five sessions 10-03 enters, its rank-2 agent
    expect(DEFAULT_GATE_THRESHOLDS.riskLookbackSessions).toBe(3);
    await expect(riskLookbackOf(cohorts, cohort, 'e3', 'g1', 0)).rejects.toThrow(
      /riskLookbackSessions/,
    );
    expect(three).toEqual([
      { cohortId: 'c07', agentId: 'd1' },
      { cohortId: 'c08', agentId: 'e3' },
    ]);
    expect(five).toEqual([
      { cohortId: 'c03', agentId: 'a2' },
      { cohortId: 'c07', agentId: 'd1' },
      { cohortId: 'c08', agentId: 'e3' },
    ]);
    expect(one).toEqual([{ cohortId: 'c08', agentId: 'e3' }]);
  });
});
