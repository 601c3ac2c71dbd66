import { describe, expect, it } from 'vitest';
import {
  type SimulatedBrokerConfig,
  SimulatedPaperBroker,
} from '../../../functions/adapters/brokers/simulated-broker.js';
import { fillMarketOrder } from '../../../functions/core/cohort/fill-model.js';
import {
  BrokerRejectedError,
  NotFoundError,
  ValidationError,
} from '../../../functions/core/errors.js';
import { BELOW_FRACTIONAL_MINIMUM } from '../../../functions/core/exchange/exchange-model.js';
import { BROKER_FEE_SCHEDULES } from '../../../functions/core/exchange/fee-schedules.js';
import { emptyAccountBook } from '../../../functions/core/exchange/position-book.js';
import { regulatoryRoundingByDayUsd } from '../../../functions/core/exchange/regulatory-fees.js';
import type { PromotionDeps } from '../../../functions/core/use-cases/promotion.js';
import {
  pollPromotionOrders,
  reconcilePromotion,
  submitPromotionOrders,
} from '../../../functions/core/use-cases/promotion-orders.js';
import type { PlannedLeg } from '../../../functions/core/use-cases/promotion-plan.js';
import type {
  PromotionOrder,
  StagedPromotion,
} from '../../../functions/core/use-cases/promotion-records.js';
import type { BrokerOrderRequest } from '../../../functions/ports/broker.js';
import { ManualClock } from '../../../functions/ports/clock.js';
import type { BookWrite } from '../../../functions/ports/promotion-repository.js';
import { MemoryAuditSink } from '../../support/doubles/memory-audit-sink.js';
import { InMemorySimulatedBrokerStore } from '../../support/doubles/memory-simulated-broker-store.js';
import {
  type BarsSpec,
  COSTS,
  DATE,
  FakeMarketData,
  FLAT,
  MINUTE_MS,
  minute,
  NEXT_DATE,
  NEXT_OPEN,
  OPEN,
  session,
} from './fixtures.js';

const CONFIG: SimulatedBrokerConfig = {
  startingCashUsd: 10_000,
  participationFraction: 1,
  latencyMs: 0,
  costs: COSTS,
  fractionalShares: true,
};

interface Setup {
  readonly broker: SimulatedPaperBroker;
  readonly store: InMemorySimulatedBrokerStore;
  readonly clock: ManualClock;
  readonly marketData: FakeMarketData;
}

function setup(
  options: { bars?: BarsSpec; config?: Partial<SimulatedBrokerConfig>; next?: BarsSpec } = {},
): Setup {
  const marketData = new FakeMarketData().add(session('SPY', DATE, OPEN, options.bars ?? FLAT));
  if (options.next) marketData.add(session('SPY', NEXT_DATE, NEXT_OPEN, options.next));
  const store = new InMemorySimulatedBrokerStore();
  const clock = new ManualClock(minute(0));
  let n = 0;
  const broker = new SimulatedPaperBroker({
    store,
    marketData,
    clock,
    config: { ...CONFIG, ...options.config },
    newOrderId: () => `sim-${++n}`,
  });
  return { broker, store, clock, marketData };
}

const order = (overrides: Partial<BrokerOrderRequest> = {}): BrokerOrderRequest => ({
  clientOrderId: 'sg_test_1',
  symbol: 'SPY',
  side: 'buy',
  qty: 10,
  type: 'market',
  timeInForce: 'day',
  ...overrides,
});

async function rejection(p: Promise<unknown>): Promise<BrokerRejectedError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(BrokerRejectedError);
  return err as BrokerRejectedError;
}

