/**
 * The paper-session workflow's steps (`statemachines/paper-session.asl.json`): start, one tick
 * per minute, finish (reference simulation, parity record, reconciliation). The session state
 * travels in the execution (validated here at every step, never trusted blindly); time comes
 * only from the clock port.
 */
import * as z from 'zod';
import type { BrokerPort } from '../../ports/broker.js';
import type { PaperTrackRecordStore } from '../../ports/paper-track-record.js';
import {
  accountKeyOf,
  type SessionBookRegistry,
  type SessionBookSnapshot,
} from '../../ports/session-books.js';
import {
  type AuditDraftOf,
  type AuditKind,
  type AuditPayload,
  auditDraft,
  decisionProvenance,
} from '../audit/record.js';
import { appendKeyed, appendKeyedOnce } from '../audit/step-scoped.js';
import { marketDate, sessionHours } from '../calendar/market-calendar.js';
import { parseCohortConfig } from '../cohort/config.js';
import { FillCostsSchema } from '../cohort/fill-model.js';
import { validateGenome } from '../cohort/genome.js';
import { parseOrThrow, TransientError, ValidationError } from '../errors.js';
import { lastMark, symbolMinutes } from '../exchange/exchange-model.js';
import { costsForMarket } from '../exchange/fee-schedules.js';
import { sessionDataHash } from '../market/session-hash.js';
import type { MarketSession } from '../market/types.js';
import { isTerminalOrderStatus, ORDER_STATUSES } from '../orders/order.js';
import {
  type AccountLimits,
  type AccountReconciliation,
  type AccountView,
  reconcileAccount,
} from '../paper/account.js';
import {
  DEFAULT_HALT_MODES,
  type HaltModes,
  killSwitchReading,
  newPaperSession,
  type PaperSessionState,
  paperTick,
  sessionBook,
  sessionCashUsd,
  settleSessionOrders,
} from '../paper/paper-session.js';
import {
  type ParityRecord,
  parityRecord,
  type ReferenceExchangeConfig,
  runReferenceSession,
} from '../paper/reference.js';
import {
  checkSliceRollback,
  SLICE_ROLLBACK_REASON,
  type SliceRollback,
  SliceRollbackSchema,
  valueSliceAtBroker,
} from '../paper/slice-rollback.js';
import { type PaperSessionResult, paperSessionResult } from '../paper/track-record.js';
import { DEFAULT_ROLLBACK_CONFIG } from '../rollback/monitor.js';
import type { PromotionDeps } from './promotion.js';
import type { StagedPromotion } from './promotion-records.js';

const ACTOR = 'stagegate/paper-session';
const streamOf = (promotionId: string) => `promotion:${promotionId}`;

/** Paper-session settings of a stage (config): risk limits beyond the cohort's sizing. */
export interface PaperSessionSettings {
  /** Largest notional of one opening order, as a multiple of the session capital. */
  readonly maxOrderNotionalMultiple: number;
  /** Daily loss stop, fraction of the session capital: the session flattens and halts. */
  readonly dailyLossStopFraction: number;
  /** No decision on a bar older than this, seconds. */
  readonly maxBarAgeSeconds: number;
  /** What each breaker does mid-session. */
  readonly haltModes: HaltModes;
  /** Limits of the whole broker account across its sessions (exposure, day trades). */
  readonly account: AccountLimits;
  /**
   * Average entry prices of the sum of the sessions' books and of the broker agree within
   * this, basis points of the broker's.
   */
  readonly avgPriceToleranceBps: number;
}

/** Dependencies: the pipeline's, plus the exchange configuration of the reference simulation. */
export interface PaperSessionDeps extends PromotionDeps {
  readonly referenceExchange: ReferenceExchangeConfig;
  readonly paperSession: PaperSessionSettings;
  /** Every session's own book on the account (account-level limits and reconciliation). */
  readonly sessionBooks: SessionBookRegistry;
  /** Every finished session's result, per genome (its paper track record). */
  readonly trackRecord: PaperTrackRecordStore;
}

const costsSchema = FillCostsSchema;

