/**
 * Learning over real cohorts: Day 1 (2013-10-07) simulated and scored over the LEAN minute
 * bars read in place, a learning cycle, then Day 2 (2013-10-08) runs the NEW pool, so Day 2 is
 * not a re-run of Day 1. Reads files, touches no network and no server.
 */
import { describe, expect, it } from 'vitest';
import { FileSystemBlobSource } from '../../../functions/adapters/market-data/blob-source.js';
import { LeanMarketData } from '../../../functions/adapters/market-data/lean-market-data.js';
import { parseCohortConfig } from '../../../functions/core/cohort/config.js';
import { seedGenomePool } from '../../../functions/core/cohort/genome.js';
import { simulateCohort } from '../../../functions/core/cohort/simulate.js';
import { runLearningCycle } from '../../../functions/core/learning/learning-cycle.js';
import { scoredResultsFromCohorts } from '../../../functions/core/learning/scored-results.js';
import { scoreCohort } from '../../../functions/core/scoring/score.js';
import { DATA_ROOT } from '../../support/paths.js';

const SYMBOLS = ['SPY', 'BAC', 'AIG', 'IBM'];

describe('learning between two real sessions', () => {
  it('evolves the Day 1 pool from its scored cohort, and Day 2 trades the new pool', async () => {
    // Prepare
    const marketData = new LeanMarketData(new FileSystemBlobSource(DATA_ROOT));
    const config = parseCohortConfig({ bankrollUsd: 1_000, agentCount: 30, seed: 7 });
    const pool0 = seedGenomePool(30, SYMBOLS, config.seed);
    const day1 = await marketData.loadSession('2013-10-07', SYMBOLS);
    const score1 = scoreCohort(
      simulateCohort({ cohortId: 'day1', session: day1, genomes: pool0, config }),
    );
    const completedAtIso = '2013-10-07T20:05:00.000Z';
    const scored = scoredResultsFromCohorts([
      { sessionDate: score1.sessionDate, completedAtIso, leaderboard: score1.leaderboard },
    ]);

    // Act
    const cycle = runLearningCycle({
      pool: pool0,
      scored,
      lookbackHours: 6,
      now: Date.parse('2013-10-07T21:00:00.000Z'),
      seed: 11,
      poolSize: 30,
      symbols: SYMBOLS,
      eliteCount: 3,
      mutationRate: 0.2,
      crossoverRate: 0.6,
      tournamentSize: 3,
    });
    const day2 = await marketData.loadSession('2013-10-08', SYMBOLS);
    const score2 = scoreCohort(
      simulateCohort({ cohortId: 'day2', session: day2, genomes: cycle.pool, config }),
    );

    // Assess
    expect(scored).toHaveLength(30);
    expect(cycle.stats.scoredGenomes).toBe(30);
    const bestDay1 = score1.leaderboard.find((row) => row.genomeId === cycle.fitness[0]?.genomeId);
    expect(bestDay1).toBeDefined();
    expect(cycle.pool.slice(0, 3).map((g) => g.id)).toEqual(
      cycle.fitness.slice(0, 3).map((f) => f.genomeId),
    );
    const day1Ids = new Set(pool0.map((g) => g.id));
    const newAgents = score2.agents.filter((a) => !day1Ids.has(a.genomeId));
    expect(newAgents).toHaveLength(27);
    expect(score2.agents.map((a) => a.genomeId)).toEqual(cycle.pool.map((g) => g.id));
  });
});
