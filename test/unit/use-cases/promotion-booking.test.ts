/**
 * The promotion's bookkeeping (functions/core/use-cases/promotion-orders.ts): a fill whose
 * booking lost every optimistic-concurrency round against other writers of the position book
 * (`book_moved` 5 times) is booked by the next sync, exactly once, at what it cost.
 */
import { describe, expect, it } from 'vitest';
import { emptyAccountBook } from '../../../functions/core/exchange/position-book.js';
import { Order } from '../../../functions/core/orders/order.js';
import type { PromotionDeps } from '../../../functions/core/use-cases/promotion.js';
import {
  pollPromotionOrders,
  syncOrder,
} from '../../../functions/core/use-cases/promotion-orders.js';
import type {
  PromotionOrder,
  StagedPromotion,
} from '../../../functions/core/use-cases/promotion-records.js';
import type { BrokerOrder, BrokerPort } from '../../../functions/ports/broker.js';
import { ManualClock } from '../../../functions/ports/clock.js';
import type {
  BookWrite,
  OrderTransition,
  PromotionRepository,
} from '../../../functions/ports/promotion-repository.js';
import { MemoryAuditSink } from '../../support/doubles/memory-audit-sink.js';

const T0 = Date.UTC(2013, 9, 8, 14, 5);
const COID = 'sg_P1_entry_1';
const promotion = { promotionId: 'P1', broker: 'alpaca-paper:acct' } as StagedPromotion;

/**
 * The repository's conditional writes in memory (the DynamoDB adapter's contract): an order
 * transition saves only if the stored order is still the expected one, and the book only at its
 * read version. `rivals` other writers of the book each save it (a new version) between our read
 * and our write, so that many of our rounds answer `book_moved`.
 */
function repository(rivals: number) {
  const orders = new Map<string, PromotionOrder>();
  let stored = { book: emptyAccountBook(), version: 0 };
  let rivalsLeft = rivals;
  let bookMoved = 0;
  const same = (a: PromotionOrder, b: PromotionOrder) =>
    a.order.status === b.order.status &&
    a.order.filledQty === b.order.filledQty &&
    a.order.updatedAtMs === b.order.updatedAtMs &&
    a.bookedQty === b.bookedQty;
  const transitionOrder = async (
    order: PromotionOrder,
    expected: PromotionOrder,
    write?: BookWrite,
  ): Promise<OrderTransition> => {
    const now = orders.get(order.order.clientOrderId);
    if (!now) throw new Error(`order ${order.order.clientOrderId} never reserved`);
    if (!same(now, expected)) return { outcome: 'order_moved', stored: now };
    if (write && rivalsLeft > 0) {
      rivalsLeft -= 1;
      stored = { ...stored, version: stored.version + 1 };
    }
    if (write && write.expectedVersion !== stored.version) {
      bookMoved += 1;
      return { outcome: 'book_moved' };
    }
    orders.set(order.order.clientOrderId, order);
    if (write) stored = { book: write.book, version: stored.version + 1 };
    return { outcome: 'saved' };
  };
  const promotions = {
    transitionOrder,
    getBook: async () => stored,
    listOrders: async () => [...orders.values()],
    saveOrder: async (o: PromotionOrder) => void orders.set(o.order.clientOrderId, o),
  } satisfies Partial<PromotionRepository>;
  return {
    promotions,
    seed: (o: PromotionOrder) => orders.set(o.order.clientOrderId, o),
    order: () => orders.get(COID) as PromotionOrder,
    book: () => stored.book,
    version: () => stored.version,
    bookMoved: () => bookMoved,
    rivals: (n: number) => {
      rivalsLeft = n;
    },
  };
}

/** The broker's view of the order (what Alpaca answers by client_order_id). */
function report(filledQty: number, avgPriceUsd: number, feesUsd = 0): BrokerOrder {
  return {
    brokerOrderId: 'b-1',
    clientOrderId: COID,
    symbol: 'IBM',
    side: 'buy',
    type: 'market',
    qty: 10,
    filledQty,
    filledAvgPriceUsd: avgPriceUsd,
    status: filledQty === 10 ? 'filled' : 'partially_filled',
    submittedAtIso: new Date(T0).toISOString(),
    updatedAtIso: new Date(T0).toISOString(),
    feesUsd,
  };
}