const OrderSchema = z.object({
  clientOrderId: z.string().max(48),
  symbol: z.string(),
  side: z.enum(['buy', 'sell']),
  qty: z.number().positive(),
  reason: z.enum(['signal', 'risk', 'flatten']),
  decidedAtMs: z.number(),
  submittedAtMs: z.number(),
  status: z.enum(ORDER_STATUSES),
  filledQty: z.number().min(0),
  avgPriceUsd: z.number().nullable(),
  feesUsd: z.number(),
  regulatoryFeesUsd: z
    .object({ secUsd: z.number(), tafUsd: z.number(), catUsd: z.number() })
    .optional(),
  updatedAtIso: z.string(),
  rejectReason: z.string().optional(),
});

const HaltModeSchema = z.enum(['pause-entries', 'reduce-only', 'flatten']);

/** What each breaker does mid-session (docs/execution.md, "halt modes"). */
export const HaltModesSchema = z.strictObject({
  killSwitch: HaltModeSchema,
  dailyLossStop: HaltModeSchema,
  reconciliation: HaltModeSchema.optional(),
  rollback: HaltModeSchema.optional(),
});

/** Limits of the whole broker account (`core/paper/account.ts`). */
export const AccountLimitsSchema = z.strictObject({
  maxGrossExposureFraction: z.number().positive(),
  pdtMinEquityUsd: z.number().min(0),
  pdtMaxDayTrades: z.number().int().min(0),
});

