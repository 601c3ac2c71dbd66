/**
 * Diversity of the learning cycle (issue #13 item 8): behavioural clones (different genes,
 * the same outcome) do not crowd the elites or the tournaments, and the immigrants bring back
 * every strategy family and symbol the new pool lacks.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Genome,
  randomGenome,
  STRATEGY_FAMILIES,
  seedGenomePool,
} from '../../../functions/core/cohort/genome.js';
import { runLearningCycle } from '../../../functions/core/learning/learning-cycle.js';
import { createRandom } from '../../../functions/core/random.js';
import { cycleInput, randomResults, result, SYMBOLS } from './fixtures.js';

/** `n` opening-range genomes on AIG with different genes. */
function aigOpeningRange(n: number, seed: number): Genome[] {
  const rng = createRandom(seed);
  return Array.from({ length: n }, () => randomGenome(rng, 'opening_range_breakout', ['AIG'], 0));
}

describe('niching: behavioural clones', () => {
  it('keeps one of nine AIG opening-range clones among the elites and breeds only from it', () => {
    // Prepare: nine genomes with different genes that made the same two fills and the same
    // return (the agents scoring ≈24.69), and three distinct, weaker genomes.
    const clones = aigOpeningRange(9, 1);
    const others = seedGenomePool(3, ['SPY', 'BAC', 'IBM'], 2);
    const pool = [...clones, ...others];
    const scored = [
      ...clones.map((g) => result(g.id, 0.0211, { tradeCount: 2, maxDrawdownFraction: 0.001 })),
      ...others.map((g, i) => result(g.id, 0.001 * i, { tradeCount: 4 })),
    ];
    const input = cycleInput(pool.length, {
      pool,
      scored,
      eliteCount: 4,
      crossoverRate: 0,
      tournamentSize: 10_000,
    });

    // Act
    const out = runLearningCycle(input);

    // Assess
    const cloneIds = new Set(clones.map((g) => g.id));
    const elites = out.lineage.filter((l) => l.operator === 'elite').map((l) => l.childId);
    expect(elites).toHaveLength(4);
    expect(elites.filter((id) => cloneIds.has(id))).toHaveLength(1);
    expect(elites.slice(1).sort()).toEqual(others.map((g) => g.id).sort());
    const representative = elites[0] as string;
    expect(cloneIds.has(representative)).toBe(true);
    // Tournaments of 10,000 always hold the best genome: the niche's best, never a clone.
    const parents = new Set(
      out.lineage.filter((l) => l.operator === 'mutation').flatMap((l) => l.parentIds),
    );
    expect([...parents]).toEqual([representative]);
    // The eight others rank after every genome that is not a clone.
    expect(out.fitness.slice(0, 4).map((f) => f.genomeId)).toEqual([
      representative,
      ...[...others].reverse().map((g) => g.id),
    ]);
    expect(out.stats.diversity?.clonesDemoted).toBe(8);
  });

  it('does not treat genomes with the same return on different symbols as clones', () => {
    // Prepare
    const rng = createRandom(3);
    const pool = SYMBOLS.flatMap((s) => [0, 1].map(() => randomGenome(rng, 'momentum', [s], 0)));
    const scored = pool.map((g) => result(g.id, 0.01, { tradeCount: 2 }));

    // Act
    const out = runLearningCycle(cycleInput(8, { pool, scored, eliteCount: 4 }));

    // Assess: 4 symbols, two genomes each: one clone per symbol.
    expect(out.stats.diversity?.clonesDemoted).toBe(4);
    const elites = out.pool.slice(0, 4).map((g) => g.symbol);
    expect(new Set(elites).size).toBe(4);
  });
});

describe('coverage: every family and symbol', () => {
  it('brings back every family and symbol the new pool lacks (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.integer({ min: 8, max: 60 }),
        fc.subarray(SYMBOLS, { minLength: 1 }),
        (seed, poolSize, symbols) => {
          // Prepare: a pool collapsed onto one family and one symbol; no crossover or symbol
          // mutation, so only the immigrants can restore diversity.
          const rng = createRandom(seed);
          const pool = Array.from({ length: 12 }, () =>
            randomGenome(rng, 'momentum', [symbols[0] as string], 0),
          );
          const wanted = Math.max(STRATEGY_FAMILIES.length, symbols.length);

          // Act
          const out = runLearningCycle({
            ...cycleInput(pool.length, { pool }),
            scored: randomResults(pool, seed),
            seed,
            poolSize,
            symbols,
            eliteCount: 2,
            crossoverRate: 0,
            symbolMutationRate: 0,
            immigrantRate: wanted / poolSize,
          });

          // Assess
          expect(new Set(out.pool.map((g) => g.family)).size).toBe(STRATEGY_FAMILIES.length);
          expect(new Set(out.pool.map((g) => g.symbol))).toEqual(new Set(symbols));
          expect(out.stats.diversity).toMatchObject({
            families: STRATEGY_FAMILIES.length,
            symbols: symbols.length,
          });
        },
      ),
      { numRuns: 40 },
    );
  });
});
