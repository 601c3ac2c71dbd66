/**
 * Alpaca's regulatory fees as Alpaca charges them, priced by hand with the figures of its
 * "Regulatory Fees" page (docs.alpaca.markets/docs/regulatory-fees and
 * alpaca.markets/support/regulatory-fees, read 2026-12-05): SEC fee USD 27.80 per million of
 * sell principal, FINRA TAF USD 0.000166 per share sold (at most USD 8.30 per order), CAT fee
 * USD 0.000046 per executed share rounded up to a whole share; accrued per fill, charged once
 * per account and day as each fee type's day total rounded UP to the cent. And Alpaca's USD 1
 * minimum of a fractional buy.
 */
import { describe, expect, it } from 'vitest';
import {
  commissionUsd,
  fillCostsOf,
  regulatoryFeesUsd,
} from '../../../functions/core/cohort/fill-model.js';
import { sizeOrder } from '../../../functions/core/cohort/sizing.js';
import { EMPTY_DAY_TRADE_LEDGER } from '../../../functions/core/exchange/day-trades.js';
import {
  type Admission,
  admitOrder,
  advanceExchangeOrder,
  bookExchangeFills,
  settleRegulatoryFees,
} from '../../../functions/core/exchange/exchange-account.js';
import {
  BELOW_FRACTIONAL_MINIMUM,
  type ExchangeConfig,
  type SymbolMinutes,
  symbolMinutes,
} from '../../../functions/core/exchange/exchange-model.js';
import { BROKER_FEE_SCHEDULES } from '../../../functions/core/exchange/fee-schedules.js';
import { emptyAccountBook } from '../../../functions/core/exchange/position-book.js';
import {
  ceilToCent,
  dailyRegulatoryChargeUsd,
  regulatoryRoundingByDayUsd,
  regulatoryRoundingUsd,
} from '../../../functions/core/exchange/regulatory-fees.js';
import type { BrokerOrderRequest } from '../../../functions/ports/broker.js';
import { DATE, minute, NEXT_OPEN, OPEN, session } from '../brokers/fixtures.js';

/** Alpaca's equity schedule without slippage: prices are the quotes. */
// The fees alone: the prices are hand-priced without the preset's market impact.
const ALPACA = fillCostsOf({
  slippageBps: 0,
  ...BROKER_FEE_SCHEDULES.alpaca_equity.costs,
  impactCoefficientBps: 0,
});