/** The session state as it travels between steps (strict: unknown keys refused). */
export const PaperSessionStateSchema = z.strictObject({
  promotionId: z.string().min(1),
  genome: z.unknown().transform((g, ctx) => {
    try {
      return validateGenome(g, 'state.genome');
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  }),
  symbol: z.string(),
  market: z.enum(['equity-usa', 'crypto']),
  date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  capitalUsd: z.number().positive(),
  windowOpenMs: z.number(),
  closeMs: z.number(),
  limits: z.object({
    leverageCap: z.number().min(0),
    maxAggregateExposure: z.number().min(0),
    costs: costsSchema,
    fractionalShares: z.boolean(),
    maxOrderNotionalUsd: z.number().positive(),
    dailyLossStopFraction: z.number().gt(0).max(1),
    maxBarAgeSeconds: z.number().positive(),
    haltModes: HaltModesSchema.optional(),
    account: AccountLimitsSchema.optional(),
    rollback: SliceRollbackSchema.optional(),
  }),
  startedAtMs: z.number(),
  accountCashUsd: z.number(),
  accountDayTradeCount: z.number().int().min(0).nullable().optional(),
  pendingTarget: z.number().nullable(),
  lastBarMs: z.number().nullable(),
  killSwitchReadAtMs: z.number().nullable().optional(),
  flattenDecided: z.boolean(),
  halt: z.object({ mode: HaltModeSchema, reason: z.string() }).nullable(),
  orders: z.array(OrderSchema),
  ticks: z.number().int().min(0),
  done: z.boolean(),
  slice: z
    .strictObject({
      equityCurveUsd: z.array(z.number()),
      rolledBackAtIso: z.string().nullable(),
    })
    .optional(),
});

/** What every step returns: the state, when to tick next, and whether the session is over. */
export interface SessionStep {
  readonly state: PaperSessionState;
  readonly waitSeconds: number;
  readonly done: boolean;
}

function draft<K extends AuditKind>(
  deps: PaperSessionDeps,
  kind: K,
  promotionId: string,
  payload: AuditPayload<K>,
): AuditDraftOf<K> {
  return auditDraft(kind, {
    actor: ACTOR,
    stream: streamOf(promotionId),
    environment: deps.environment,
    subject: { promotion_id: promotionId },
    payload,
  });
}

/**
 * Start: the session of `promotion` on today's session (the clock's civil date on the
 * promotion's market calendar: the New York date for `equity-usa`, the UTC date for `crypto`),
 * from now (the promotion window) to the calendar close (16:00 or 13:00 New York; 00:00 UTC
 * the next day for crypto), with the promotion's capital slice.
 * @throws ValidationError('promotion') when there is no session today for its symbol, or its
 *   data is of another market than the promotion's.
 */
export async function startPaperSession(
  deps: PaperSessionDeps,
  input: { readonly promotion: StagedPromotion },
): Promise<SessionStep> {
  const p = input.promotion;
  const now = deps.clock.now();
  const genome = validateGenome(p.genome, 'promotion.genome');
  const market = p.market ?? 'equity-usa';
  const date = marketDate(now, market);
  const session = await deps.marketData.loadSession(date, [genome.symbol]);
  if (session.market !== market) {
    throw new ValidationError(
      'promotion',
      `${genome.symbol} trades on the ${session.market} calendar, the promotion on ${market}`,
    );
  }
  const hours = sessionHours(date, session.market);
  if (!hours) throw new ValidationError('promotion', `no ${session.market} session on ${date}`);
  const sizing = parseCohortConfig({
    bankrollUsd: Math.max(50, Math.min(100_000, p.capitalSliceUsd)),
  });
  const account = await deps.brokerAt(now).getAccount();
  const state = newPaperSession({
    promotionId: p.promotionId,
    genome,
    market: session.market,
    date,
    capitalUsd: p.capitalSliceUsd,
    windowOpenMs: now,
    closeMs: Date.parse(hours.closeIso),
    startedAtMs: now,
    accountCashUsd: account.cashUsd,
    accountDayTradeCount: account.dayTradeCount ?? null,
    limits: {
      leverageCap: sizing.maxAgentLeverage,
      maxAggregateExposure: sizing.maxAggregateExposure,
      // The symbol's market picks the fee schedule (crypto: Alpaca's bps of notional).
      costs: costsForMarket(deps.referenceExchange.costs, session.market),
      fractionalShares: !deps.promotionConfig.wholeShares,
      maxOrderNotionalUsd: deps.paperSession.maxOrderNotionalMultiple * p.capitalSliceUsd,
      dailyLossStopFraction: deps.paperSession.dailyLossStopFraction,
      maxBarAgeSeconds: deps.paperSession.maxBarAgeSeconds,
      haltModes: deps.paperSession.haltModes,
      account: deps.paperSession.account,
      ...sliceRollbackOf(p),
    },
  });
  await deps.audit.append(
    draft(deps, 'paper_decision', p.promotionId, {
      action: 'session_started',
      symbol: genome.symbol,
      market: session.market,
      date,
      capital_usd: p.capitalSliceUsd,
      close_iso: hours.closeIso,
      early_close: hours.earlyClose,
      broker: deps.brokerAt(now).name,
      provenance: paperDecisionProvenance(state, {
        date,
        symbol: genome.symbol,
        market: session.market,
        bars_hash: sessionDataHash(session),
        close_iso: hours.closeIso,
        account_cash_usd: account.cashUsd,
      }),
    }),
  );
  return { state, waitSeconds: 0, done: false };
}

/**
 * The rollback monitor settings of a micro-live promotion: the staged ones; for an approved
 * promotion staged without them, the default thresholds with no variance yardstick, so the
 * monitor fails closed (rolls the slice back at its first tick); none for other promotions.
 */
function sliceRollbackOf(p: StagedPromotion): { rollback?: SliceRollback } {
  if (p.sliceRollback) return { rollback: p.sliceRollback };
  if (p.approvalId === null) return {};
  return { rollback: { ...DEFAULT_ROLLBACK_CONFIG, backtestReturnVariance: null } };
}

/**
 * `{ config_hash, data_hash }` of a paper-session decision (docs/audit.md#provenance):
 * `config_hash` over what is fixed for the session (genome, capital slice in USD, limits),
 * `data_hash` over what the decision read (`data`: the bars' hash and the state the tick
 * started from, or for `session_started` the day, its bars, hours and the account cash).
 */
export function paperDecisionProvenance(
  state: Pick<PaperSessionState, 'genome' | 'capitalUsd' | 'limits'>,
  data: Record<string, unknown>,
): { config_hash: string; data_hash: string } {
  return decisionProvenance(
    { genome: state.genome, capital_usd: state.capitalUsd, limits: state.limits },
    data,
  );
}

/** Parses the state a step received. @throws ValidationError naming `state.<field>`. */
export function parseSessionState(input: unknown): PaperSessionState {
  return parseOrThrow(PaperSessionStateSchema, input, 'state') as PaperSessionState;
}

/** One tick; every decision that sends, cancels, skips or halts is an audit record. */
export async function tickPaperSession(
  deps: PaperSessionDeps,
  input: { readonly state: PaperSessionState },
): Promise<SessionStep> {
  const now = deps.clock.now();
  const broker = deps.brokerAt(now);
  const st = input.state;
  const out = await paperTick(
    {
      broker,
      marketData: deps.marketData,
      clock: deps.clock,
      killSwitch: deps.killSwitch,
      account: () => accountViewOf(deps, broker, st),
      intentTrail: {
        audit: deps.audit,
        environment: deps.environment,
        actor: ACTOR,
        stream: streamOf(input.state.promotionId),
        subject: { promotion_id: input.state.promotionId },
      },
    },
    input.state,
  );
  await recordStatusChanges(deps, input.state, out.state);
  const d = out.decision;
  if (
    d.action === 'orders' ||
    d.action === 'halted' ||
    d.action === 'skipped' ||
    d.canceled.length > 0 ||
    d.refused.length > 0
  ) {
    const sent = out.state.orders.filter((o) => d.orders.includes(o.clientOrderId));
    await deps.audit.append(
      draft(deps, 'paper_decision', input.state.promotionId, {
        action: d.action,
        reason: d.reason,
        bar_iso: d.barIso,
        at_iso: d.atIso,
        orders: sent.map((o) => ({
          client_order_id: o.clientOrderId,
          side: o.side,
          qty: o.qty,
          reason: o.reason,
          status: o.status,
        })),
        canceled: d.canceled,
        refused: d.refused.map((r) => ({ client_order_id: r.clientOrderId, reason: r.reason })),
        halt: out.state.halt,
        provenance: paperDecisionProvenance(input.state, {
          bars_hash: out.barsHash,
          state: input.state,
        }),
      }),
    );
  }
  let state = await watchSlice(deps, broker, out.state, now);
  if (bookSnapshotChanged(input.state, state)) {
    await deps.sessionBooks.save(
      accountKeyOf(broker.name, deps.brokerAccount),
      snapshotOf(state, out.markUsd, now),
    );
  }
  // The book moved (a fill, or an order reached its end), and every few minutes regardless:
  // the sum of the sessions' books is compared with the account in this symbol (skipped while
  // an order on it is open); a discrepancy alarms and applies its halt mode.
  if (bookMoved(input.state, state) || state.ticks % RECONCILE_EVERY_TICKS === 0) {
    const rec = await reconcileAccountNow(deps, state, [state.symbol]);
    if (!rec.clean) {
      const mode = state.limits.haltModes?.reconciliation ?? 'reduce-only';
      const reason = `reconciliation: ${rec.discrepancies.map((x) => x.detail).join('; ')}`;
      if (escalatesHalt(state.halt, mode)) state = { ...state, halt: { mode, reason } };
    }
  }
  return { state, waitSeconds: out.waitSeconds, done: state.done };
}

/**
 * The micro-live slice's rollback monitor (`paper/slice-rollback.ts`), once a tick while the
 * session is open and until it rolls the slice back: values the slice at the broker (its
 * positions read now; an error is kept as the reading: fail closed), adds the point to the
 * slice's equity curve, and on a rollback verdict applies the slice's halt mode (default
 * `flatten`: the next tick closes the position and sends nothing more) and records `rollback`
 * with the figures. Sessions that are not a slice are returned unchanged.
 */
async function watchSlice(
  deps: PaperSessionDeps,
  broker: BrokerPort,
  state: PaperSessionState,
  nowMs: number,
): Promise<PaperSessionState> {
  const rollback = state.limits.rollback;
  if (!rollback || nowMs >= state.closeMs || state.slice?.rolledBackAtIso) return state;
  const positions = await broker
    .listPositions()
    .catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))));
  const book = sessionBook(state);
  const qty = book.positions[state.symbol]?.qty ?? 0;
  // The day's regulatory-fee rounding included: the monitor never reads optimistic cash.
  const cashUsd = sessionCashUsd(state, book);
  const valuation = valueSliceAtBroker({ cashUsd, qty }, state.symbol, positions);
  const check = checkSliceRollback({
    rollback,
    capitalUsd: state.capitalUsd,
    curveUsd: state.slice?.equityCurveUsd ?? [],
    valuation,
  });
  const v = check.verdict;
  const atIso = new Date(nowMs).toISOString();
  const rolledBack = v.action === 'rollback';
  let next: PaperSessionState = {
    ...state,
    slice: { equityCurveUsd: check.equityCurveUsd, rolledBackAtIso: rolledBack ? atIso : null },
  };
  if (!rolledBack) return next;
  const mode = state.limits.haltModes?.rollback ?? 'flatten';
  const reason = `${SLICE_ROLLBACK_REASON}${v.reason}`;
  if (escalatesHalt(next.halt, mode)) next = { ...next, halt: { mode, reason } };
  // Demoted: the pipeline's completion keeps `halted` (completePromotion).
  await deps.promotions.setStatus(state.promotionId, 'halted', reason);
  await deps.audit.append(
    draft(deps, 'rollback', state.promotionId, {
      trigger: v.trigger,
      reason: v.reason,
      source: 'broker',
      drawdown_fraction: v.observed.drawdownFraction,
      variance_ratio: v.observed.varianceRatio,
      observations: v.observed.observations,
      thresholds: v.thresholds,
      equity_usd: valuation.kind === 'valued' ? valuation.equityUsd : null,
      mark_usd: valuation.kind === 'valued' ? valuation.markUsd : null,
      capital_slice_usd: state.capitalUsd,
      position_qty: qty,
      halt_mode: mode,
      halt: next.halt,
      broker: broker.name,
      at: atIso,
    }),
  );
  return next;
}

