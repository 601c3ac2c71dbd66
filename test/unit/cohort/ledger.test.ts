import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AgentLedgers } from '../../../functions/core/cohort/ledger.js';
import { ParentWallet } from '../../../functions/core/cohort/wallet.js';
import { ValidationError } from '../../../functions/core/errors.js';

describe('AgentLedgers', () => {
  it('books adds, partial closes, a flip and a close with the average-cost method', () => {
    // Prepare
    const led = new AgentLedgers([1_000]);

    // Act / Assess
    led.applyFill(0, 10, 100, 1); // buy 10 @ 100, fee 1: cash 1000 − 1000 − 1 = −1
    expect([led.cashUsd[0], led.qty[0], led.avgPriceUsd[0]]).toEqual([-1, 10, 100]);

    led.applyFill(0, 10, 110, 0); // add 10 @ 110: avg (10×100 + 10×110) / 20 = 105
    expect([led.qty[0], led.avgPriceUsd[0]]).toEqual([20, 105]);

    led.applyFill(0, -5, 120, 0); // sell 5 @ 120: realized (120 − 105) × 5 = 75, avg unchanged
    expect([led.qty[0], led.avgPriceUsd[0], led.realizedPnlUsd[0]]).toEqual([15, 105, 75]);

    led.applyFill(0, -25, 100, 0); // sell 25 @ 100: close 15 → (100 − 105) × 15 = −75; short 10 @ 100
    expect([led.qty[0], led.avgPriceUsd[0], led.realizedPnlUsd[0]]).toEqual([-10, 100, 0]);

    led.applyFill(0, 10, 90, 0.5); // cover 10 @ 90: (90 − 100) × 10 × (−1) = +100; flat
    expect([led.qty[0], led.avgPriceUsd[0], led.realizedPnlUsd[0], led.feesUsd[0]]).toEqual([
      0, 0, 100, 1.5,
    ]);
    // cash: −1 − 1100 + 600 + 2500 − 900 − 0.5 = 1098.5 = 1000 + 100 − 1.5
    expect(led.cashUsd[0]).toBeCloseTo(1_098.5, 9);
    expect(led.tradeCount[0]).toBe(5);
  });

  it('keeps cash + qty × mark == allocation + realized + unrealized − fees after any fills', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            qty: fc.double({ min: -50, max: 50, noNaN: true }),
            price: fc.double({ min: 1, max: 500, noNaN: true }),
            fee: fc.double({ min: 0, max: 2, noNaN: true }),
          }),
          { maxLength: 40 },
        ),
        fc.double({ min: 1, max: 500, noNaN: true }),
        (fills, mark) => {
          // Prepare
          const led = new AgentLedgers([250]);

          // Act
          for (const f of fills) if (f.qty !== 0) led.applyFill(0, f.qty, f.price, f.fee);

          // Assess
          const equity = led.equityUsd(0, mark);
          const identity =
            250 +
            (led.realizedPnlUsd[0] as number) +
            led.unrealizedPnlUsd(0, mark) -
            (led.feesUsd[0] as number);
          expect(Math.abs(equity - identity)).toBeLessThan(1e-6);
        },
      ),
    );
  });
});

describe('ParentWallet', () => {
  it('keeps the unallocated remainder', () => {
    // Act
    const wallet = new ParentWallet(100, [33.33, 33.33, 33.33]);

    // Assess
    expect(wallet.unallocatedCashUsd).toBe(0.01);
    expect(wallet.totalEquityUsd(99.99)).toBeCloseTo(100, 9);
  });

  it('refuses allocations above the bankroll or negative', () => {
    // Act / Assess
    expect(() => new ParentWallet(100, [60, 41])).toThrow(ValidationError);
    expect(() => new ParentWallet(100, [-1])).toThrow(ValidationError);
  });
});
