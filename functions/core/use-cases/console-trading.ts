/**
 * The console's views of what traded on the paper broker, folded from stored records (pure:
 * the router in `console-api.ts` reads the records and calls these):
 *
 * - **Paper sessions** (`statemachines/paper-session.asl.json`) keep their state in the
 *   execution; what remains is their audit trail on the stream `promotion:<promotionId>`:
 *   `paper_decision` (`session_started`, each tick that sent, canceled, skipped or halted),
 *   `order_intent`, `order_status_changed` and `paper_session_completed` (parity and
 *   reconciliation). {@link paperSessionsFrom} folds those records into one view per session.
 * - **Micro-live slices** (DynamoDB, `ports/micro-live.ts`) with their leverage decisions, the
 *   leverage policy's next tier and its trigger, and the rollback monitor's status
 *   ({@link microLiveView}).
 * - **The approval chain** of a Day-3 request: the request, each signature or refused attempt
 *   from the audit trail, and the state of its task token, never the token itself
 *   ({@link approvalChain}).
 *
 * Units: money USD, quantities in shares, fractions as fractions, times UTC ISO-8601.
 */

import type { ApprovalView } from '../../ports/approval-store.js';
import type { ApprovalSignature } from '../approval/chain.js';
import { approvalExpiredAt } from '../approval/pending.js';
import type { LeveragePolicy } from '../leverage/policy.js';
import type { LeverageDecisionRecord, MicroLiveSlice } from './day3-records.js';

/** One stored audit record as the console reads it (payload parsed from its JSON text). */
export interface AuditRow {
  readonly id: string;
  readonly ts: string;
  readonly kind: string;
  readonly actor: string;
  readonly stream: string;
  readonly seq: number;
  readonly subject: Record<string, string | null>;
  readonly payload: unknown;
  readonly hash: string;
  readonly prevHash: string;
}

const obj = (v: unknown): Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const numOrNull = (v: unknown): number | null =>
  typeof v === 'number' && Number.isFinite(v) ? v : null;

/** A paper order with its status history (`order_status_changed`). */
export interface PaperOrderView {
  /** Deterministic client_order_id (<= 48 chars). */
  readonly clientOrderId: string;
  readonly symbol: string;
  readonly side: string;
  /** Ordered shares. */
  readonly qty: number;
  /** `signal`, `risk` or `flatten`. */
  readonly reason: string | null;
  /** The tick's decision time, UTC ISO-8601 (null when only the intent was recorded). */
  readonly decidedAtIso: string | null;
  /** The bar the decision was taken on, UTC ISO-8601. */
  readonly barIso: string | null;
  /** Latest broker status, e.g. `filled`, `canceled`, `rejected`. */
  readonly status: string;
  readonly filledQty: number;
  /** Volume-weighted fill price, USD per share; null when nothing filled. */
  readonly avgPriceUsd: number | null;
  readonly rejectReason: string | null;
  readonly history: readonly { readonly status: string; readonly atIso: string }[];
}

/** A fill as the price chart marks it: when the order reached its filled quantity. */
export interface PaperFillView {
  readonly clientOrderId: string;
  readonly side: string;
  /** Shares filled. */
  readonly qty: number;
  readonly priceUsd: number;
  readonly atIso: string;
}

/** Paper PnL beside the simulator's on the same session (`paper_session_completed`). */
export interface PaperParityView {
  readonly paperPnlUsd: number;
  /** The reference simulation of the same genome on the same bars, USD. */
  readonly referencePnlUsd: number;
  /** paper − reference, USD. */
  readonly differenceUsd: number | null;
  /** What the cohort reported for the genome on its own session, USD. */
  readonly cohortPnlUsd: number | null;
  readonly cohortFlatteryUsd: number | null;
  /** Per order: paper vs reference quantity, price and cash difference. */
  readonly orders: readonly unknown[];
}

/** A paper session as the console lists it. */
export interface PaperSessionSummary {
  readonly promotionId: string;
  readonly symbol: string | null;
  /**
   * The session's market (`crypto`: a 24 h UTC day; `equity-usa`: NYSE hours, also for
   * sessions recorded before `session_started` named its market): pages show its times in
   * that market's zone.
   */
  readonly market: 'equity-usa' | 'crypto';
  /** Session date `YYYY-MM-DD` (the market's time zone). */
  readonly sessionDate: string | null;
  /** The session's capital slice, USD. */
  readonly capitalUsd: number | null;
  /** `simulated` or `alpaca-paper`. */
  readonly broker: string | null;
  readonly startedAtIso: string;
  readonly closeIso: string | null;
  readonly earlyClose: boolean | null;
  /** `running` until `paper_session_completed`; `halted` when it completed halted. */
  readonly status: 'running' | 'completed' | 'halted';
  readonly completedAtIso: string | null;
  readonly halt: { readonly mode: string; readonly reason: string } | null;
  readonly orderCount: number;
  readonly filledCount: number;
  readonly paperPnlUsd: number | null;
  readonly referencePnlUsd: number | null;
  readonly differenceUsd: number | null;
  /** Null until the session completed. */
  readonly reconciliationClean: boolean | null;
}

