import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { seedGenomePool } from '../../../functions/core/cohort/genome.js';
import {
  BollingerReversionStrategy,
  createStrategy,
  DonchianBreakoutStrategy,
  MomentumStrategy,
  OpeningRangeBreakoutStrategy,
  type Strategy,
} from '../../../functions/core/cohort/strategies.js';
import { ValidationError } from '../../../functions/core/errors.js';
import { createRandom } from '../../../functions/core/random.js';
import { genome, MINUTE_MS, OPEN_2013_10_07 } from './fixtures.js';

/** Feeds closes (high = low = close) one per minute from the open; NaN output → null. */
function run(strategy: Strategy, closes: readonly number[]): (number | null)[] {
  strategy.reset(OPEN_2013_10_07);
  return closes.map((c, t) => {
    const out = strategy.step(OPEN_2013_10_07 + t * MINUTE_MS, c, c, c, 100);
    return Number.isNaN(out) ? null : out;
  });
}

describe('MomentumStrategy', () => {
  it('goes long above +threshold, flat inside, short below -threshold, answering only on change', () => {
    // Prepare: lookback 2, threshold 1%, riskFraction 0.5.
    // r_t = close_t / close_{t-2} - 1: bar 2: 0 (flat = unchanged), bar 3: 102/100-1 = +2% (long),
    // bar 4: 102/100 (unchanged), bar 5: 102/102 = 0 (flat), bar 6: 99/102-1 = -2.9% (short).
    const strategy = new MomentumStrategy(2, 0.01, 0.5);

    // Act
    const out = run(strategy, [100, 100, 100, 102, 102, 102, 99]);

    // Assess
    expect(out).toEqual([null, null, null, 0.5, null, 0, -0.5]);
  });
});

describe('BollingerReversionStrategy', () => {
  it('buys below the lower band, exits at the middle band, sells above the upper band', () => {
    // Prepare: window 3, k 1 (population σ).
    // bar 3: [10,10,10] σ = 0 → hold.
    // bar 4: [10,10,7] mean 9, σ = √2 ≈ 1.414; 7 < 9 − 1.414 → long.
    // bar 5: [10,7,10] mean 9; 10 >= mean → flat.
    // bar 6: [7,10,13] mean 10, σ = √6 ≈ 2.449; 13 > 12.449 → short.
    // bar 7: [10,13,10] mean 11; 10 <= mean → flat.
    const strategy = new BollingerReversionStrategy(3, 1, 0.8);

    // Act
    const out = run(strategy, [10, 10, 10, 10, 7, 10, 13, 10]);

    // Assess
    expect(out).toEqual([null, null, null, null, 0.8, 0, -0.8, 0]);
  });
});

describe('DonchianBreakoutStrategy', () => {
  it('breaks out of the previous bars channel, flips on the opposite break, stops at entry ± atrStop × ATR', () => {
    // Prepare: window 3, atrWindow 2, atrStop 1, high = low = close so TR = |close − prev close|.
    // TR: 0,0,0,1,0,0.5,1.5,1. ATR (Wilder): n=1: (0+0)/2 = 0; n=2: 0; n=3: (0+1)/2 = 0.5;
    // n=4: 0.25; n=5: 0.375; n=6: 0.9375; n=7: 0.96875.
    // n=3: close 11 > max(10,10,10) → long, stop 11 − 0.5 = 10.5.
    // n=4: channel [10,10,11]: 11 is not > 11 → hold. n=5: 10.5 is not < stop 10.5 → hold.
    // n=6: channel [11,11,10.5]: 9 < 10.5 → flip short, stop 9 + 0.9375 = 9.9375.
    // n=7: 10 > 9.9375 → stopped out, flat.
    const strategy = new DonchianBreakoutStrategy(3, 2, 1, 1.5);

    // Act
    const out = run(strategy, [10, 10, 10, 11, 11, 10.5, 9, 10]);

    // Assess
    expect(out).toEqual([null, null, null, 1.5, null, null, -1.5, 0]);
  });
});

describe('OpeningRangeBreakoutStrategy', () => {
  it('trades the first breakout of the opening range once and stops out at stopRangeMultiple × width', () => {
    // Prepare: range = bars starting in the first 5 minutes: high 101, low 99, width 2.
    // bar 6: 101.5 > 101 → long, stop = 101 − 0.5 × 2 = 100. bar 8: 99.9 < 100 → flat; no re-entry.
    const strategy = new OpeningRangeBreakoutStrategy(5, 0.5, 1);

    // Act
    const out = run(strategy, [100, 101, 99, 100, 100, 100.5, 101.5, 100.2, 99.9, 102, 98]);

    // Assess
    expect(out).toEqual([null, null, null, null, null, null, 1, null, 0, null, null]);
  });

  it('goes short on a break below the range', () => {
    // Prepare
    const strategy = new OpeningRangeBreakoutStrategy(5, 1, 0.3);

    // Act
    const out = run(strategy, [100, 101, 99, 100, 100, 98.5, 100.5, 101.1]);

    // Assess: short at 98.5 with stop 99 + 1 × 2 = 101; 101.1 > 101 → flat.
    expect(out).toEqual([null, null, null, null, null, -0.3, null, 0]);
  });
});

describe('createStrategy', () => {
  it('answers only HOLD or ±riskFraction or 0, for every family on a random walk', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000 }), (seed) => {
        // Prepare
        const rng = createRandom(seed);
        const closes: number[] = [];
        let p = 100;
        for (let t = 0; t < 200; t++) {
          p *= Math.exp(0.003 * rng.normal());
          closes.push(p);
        }
        const genomes = seedGenomePool(4, ['SPY'], seed);

        for (const g of genomes) {
          const rf = g.params.riskFraction as number;

          // Act
          const out = run(createStrategy(g), closes);

          // Assess
          for (const o of out) expect(o === null || o === 0 || Math.abs(o) === rf).toBe(true);
        }
      }),
      { numRuns: 30 },
    );
  });

  it('restarts from scratch after reset', () => {
    // Prepare
    const strategy = createStrategy(
      genome('momentum', 'SPY', { lookback: 2, threshold: 0.01, riskFraction: 1 }),
    );
    const closes = [100, 100, 103, 103, 95];

    // Act
    const first = run(strategy, closes);
    const second = run(strategy, closes);

    // Assess
    expect(second).toEqual(first);
  });

  it('throws ValidationError when a gene is missing', () => {
    // Act / Assess
    expect(() =>
      createStrategy(genome('bollinger_reversion', 'SPY', { window: 20, riskFraction: 1 })),
    ).toThrow(ValidationError);
  });
});
