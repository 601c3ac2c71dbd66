import type { AuditDraftOf, AuditKind, AuditPayload } from '../audit/record.js';
import { auditDraft } from '../audit/record.js';
import { appendKeyed } from '../audit/step-scoped.js';
import { type Market, marketDate } from '../calendar/market-calendar.js';
import type { RegulatoryFees } from '../cohort/fill-model.js';
import { KillSwitchEngagedError, TransientError } from '../errors.js';
import { regulatoryRoundingByDayUsd } from '../exchange/regulatory-fees.js';
import {
  type LeverageDecision,
  type LeveragePolicy,
  nextLeverage,
  rollingSharpe,
} from '../leverage/policy.js';
import { clientOrderId } from '../orders/client-order-id.js';
import {
  checkSliceRollback,
  type SliceValuation,
  valueSliceAtBroker,
} from '../paper/slice-rollback.js';
import { readPaperTrackRecord } from '../paper/track-record.js';
import { drawdownFraction } from '../risk/drawdown.js';
import {
  evaluateRollback,
  type RollbackConfig,
  type RollbackVerdict,
} from '../rollback/monitor.js';
import type { Day3Deps } from './day3.js';
import type { LeverageDecisionRecord, MicroLiveSlice, MicroLiveStatus } from './day3-records.js';
import { isSettled, pollPromotionOrders, submitPromotionOrders } from './promotion-orders.js';
import type { PlannedLeg } from './promotion-plan.js';

const ACTOR = 'stagegate/rollback-monitor';

/**
 * The leverage policy's inputs for a closed day: the day's PnL (today's closing equity minus
 * the previous close, or the capital on the first day, USD), the rolling annualized Sharpe of
 * the daily returns so far (null with fewer than `minSharpeSessions` days, default 20, see
 * `rollingSharpe`), and the
 * drawdown of today's close from the peak of the capital and all closes (fraction).
 *
 * The Sharpe's sample is the genome's paper track record before the slice was approved
 * (`priorDailyReturns`, each a fraction of its session's capital) followed by the slice's own
 * daily returns, so the paper sessions that earned the approval count toward the 20 days; the
 * day's PnL and the drawdown are the slice's alone.
 */
export function closedDayInputs(input: {
  readonly capitalUsd: number;
  readonly previousCloses: readonly number[];
  readonly equityUsd: number;
  /** Daily returns before a Sharpe is annualized (the policy's `minSharpeSessions`). */
  readonly minSharpeSessions?: number;
  /** The genome's paper-session daily returns before the slice (oldest first), fractions. */
  readonly priorDailyReturns?: readonly number[];
}): {
  dayPnlUsd: number;
  rollingSharpe: number | null;
  drawdownFraction: number;
  /** Paper sessions in the Sharpe's sample before the slice's own days, count. */
  priorPaperSessions: number;
} {
  const closes = [input.capitalUsd, ...input.previousCloses, input.equityUsd];
  const returns: number[] = [...(input.priorDailyReturns ?? [])];
  for (let i = 1; i < closes.length; i++) {
    const prev = closes[i - 1] as number;
    returns.push(prev > 0 ? (closes[i] as number) / prev - 1 : 0);
  }
  const prevClose = closes[closes.length - 2] as number;
  const peak = Math.max(...closes);
  return {
    dayPnlUsd: input.equityUsd - prevClose,
    rollingSharpe: rollingSharpe(returns, 20, input.minSharpeSessions ?? 20),
    drawdownFraction: peak > 0 ? drawdownFraction(peak, input.equityUsd) : 1,
    priorPaperSessions: input.priorDailyReturns?.length ?? 0,
  };
}

/** What one tick decides for an active slice. */
export interface TickDecision {
  readonly verdict: RollbackVerdict;
  /** The next leverage decision: on rollback, or on the closing tick; null otherwise. */
  readonly leverage: LeverageDecision | null;
  /** The inputs of a closing-tick leverage decision (null otherwise). */
  readonly dayInputs: ReturnType<typeof closedDayInputs> | null;
}

