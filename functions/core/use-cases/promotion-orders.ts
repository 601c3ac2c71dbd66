/**
 * The promotion's orders: submit (kill switch re-read per leg, reservation before the send),
 * poll, sync each broker report into the order and the position book, and Reconcile the book
 * and orders with the broker.
 */
import type { BrokerOrder, BrokerPort } from '../../ports/broker.js';
import { auditDraft } from '../audit/record.js';
import { appendKeyed } from '../audit/step-scoped.js';
import { BrokerRejectedError, KillSwitchEngagedError } from '../errors.js';
import { alpacaTimeInForce } from '../exchange/exchange-model.js';
import { type AccountBook, applyBookFill, openPositions } from '../exchange/position-book.js';
import { clientOrderId } from '../orders/client-order-id.js';
import {
  isTerminalOrderStatus,
  Order,
  type OrderEvent,
  type OrderSide,
  type OrderSnapshot,
  type OrderStatus,
} from '../orders/order.js';
import {
  brokerReportEvents,
  cancelOrLearn,
  marketOrderRequest,
  submitOnce,
} from '../orders/order-intent.js';
import { type Discrepancy, reconcile } from '../orders/reconcile.js';
import {
  killSwitchState,
  PROMOTION_ACTOR,
  type PromotionDeps,
  promotionDraft,
  promotionStream,
} from './promotion.js';
import type { PlannedLeg } from './promotion-plan.js';
import type { PromotionOrder, StagedPromotion } from './promotion-records.js';

/**
 * Records `order_status_changed` for one order of a promotion (stream `promotion:<id>`): the
 * order's new status, cumulative `filled_qty` (shares) and `filled_avg_price` (USD, null when
 * nothing filled), the status it had before, and either the broker's own status word or the
 * reason it changed without the broker (rejected before sending, cancelled never sent).
 * Once per transition: keyed by the client_order_id, the new status and the filled quantity
 * (an order's lifecycle never returns to a pair it left), so two writers that observed the
 * same transition (two crash sweeps) record it once; inside a workflow step the same key,
 * scoped by the execution (`appendKeyed`).
 *
 * @param actor who changed it: the promotion pipeline, or the in-flight recovery.
 */
export async function recordOrderStatus(
  deps: Pick<PromotionDeps, 'audit' | 'environment'>,
  promotionId: string,
  previousStatus: OrderStatus,
  next: OrderSnapshot,
  why: { readonly broker_status: string } | { readonly reason: string },
  actor: string = PROMOTION_ACTOR,
): Promise<void> {
  await appendKeyed(
    deps.audit,
    auditDraft('order_status_changed', {
      actor,
      stream: promotionStream(promotionId),
      environment: deps.environment,
      subject: { promotion_id: promotionId, order_id: next.clientOrderId },
      payload: {
        client_order_id: next.clientOrderId,
        status: next.status,
        previous_status: previousStatus,
        filled_qty: next.filledQty,
        filled_avg_price: next.avgFillPriceUsd,
        ...why,
      },
    }),
    ['order-status', promotionId, next.clientOrderId, next.status, next.filledQty],
  );
}

/** Shares an order has filled that the position book does not hold yet (0 when all booked). */
export function unbookedQty(o: PromotionOrder): number {
  return Math.max(0, o.order.filledQty - o.bookedQty);
}

/**
 * True when nothing is left to do for an order: terminal at the broker AND its fills booked.
 * A terminal order whose booking lost every optimistic-concurrency round
 * ({@link commitTransition}) is not settled: the next poll or sweep books it.
 */
export function isSettled(o: PromotionOrder): boolean {
  return isTerminalOrderStatus(o.order.status) && unbookedQty(o) <= QTY_EPSILON;
}

/** Share-quantity tolerance of the booking (fractional shares in float). */
const QTY_EPSILON = 1e-9;

/**
 * Applies the broker's view of an order to our snapshot through the Order entity (an
 * illegal transition throws IllegalOrderTransitionError) and, when anything moved, records
 * `order_status_changed` (once per transition); then, when anything moved or the order still
 * has fills the book does not hold (an earlier booking lost its 5 rounds), saves the order
 * with those fills booked into THE position book (`exchange/position-book.ts`) in one
 * conditional write ({@link commitTransition}): of two writers that read the same order, one
 * moves it and books. A fill is booked once: `bookedQty` is saved with the book, and the
 * write is conditional on the `bookedQty` read (the order's key is its client_order_id).
 *
 * @returns the order as saved: this call's, or the one another writer saved first.
 */