/** One paper session in full. */
export interface PaperSessionDetail extends PaperSessionSummary {
  readonly orders: readonly PaperOrderView[];
  readonly fills: readonly PaperFillView[];
  /** Ticks that skipped or halted, with their reason. */
  readonly decisions: readonly {
    readonly atIso: string;
    readonly action: string;
    readonly reason: string | null;
  }[];
  readonly parity: PaperParityView | null;
  /** The session's book vs the broker's position at the end (shares, USD per share). */
  readonly reconciliation: Record<string, unknown> | null;
  /** Last mark of the symbol at the close, USD; null when unknown. */
  readonly lastMarkUsd: number | null;
}

interface MutableOrder {
  clientOrderId: string;
  symbol: string;
  side: string;
  qty: number;
  reason: string | null;
  decidedAtIso: string | null;
  barIso: string | null;
  status: string;
  filledQty: number;
  avgPriceUsd: number | null;
  rejectReason: string | null;
  history: { status: string; atIso: string }[];
  filledAtIso: string | null;
}

/**
 * Every paper session among `records` (any order), newest start first. A session is known by
 * its `paper_decision` `session_started` record; records of promotions without one are ignored.
 */
export function paperSessionsFrom(records: readonly AuditRow[]): PaperSessionDetail[] {
  const byPromotion = new Map<string, AuditRow[]>();
  for (const r of records) {
    const id = r.subject.promotion_id;
    if (!id) continue;
    const list = byPromotion.get(id) ?? [];
    list.push(r);
    byPromotion.set(id, list);
  }
  const out: PaperSessionDetail[] = [];
  for (const [promotionId, rows] of byPromotion) {
    const view = paperSessionOf(promotionId, rows);
    if (view) out.push(view);
  }
  return out.sort(
    (a, b) =>
      b.startedAtIso.localeCompare(a.startedAtIso) || a.promotionId.localeCompare(b.promotionId),
  );
}

function newOrder(clientOrderId: string, symbol: string): MutableOrder {
  return {
    clientOrderId,
    symbol,
    side: '',
    qty: 0,
    reason: null,
    decidedAtIso: null,
    barIso: null,
    status: 'new',
    filledQty: 0,
    avgPriceUsd: null,
    rejectReason: null,
    history: [],
    filledAtIso: null,
  };
}

/** A `paper_decision` (other than `session_started`): its orders, and skips and halts. */
function applyDecision(
  r: AuditRow,
  order: (id: string) => MutableOrder,
  decisions: PaperSessionDetail['decisions'][number][],
): void {
  const p = obj(r.payload);
  const action = String(p.action);
  for (const raw of Array.isArray(p.orders) ? p.orders : []) {
    const q = obj(raw);
    const o = order(String(q.client_order_id));
    o.side = str(q.side) ?? o.side;
    o.qty = numOrNull(q.qty) ?? o.qty;
    o.reason = str(q.reason) ?? o.reason;
    o.decidedAtIso = str(p.at_iso) ?? r.ts;
    o.barIso = str(p.bar_iso);
    if (o.history.length === 0 && typeof q.status === 'string') {
      o.status = q.status;
      o.history.push({ status: q.status, atIso: r.ts });
    }
  }
  if (action === 'skipped' || action === 'halted') {
    decisions.push({ atIso: str(p.at_iso) ?? r.ts, action, reason: str(p.reason) });
  }
}

/** An `order_status_changed`: the order's status history, fill and reject reason. */
function applyStatusChange(r: AuditRow, order: (id: string) => MutableOrder): void {
  const p = obj(r.payload);
  const o = order(String(p.client_order_id ?? r.subject.order_id));
  const status = String(p.status);
  const last = o.history.at(-1);
  if (!last || last.status !== status) o.history.push({ status, atIso: r.ts });
  o.status = status;
  const filled = numOrNull(p.filled_qty) ?? o.filledQty;
  if (filled > o.filledQty) o.filledAtIso = r.ts;
  o.filledQty = filled;
  o.avgPriceUsd = numOrNull(p.filled_avg_price) ?? o.avgPriceUsd;
  o.rejectReason = str(p.reason) ?? o.rejectReason;
}

