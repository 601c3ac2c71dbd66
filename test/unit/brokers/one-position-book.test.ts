/**
 * One position book: the simulated paper broker (the paper/broker path) and the cohort
 * simulator's ledgers book fills through the same core function (`bookFill`,
 * `functions/core/exchange/position-book.ts`). For ANY sequence of market orders over ANY
 * quotes, the broker's account equals, to the last bit, the cohort ledger and an account book
 * fed the broker's own fills: cash, fees, realized PnL, quantity and average price. A second
 * booking rule anywhere (a rounding, another average, fees inside realized PnL) breaks it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SimulatedPaperBroker } from '../../../functions/adapters/brokers/simulated-broker.js';
import { AgentLedgers } from '../../../functions/core/cohort/ledger.js';
import { applyBookFill, emptyAccountBook } from '../../../functions/core/exchange/position-book.js';
import { ManualClock } from '../../../functions/ports/clock.js';
import { InMemorySimulatedBrokerStore } from '../../support/doubles/memory-simulated-broker-store.js';
import { COSTS, DATE, FakeMarketData, minute, OPEN, session } from './fixtures.js';

/** Large enough that no order of the property is refused for buying power. */
const STARTING_CASH_USD = 1e9;

const orderArb = fc.record({
  side: fc.constantFrom('buy' as const, 'sell' as const),
  /** Whole shares (the broker refuses fractional short sales), within one minute's volume. */
  qty: fc.integer({ min: 1, max: 500 }),
  bidUsd: fc.double({ min: 1, max: 1_000, noNaN: true }),
  spreadFraction: fc.double({ min: 0, max: 0.01, noNaN: true }),
});

describe('one position book for the simulator and the paper broker', () => {
  it('the broker ledger equals the cohort ledger and the account book over the broker fills, for any orders', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(orderArb, { minLength: 1, maxLength: 12 }), async (orders) => {
        // Prepare: one minute per order, then a spare minute
        const bid = [...orders.map((o) => o.bidUsd), 100];
        const ask = bid.map((b, i) => b * (1 + (orders[i]?.spreadFraction ?? 0)));
        const marketData = new FakeMarketData().add(
          session('SPY', DATE, OPEN, { bid, ask, volume: bid.map(() => 1_000) }),
        );
        const store = new InMemorySimulatedBrokerStore();
        const clock = new ManualClock(minute(0));
        const broker = new SimulatedPaperBroker({
          store,
          marketData,
          clock,
          config: {
            startingCashUsd: STARTING_CASH_USD,
            participationFraction: 1,
            latencyMs: 0,
            costs: COSTS,
            fractionalShares: true,
          },
        });

        // Act: order k is sent at the start of minute k and fills at its end
        for (const [k, o] of orders.entries()) {
          clock.set(minute(k));
          await broker.submitOrder({
            clientOrderId: `sg_book_${k}`,
            symbol: 'SPY',
            side: o.side,
            qty: o.qty,
            type: 'market',
            timeInForce: 'day',
          });
        }
        clock.set(minute(orders.length));
        const ledger = await broker.getLedger();
        const cohort = new AgentLedgers([STARTING_CASH_USD]);
        let book = emptyAccountBook(STARTING_CASH_USD);
        let fillCount = 0;
        for (const k of orders.keys()) {
          const rec = await store.getOrder(`sg_book_${k}`);
          for (const f of rec?.fills ?? []) {
            const side = rec?.order.side ?? 'buy';
            cohort.applyFill(0, side === 'buy' ? f.qty : -f.qty, f.priceUsd, f.feeUsd);
            book = applyBookFill(book, {
              symbol: 'SPY',
              side,
              qty: f.qty,
              priceUsd: f.priceUsd,
              feeUsd: f.feeUsd,
            });
            fillCount++;
          }
        }

        // Assess: every order filled, and the three ledgers agree to the last bit
        expect(fillCount).toBe(orders.length);
        const spy = ledger.positions.find((p) => p.symbol === 'SPY');
        expect([ledger.cashUsd, ledger.feesUsd, ledger.realizedPnlUsd]).toEqual([
          cohort.cashUsd[0],
          cohort.feesUsd[0],
          cohort.realizedPnlUsd[0],
        ]);
        expect([spy?.qty, spy?.avgEntryPriceUsd]).toEqual([cohort.qty[0], cohort.avgPriceUsd[0]]);
        expect([book.cashUsd, book.feesUsd, book.realizedPnlUsd]).toEqual([
          ledger.cashUsd,
          ledger.feesUsd,
          ledger.realizedPnlUsd,
        ]);
        expect([book.positions.SPY?.qty, book.positions.SPY?.avgPriceUsd]).toEqual([
          spy?.qty,
          spy?.avgEntryPriceUsd,
        ]);
        expect(book.positions.SPY?.realizedPnlUsd).toBe(spy?.realizedPnlUsd);
      }),
      { numRuns: 40 },
    );
  });
});
