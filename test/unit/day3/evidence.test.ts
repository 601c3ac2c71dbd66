import { describe, expect, it } from 'vitest';
import type { GenomeGeneration } from '../../../functions/core/learning/generation.js';
import {
  annualizedDailySharpe,
  candidateEvidence,
  nextTrials,
  trackRecords,
  trialsThrough,
} from '../../../functions/core/use-cases/day3-evidence.js';
import type { GenomePoolRepository } from '../../../functions/ports/genome-pool.js';

const row = (rank: number, agentId: string, genomeId: string, roi: number) => ({
  rank,
  agentId,
  genomeId,
  roi,
  tradeCount: 2,
});

describe('the Day-3 candidate evidence', () => {
  it("is the genome's own sessions, never a descendant's", () => {
    // Prepare: g1 trades on days 1 and 3; its child g2 (best on day 2) does not count for g1.
    const cohorts = [
      {
        sessionDate: '2013-10-08',
        cohortId: 'c2',
        leaderboard: [row(1, 'a1', 'g2', 0.02), row(2, 'a2', 'g1', -0.01)],
      },
      { sessionDate: '2013-10-07', cohortId: 'c1', leaderboard: [row(1, 'a1', 'g1', 0.001)] },
      { sessionDate: '2013-10-09', cohortId: 'c3', leaderboard: [row(1, 'a9', 'g1', 0.003)] },
    ] as never;
    // Act
    const e = candidateEvidence({
      genomeId: 'g1',
      selectionCutoffDate: '2013-10-08',
      records: trackRecords(cohorts),
      trials: 30,
      confidence: 0.95,
      minSessionsToAnnualize: 20,
    });
    // Assess
    expect(e.sessions.map((s) => [s.sessionDate, s.sessionReturn])).toEqual([
      ['2013-10-07', 0.001],
      ['2013-10-08', -0.01],
      ['2013-10-09', 0.003],
    ]);
    expect(e).toMatchObject({ genomeId: 'g1', n: 3, frequency: 'session', trials: 30 });
    // three sessions are not annualized
    expect(e.annualizedSharpe).toBeNull();
    // walk-forward: the sessions after the selection's cutoff are out of sample
    expect(e.sessions.map((s) => s.sample)).toEqual(['in_sample', 'in_sample', 'out_of_sample']);
    expect(e.inSample).toMatchObject({ n: 2, sessionDates: ['2013-10-07', '2013-10-08'] });
    expect(e.inSample.meanReturn).toBeCloseTo(-0.0045, 12);
    expect(e.outOfSample).toMatchObject({ n: 1, meanReturn: 0.003, sessionDates: ['2013-10-09'] });
  });

  it('counts every distinct genome since the pool was seeded: seeded pool + non-elite children', async () => {
    // Prepare: generation 0 (4 genomes, no count persisted), 1 (2 elites + 2 children)
    const gens = new Map<number, Partial<GenomeGeneration>>([
      [0, { generation: 0, genomes: [{}, {}, {}, {}] as never, lineage: [] }],
      [
        1,
        {
          generation: 1,
          genomes: [{}, {}, {}, {}] as never,
          lineage: [
            { operator: 'elite' },
            { operator: 'elite' },
            { operator: 'mutation' },
            { operator: 'immigrant' },
          ] as never,
        },
      ],
      [2, { generation: 2, genomes: [] as never, lineage: [], trials: 11 }],
    ]);
    // The equity pool holds `gens`; the crypto pool only a generation 0 of 40 genomes.
    const pool = {
      getGeneration: async (market: string, g: number) =>
        market === 'crypto'
          ? g === 0
            ? ({ generation: 0, genomes: new Array(40).fill({}), lineage: [] } as never)
            : null
          : ((gens.get(g) as GenomeGeneration) ?? null),
    } as GenomePoolRepository;
    // Act / Assess: each market counts its own pool's trials
    expect(await trialsThrough(pool, 'equity-usa', 1)).toBe(6);
    expect(await trialsThrough(pool, 'equity-usa', 2)).toBe(11);
    expect(await trialsThrough(pool, 'equity-usa', 7)).toBeNull();
    expect(await trialsThrough(pool, 'crypto', 0)).toBe(40);
    expect(await trialsThrough(pool, 'crypto', 1)).toBeNull();
    expect(nextTrials(6, [{ operator: 'elite' }, { operator: 'crossover' }])).toBe(7);
  });
});

describe('annualizedDailySharpe', () => {
  it('scales by √252 only from the configured number of sessions', () => {
    expect(annualizedDailySharpe(0.1, 20, 20)).toBeCloseTo(0.1 * Math.sqrt(252), 12);
    expect(annualizedDailySharpe(0.1, 19, 20)).toBeNull();
    expect(annualizedDailySharpe(0.1, 5, 5)).toBeCloseTo(1.5874507866, 9);
  });
});
