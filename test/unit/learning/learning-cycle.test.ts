/**
 * The learning cycle: bounds of every child (property), elitism, determinism, lineage, the
 * family rule of crossover, immigrants, and input validation.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Genome,
  genomeId,
  seedGenomePool,
  validateGenome,
} from '../../../functions/core/cohort/genome.js';
import { ValidationError } from '../../../functions/core/errors.js';
import {
  type LearningCycleInput,
  runLearningCycle,
} from '../../../functions/core/learning/learning-cycle.js';
import { createRandom } from '../../../functions/core/random.js';
import { cycleInput, NOW, randomResults, result, SYMBOLS } from './fixtures.js';

function shuffled<T>(items: readonly T[], seed: number): T[] {
  const rng = createRandom(seed);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

describe('runLearningCycle: bounds (property)', () => {
  it('keeps every gene of every output genome within GENOME_BOUNDS, for any pool, seed and rates', () => {
    fc.assert(
      fc.property(
        fc.record({
          size: fc.integer({ min: 1, max: 60 }),
          poolSeed: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
          seed: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
          poolSize: fc.integer({ min: 1, max: 80 }),
          eliteShare: fc.double({ min: 0, max: 1, noNaN: true }),
          mutationRate: fc.double({ min: 0, max: 1, noNaN: true }),
          crossoverRate: fc.double({ min: 0, max: 1, noNaN: true }),
          immigrantRate: fc.double({ min: 0, max: 1, noNaN: true }),
          mutationScale: fc.double({ min: 0.001, max: 1, noNaN: true }),
          tournamentSize: fc.integer({ min: 1, max: 8 }),
          symbols: fc.subarray(['SPY', 'BAC', 'AIG', 'IBM', 'QQQ'], { minLength: 1 }),
        }),
        (p) => {
          // Prepare
          const pool = seedGenomePool(p.size, SYMBOLS, p.poolSeed);
          const eliteCount = Math.floor(p.eliteShare * (p.poolSize - 1));

          // Act
          const out = runLearningCycle({
            ...cycleInput(p.size, { pool }),
            scored: randomResults(pool, p.poolSeed ^ 1),
            seed: p.seed,
            poolSize: p.poolSize,
            eliteCount,
            mutationRate: p.mutationRate,
            crossoverRate: p.crossoverRate,
            immigrantRate: p.immigrantRate,
            mutationScale: p.mutationScale,
            tournamentSize: p.tournamentSize,
            symbols: p.symbols,
          });

          // Assess
          expect(out.pool).toHaveLength(p.poolSize);
          expect(new Set(out.pool.map((g) => g.id)).size).toBe(p.poolSize);
          for (const [i, g] of out.pool.entries()) {
            expect(validateGenome(g, `pool[${i}]`)).toEqual(g);
            expect(genomeId(g)).toBe(g.id);
            expect(p.symbols).toContain(g.symbol);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('runLearningCycle: selection', () => {
  it('carries the eliteCount best genomes over unchanged, best first', () => {
    // Prepare
    const input = cycleInput(30, { eliteCount: 4 });

    // Act
    const out = runLearningCycle(input);

    // Assess
    const best = out.fitness.slice(0, 4).map((f) => f.genomeId);
    expect(out.pool.slice(0, 4).map((g) => g.id)).toEqual(best);
    for (const elite of out.pool.slice(0, 4)) {
      expect(input.pool).toContainEqual(elite);
    }
    expect(out.lineage.slice(0, 4).map((l) => l.operator)).toEqual([
      'elite',
      'elite',
      'elite',
      'elite',
    ]);
    expect(out.fitness[0]?.fitness).toBe(out.stats.bestFitness);
  });

  it('never keeps an idle genome or one trading a dropped symbol as an elite', () => {
    // Prepare
    const pool = seedGenomePool(8, SYMBOLS, 5);
    const [idle, aig, ...rest] = pool as [Genome, Genome, ...Genome[]];
    const scored = [
      result(idle.id, 0.5, { tradeCount: 0 }),
      result(aig.id, 0.4),
      ...rest.map((g, i) => result(g.id, 0.01 * i)),
    ];
    const input = cycleInput(8, {
      pool,
      scored,
      eliteCount: 3,
      symbols: SYMBOLS.filter((s) => s !== aig.symbol),
    });

    // Act
    const out = runLearningCycle(input);

    // Assess
    const elites = out.lineage.filter((l) => l.operator === 'elite').map((l) => l.childId);
    expect(elites).toHaveLength(3);
    expect(elites).not.toContain(idle.id);
    expect(elites).not.toContain(aig.id);
    expect(out.pool.every((g) => g.symbol !== aig.symbol)).toBe(true);
  });

  it('selects fitter parents more often with larger tournaments', () => {
    // Prepare
    const input = cycleInput(40, { eliteCount: 0, immigrantRate: 0 });
    const rankOf = new Map(runLearningCycle(input).fitness.map((f, i) => [f.genomeId, i]));
    const meanParentRank = (tournamentSize: number) => {
      const out = runLearningCycle({ ...input, tournamentSize });
      const ranks = out.lineage.flatMap((l) => l.parentIds.map((p) => rankOf.get(p) as number));
      return ranks.reduce((s, r) => s + r, 0) / ranks.length;
    };

    // Act
    const uniform = meanParentRank(1);
    const strong = meanParentRank(6);

    // Assess
    expect(strong).toBeLessThan(uniform);
  });
});

describe('runLearningCycle: determinism', () => {
  it('returns the same generation for the same input, whatever the input order', () => {
    // Prepare
    const input = cycleInput(30);
    const reordered: LearningCycleInput = {
      ...input,
      pool: shuffled(input.pool, 9),
      scored: shuffled(input.scored, 10),
    };

    // Act
    const a = runLearningCycle(input);
    const b = runLearningCycle(input);
    const c = runLearningCycle(reordered);

    // Assess
    expect(b).toEqual(a);
    expect(c).toEqual(a);
  });

  it('draws a different generation for a different seed', () => {
    // Act
    const a = runLearningCycle(cycleInput(30, { seed: 1 }));
    const b = runLearningCycle(cycleInput(30, { seed: 2 }));

    // Assess
    expect(b.pool.map((g) => g.id)).not.toEqual(a.pool.map((g) => g.id));
    expect(b.pool.slice(0, 3)).toEqual(a.pool.slice(0, 3)); // same elites
  });
});

describe('runLearningCycle: lineage', () => {
  it('has one entry per new genome, referencing parents of the evaluated pool', () => {
    // Prepare
    const input = cycleInput(30);
    const oldIds = new Set(input.pool.map((g) => g.id));
    const fitnessOf = new Map(runLearningCycle(input).fitness.map((f) => [f.genomeId, f.fitness]));

    // Act
    const out = runLearningCycle(input);

    // Assess
    expect(out.lineage.map((l) => l.childId)).toEqual(out.pool.map((g) => g.id));
    for (const [i, l] of out.lineage.entries()) {
      const child = out.pool[i] as Genome;
      for (const p of l.parentIds) expect(oldIds.has(p)).toBe(true);
      expect(l.parentFitness).toEqual(l.parentIds.map((p) => fitnessOf.get(p)));
      if (l.operator === 'elite') {
        expect(l.parentIds).toEqual([child.id]);
      } else {
        expect(child.generation).toBe(1);
        expect(child.parentIds).toEqual(l.parentIds);
        expect(oldIds.has(child.id)).toBe(false);
      }
      if (l.operator === 'crossover') expect(l.parentIds).toHaveLength(2);
      if (l.operator === 'mutation') expect(l.parentIds).toHaveLength(1);
      if (l.operator === 'immigrant') expect(l.parentIds).toEqual([]);
    }
    expect(out.stats.operators).toEqual({
      elite: 3,
      immigrant: 3,
      crossover: expect.any(Number),
      mutation: expect.any(Number),
    });
    expect(out.stats.operators.crossover).toBeGreaterThan(0);
    expect(out.stats.operators.mutation).toBeGreaterThan(0);
  });

  it('crosses only parents of the same family, mutating when the family has one genome', () => {
    // Prepare: one genome per family, then four per family
    const solo = seedGenomePool(4, SYMBOLS, 8);
    const quads = seedGenomePool(16, SYMBOLS, 8);
    const familyOf = new Map(quads.map((g) => [g.id, g.family]));
    const input = cycleInput(4, { pool: solo, poolSize: 12, crossoverRate: 1, immigrantRate: 0 });

    // Act
    const fromSolo = runLearningCycle(input);
    const fromQuads = runLearningCycle({ ...input, pool: quads });

    // Assess
    expect(new Set(solo.map((g) => g.family)).size).toBe(4);
    expect(fromSolo.stats.operators.crossover).toBe(0);
    expect(fromSolo.stats.operators.mutation).toBe(12 - 3);
    const crossed = fromQuads.lineage.filter((l) => l.operator === 'crossover');
    expect(crossed.length).toBeGreaterThan(0);
    for (const l of crossed) {
      const [a, b] = l.parentIds as [string, string];
      expect(familyOf.get(a)).toBe(familyOf.get(b));
      expect(fromQuads.pool.find((g) => g.id === l.childId)?.family).toBe(familyOf.get(a));
    }
  });
});

describe('runLearningCycle: the pool moves on', () => {
  it('always adds new genomes, even with zero mutation and crossover rates', () => {
    // Prepare
    const input = cycleInput(10, {
      eliteCount: 9,
      mutationRate: 0,
      crossoverRate: 0,
      immigrantRate: 0,
    });

    // Act
    const out = runLearningCycle(input);

    // Assess
    const oldIds = new Set(input.pool.map((g) => g.id));
    const fresh = out.pool.filter((g) => !oldIds.has(g.id));
    expect(fresh).toHaveLength(1);
    expect(out.lineage.at(-1)?.operator).toBe('mutation');
  });

  it('makes Day 2 differ from Day 1, and a third cycle differ from the second', () => {
    // Prepare
    const day1 = cycleInput(30);

    // Act
    const day2 = runLearningCycle(day1);
    const day3 = runLearningCycle({
      ...day1,
      pool: day2.pool,
      scored: randomResults(day2.pool, 3).map((r) => ({
        ...r,
        sessionDate: '2013-10-08',
        completedAtIso: new Date(Date.parse(r.completedAtIso) + 24 * 3_600_000).toISOString(),
      })),
      now: NOW + 24 * 3_600_000,
      seed: 43,
      previousBestFitness: day2.stats.bestFitness,
    });

    // Assess
    const ids = (pool: readonly Genome[]) => pool.map((g) => g.id).sort();
    expect(ids(day2.pool)).not.toEqual(ids(day1.pool));
    expect(ids(day3.pool)).not.toEqual(ids(day2.pool));
    expect(day3.pool.some((g) => g.generation === 2)).toBe(true);
    expect(typeof day3.stats.improvedOverPrevious).toBe('boolean');
    expect(day2.stats.improvedOverPrevious).toBeNull();
  });

  it('reports no fitness statistics when no genome has results in the window', () => {
    // Act
    const out = runLearningCycle(cycleInput(12, { scored: [] }));

    // Assess
    expect(out.stats.bestFitness).toBeNull();
    expect(out.stats.meanFitness).toBeNull();
    expect(out.stats.scoredGenomes).toBe(0);
    expect(out.pool).toHaveLength(12);
  });
});

describe('runLearningCycle: validation', () => {
  const base = cycleInput(10);
  const dup = [base.pool[0] as Genome, base.pool[0] as Genome];
  const broken = { ...(base.pool[0] as Genome), params: { lookback: 1_000 } };
  const ok = result('x', 0.1);
  const nanRoi = { ...ok, fitnessInputs: { ...ok.fitnessInputs, roi: Number.NaN } };
  it.each([
    [{ eliteCount: 10 }, 'eliteCount'],
    [{ lookbackHours: 8 }, 'lookbackHours'],
    [{ mutationRate: 1.5 }, 'mutationRate'],
    [{ crossoverRate: -0.1 }, 'crossoverRate'],
    [{ tournamentSize: 0 }, 'tournamentSize'],
    [{ symbols: [] }, 'symbols'],
    [{ poolSize: 0 }, 'poolSize'],
    [{ pool: [] }, 'pool'],
    [{ pool: dup }, 'pool[1].id'],
    [{ pool: [broken] }, 'pool[0].params.lookback'],
    [
      { scored: [{ ...result('x', 0.1), completedAtIso: 'yesterday' }] },
      'scored[0].completedAtIso',
    ],
    [{ scored: [nanRoi] }, 'scored[0].fitnessInputs.roi'],
  ] as const)('rejects %o naming %s', (overrides, field) => {
    // Act
    const act = () => runLearningCycle({ ...base, ...(overrides as Partial<LearningCycleInput>) });

    // Assess
    expect(act).toThrow(ValidationError);
    expect(act).toThrow(expect.objectContaining({ field }));
  });
});

describe('runLearningCycle: diversity of a 1,000-agent cohort', () => {
  it('never breeds two identical genomes (same family, symbol and genes) over three cycles', () => {
    // Prepare: before content was checked, cycle 3 of this pool held two identical genomes
    // under different ids (different parents).
    let input = cycleInput(1000);

    for (let cycle = 0; cycle < 3; cycle++) {
      // Act
      const { pool } = runLearningCycle(input);

      // Assess
      const contents = new Set(
        pool.map((g) =>
          JSON.stringify([
            g.family,
            g.symbol,
            Object.entries(g.params).sort(([a], [b]) => (a < b ? -1 : 1)),
          ]),
        ),
      );
      expect(contents.size).toBe(pool.length);
      expect(new Set(pool.map((g) => g.id)).size).toBe(1000);
      input = cycleInput(1000, { pool, scored: randomResults(pool, cycle + 3) });
    }
  });
});
