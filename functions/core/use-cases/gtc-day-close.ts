/**
 * The crypto day's close for the `gtc` orders no paper session watches. Alpaca takes crypto
 * orders only as `gtc`/`ioc` (`alpacaTimeInForce`, exchange/exchange-model.ts), so an order
 * nobody cancels works on into the next UTC day. A running paper session cancels its own at its
 * close tick (paper/paper-session.ts); these have no tick: the crash sweeper's flatten
 * (`..._recovflat_1`), a promotion's order left open, a kill-switch flatten sent after its
 * session's close tick. Run with the crash sweeper (AWS: hourly at minute 0, so at 00:00 UTC):
 * every `gtc` order still open at the broker, submitted before the current UTC day began
 * (00:00 UTC, the crypto session's close) and not among the open orders of an unfinished paper
 * session (yesterday's or today's: a session owns its orders, also one it carries into a day
 * whose data is missing), is cancelled (`cancelOrLearn`: when the cancel fails, the broker's
 * terminal answer is taken) and recorded:
 * - an order of a promotion (its client_order_id names it, its order is in the repository) is
 *   synced and its fills booked (`syncOrder`: `order_status_changed` on `promotion:<id>`);
 * - any other order gets one `order_status_changed` (once per client_order_id) on the stream of
 *   the promotion its client_order_id names, else on `broker-orders:<account>`.
 * Never sends an order. Equity orders go out `day` and expire at the close by themselves.
 */

import type { BrokerOrder, BrokerPort } from '../../ports/broker.js';
import { accountKeyOf } from '../../ports/session-books.js';
import { auditDraft } from '../audit/record.js';
import { appendKeyed } from '../audit/step-scoped.js';
import { marketDate } from '../calendar/market-calendar.js';
import { parseClientOrderId } from '../orders/client-order-id.js';
import { cancelOrLearn } from '../orders/order-intent.js';
import { syncOrder } from './promotion-orders.js';
import type { PromotionRecoveryDeps } from './promotion-recovery.js';

const ACTOR = 'stagegate/in-flight-recovery';
const DAY_MS = 86_400_000;

/** What {@link closeGtcOrdersPastTheirDay} did, per order. */
export interface GtcDayClose {
  /** Orders cancelled (or found terminal after a failed cancel), with the broker's answer. */
  readonly closed: readonly {
    readonly clientOrderId: string;
    readonly symbol: string;
    readonly statusBefore: string;
    readonly statusAfter: string;
    /** Shares filled, as the broker reports them. */
    readonly filledQty: number;
  }[];
  /** Orders still open after a failed cancel (the next sweep retries), with the error. */
  readonly failed: readonly { readonly clientOrderId: string; readonly error: string }[];
}

/**
 * Cancels and records every `gtc` order of the deployment's account that outlived its UTC day
 * and that no unfinished paper session tracks (see the module comment), at `nowMs` (epoch ms).
 *
 * @throws BrokerUnavailableError / TransientError when the broker's open orders or the session
 *   books cannot be read (nothing cancelled; the next sweep retries). One order's failure does
 *   not stop the others: it is returned in `failed`.
 */
export async function closeGtcOrdersPastTheirDay(
  deps: PromotionRecoveryDeps,
  nowMs: number,
): Promise<GtcDayClose> {
  const broker = deps.brokerAt(nowMs);
  const account = accountKeyOf(broker.name, deps.brokerAccount);
  const today = marketDate(nowMs, 'crypto');
  const dayStartMs = Date.parse(`${today}T00:00:00.000Z`);
  const owned = await sessionOwned(deps, account, [marketDate(nowMs - DAY_MS, 'crypto'), today]);
  const past = (await broker.listOpenOrders()).filter(
    (o) =>
      o.timeInForce === 'gtc' &&
      Date.parse(o.submittedAtIso) < dayStartMs &&
      !owned.has(o.clientOrderId),
  );
  const closed: GtcDayClose['closed'][number][] = [];
  const failed: GtcDayClose['failed'][number][] = [];
  for (const open of past) {
    try {
      const after = await cancelOrLearn(broker, open.clientOrderId);
      await record(deps, { broker, account, open, after, nowMs });
      closed.push({
        clientOrderId: open.clientOrderId,
        symbol: open.symbol,
        statusBefore: open.status,
        statusAfter: after.status,
        filledQty: after.filledQty,
      });
    } catch (err) {
      failed.push({
        clientOrderId: open.clientOrderId,
        error: `${(err as Error).name}: ${(err as Error).message}`,
      });
    }
  }
  return { closed, failed };
}

/** Client_order_ids of the open orders of every unfinished paper session of `dates`. */
async function sessionOwned(
  deps: Pick<PromotionRecoveryDeps, 'sessionBooks'>,
  account: string,
  dates: readonly string[],
): Promise<Set<string>> {
  const owned = new Set<string>();
  for (const date of dates) {
    for (const s of await deps.sessionBooks.list(account, date)) {
      if (!s.done) for (const o of s.open) owned.add(o.clientOrderId);
    }
  }
  return owned;
}

/** The promotion id a client_order_id names, when it names one verbatim (not hashed). */
function promotionOf(clientOrderId: string): string | null {
  try {
    const parsed = parseClientOrderId(clientOrderId);
    return parsed.hashed ? null : parsed.promotionKey;
  } catch {
    return null;
  }
}

/** Books a promotion's own order through `syncOrder`; records any other once. */
async function record(
  deps: PromotionRecoveryDeps,
  x: {
    broker: BrokerPort;
    account: string;
    open: BrokerOrder;
    after: BrokerOrder;
    nowMs: number;
  },
): Promise<void> {
  const coid = x.open.clientOrderId;
  const promotionId = promotionOf(coid);
  if (promotionId) {
    const tracked = (await deps.promotions.listOrders(promotionId)).find(
      (o) => o.order.clientOrderId === coid,
    );
    if (tracked) {
      await syncOrder(deps, await deps.promotions.get(promotionId), tracked, x.after, x.nowMs);
      return;
    }
  }
  await appendKeyed(
    deps.audit,
    auditDraft('order_status_changed', {
      actor: ACTOR,
      stream: promotionId ? `promotion:${promotionId}` : `broker-orders:${x.account}`,
      environment: deps.environment,
      subject: { ...(promotionId ? { promotion_id: promotionId } : {}), order_id: coid },
      payload: {
        client_order_id: coid,
        status: x.after.status,
        previous_status: x.open.status,
        filled_qty: x.after.filledQty,
        filled_avg_price: x.after.filledAvgPriceUsd,
        broker_status: x.after.status,
        reason: `gtc order open past its UTC day (submitted ${x.open.submittedAtIso}) that no paper session tracks: canceled at the crypto close`,
        broker: x.broker.name,
      },
    }),
    ['gtc-day-close', x.account, coid],
  );
}
