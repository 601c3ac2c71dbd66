/**
 * THE exchange account (`functions/core/exchange/exchange-account.ts`), pure: fills computed
 * by hand from the minute bars, partial participation, time in force, buying-power refusals,
 * Alpaca's long-only fractional rule, booking through THE position book, the pattern-day-trader
 * protection, marks and gtc carry-over. No broker, no store, no clock.
 */
import { describe, expect, it } from 'vitest';
import type { FillCosts } from '../../../functions/core/cohort/fill-model.js';
import { BrokerRejectedError, DataFileMissingError } from '../../../functions/core/errors.js';
import { EMPTY_DAY_TRADE_LEDGER } from '../../../functions/core/exchange/day-trades.js';
import {
  type Admission,
  admitOrder,
  advanceExchangeOrder,
  bookExchangeFills,
  cancelExchangeOrder,
  type ExchangeOrder,
  markUsd,
  restateForSplits,
  type SessionSource,
  sessionAt,
} from '../../../functions/core/exchange/exchange-account.js';
import {
  type ExchangeConfig,
  type SymbolMinutes,
  symbolMinutes,
} from '../../../functions/core/exchange/exchange-model.js';
import { emptyAccountBook } from '../../../functions/core/exchange/position-book.js';
import type { MarketSession } from '../../../functions/core/market/types.js';
import type { BrokerOrderRequest } from '../../../functions/ports/broker.js';
import { DATE, minute, NEXT_DATE, NEXT_OPEN, OPEN, session } from '../brokers/fixtures.js';

/** 10 bps slippage; $0.005/share, $1 minimum, capped at 1 % of the notional. */
const COSTS: FillCosts = {
  slippageBps: 10,
  feePerShareUsd: 0.005,
  minFeeUsd: 1,
  maxFeeFraction: 0.01,
};

const CONFIG: ExchangeConfig = {
  participationFraction: 0.1,
  latencyMs: 0,
  costs: COSTS,
  fractionalShares: true,
  buyingPowerMultiplier: 1,
};

const minutesOf = (s: MarketSession): SymbolMinutes => symbolMinutes(s, 'ABC') as SymbolMinutes;

/** Four minutes of ABC: asks 10.02, 10.04, 10.06, 10.08; bids a cent below 10.00.. */
const DAY1 = minutesOf(
  session('ABC', DATE, OPEN, {
    bid: [10.0, 10.02, 10.04, 10.06],
    ask: [10.02, 10.04, 10.06, 10.08],
    volume: [100, 50, 0, 1_000],
  }),
);
const DAY2 = minutesOf(
  session('ABC', NEXT_DATE, NEXT_OPEN, {
    bid: [11.0, 11.0],
    ask: [11.02, 11.02],
    volume: [1_000, 1_000],
  }),
);

function sourceOf(...days: SymbolMinutes[]): SessionSource {
  return {
    session: (date, symbol) =>
      symbol === 'ABC' ? (days.find((d) => d.date === date) ?? null) : null,
    sessionDates: () => days.map((d) => d.date),
  };
}

const request = (over: Partial<BrokerOrderRequest> = {}): BrokerOrderRequest => ({
  clientOrderId: 'sg_t_1',
  symbol: 'ABC',
  side: 'buy',
  qty: 12,
  type: 'market',
  timeInForce: 'day',
  ...over,
});

/** An admission at `nowMs` into an account holding `cashUsd` and `positionQty` ABC at 10. */
function admission(over: Partial<Admission> & { cashUsd?: number } = {}): Admission {
  const cashUsd = over.cashUsd ?? 100_000;
  const positionQty = over.positionQty ?? 0;
  return {
    request: request(),
    nowMs: OPEN,
    newBrokerOrderId: () => 'b-1',
    latencyMs: 0,
    session: () => DAY1,
    positionQty,
    working: [],
    rules: { maxOpenOrders: 50, fractionalShares: true, fractionable: true, costs: COSTS },
    dayTrades: null,
    valuation: () => ({
      equityUsd: cashUsd + positionQty * 10,
      grossUsd: Math.abs(positionQty) * 10,
      buyingPowerUsd: Math.max(0, cashUsd),
    }),
    ...over,
  };
}