describe('SimulatedPaperBroker fills', () => {
  it('fills a market buy at the end of its minute, at ask + slippage with the shared fee', async () => {
    // Prepare
    const { broker, clock } = setup();
    const expected = fillMarketOrder({ side: 'buy', qty: 10 }, { bid: 100, ask: 100.1 }, COSTS);

    // Act
    const { order: submitted, duplicate } = await broker.submitOrder(order());
    clock.set(minute(1) - 1);
    const before = await broker.getOrderByClientOrderId('sg_test_1');
    clock.set(minute(1));
    const after = await broker.getOrderByClientOrderId('sg_test_1');
    const account = await broker.getAccount();

    // Assess
    expect(duplicate).toBe(false);
    expect(submitted.status).toBe('new');
    expect(submitted.brokerOrderId).toBe('sim-1');
    expect(before?.status).toBe('new');
    expect(after?.status).toBe('filled');
    expect(after?.filledQty).toBe(10);
    expect(after?.filledAvgPriceUsd).toBeCloseTo(expected?.priceUsd ?? 0, 12);
    expect(after?.filledAvgPriceUsd).toBeCloseTo(100.1 * 1.001, 10);
    expect(after?.feesUsd).toBe(expected?.feeUsd);
    expect(after?.updatedAtIso).toBe(new Date(minute(1)).toISOString());
    expect(account.cashUsd).toBeCloseTo(10_000 - 10 * 100.1 * 1.001 - 0.1, 9);
    const positions = await broker.listPositions();
    expect(positions).toHaveLength(1);
    expect(positions[0]).toMatchObject({ symbol: 'SPY', qty: 10 });
    expect(positions[0]?.avgEntryPriceUsd).toBeCloseTo(expected?.priceUsd ?? 0, 12);
  });

  it('sells at bid − slippage and realizes PnL with weighted-average cost', async () => {
    // Prepare: buy 10 at minute 0, sell 4 at minute 2 when the bid is 101
    const bars: BarsSpec = {
      bid: [100, 100, 101, 101],
      ask: [100.1, 100.1, 101.1, 101.1],
    };
    const { broker, clock } = setup({ bars });
    await broker.submitOrder(order());
    clock.set(minute(2));
    const buy = await broker.getOrderByClientOrderId('sg_test_1');

    // Act
    await broker.submitOrder(order({ clientOrderId: 'sg_test_2', side: 'sell', qty: 4 }));
    clock.set(minute(3));
    const sell = await broker.getOrderByClientOrderId('sg_test_2');
    const ledger = await broker.getLedger();

    // Assess
    const buyPrice = 100.1 * 1.001;
    const sellPrice = 101 * 0.999;
    expect(buy?.filledAvgPriceUsd).toBeCloseTo(buyPrice, 10);
    expect(sell?.filledAvgPriceUsd).toBeCloseTo(sellPrice, 10);
    expect(ledger.realizedPnlUsd).toBeCloseTo((sellPrice - buyPrice) * 4, 10);
    expect(ledger.feesUsd).toBeCloseTo(0.14, 10);
    expect(ledger.positions).toHaveLength(1);
    expect(ledger.positions[0]).toMatchObject({ symbol: 'SPY', qty: 6 });
    expect(ledger.positions[0]?.avgEntryPriceUsd).toBeCloseTo(buyPrice, 10);
    expect(ledger.cashUsd).toBeCloseTo(10_000 - 10 * buyPrice + 4 * sellPrice - 0.14, 9);
  });

  it('limits each minute to the participation fraction of its volume (partial fills)', async () => {
    // Prepare: 100 shares a minute, 10% participation -> 10 shares a minute
    const bars: BarsSpec = {
      bid: [100, 100, 101, 102],
      ask: [100.1, 100.1, 101.1, 102.1],
      volume: [100, 100, 100, 100],
    };
    const { broker, clock } = setup({ bars, config: { participationFraction: 0.1 } });
    await broker.submitOrder(order({ qty: 25 }));

    // Act
    clock.set(minute(1));
    const first = await broker.getOrderByClientOrderId('sg_test_1');
    clock.set(minute(2));
    const second = await broker.getOrderByClientOrderId('sg_test_1');
    clock.set(minute(3));
    const third = await broker.getOrderByClientOrderId('sg_test_1');
    const fills = await broker.getFills('sg_test_1');

    // Assess
    expect(first).toMatchObject({ status: 'partially_filled', filledQty: 10 });
    expect(second).toMatchObject({ status: 'partially_filled', filledQty: 20 });
    expect(third).toMatchObject({ status: 'filled', filledQty: 25 });
    expect(fills.map((f) => f.qty)).toEqual([10, 10, 5]);
    expect(fills.map((f) => f.minuteStartMs)).toEqual([minute(0), minute(1), minute(2)]);
    const vwap = (10 * 100.1 + 10 * 100.1 + 5 * 101.1) * 1.001;
    expect(third?.filledAvgPriceUsd).toBeCloseTo(vwap / 25, 10);
    expect(third?.feesUsd).toBeCloseTo(0.25, 10);
  });

  it('rounds a participation cap down to whole shares without fractional shares', async () => {
    // Prepare: 15 shares a minute × 0.1 = 1.5 -> 1 share a minute
    const bars: BarsSpec = { ...FLAT, volume: FLAT.bid.map(() => 15) };
    const { broker, clock } = setup({
      bars,
      config: { participationFraction: 0.1, fractionalShares: false },
    });
    await broker.submitOrder(order({ qty: 3 }));

    // Act
    clock.set(minute(2));
    const after2 = await broker.getOrderByClientOrderId('sg_test_1');
    const fractional = await rejection(
      broker.submitOrder(order({ clientOrderId: 'sg_test_2', qty: 1.5 })),
    );

    // Assess
    expect(after2?.filledQty).toBe(2);
    expect(fractional.reason).toBe('fractional quantity not allowed');
  });

  it('skips minutes with no volume or no quote on the order side', async () => {
    // Prepare: minute 0 has no volume, minute 1 no ask, minute 2 trades
    const bars: BarsSpec = {
      bid: [100, 100, 100, 100],
      ask: [100.1, Number.NaN, 100.3, 100.4],
      volume: [0, 1_000, 1_000, 1_000],
    };
    const { broker, clock } = setup({ bars });
    await broker.submitOrder(order());

    // Act
    clock.set(minute(2));
    const waiting = await broker.getOrderByClientOrderId('sg_test_1');
    clock.set(minute(3));
    const filled = await broker.getOrderByClientOrderId('sg_test_1');

    // Assess
    expect(waiting?.status).toBe('new');
    expect(filled?.status).toBe('filled');
    expect(filled?.filledAvgPriceUsd).toBeCloseTo(100.3 * 1.001, 10);
  });

  it('makes an order fillable only after the latency', async () => {
    // Prepare: 90 s latency from the start of minute 0 -> first eligible minute is minute 1
    const bars: BarsSpec = { bid: [100, 101, 102, 103], ask: [100.1, 101.1, 102.1, 103.1] };
    const { broker, clock } = setup({ bars, config: { latencyMs: 90_000 } });
    await broker.submitOrder(order());

    // Act
    clock.set(minute(1));
    const atMinute1 = await broker.getOrderByClientOrderId('sg_test_1');
    clock.set(minute(2));
    const atMinute2 = await broker.getOrderByClientOrderId('sg_test_1');

    // Assess: minute 0's quote is never used; minute 1's closing quote is
    expect(atMinute1?.status).toBe('new');
    expect(atMinute2?.status).toBe('filled');
    expect(atMinute2?.filledAvgPriceUsd).toBeCloseTo(101.1 * 1.001, 10);
  });

  it('expires a day order at the session close, keeping what it filled', async () => {
    // Prepare: 10 minutes of 9 shares each, an order for 95
    const bars: BarsSpec = { ...FLAT, volume: FLAT.bid.map(() => 9) };
    const { broker, clock } = setup({ bars });
    await broker.submitOrder(order({ qty: 95 }));
    const closeMs = minute(10);

    // Act
    clock.set(closeMs - 1);
    const beforeClose = await broker.getOrderByClientOrderId('sg_test_1');
    clock.set(closeMs);
    const atClose = await broker.getOrderByClientOrderId('sg_test_1');
    const open = await broker.listOpenOrders();

    // Assess
    expect(beforeClose).toMatchObject({ status: 'partially_filled', filledQty: 81 });
    expect(atClose).toMatchObject({ status: 'expired', filledQty: 90 });
    expect(atClose?.updatedAtIso).toBe(new Date(closeMs).toISOString());
    expect(open).toEqual([]);
  });

  it('carries a gtc order into the next session', async () => {
    // Prepare
    const bars: BarsSpec = { ...FLAT, volume: FLAT.bid.map(() => 1) };
    const next: BarsSpec = { bid: [99, 99], ask: [99.1, 99.1], volume: [100, 100] };
    const { broker, clock } = setup({ bars, next });
    await broker.submitOrder(order({ qty: 15, timeInForce: 'gtc' }));

    // Act
    clock.set(minute(10));
    const overnight = await broker.getOrderByClientOrderId('sg_test_1');
    clock.set(NEXT_OPEN + MINUTE_MS);
    const nextDay = await broker.getOrderByClientOrderId('sg_test_1');

    // Assess
    expect(overnight).toMatchObject({ status: 'partially_filled', filledQty: 10 });
    expect(nextDay).toMatchObject({ status: 'filled', filledQty: 15 });
  });

  it('ioc fills what the first minute allows and cancels the rest; fok cancels unfilled', async () => {
    // Prepare
    const bars: BarsSpec = { ...FLAT, volume: FLAT.bid.map(() => 10) };
    const { broker, clock } = setup({ bars });
    await broker.submitOrder(order({ clientOrderId: 'sg_ioc', qty: 25, timeInForce: 'ioc' }));
    await broker.submitOrder(order({ clientOrderId: 'sg_fok', qty: 25, timeInForce: 'fok' }));
    await broker.submitOrder(order({ clientOrderId: 'sg_fok_ok', qty: 5, timeInForce: 'fok' }));

    // Act
    clock.set(minute(3));
    const ioc = await broker.getOrderByClientOrderId('sg_ioc');
    const fok = await broker.getOrderByClientOrderId('sg_fok');
    const fokOk = await broker.getOrderByClientOrderId('sg_fok_ok');

    // Assess
    expect(ioc).toMatchObject({ status: 'canceled', filledQty: 10 });
    expect(fok).toMatchObject({ status: 'canceled', filledQty: 0 });
    expect(fokOk).toMatchObject({ status: 'filled', filledQty: 5 });
  });

  it('fills a limit buy only in minutes where the fill price is within the limit', async () => {
    // Prepare: limit 100.2; ask + 10 bps is above it until minute 2
    const bars: BarsSpec = { bid: [100, 100, 99.8, 99.8], ask: [100.2, 100.2, 99.9, 99.9] };
    const { broker, clock } = setup({ bars });
    await broker.submitOrder(order({ type: 'limit', limitPriceUsd: 100.2 }));

    // Act
    clock.set(minute(2));
    const waiting = await broker.getOrderByClientOrderId('sg_test_1');
    clock.set(minute(3));
    const filled = await broker.getOrderByClientOrderId('sg_test_1');

    // Assess
    expect(waiting?.status).toBe('new');
    expect(filled?.filledAvgPriceUsd).toBeCloseTo(99.9 * 1.001, 10);
  });
});

