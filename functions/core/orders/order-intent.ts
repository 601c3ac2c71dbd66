/**
 * Intent before effect: how every order of stagegate reaches a broker, and how an order whose
 * outcome was lost (a crash, a timeout) is resolved without ever sending a second entry.
 *
 * Protocol for one order (docs/audit.md#orders-intent-before-effect):
 * 1. the caller reserves the order under its deterministic client_order_id (its repository's
 *    conditional write, status `pending_new`);
 * 2. {@link submitOnce}: if the reservation may already have reached the broker (a rerun), the
 *    broker is asked by client_order_id first and the order is NOT sent again when it knows
 *    it; otherwise an `order_intent` record is appended to the audit trail, THEN the broker is
 *    called, THEN `order_submitted` (the outcome) is appended;
 * 3. a crash between 2's steps leaves `order_intent` without an outcome and a `pending_new`
 *    reservation: the sweeper (functions/core/use-cases/recover-in-flight.ts) finds it,
 *    resolves it with {@link brokerReportEvents} against the broker's view by client_order_id,
 *    and closes the workflow run.
 *
 * Used by the promotion pipeline (functions/core/use-cases/promotion.ts) and meant for every
 * other order path (the paper session's per-minute tick).
 */

import type { AuditSink } from '../../ports/audit.js';
import type { BrokerOrder, BrokerOrderRequest, BrokerPort } from '../../ports/broker.js';
import type { AuditEnvironment, SubjectField } from '../audit/record.js';
import { appendKeyed } from '../audit/step-scoped.js';
import { alpacaTimeInForce } from '../exchange/exchange-model.js';
import type { MarketSession } from '../market/types.js';
import {
  isTerminalOrderStatus,
  type OrderEvent,
  type OrderSide,
  type OrderSnapshot,
} from './order.js';

/**
 * The market order stagegate sends: `qty` shares (> 0) of `symbol` on `side`, with the time in
 * force of the symbol's `market` ({@link alpacaTimeInForce}: `day` for equities, `gtc` for
 * crypto, which Alpaca refuses as `day`). Every sender (the promotion's entry, the paper
 * session's signals and flattens, the kill switch's and the crash sweeper's flattens, hence
 * micro-live) builds its request here, so no path can send a crypto `day` order.
 */
export function marketOrderRequest(o: {
  readonly clientOrderId: string;
  readonly symbol: string;
  readonly side: OrderSide;
  readonly qty: number;
  readonly market: MarketSession['market'];
}): BrokerOrderRequest {
  return {
    clientOrderId: o.clientOrderId,
    symbol: o.symbol,
    side: o.side,
    qty: o.qty,
    type: 'market',
    timeInForce: alpacaTimeInForce(o.market),
  };
}

/** Where and as whom the intent and outcome records of an order are appended. */
export interface IntentTrail {
  readonly audit: AuditSink;
  readonly environment: AuditEnvironment;
  /** `area/component`, e.g. `stagegate/promotion-pipeline`. */
  readonly actor: string;
  /** The workflow run's stream, e.g. `promotion:<id>`. */
  readonly stream: string;
  /** Ids recorded with both records (`order_id` is added: the client_order_id). */
  readonly subject: Partial<Record<SubjectField, string>>;
}

/** What {@link submitOnce} did. */
export interface SubmitOnceResult {
  readonly order: BrokerOrder;
  /** True when the broker already knew the client_order_id (nothing new was created). */
  readonly duplicate: boolean;
  /** True when this call sent the order (an `order_intent` was appended first). */
  readonly sent: boolean;
}

function orderFields(request: BrokerOrderRequest, broker: BrokerPort) {
  return {
    client_order_id: request.clientOrderId,
    symbol: request.symbol,
    side: request.side,
    qty: request.qty,
    type: request.type,
    time_in_force: request.timeInForce,
    ...(request.limitPriceUsd === undefined ? {} : { limit_price: request.limitPriceUsd }),
    broker: broker.name,
  };
}

/**
 * Sends one reserved order at most once.
 *
 * @param options.mayBeKnown true when the reservation existed before this call (a retry or a
 *   rerun): the broker is asked by client_order_id first and a known order is returned as is
 *   (`sent: false`), with an `order_submitted` outcome recorded (`recovered: true`) so the
 *   trail shows where the order went.
 * @returns the broker's view of the order.
 * @throws BrokerRejectedError (the caller records the rejection as the outcome),
 *   BrokerUnavailableError (outcome unknown: the intent stays open for the sweeper), and the
 *   sink's errors (when `order_intent` cannot be appended the broker is not called).
 */