describe('admitting an order', () => {
  it('accepts a buy at the open and reserves its estimated cost: qty × ask × (1 + slippage) + fee', async () => {
    const rec = await admitOrder(admission({ request: request({ qty: 50 }) }));
    expect(rec.order.status).toBe('new');
    expect(rec.order.brokerOrderId).toBe('b-1');
    expect(rec.sessionDate).toBe(DATE);
    expect(rec.fillableAtMs).toBe(OPEN);
    // First minute's quote (the session's first minute): 50 × 10.02 × 1.001 = 501.501; fee
    // min(1 % × 501.501, max($1, 50 × 0.005)) = $1.
    expect(rec.reservedUsd).toBeCloseTo(50 * 10.02 * 1.001 + 1, 9);
  });

  it('refuses a buy beyond the buying power, keeps the reason and holds nothing', async () => {
    const rec = await admitOrder(admission({ cashUsd: 1_000, request: request({ qty: 100 }) }));
    expect(rec.order.status).toBe('rejected');
    expect(rec.order.rejectReason).toBe('insufficient buying power');
    expect(rec.reservedUsd).toBe(0);
  });

  it('reads the valuation only when a rule needs it: a pure reduction needs no buying power', async () => {
    let reads = 0;
    const rec = await admitOrder(
      admission({
        positionQty: 20,
        request: request({ side: 'sell', qty: 20 }),
        valuation: () => {
          reads++;
          return { equityUsd: 0, grossUsd: 0, buyingPowerUsd: 0 };
        },
      }),
    );
    expect(rec.order.status).toBe('new');
    expect(rec.reservedUsd).toBe(0);
    expect(reads).toBe(0);
  });

  it("refuses what Alpaca refuses: fractional orders are long only (DESIGN.md 'Alpaca fractional shares')", async () => {
    const held = { positionQty: 0.5 };
    const shortFraction = await admitOrder(
      admission({ ...held, request: request({ side: 'sell', qty: 2.5 }) }),
    );
    expect(shortFraction.order.rejectReason).toBe('fractional short sale not allowed');
    const toFlat = await admitOrder(
      admission({ ...held, request: request({ side: 'sell', qty: 0.5 }) }),
    );
    expect(toFlat.order.status).toBe('new');
    const wholeShort = await admitOrder(admission({ request: request({ side: 'sell', qty: 2 }) }));
    expect(wholeShort.order.status).toBe('new');
    // The short's opening part reserves its proceeds' worth at the bid less slippage.
    expect(wholeShort.reservedUsd).toBeGreaterThan(0);
    const notFractionable = await admitOrder(
      admission({
        request: request({ qty: 1.5 }),
        rules: { maxOpenOrders: 50, fractionalShares: true, fractionable: false, costs: COSTS },
      }),
    );
    expect(notFractionable.order.rejectReason).toBe('asset not fractionable');
  });

  it('refuses outside the session, an unknown symbol, a fractional quantity without fractional shares, and opg', async () => {
    const reason = async (over: Partial<Admission>) =>
      (await admitOrder(admission(over))).order.rejectReason;
    expect(await reason({ nowMs: OPEN - 1 })).toBe('market closed');
    expect(await reason({ nowMs: minute(4) })).toBe('market closed');
    expect(await reason({ session: () => null })).toBe('market closed');
    expect(await reason({ session: () => 'unknown_symbol' })).toBe('unknown symbol');
    expect(
      await reason({
        request: request({ qty: 1.5 }),
        rules: { maxOpenOrders: 50, fractionalShares: false, fractionable: true, costs: COSTS },
      }),
    ).toBe('fractional quantity not allowed');
    expect(await reason({ request: request({ timeInForce: 'opg' }) })).toBe(
      'time_in_force opg not supported by the simulated broker',
    );
  });

  it('a request too malformed to be an order is a BrokerRejectedError and mints no id', async () => {
    let minted = 0;
    await expect(
      admitOrder(
        admission({
          request: request({ clientOrderId: 'not valid!' }),
          newBrokerOrderId: () => `b-${++minted}`,
        }),
      ),
    ).rejects.toBeInstanceOf(BrokerRejectedError);
    expect(minted).toBe(0);
  });

  it('the pattern-day-trader protection refuses the closing leg of a fourth day trade under $25,000', async () => {
    const ledger = {
      dayTrades: [1, 2, 3].map(() => ({ date: DATE, symbol: 'XYZ' })),
      openedToday: { ABC: { date: DATE, side: 'long' as const } },
    };
    const rec = await admitOrder(
      admission({
        cashUsd: 5_000,
        positionQty: 10,
        request: request({ side: 'sell', qty: 10 }),
        dayTrades: { rule: { minEquityUsd: 25_000, maxDayTrades: 3 }, ledger },
      }),
    );
    expect(rec.order.status).toBe('rejected');
    expect(rec.order.rejectReason).toMatch(/^pattern day trader protection/);
  });
});