describe('SimulatedPaperBroker rejections', () => {
  it('rejects a buy above the buying power, records it, and returns it for the same id', async () => {
    // Prepare: 10,000 USD cash, 100 shares at ~100.2 needs ~10,020 USD
    const { broker } = setup();

    // Act
    const err = await rejection(broker.submitOrder(order({ qty: 100 })));
    const stored = await broker.getOrderByClientOrderId('sg_test_1');
    const again = await broker.submitOrder(order({ qty: 100 }));

    // Assess
    expect(err.reason).toBe('insufficient buying power');
    expect(err.clientOrderId).toBe('sg_test_1');
    expect(stored?.status).toBe('rejected');
    expect(stored?.brokerOrderId).toBe('sim-1');
    expect(again).toMatchObject({ duplicate: true, order: { status: 'rejected' } });
    expect(await broker.listOpenOrders()).toEqual([]);
  });

  it('counts open orders against the buying power', async () => {
    // Prepare
    const { broker } = setup();
    await broker.submitOrder(order({ qty: 60 }));

    // Act
    const err = await rejection(broker.submitOrder(order({ clientOrderId: 'sg_test_2', qty: 60 })));
    const account = await broker.getAccount();

    // Assess
    expect(err.reason).toBe('insufficient buying power');
    expect(account.buyingPowerUsd).toBeCloseTo(10_000 - 60 * 100.1 * 1.001 - 0.6, 6);
  });

  it('requires buying power for a short sale, but never for closing a long', async () => {
    // Prepare
    const { broker, clock } = setup();

    // Act
    const tooShort = await rejection(
      broker.submitOrder(order({ clientOrderId: 'sg_short_big', side: 'sell', qty: 150 })),
    );
    const short = await broker.submitOrder(
      order({ clientOrderId: 'sg_short', side: 'sell', qty: 50 }),
    );
    clock.set(minute(1));
    const afterShort = await broker.getAccount();
    const cover = await broker.submitOrder(
      order({ clientOrderId: 'sg_cover', side: 'buy', qty: 50 }),
    );

    // Assess
    expect(tooShort.reason).toBe('insufficient buying power');
    expect(short.order.status).toBe('new');
    expect(afterShort.cashUsd).toBeCloseTo(10_000 + 50 * 100 * 0.999 - 0.5, 9);
    expect(afterShort.equityUsd).toBeCloseTo(afterShort.cashUsd - 50 * 100.05, 9);
    expect(afterShort.buyingPowerUsd).toBeCloseTo(afterShort.equityUsd - 50 * 100.05, 9);
    expect(cover.order.status).toBe('new');
  });

  it('rejects orders outside the regular session as market closed', async () => {
    // Prepare
    const { broker, clock } = setup();

    // Act
    clock.set(OPEN - 1);
    const beforeOpen = await rejection(broker.submitOrder(order({ clientOrderId: 'sg_early' })));
    clock.set(minute(10));
    const atClose = await rejection(broker.submitOrder(order({ clientOrderId: 'sg_late' })));
    clock.set(Date.UTC(2024, 0, 6, 15, 0));
    const weekend = await rejection(broker.submitOrder(order({ clientOrderId: 'sg_sat' })));

    // Assess
    expect([beforeOpen.reason, atClose.reason, weekend.reason]).toEqual([
      'market closed',
      'market closed',
      'market closed',
    ]);
    expect((await broker.getOrderByClientOrderId('sg_late'))?.status).toBe('rejected');
  });

  it('rejects unknown symbols, unsupported time in force and malformed orders', async () => {
    // Prepare
    const { broker } = setup();

    // Act
    const unknown = await rejection(broker.submitOrder(order({ symbol: 'NOPE' })));
    const opg = await rejection(
      broker.submitOrder(order({ clientOrderId: 'sg_opg', timeInForce: 'opg' })),
    );
    const badQty = await rejection(broker.submitOrder(order({ clientOrderId: 'sg_q', qty: 0 })));
    const badId = await rejection(broker.submitOrder(order({ clientOrderId: 'has space' })));

    // Assess
    expect(unknown.reason).toBe('unknown symbol');
    expect(opg.reason).toMatch(/time_in_force opg/);
    expect(badQty.reason).toMatch(/^invalid order: qty/);
    expect(badId.reason).toMatch(/^invalid order: clientOrderId/);
    expect(await broker.getOrderByClientOrderId('sg_q')).toBeNull();
  });

  it('refuses an invalid config with a ValidationError naming the field', () => {
    // Act / Assess
    expect(
      () =>
        new SimulatedPaperBroker({
          store: new InMemorySimulatedBrokerStore(),
          marketData: new FakeMarketData(),
          clock: new ManualClock(0),
          config: { ...CONFIG, participationFraction: 1.5 },
        }),
    ).toThrow(ValidationError);
  });
});