/**
 * Decides one tick of an active slice: rollback when {@link evaluateRollback} says so (the
 * leverage resets with rule `reset_after_rollback`), otherwise on the closing tick the next
 * day's leverage from {@link closedDayInputs} via `nextLeverage`.
 *
 * @throws ValidationError when the rollback config or leverage policy is invalid.
 */
export function decideTick(input: {
  readonly curveUsd: readonly number[];
  readonly backtestReturnVariance: number | null;
  readonly leverage: number;
  readonly previousCloses: readonly number[];
  readonly closeOfDay: boolean;
  readonly rollback: RollbackConfig;
  readonly policy: LeveragePolicy;
  /** See {@link closedDayInputs}; absent: none. */
  readonly priorDailyReturns?: readonly number[];
}): TickDecision {
  const verdict = evaluateRollback(
    { equityCurveUsd: input.curveUsd, backtestReturnVariance: input.backtestReturnVariance },
    input.rollback,
  );
  if (verdict.action === 'rollback') {
    return {
      verdict,
      leverage: nextLeverage(
        input.leverage,
        { kind: 'rollback', reason: verdict.reason },
        input.policy,
      ),
      dayInputs: null,
    };
  }
  if (!input.closeOfDay) return { verdict, leverage: null, dayInputs: null };
  const capital = input.curveUsd[0] as number;
  const dayInputs = closedDayInputs({
    capitalUsd: capital,
    previousCloses: input.previousCloses,
    equityUsd: input.curveUsd[input.curveUsd.length - 1] as number,
    minSharpeSessions: input.policy.minSharpeSessions,
    ...(input.priorDailyReturns ? { priorDailyReturns: input.priorDailyReturns } : {}),
  });
  return {
    verdict,
    leverage: nextLeverage(input.leverage, { kind: 'day_closed', ...dayInputs }, input.policy),
    dayInputs,
  };
}

/** What a tick did to one slice. */
export interface SliceTick {
  readonly sliceId: string;
  /** The slice's status after the tick. */
  readonly status: MicroLiveStatus;
  /**
   * `hold` (within limits), `rollback` (breach: flatten sent, promotion demoted),
   * `awaiting_flatten` (flatten order still open), `flattened` (slice flat, rolled back),
   * `skipped` (nothing to watch yet).
   */
  readonly action: 'hold' | 'rollback' | 'awaiting_flatten' | 'flattened' | 'skipped';
  readonly reason: string;
  readonly verdict: RollbackVerdict | null;
  /** Slice equity at the last mark, USD. */
  readonly equityUsd: number | null;
  readonly leverage: LeverageDecisionRecord | null;
  readonly flattenClientOrderId: string | null;
}

function draft<K extends AuditKind>(
  deps: Day3Deps,
  kind: K,
  slice: MicroLiveSlice,
  payload: AuditPayload<K>,
): AuditDraftOf<K> {
  return auditDraft(kind, {
    actor: ACTOR,
    stream: `promotion:${slice.promotionId ?? slice.sliceId}`,
    environment: deps.promotion.environment,
    subject: {
      promotion_id: slice.promotionId,
      cohort_id: slice.cohortId,
      agent_id: slice.agentId,
      genome_id: slice.genomeId,
    },
    payload,
  });
}

/**
 * The market (calendar) of a slice: its Day-3 cohort's (`CohortRecord.market`, a crypto day is
 * a UTC date; `equity-usa` when the record predates the field). Read from the cohort record,
 * never from market data: a day without a quote file must not stop the monitor.
 *
 * @throws NotFoundError when the cohort record is gone; TransientError (storage).
 */
async function sliceMarket(deps: Day3Deps, slice: MicroLiveSlice): Promise<Market> {
  return (await deps.promotion.cohorts.get(slice.cohortId)).market ?? 'equity-usa';
}

/**
 * The slice's positions at the broker, or the error reading them (after the adapter's
 * retries): the monitor fails closed on it ({@link valueSliceAtBroker}), never throws.
 */