export async function syncOrder(
  deps: PromotionDeps,
  p: StagedPromotion,
  tracked: PromotionOrder,
  reported: BrokerOrder,
  nowMs: number,
): Promise<PromotionOrder> {
  const order = Order.rehydrate(tracked.order);
  // An event the lifecycle does not allow throws IllegalOrderTransitionError (recorded by
  // the state machine's Catch): a broker report never silently rewrites an order's history.
  for (const ev of brokerReportEvents(tracked.order, reported, nowMs)) order.apply(ev);
  const next = order.snapshot();
  const moved = next.status !== tracked.order.status || next.filledQty !== tracked.order.filledQty;
  if (!moved && next.filledQty - tracked.bookedQty <= QTY_EPSILON) return tracked;
  // Recorded before the write: a crash in between leaves the order as it was, and the retry
  // observes the same transition under the same key (nothing new recorded, nothing lost).
  if (moved)
    await recordOrderStatus(deps, p.promotionId, tracked.order.status, next, {
      broker_status: reported.status,
    });
  return commitTransition(deps, p, tracked, next, { feesUsd: reported.feesUsd, atMs: nowMs });
}

/**
 * Saves `tracked` -> `next` with the fills not yet booked (`next.filledQty - bookedQty`
 * shares, priced at what they cost beyond the booked notional) applied to the book
 * (`transitionOrder`: the order and the book in one conditional write; re-read on a moved
 * book, at most 5 rounds, then the order alone with its fills left to book by the next sync).
 * Another writer's transition wins: its order is returned.
 */
export async function commitTransition(
  deps: Pick<PromotionDeps, 'promotions'>,
  p: Pick<StagedPromotion, 'broker'>,
  tracked: PromotionOrder,
  next: OrderSnapshot,
  fill: { readonly feesUsd: number; readonly atMs: number },
): Promise<PromotionOrder> {
  const toBook = next.filledQty - tracked.bookedQty;
  const bookedNotionalUsd = bookedNotional(tracked);
  const unbooked: PromotionOrder = {
    ...tracked,
    bookedFeesUsd: tracked.bookedFeesUsd ?? 0,
    bookedNotionalUsd,
    order: next,
  };
  const filledNotionalUsd = next.filledQty * (next.avgFillPriceUsd ?? 0);
  for (let attempt = 0; toBook > QTY_EPSILON && attempt < 5; attempt++) {
    const { book, version } = await deps.promotions.getBook(p.broker);
    const booked = applyBookFill(book, {
      symbol: next.symbol,
      side: next.side,
      qty: toBook,
      priceUsd: (filledNotionalUsd - bookedNotionalUsd) / toBook,
      feeUsd: Math.max(0, fill.feesUsd - (tracked.bookedFeesUsd ?? 0)),
      atMs: fill.atMs,
    });
    const updated: PromotionOrder = {
      ...unbooked,
      bookedQty: next.filledQty,
      bookedFeesUsd: fill.feesUsd,
      bookedNotionalUsd: filledNotionalUsd,
    };
    const write = { account: p.broker, book: booked, expectedVersion: version };
    const out = await deps.promotions.transitionOrder(updated, tracked, write);
    if (out.outcome === 'saved') return updated;
    if (out.outcome === 'order_moved') return out.stored;
  }
  const out = await deps.promotions.transitionOrder(unbooked, tracked);
  return out.outcome === 'order_moved' ? out.stored : unbooked;
}

/**
 * What the booked fills of an order cost, USD (shares x price): as saved, or, for an order
 * saved before the field existed, its booked shares at the order's average fill price. That
 * estimate is exact when every fill was booked. Not otherwise: the code before the field also
 * saved orders whose booking lost its 5 rounds (`bookedQty` behind `filledQty`); their booked
 * shares are priced at the average of ALL fills, so the rest is booked at that average, not at
 * what it cost (the book's cost basis is off by the gap between the two prices; fees are not).
 */
function bookedNotional(o: PromotionOrder): number {
  return o.bookedNotionalUsd ?? o.bookedQty * (o.order.avgFillPriceUsd ?? 0);
}