describe('SimulatedPaperBroker idempotency, restart and cancel', () => {
  it('creates one order for a duplicate client_order_id, also when submitted concurrently', async () => {
    // Prepare
    const { broker, store } = setup();

    // Act
    const [a, b] = await Promise.all([broker.submitOrder(order()), broker.submitOrder(order())]);
    const c = await broker.submitOrder(order({ qty: 3 }));
    const account = await store.loadAccount();

    // Assess
    expect([a.duplicate, b.duplicate].sort()).toEqual([false, true]);
    expect(a.order.brokerOrderId).toBe(b.order.brokerOrderId);
    expect(c).toMatchObject({ duplicate: true, order: { qty: 10 } });
    expect(account?.openClientOrderIds).toEqual(['sg_test_1']);
    expect(await broker.listOpenOrders()).toHaveLength(1);
  });

  it('reads issued together share one store read and see the fills booked by then; later reads read again', async () => {
    // Prepare: an open order that fills at minute 1
    const { broker, store, clock } = setup();
    await broker.submitOrder(order());
    clock.set(minute(1));
    let loads = 0;
    const load = store.loadAccount.bind(store);
    store.loadAccount = () => {
      loads++;
      return load();
    };

    // Act
    const [account, positions, open] = await Promise.all([
      broker.getAccount(),
      broker.listPositions(),
      broker.listOpenOrders(),
    ]);
    const together = loads;
    await broker.getAccount();
    await broker.listPositions();

    // Assess
    expect(together).toBe(1);
    expect(loads).toBe(3);
    expect(positions).toMatchObject([{ symbol: 'SPY', qty: 10 }]);
    expect(open).toEqual([]);
    expect(account.cashUsd).toBeLessThan(CONFIG.startingCashUsd);
  });

  it('a new broker over the same store sees earlier orders and keeps filling them', async () => {
    // Prepare
    const bars: BarsSpec = { ...FLAT, volume: FLAT.bid.map(() => 4) };
    const first = setup({ bars });
    await first.broker.submitOrder(order());
    first.clock.set(minute(1));
    await first.broker.getOrderByClientOrderId('sg_test_1');

    // Act: restart
    const restarted = new SimulatedPaperBroker({
      store: first.store,
      marketData: first.marketData,
      clock: first.clock,
      config: CONFIG,
    });
    const seen = await restarted.getOrderByClientOrderId('sg_test_1');
    first.clock.set(minute(3));
    const later = await restarted.getOrderByClientOrderId('sg_test_1');
    const dup = await restarted.submitOrder(order());

    // Assess
    expect(seen).toMatchObject({
      status: 'partially_filled',
      filledQty: 4,
      brokerOrderId: 'sim-1',
    });
    expect(later).toMatchObject({ status: 'filled', filledQty: 10 });
    expect(dup.duplicate).toBe(true);
    expect((await restarted.getLedger()).positions[0]?.qty).toBe(10);
  });

  it('cancels an open order, returns a terminal one unchanged, and rejects unknown ids', async () => {
    // Prepare
    const bars: BarsSpec = { ...FLAT, volume: FLAT.bid.map(() => 4) };
    const { broker, clock } = setup({ bars });
    await broker.submitOrder(order());
    await broker.submitOrder(order({ clientOrderId: 'sg_small', qty: 1 }));
    clock.set(minute(1) + 30_000);

    // Act
    const canceled = await broker.cancelOrder('sg_test_1');
    const filled = await broker.cancelOrder('sg_small');
    clock.set(minute(5));
    const later = await broker.getOrderByClientOrderId('sg_test_1');
    const missing = await broker.cancelOrder('sg_none').catch((e: unknown) => e);

    // Assess
    expect(canceled).toMatchObject({ status: 'canceled', filledQty: 4 });
    expect(filled.status).toBe('filled');
    expect(later).toMatchObject({ status: 'canceled', filledQty: 4 });
    expect(missing).toBeInstanceOf(NotFoundError);
    expect(await broker.listOpenOrders()).toEqual([]);
  });

  it('values the account at the last completed minute mid', async () => {
    // Prepare
    const bars: BarsSpec = { bid: [100, 110, 120, 130], ask: [100.1, 110.1, 120.1, 130.1] };
    const { broker, clock } = setup({ bars });
    await broker.submitOrder(order());

    // Act
    clock.set(minute(2) + 10_000);
    const account = await broker.getAccount();

    // Assess: mark = mid of minute 1 (110.05)
    const cash = 10_000 - 10 * 100.1 * 1.001 - 0.1;
    expect(account.cashUsd).toBeCloseTo(cash, 9);
    expect(account.equityUsd).toBeCloseTo(cash + 10 * 110.05, 9);
    expect(account.buyingPowerUsd).toBeCloseTo(cash, 9);
  });
});

