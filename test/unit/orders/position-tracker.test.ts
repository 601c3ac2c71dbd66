import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../functions/core/errors.js';
import {
  applyFill,
  emptyBook,
  type PositionBook,
  type PositionFill,
  positionOf,
  positionsOf,
} from '../../../functions/core/orders/position-tracker.js';

const T = Date.UTC(2024, 0, 2, 15, 0);
const fill = (
  side: 'buy' | 'sell',
  qty: number,
  priceUsd: number,
  symbol = 'SPY',
): PositionFill => ({
  symbol,
  side,
  qty,
  priceUsd,
  atMs: T,
});

function run(fills: readonly PositionFill[]): { book: PositionBook; realized: number[] } {
  let book = emptyBook();
  const realized: number[] = [];
  for (const f of fills) {
    const out = applyFill(book, f);
    book = out.book;
    realized.push(out.realizedPnlUsd);
  }
  return { book, realized };
}

describe('FIFO position tracker', () => {
  it('realizes 250 USD on buy 10@100, buy 10@110, sell 15@120', () => {
    // Prepare / Act
    const { book, realized } = run([
      fill('buy', 10, 100),
      fill('buy', 10, 110),
      fill('sell', 15, 120),
    ]);
    const pos = positionOf(book, 'SPY');
    // Assess: 15 * 120 - (10 * 100 + 5 * 110) = 250
    expect(realized).toEqual([0, 0, 250]);
    expect(pos.qty).toBe(5);
    expect(pos.avgCostUsd).toBe(110);
    expect(pos.realizedPnlUsd).toBe(250);
  });

  it('tracks shorts and flips through zero', () => {
    // Prepare / Act: short 10 @ 50, cover 4 @ 45 (+20), buy 10 @ 40 covers 6 (+60) and opens 4 long
    const { book, realized } = run([fill('sell', 10, 50), fill('buy', 4, 45), fill('buy', 10, 40)]);
    const pos = positionOf(book, 'SPY');
    // Assess
    expect(realized).toEqual([0, 20, 60]);
    expect(pos.qty).toBe(4);
    expect(pos.avgCostUsd).toBe(40);
    expect(pos.realizedPnlUsd).toBe(80);
  });

  it('keeps symbols apart and reports flat positions with their realized P&L', () => {
    // Prepare / Act
    const { book } = run([
      fill('buy', 1, 10, 'AAA'),
      fill('sell', 1, 12, 'AAA'),
      fill('buy', 2, 5, 'BBB'),
    ]);
    // Assess
    expect(positionsOf(book).map((p) => [p.symbol, p.qty, p.avgCostUsd, p.realizedPnlUsd])).toEqual(
      [
        ['AAA', 0, null, 2],
        ['BBB', 2, 5, 0],
      ],
    );
    expect(positionOf(book, 'ZZZ').qty).toBe(0);
  });

  it('does not modify the input book', () => {
    // Prepare
    const { book } = run([fill('buy', 10, 100)]);
    const frozen = JSON.stringify(book);
    // Act
    applyFill(book, fill('sell', 10, 90));
    // Assess
    expect(JSON.stringify(book)).toBe(frozen);
  });

  it('rejects invalid fills', () => {
    expect(() => applyFill(emptyBook(), fill('buy', 0, 100))).toThrow(ValidationError);
    expect(() => applyFill(emptyBook(), fill('buy', 1, Number.NaN))).toThrow(ValidationError);
  });

  it('conserves cash: realized + mark-to-market at any price equals total cash flow (property)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            side: fc.constantFrom('buy' as const, 'sell' as const),
            qty: fc.integer({ min: 1, max: 50 }),
            priceUsd: fc.integer({ min: 1, max: 500 }),
          }),
          { maxLength: 30 },
        ),
        fc.integer({ min: 1, max: 500 }),
        (fills, markUsd) => {
          // Prepare
          const { book, realized } = run(fills.map((f) => fill(f.side, f.qty, f.priceUsd)));
          const pos = positionOf(book, 'SPY');
          let cash = 0;
          let net = 0;
          for (const f of fills) {
            const s = f.side === 'buy' ? 1 : -1;
            cash -= s * f.qty * f.priceUsd;
            net += s * f.qty;
          }
          // Act
          const unrealized = pos.qty * markUsd - pos.qty * (pos.avgCostUsd ?? 0);
          // Assess
          expect(pos.qty).toBe(net);
          expect(pos.lots.every((l) => Math.sign(l.qty) === Math.sign(net))).toBe(true);
          expect(realized.reduce((a, b) => a + b, 0)).toBeCloseTo(pos.realizedPnlUsd, 6);
          expect(pos.realizedPnlUsd + unrealized).toBeCloseTo(cash + net * markUsd, 6);
        },
      ),
    );
  });
});