export interface OrdersOutput {
  readonly orders: readonly {
    readonly clientOrderId: string;
    readonly symbol: string;
    readonly side: OrderSide;
    readonly qty: number;
    readonly status: string;
    readonly filledQty: number;
    readonly filledAvgPriceUsd: number | null;
    /** Submission to last update, ms (submission-to-terminal once terminal). */
    readonly latencyMs: number;
  }[];
  /**
   * Every order is settled (`isSettled`: terminal at the broker AND its fills booked); a
   * terminal order whose booking lost its rounds is not, so a caller waiting on this polls again.
   */
  readonly allSettled: boolean;
}

function ordersOutput(orders: readonly PromotionOrder[]): OrdersOutput {
  return {
    orders: orders.map((o) => ({
      clientOrderId: o.order.clientOrderId,
      symbol: o.order.symbol,
      side: o.order.side,
      qty: o.order.qty,
      status: o.order.status,
      filledQty: o.order.filledQty,
      filledAvgPriceUsd: o.order.avgFillPriceUsd,
      latencyMs: o.order.updatedAtMs - o.order.createdAtMs,
    })),
    allSettled: orders.every(isSettled),
  };
}

async function assertKillSwitchOff(deps: Pick<PromotionDeps, 'killSwitch'>): Promise<void> {
  const ks = await killSwitchState(deps);
  if (ks !== 'off') throw new KillSwitchEngagedError(ks);
}

/** Records a broker's rejection of a reserved order on the order (saved) and in the trail. */
async function recordRejection(
  deps: PromotionDeps,
  p: StagedPromotion,
  reserved: PromotionOrder,
  reason: string,
  nowMs: number,
): Promise<PromotionOrder> {
  const order = Order.rehydrate(reserved.order);
  order.apply({ type: 'rejected', atMs: nowMs, reason } as OrderEvent);
  const rejected: PromotionOrder = { ...reserved, order: order.snapshot() };
  await deps.promotions.saveOrder(rejected);
  await recordOrderStatus(deps, p.promotionId, reserved.order.status, rejected.order, { reason });
  return rejected;
}

/**
 * One leg: reserves the order under its deterministic client_order_id (conditional write),
 * then sends it through the order-intent protocol unless the reservation is already terminal.
 */
async function submitLeg(
  deps: PromotionDeps,
  p: StagedPromotion,
  broker: BrokerPort,
  leg: PlannedLeg,
  nowMs: number,
): Promise<PromotionOrder> {
  const coid = clientOrderId({ promotionId: p.promotionId, leg: leg.leg, attempt: 1 });
  // The candidate's market picks the time in force (`day` equities, `gtc` crypto).
  const market = p.market ?? 'equity-usa';
  const fresh = Order.create(
    {
      clientOrderId: coid,
      symbol: leg.symbol,
      side: leg.side,
      qty: leg.qty,
      type: 'market',
      limitPriceUsd: null,
      timeInForce: alpacaTimeInForce(market),
    },
    nowMs,
  ).snapshot();
  const { created, order: reserved } = await deps.promotions.reserveOrder({
    promotionId: p.promotionId,
    leg: leg.leg,
    attempt: 1,
    bookedQty: 0,
    order: fresh,
  });
  if (isTerminalOrderStatus(reserved.order.status)) return reserved;
  try {
    // Intent before effect (functions/core/orders/order-intent.ts): `order_intent` is
    // appended before the broker call, `order_submitted` after; a reservation that existed
    // already is looked up at the broker first and never sent twice.
    const { order: reported } = await submitOnce(
      {
        audit: deps.audit,
        environment: deps.environment,
        actor: PROMOTION_ACTOR,
        stream: promotionStream(p.promotionId),
        subject: { promotion_id: p.promotionId },
      },
      broker,
      marketOrderRequest({
        clientOrderId: coid,
        symbol: reserved.order.symbol,
        side: reserved.order.side,
        qty: reserved.order.qty,
        market,
      }),
      { mayBeKnown: !created },
    );
    return await syncOrder(deps, p, reserved, reported, nowMs);
  } catch (err) {
    if (!(err instanceof BrokerRejectedError)) throw err;
    return recordRejection(deps, p, reserved, err.reason, nowMs);
  }
}

/**
 * Submit: for each planned leg re-checks the kill switch (fails closed), then reserves the
 * order under its deterministic client_order_id (conditional write) BEFORE sending it, and
 * sends it. A retry or restart after the broker accepted but before we recorded finds the
 * reservation and the broker answers with the same order (`duplicate`), so exactly one
 * order per leg exists. A broker rejection is recorded on the order, not retried.
 *
 * @throws KillSwitchEngagedError when the switch is on or unreadable.
 */