describe('SimulatedPaperBroker across a split', () => {
  it('re-states a position held across a 7-for-1 split: 7× the shares, 1/7 the price, same value', async () => {
    // Prepare: a factor row's split seen as an event effective on the next session; the raw
    // minute prices drop from ~700 to ~100 overnight, as in LEAN's raw files
    const day1: BarsSpec = { bid: Array(10).fill(700), ask: Array(10).fill(700.1) };
    const day2: BarsSpec = {
      bid: Array(10).fill(100),
      ask: Array(10).fill(100.1 / 7 + 100 - 100 / 7),
    };
    const { broker, clock, marketData } = setup({ bars: day1, next: day2 });
    marketData.splitEvents = [{ symbol: 'SPY', effectiveDate: NEXT_DATE, ratio: 7 }];
    await broker.submitOrder(order({ qty: 1 }));
    clock.set(minute(5));
    const [held] = await broker.listPositions();
    const valueDay1 = (await broker.getAccount()).equityUsd;

    // Act
    clock.set(minute(5, NEXT_OPEN));
    const [restated] = await broker.listPositions();
    const valueDay2 = (await broker.getAccount()).equityUsd;

    // Assess: quantity and average price re-stated, no fake PnL from the raw price drop
    expect(held?.qty).toBe(1);
    expect(restated?.qty).toBeCloseTo(7, 12);
    expect(restated?.avgEntryPriceUsd).toBeCloseTo((held?.avgEntryPriceUsd ?? 0) / 7, 9);
    expect(valueDay2).toBeCloseTo(valueDay1, 6);
  });
});

