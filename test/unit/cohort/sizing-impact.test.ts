import { describe, expect, it } from 'vitest';
import { fillPriceWithImpactUsd } from '../../../functions/core/cohort/fill-model.js';
import { type SizingInput, sizeOrder } from '../../../functions/core/cohort/sizing.js';

const COSTS = {
  slippageBps: 0,
  impactCoefficientBps: 100,
  feePerShareUsd: 0,
  minFeeUsd: 0,
  maxFeeFraction: 0,
};

const BASE: SizingInput = {
  target: 10,
  qty: 0,
  cashUsd: 1_000,
  markUsd: 100,
  bidUsd: 99.99,
  askUsd: 100.01,
  leverageCap: 1,
  aggregateHeadroomUsd: Number.POSITIVE_INFINITY,
  costs: COSTS,
  step: 1e-6,
  asset: { market: 'equity-usa', fractionable: true },
};

describe('sizing under market impact', () => {
  it('prices the wanted quantity at the decision minute volume: a smaller order, still within the leverage ceiling once filled at its impacted price', () => {
    // Act: 10 shares of a minute that traded 40 (participation 0.25: 50 bp of impact)
    const withImpact = sizeOrder({ ...BASE, volumeShares: 40 });
    const without = sizeOrder({ ...BASE, volumeShares: 0 });

    // Assess: the impact costs equity, so fewer shares fit under the ceiling
    const x = withImpact?.qty ?? Number.NaN;
    expect(withImpact?.leverageBreach).toBe(true);
    expect(x).toBeLessThan(without?.qty ?? 0);
    const price = fillPriceWithImpactUsd('buy', { bid: 99.99, ask: 100.01 }, COSTS, x, 40);
    const equity = BASE.cashUsd - x * (price - BASE.markUsd);
    expect(x * BASE.markUsd).toBeLessThanOrEqual(BASE.leverageCap * equity);
  });
});