/** Ticks between two account reconciliations when the session's book did not move. */
const RECONCILE_EVERY_TICKS = 5;

/** The account as the sum of its sessions (broker + session registry), for the pre-trade check. */
async function accountViewOf(
  deps: PaperSessionDeps,
  broker: BrokerPort,
  st: PaperSessionState,
): Promise<AccountView> {
  const [account, positions, books] = await Promise.all([
    broker.getAccount(),
    broker.listPositions(),
    deps.sessionBooks.list(accountKeyOf(broker.name, deps.brokerAccount), st.date),
  ]);
  return {
    equityUsd: account.equityUsd,
    grossExposureUsd:
      account.grossExposureUsd ??
      positions.reduce((s, p) => s + Math.abs(p.qty) * p.avgEntryPriceUsd, 0),
    otherSessionsOpenNotionalUsd: books
      .filter((b) => b.promotionId !== st.promotionId && !b.done)
      .reduce((s, b) => s + b.openOrderNotionalUsd, 0),
    dayTradeCount: account.dayTradeCount ?? null,
    openPositions: positions.filter((p) => p.qty !== 0).length,
  };
}

const HALT_RANK = { 'pause-entries': 0, 'reduce-only': 1, flatten: 2 } as const;

function escalatesHalt(current: PaperSessionState['halt'], mode: keyof typeof HALT_RANK): boolean {
  // pause-entries is a transient state of the tick itself: mid-session it holds as reduce-only.
  const m = mode === 'pause-entries' ? 'reduce-only' : mode;
  return current === null || HALT_RANK[m] > HALT_RANK[current.mode];
}

