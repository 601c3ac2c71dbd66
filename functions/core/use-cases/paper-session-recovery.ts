/**
 * The crash sweeper's part for a promotion's paper session (`statemachines/paper-session.asl.json`)
 * whose execution is gone: the session's orders live in its execution state, so the sweeper
 * reads the session's last snapshot in the session-book registry (`ports/session-books.ts`,
 * written at every tick) and, by client_order_id:
 * - every order still open at the broker is canceled (nobody watches it any more), and what
 *   filled since the snapshot is booked (`order_status_changed`);
 * - a position the session still holds is closed with ONE flatten order (deterministic
 *   client_order_id `<promotion>_recovflat_1` through the order-intent protocol, so a second
 *   sweep never sends a second one). This is the only order the sweeper sends; it only brings
 *   the position toward flat (the {@link InFlightWorkflow} contract). A refusal (e.g. the market
 *   is closed at the simulated broker) is recorded and the position reported;
 * - the snapshot is marked done with what is left, and a `reconciliation` record (scope
 *   `session`) says whether the session ended flat.
 */

import type { AuditSink } from '../../ports/audit.js';
import type { BrokerPort } from '../../ports/broker.js';
import {
  accountKeyOf,
  type SessionBookRegistry,
  type SessionBookSnapshot,
} from '../../ports/session-books.js';
import { type AuditEnvironment, auditDraft } from '../audit/record.js';
import { appendKeyed } from '../audit/step-scoped.js';
import { type Market, marketDate } from '../calendar/market-calendar.js';
import { BrokerRejectedError } from '../errors.js';
import { DUST_QTY } from '../exchange/position-book.js';
import { clientOrderId } from '../orders/client-order-id.js';
import { isTerminalOrderStatus } from '../orders/order.js';
import { cancelOrLearn, marketOrderRequest, submitOnce } from '../orders/order-intent.js';
import type { StagedPromotion } from './promotion-records.js';

const ACTOR = 'stagegate/in-flight-recovery';

/** What the sweeper needs for a paper session. */
export interface PaperRecoveryDeps {
  readonly sessionBooks: SessionBookRegistry;
  readonly audit: AuditSink;
  readonly environment: AuditEnvironment;
}

/** What {@link recoverPaperSession} did. */
export interface PaperRecovery {
  readonly orders: {
    clientOrderId: string;
    statusBefore: string;
    statusAfter: string;
    atBroker: boolean;
  }[];
  /** Signed shares the session held after its open orders were settled. */
  readonly positionQty: number;
  /** The flatten order, or why it was not sent; null when the session was flat. */
  readonly flatten: { clientOrderId: string; status: string; reason?: string } | null;
}

/**
 * Settles the abandoned paper session of `p` (see the module comment); null when the
 * registry holds no unfinished session for it (it never started, or it finished).
 * @throws BrokerUnavailableError / TransientError (the next sweep retries; the flatten's
 *   client_order_id is deterministic).
 */
