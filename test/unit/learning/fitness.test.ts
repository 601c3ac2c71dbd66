/** Fitness of genomes over the lookback window: formula, activity rule, ranking order. */
import { describe, expect, it } from 'vitest';
import { seedGenomePool } from '../../../functions/core/cohort/genome.js';
import {
  compareFitness,
  evaluateFitness,
  type GenomeFitness,
} from '../../../functions/core/learning/fitness.js';
import { NOW, result, SYMBOLS } from './fixtures.js';

const HOUR = 3_600_000;
const pool = seedGenomePool(6, SYMBOLS, 3);
const ids = pool.map((g) => g.id);
const id = (i: number) => ids[i] as string;
const window = (hours: number) => [NOW - hours * HOUR, NOW] as const;

function byId(rows: readonly GenomeFitness[]): Map<string, GenomeFitness> {
  return new Map(rows.map((r) => [r.genomeId, r]));
}

describe('evaluateFitness', () => {
  it('is mean ROI minus the mean parent-bankroll drawdown (penalty 1)', () => {
    // Prepare
    const scored = [
      result(id(0), 0.02, { maxDrawdownFraction: 0.004 }),
      result(id(0), 0.01, { maxDrawdownFraction: 0.002, hoursAgo: 2 }),
    ];

    // Act
    const rows = byId(evaluateFitness(pool, scored, ...window(24)));

    // Assess
    const row = rows.get(id(0));
    expect(row?.status).toBe('scored');
    expect(row?.samples).toBe(2);
    expect(row?.fitness).toBeCloseTo(0.015 - 0.003, 12);
    expect(row?.meanRoi).toBeCloseTo(0.015, 12);
    expect(row?.tradeCount).toBe(20);
  });

  it('orders by ROI, and a deeper drawdown lowers an equal ROI', () => {
    // Prepare
    const scored = [
      result(id(0), 0.01),
      result(id(1), 0.02),
      result(id(2), 0.02, { maxDrawdownFraction: 0.005 }),
      result(id(3), -0.01),
    ];

    // Act
    const ranked = evaluateFitness(pool, scored, ...window(24))
      .filter((r) => r.samples > 0)
      .sort(compareFitness);

    // Assess
    expect(ranked.map((r) => r.genomeId)).toEqual([id(1), id(2), id(0), id(3)]);
  });

  it('ranks an idle genome (too few fills) below every active one, even a loser', () => {
    // Prepare
    const scored = [
      result(id(0), 0.01),
      result(id(1), -0.05),
      result(id(2), 0, { tradeCount: 0 }),
      result(id(3), 0.03, { tradeCount: 1 }),
    ];

    // Act
    const rows = byId(evaluateFitness(pool, scored, ...window(24)));

    // Assess
    expect(rows.get(id(2))?.status).toBe('idle');
    expect(rows.get(id(3))?.status).toBe('idle');
    expect(rows.get(id(2))?.fitness).toBeCloseTo(-0.05 - 0.01, 12);
    expect(rows.get(id(2))?.fitness).toBeLessThan(rows.get(id(1))?.fitness as number);
  });

  it('gives genomes without results the mean fitness of the active ones', () => {
    // Prepare
    const scored = [result(id(0), 0.03), result(id(1), -0.01)];

    // Act
    const rows = byId(evaluateFitness(pool, scored, ...window(24)));

    // Assess
    expect(rows.get(id(4))?.status).toBe('unscored');
    expect(rows.get(id(4))?.samples).toBe(0);
    expect(rows.get(id(4))?.fitness).toBeCloseTo(0.01, 12);
    expect(rows.get(id(4))?.meanRoi).toBeNull();
  });

  it('gives 0 to every genome when nothing was scored', () => {
    // Act
    const rows = evaluateFitness(pool, [], ...window(6));

    // Assess
    expect(rows.map((r) => r.fitness)).toEqual(pool.map(() => 0));
  });

  it('ignores results outside the lookback window, from the future, or of other genomes', () => {
    // Prepare
    const scored = [
      result(id(0), 0.02, { hoursAgo: 5 }),
      result(id(0), -0.5, { hoursAgo: 7 }),
      result(id(0), -0.5, { hoursAgo: -1 }),
      result('g9-000000000000', 0.9),
    ];

    // Act
    const six = byId(evaluateFitness(pool, scored, ...window(6)));
    const twelve = byId(evaluateFitness(pool, scored, ...window(12)));

    // Assess
    expect(six.get(id(0))?.samples).toBe(1);
    expect(six.get(id(0))?.fitness).toBeCloseTo(0.02, 12);
    expect(twelve.get(id(0))?.samples).toBe(2);
    expect(six.has('g9-000000000000')).toBe(false);
  });

  it('breaks fitness ties by the per-session Sharpe of session returns, then by genome id', () => {
    // Prepare: equal mean ROI (0.5) and no drawdown; id(1)'s sessions disperse least.
    const two = (g: string, a: number, b: number) => [
      result(g, a, { hoursAgo: 1 }),
      result(g, b, { hoursAgo: 2, sessionDate: '2013-10-04' }),
    ];
    const scored = [
      ...two(id(0), 0.25, 0.75),
      ...two(id(1), 0.375, 0.625),
      ...two(id(2), 0.25, 0.75),
    ];

    // Act
    const ranked = evaluateFitness(pool, scored, ...window(24))
      .filter((r) => r.samples > 0)
      .sort(compareFitness);

    // Assess
    const tied = [id(0), id(2)].sort();
    expect(ranked.map((r) => r.genomeId)).toEqual([id(1), ...tied]);
    expect(ranked[0]?.sessionSharpe).toBeCloseTo(0.5 / Math.sqrt(0.125 ** 2 * 2), 12);
  });

  it('has no per-session Sharpe with a single session', () => {
    // Act
    const [row] = evaluateFitness(pool, [result(id(0), 0.01)], ...window(24)).filter(
      (r) => r.samples > 0,
    );

    // Assess
    expect(row?.sessionSharpe).toBeNull();
  });
});