export async function submitOnce(
  trail: IntentTrail,
  broker: BrokerPort,
  request: BrokerOrderRequest,
  options: { readonly mayBeKnown: boolean },
): Promise<SubmitOnceResult> {
  const subject = { ...trail.subject, order_id: request.clientOrderId };
  const base = { actor: trail.actor, stream: trail.stream, environment: trail.environment };
  // Once per client_order_id on its stream (two crash sweeps racing on one flatten; inside a
  // workflow step, once per execution however many orders a retried step sends before this
  // one): one intent, one outcome.
  const once = (kind: string) => [kind, trail.stream, request.clientOrderId];
  if (options.mayBeKnown) {
    const known = await broker.getOrderByClientOrderId(request.clientOrderId);
    if (known) {
      await appendKeyed(
        trail.audit,
        {
          ...base,
          kind: 'order_submitted',
          subject,
          payload: { ...orderFields(request, broker), duplicate: true, recovered: true },
        },
        once('order_submitted'),
      );
      return { order: known, duplicate: true, sent: false };
    }
  }
  await appendKeyed(
    trail.audit,
    { ...base, kind: 'order_intent', subject, payload: orderFields(request, broker) },
    once('order_intent'),
  );
  const { order, duplicate } = await broker.submitOrder(request);
  await appendKeyed(
    trail.audit,
    {
      ...base,
      kind: 'order_submitted',
      subject,
      payload: { ...orderFields(request, broker), duplicate },
    },
    once('order_submitted'),
  );
  return { order, duplicate, sent: true };
}

/**
 * Order events that move our snapshot to what the broker reports (fill delta, then status).
 * Feed them to `Order.apply`, which refuses an illegal transition.
 */
export function brokerReportEvents(
  current: OrderSnapshot,
  reported: BrokerOrder,
  atMs: number,
): OrderEvent[] {
  const events: OrderEvent[] = [];
  const delta = reported.filledQty - current.filledQty;
  if (delta > 1e-9) {
    const prevNotional = current.filledQty * (current.avgFillPriceUsd ?? 0);
    const newNotional = reported.filledQty * (reported.filledAvgPriceUsd ?? 0);
    const priceUsd = (newNotional - prevNotional) / delta;
    if (current.status === 'pending_new')
      events.push({ type: 'new', atMs, brokerOrderId: reported.brokerOrderId });
    events.push({
      type: 'fill',
      atMs,
      qty: delta,
      priceUsd: priceUsd > 0 ? priceUsd : (reported.filledAvgPriceUsd ?? 0),
    });
  }
  const st = reported.status;
  if (st !== current.status && st !== 'filled' && st !== 'partially_filled') {
    if (st === 'rejected')
      events.push({ type: 'rejected', atMs, reason: 'rejected by broker' } as OrderEvent);
    else
      events.push({
        type: st,
        atMs,
        ...(['new', 'accepted', 'pending_new'].includes(st)
          ? { brokerOrderId: reported.brokerOrderId }
          : {}),
      } as OrderEvent);
  }
  return events;
}

/**
 * Cancels an order still open at the broker, as a crash sweeper does with an order nobody
 * watches any more. When the cancel itself fails (a timeout, a 5xx after the adapter's
 * retries, another sweep's cancel first), the broker is asked for the order by
 * client_order_id and, when it now shows it terminal (`filled`, `canceled` with or without a
 * partial fill, `expired`, `rejected`), that is the answer: the caller books what the broker
 * says instead of giving up and leaving the fill unbooked. Used by both sweeps: the promotion's
 * orders (use-cases/promotion-recovery.ts) and an abandoned paper session's
 * (use-cases/paper-session-recovery.ts).
 *
 * @returns the broker's view of the order after the cancel (or after the failed cancel).
 * @throws the cancel's own error when the order is still open at the broker (or unknown to
 *   it) after the failed cancel: the next sweep retries; the read's error when the broker
 *   cannot be read either.
 */
export async function cancelOrLearn(
  broker: BrokerPort,
  clientOrderId: string,
): Promise<BrokerOrder> {
  try {
    return await broker.cancelOrder(clientOrderId);
  } catch (err) {
    const now = await broker.getOrderByClientOrderId(clientOrderId);
    if (now && isTerminalOrderStatus(now.status)) return now;
    throw err;
  }
}
