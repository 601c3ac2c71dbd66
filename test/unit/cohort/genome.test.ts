import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  clampGenome,
  GENOME_BOUNDS,
  type Genome,
  genomeId,
  randomGenome,
  STRATEGY_FAMILIES,
  seedGenomePool,
  validateGenome,
} from '../../../functions/core/cohort/genome.js';
import { ValidationError } from '../../../functions/core/errors.js';
import { createRandom } from '../../../functions/core/random.js';
import { genome } from './fixtures.js';

const SYMBOLS = ['SPY', 'BAC', 'AIG', 'IBM'];

function inBounds(g: Genome): boolean {
  const bounds = GENOME_BOUNDS[g.family];
  return Object.entries(bounds).every(([name, b]) => {
    const v = g.params[name];
    return v !== undefined && v >= b.min && v <= b.max && (!b.integer || Number.isInteger(v));
  });
}

describe('GENOME_BOUNDS', () => {
  it('gives every family a riskFraction gene', () => {
    // Act / Assess
    for (const family of STRATEGY_FAMILIES) {
      expect(GENOME_BOUNDS[family].riskFraction).toEqual({ min: 0.05, max: 2, integer: false });
    }
  });
});

describe('seedGenomePool', () => {
  it('is deterministic for a seed', () => {
    // Act
    const a = seedGenomePool(40, SYMBOLS, 5);
    const b = seedGenomePool(40, SYMBOLS, 5);

    // Assess
    expect(b).toEqual(a);
  });

  it('draws different genomes for different seeds', () => {
    // Act
    const a = seedGenomePool(8, SYMBOLS, 1);
    const b = seedGenomePool(8, SYMBOLS, 2);

    // Assess
    expect(b.map((g) => g.id)).not.toEqual(a.map((g) => g.id));
    expect(b.map((g) => g.params)).not.toEqual(a.map((g) => g.params));
  });

  it('spreads families round-robin and covers every family × symbol pair every 16 genomes', () => {
    // Act
    const pool = seedGenomePool(16, SYMBOLS, 1);

    // Assess
    expect(pool.slice(0, 5).map((g) => g.family)).toEqual([
      'momentum',
      'bollinger_reversion',
      'donchian_breakout',
      'opening_range_breakout',
      'momentum',
    ]);
    expect(new Set(pool.map((g) => `${g.family}/${g.symbol}`)).size).toBe(16);
  });

  it('creates generation-0 genomes with unique g0-<hash> ids and genes inside their bounds', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        fc.integer({ min: 1, max: 200 }),
        (seed, count) => {
          // Act
          const pool = seedGenomePool(count, SYMBOLS, seed);

          // Assess
          expect(pool).toHaveLength(count);
          expect(new Set(pool.map((g) => g.id)).size).toBe(count);
          for (const g of pool) {
            expect(g.id).toMatch(/^g0-[0-9a-f]{12}$/);
            expect(g.generation).toBe(0);
            expect(g.parentIds).toEqual([]);
            expect(inBounds(g)).toBe(true);
            expect(validateGenome(g)).toEqual(g);
          }
        },
      ),
      { numRuns: 50 },
    );
  });

  it('rejects a negative count and an empty symbol list', () => {
    // Act / Assess
    expect(() => seedGenomePool(-1, SYMBOLS, 1)).toThrow(ValidationError);
    expect(() => seedGenomePool(3, [], 1)).toThrow(ValidationError);
  });
});

describe('randomGenome', () => {
  it('picks its symbol from the list and the family it is asked for', () => {
    // Prepare
    const rng = createRandom(11);

    // Act
    const g = randomGenome(rng, 'donchian_breakout', ['IBM', 'AIG'], 3);

    // Assess
    expect(g.family).toBe('donchian_breakout');
    expect(['IBM', 'AIG']).toContain(g.symbol);
    expect(g.id).toMatch(/^g3-/);
    expect(Object.keys(g.params).sort()).toEqual([
      'atrStop',
      'atrWindow',
      'riskFraction',
      'window',
    ]);
  });
});

describe('genomeId', () => {
  it('depends on the content but not on the order of the params', () => {
    // Prepare
    const base = { family: 'momentum' as const, symbol: 'SPY', generation: 1, parentIds: ['p'] };

    // Act
    const a = genomeId({ ...base, params: { lookback: 5, threshold: 0.001, riskFraction: 1 } });
    const b = genomeId({ ...base, params: { riskFraction: 1, threshold: 0.001, lookback: 5 } });
    const c = genomeId({ ...base, params: { riskFraction: 1, threshold: 0.001, lookback: 6 } });

    // Assess
    expect(b).toBe(a);
    expect(c).not.toBe(a);
  });
});

describe('validateGenome', () => {
  it('names the gene that is out of bounds', () => {
    // Prepare
    const g = genome('momentum', 'SPY', { lookback: 500, threshold: 0.001, riskFraction: 1 });

    // Act / Assess
    expect(() => validateGenome(g, 'genomes[2]')).toThrow(
      expect.objectContaining({ field: 'genomes[2].params.lookback' }),
    );
  });

  it('rejects a missing gene, a gene of another family and a fractional integer gene', () => {
    // Prepare
    const missing = genome('momentum', 'SPY', { lookback: 5, riskFraction: 1 });
    const foreign = genome('momentum', 'SPY', {
      lookback: 5,
      threshold: 0.001,
      riskFraction: 1,
      k: 2,
    });
    const fractional = genome('momentum', 'SPY', {
      lookback: 5.5,
      threshold: 0.001,
      riskFraction: 1,
    });

    // Act / Assess
    expect(() => validateGenome(missing)).toThrow(
      expect.objectContaining({ field: 'genome.params.threshold' }),
    );
    expect(() => validateGenome(foreign)).toThrow(
      expect.objectContaining({ field: 'genome.params.k' }),
    );
    expect(() => validateGenome(fractional)).toThrow(
      expect.objectContaining({ field: 'genome.params.lookback' }),
    );
  });

  it('rejects an unknown family', () => {
    // Act / Assess
    expect(() => validateGenome({ ...genome('momentum', 'SPY', {}), family: 'pairs' })).toThrow(
      ValidationError,
    );
  });
});

describe('clampGenome', () => {
  it('pulls genes into bounds, rounds integer genes, fills missing ones and drops foreign ones', () => {
    // Prepare
    const g = genome('donchian_breakout', 'BAC', {
      window: 3.4,
      atrWindow: 61.6,
      riskFraction: 9,
      extra: 1,
    });

    // Act
    const clamped = clampGenome(g);

    // Assess
    expect(clamped.params).toEqual({ window: 5, atrWindow: 60, atrStop: 2.75, riskFraction: 2 });
    expect(clamped.id).toBe(g.id);
    expect(validateGenome(clamped)).toEqual(clamped);
  });

  it('returns a valid genome for any numbers', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...STRATEGY_FAMILIES),
        fc.dictionary(
          fc.constantFrom('lookback', 'threshold', 'window', 'k', 'riskFraction', 'rangeMinutes'),
          fc.double(),
        ),
        (family, params) => {
          // Act
          const clamped = clampGenome(genome(family, 'SPY', params));

          // Assess
          expect(inBounds(clamped)).toBe(true);
        },
      ),
    );
  });
});
