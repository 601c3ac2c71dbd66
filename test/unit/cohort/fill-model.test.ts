import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  commissionUsd,
  type FillCosts,
  fillMarketOrder,
  fillPriceUsd,
  fillPriceWithImpactUsd,
  marketImpactBps,
  qtyWithinNotional,
  roundQtyDown,
  roundQtyUp,
} from '../../../functions/core/cohort/fill-model.js';

const COSTS: FillCosts = {
  slippageBps: 1,
  feePerShareUsd: 0.005,
  minFeeUsd: 0,
  maxFeeFraction: 0.01,
};

describe('market impact (square-root law per minute)', () => {
  const QUOTE = { bid: 99.98, ask: 100.02 };
  const IMPACT = { slippageBps: 1, impactCoefficientBps: 50 };

  it('prices a fill at participation 1e-4 by hand: 50 × √1e-4 = 0.5 bp beyond the 1 bp slippage', () => {
    // Act: 1 share of a minute that traded 10,000
    const impact = marketImpactBps(IMPACT, 1, 10_000);
    const buy = fillPriceWithImpactUsd('buy', QUOTE, IMPACT, 1, 10_000);
    const sell = fillPriceWithImpactUsd('sell', QUOTE, IMPACT, 1, 10_000);

    // Assess: 100.02 × 1.00015 = 100.035003; 99.98 × 0.99985 = 99.965003
    expect(impact).toBeCloseTo(0.5, 12);
    expect(buy).toBeCloseTo(100.035003, 10);
    expect(sell).toBeCloseTo(99.965003, 10);
  });

  it('is the old price at participation 0, without a coefficient, or without volume', () => {
    // Act / Assess
    const old = fillPriceUsd('buy', 99.98, 100.02, 1);
    expect(fillPriceWithImpactUsd('buy', QUOTE, IMPACT, 0, 10_000)).toBe(old);
    expect(fillPriceWithImpactUsd('buy', QUOTE, { slippageBps: 1 }, 5_000, 10_000)).toBe(old);
    expect(fillPriceWithImpactUsd('buy', QUOTE, IMPACT, 5_000, 0)).toBe(old);
  });

  it('grows with the order size: a larger buy pays more, a larger sell receives less', () => {
    // Act
    const sizes = [1, 10, 100, 1_000, 10_000];
    const buys = sizes.map((q) => fillPriceWithImpactUsd('buy', QUOTE, IMPACT, q, 10_000));
    const sells = sizes.map((q) => fillPriceWithImpactUsd('sell', QUOTE, IMPACT, q, 10_000));

    // Assess: a whole minute's volume costs 50 bp beyond the slippage
    for (let k = 1; k < sizes.length; k++) {
      expect(buys[k]).toBeGreaterThan(buys[k - 1] as number);
      expect(sells[k]).toBeLessThan(sells[k - 1] as number);
    }
    expect(buys[4]).toBeCloseTo(100.02 * 1.0051, 10);
  });

  it('prices fillMarketOrder with the minute volume it is given', () => {
    // Act
    const costs = { ...COSTS, impactCoefficientBps: 50 };
    const fill = fillMarketOrder({ side: 'sell', qty: 1 }, QUOTE, costs, 0, 10_000);

    // Assess
    expect(fill?.priceUsd).toBeCloseTo(99.965003, 10);
  });
});

describe('fillPriceUsd', () => {
  it('buys at the ask plus slippage and sells at the bid minus slippage', () => {
    // Act
    const buy = fillPriceUsd('buy', 99.98, 100.02, 1);
    const sell = fillPriceUsd('sell', 99.98, 100.02, 1);

    // Assess: 100.02 × 1.0001 = 100.030002; 99.98 × 0.9999 = 99.970002
    expect(buy).toBeCloseTo(100.030002, 10);
    expect(sell).toBeCloseTo(99.970002, 10);
  });

  it('fills exactly at the touch without slippage', () => {
    // Act / Assess
    expect(fillPriceUsd('buy', 10, 10.01, 0)).toBe(10.01);
    expect(fillPriceUsd('sell', 10, 10.01, 0)).toBe(10);
  });

  it('gives no price when the needed side of the quote is missing', () => {
    // Act / Assess
    expect(fillPriceUsd('buy', 10, Number.NaN, 1)).toBeNaN();
    expect(fillPriceUsd('sell', Number.NaN, 10.01, 1)).toBeNaN();
    expect(fillPriceUsd('buy', Number.NaN, 10.01, 0)).toBe(10.01);
  });

  it('is always adverse: a buy pays at least the ask, a sell gets at most the bid', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.01, max: 10_000, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 500, noNaN: true }),
        (bid, spread, bps) => {
          // Act
          const buy = fillPriceUsd('buy', bid, bid + spread, bps);
          const sell = fillPriceUsd('sell', bid, bid + spread, bps);

          // Assess
          expect(buy).toBeGreaterThanOrEqual(bid + spread);
          expect(sell).toBeLessThanOrEqual(bid);
        },
      ),
    );
  });
});

