import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  allocateBankroll,
  equalAllocation,
  riskWeightedAllocation,
} from '../../../functions/core/cohort/allocation.js';

const SYMBOLS = ['SPY', 'BAC', 'AIG', 'IBM'];

describe('allocateBankroll', () => {
  it('never hands out more than the bankroll nor a negative amount, for any bankroll, count and policy', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 50, max: 100_000, noNaN: true }),
        fc.integer({ min: 1, max: 1_000 }),
        fc.constantFrom('equal' as const, 'risk-weighted' as const),
        fc.array(fc.double({ min: 0.05, max: 2, noNaN: true }), { minLength: 1, maxLength: 1_000 }),
        fc.dictionary(
          fc.constantFrom(...SYMBOLS),
          fc.double({ min: 0.001, max: 0.2, noNaN: true }),
        ),
        (bankrollUsd, count, policy, riskFractions, riskEstimates) => {
          // Prepare
          const agents = Array.from({ length: count }, (_, i) => ({
            symbol: SYMBOLS[i % SYMBOLS.length] as string,
            riskFraction: riskFractions[i % riskFractions.length] as number,
          }));

          // Act
          const { allocationsUsd, unallocatedUsd } = allocateBankroll(
            bankrollUsd,
            policy,
            agents,
            riskEstimates,
          );

          // Assess
          expect(allocationsUsd).toHaveLength(count);
          let cents = 0;
          for (const a of allocationsUsd) {
            expect(a).toBeGreaterThanOrEqual(0);
            expect(Math.abs(a * 100 - Math.round(a * 100))).toBeLessThan(1e-6);
            cents += Math.round(a * 100);
          }
          expect(cents / 100).toBeLessThanOrEqual(bankrollUsd + 1e-9);
          expect(unallocatedUsd).toBeGreaterThanOrEqual(0);
          expect(cents / 100 + unallocatedUsd).toBeCloseTo(bankrollUsd, 6);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('falls back to equal when a symbol has no usable risk estimate', () => {
    // Prepare
    const agents = [
      { symbol: 'SPY', riskFraction: 1 },
      { symbol: 'BAC', riskFraction: 0.5 },
    ];

    // Act
    const result = allocateBankroll(1_000, 'risk-weighted', agents, { SPY: 0.01 });

    // Assess
    expect(result.policyApplied).toBe('equal');
    expect(result.allocationsUsd).toEqual([500, 500]);
  });

  it('applies risk-weighted when every symbol has a σ', () => {
    // Act
    const result = allocateBankroll(1_000, 'risk-weighted', [{ symbol: 'SPY', riskFraction: 1 }], {
      SPY: 0.01,
    });

    // Assess
    expect(result.policyApplied).toBe('risk-weighted');
    expect(result.allocationsUsd).toEqual([1_000]);
  });
});

describe('equalAllocation', () => {
  it('gives every agent the same whole cents and keeps the remainder', () => {
    // Act: 5000 cents / 30 = 166.67 → 166 cents each, 20 cents left
    const allocations = equalAllocation(50, 30);

    // Assess
    expect(new Set(allocations)).toEqual(new Set([1.66]));
    expect(allocations).toHaveLength(30);
  });

  it('reads a bankroll such as 50.01 as 5001 cents despite binary rounding', () => {
    // Act / Assess
    expect(equalAllocation(50.01, 1)).toEqual([50.01]);
  });
});

describe('riskWeightedAllocation', () => {
  it('weights agents by 1 / (riskFraction × σ)', () => {
    // Prepare: w = 1/(1 × 0.01) = 100, 1/(0.5 × 0.01) = 200, 1/(1 × 0.02) = 50; Σ = 350.
    // 100000 cents × 100/350 = 28571.43 → 285.71; × 200/350 = 57142.86 → 571.42; × 50/350 = 14285.71 → 142.85

    // Act
    const allocations = riskWeightedAllocation(1_000, [1, 0.5, 1], [0.01, 0.01, 0.02]);

    // Assess
    expect(allocations).toEqual([285.71, 571.42, 142.85]);
  });
});