describe('working an order over the minute bars', () => {
  it('fills at each minute end within the participation cap, priced by hand', async () => {
    const admitted = await admitOrder(admission());
    const worked = await advanceExchangeOrder(admitted, minute(2), CONFIG, sourceOf(DAY1));
    expect(worked).not.toBeNull();
    const { order, bookings } = worked as NonNullable<typeof worked>;
    // Minute 0: cap 10 % × 100 = 10 of 12 at 10.02 × 1.001; fee min(1 % × notional, $1) = $1.
    // Minute 1: cap 5 ≥ the 2 left: 2 at 10.04 × 1.001; fee 1 % × notional (below $1).
    const p0 = 10.02 * 1.001;
    const p1 = 10.04 * 1.001;
    expect(order.fills.map((f) => [f.atMs, f.qty])).toEqual([
      [minute(1), 10],
      [minute(2), 2],
    ]);
    expect(order.fills[0]?.priceUsd).toBeCloseTo(p0, 12);
    expect(order.fills[1]?.priceUsd).toBeCloseTo(p1, 12);
    expect(order.fills[0]?.feeUsd).toBeCloseTo(1, 12);
    expect(order.fills[1]?.feeUsd).toBeCloseTo(0.01 * 2 * p1, 12);
    expect(order.order.status).toBe('filled');
    expect(order.order.avgFillPriceUsd).toBeCloseTo((10 * p0 + 2 * p1) / 12, 12);
    expect(order.feesUsd).toBeCloseTo(1 + 0.01 * 2 * p1, 12);
    expect(bookings.map((b) => [b.sessionDate, b.market])).toEqual([
      [DATE, 'equity-usa'],
      [DATE, 'equity-usa'],
    ]);

    const books = bookExchangeFills(
      { book: emptyAccountBook(100_000), dayTrades: EMPTY_DAY_TRADE_LEDGER },
      bookings,
    );
    expect(books.book.positions.ABC?.qty).toBe(12);
    expect(books.book.positions.ABC?.avgPriceUsd).toBeCloseTo((10 * p0 + 2 * p1) / 12, 12);
    expect(books.book.cashUsd).toBeCloseTo(100_000 - 10 * p0 - 2 * p1 - order.feesUsd, 9);
    expect(books.book.feesUsd).toBeCloseTo(order.feesUsd, 12);
  });

  it('never fills in a minute that has not ended, nor in one without volume; a day order expires at the close', async () => {
    const admitted = await admitOrder(admission({ request: request({ qty: 200 }) }));
    expect(await advanceExchangeOrder(admitted, OPEN + 59_999, CONFIG, sourceOf(DAY1))).toBeNull();
    const closed = await advanceExchangeOrder(admitted, minute(4), CONFIG, sourceOf(DAY1));
    const order = (closed as NonNullable<typeof closed>).order;
    // 10 + 5 + 0 (no volume) + 100 (10 % of 1,000) of 200, then expired at the close.
    expect(order.fills.map((f) => f.qty)).toEqual([10, 5, 100]);
    expect(order.order.filledQty).toBe(115);
    expect(order.order.status).toBe('expired');
  });

  it('ioc fills what its first minute allows and cancels the rest; fok fills all or nothing', async () => {
    const ioc = await admitOrder(admission({ request: request({ timeInForce: 'ioc' }) }));
    const iocDone = (await advanceExchangeOrder(ioc, minute(4), CONFIG, sourceOf(DAY1)))?.order;
    expect(iocDone?.order.filledQty).toBe(10);
    expect(iocDone?.order.status).toBe('canceled');
    const fok = await admitOrder(admission({ request: request({ timeInForce: 'fok' }) }));
    const fokDone = (await advanceExchangeOrder(fok, minute(4), CONFIG, sourceOf(DAY1)))?.order;
    expect(fokDone?.order.filledQty).toBe(0);
    expect(fokDone?.order.status).toBe('canceled');
  });

  it('a gtc order carries over to the next session and each fill keeps its own session date', async () => {
    const gtc = await admitOrder(admission({ request: request({ qty: 215, timeInForce: 'gtc' }) }));
    // Before the next session opens it waits in its own session.
    const overnight = await advanceExchangeOrder(gtc, NEXT_OPEN - 1, CONFIG, sourceOf(DAY1, DAY2));
    expect(overnight?.order.sessionDate).toBe(DATE);
    expect(overnight?.order.order.filledQty).toBe(115);
    const next = await advanceExchangeOrder(
      overnight?.order as ExchangeOrder,
      NEXT_OPEN + 60_000,
      CONFIG,
      sourceOf(DAY1, DAY2),
    );
    expect(next?.order.sessionDate).toBe(NEXT_DATE);
    expect(next?.order.order.status).toBe('filled');
    expect(next?.bookings.map((b) => [b.sessionDate, b.fill.qty])).toEqual([[NEXT_DATE, 100]]);
  });

  it('a gtc order whose next session has a missing file is held in its session with the reason recorded, then moved once the file exists', async () => {
    // Prepare: the next session is listed (its trade file exists) but its quote file is missing
    const gtc = await admitOrder(admission({ request: request({ qty: 215, timeInForce: 'gtc' }) }));
    let quotesLanded = false;
    const source: SessionSource = {
      session: (date, symbol) => {
        if (date === NEXT_DATE && !quotesLanded) {
          throw new DataFileMissingError(`abc/${NEXT_DATE}_quote.zip`);
        }
        return sourceOf(DAY1, DAY2).session(date, symbol);
      },
      sessionDates: () => [DATE, NEXT_DATE],
    };

    // Act: read after the next session opened
    const held = await advanceExchangeOrder(gtc, NEXT_OPEN + 60_000, CONFIG, source);

    // Assess: no throw; still open and unfilled beyond its own session, with the reason
    expect(held?.order.sessionDate).toBe(DATE);
    expect(held?.order.order.status).toBe('partially_filled');
    expect(held?.order.order.filledQty).toBe(115);
    expect(held?.order.heldReason).toBe(
      `carry-over to ${NEXT_DATE} held: market data file not found: abc/${NEXT_DATE}_quote.zip`,
    );
    // Read again with the file still missing: nothing changes
    expect(
      await advanceExchangeOrder(held?.order as ExchangeOrder, NEXT_OPEN + 90_000, CONFIG, source),
    ).toBeNull();

    // Act: the file lands
    quotesLanded = true;
    const moved = await advanceExchangeOrder(
      held?.order as ExchangeOrder,
      NEXT_OPEN + 120_000,
      CONFIG,
      source,
    );

    // Assess: moved and filled in the next session; the reason is gone
    expect(moved?.order.sessionDate).toBe(NEXT_DATE);
    expect(moved?.order.order.status).toBe('filled');
    expect(moved?.order.heldReason).toBeUndefined();
  });

  it('cancels a working order at now (never before its last update) and leaves a terminal one', async () => {
    const admitted = await admitOrder(admission());
    const canceled = cancelExchangeOrder(admitted, minute(1));
    expect(canceled?.order.status).toBe('canceled');
    expect(canceled?.order.updatedAtMs).toBe(minute(1));
    expect(cancelExchangeOrder(canceled as ExchangeOrder, minute(2))).toBeNull();
  });
});

