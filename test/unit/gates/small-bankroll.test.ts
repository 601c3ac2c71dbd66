/**
 * Small bankrolls work as advertised: for every bankroll in $50..$100,000 the capital slice
 * (daily promotion and Day-3 micro-live alike) fits the exposure limits, so a candidate whose
 * other numbers pass is not failed by the slice rule itself; with the old rule a $50 floor was
 * 100 % of a $50 bankroll and failed every promotion.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evaluateGates } from '../../../functions/core/gates/evaluate.js';
import { DEFAULT_GATE_THRESHOLDS } from '../../../functions/core/gates/thresholds.js';
import { sliceOfBankroll } from '../../../functions/core/risk/capital-slice.js';
import { passingInput } from './fixtures.js';

const T = DEFAULT_GATE_THRESHOLDS;
const PROMOTION = { fraction: 0.1, minUsd: 50 };
const MICRO_LIVE = { fraction: 0.05, minUsd: 50 };

/** The gate input of a candidate that puts its whole slice into one long position. */
function candidate(bankrollUsd: number, sliceUsd: number) {
  const price = 10;
  const qty = sliceUsd / price;
  return {
    ...passingInput(),
    capitalUsd: bankrollUsd,
    risk: { ...passingInput().risk, capitalSliceUsd: sliceUsd },
    positionsAfterTrade: [{ symbol: 'SPY', notionalUsd: sliceUsd }],
    leverage: { grossNotionalUsd: sliceUsd, equityUsd: sliceUsd },
    liquidity: { ...passingInput().liquidity, orderQty: qty, bidUsd: price - 0.001, askUsd: price },
  };
}

describe('the capital slice of a small bankroll', () => {
  it('a $50 bankroll gets a $10 slice and its passing candidate passes every gate', () => {
    // Act
    const slice = sliceOfBankroll(50, PROMOTION, T.maxSymbolExposureFraction);
    const gates = evaluateGates(candidate(50, slice), T);

    // Assess
    expect(slice).toBe(10);
    expect(gates.results.filter((r) => r.verdict === 'fail')).toEqual([]);
    expect(gates.passed).toBe(true);
  });

  it('keeps the default run unchanged: $1,000 -> $100 promotion, $50 micro-live', () => {
    expect(sliceOfBankroll(1_000, PROMOTION, T.maxSymbolExposureFraction)).toBe(100);
    expect(sliceOfBankroll(1_000, MICRO_LIVE, T.maxSymbolExposureFraction)).toBe(50);
  });

  it('fits the exposure gates for every bankroll in 50..100,000 (property)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 50, max: 100_000, noNaN: true }),
        fc.constantFrom(PROMOTION, MICRO_LIVE),
        (bankroll, rule) => {
          const slice = sliceOfBankroll(bankroll, rule, T.maxSymbolExposureFraction);
          expect(slice).toBeGreaterThan(0);
          expect(slice).toBeLessThanOrEqual(bankroll * T.maxSymbolExposureFraction);
          const gates = evaluateGates(candidate(bankroll, slice), T);
          const exposure = gates.results.filter((r) => r.gate.startsWith('exposure_'));
          expect(exposure.every((r) => r.verdict === 'pass')).toBe(true);
        },
      ),
    );
  });
});