/** True when a fill was booked or an order reached a terminal status since `before`. */
function bookMoved(before: PaperSessionState, after: PaperSessionState): boolean {
  const was = new Map(before.orders.map((o) => [o.clientOrderId, o]));
  return after.orders.some((o) => {
    const p = was.get(o.clientOrderId);
    if (!p) return o.filledQty > 0 || (isTerminalOrderStatus(o.status) && o.status !== 'rejected');
    return p.filledQty !== o.filledQty || p.status !== o.status;
  });
}

/**
 * False only when the registry already holds this tick's snapshot apart from `ticks` and
 * `updatedAtIso`: not the session's first tick, not done, the same position (shares and
 * average price) as before the tick, and no open order before or after it (so the unfilled
 * notional is 0 whatever the mark). By induction from the first tick, which always saves, the
 * stored snapshot then has this content, so the tick skips the write (one conditional
 * PutItem per idle minute: most of a session's registry writes). A tick that changes anything
 * the account controls or the crash sweeper read (a fill, an order sent, canceled or ended,
 * the end of the session) still writes.
 */
function bookSnapshotChanged(before: PaperSessionState, after: PaperSessionState): boolean {
  if (before.ticks === 0 || after.done || before.done !== after.done) return true;
  const hasOpen = (s: PaperSessionState) => s.orders.some((o) => !isTerminalOrderStatus(o.status));
  if (hasOpen(before) || hasOpen(after)) return true;
  const was = sessionBook(before).positions[before.symbol];
  const now = sessionBook(after).positions[after.symbol];
  return (was?.qty ?? 0) !== (now?.qty ?? 0) || (was?.avgPriceUsd ?? 0) !== (now?.avgPriceUsd ?? 0);
}