describe("Alpaca's regulatory fees and USD 1 fractional minimum at the simulated broker", () => {
  // The fees alone: the prices are hand-priced without the preset's market impact.
  const alpaca = {
    ...BROKER_FEE_SCHEDULES.alpaca_equity.costs,
    slippageBps: 10,
    impactCoefficientBps: 0,
  };

  it('reports each order its fees by type and charges the account USD 0.03 for a day of 0.1-share round trip, once the New York date is over', async () => {
    // Prepare: buy 0.1 SPY at 100.10 × 1.001 = 100.2001, sell it at 100 × 0.999 = 99.90
    const { broker, clock } = setup({ config: { costs: alpaca } });
    await broker.submitOrder(order({ qty: 0.1 }));
    clock.set(minute(1));
    await broker.submitOrder(order({ clientOrderId: 'sg_test_2', side: 'sell', qty: 0.1 }));
    clock.set(minute(3));

    // Act
    const sale = await broker.getOrderByClientOrderId('sg_test_2');
    const sameDay = await broker.getLedger();
    clock.set(NEXT_OPEN);
    const nextDay = await broker.getLedger();

    // Assess: the sale's fees by type: SEC 9.99 × 0.0000278, TAF 0.1 × 0.000166, CAT on 1 share
    expect(sale?.regulatoryFeesUsd?.secUsd).toBeCloseTo(9.99 * 0.0000278, 15);
    expect(sale?.regulatoryFeesUsd?.tafUsd).toBeCloseTo(0.0000166, 15);
    expect(sale?.regulatoryFeesUsd?.catUsd).toBeCloseTo(0.000046, 15);
    const trading = -0.1 * 100.2001 + 0.1 * 99.9;
    const accrued = 9.99 * 0.0000278 + 0.0000166 + 2 * 0.000046;
    expect(sameDay.cashUsd).toBeCloseTo(10_000 + trading - accrued, 9);
    // The next New York day: 0.01 each for SEC, TAF and CAT
    expect(nextDay.cashUsd).toBeCloseTo(10_000 + trading - 0.03, 9);
    expect(nextDay.feesUsd).toBeCloseTo(0.03, 9);
  });

  it('refuses a fractional buy worth less than USD 1 with its reason and keeps the order as rejected', async () => {
    const { broker } = setup({ config: { costs: alpaca } });
    // 0.005 SPY at about 100.20 = 0.50 USD
    await expect(broker.submitOrder(order({ qty: 0.005 }))).rejects.toThrow(
      new BrokerRejectedError('sg_test_1', BELOW_FRACTIONAL_MINIMUM),
    );
    const kept = await broker.getOrderByClientOrderId('sg_test_1');
    expect(kept?.status).toBe('rejected');
    await expect(
      broker.submitOrder(order({ clientOrderId: 'sg_test_2', qty: 0.01 })),
    ).resolves.toMatchObject({ duplicate: false });
  });
});