/**
 * Replays one paper session's records (oldest first) into its orders (first-seen order),
 * its skip/halt decisions, and its `paper_session_completed` record if any.
 */
function replaySessionRecords(
  rows: readonly AuditRow[],
  symbol: string,
): {
  orders: MutableOrder[];
  decisions: PaperSessionDetail['decisions'][number][];
  completed: AuditRow | undefined;
} {
  const orders = new Map<string, MutableOrder>();
  const order = (id: string): MutableOrder => {
    let o = orders.get(id);
    if (!o) {
      o = newOrder(id, symbol);
      orders.set(id, o);
    }
    return o;
  };
  const decisions: PaperSessionDetail['decisions'][number][] = [];
  let completed: AuditRow | undefined;
  for (const r of rows) {
    if (r.kind === 'order_intent') {
      const p = obj(r.payload);
      const o = order(String(p.client_order_id));
      o.symbol = str(p.symbol) ?? o.symbol;
      o.side = str(p.side) ?? o.side;
      o.qty = numOrNull(p.qty) ?? o.qty;
    } else if (r.kind === 'paper_decision' && obj(r.payload).action !== 'session_started') {
      applyDecision(r, order, decisions);
    } else if (r.kind === 'order_status_changed') {
      applyStatusChange(r, order);
    } else if (r.kind === 'paper_session_completed') {
      completed = r;
    }
  }
  return { orders: [...orders.values()], decisions, completed };
}

/** The session's fills (filled orders at their average price), oldest first. */
function fillsOf(orders: readonly MutableOrder[], startIso: string): PaperFillView[] {
  return orders
    .filter((o) => o.filledQty > 0 && o.avgPriceUsd !== null)
    .map((o) => ({
      clientOrderId: o.clientOrderId,
      side: o.side,
      qty: o.filledQty,
      priceUsd: o.avgPriceUsd as number,
      atIso: o.filledAtIso ?? o.decidedAtIso ?? startIso,
    }))
    .sort((a, b) => a.atIso.localeCompare(b.atIso));
}

/** The paper session of one promotion from its records, or null when none started. */
export function paperSessionOf(
  promotionId: string,
  records: readonly AuditRow[],
): PaperSessionDetail | null {
  const rows = records
    .filter((r) => r.subject.promotion_id === promotionId)
    .sort((a, b) => a.ts.localeCompare(b.ts) || a.seq - b.seq);
  const start = rows.find(
    (r) => r.kind === 'paper_decision' && obj(r.payload).action === 'session_started',
  );
  if (!start) return null;
  const sp = obj(start.payload);
  const symbol = str(sp.symbol);
  const { orders, decisions, completed } = replaySessionRecords(rows, symbol ?? '');
  const cp = completed ? obj(completed.payload) : null;
  const halt = cp?.halt ? obj(cp.halt) : null;
  const orderViews: PaperOrderView[] = orders.map(({ filledAtIso: _f, ...o }) => o);
  const fills = fillsOf(orders, start.ts);
  const reconciliation = cp?.reconciliation ? obj(cp.reconciliation) : null;
  return {
    promotionId,
    symbol,
    market: sp.market === 'crypto' ? 'crypto' : 'equity-usa',
    sessionDate: str(sp.date),
    capitalUsd: numOrNull(sp.capital_usd),
    broker: str(sp.broker),
    startedAtIso: start.ts,
    closeIso: str(sp.close_iso),
    earlyClose: typeof sp.early_close === 'boolean' ? sp.early_close : null,
    status: !completed ? 'running' : halt ? 'halted' : 'completed',
    completedAtIso: completed?.ts ?? null,
    halt: halt ? { mode: String(halt.mode), reason: String(halt.reason) } : null,
    orderCount: orderViews.length,
    filledCount: orderViews.filter((o) => o.filledQty > 0).length,
    paperPnlUsd: cp ? numOrNull(cp.paper_pnl_usd) : null,
    referencePnlUsd: cp ? numOrNull(cp.reference_pnl_usd) : null,
    differenceUsd: cp ? numOrNull(cp.difference_usd) : null,
    reconciliationClean: reconciliation ? reconciliation.clean === true : null,
    orders: orderViews,
    fills,
    decisions,
    parity: cp
      ? {
          paperPnlUsd: numOrNull(cp.paper_pnl_usd) ?? 0,
          referencePnlUsd: numOrNull(cp.reference_pnl_usd) ?? 0,
          differenceUsd: numOrNull(cp.difference_usd),
          cohortPnlUsd: numOrNull(cp.cohort_pnl_usd),
          cohortFlatteryUsd: numOrNull(cp.cohort_flattery_usd),
          orders: Array.isArray(cp.orders) ? cp.orders : [],
        }
      : null,
    reconciliation,
    lastMarkUsd: cp ? numOrNull(cp.last_mark_usd) : null,
  };
}

