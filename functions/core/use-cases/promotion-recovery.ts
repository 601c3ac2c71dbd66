/**
 * The promotion pipeline as the crash sweeper sees it ({@link InFlightWorkflow}): promotions
 * still `staged` or `submitted` whose execution is gone. Recovery reconciles each open order
 * with the broker by client_order_id (functions/core/orders/order-intent.ts):
 * - the broker knows it: our snapshot and position book catch up with the broker's view
 *   (`order_status_changed`), and an order still open is canceled (nobody watches it any more;
 *   the pipeline does the same when its poll budget runs out); when the cancel fails, the
 *   broker's own view by client_order_id is taken when it is terminal (filled, or canceled
 *   with what filled), as the paper-session sweep does (`cancelOrLearn`, orders/order-intent.ts),
 *   so the fill is booked and the promotion closed in this sweep;
 * - a terminal order whose fills were never booked (its booking lost every round against
 *   other writers of the book) is read from the broker and booked, once;
 * - the broker never saw it (the crash came between `order_intent` and the broker call): the
 *   reservation is canceled and never sent.
 * The promotion then ends as `failed` with `workflow_failed` and `promotion_completed`
 * (outcome `failed`) on its stream, appended once per promotion (a natural key) before the
 * status closes it, so a re-run after a crash between the two, or a redelivered sweep, appends
 * nothing new. Nothing is ever sent: a rerun for the same candidate and session finds the
 * closed promotion (deterministic id) and skips.
 */
import type { BrokerPort } from '../../ports/broker.js';
import type { InFlightRecovery, InFlightWorkflow } from '../../ports/in-flight.js';
import type { SessionBookRegistry } from '../../ports/session-books.js';
import { auditDraft } from '../audit/record.js';
import { appendManyKeyed } from '../audit/step-scoped.js';
import { isTerminalOrderStatus, Order, type OrderEvent } from '../orders/order.js';
import { cancelOrLearn } from '../orders/order-intent.js';
import { recoverPaperSession } from './paper-session-recovery.js';
import type { PromotionDeps } from './promotion.js';
import { commitTransition, isSettled, recordOrderStatus, syncOrder } from './promotion-orders.js';
import type { PromotionOrder } from './promotion-records.js';

const ACTOR = 'stagegate/in-flight-recovery';

/** The pipeline's dependencies plus the broker of any account a promotion was staged on. */
export interface PromotionRecoveryDeps extends PromotionDeps {
  /** Every paper session's last book (an abandoned session's open orders and position). */
  readonly sessionBooks: SessionBookRegistry;
  /**
   * The broker a promotion's orders went to, as of `nowMs`.
   *
   * @param broker the promotion's `broker` field, `<broker name>:<account id>`.
   * @throws ValidationError when this deployment cannot reach that account.
   */
  brokerFor(broker: string, nowMs: number): BrokerPort;
}

/** The promotion pipeline's {@link InFlightWorkflow}. */
export function promotionsInFlight(deps: PromotionRecoveryDeps): InFlightWorkflow {
  return {
    workflow: 'promotion',
    listInFlight: (fromMs, toMs) =>
      deps.promotions.listInFlight(new Date(fromMs).toISOString(), new Date(toMs).toISOString()),
    recover: (id, nowMs) => recoverPromotion(deps, id, nowMs),
  };
}

/** One recovered order: client_order_id, status before and after, and whether the broker knew it. */
interface RecoveredOrder {
  clientOrderId: string;
  statusBefore: string;
  statusAfter: string;
  atBroker: boolean;
}

/**
 * Settles one unsettled order of an abandoned promotion (open, or terminal with fills not yet
 * booked): synced from the broker and booked, and cancelled there when still open (when the
 * cancel fails, the broker's answer by client_order_id is taken: `cancelOrLearn`); or
 * cancelled locally (recorded) when it never reached the broker.
 */
async function recoverOrder(
  deps: PromotionRecoveryDeps,
  p: Awaited<ReturnType<PromotionRecoveryDeps['promotions']['get']>>,
  broker: ReturnType<PromotionRecoveryDeps['brokerFor']>,
  tracked: PromotionOrder,
  nowMs: number,
): Promise<RecoveredOrder> {
  const coid = tracked.order.clientOrderId;
  const before = tracked.order.status;
  const reported = await broker.getOrderByClientOrderId(coid);
  let current = tracked;
  if (reported) {
    current = await syncOrder(deps, p, tracked, reported, nowMs);
    if (!isTerminalOrderStatus(current.order.status))
      current = await syncOrder(deps, p, current, await cancelOrLearn(broker, coid), nowMs);
  } else if (!isTerminalOrderStatus(before)) {
    current = await cancelNeverSent(deps, p, tracked, nowMs);
  }
  return {
    clientOrderId: coid,
    statusBefore: before,
    statusAfter: current.order.status,
    atBroker: reported !== null,
  };
}