describe('commissionUsd', () => {
  it('charges feePerShare × qty', () => {
    // Act / Assess: 100 shares × 0.005 = 0.50, under the 1% cap (1% × 100 × 50 = 50)
    expect(commissionUsd(100, 50, COSTS)).toBeCloseTo(0.5, 12);
  });

  it('applies the minimum fee per order', () => {
    // Act / Assess: max(1, 0.005 × 10) = 1; cap 1% × 10 × 200 = 20
    expect(commissionUsd(10, 200, { ...COSTS, minFeeUsd: 1 })).toBe(1);
  });

  it('caps the fee at maxFeeFraction of the notional', () => {
    // Act / Assess: min(1% × 10 × 1 = 0.10, max(1, 0.05)) = 0.10
    expect(commissionUsd(10, 1, { ...COSTS, minFeeUsd: 1 })).toBeCloseTo(0.1, 12);
  });

  it('charges nothing for no shares and uses |qty|', () => {
    // Act / Assess
    expect(commissionUsd(0, 100, { ...COSTS, minFeeUsd: 1 })).toBe(0);
    expect(commissionUsd(-100, 50, COSTS)).toBeCloseTo(0.5, 12);
  });
});

describe('fillMarketOrder', () => {
  it('fills a buy at the slipped ask with the fee of its quantity', () => {
    // Act
    const fill = fillMarketOrder({ side: 'buy', qty: 2.5 }, { bid: 169.99, ask: 170.01 }, COSTS);

    // Assess: price 170.01 × 1.0001 = 170.027001; fee min(1% × 2.5 × 170.027001, 0.005 × 2.5) = 0.0125
    expect(fill?.priceUsd).toBeCloseTo(170.027001, 9);
    expect(fill?.feeUsd).toBeCloseTo(0.0125, 12);
    expect(fill?.qty).toBe(2.5);
  });

  it('does not fill when the quote is NaN or the quantity is not positive', () => {
    // Act / Assess
    expect(
      fillMarketOrder({ side: 'sell', qty: 1 }, { bid: Number.NaN, ask: 10 }, COSTS),
    ).toBeNull();
    expect(
      fillMarketOrder({ side: 'buy', qty: 1 }, { bid: 10, ask: Number.NaN }, COSTS),
    ).toBeNull();
    expect(fillMarketOrder({ side: 'buy', qty: 0 }, { bid: 10, ask: 10.01 }, COSTS)).toBeNull();
  });
});

describe('quantity rounding', () => {
  it('rounds toward zero (opening) and away from zero (risk reductions) to the step', () => {
    // Act / Assess
    expect(roundQtyDown(0.3, 1e-6)).toBeCloseTo(0.3, 12);
    expect(roundQtyDown(1.9999994, 1e-6)).toBeCloseTo(1.999999, 12);
    expect(roundQtyDown(-1.5, 1)).toBe(-1);
    expect(roundQtyUp(1.0000001, 1e-6)).toBeCloseTo(1.000001, 12);
    expect(roundQtyUp(0.3, 1e-6)).toBeCloseTo(0.3, 12);
    expect(roundQtyUp(2.1, 1)).toBe(3);
  });

  it('never rounds past the budget: $50 at $10.01 buys 4.995004 shares, not 4.995005 ($50.00000005)', () => {
    // Act / Assess
    expect(roundQtyDown(4.995004995, 1e-6)).toBe(4.995004);
    expect(roundQtyDown(-4.995004995, 1e-6)).toBe(-4.995004);
    expect(qtyWithinNotional(50, 10.01, 1e-6)).toBe(4.995004);
    expect(qtyWithinNotional(50, 10.01, 1e-6) * 10.01).toBeLessThanOrEqual(50);
    expect(qtyWithinNotional(-50, 10.01, 1)).toBe(-4);
    expect(qtyWithinNotional(50, 0, 1e-6)).toBe(0);
  });

  const STEPS = [1, 1e-6, 1e-9, 0.01, 0.5, 1e-4];

  it('property: roundQtyDown is the largest multiple of the step not beyond |qty|, for every qty and step', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -1e6, max: 1e6, noNaN: true }),
        fc.oneof(fc.constantFrom(...STEPS), fc.double({ min: 1e-9, max: 100, noNaN: true })),
        (qty, step) => {
          const r = roundQtyDown(qty, step);
          // never beyond the budget, same side
          expect(Math.abs(r)).toBeLessThanOrEqual(Math.abs(qty));
          expect(r === 0 || Math.sign(r) === Math.sign(qty)).toBe(true);
          // a multiple of the step, and the largest one: less than one step below |qty|
          const steps = Math.round(Math.abs(r) / step);
          expect(Math.abs(Math.abs(r) - steps * step)).toBeLessThanOrEqual(
            1e-9 * Math.max(1, Math.abs(r)),
          );
          expect(Math.abs(qty) - Math.abs(r)).toBeLessThan(step * (1 + 1e-6) + 1e-9);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('property: qtyWithinNotional never costs more than its notional, for every notional, price and step', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -1e6, max: 1e6, noNaN: true }),
        fc.double({ min: 1e-4, max: 1e5, noNaN: true }),
        fc.constantFrom(...STEPS),
        (notional, price, step) => {
          const q = qtyWithinNotional(notional, price, step);
          expect(Math.abs(q) * price).toBeLessThanOrEqual(Math.abs(notional));
          expect(q === 0 || Math.sign(q) === Math.sign(notional)).toBe(true);
          // and not needlessly small: one step more would cost more than the notional
          expect((Math.abs(q) + step) * price).toBeGreaterThan(Math.abs(notional) * (1 - 1e-9));
        },
      ),
      { numRuns: 300 },
    );
  });
});