/** The list form of a session (no orders, fills, decisions or parity rows). */
export function paperSessionSummary(d: PaperSessionDetail): PaperSessionSummary {
  const {
    orders: _o,
    fills: _f,
    decisions: _d,
    parity: _p,
    reconciliation: _r,
    lastMarkUsd: _m,
    ...summary
  } = d;
  return summary;
}

/** Ids of the micro-live slices the records mention (`slice_id` in a payload), newest first. */
export function sliceIdsFrom(records: readonly AuditRow[]): string[] {
  const seen = new Map<string, string>();
  for (const r of records) {
    const id = str(obj(r.payload).slice_id);
    if (id && (!seen.has(id) || (seen.get(id) as string) < r.ts)) seen.set(id, r.ts);
  }
  return [...seen.entries()].sort((a, b) => b[1].localeCompare(a[1])).map(([id]) => id);
}

/** A micro-live slice with its leverage state and rollback status. */
export interface MicroLiveView {
  readonly slice: MicroLiveSlice;
  readonly leverage: {
    /** Leverage allowed now, ratio ("x"). */
    readonly current: number;
    /** The next tier up, ratio; null at the cap. */
    readonly nextTier: number | null;
    /** What moves the slice to `nextTier`, in words with the policy's numbers. */
    readonly trigger: string;
    readonly floor: number;
    readonly cap: number;
    /** Every decision, the initial one first, with its rule, rationale and inputs. */
    readonly decisions: readonly LeverageDecisionRecord[];
  };
  /** Most the slice may hold gross: capital slice × current leverage, USD. */
  readonly bankrollAtRiskUsd: number;
  /** bankrollAtRiskUsd / bankroll, fraction. */
  readonly bankrollAtRiskFraction: number;
  readonly rollback: {
    /** `watching` (active), `flattening`, `rolled_back`, `not_started` or `starting`. */
    readonly state: string;
    readonly reason: string;
    /** client_order_id of the flatten order once sent. */
    readonly flattenClientOrderId: string | null;
  };
}

/**
 * The slice's leverage and rollback state. The next tier and its trigger follow the leverage
 * policy (`functions/core/leverage/policy.ts`): one step up when the annualized Sharpe of at
 * least `minSharpeSessions` daily returns is above `stepUpMinSharpe` and the drawdown is below
 * `stepUpMaxDrawdownFraction`; one step down after a losing day; reset to the start on rollback.
 */
export function microLiveView(
  slice: MicroLiveSlice,
  decisions: readonly LeverageDecisionRecord[],
  policy: LeveragePolicy,
): MicroLiveView {
  const current = slice.leverage;
  const nextTier =
    current >= policy.maxLeverage
      ? null
      : Math.min(policy.maxLeverage, current + policy.stepLeverage);
  const trigger =
    nextTier === null
      ? `at the cap (${policy.maxLeverage}x): holds while days are not losing; −${policy.stepLeverage}x after a losing day`
      : `+${policy.stepLeverage}x to ${nextTier}x after a closed day when the annualized Sharpe of at least ${policy.minSharpeSessions} daily returns is above ${policy.stepUpMinSharpe} and the drawdown is below ${(policy.stepUpMaxDrawdownFraction * 100).toFixed(1)}% (${slice.dailyCloses.length} closed day(s) so far); −${policy.stepLeverage}x after a losing day (floor ${policy.minLeverage}x); reset to ${policy.startLeverage}x on rollback`;
  const atRisk = slice.capitalSliceUsd * current;
  const state = slice.status === 'active' ? 'watching' : slice.status;
  return {
    slice,
    leverage: {
      current,
      nextTier,
      trigger,
      floor: policy.minLeverage,
      cap: policy.maxLeverage,
      decisions,
    },
    bankrollAtRiskUsd: atRisk,
    bankrollAtRiskFraction: atRisk / slice.bankrollUsd,
    rollback: {
      state,
      reason: slice.statusReason,
      flattenClientOrderId: slice.flattenClientOrderId,
    },
  };
}