function setup(rivals: number, broker: BrokerOrder) {
  const clock = new ManualClock(T0 + 60_000);
  const repo = repository(rivals);
  const order = Order.create(
    {
      clientOrderId: COID,
      symbol: 'IBM',
      side: 'buy',
      qty: 10,
      type: 'market',
      limitPriceUsd: null,
      timeInForce: 'day',
    },
    T0,
  ).snapshot();
  repo.seed({ promotionId: 'P1', leg: 'entry', attempt: 1, bookedQty: 0, order });
  let answer = broker;
  const port = {
    name: 'alpaca-paper',
    getOrderByClientOrderId: async () => answer,
  } as unknown as BrokerPort;
  const audit = new MemoryAuditSink(clock);
  const deps = {
    clock,
    brokerAt: () => port,
    promotions: repo.promotions,
    audit,
    environment: 'dev',
  } as unknown as PromotionDeps;
  return {
    deps,
    repo,
    audit,
    clock,
    brokerAnswers: (o: BrokerOrder) => {
      answer = o;
    },
  };
}

describe('a fill whose booking lost every round against other writers of the book', () => {
  it('is booked by the next poll, exactly once (the order is already filled: only its booking was left)', async () => {
    // Prepare: the broker filled 10 at 100 with 0.05 of fees; 5 rivals move the book
    const s = setup(5, report(10, 100, 0.05));
    await pollPromotionOrders(s.deps, { promotion });
    expect(s.repo.bookMoved()).toBe(5);
    expect(s.repo.order()).toMatchObject({ bookedQty: 0, order: { status: 'filled' } });
    expect(s.repo.book().positions.IBM).toBeUndefined();

    // Act: the next poll, the broker's answer unchanged
    s.clock.advance(60_000);
    await pollPromotionOrders(s.deps, { promotion });

    // Assess: booked once, at the fill's price, with its fees
    expect(s.repo.order()).toMatchObject({ bookedQty: 10, bookedFeesUsd: 0.05 });
    expect(s.repo.book().positions.IBM).toMatchObject({ qty: 10, avgPriceUsd: 100 });
    expect(s.repo.book().cashUsd).toBeCloseTo(-1000.05, 9);
    const version = s.repo.version();

    // Act: more polls
    await pollPromotionOrders(s.deps, { promotion });
    await syncOrder(s.deps, promotion, s.repo.order(), report(10, 100, 0.05), s.clock.now());

    // Assess: nothing booked twice, the order's transition recorded once
    expect(s.repo.version()).toBe(version);
    expect(s.repo.book().positions.IBM?.qty).toBe(10);
    const recorded = s.audit.records().filter((r) => r.kind === 'order_status_changed');
    expect(recorded.map((r) => JSON.parse(String(r.payload)).status)).toEqual(['filled']);
  });

  it('prices the fills booked late at what they cost beyond those already booked', async () => {
    // Prepare: 5 at 100 booked; then the rest, 5 at 110 (average 105), loses its 5 rounds
    const s = setup(0, report(5, 100));
    await pollPromotionOrders(s.deps, { promotion });
    expect(s.repo.order().bookedQty).toBe(5);
    s.brokerAnswers(report(10, 105));
    s.repo.rivals(5);
    s.clock.advance(60_000);
    await pollPromotionOrders(s.deps, { promotion });
    expect(s.repo.order()).toMatchObject({ bookedQty: 5, order: { filledQty: 10 } });

    // Act: the next poll, the broker's answer unchanged
    s.clock.advance(60_000);
    await pollPromotionOrders(s.deps, { promotion });

    // Assess: 10 held at 105 (5 x 100 + 5 x 110), not 102.5 (the rest at the order's average)
    expect(s.repo.order().bookedQty).toBe(10);
    expect(s.repo.book().positions.IBM?.qty).toBe(10);
    expect(s.repo.book().positions.IBM?.avgPriceUsd).toBeCloseTo(105, 9);
    expect(s.repo.book().cashUsd).toBeCloseTo(-1050, 9);
  });
});