/** This session's snapshot for the registry: its book and its open orders at `markUsd`. */
function snapshotOf(
  state: PaperSessionState,
  markUsd: number | null,
  nowMs: number,
): SessionBookSnapshot {
  const pos = sessionBook(state).positions[state.symbol];
  const open = state.orders.filter((o) => !isTerminalOrderStatus(o.status));
  const price = (o: PaperSessionState['orders'][number]) =>
    markUsd ?? o.avgPriceUsd ?? pos?.avgPriceUsd ?? 0;
  return {
    promotionId: state.promotionId,
    date: state.date,
    symbol: state.symbol,
    market: state.market,
    qty: pos?.qty ?? 0,
    avgPriceUsd: pos?.avgPriceUsd ?? 0,
    openOrders: open.length,
    openOrderNotionalUsd: open.reduce((s, o) => s + Math.max(0, o.qty - o.filledQty) * price(o), 0),
    open: open.map((o) => ({
      clientOrderId: o.clientOrderId,
      side: o.side,
      qty: o.qty,
      filledQty: o.filledQty,
    })),
    ticks: state.ticks,
    done: state.done,
    updatedAtIso: new Date(nowMs).toISOString(),
  };
}

/**
 * Reconciles the sum of every session's book on the account with the broker's positions
 * (`symbols`, or every symbol) and records a `reconciliation` (scope `account`).
 */
async function reconcileAccountNow(
  deps: PaperSessionDeps,
  state: PaperSessionState,
  symbols?: readonly string[],
): Promise<AccountReconciliation> {
  const broker = deps.brokerAt(deps.clock.now());
  const [books, positions, open] = await Promise.all([
    deps.sessionBooks.list(accountKeyOf(broker.name, deps.brokerAccount), state.date),
    broker.listPositions(),
    broker.listOpenOrders(),
  ]);
  const rec = reconcileAccount({
    books,
    positions,
    openOrderSymbols: new Set(open.map((o) => o.symbol)),
    qtyTolerance: deps.promotionConfig.reconcileQtyTolerance,
    avgPriceToleranceBps: deps.paperSession.avgPriceToleranceBps,
    ...(symbols ? { symbols } : {}),
  });
  if (!rec.clean || symbols === undefined) {
    await deps.audit.append(
      draft(deps, 'reconciliation', state.promotionId, {
        clean: rec.clean,
        scope: 'account',
        account: accountKeyOf(broker.name, deps.brokerAccount),
        discrepancies: [...rec.discrepancies],
        in_flight: rec.inFlight,
        sessions: books.map((b) => ({
          promotion_id: b.promotionId,
          symbol: b.symbol,
          qty: b.qty,
          avg_price_usd: b.avgPriceUsd,
          open_orders: b.openOrders,
        })),
        broker_positions: positions,
        broker: broker.name,
      }),
    );
  }
  return rec;
}

/**
 * Appends `order_status_changed` for every order of the session whose status or filled
 * quantity moved in a tick (a new order included: its status as the broker first reported
 * it), so the trail answers "submitted vs filled" (`orders-vs-fills`) for paper orders too.
 * Once per transition (`appendKeyed`: the client_order_id, the new status and the filled
 * quantity, which an order never returns to; inside a step, per execution): a retried tick
 * that finds an order moved further than its first attempt did records that transition too,
 * where the step's ordinal key answered it with the first attempt's record.
 */
async function recordStatusChanges(
  deps: PaperSessionDeps,
  before: PaperSessionState,
  after: PaperSessionState,
): Promise<void> {
  const previous = new Map(before.orders.map((o) => [o.clientOrderId, o]));
  for (const o of after.orders) {
    const was = previous.get(o.clientOrderId);
    if (was && was.status === o.status && was.filledQty === o.filledQty) continue;
    if (!was && o.status === 'rejected' && o.rejectReason?.startsWith('pre-trade')) continue;
    await appendKeyed(
      deps.audit,
      {
        kind: 'order_status_changed',
        actor: ACTOR,
        stream: streamOf(after.promotionId),
        environment: deps.environment,
        subject: { promotion_id: after.promotionId, order_id: o.clientOrderId },
        payload: {
          client_order_id: o.clientOrderId,
          status: o.status,
          previous_status: was?.status ?? null,
          filled_qty: o.filledQty,
          filled_avg_price: o.avgPriceUsd,
          ...(o.rejectReason ? { reason: o.rejectReason } : {}),
        },
      },
      ['order-status', after.promotionId, o.clientOrderId, o.status, o.filledQty],
    );
  }
}