describe('booking fills', () => {
  const fill = (atMs: number, qty: number, priceUsd: number) => ({
    minuteStartMs: atMs - 60_000,
    atMs,
    qty,
    priceUsd,
    feeUsd: 0,
  });
  const buy = { symbol: 'ABC', side: 'buy' as const };
  const sell = { symbol: 'ABC', side: 'sell' as const };

  it('books in fill time order, then submission order, whatever order the fills are listed in', () => {
    const bookings = [
      {
        order: { ...sell, createdAtMs: OPEN },
        fill: fill(minute(2), 10, 12),
        sessionDate: DATE,
        market: 'equity-usa' as const,
      },
      {
        order: { ...buy, createdAtMs: OPEN },
        fill: fill(minute(1), 10, 10),
        sessionDate: DATE,
        market: 'equity-usa' as const,
      },
    ];
    const start = { book: emptyAccountBook(1_000), dayTrades: EMPTY_DAY_TRADE_LEDGER };
    const books = bookExchangeFills(start, bookings);
    // Bought 10 at 10, then sold them at 12: +$20 realized, flat, one day trade.
    expect(books.book.realizedPnlUsd).toBeCloseTo(20, 12);
    expect(books.book.positions.ABC?.qty).toBe(0);
    expect(books.book.cashUsd).toBeCloseTo(1_020, 12);
    expect(books.dayTrades.dayTrades).toEqual([{ date: DATE, symbol: 'ABC' }]);
    expect(bookExchangeFills(start, [...bookings].reverse())).toEqual(books);
  });
});