describe("Alpaca's regulatory fees, by hand", () => {
  it('a USD 50 slice round trip of 0.1 share at USD 500 costs USD 0.03 a day at Alpaca, not USD 0.0015', () => {
    // Prepare: buy 0.1 share at 500, sell it at 500 (USD 50 of principal)
    const buy = regulatoryFeesUsd(0.1, 500, ALPACA, 'buy');
    const sell = regulatoryFeesUsd(0.1, 500, ALPACA, 'sell');

    // Assess: per fill, accrued unrounded. The buy pays the CAT fee on 0.1 share rounded up
    // to 1 share: 0.000046. The sale: SEC 50 × 0.0000278 = 0.00139; TAF 0.1 × 0.000166 =
    // 0.0000166; CAT 1 × 0.000046.
    expect(buy).toEqual({ secUsd: 0, tafUsd: 0, catUsd: 0.000046 });
    expect(sell.secUsd).toBeCloseTo(0.00139, 15);
    expect(sell.tafUsd).toBeCloseTo(0.0000166, 15);
    expect(sell.catUsd).toBeCloseTo(0.000046, 15);
    expect(commissionUsd(0.1, 500, ALPACA, 'sell')).toBeCloseTo(0.00139 + 0.0000166 + 0.000046, 15);

    // The day's charge: each type's total rounded up to the cent, 0.01 + 0.01 + 0.01.
    const day = { secUsd: 0.00139, tafUsd: 0.0000166, catUsd: 0.000092 };
    expect(dailyRegulatoryChargeUsd(day)).toBeCloseTo(0.03, 15);
    // The fills accrued 0.0014986; the account pays the rest at the end of the day.
    expect(regulatoryRoundingUsd(day)).toBeCloseTo(0.03 - 0.0014986, 15);
  });

  it("rounds each type's day total up to the cent, as the page's example (TAF 0.00083 -> 0.01)", () => {
    expect(ceilToCent(0.00083)).toBe(0.01);
    expect(ceilToCent(0.0100001)).toBe(0.02);
    // A sum's representation error is not a cent: 0.1 + 0.2 - 0.29 = 0.010000000000000009
    expect(ceilToCent(0.1 + 0.2 - 0.29)).toBe(0.01);
    expect(ceilToCent(0)).toBe(0);
    expect(dailyRegulatoryChargeUsd({ secUsd: 0, tafUsd: 0.00083, catUsd: 0 })).toBe(0.01);
    expect(regulatoryRoundingUsd({ secUsd: 0.02, tafUsd: 0, catUsd: 0 })).toBe(0);
  });

  it("rounds each New York day's totals on its own: two days of one CAT fee each pay 0.01 each, not 0.01 together", () => {
    const cat = { secUsd: 0, tafUsd: 0, catUsd: 0.000046 };
    const orders = [
      { date: '2024-01-02', regulatoryFeesUsd: cat },
      { date: '2024-01-02', regulatoryFeesUsd: cat },
      { date: '2024-01-03', regulatoryFeesUsd: cat },
      { date: '2024-01-03' },
    ];
    // 2024-01-02: CAT 0.000092 -> 0.01; 2024-01-03: CAT 0.000046 -> 0.01
    expect(regulatoryRoundingByDayUsd(orders)).toBeCloseTo(0.01 - 0.000092 + (0.01 - 0.000046), 15);
    expect(regulatoryRoundingByDayUsd([{ date: '2024-01-02' }])).toBe(0);
  });

  it('caps the TAF at USD 8.30 per order, not per fill: 60,000 shares sold in two fills pay 8.30, not 9.96', () => {
    const first = regulatoryFeesUsd(30_000, 1, ALPACA, 'sell');
    const second = regulatoryFeesUsd(30_000, 1, ALPACA, 'sell', 30_000);
    // 30,000 × 0.000166 = 4.98, then min(8.30, 9.96) − 4.98 = 3.32
    expect(first.tafUsd).toBeCloseTo(4.98, 12);
    expect(second.tafUsd).toBeCloseTo(3.32, 12);
    expect(first.tafUsd + second.tafUsd).toBeCloseTo(8.3, 12);
    // After the cap a fill pays no TAF at all.
    expect(regulatoryFeesUsd(10_000, 1, ALPACA, 'sell', 60_000).tafUsd).toBe(0);
  });

  it("counts the CAT fee on the order's executed shares rounded up: fills of 0.3, 0.3, 0.3, 0.3 pay 1 share, then a second", () => {
    const cat = (prior: number) => regulatoryFeesUsd(0.3, 100, ALPACA, 'buy', prior).catUsd;
    expect(cat(0)).toBeCloseTo(0.000046, 15);
    expect(cat(0.3)).toBe(0);
    expect(cat(0.6)).toBe(0);
    // 0.9 + 0.3 = 1.2 shares: ⌈1.2⌉ − ⌈0.9⌉ = 1 more share
    expect(cat(0.9)).toBeCloseTo(0.000046, 15);
    // A sum of 1e-6 steps a hair above a whole share is that share (3 × 0.1 + 0.7 = 1.0000000000000002).
    expect(regulatoryFeesUsd(0.7, 100, ALPACA, 'buy', 0.1 + 0.1 + 0.1).catUsd).toBe(0);
  });
});

/** ABC at 10.00 / 10.02, 3 shares a minute: at participation 0.1 an order fills 0.3 a minute. */
const THIN: SymbolMinutes = symbolMinutes(
  session('ABC', DATE, OPEN, {
    bid: [10, 10, 10, 10],
    ask: [10.02, 10.02, 10.02, 10.02],
    volume: [3, 3, 3, 3],
  }),
  'ABC',
) as SymbolMinutes;

const CONFIG: ExchangeConfig = {
  participationFraction: 0.1,
  latencyMs: 0,
  costs: ALPACA,
  fractionalShares: true,
  buyingPowerMultiplier: 1,
};

const request = (over: Partial<BrokerOrderRequest>): BrokerOrderRequest => ({
  clientOrderId: 'sg_reg_1',
  symbol: 'ABC',
  side: 'sell',
  qty: 0.6,
  type: 'market',
  timeInForce: 'day',
  ...over,
});

function admission(over: Partial<Admission>): Admission {
  return {
    request: request({}),
    nowMs: OPEN,
    newBrokerOrderId: () => 'b-1',
    latencyMs: 0,
    session: () => THIN,
    positionQty: 0.6,
    working: [],
    rules: { maxOpenOrders: 50, fractionalShares: true, fractionable: true, costs: ALPACA },
    dayTrades: null,
    valuation: () => ({ equityUsd: 1_000, grossUsd: 6, buyingPowerUsd: 994 }),
    ...over,
  };
}