/** An order the broker never saw (a crash between `order_intent` and the call): cancelled, recorded. */
async function cancelNeverSent(
  deps: PromotionRecoveryDeps,
  p: Awaited<ReturnType<PromotionRecoveryDeps['promotions']['get']>>,
  tracked: PromotionOrder,
  nowMs: number,
): Promise<PromotionOrder> {
  const order = Order.rehydrate(tracked.order);
  order.apply({ type: 'canceled', atMs: nowMs } as OrderEvent);
  const reason =
    'never reached the broker (crash between order_intent and the broker call); not sent';
  // Recorded (once per transition) before the conditional write, as syncOrder does.
  await recordOrderStatus(
    deps,
    p.promotionId,
    tracked.order.status,
    order.snapshot(),
    { reason },
    ACTOR,
  );
  return commitTransition(deps, p, tracked, order.snapshot(), { feesUsd: 0, atMs: nowMs });
}

/**
 * Reconciles one abandoned promotion with the broker and closes it (see the module comment).
 *
 * @throws NotFoundError (unknown promotion), BrokerUnavailableError / TransientError (retry on
 *   the next sweep; what was already synced stays synced).
 */
export async function recoverPromotion(
  deps: PromotionRecoveryDeps,
  promotionId: string,
  nowMs: number,
): Promise<InFlightRecovery> {
  const p = await deps.promotions.get(promotionId);
  if (p.status !== 'staged' && p.status !== 'submitted')
    return { workflow: 'promotion', id: promotionId, outcome: 'untouched', orders: [] };
  const broker = deps.brokerFor(p.broker, nowMs);
  const stream = `promotion:${promotionId}`;
  const orders: RecoveredOrder[] = [];
  for (const tracked of await deps.promotions.listOrders(promotionId)) {
    if (isSettled(tracked)) continue;
    orders.push(await recoverOrder(deps, p, broker, tracked, nowMs));
  }
  // The promotion's paper session, when it was running: its orders live in the session's
  // snapshot (paper-session-recovery.ts), settled and flattened there.
  const paper = await recoverPaperSession(deps, p, broker, nowMs);
  if (paper) orders.push(...paper.orders);
  const summary = orders.length
    ? orders
        .map(
          (o) =>
            `${o.clientOrderId} ${o.statusBefore} -> ${o.statusAfter}${o.atBroker ? '' : ' (never sent)'}`,
        )
        .join('; ')
    : 'no order was sent';
  const flat = !paper
    ? ''
    : paper.flatten === null
      ? '; the paper session was flat'
      : `; the paper session held ${paper.positionQty} shares: flatten ${paper.flatten.clientOrderId} ${paper.flatten.status}${paper.flatten.reason ? ` (${paper.flatten.reason})` : ''}`;
  const reason = `abandoned while ${p.status}; reconciled with the broker by client_order_id: ${summary}${flat}`;
  const fields = {
    actor: ACTOR,
    stream,
    environment: deps.environment,
    subject: { promotion_id: promotionId, cohort_id: p.cohortId, agent_id: p.agentId },
  };
  // Recorded once per promotion, BEFORE the status closes it: a sweep that crashed in between,
  // or two sweeps of one schedule delivered twice, find the key and append nothing new.
  await appendManyKeyed(
    deps.audit,
    [
      auditDraft('workflow_failed', {
        ...fields,
        payload: {
          source: 'in-flight-recovery',
          field: '',
          message: reason,
          error: 'WorkflowAbandoned',
          status_before: p.status,
          orders,
        },
      }),
      auditDraft('promotion_completed', { ...fields, payload: { outcome: 'failed', reason } }),
    ],
    ['recover-in-flight', promotionId, 'closed'],
  );
  await deps.promotions.setStatus(promotionId, 'failed', reason);
  return { workflow: 'promotion', id: promotionId, outcome: 'failed', orders };
}

/** Seconds in a day. */
const DAY_SECONDS = 86_400;

/**
 * How long after staging a promotion can still be running in AWS, seconds: a day (the longest
 * wait for a promotion window, which opens and closes on the day of staging) plus the poll
 * budget (`maxPolls * pollIntervalSeconds`). The scheduled sweeper only touches promotions
 * older than this, so it never races a live execution.
 */
export function promotionStaleAfterSeconds(
  pc: Pick<PromotionDeps['promotionConfig'], 'maxPolls' | 'pollIntervalSeconds'>,
): number {
  return DAY_SECONDS + pc.maxPolls * pc.pollIntervalSeconds;
}