describe('sessions and marks', () => {
  it('an equity works in its New York date session; nothing outside the data', async () => {
    expect((await sessionAt(sourceOf(DAY1), 'ABC', OPEN))?.date).toBe(DATE);
    // 2024-01-03 02:00 UTC is still 2024-01-02 in New York.
    expect((await sessionAt(sourceOf(DAY1), 'ABC', Date.UTC(2024, 0, 3, 2)))?.date).toBe(DATE);
    expect(await sessionAt(sourceOf(DAY1), 'ABC', NEXT_OPEN)).toBeNull();
  });

  it("marks at the last ended minute's quote mid, else the previous session's last, else the fallback", async () => {
    // At minute 2: minute 1 (10.02/10.04) is the last that ended.
    expect(await markUsd(sourceOf(DAY1), 'ABC', minute(2), 0)).toBeCloseTo(10.03, 12);
    // Before the next session's first minute ends: the previous session's last mid.
    expect(await markUsd(sourceOf(DAY1, DAY2), 'ABC', NEXT_OPEN + 1, 0)).toBeCloseTo(10.07, 12);
    expect(await markUsd(sourceOf(DAY1), 'ABC', OPEN + 1, 9.5)).toBe(9.5);
  });
});

describe('splits', () => {
  it('restates a held position on the split day (7-for-1: 7× the shares at 1/7 the price) and leaves flat ones', async () => {
    const bought = bookExchangeFills(
      { book: emptyAccountBook(10_000), dayTrades: EMPTY_DAY_TRADE_LEDGER },
      [
        {
          order: { symbol: 'ABC', side: 'buy', createdAtMs: OPEN },
          fill: { minuteStartMs: OPEN, atMs: minute(1), qty: 10, priceUsd: 70, feeUsd: 0 },
          sessionDate: DATE,
          market: 'equity-usa',
        },
      ],
    ).book;
    const asked: string[] = [];
    const splitsOf = (symbol: string, after: string, through: string) => {
      asked.push(`${symbol} ${after}..${through}`);
      return [{ symbol, effectiveDate: NEXT_DATE, ratio: 7 }];
    };
    const restated = await restateForSplits(bought, minute(1), NEXT_OPEN, splitsOf);
    expect(asked).toEqual([`ABC ${DATE}..${NEXT_DATE}`]);
    expect(restated?.positions.ABC?.qty).toBeCloseTo(70, 12);
    expect(restated?.positions.ABC?.avgPriceUsd).toBeCloseTo(10, 12);
    expect(restated?.cashUsd).toBe(bought.cashUsd);
    // Same New York date: nothing to restate, nothing asked.
    expect(await restateForSplits(bought, minute(1), minute(3), splitsOf)).toBeNull();
    expect(asked).toHaveLength(1);
  });
});
