/**
 * The crypto day's close for the `gtc` orders no paper session watches. Alpaca takes crypto
 * orders only as `gtc`/`ioc` (`alpacaTimeInForce`, exchange/exchange-model.ts), so an order
 * nobody cancels works on into the next UTC day. A running paper session cancels its own at its
 * close tick (paper/paper-session.ts); these have no tick: a promotion's order left open, and the
 * flattens (the crash sweeper's `..._recovflat_1`, a kill-switch `..._kill-flatten_1` sent after
 * its session's close tick, a micro-live slice's rollback `..._flatten_1`). Run with the crash
 * sweeper (AWS: hourly at minute 0, so at 00:00 UTC): every `gtc` order still open at the broker,
 * submitted before the current UTC day began (00:00 UTC, the crypto session's close) and not
 * among the open orders of an unfinished paper session (yesterday's or today's: a session owns
 * its orders, also one it carries into a day whose data is missing), is
 * - left working when it is a flatten ({@link FLATTEN_LEGS}: it reduces risk and must be allowed
 *   to finish; cancelling it would leave the position held and a rollback awaiting its flatten
 *   forever): returned in `leftWorking`, logged by the handler each hour it is still open;
 * - else cancelled (`cancelOrLearn`: when the cancel fails, the broker's terminal answer is
 *   taken) and recorded:
 *   - an order of a promotion (its client_order_id names it, its order is in the repository) is
 *     synced and its fills booked (`syncOrder`: `order_status_changed` on `promotion:<id>`);
 *   - any other order gets one `order_status_changed` (once per client_order_id) on the stream
 *     of the promotion its client_order_id names, else on `broker-orders:<account>`.
 *   The record is tried {@link RECORD_ATTEMPTS} times: a cancelled order is no longer open, so
 *   no later sweep (which lists open orders only) would see it again. Still failing, the order
 *   is returned in `unrecorded` (cancelled at the broker, its record missing) and the handler
 *   fails naming it.
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

/**
 * Legs (client_order_id field 3) of the risk-reducing flattens the sweep never cancels: the
 * crash sweeper's (`recovflat`, paper-session-recovery.ts), the kill switch's (`kill-flatten`,
 * paper/paper-session.ts) and a micro-live slice's rollback (`flatten`, day3-rollback.ts).
 */
export const FLATTEN_LEGS: ReadonlySet<string> = new Set(['recovflat', 'kill-flatten', 'flatten']);

/** How many times a cancelled order's record is tried before it is reported `unrecorded`. */
export const RECORD_ATTEMPTS = 3;

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
  /**
   * Orders cancelled (or terminal) at the broker whose record failed {@link RECORD_ATTEMPTS}
   * times: no later sweep sees them (they are no longer open); the operator records them
   * (docs/runbook.md). `statusAfter` is the broker's answer, `error` the last failure.
   */
  readonly unrecorded: readonly {
    readonly clientOrderId: string;
    readonly statusAfter: string;
    readonly error: string;
  }[];
  /** Flatten orders past their day left working at the broker (never cancelled), as listed. */
  readonly leftWorking: readonly {
    readonly clientOrderId: string;
    readonly symbol: string;
    readonly status: string;
    readonly submittedAtIso: string;
  }[];
}

type Outcome = { -readonly [K in keyof GtcDayClose]: GtcDayClose[K][number][] };

/**
 * Cancels and records every `gtc` order (a flatten: leaves it working) of the deployment's account that outlived its UTC day
 * and that no unfinished paper session tracks (see the module comment), at `nowMs` (epoch ms).
 *
 * @throws BrokerUnavailableError / TransientError when the broker's open orders or the session
 *   books cannot be read (nothing cancelled; the next sweep retries). One order's failure does
 *   not stop the others: a failed cancel is returned in `failed`, a failed record (after
 *   {@link RECORD_ATTEMPTS} tries) in `unrecorded`.
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
  const out: Outcome = { closed: [], failed: [], unrecorded: [], leftWorking: [] };
  for (const open of past) {
    if (isFlatten(open.clientOrderId)) {
      const { clientOrderId, symbol, status, submittedAtIso } = open;
      out.leftWorking.push({ clientOrderId, symbol, status, submittedAtIso });
    } else {
      await closeOne(deps, { broker, account, open, nowMs }, out);
    }
  }
  return out;
}

/** Cancels one order and records it (retried), filing the result into `out`. */
async function closeOne(
  deps: PromotionRecoveryDeps,
  x: { broker: BrokerPort; account: string; open: BrokerOrder; nowMs: number },
  out: Outcome,
): Promise<void> {
  const coid = x.open.clientOrderId;
  let after: BrokerOrder;
  try {
    after = await cancelOrLearn(x.broker, coid);
  } catch (err) {
    out.failed.push({ clientOrderId: coid, error: describe(err) });
    return;
  }
  const error = await recordWithRetries(deps, { ...x, after });
  if (error !== null) {
    out.unrecorded.push({ clientOrderId: coid, statusAfter: after.status, error });
    return;
  }
  out.closed.push({
    clientOrderId: coid,
    symbol: x.open.symbol,
    statusBefore: x.open.status,
    statusAfter: after.status,
    filledQty: after.filledQty,
  });
}

/** {@link record} up to {@link RECORD_ATTEMPTS} times: null once it succeeded, else the last error. */
async function recordWithRetries(
  deps: PromotionRecoveryDeps,
  x: Parameters<typeof record>[1],
): Promise<string | null> {
  let last = '';
  for (let attempt = 1; attempt <= RECORD_ATTEMPTS; attempt++) {
    try {
      await record(deps, x);
      return null;
    } catch (err) {
      last = describe(err);
    }
  }
  return last;
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/** True when `clientOrderId` is a stagegate id whose leg is a flatten ({@link FLATTEN_LEGS}). */
function isFlatten(clientOrderId: string): boolean {
  try {
    return FLATTEN_LEGS.has(parseClientOrderId(clientOrderId).leg);
  } catch {
    return false;
  }
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