export async function recoverPaperSession(
  deps: PaperRecoveryDeps,
  p: Pick<StagedPromotion, 'promotionId' | 'broker' | 'stagedAtIso' | 'market'>,
  broker: BrokerPort,
  nowMs: number,
): Promise<PaperRecovery | null> {
  const account = p.broker.includes(':') ? p.broker : accountKeyOf(broker.name, p.broker);
  const date = marketDate(Date.parse(p.stagedAtIso), p.market ?? 'equity-usa');
  const snap = (await deps.sessionBooks.list(account, date)).find(
    (s) => s.promotionId === p.promotionId,
  );
  if (!snap || snap.done) return null;
  const stream = `promotion:${p.promotionId}`;
  const subject = { promotion_id: p.promotionId };
  const orders: PaperRecovery['orders'] = [];
  let qty = snap.qty;
  for (const o of snap.open) {
    let reported = await broker.getOrderByClientOrderId(o.clientOrderId);
    if (reported && !isTerminalOrderStatus(reported.status))
      reported = await cancelOrLearn(broker, o.clientOrderId);
    const filled = reported?.filledQty ?? o.filledQty;
    qty += (o.side === 'buy' ? 1 : -1) * (filled - o.filledQty);
    const after = reported?.status ?? 'canceled';
    orders.push({
      clientOrderId: o.clientOrderId,
      statusBefore: 'open',
      statusAfter: after,
      atBroker: reported !== null,
    });
    await appendKeyed(
      deps.audit,
      {
        kind: 'order_status_changed',
        actor: ACTOR,
        stream,
        environment: deps.environment,
        subject: { ...subject, order_id: o.clientOrderId },
        payload: {
          client_order_id: o.clientOrderId,
          status: after,
          previous_status: null,
          filled_qty: filled,
          filled_avg_price: reported?.filledAvgPriceUsd ?? null,
          reason: reported
            ? 'paper session abandoned: settled with the broker by client_order_id'
            : 'paper session abandoned: the broker never saw this order',
        },
      },
      ['recover-in-flight', p.promotionId, 'paper-order', o.clientOrderId],
    );
  }
  const flatten =
    Math.abs(qty) > DUST_QTY
      ? await sendFlatten(deps, broker, { ...p, symbol: snap.symbol, qty })
      : null;
  const left: SessionBookSnapshot = {
    ...snap,
    qty,
    open: [],
    openOrders: 0,
    openOrderNotionalUsd: 0,
    done: true,
    ticks: snap.ticks + 1,
    updatedAtIso: new Date(nowMs).toISOString(),
  };
  // Recorded (once per promotion) before the book is closed: a re-run after a crash in
  // between finds the book still open, settles the same orders (the broker's answers are the
  // same, the flatten's client_order_id is deterministic) and appends nothing new.
  await recordLeft(deps, {
    stream,
    subject,
    broker: broker.name,
    symbol: snap.symbol,
    qty,
    flatten,
  });
  await deps.sessionBooks.save(account, left);
  return { orders, positionQty: qty, flatten };
}

/** The abandoned session's `reconciliation` record (scope `session`): flat, or what it held. */
async function recordLeft(
  deps: PaperRecoveryDeps,
  x: {
    stream: string;
    subject: { promotion_id: string };
    broker: string;
    symbol: string;
    qty: number;
    flatten: PaperRecovery['flatten'];
  },
): Promise<void> {
  const { stream, subject, qty, flatten } = x;
  const snap = { symbol: x.symbol };
  await appendKeyed(
    deps.audit,
    auditDraft('reconciliation', {
      actor: ACTOR,
      stream,
      environment: deps.environment,
      subject,
      payload: {
        clean: Math.abs(qty) <= DUST_QTY,
        scope: 'session',
        broker: x.broker,
        discrepancies:
          Math.abs(qty) <= DUST_QTY
            ? []
            : [
                {
                  symbol: snap.symbol,
                  kind: 'abandoned_position',
                  qty,
                  flatten,
                  detail: `abandoned paper session held ${qty} shares of ${snap.symbol}; ${
                    flatten?.status === 'rejected'
                      ? `the flatten was refused (${flatten.reason}): close it by hand`
                      : `flatten ${flatten?.clientOrderId} sent`
                  }`,
                },
              ],
      },
    }),
    ['recover-in-flight', subject.promotion_id, 'paper-left'],
  );
}

/** ONE flatten of what the abandoned session held (deterministic id: a second sweep finds it). */
async function sendFlatten(
  deps: PaperRecoveryDeps,
  broker: BrokerPort,
  x: { promotionId: string; symbol: string; qty: number; market?: Market },
): Promise<NonNullable<PaperRecovery['flatten']>> {
  const { qty } = x;
  const stream = `promotion:${x.promotionId}`;
  const subject = { promotion_id: x.promotionId };
  const snap = { symbol: x.symbol };
  const id = clientOrderId({ promotionId: x.promotionId, leg: 'recovflat', attempt: 1 });
  try {
    const { order } = await submitOnce(
      { audit: deps.audit, environment: deps.environment, actor: ACTOR, stream, subject },
      broker,
      marketOrderRequest({
        clientOrderId: id,
        symbol: snap.symbol,
        side: qty > 0 ? 'sell' : 'buy',
        qty: Math.abs(qty),
        market: x.market ?? 'equity-usa',
      }),
      { mayBeKnown: true },
    );
    return { clientOrderId: id, status: order.status };
  } catch (err) {
    if (!(err instanceof BrokerRejectedError)) throw err;
    return { clientOrderId: id, status: 'rejected', reason: err.message };
  }
}
