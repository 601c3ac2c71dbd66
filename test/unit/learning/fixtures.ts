/** Builders for the learning-cycle tests: pools, scored results and a cycle input. */
import { type Genome, seedGenomePool } from '../../../functions/core/cohort/genome.js';
import type { ScoredGenomeResult } from '../../../functions/core/learning/fitness.js';
import type { LearningCycleInput } from '../../../functions/core/learning/learning-cycle.js';
import { createRandom } from '../../../functions/core/random.js';

export const SYMBOLS = ['SPY', 'BAC', 'AIG', 'IBM'];
/** 2013-10-07 20:30Z: half an hour after the session close. */
export const NOW = Date.UTC(2013, 9, 7, 20, 30);
const HOUR = 3_600_000;

/** One scored result; defaults: 10 fills, no drawdown, completed an hour ago. */
export function result(
  genomeId: string,
  roi: number,
  options: {
    maxDrawdownFraction?: number;
    tradeCount?: number;
    hoursAgo?: number;
    sessionDate?: string;
  } = {},
): ScoredGenomeResult {
  return {
    genomeId,
    fitnessInputs: {
      totalPnlUsd: roi * 100,
      roi,
      maxDrawdownFraction: options.maxDrawdownFraction ?? 0,
      tradeCount: options.tradeCount ?? 10,
    },
    sessionDate: options.sessionDate ?? '2013-10-07',
    completedAtIso: new Date(NOW - (options.hoursAgo ?? 1) * HOUR).toISOString(),
  };
}

/** A result for every genome of `pool`, ROI drawn from N(0, 1%) with a seeded PRNG. */
export function randomResults(pool: readonly Genome[], seed: number): ScoredGenomeResult[] {
  const rng = createRandom(seed);
  return pool.map((g) =>
    result(g.id, rng.normal() * 0.01, {
      maxDrawdownFraction: rng.uniform(0, 0.01),
      tradeCount: rng.int(0, 30),
    }),
  );
}

/** A cycle input over a seeded pool of `size` genomes with random results. */
export function cycleInput(
  size = 30,
  overrides: Partial<LearningCycleInput> = {},
): LearningCycleInput {
  const pool = overrides.pool ?? seedGenomePool(size, SYMBOLS, 1);
  return {
    pool,
    scored: randomResults(pool, 2),
    lookbackHours: 24,
    now: NOW,
    seed: 42,
    poolSize: pool.length,
    symbols: SYMBOLS,
    eliteCount: 3,
    mutationRate: 0.2,
    crossoverRate: 0.6,
    tournamentSize: 3,
    ...overrides,
  };
}