async function brokerPositions(deps: Day3Deps, nowMs: number) {
  try {
    return await deps.promotion.brokerAt(nowMs).listPositions();
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}

async function saveSlice(deps: Day3Deps, slice: MicroLiveSlice, patch: Partial<MicroLiveSlice>) {
  const next: MicroLiveSlice = {
    ...slice,
    ...patch,
    version: slice.version + 1,
    updatedAtIso: new Date(deps.promotion.clock.now()).toISOString(),
  };
  if (!(await deps.microLive.updateSlice(next))) {
    throw new TransientError(`micro-live slice ${slice.sliceId} moved during the tick; retry`);
  }
  return next;
}

async function recordLeverage(
  deps: Day3Deps,
  slice: MicroLiveSlice,
  decision: LeverageDecision,
  key: string,
  nowMs: number,
  inputs: Record<string, number | string | null>,
): Promise<LeverageDecisionRecord> {
  const { created, record } = await deps.microLive.recordLeverageDecision({
    ...decision,
    sliceId: slice.sliceId,
    key,
    decidedAtIso: new Date(nowMs).toISOString(),
    inputs,
  });
  // Once per (slice, decision key), whether this tick made the decision or a redelivered tick
  // finds it made: a tick that crashed between the decision and its record leaves the
  // record to its redelivery, and a redelivery after the record gets it back.
  await appendKeyed(
    deps.promotion.audit,
    draft(deps, 'config_changed', slice, {
      setting: 'micro_live.leverage',
      slice_id: slice.sliceId,
      previous: record.previous,
      next: record.next,
      rule: record.rule,
      rationale: record.rationale,
      inputs: created ? inputs : { ...record.inputs },
    }),
    ['micro-live-leverage', slice.sliceId, key],
  );
  return record;
}

/**
 * Sends the flatten order and demotes the promotion (`halted`, with `reason`); null
 * client_order_id when the kill switch blocks the order (the next tick tries again).
 */
async function sendFlatten(
  deps: Day3Deps,
  slice: MicroLiveSlice,
  qty: number,
  refPriceUsd: number,
  reason: string,
): Promise<{ clientOrderId: string | null; status: string }> {
  const promotionId = slice.promotionId as string;
  const promotion = await deps.promotion.promotions.get(promotionId);
  const leg: PlannedLeg = {
    leg: 'flatten',
    symbol: slice.entry?.symbol ?? slice.symbol,
    side: qty > 0 ? 'sell' : 'buy',
    qty: Math.abs(qty),
    refPriceUsd,
  };
  let result: { clientOrderId: string | null; status: string };
  try {
    // The promotion's own order path: reserved under a deterministic client_order_id before it
    // is sent, booked into the position book, audited (order_submitted / status changes).
    const out = await submitPromotionOrders(deps.promotion, { promotion, plan: [leg] });
    const coid = clientOrderId({ promotionId, leg: 'flatten', attempt: 1 });
    const status = out.orders.find((o) => o.clientOrderId === coid)?.status ?? 'unknown';
    result = { clientOrderId: coid, status };
  } catch (err) {
    if (!(err instanceof KillSwitchEngagedError)) throw err;
    result = { clientOrderId: null, status: 'blocked_by_kill_switch' };
  }
  // After the submission (which marks the promotion `submitted`): demote it.
  await deps.promotion.promotions.setStatus(promotionId, 'halted', reason);
  return result;
}

/** A slice's promotion as its orders and the broker's reports of them add up (USD, shares). */
interface SliceHolding {
  readonly qty: number;
  /** What the account was charged: the broker's reported fees plus `regulatoryRoundingUsd`. */
  readonly feesUsd: number;
  /** The regulatory-fee rounding of each New York day of the orders, as if each day ended now. */
  readonly regulatoryRoundingUsd: number;
  readonly cashUsd: number;
  readonly flattenStatus: string | null;
  /**
   * The flatten order is settled (`isSettled`: terminal AND its fills booked), or there is none.
   * A filled flatten whose booking lost its rounds is not: the next tick books it.
   */
  readonly flattenSettled: boolean;
}

/**
 * Net position, fees and cash of a slice's promotion (entry and flatten legs), from its orders:
 * `cashUsd` = capital − Σ signed filled qty × fill price − `feesUsd` (USD), prices and fees as
 * the broker reports them (the order's recorded average fill price when the broker has none),
 * `feesUsd` including the regulatory-fee rounding of each New York day of its orders
 * (`regulatoryRoundingByDayUsd`: each fee type's day total rounded up to the cent, less the
 * fees accrued), counted as if each day ended now: the monitor never reads optimistic cash.
 */
async function positionOf(
  deps: Day3Deps,
  slice: MicroLiveSlice,
  nowMs: number,
): Promise<SliceHolding> {
  const orders = await deps.promotion.promotions.listOrders(slice.promotionId as string);
  const broker = deps.promotion.brokerAt(nowMs);
  let qty = 0;
  let feesUsd = 0;
  let cashUsd = slice.capitalSliceUsd;
  let flattenStatus: string | null = null;
  let flattenSettled = true;
  const regulatory: { date: string; regulatoryFeesUsd: RegulatoryFees }[] = [];
  for (const o of orders) {
    const sign = o.order.side === 'buy' ? 1 : -1;
    qty += sign * o.order.filledQty;
    if (o.order.filledQty > 0) {
      const atBroker = await broker.getOrderByClientOrderId(o.order.clientOrderId);
      // A day order fills on its New York submission date (crypto accrues no regulatory fee).
      const fees = atBroker?.regulatoryFeesUsd;
      if (fees)
        regulatory.push({
          date: marketDate(o.order.createdAtMs, 'equity-usa'),
          regulatoryFeesUsd: fees,
        });
      const price =
        atBroker?.filledAvgPriceUsd ?? o.order.avgFillPriceUsd ?? slice.entry?.avgPriceUsd ?? 0;
      feesUsd += atBroker?.feesUsd ?? 0;
      cashUsd -= sign * o.order.filledQty * price + (atBroker?.feesUsd ?? 0);
    }
    if (o.leg === 'flatten') {
      flattenStatus = o.order.status;
      flattenSettled = isSettled(o);
    }
  }
  const regulatoryRoundingUsd = regulatoryRoundingByDayUsd(regulatory);
  return {
    qty,
    feesUsd: feesUsd + regulatoryRoundingUsd,
    regulatoryRoundingUsd,
    cashUsd: cashUsd - regulatoryRoundingUsd,
    flattenStatus,
    flattenSettled,
  };
}

/**
 * The scheduled monitor's rollback rules: drawdown only. The variance ratio's yardstick is the
 * Day 1-3 variance of 1-minute returns, while this monitor samples one point per tick (every
 * `schedules.rollbackMonitor.everyMinutes`, and not while the market is closed) from the
 * capital and the recorded daily closes: that curve has no minute returns to compare, so the
 * ratio is never reached (`minObservations` out of reach). A missing yardstick still fails
 * closed (`missing_data`, as inside the session).
 */
const drawdownOnly = (config: RollbackConfig): RollbackConfig => ({
  ...config,
  minObservations: Number.MAX_SAFE_INTEGER,
});

/**
 * Values an active slice at the broker and decides the tick: the curve is the capital, the
 * recorded daily closes and this tick's equity at the broker (the running peak of those is the
 * drawdown's peak). An unreadable broker (see {@link valueSliceAtBroker}) is a rollback with
 * trigger `broker_unreadable` and the leverage reset.
 */
async function decideActive(
  deps: Day3Deps,
  slice: MicroLiveSlice,
  book: { readonly qty: number; readonly cashUsd: number },
  nowMs: number,
  closeOfDay: boolean,
  today: string,
): Promise<{ decision: TickDecision; valuation: SliceValuation; equityUsd: number | null }> {
  const symbol = slice.entry?.symbol ?? slice.symbol;
  const valuation = valueSliceAtBroker(book, symbol, await brokerPositions(deps, nowMs));
  const rollback = drawdownOnly(deps.config.rollback);
  const check = checkSliceRollback({
    rollback: { ...rollback, backtestReturnVariance: slice.backtestReturnVariance },
    capitalUsd: slice.capitalSliceUsd,
    curveUsd: [slice.capitalSliceUsd, ...slice.dailyCloses.map((d) => d.equityUsd)],
    valuation,
  });
  if (valuation.kind === 'unreadable') {
    const verdict = check.verdict;
    const leverage = nextLeverage(
      slice.leverage,
      { kind: 'rollback', reason: verdict.reason },
      deps.config.leveragePolicy,
    );
    return { decision: { verdict, leverage, dayInputs: null }, valuation, equityUsd: null };
  }
  const closing = closeOfDay && !slice.dailyCloses.some((d) => d.date === today);
  const decision = decideTick({
    curveUsd: check.equityCurveUsd,
    backtestReturnVariance: slice.backtestReturnVariance,
    leverage: slice.leverage,
    previousCloses: slice.dailyCloses.map((d) => d.equityUsd),
    closeOfDay: closing,
    rollback,
    policy: deps.config.leveragePolicy,
    ...(closing ? { priorDailyReturns: await paperReturnsBeforeSlice(deps, slice) } : {}),
  });
  return { decision, valuation, equityUsd: valuation.equityUsd };
}

/**
 * The slice genome's paper-session daily returns recorded before the slice was approved
 * (`readPaperTrackRecord`; the slice's own sessions excluded), oldest first, fractions. An
 * unreadable or absent track record gives none: a shorter sample can only keep the rolling
 * Sharpe null (no step up), never raise the leverage.
 */
export async function paperReturnsBeforeSlice(
  deps: Pick<Day3Deps, 'paperTrackRecord'>,
  slice: Pick<MicroLiveSlice, 'genomeId' | 'promotionId' | 'approvedAtIso'>,
): Promise<number[]> {
  if (!deps.paperTrackRecord) return [];
  try {
    const record = await readPaperTrackRecord(deps.paperTrackRecord, slice.genomeId);
    const approvedMs = Date.parse(slice.approvedAtIso);
    return record.sessions
      .filter(
        (s) => s.promotionId !== slice.promotionId && Date.parse(s.recordedAtIso) <= approvedMs,
      )
      .map((s) => s.dailyReturn);
  } catch {
    return [];
  }
}

/**
 * The rollback branch of an active slice's tick: sends the flatten (at the broker mark, or the
 * entry price when the broker is unreadable), resets the leverage, records the `rollback` audit
 * record and moves the slice to `flattening`. The record's `fees_usd` is what the account was
 * charged ({@link SliceHolding}: the broker's fees and the days' regulatory rounding, which
 * `regulatory_rounding_usd` gives apart), so capital − Σ signed fills − `fees_usd` + position ×
 * `mark_usd` = `equity_usd`.
 */
async function rollBackActive(
  deps: Day3Deps,
  slice: MicroLiveSlice,
  held: Pick<SliceHolding, 'qty' | 'feesUsd' | 'regulatoryRoundingUsd'> & {
    readonly promotionId: string;
    readonly entryPriceUsd: number;
  },
  decision: TickDecision,
  valuation: SliceValuation,
  nowMs: number,
  today: string,
): Promise<SliceTick> {
  const v = decision.verdict;
  const { promotionId, qty, entryPriceUsd } = held;
  const equityUsd = valuation.kind === 'valued' ? valuation.equityUsd : null;
  const reason = `rolled back by the monitor: ${v.reason}`;
  const markUsd = valuation.kind === 'valued' ? valuation.markUsd : null;
  const flatten = await sendFlatten(deps, slice, qty, markUsd ?? entryPriceUsd, reason);
  const leverage = decision.leverage
    ? await recordLeverage(deps, slice, decision.leverage, `rollback:${today}`, nowMs, {
        trigger: v.trigger,
        drawdown_fraction: v.observed.drawdownFraction,
        variance_ratio: v.observed.varianceRatio,
      })
    : null;
  // Once per slice (a slice is rolled back once): a redelivered tick gets the record back.
  await appendKeyed(
    deps.promotion.audit,
    draft(deps, 'rollback', slice, {
      slice_id: slice.sliceId,
      promotion_id: promotionId,
      trigger: v.trigger,
      reason: v.reason,
      drawdown_fraction: v.observed.drawdownFraction,
      variance_ratio: v.observed.varianceRatio,
      observations: v.observed.observations,
      thresholds: v.thresholds,
      equity_usd: equityUsd,
      mark_usd: markUsd,
      source: 'broker',
      capital_slice_usd: slice.capitalSliceUsd,
      position_qty: qty,
      fees_usd: held.feesUsd,
      regulatory_rounding_usd: held.regulatoryRoundingUsd,
      flatten_client_order_id: flatten.clientOrderId,
      flatten_status: flatten.status,
      promotion_status: 'halted',
      leverage_previous: leverage?.previous ?? slice.leverage,
      leverage_next: leverage?.next ?? slice.leverage,
      at: new Date(nowMs).toISOString(),
    }),
    ['micro-live-rollback', slice.sliceId],
  );
  await saveSlice(deps, slice, {
    status: 'flattening',
    statusReason: reason,
    leverage: leverage?.next ?? slice.leverage,
    flattenClientOrderId: flatten.clientOrderId,
  });
  return {
    sliceId: slice.sliceId,
    status: 'flattening',
    action: 'rollback',
    reason,
    verdict: v,
    equityUsd,
    leverage,
    flattenClientOrderId: flatten.clientOrderId,
  };
}

async function tickActive(
  deps: Day3Deps,
  slice: MicroLiveSlice,
  nowMs: number,
  closeOfDay: boolean,
  market: Market,
): Promise<SliceTick> {
  const entry = slice.entry;
  if (!entry || !slice.promotionId) {
    return skipped(slice, 'no entry fill recorded');
  }
  const holding = await positionOf(deps, slice, nowMs);
  const { qty, cashUsd } = holding;
  // The day whose close this is, on the slice symbol's calendar (a crypto day is a UTC date).
  const today = marketDate(nowMs, market);
  const { decision, valuation, equityUsd } = await decideActive(
    deps,
    slice,
    { qty, cashUsd },
    nowMs,
    closeOfDay,
    today,
  );
  const v = decision.verdict;
  if (v.action === 'rollback') {
    const held = { ...holding, promotionId: slice.promotionId, entryPriceUsd: entry.avgPriceUsd };
    return rollBackActive(deps, slice, held, decision, valuation, nowMs, today);
  }
  let leverage: LeverageDecisionRecord | null = null;
  if (decision.leverage && decision.dayInputs && equityUsd !== null) {
    leverage = await recordLeverage(deps, slice, decision.leverage, `day:${today}`, nowMs, {
      day_pnl_usd: decision.dayInputs.dayPnlUsd,
      rolling_sharpe: decision.dayInputs.rollingSharpe,
      prior_paper_sessions: decision.dayInputs.priorPaperSessions,
      drawdown_fraction: decision.dayInputs.drawdownFraction,
      equity_usd: equityUsd,
    });
    await saveSlice(deps, slice, {
      leverage: leverage.next,
      dailyCloses: [...slice.dailyCloses, { date: today, equityUsd }],
    });
  }
  return {
    sliceId: slice.sliceId,
    status: 'active',
    action: 'hold',
    reason: v.reason,
    verdict: v,
    equityUsd,
    leverage,
    flattenClientOrderId: null,
  };
}

function skipped(slice: MicroLiveSlice, reason: string): SliceTick {
  return {
    sliceId: slice.sliceId,
    status: slice.status,
    action: 'skipped',
    reason,
    verdict: null,
    equityUsd: null,
    leverage: null,
    flattenClientOrderId: slice.flattenClientOrderId,
  };
}

async function tickFlattening(
  deps: Day3Deps,
  slice: MicroLiveSlice,
  nowMs: number,
): Promise<SliceTick> {
  if (!slice.promotionId) return skipped(slice, 'no promotion');
  if (!slice.flattenClientOrderId) {
    const { qty } = await positionOf(deps, slice, nowMs);
    const ref = slice.entry?.avgPriceUsd ?? 1;
    const flatten = await sendFlatten(deps, slice, qty, ref, slice.statusReason);
    await saveSlice(deps, slice, { flattenClientOrderId: flatten.clientOrderId });
    return {
      ...skipped(slice, `flatten ${flatten.status}`),
      action: 'awaiting_flatten',
      flattenClientOrderId: flatten.clientOrderId,
    };
  }
  const promotion = await deps.promotion.promotions.get(slice.promotionId);
  await pollPromotionOrders(deps.promotion, { promotion });
  const { qty, flattenStatus, flattenSettled } = await positionOf(deps, slice, nowMs);
  // Rolled back only once the flatten is settled (filled AND booked): a fill whose booking lost
  // its rounds is booked by the next tick's poll, never left out of the book.
  if (flattenSettled && (flattenStatus === 'filled' || Math.abs(qty) < 1e-9)) {
    const reason = `${slice.statusReason}; flat (flatten order ${slice.flattenClientOrderId} filled)`;
    await saveSlice(deps, slice, { status: 'rolled_back', statusReason: reason });
    return { ...skipped(slice, reason), status: 'rolled_back', action: 'flattened' };
  }
  const booking = flattenSettled ? '' : ', its fills not yet booked';
  return {
    ...skipped(slice, `flatten order ${flattenStatus ?? 'unknown'}${booking}`),
    action: 'awaiting_flatten',
  };
}

/**
 * One monitor tick over the watched slices of `input.market`, at the clock's "now": each slice
 * is watched on its own market's schedule (a crypto slice on UTC days, every day; an equity
 * slice in New York session hours), so a tick of one market neither values nor closes the day
 * of another market's slice. An active slice is valued
 * at the broker (`valueSliceAtBroker`: cash after its fills plus the position at
 * `BrokerPosition.marketPriceUsd`, never market-data marks) and rolled back on the drawdown
 * rule alone ({@link drawdownOnly}) or, failing closed, when the broker cannot value it
 * (`broker_unreadable`); a flattening slice's flatten order is polled until settled
 * (filled and booked: `isSettled`), then the slice is `rolled_back`.
 *
 * @param input.closeOfDay the day's closing tick: a slice without a breach gets its next-day
 *   leverage decision (once per day, the day on the slice market's calendar).
 * @param input.market the market whose slices this tick watches (`equity-usa` when absent);
 *   a slice's market is that of its Day-3 cohort (`sliceMarket`).
 * @returns the tick of each watched slice of that market; the tick's time is
 *   `deps.promotion.clock.now()`.
 * @throws TransientError (storage, broker), AuditWriteError; per-slice failures are not
 *   isolated: the scheduled invocation fails and is retried, every step being idempotent.
 */
export async function monitorMicroLive(
  deps: Day3Deps,
  input: { readonly closeOfDay: boolean; readonly market?: Market },
): Promise<SliceTick[]> {
  const nowMs = deps.promotion.clock.now();
  const market = input.market ?? 'equity-usa';
  const out: SliceTick[] = [];
  for (const slice of await deps.microLive.listWatchedSlices()) {
    if ((await sliceMarket(deps, slice)) !== market) continue;
    if (slice.status === 'active') {
      out.push(await tickActive(deps, slice, nowMs, input.closeOfDay, market));
    } else if (slice.status === 'flattening') {
      out.push(await tickFlattening(deps, slice, nowMs));
    }
  }
  return out;
}
