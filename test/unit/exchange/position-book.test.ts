import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AgentLedgers } from '../../../functions/core/cohort/ledger.js';
import {
  applyBookFill,
  bookEquityUsd,
  emptyAccountBook,
  openPositions,
} from '../../../functions/core/exchange/position-book.js';

describe('the position book', () => {
  it('books adds, a partial close, a flip and a cover with average cost, cash and fees', () => {
    // Prepare
    let book = emptyAccountBook(1_000);

    // Act
    book = applyBookFill(book, { symbol: 'SPY', side: 'buy', qty: 10, priceUsd: 100, feeUsd: 1 });
    book = applyBookFill(book, { symbol: 'SPY', side: 'buy', qty: 10, priceUsd: 110, feeUsd: 0 });
    book = applyBookFill(book, { symbol: 'SPY', side: 'sell', qty: 5, priceUsd: 120, feeUsd: 0 });
    const afterPartial = book.positions.SPY;
    book = applyBookFill(book, { symbol: 'SPY', side: 'sell', qty: 25, priceUsd: 100, feeUsd: 0 });
    const afterFlip = book.positions.SPY;
    book = applyBookFill(book, { symbol: 'SPY', side: 'buy', qty: 10, priceUsd: 90, feeUsd: 0.5 });

    // Assess: average (10×100 + 10×110)/20 = 105; sell 5 @ 120 realizes 75
    expect([afterPartial?.qty, afterPartial?.avgPriceUsd, afterPartial?.realizedPnlUsd]).toEqual([
      15, 105, 75,
    ]);
    // sell 25 @ 100 closes 15 (−75) and opens short 10 @ 100
    expect([afterFlip?.qty, afterFlip?.avgPriceUsd, afterFlip?.realizedPnlUsd]).toEqual([
      -10, 100, 0,
    ]);
    // cover 10 @ 90: +100
    expect(book.realizedPnlUsd).toBe(100);
    expect(book.feesUsd).toBe(1.5);
    expect(book.cashUsd).toBeCloseTo(1_098.5, 9);
    expect(openPositions(book)).toEqual([]);
  });

  it('gives the cohort ledger and an account book the same result for any fills', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            qty: fc.double({ min: -50, max: 50, noNaN: true }).filter((q) => q !== 0),
            price: fc.double({ min: 1, max: 500, noNaN: true }),
            fee: fc.double({ min: 0, max: 2, noNaN: true }),
          }),
          { maxLength: 30 },
        ),
        fc.double({ min: 1, max: 500, noNaN: true }),
        (fills, mark) => {
          const led = new AgentLedgers([500]);
          let book = emptyAccountBook(500);
          for (const f of fills) {
            led.applyFill(0, f.qty, f.price, f.fee);
            book = applyBookFill(book, {
              symbol: 'X',
              side: f.qty > 0 ? 'buy' : 'sell',
              qty: Math.abs(f.qty),
              priceUsd: f.price,
              feeUsd: f.fee,
            });
          }
          const pos = book.positions.X ?? { qty: 0, avgPriceUsd: 0 };
          expect(pos.qty).toBe(led.qty[0]);
          expect(pos.avgPriceUsd).toBe(led.avgPriceUsd[0]);
          expect(book.realizedPnlUsd).toBe(led.realizedPnlUsd[0]);
          expect(book.cashUsd).toBe(led.cashUsd[0]);
          expect(bookEquityUsd(book, { X: mark })).toBe(led.equityUsd(0, mark));
        },
      ),
    );
  });
});