/** One step of an approval's chain, from the audit trail. */
export interface ApprovalChainStep {
  readonly atIso: string;
  /** `requested`, `signed` (approved or rejected), `refused` (an attempt that changed nothing), `expired`, `micro_live`. */
  readonly step: 'requested' | 'signed' | 'refused' | 'expired' | 'micro_live';
  /** Who: the approver identity, the refused caller, or the workflow. */
  readonly actor: string;
  /** `approved`/`rejected` for a signature, the refusal kind (`forbidden`, `reused`, ...) for a refusal. */
  readonly outcome: string | null;
  readonly channel: string | null;
  readonly detail: string | null;
  readonly auditId: string;
}

/** One step of a request's approval chain and the signature given for it (null: not yet). */
export interface ApprovalChainSignatureStep {
  /** 1-based. */
  readonly step: number;
  readonly role: string;
  /** Who may sign it. */
  readonly approvers: readonly string[];
  /** The signature (who, when, channel, decision, note), null while not signed. */
  readonly signature: ApprovalSignature | null;
}

/** The approval chain of one Day-3 request. */
export interface ApprovalChain {
  /** Signatures the request needs (its chain's steps, each by a distinct approver). */
  readonly requiredSignatures: number;
  readonly approvers: readonly string[];
  /** The configured steps, in order, each with its signature once given. */
  readonly signatureSteps: readonly ApprovalChainSignatureStep[];
  readonly steps: readonly ApprovalChainStep[];
  /**
   * The task token's state, never the token: `held` (stored encrypted server-side, pending),
   * `released` (a decision resumed or failed the waiting execution with it), `expired` (nobody
   * decided in time: the execution's timeout rejects).
   */
  readonly taskToken: { readonly state: 'held' | 'released' | 'expired'; readonly detail: string };
  /** The micro-live slice the approval started, when any. */
  readonly sliceId: string | null;
}

/** The chain of `approval` from the records of its days (`nowMs`: the clock's now). */
export function approvalChain(
  approval: ApprovalView,
  records: readonly AuditRow[],
  nowMs: number,
): ApprovalChain {
  const mine = records
    .filter((r) => {
      const p = obj(r.payload);
      return p.approval_id === approval.approvalId;
    })
    .sort((a, b) => a.ts.localeCompare(b.ts) || a.seq - b.seq);
  const steps: ApprovalChainStep[] = [];
  let sliceId: string | null = null;
  for (const r of mine) {
    const p = obj(r.payload);
    const base = { atIso: r.ts, actor: r.actor, auditId: r.id, channel: str(p.channel) };
    if (r.kind === 'approval_requested') {
      steps.push({ ...base, step: 'requested', outcome: null, detail: str(p.review_id) });
    } else if (r.kind === 'approval_decided') {
      const decision = String(p.decision);
      steps.push({
        ...base,
        step: decision === 'expired' ? 'expired' : 'signed',
        outcome: decision,
        detail: str(p.reason) ?? str(p.note),
      });
    } else if (r.kind === 'input_rejected') {
      steps.push({
        ...base,
        step: 'refused',
        outcome: str(p.reason) ?? str(p.error),
        detail: str(p.message),
      });
    } else if (r.kind === 'config_changed' && p.setting === 'micro_live.leverage') {
      sliceId = str(p.slice_id) ?? sliceId;
      if (p.previous === null) {
        steps.push({
          ...base,
          step: 'micro_live',
          outcome: `${String(p.next)}x`,
          detail: `slice ${String(p.slice_id)} started at ${String(p.next)}x (${String(p.rule)})`,
        });
      }
    }
  }
  const expired = approvalExpiredAt(approval, nowMs);
  const taskToken: ApprovalChain['taskToken'] =
    approval.status !== 'pending'
      ? {
          state: 'released',
          detail: `used once by the ${approval.status} decision of ${approval.decidedBy ?? 'unknown'} at ${approval.decidedAtIso ?? 'unknown'} (${approval.decidedChannel ?? 'unknown'} channel); no later decision can use it`,
        }
      : expired
        ? {
            state: 'expired',
            detail: `nobody decided before ${approval.expiresAtIso}: the execution's timeout rejects; the stored token can no longer be claimed`,
          }
        : {
            state: 'held',
            detail: `stored encrypted server-side; released only when the approval chain is complete (${approval.signatures.length} of ${approval.chain.length} signatures given) or rejected, before ${approval.expiresAtIso}`,
          };
  return {
    requiredSignatures: approval.chain.length,
    approvers: approval.approvers,
    signatureSteps: approval.chain.map((s, i) => ({
      step: i + 1,
      role: s.role,
      approvers: s.approvers,
      signature: approval.signatures.find((g) => g.step === i + 1) ?? null,
    })),
    steps,
    taskToken,
    sliceId,
  };
}