export async function submitPromotionOrders(
  deps: PromotionDeps,
  input: {
    readonly promotion: StagedPromotion;
    readonly plan: readonly PlannedLeg[];
  },
): Promise<OrdersOutput> {
  const p = input.promotion;
  if (input.plan.length === 0) await assertKillSwitchOff(deps);
  const now = deps.clock.now();
  const broker = deps.brokerAt(now);
  const out: PromotionOrder[] = [];
  for (const leg of input.plan) {
    // Re-read before every leg, not once: an operator who engages the switch mid-submission
    // stops the legs not yet sent (those already sent are canceled by the engage itself).
    await assertKillSwitchOff(deps);
    out.push(await submitLeg(deps, p, broker, leg, now));
  }
  await deps.promotions.setStatus(
    p.promotionId,
    'submitted',
    `${out.length} order(s) sent to ${broker.name}`,
  );
  return ordersOutput(out);
}

/**
 * Poll: asks the broker for every order of the promotion that is open, or terminal with fills
 * not yet booked, and applies what moved (and books what was left unbooked).
 * With `cancelOpen`, requests cancellation of every order still open first (the poll budget
 * ran out, or the kill switch was engaged).
 */
export async function pollPromotionOrders(
  deps: PromotionDeps,
  input: {
    readonly promotion: StagedPromotion;
    readonly cancelOpen?: boolean;
  },
): Promise<OrdersOutput> {
  const p = input.promotion;
  const now = deps.clock.now();
  const broker = deps.brokerAt(now);
  const tracked = await deps.promotions.listOrders(p.promotionId);
  const out: PromotionOrder[] = [];
  for (const o of tracked) {
    if (isSettled(o)) {
      out.push(o);
      continue;
    }
    // A terminal order is only read (its fills left to book); an open one is cancelled on
    // request, the broker's answer taken when the cancel fails (`cancelOrLearn`).
    const reported =
      input.cancelOpen && !isTerminalOrderStatus(o.order.status)
        ? await cancelOrLearn(broker, o.order.clientOrderId)
        : await broker.getOrderByClientOrderId(o.order.clientOrderId);
    out.push(reported ? await syncOrder(deps, p, o, reported, now) : o);
  }
  return ordersOutput(out);
}

/**
 * Reconcile: compares the local position book and this promotion's orders with the broker's
 * positions and orders, and records a `reconciliation` with every discrepancy.
 */
export async function reconcilePromotion(
  deps: PromotionDeps,
  input: { readonly promotion: StagedPromotion },
): Promise<{
  clean: boolean;
  discrepancies: readonly Discrepancy[];
  positions: readonly { symbol: string; qty: number }[];
}> {
  const p = input.promotion;
  const now = deps.clock.now();
  const broker = deps.brokerAt(now);
  const [{ book }, brokerPositions, tracked] = await Promise.all([
    deps.promotions.getBook(p.broker),
    broker.listPositions(),
    deps.promotions.listOrders(p.promotionId),
  ]);
  const brokerOrders: { clientOrderId: string; status: string; filledQty: number }[] = [];
  for (const o of tracked) {
    const b = await broker.getOrderByClientOrderId(o.order.clientOrderId);
    if (b)
      brokerOrders.push({
        clientOrderId: b.clientOrderId,
        status: b.status,
        filledQty: b.filledQty,
      });
  }
  const localPositions = openPositions(book as AccountBook).map((v) => ({
    symbol: v.symbol,
    qty: v.qty,
  }));
  const discrepancies = reconcile(
    {
      localPositions,
      brokerPositions: brokerPositions.map((b) => ({ symbol: b.symbol, qty: b.qty })),
      localOrders: tracked.map((o) => ({
        clientOrderId: o.order.clientOrderId,
        status: o.order.status,
        filledQty: o.order.filledQty,
      })),
      brokerOrders,
    },
    { qtyTolerance: deps.promotionConfig.reconcileQtyTolerance },
  );
  await deps.audit.append(
    promotionDraft(
      deps,
      'reconciliation',
      promotionStream(p.promotionId),
      { promotion_id: p.promotionId },
      {
        clean: discrepancies.length === 0,
        discrepancies,
        local_positions: localPositions,
        broker_positions: brokerPositions,
        orders: brokerOrders,
        broker: broker.name,
      },
    ),
  );
  return { clean: discrepancies.length === 0, discrepancies, positions: localPositions };
}