/**
 * The kill switch at the settle step, read once: engaged now, or released but last engaged
 * since the session's start (`startedAtMs`, {@link killSwitchReading}), its halt mode becomes
 * the session's halt when stricter than the one it carries, so the track record counts the
 * session halted also when it was flat and idle and never read the switch again (such ticks do
 * not read it). Not read when nothing could change: the halt already as strict, or the mode
 * `pause-entries` (it holds only while the switch is on and never halts the session).
 * @returns the state, and `recorded: true` when its halt is the one read here.
 * @throws TransientError when the switch cannot be read: the workflow's Finish retries it,
 *   and fails (`workflow_failed`, no track record entry) when it stays unreadable.
 */
async function killSwitchAtSettle(
  deps: PaperSessionDeps,
  state: PaperSessionState,
): Promise<{ state: PaperSessionState; recorded: boolean }> {
  const unchanged = { state, recorded: false };
  const mode = state.limits.haltModes?.killSwitch ?? DEFAULT_HALT_MODES.killSwitch;
  if (mode === 'pause-entries' || !escalatesHalt(state.halt, mode)) return unchanged;
  let stored: Awaited<ReturnType<PaperSessionDeps['killSwitch']['read']>>;
  try {
    stored = await deps.killSwitch.read();
  } catch (err) {
    const why = `kill switch unreadable at settle: ${(err as Error).message}`;
    throw new TransientError(why, { cause: err });
  }
  const ks = killSwitchReading(stored, state.startedAtMs, deps.clock.now());
  if (ks.kind === 'off') return unchanged;
  const halt = { mode, reason: `${ks.reason}; recorded at settle` };
  return { state: { ...state, halt }, recorded: true };
}

/** Output of {@link finishPaperSession}. */
export interface SessionSummary {
  readonly parity: ParityRecord;
  readonly orders: PaperSessionState['orders'];
  /** Position left at the broker vs this session's book (0 when flat and reconciled). */
  readonly reconciliation: {
    /** No discrepancy in this session's symbol between the account and its sessions' books. */
    readonly clean: boolean;
    /** The whole account's reconciliation (every symbol, every session). */
    readonly account: 'clean' | 'discrepancies';
    readonly bookQty: number;
    readonly brokerQty: number;
    readonly bookAvgPriceUsd: number;
    readonly brokerAvgPriceUsd: number;
  };
  /**
   * The session's halt at its end (`{ mode, reason }`, as the tick's `state.halt`), as its
   * `paper_session_completed` and track record entry carry it; null when it never halted.
   */
  readonly halt: PaperSessionState['halt'];
  /**
   * True when this Finish halted the session: the session came into Finish with no halt and
   * leaves it halted (its settle step found the kill switch's flatten in the book with shares
   * left at the close, or that flatten's cancel failing: `kill switch flatten ...`), or Finish
   * recorded the kill-switch halt itself (the switch read at settle: `...; recorded at
   * settle`). False for a session a tick already halted, even when Finish extends its halt's
   * reason (that session's halt was counted by its tick): so a session halt is counted once.
   */
  readonly haltRecordedAtSettle: boolean;
  /**
   * True when an earlier attempt of this Finish (a Step Functions Retry, a redelivery) had
   * recorded the session's `paper_session_completed` already: this attempt appended it not
   * again (it got that record back), so what it reports was reported by that attempt.
   */
  readonly replayed: boolean;
}

/**
 * Finish: reads the kill switch once (a halt it missed recorded: `killSwitchAtSettle`),
 * settles the session's orders with the broker (`settleSessionOrders`: the kill
 * switch's flatten adopted, every open order read again, each change recorded
 * `order_status_changed`), then the reference simulation, the parity record (per order and in
 * total), and the reconciliation of this session's book with the broker's position (quantity
 * and average price); records `paper_session_completed`.
 * @throws TransientError when the kill switch cannot be read (the workflow retries the step);
 *   the broker's and the stores' errors.
 */