describe('the exchange account charges them per order and per account-day', () => {
  it('a sale of 0.6 share filled 0.3 + 0.3 pays one share of CAT, and the account pays USD 0.03 once the New York day is over', async () => {
    // Prepare: the account holds 0.6 ABC and sells it; each minute fills 0.3 at the 10.00 bid
    const admitted = await admitOrder(admission({}));
    const sources = { session: () => THIN, sessionDates: () => [DATE] };

    // Act: two minutes of fills, booked
    const advanced = await advanceExchangeOrder(admitted, minute(2), CONFIG, sources);
    const bookings = advanced?.bookings ?? [];
    const start = emptyAccountBook(1_000);
    const held = {
      ...start,
      positions: { ABC: { symbol: 'ABC', qty: 0.6, avgPriceUsd: 10, realizedPnlUsd: 0 } },
    };
    const books = bookExchangeFills({ book: held, dayTrades: EMPTY_DAY_TRADE_LEDGER }, bookings);

    // Assess: per fill, SEC 3 × 0.0000278 = 0.0000834 and TAF 0.3 × 0.000166 = 0.0000498;
    // CAT on ⌈0.3⌉ = 1 share in the first fill, ⌈0.6⌉ − ⌈0.3⌉ = 0 in the second.
    expect(bookings.map((b) => b.fill.qty)).toEqual([0.3, 0.3]);
    const [f1, f2] = bookings.map((b) => b.fill);
    expect(f1?.regulatoryFeesUsd?.catUsd).toBeCloseTo(0.000046, 15);
    expect(f2?.regulatoryFeesUsd?.catUsd).toBe(0);
    expect(f1?.feeUsd).toBeCloseTo(0.0000834 + 0.0000498 + 0.000046, 15);
    expect(f2?.feeUsd).toBeCloseTo(0.0000834 + 0.0000498, 15);
    const accrued = 2 * (0.0000834 + 0.0000498) + 0.000046;
    expect(books.book.cashUsd).toBeCloseTo(1_000 + 6 - accrued, 12);
    expect(books.regulatoryFees?.date).toBe(DATE);

    // Nothing more is due on the same New York date (23:59 in New York is 04:59 UTC next day).
    expect(settleRegulatoryFees(books, Date.UTC(2024, 0, 3, 4, 59))).toBeNull();
    // The next day: SEC, TAF and CAT totals each rounded up to 0.01: the day costs 0.03.
    const settled = settleRegulatoryFees(books, NEXT_OPEN);
    expect(settled?.regulatoryFees).toBeNull();
    expect(settled?.book.cashUsd).toBeCloseTo(1_000 + 6 - 0.03, 12);
    expect(settled?.book.feesUsd).toBeCloseTo(0.03, 12);
  });

  it("refuses a fractional buy worth less than USD 1 (Alpaca's minimum), with its reason; a sale below USD 1 is accepted", async () => {
    // 0.05 share at the 10.02 ask = 0.501 USD
    const small = await admitOrder(
      admission({ request: request({ side: 'buy', qty: 0.05 }), positionQty: 0 }),
    );
    expect(small.order.status).toBe('rejected');
    expect(small.order.rejectReason).toBe(BELOW_FRACTIONAL_MINIMUM);
    // 0.1 share = 1.002 USD: accepted
    const enough = await admitOrder(
      admission({ request: request({ side: 'buy', qty: 0.1 }), positionQty: 0 }),
    );
    expect(enough.order.status).toBe('new');
    // Selling 0.05 share held (0.50 USD) closes the position: accepted
    const sale = await admitOrder(
      admission({ request: request({ qty: 0.05 }), positionQty: 0.05 }),
    );
    expect(sale.order.status).toBe('new');
  });

  it('the sizing rule does not send a fractional buy below USD 1 (so the cohort and the paper session never see the refusal), but sells below it', () => {
    const base = {
      qty: 0,
      cashUsd: 50,
      markUsd: 10.01,
      bidUsd: 10,
      askUsd: 10.02,
      leverageCap: 2,
      aggregateHeadroomUsd: Number.POSITIVE_INFINITY,
      costs: ALPACA,
      step: 1e-6,
      asset: { market: 'equity-usa', fractionable: true } as const,
    };
    // 1 % of USD 50 = 0.50 USD: not sent; 4 % = 2 USD: sent
    expect(sizeOrder({ ...base, target: 0.01 })).toMatchObject({ qty: 0, belowMinimum: true });
    expect(sizeOrder({ ...base, target: 0.04 })?.qty).toBeCloseTo(0.199_8, 6);
    // Holding 0.05 share (0.50 USD), flat target: sold
    expect(sizeOrder({ ...base, qty: 0.05, cashUsd: 49.5, target: 0 })?.qty).toBeCloseTo(-0.05, 12);
  });
});