describe("the pipeline's reconciliation book under Alpaca's daily regulatory-fee charge", () => {
  // The fees alone: the prices are hand-priced without the preset's market impact.
  const alpaca = {
    ...BROKER_FEE_SCHEDULES.alpaca_equity.costs,
    slippageBps: 10,
    impactCoefficientBps: 0,
  };

  /** The promotion pipeline over the simulated broker, its repository in memory. */
  function pipeline(broker: SimulatedPaperBroker, clock: ManualClock) {
    const orders = new Map<string, PromotionOrder>();
    let stored = { book: emptyAccountBook(), version: 0 };
    const promotions = {
      reserveOrder: async (o: PromotionOrder) => {
        const had = orders.get(o.order.clientOrderId);
        if (had) return { created: false, order: had };
        orders.set(o.order.clientOrderId, o);
        return { created: true, order: o };
      },
      saveOrder: async (o: PromotionOrder) => void orders.set(o.order.clientOrderId, o),
      transitionOrder: async (o: PromotionOrder, _was: PromotionOrder, write?: BookWrite) => {
        orders.set(o.order.clientOrderId, o);
        if (write) stored = { book: write.book, version: stored.version + 1 };
        return { outcome: 'saved' as const };
      },
      getBook: async () => stored,
      listOrders: async () => [...orders.values()],
      setStatus: async () => {},
    };
    const deps = {
      clock,
      brokerAt: () => broker,
      promotions,
      audit: new MemoryAuditSink(clock),
      environment: 'dev',
      killSwitch: { read: async () => null },
      promotionConfig: { reconcileQtyTolerance: 1e-6 },
    } as unknown as PromotionDeps;
    const promotion = { promotionId: 'P1', broker: 'simulated:paper' } as StagedPromotion;
    const leg = (name: 'entry' | 'flatten', side: 'buy' | 'sell'): PlannedLeg => ({
      leg: name,
      symbol: 'SPY',
      side,
      qty: 0.1,
      refPriceUsd: 100,
    });
    return { deps, promotion, leg, orders, book: () => stored.book };
  }

  it("is clean after the day's USD 0.03 charge (it compares positions and orders, which the charge does not move), and its cash plus the day's rounding of its orders is the broker's to the cent", async () => {
    // Prepare: a 0.1-share round trip, entry and flatten legs, buy 100.2001 and sell 99.90
    const { broker, clock } = setup({ config: { costs: alpaca } });
    const p = pipeline(broker, clock);
    await submitPromotionOrders(p.deps, { promotion: p.promotion, plan: [p.leg('entry', 'buy')] });
    clock.set(minute(1));
    await pollPromotionOrders(p.deps, { promotion: p.promotion });
    await submitPromotionOrders(p.deps, {
      promotion: p.promotion,
      plan: [p.leg('flatten', 'sell')],
    });
    clock.set(minute(3));
    await pollPromotionOrders(p.deps, { promotion: p.promotion });

    // Act: the next New York day, after the account paid the day's charge
    clock.set(NEXT_OPEN);
    const rec = await reconcilePromotion(p.deps, { promotion: p.promotion });
    const ledger = await broker.getLedger();
    const reported = await Promise.all(
      [...p.orders.keys()].map((id) => broker.getOrderByClientOrderId(id)),
    );

    // Assess: SEC 9.99 × 0.0000278, TAF 0.1 × 0.000166, CAT 2 × 0.000046 accrued; 0.03 charged
    const trading = -0.1 * 100.2001 + 0.1 * 99.9;
    const accrued = 9.99 * 0.0000278 + 0.0000166 + 2 * 0.000046;
    expect(rec).toMatchObject({ clean: true, discrepancies: [] });
    expect(ledger.cashUsd).toBeCloseTo(10_000 + trading - 0.03, 9);
    // The book is the promotion's orders' cash flows: their fees as reported, no account-day
    // charge (the account's day total may hold other orders: a subset's rounding is not its share)
    expect(p.book().cashUsd).toBeCloseTo(trading - accrued, 9);
    const dayCharge = regulatoryRoundingByDayUsd(
      reported.map((o) => ({ date: DATE, regulatoryFeesUsd: o?.regulatoryFeesUsd })),
    );
    expect(p.book().cashUsd - dayCharge).toBeCloseTo(ledger.cashUsd - 10_000, 9);
  });
});