export async function finishPaperSession(
  deps: PaperSessionDeps,
  input: { readonly state: PaperSessionState; readonly promotion: StagedPromotion },
): Promise<SessionSummary> {
  // The orders as the broker has them now, the kill switch's flatten included (engaged after
  // the last tick, e.g. while the close flatten was open): the book is what was done.
  const now = deps.clock.now();
  const settled = await killSwitchAtSettle(deps, input.state);
  const paper = await settleSessionOrders({ broker: deps.brokerAt(now) }, settled.state, now);
  await recordStatusChanges(deps, input.state, paper);
  const initial = newPaperSession({ ...paper });
  const { state: reference, session } = await runReferenceSession(
    deps.marketData,
    initial,
    deps.referenceExchange,
  );
  const parity = parityRecord(paper, reference, session, input.promotion.metrics.totalPnlUsd);
  const book = sessionBook(paper);
  const pos = book.positions[paper.symbol];
  const brokerPos = (await deps.brokerAt(deps.clock.now()).listPositions()).find(
    (b) => b.symbol === paper.symbol,
  );
  const bookQty = pos?.qty ?? 0;
  const brokerQty = brokerPos?.qty ?? 0;
  // Several sessions may share the account: the broker's position is the sum of theirs, so
  // the account (every session's final book) is reconciled, and recorded, as a whole.
  await deps.sessionBooks.save(
    accountKeyOf(deps.brokerAt(deps.clock.now()).name, deps.brokerAccount),
    snapshotOf({ ...paper, done: true }, null, deps.clock.now()),
  );
  const account = await reconcileAccountNow(deps, paper);
  const reconciliation = {
    clean: !account.discrepancies.some((x) => x.symbol === paper.symbol),
    account: account.clean ? ('clean' as const) : ('discrepancies' as const),
    bookQty,
    brokerQty,
    bookAvgPriceUsd: pos?.avgPriceUsd ?? 0,
    brokerAvgPriceUsd: brokerPos?.avgEntryPriceUsd ?? 0,
  };
  const result = paperSessionResult({
    state: paper,
    parity,
    broker: accountKeyOf(deps.brokerAt(deps.clock.now()).name, deps.brokerAccount),
    reconciliationClean: reconciliation.clean,
    recordedAtIso: new Date(deps.clock.now()).toISOString(),
  });
  await deps.trackRecord.append(result);
  const { replayed } = await recordCompletion(deps, {
    paper,
    parity,
    reconciliation,
    result,
    session,
  });
  return {
    parity,
    orders: paper.orders,
    reconciliation,
    halt: paper.halt,
    // Counted once per session: a halt a tick recorded was counted by that tick.
    haltRecordedAtSettle: settled.recorded || (input.state.halt === null && paper.halt !== null),
    replayed,
  };
}

/**
 * Appends the session's `paper_session_completed`, once per session (`appendKeyedOnce`, keyed
 * by the promotion and the session's date; inside the workflow's Finish step, scoped by its
 * execution): a retried or redelivered Finish gets the first attempt's record back.
 * @returns `replayed: true` when that record was there already (nothing appended now).
 */
async function recordCompletion(
  deps: PaperSessionDeps,
  done: {
    readonly paper: PaperSessionState;
    readonly parity: ParityRecord;
    readonly reconciliation: SessionSummary['reconciliation'];
    readonly result: PaperSessionResult;
    readonly session: MarketSession;
  },
): Promise<{ replayed: boolean }> {
  const { paper, parity, reconciliation, result } = done;
  const minutes = symbolMinutes(done.session, paper.symbol);
  const completed = draft(deps, 'paper_session_completed', paper.promotionId, {
    paper_pnl_usd: parity.paperPnlUsd,
    reference_pnl_usd: parity.referencePnlUsd,
    difference_usd: parity.differenceUsd,
    cohort_pnl_usd: parity.cohortPnlUsd,
    cohort_flattery_usd: parity.cohortFlatteryUsd,
    orders: parity.orders,
    reconciliation,
    last_mark_usd: minutes ? lastMark(minutes, paper.closeMs) : null,
    halt: paper.halt,
    genome_id: result.genomeId,
    parity: result.parity,
    daily_return: result.dailyReturn,
    round_trips: result.roundTrips,
  });
  const key = ['paper-session-completed', paper.promotionId, paper.date];
  const { replayed } = await appendKeyedOnce(deps.audit, completed, key);
  return { replayed };
}
