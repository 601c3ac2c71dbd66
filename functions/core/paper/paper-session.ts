/**
 * The paper session: the promoted genome trades ITS OWN signals from the promotion window's
 * open to the session close, one tick per minute, through a broker port (the simulated broker
 * or Alpaca paper). Pure orchestration over ports; the session's state is a small JSON value
 * the workflow carries from tick to tick (`PaperSessionState`).
 *
 * One tick at `now` (the clock port):
 * 1. track: every non-terminal order of this session is read back from the broker (status,
 *    filled quantity, average price, fees as the broker reports them);
 * 2. book: this session's own position and cash are the fold of those fills through THE
 *    position book (`exchange/position-book.ts`), starting from the session's capital;
 * 3. read the symbol's bars up to now (only minutes that ENDED by now: never a bar after now)
 *    and rebuild the strategy deterministically from the session's first bar (the same
 *    strategy code the cohort simulator runs); targets it emitted on bars after the last
 *    tick's bar become the pending target;
 * 4. decide on the last complete bar, as the cohort simulator does (`cohort/simulate.ts`):
 *    the flatten on the bar that starts two minutes before the close; otherwise the pending
 *    target sized by THE sizing rule (`cohort/sizing.ts`) against this session's book; or a
 *    forced reduction when the position drifted above the leverage ceiling. A new decision
 *    cancels this session's open orders first. No position is opened unless the strategy's
 *    signal asks for it;
 * 5. breakers and pre-trade checks: the kill switch (cancels this session's open orders and
 *    applies its declared halt mode; unreadable, nothing is sent: fail closed; engaged since
 *    the session started and released counts as engaged, {@link killSwitchReading}), the daily
 *    loss stop (its halt mode), data staleness (no decision on a bar older than the limit),
 *    the per-order notional cap, and the kill switch read again before every submit (see
 *    {@link HaltModes}, docs/execution.md). A tick that is flat in its book with no order open,
 *    has sent none since a tick last read the switch, and whose decision sends, cancels,
 *    refuses and halts nothing does not read the switch (`idleTick`); every other tick reads it
 *    before the book;
 * 6. submit with a deterministic client_order_id (promotion, minute, leg) through the
 *    order-intent protocol (`orders/order-intent.ts`: the broker is asked by client_order_id
 *    first, `order_intent` is recorded before the broker call), so a retried tick never
 *    doubles an order (`orders/client-order-id.ts`). Orders are market orders with the
 *    market's time in force (`day` for equities, `gtc` for crypto: `exchange-model.ts`,
 *    `alpacaTimeInForce`).
 *
 * The first tick at or after the close of a crypto session cancels every order of this
 * session still open (a `gtc` order would otherwise work into the next UTC day) and records the
 * cancels; equity `day` orders are expired by the broker at the close.
 *
 * Paper PnL ({@link paperPnl}) is computed only from the broker's fills. The reference
 * simulation (`reference.ts`) runs this same tick over the same bars against the exchange
 * model in memory, so with the simulated broker the difference is $0.00.
 */

import type { BrokerOrder, BrokerPort } from '../../ports/broker.js';
import type { Clock } from '../../ports/clock.js';
import type { KillSwitchPort, KillSwitchState } from '../../ports/kill-switch.js';
import type { MarketDataPort } from '../../ports/market-data.js';
import { NYSE_TIME_ZONE } from '../calendar/market-calendar.js';
import {
  type FillCosts,
  qtyStep,
  type RegulatoryFees,
  regulatoryFeesUsd,
} from '../cohort/fill-model.js';
import type { Genome } from '../cohort/genome.js';
import { forcedReductionQty, sizeOrder } from '../cohort/sizing.js';
import { createStrategy } from '../cohort/strategies.js';
import { BrokerRejectedError, NoSessionError } from '../errors.js';
import {
  type AssetRules,
  alpacaTimeInForce,
  BELOW_FRACTIONAL_MINIMUM,
} from '../exchange/exchange-model.js';
import {
  type AccountBook,
  applyBookFill,
  DUST_QTY,
  emptyAccountBook,
} from '../exchange/position-book.js';
import { hasRegulatoryFees, regulatoryRoundingByDayUsd } from '../exchange/regulatory-fees.js';
import { sessionDataHash } from '../market/session-hash.js';
import type { MarketSession } from '../market/types.js';
import { clientOrderId } from '../orders/client-order-id.js';
import { isTerminalOrderStatus, type OrderStatus } from '../orders/order.js';
import {
  cancelOrLearn,
  type IntentTrail,
  marketOrderRequest,
  submitOnce,
} from '../orders/order-intent.js';
import { type AccountLimits, type AccountView, accountRefusal } from './account.js';
import type { SliceRollback } from './slice-rollback.js';

const MINUTE_MS = 60_000;

/** Leg name of the flatten the kill switch sends for a session when it is engaged. */
export const KILL_SWITCH_FLATTEN_LEG = 'kill-flatten';

/**
 * The client_order_id of the flatten the kill switch sends for the session of `promotionId`
 * when it is engaged (`core/use-cases/kill-switch.ts`): one per session, so engaging twice
 * never sends a second one, and the session adopts it into its own book (see {@link paperTick}).
 */
export function killSwitchFlattenOrderId(promotionId: string): string {
  return clientOrderId({ promotionId, leg: KILL_SWITCH_FLATTEN_LEG, attempt: 1 });
}

/** Why an order was sent. */
export type PaperOrderReason = 'signal' | 'risk' | 'flatten';

/** One order of the session as we track it. Quantities shares, prices USD per share. */
export interface PaperOrder {
  readonly clientOrderId: string;
  readonly symbol: string;
  readonly side: 'buy' | 'sell';
  readonly qty: number;
  readonly reason: PaperOrderReason;
  /** Start of the minute on whose bar the order was decided, epoch ms UTC. */
  readonly decidedAtMs: number;
  /** When it was sent, epoch ms UTC. */
  readonly submittedAtMs: number;
  readonly status: OrderStatus;
  readonly filledQty: number;
  /** Volume-weighted average fill price as the broker reports it; null before a fill. */
  readonly avgPriceUsd: number | null;
  /** Fees the broker reports, USD. */
  readonly feesUsd: number;
  /**
   * The regulatory part of `feesUsd` by fee type as the broker reports it (USD, accrued per
   * fill, unrounded); absent when the broker reports none (`BrokerOrder.regulatoryFeesUsd`).
   */
  readonly regulatoryFeesUsd?: RegulatoryFees;
  /** Broker's last update time, UTC ISO-8601 ('' before any). */
  readonly updatedAtIso: string;
  readonly rejectReason?: string;
}

/** Sizing and risk settings of one session (from the promotion's cohort config and limits). */
export interface PaperSessionLimits {
  readonly leverageCap: number;
  /** Aggregate ceiling as a fraction of the session capital. */
  readonly maxAggregateExposure: number;
  readonly costs: FillCosts;
  readonly fractionalShares: boolean;
  /** Largest notional of one order, USD. */
  readonly maxOrderNotionalUsd: number;
  /** Daily loss stop as a fraction of the capital, (0, 1]. */
  readonly dailyLossStopFraction: number;
  /** No decision on a bar that ended more than this before now, seconds. */
  readonly maxBarAgeSeconds: number;
  /** What each breaker does mid-session. @default {@link DEFAULT_HALT_MODES} */
  readonly haltModes?: HaltModes;
  /**
   * Limits of the whole broker account across every session on it (`account.ts`), checked
   * before every opening order when the tick has an account view ({@link PaperTickDeps.account}).
   */
  readonly account?: AccountLimits;
  /**
   * A micro-live slice's rollback thresholds and variance yardstick: the session then runs
   * the slice's rollback monitor every tick on its equity at the broker (`slice-rollback.ts`,
   * applied by the workflow's tick, `use-cases/paper-session.ts`). Absent: not a slice.
   */
  readonly rollback?: SliceRollback;
}

/**
 * A breaker's declared effect mid-session (docs/execution.md, "Halt modes"):
 * - `pause-entries`: while the condition holds, no order that opens or grows the position;
 *   orders toward flat (signals, the close flatten) still go; lifts when the condition clears;
 * - `reduce-only`: for the rest of the session, only orders toward flat;
 * - `flatten`: the position is closed now and the session sends nothing more.
 * Halts only escalate (pause-entries < reduce-only < flatten).
 */
export interface HaltModes {
  /** The kill switch (it also cancels this session's open orders, except its flatten). */
  readonly killSwitch: HaltMode;
  /** Equity below the capital × (1 − dailyLossStopFraction). */
  readonly dailyLossStop: HaltMode;
  /**
   * The sum of the sessions' books disagrees with the broker's position in this session's
   * symbol (quantity or average price; applied by the workflow's tick, `use-cases/paper-session.ts`).
   * @default 'reduce-only'
   */
  readonly reconciliation?: HaltMode;
  /**
   * A micro-live slice's rollback monitor decided to roll it back (drawdown or variance of its
   * equity at the broker, or the broker unreadable: `slice-rollback.ts`).
   * @default 'flatten'
   */
  readonly rollback?: HaltMode;
}

/** Kill switch: flatten (a halted strategy holds nothing); daily loss stop: flatten. */
export const DEFAULT_HALT_MODES: HaltModes = { killSwitch: 'flatten', dailyLossStop: 'flatten' };

function haltModesOf(limits: PaperSessionLimits): HaltModes {
  return limits.haltModes ?? DEFAULT_HALT_MODES;
}

/** A breaker's declared effect mid-session (see {@link HaltModes}). */
export type HaltMode = 'pause-entries' | 'reduce-only' | 'flatten';

/** The session's state, carried by the workflow from tick to tick (plain JSON). */
export interface PaperSessionState {
  readonly promotionId: string;
  readonly genome: Genome;
  readonly symbol: string;
  readonly market: MarketSession['market'];
  /** Session date, `YYYY-MM-DD`. */
  readonly date: string;
  readonly capitalUsd: number;
  /** First bar whose decision may trade: bars ending at or after this, epoch ms UTC. */
  readonly windowOpenMs: number;
  /** Session close (calendar), epoch ms UTC. */
  readonly closeMs: number;
  readonly limits: PaperSessionLimits;
  /** When the session started (its first tick), epoch ms UTC. */
  readonly startedAtMs: number;
  /** The broker account's cash when the session started, USD (buying power of the reference). */
  readonly accountCashUsd: number;
  /**
   * The broker account's day-trade count (five business days, Alpaca's `daytrade_count`) when
   * the session started: the reference starts from it (`reference.ts`). Null: the broker
   * reported none; absent in a state started before it was recorded (read as null).
   */
  readonly accountDayTradeCount?: number | null;
  readonly pendingTarget: number | null;
  /** Start of the last bar decided on, epoch ms UTC (null before the first tick). */
  readonly lastBarMs: number | null;
  /**
   * When a tick last read the kill switch before deciding (the tick's time, epoch ms UTC); null
   * or absent: never (a state from before it was recorded reads as never). An order sent at or
   * after it makes the next deciding tick read the switch again ({@link sentSinceKillSwitchRead}).
   */
  readonly killSwitchReadAtMs?: number | null;
  readonly flattenDecided: boolean;
  /** Set when a breaker halted the session: what it did and why. */
  readonly halt: { readonly mode: HaltMode; readonly reason: string } | null;
  readonly orders: readonly PaperOrder[];
  readonly ticks: number;
  readonly done: boolean;
  /**
   * A micro-live slice's monitor (when `limits.rollback` is set): its equity at the broker,
   * USD, one point a tick after the capital, and when it was rolled back (UTC ISO-8601).
   */
  readonly slice?: {
    readonly equityCurveUsd: readonly number[];
    readonly rolledBackAtIso: string | null;
  };
}

/** What a tick decided (one audit record). */
export interface TickDecision {
  readonly atIso: string;
  /** Start of the bar decided on, UTC ISO-8601; null when there was no new bar. */
  readonly barIso: string | null;
  readonly action: 'none' | 'orders' | 'wait' | 'halted' | 'skipped';
  readonly reason: string;
  readonly orders: readonly string[];
  /**
   * Orders whose cancel the broker accepted this tick (by a breaker, a new decision, the
   * close). One the broker shows filled (or expired, rejected) when the tick cancels it is
   * not here: its fills are booked like any other (`order_status_changed` records them).
   */
  readonly canceled: readonly string[];
  /** Orders refused before the broker call (pre-trade checks), with the reason. */
  readonly refused: readonly { readonly clientOrderId: string; readonly reason: string }[];
}

/** Ports a tick uses. */
export interface PaperTickDeps {
  readonly broker: BrokerPort;
  readonly marketData: MarketDataPort;
  readonly clock: Clock;
  readonly killSwitch: KillSwitchPort;
  /**
   * Where each order's `order_intent` (before the broker call) and `order_submitted` (after)
   * are appended ({@link submitOnce}); the broker is asked by client_order_id first, so a
   * retried tick never sends an order twice. Absent in the reference simulation (in memory).
   */
  readonly intentTrail?: IntentTrail;
  /**
   * The broker account as the sum of its sessions, read before an opening order when the
   * session has account limits (`limits.account`). The reference simulation passes its own
   * in-memory account (`reference.ts`).
   */
  readonly account?: () => Promise<AccountView>;
}

/** Start of `state`: nothing booked, nothing decided. */
export function newPaperSession(
  init: Pick<
    PaperSessionState,
    | 'promotionId'
    | 'genome'
    | 'market'
    | 'date'
    | 'capitalUsd'
    | 'windowOpenMs'
    | 'closeMs'
    | 'limits'
    | 'startedAtMs'
    | 'accountCashUsd'
  > &
    Partial<Pick<PaperSessionState, 'accountDayTradeCount'>>,
): PaperSessionState {
  return {
    ...init,
    symbol: init.genome.symbol,
    pendingTarget: null,
    lastBarMs: null,
    flattenDecided: false,
    halt: null,
    orders: [],
    ticks: 0,
    done: false,
  };
}

/** This session's book: its capital and every fill the broker reported for its orders. */
export function sessionBook(state: Pick<PaperSessionState, 'capitalUsd' | 'orders'>): AccountBook {
  let book = emptyAccountBook(state.capitalUsd);
  for (const o of state.orders) {
    if (!(o.filledQty > 0) || o.avgPriceUsd === null) continue;
    book = applyBookFill(book, {
      symbol: o.symbol,
      side: o.side,
      qty: o.filledQty,
      priceUsd: o.avgPriceUsd,
      feeUsd: o.feesUsd,
    });
  }
  return book;
}

/**
 * Paper PnL from the broker's fills: cash + position at `markUsd` − capital − the day's
 * regulatory-fee rounding, USD. The rounding is what the account pays at the end of the day
 * beyond the regulatory fees its fills accrued (each fee type's day total rounded up to the
 * cent, `exchange/regulatory-fees.ts`), over the fees the broker reported by type for this
 * session's orders, as if the session were its account's only trader that day: where sessions
 * share an account-day, each rounds its own orders, an upper bound of its share (cautious),
 * not an allocation of the account's charge (docs/execution.md).
 */
export function paperPnl(state: PaperSessionState, markUsd: number): number {
  const book = sessionBook(state);
  const q = book.positions[state.symbol]?.qty ?? 0;
  return sessionCashUsd(state, book) + (q === 0 ? 0 : q * markUsd) - state.capitalUsd;
}

/**
 * This session's cash as its account is charged, USD: {@link sessionBook}'s cash less the
 * day's regulatory-fee rounding of the fees the broker reported for its orders by type
 * (`regulatoryRoundingByDayUsd`), as if the day ended now. Never above what the account keeps:
 * each fee type's day total only grows, so the day's charge beyond the fees accrued so far is
 * at least this rounding. What the risk checks read (the daily loss stop, the micro-live
 * slice's rollback monitor) and what {@link paperPnl} counts.
 */
export function sessionCashUsd(
  state: Pick<PaperSessionState, 'capitalUsd' | 'orders' | 'date'>,
  book: AccountBook = sessionBook(state),
): number {
  const rounding = regulatoryRoundingByDayUsd(
    state.orders.map((o) => ({ date: state.date, regulatoryFeesUsd: o.regulatoryFeesUsd })),
  );
  return book.cashUsd - rounding;
}

/** Seconds from `nowMs` to one second after the next minute boundary (the next tick). */
export function secondsToNextTick(nowMs: number): number {
  const next = (Math.floor(nowMs / MINUTE_MS) + 1) * MINUTE_MS + 1_000;
  return Math.max(1, Math.round((next - nowMs) / 1_000));
}

/**
 * `HH:mm` (24 h) in `timeZone`, one formatter per zone for the process: building an
 * `Intl.DateTimeFormat` costs about a millisecond, once per tick before (a third of a local
 * tick's JavaScript time in the CPU profile of `npm start`).
 */
const hourMinuteFormats = new Map<string, Intl.DateTimeFormat>();
function hourMinuteFormat(timeZone: string): Intl.DateTimeFormat {
  let fmt = hourMinuteFormats.get(timeZone);
  if (!fmt) {
    fmt = new Intl.DateTimeFormat('en-GB', {
      timeZone,
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    hourMinuteFormats.set(timeZone, fmt);
  }
  return fmt;
}

function minuteLeg(ms: number, market: MarketSession['market'], k: number): string {
  const parts = hourMinuteFormat(market === 'crypto' ? 'UTC' : NYSE_TIME_ZONE).formatToParts(ms);
  const hh = parts.find((p) => p.type === 'hour')?.value ?? '00';
  const mm = parts.find((p) => p.type === 'minute')?.value ?? '00';
  return `m${hh}${mm}-${k}`;
}

/**
 * The kill switch as a session reads it: `off`; `engaged` now; `released`, but last engaged
 * since the session's start (the session halts for the day as if it had seen it on);
 * `unreadable` (fail closed).
 */
export type KillSwitchReading =
  | { readonly kind: 'off' }
  | { readonly kind: 'engaged' | 'released' | 'unreadable'; readonly reason: string };

/**
 * What the stored switch `state` means at `nowMs` to a session that started at `sinceMs` (epoch
 * ms UTC): engaged now; or released, its last time on ([`lastEngagedAtIso`, its release
 * `changedAtIso`]) overlapping the session so far ([`sinceMs`, `nowMs`]: engaged at or before
 * now and released at or after the start, an engage just before the start included) (reason
 * `kill switch engaged at <iso> (released at <iso>)`); else off (null: never set). An engage
 * after `nowMs` is another day's: only a clock that went back sees one (a local replay of past
 * sessions after a `kill on` / `kill off` today).
 */
export function killSwitchReading(
  state: KillSwitchState | null,
  sinceMs: number,
  nowMs: number,
): KillSwitchReading {
  if (state?.engaged) return { kind: 'engaged', reason: `kill switch engaged: ${state.reason}` };
  const at = Date.parse(state?.lastEngagedAtIso ?? '');
  const releasedAt = Date.parse(state?.changedAtIso ?? '');
  if (!state || !(at <= nowMs && releasedAt >= sinceMs)) return { kind: 'off' };
  const reason = `kill switch engaged at ${state.lastEngagedAtIso} (released at ${state.changedAtIso})`;
  return { kind: 'released', reason };
}

/**
 * Reads the switch for the tick's session ({@link killSwitchReading}); an error: unreadable.
 * Under the halt mode `pause-entries` (entries paused only while the switch is on) a released
 * switch is off.
 */
async function readKillSwitch(run: TickRun, mode: HaltMode): Promise<KillSwitchReading> {
  try {
    const stored = await run.deps.killSwitch.read();
    const ks = killSwitchReading(stored, run.state.startedAtMs, run.nowMs);
    return ks.kind === 'released' && mode === 'pause-entries' ? { kind: 'off' } : ks;
  } catch (err) {
    return {
      kind: 'unreadable',
      reason: `kill switch unreadable (fail closed): ${(err as Error).message}`,
    };
  }
}

/** Reads every open order back from the broker. */
async function track(
  deps: Pick<PaperTickDeps, 'broker'>,
  orders: readonly PaperOrder[],
  costs: FillCosts,
): Promise<PaperOrder[]> {
  const out: PaperOrder[] = [];
  for (const o of orders) {
    if (isTerminalOrderStatus(o.status)) {
      out.push(o);
      continue;
    }
    const b = await deps.broker.getOrderByClientOrderId(o.clientOrderId);
    out.push(
      b
        ? {
            ...o,
            ...reportedByBroker(b, costs),
          }
        : o,
    );
  }
  return out;
}

/** One symbol's complete bars up to `nowMs` (minutes that ended by now), or null. */
async function barsUpToNow(
  deps: PaperTickDeps,
  state: PaperSessionState,
  nowMs: number,
): Promise<{ session: MarketSession; count: number } | null> {
  let session: MarketSession;
  try {
    session = await deps.marketData.loadSessionUpTo(state.date, [state.symbol], nowMs);
  } catch (err) {
    if (err instanceof NoSessionError) return null;
    throw err;
  }
  const ts = session.timestamps;
  // The port already returns only minutes that ended by now; counted again so an adapter that
  // returned a later bar could never be traded on.
  let count = 0;
  while (count < ts.length && (ts[count] as number) + MINUTE_MS <= nowMs) count++;
  return { session, count };
}

interface Minute {
  readonly t: number;
  readonly mark: number;
  readonly bid: number;
  readonly ask: number;
  /** The bar's traded volume, shares (the sizing's market-impact estimate). */
  readonly volume: number;
}

/** Steps the strategy over bars [0, count) and returns the pending target and the last bar. */
function replayStrategy(
  state: PaperSessionState,
  session: MarketSession,
  count: number,
): { pending: number | null; last: Minute | null } {
  const series = session.series[0];
  if (!series || count === 0) return { pending: state.pendingTarget, last: null };
  const strategy = createStrategy(state.genome);
  strategy.reset(sessionOpenOf(session));
  let pending = state.pendingTarget;
  let mark = Number.NaN;
  for (let i = 0; i < count; i++) {
    const t = session.timestamps[i] as number;
    const c = series.close[i] as number;
    const b = series.bid[i] as number;
    const a = series.ask[i] as number;
    if (b > 0 && a > 0) mark = 0.5 * (a + b);
    else if (c > 0) mark = c;
    if (Number.isNaN(c)) continue;
    const target = strategy.step(
      t,
      c,
      series.high[i] as number,
      series.low[i] as number,
      series.volume[i] as number,
    );
    if (!Number.isNaN(target) && (state.lastBarMs === null || t > state.lastBarMs)) {
      pending = target;
    }
  }
  const i = count - 1;
  return {
    pending,
    last: {
      t: session.timestamps[i] as number,
      mark,
      bid: series.bid[i] as number,
      ask: series.ask[i] as number,
      volume: series.volume[i] as number,
    },
  };
}

/** Session open as the cohort simulator resets strategies (09:30 New York, 00:00 UTC crypto). */
function sessionOpenOf(session: MarketSession): number {
  const first = session.timestamps[0] as number;
  if (session.market === 'crypto') return Date.parse(`${session.date}T00:00:00Z`);
  const d = new Date(first);
  // 09:30 New York is the regular open; the first bar is at or after it.
  const ny = hourMinuteFormat(NYSE_TIME_ZONE).format(d);
  const [hh, mm] = ny.split(':').map(Number) as [number, number];
  return first - ((hh - 9) * 60 + (mm - 30)) * MINUTE_MS;
}

/** One leg to send: signed shares and why. */
interface Leg {
  readonly qty: number;
  readonly reason: PaperOrderReason;
}

/** Splits a signed order that crosses flat into close + open legs (Alpaca refuses a fractional short). */
function legsOf(position: number, signedQty: number, reason: PaperOrderReason): Leg[] {
  if (
    position !== 0 &&
    position > 0 !== signedQty > 0 &&
    Math.abs(signedQty) > Math.abs(position) + DUST_QTY
  ) {
    return [
      { qty: -position, reason },
      { qty: signedQty + position, reason },
    ];
  }
  return [{ qty: signedQty, reason }];
}

/** What {@link paperTick} returns. */
export interface PaperTickResult {
  readonly state: PaperSessionState;
  readonly decision: TickDecision;
  readonly waitSeconds: number;
  /** Mark of the last complete bar, USD per share (null before one). */
  readonly markUsd: number | null;
  /**
   * Hex SHA-256 of the bars the tick replayed the strategy on (`sessionDataHash` of the
   * complete minutes up to now), for the decision's audit provenance; null when the tick read
   * no bars (session closed, no bar yet).
   */
  readonly barsHash: string | null;
}

/** One tick's working state: the session state as it changes, and what its decision reports. */
interface TickRun {
  readonly deps: PaperTickDeps;
  readonly nowMs: number;
  state: PaperSessionState;
  markUsd: number | null;
  barsHash: string | null;
  readonly refused: { clientOrderId: string; reason: string }[];
  /** Orders whose cancel the broker accepted this tick ({@link TickDecision.canceled}). */
  canceled: string[];
  /** Why entries are paused this tick (a `pause-entries` breaker fired), or null. */
  entriesPaused: string | null;
  /** The session halted this tick (a breaker escalated, or the submit-time switch stopped it). */
  haltedNow: boolean;
  /** What the tick did with a flatten that would move its flat book off flat, or null. */
  overshoot: string | null;
}

/** The tick's result with its decision (`orders` sent and `canceled` default to none). */
function tickResult(
  run: TickRun,
  action: TickDecision['action'],
  reason: string,
  barMs: number | null,
  orders: string[] = [],
  canceled: string[] = [],
): PaperTickResult {
  return {
    state: run.state,
    decision: {
      atIso: new Date(run.nowMs).toISOString(),
      barIso: barMs === null ? null : new Date(barMs).toISOString(),
      action,
      reason,
      orders,
      canceled,
      refused: run.refused,
    },
    waitSeconds: secondsToNextTick(run.nowMs),
    markUsd: run.markUsd,
    barsHash: run.barsHash,
  };
}

/**
 * Reads the complete bars up to now and replays the strategy over them: the newest bar when
 * it is new, inside the promotion window and fresh (bar age within `limits.maxBarAgeSeconds`);
 * otherwise the tick's `wait`/`skipped` result.
 */
async function newBarOf(run: TickRun): Promise<{ last: Minute } | { result: PaperTickResult }> {
  const { deps, nowMs } = run;
  const bars = await barsUpToNow(deps, run.state, nowMs);
  if (!bars || bars.count === 0) {
    return { result: tickResult(run, 'wait', 'no complete bar yet', null) };
  }
  run.barsHash = sessionDataHash(bars.session, bars.count);
  const { pending, last } = replayStrategy(run.state, bars.session, bars.count);
  if (!last || (run.state.lastBarMs !== null && last.t <= run.state.lastBarMs)) {
    return { result: tickResult(run, 'wait', 'no new bar', null) };
  }
  run.state = { ...run.state, pendingTarget: pending, lastBarMs: last.t };
  run.markUsd = Number.isFinite(last.mark) ? last.mark : null;
  if (last.t + MINUTE_MS < run.state.windowOpenMs) {
    const reason = 'before the promotion window (strategy warming up)';
    return { result: tickResult(run, 'wait', reason, last.t) };
  }
  if (nowMs - (last.t + MINUTE_MS) > run.state.limits.maxBarAgeSeconds * 1_000) {
    const reason = 'stale data: the last bar is older than the limit';
    return { result: tickResult(run, 'skipped', reason, last.t) };
  }
  return { last };
}

/**
 * A breaker that fired: `pause-entries` pauses this tick's entries (the first reason is kept);
 * a mode stronger than the session's current halt becomes its halt (sticky).
 */
function applyBreaker(run: TickRun, mode: HaltMode, reason: string): void {
  if (mode === 'pause-entries') run.entriesPaused ??= reason;
  else if (escalates(run.state.halt, mode)) {
    run.state = { ...run.state, halt: { mode, reason } };
    run.haltedNow = true;
  }
}

/**
 * The kill switch, read before the book (a cancel can change what fills): engaged, its
 * flatten order is adopted, this session's other open orders are canceled and its declared
 * halt mode applies; unreadable, the open orders are canceled and the tick halts sending
 * nothing (fail closed). A cancel the broker refuses never aborts the halt: the order stays
 * open in the session (the next tick cancels it again) and the failure is in the halt's reason.
 * @returns the halted result when the switch is unreadable, else null.
 */
async function applyKillSwitch(
  run: TickRun,
  open: readonly PaperOrder[],
  last: Minute,
  mode: HaltMode,
): Promise<PaperTickResult | null> {
  const { deps } = run;
  const ks = await readKillSwitch(run, mode);
  if (ks.kind !== 'unreadable') run.state = { ...run.state, killSwitchReadAtMs: run.nowMs };
  if (ks.kind === 'engaged' || ks.kind === 'released')
    run.state = await adoptKillSwitchFlatten(deps, run.state, run.nowMs);
  if (ks.kind === 'off') return null;
  const failed: string[] = [];
  const cancels = await cancelOpen(
    deps,
    open.filter((o) => o.reason !== 'flatten'),
    failed,
  );
  run.canceled = cancels.canceled;
  const reason = failed.length
    ? `${ks.reason}; cancel failed, retried next tick: ${failed.join('; ')}`
    : ks.reason;
  if (cancels.canceled.length + cancels.ended.length > 0) {
    run.state = {
      ...run.state,
      orders: await track(deps, run.state.orders, run.state.limits.costs),
    };
  }
  if (ks.kind === 'unreadable') {
    return tickResult(run, 'halted', reason, last.t, [], run.canceled);
  }
  applyBreaker(run, mode, reason);
  return null;
}

/** The daily loss stop: equity, USD, below capital × (1 − `limits.dailyLossStopFraction`). */
function applyLossStop(run: TickRun, equityUsd: number, mode: HaltMode): void {
  const floorUsd = run.state.capitalUsd * (1 - run.state.limits.dailyLossStopFraction);
  if (equityUsd < floorUsd) {
    const reason = `daily loss stop: equity ${equityUsd.toFixed(2)} USD below ${floorUsd.toFixed(2)} USD`;
    applyBreaker(run, mode, reason);
  }
}

/**
 * What this bar asks for, `q` shares held: a flatten (the close is 2 minutes away, or a
 * flatten halt; decided once per session, again when the book and its working flattens do
 * not come to flat, {@link flattenLegs}), the pending signal's target sized to the limits
 * (`sizeOrder`), or a forced reduction when leverage exceeds the cap and nothing is working
 * (`forcedReductionQty`); `why` names it (`hold` when nothing).
 * @returns the legs, or the tick's result when the session is already flattened or no quote
 *   can size the order.
 */
function decideLegs(
  run: TickRun,
  book: AccountBook,
  q: number,
  last: Minute,
): { legs: Leg[]; why: string } | { result: PaperTickResult } {
  if (flattening(run, last)) {
    const undecided = !run.state.flattenDecided || run.overshoot !== null;
    if (undecided || Math.abs(q + workingFlattenQty(run.state.orders)) > DUST_QTY) {
      return flattenLegs(run, q, last);
    }
  }
  if (run.state.flattenDecided) {
    return {
      result:
        run.haltedNow || run.canceled.length > 0
          ? tickResult(run, 'halted', run.state.halt?.reason ?? 'halted', last.t, [], run.canceled)
          : tickResult(run, 'none', 'flattened for the session', last.t),
    };
  }
  const { limits, capitalUsd } = run.state;
  const step = qtyStep(limits.fractionalShares);
  const market = {
    cashUsd: book.cashUsd,
    markUsd: last.mark,
    bidUsd: last.bid,
    askUsd: last.ask,
    volumeShares: last.volume,
  };
  const target = run.state.pendingTarget;
  if (target !== null) {
    const sized = sizeOrder({
      target,
      qty: q,
      ...market,
      leverageCap: limits.leverageCap,
      aggregateHeadroomUsd: limits.maxAggregateExposure * capitalUsd - Math.abs(q) * last.mark,
      costs: limits.costs,
      step,
      asset: { market: run.state.market, fractionable: true } satisfies AssetRules,
    });
    if (sized === null)
      return { result: tickResult(run, 'wait', 'no quote to size the order', last.t) };
    run.state = { ...run.state, pendingTarget: null };
    // Recorded in the tick's decision: the buy Alpaca would refuse was not sent.
    const unsent = sized.belowMinimum ? `; opening buy not sent: ${BELOW_FRACTIONAL_MINIMUM}` : '';
    return {
      legs: sized.qty !== 0 ? legsOf(q, sized.qty, 'signal') : [],
      why: `signal: target ${target}${unsent}`,
    };
  }
  const stillOpen = run.state.orders.some((o) => !isTerminalOrderStatus(o.status));
  if (q !== 0 && !stillOpen) {
    const x = forcedReductionQty({
      qty: q,
      ...market,
      leverageCap: limits.leverageCap,
      costs: limits.costs,
      step,
    });
    if (x !== 0) {
      return {
        legs: [{ qty: x, reason: 'risk' }],
        why: 'leverage ceiling exceeded: forced reduction',
      };
    }
  }
  return { legs: [], why: 'hold' };
}

/** The bar asks for the session's flatten: the close is 2 minutes away, or a `flatten` halt. */
function flattening(run: TickRun, last: Minute): boolean {
  return last.t >= run.state.closeMs - 2 * MINUTE_MS || run.state.halt?.mode === 'flatten';
}

/**
 * The session's flatten of its `q` shares, with its flatten orders still working (the kill
 * switch's, adopted, included; {@link workingFlattenQty}): nothing when they close the
 * position; −q when the book holds a position they do not close (`sendLegs` cancels them
 * first); nothing while one that would move a flat book off flat still works (its cancel
 * failed, {@link cancelOvershootingFlatten}). The decision is final (`flattenDecided`) unless
 * such a flatten works: the next tick cancels it again, or flattens what it filled. A later
 * tick decides again when the book and the working flattens do not come to flat (a kill
 * switch's flatten that filled after the session's own).
 */
function flattenLegs(run: TickRun, q: number, last: Minute): { legs: Leg[]; why: string } {
  const rest = q + workingFlattenQty(run.state.orders);
  const overshoots = Math.abs(q) <= DUST_QTY && Math.abs(rest) > DUST_QTY;
  run.state = { ...run.state, flattenDecided: !overshoots, pendingTarget: null };
  const legs: Leg[] =
    !overshoots && Math.abs(rest) > DUST_QTY ? [{ qty: -q, reason: 'flatten' }] : [];
  const closing = last.t >= run.state.closeMs - 2 * MINUTE_MS;
  const why = closing ? 'close: flatten' : `${run.state.halt?.reason}: flatten`;
  return { legs, why: run.overshoot ? `${why}; ${run.overshoot}` : why };
}

/**
 * A flatten the session tracks that would move its flat book (within {@link DUST_QTY}) off
 * flat while the bar asks for the session's flatten ({@link flattening}): the kill switch's,
 * sized by the engage from the session-book registry (written at a tick's end) while the
 * session's own order was closing the position. Canceled ({@link cancelOvershootingFlattens});
 * a fill before the cancel is in the book the decision sees, which flattens it; a cancel still
 * failing leaves the flatten working and the decision open.
 * Sets `run.overshoot` to what happened (the tick's decision reason says it).
 */
async function cancelOvershootingFlatten(run: TickRun, last: Minute): Promise<void> {
  const q = positionQty(run.state);
  if (!flattening(run, last) || Math.abs(q) > DUST_QTY) return;
  const guard = await cancelOvershootingFlattens(run.deps, run.state);
  if (!guard) return;
  run.state = guard.state;
  run.canceled = [...run.canceled, ...guard.canceled];
  const what = guard.failed.length
    ? `cancel failed, retried next tick: ${guard.failed.join('; ')}`
    : Math.abs(positionQty(guard.state)) > DUST_QTY
      ? 'filled before its cancel, flattened'
      : 'canceled';
  run.overshoot = `${OVERSHOOT_REASON}: ${what}`;
}

/** The start of the reason of a decision that cancels a flatten that overshoots. */
const OVERSHOOT_REASON = 'kill switch flatten would overshoot a flat book';

/** Signed shares of the session's position in its own book (its symbol). */
function positionQty(state: Pick<PaperSessionState, 'capitalUsd' | 'orders' | 'symbol'>): number {
  return sessionBook(state).positions[state.symbol]?.qty ?? 0;
}

/**
 * True when flatten orders still working for `wq` signed shares move a book of `q` shares off
 * flat, past it, or away from it (more than {@link DUST_QTY}), rather than toward flat.
 */
function flattenOvershoots(q: number, wq: number): boolean {
  if (Math.abs(wq) <= DUST_QTY || Math.abs(q + wq) <= DUST_QTY) return false;
  return !(q * wq < 0 && Math.abs(wq) <= Math.abs(q) + DUST_QTY);
}

/**
 * The session's working flatten orders canceled when they overshoot its book
 * ({@link flattenOvershoots}; the kill switch's flatten, adopted, sized from the stale
 * session-book registry): each cancel through `cancelOrLearn` (a refused cancel of an order
 * the broker shows terminal is that answer), a cancel still failing listed in `failed`
 * (`<id>: <error>`), then the session's orders read back (what filled first is in its book).
 * `only` narrows the orders canceled (all working flattens still size the overshoot): the
 * deciding tick ({@link paperTick}) cancels every one; after the close
 * ({@link settleOvershoot}) only the kill switch's.
 * @returns null when nothing overshoots or nothing is left to cancel (nothing done), else the
 *   state read back and the client_order_ids the broker accepted to cancel.
 * @throws the broker's errors reading the orders back.
 */
async function cancelOvershootingFlattens(
  deps: Pick<PaperTickDeps, 'broker'>,
  state: PaperSessionState,
  only: (o: PaperOrder) => boolean = () => true,
): Promise<{ state: PaperSessionState; canceled: string[]; failed: string[] } | null> {
  const working = state.orders.filter(
    (o) => o.reason === 'flatten' && !isTerminalOrderStatus(o.status),
  );
  if (!flattenOvershoots(positionQty(state), workingFlattenQty(working))) return null;
  const targets = working.filter(only);
  if (targets.length === 0) return null;
  const failed: string[] = [];
  const { canceled } = await cancelOpen(deps, targets, failed);
  const orders = await track(deps, state.orders, state.limits.costs);
  return { state: { ...state, orders }, canceled, failed };
}

/**
 * After the session's close (its ticks after the close, {@link closeSession}, and the settle
 * step, {@link settleSessionOrders}): when the session's working flattens, the kill switch's
 * adopted one included, overshoot the book ({@link flattenOvershoots}), the kill switch's
 * flatten, and only it, is canceled ({@link cancelOvershootingFlattens}): it is the one sized
 * from the stale registry; the session's own close flatten, sized on its book, is left to the
 * broker (it is what brings the session to flat). No order is sent (fail closed: a `day` order
 * after the close would wait for the next session's open, and the session's checks end at its
 * close). The cancel's outcome is the decision's note; a cancel still failing is recorded in
 * the halt ({@link recordAfterClose}).
 * @returns the state, the cancels the broker accepted, the note (null: nothing canceled) and
 *   the failed cancels (`<id>: <error>`).
 */
async function settleOvershoot(
  deps: Pick<PaperTickDeps, 'broker'>,
  input: PaperSessionState,
): Promise<{
  state: PaperSessionState;
  canceled: string[];
  note: string | null;
  failed: string[];
}> {
  const killId = killSwitchFlattenOrderId(input.promotionId);
  const guard = await cancelOvershootingFlattens(deps, input, (o) => o.clientOrderId === killId);
  if (!guard) return { state: input, canceled: [], note: null, failed: [] };
  const what = guard.failed.length ? `cancel failed: ${guard.failed.join('; ')}` : 'canceled';
  const note = `${OVERSHOOT_REASON}: ${what}`;
  return { state: guard.state, canceled: guard.canceled, note, failed: guard.failed };
}

/** A note of the session's halt after the close: `key`, stable across ticks, de-duplicates it. */
interface AfterCloseNote {
  readonly key: string;
  readonly text: string;
}

/**
 * The halt the session records after the close (its ticks after the close and its settle step),
 * never hidden: whenever the kill switch's flatten is in the session's book and the book is not
 * flat (more than {@link DUST_QTY}), the shares left at the close (signed, the session's symbol)
 * and how ({@link leftAtClose}); a cancel of the kill switch's flatten still failing. The halt is
 * `flatten` (a stricter halt's reason extended). Each note is added once: keyed by the kill
 * switch's flatten's client_order_id and the kind of note (the shares for a position left), not
 * by its text (a broker's error differs from one attempt to the next), so the reason does not
 * grow tick after tick (a position that changes, as an order still working fills, adds its
 * own note). Returns the state and the notes added now (the decision's reason names them). The workflow logs a new halt (`paper session halted`, the
 * `KillSwitchHalts` alarm, docs/runbook.md).
 */
function recordAfterClose(
  state: PaperSessionState,
  failed: readonly string[],
): { state: PaperSessionState; added: string[] } {
  const killId = killSwitchFlattenOrderId(state.promotionId);
  const notes: AfterCloseNote[] = [];
  if (failed.length > 0) {
    const key = `${OVERSHOOT_REASON}: cancel failed: ${killId}`;
    notes.push({ key, text: `${OVERSHOOT_REASON}: cancel failed: ${failed.join('; ')}` });
  }
  const left = leftAtClose(state);
  if (left) notes.push(left);
  let next = state;
  const added: string[] = [];
  for (const { key, text } of notes) {
    const halt = next.halt;
    if (halt?.reason.includes(key)) continue;
    const reason = halt && !escalates(halt, 'flatten') ? `${halt.reason}; ${text}` : text;
    next = { ...next, halt: { mode: 'flatten', reason } };
    added.push(text);
  }
  return { state: next, added };
}

/**
 * The position the session holds after the close while the kill switch's flatten is in its
 * book: `<q> shares left at the close, not flattened (no order is sent after the close)`, led
 * by how (the kill flatten filled past flat before its cancel, or its status and fills), and
 * the session's flatten orders still working at the broker (which may yet move it); keyed by
 * `q` (a session has one kill flatten, {@link killSwitchFlattenOrderId}). Null when the kill flatten is not in the book or
 * the book is flat (within {@link DUST_QTY}).
 */
function leftAtClose(state: PaperSessionState): AfterCloseNote | null {
  const killId = killSwitchFlattenOrderId(state.promotionId);
  const kill = state.orders.find((o) => o.clientOrderId === killId);
  const q = positionQty(state);
  if (!kill || Math.abs(q) <= DUST_QTY) return null;
  const shares = Number(q.toFixed(9));
  const pastFlat = kill.filledQty > 0 && (kill.side === 'sell') === q < 0;
  const filled = kill.filledQty > 0 ? ` (${Number(kill.filledQty.toFixed(9))} filled)` : '';
  const how = pastFlat
    ? `${OVERSHOOT_REASON}: filled before its cancel`
    : `kill switch flatten ${kill.status}${filled}`;
  const working = state.orders
    .filter((o) => o.reason === 'flatten' && !isTerminalOrderStatus(o.status))
    .map((o) => `${o.clientOrderId} (${o.side} ${Number((o.qty - o.filledQty).toFixed(9))})`);
  const still = working.length ? `, still working at the broker: ${working.join(', ')}` : '';
  return {
    key: `, ${shares} shares left at the close`,
    text: `${how}, ${shares} shares left at the close, not flattened (no order is sent after the close)${still}`,
  };
}

/**
 * Reduce-only (sticky) and paused entries keep only the legs that bring the position toward
 * flat. A tick left with nothing to send ends here (`skipped`, `none` or `halted`).
 */
function restrictLegs(
  run: TickRun,
  q: number,
  decided: { legs: Leg[]; why: string },
  last: Minute,
): { legs: Leg[]; why: string } | { result: PaperTickResult } {
  let { legs, why } = decided;
  const halt = run.state.halt;
  const restriction =
    halt?.mode === 'reduce-only' ? `reduce-only (${halt.reason})` : run.entriesPaused;
  if (restriction) {
    const kept = reducingLegs(q, legs);
    if (kept.length < legs.length) {
      why = `${why}; entries refused: ${restriction}`;
      legs = kept;
      if (legs.length === 0 && !run.haltedNow) {
        return { result: tickResult(run, 'skipped', why, last.t, [], run.canceled) };
      }
    }
  }
  if (legs.length === 0 && !run.haltedNow) {
    if (why === 'hold' && run.canceled.length === 0) {
      return { result: tickResult(run, 'none', 'hold', last.t) };
    }
    if (run.canceled.length > 0) {
      return { result: tickResult(run, 'halted', restriction ?? why, last.t, [], run.canceled) };
    }
  }
  return { legs, why };
}

/**
 * The pre-trade refusal of a leg that adds exposure: the order notional cap (signal legs),
 * then the account limits (`accountRefusal`, the account read once per tick); null = pass.
 */
async function preTradeRefusal(
  run: TickRun,
  leg: Leg,
  check: { notionalUsd: number; reducingNotionalUsd: number; opensFromFlat: boolean },
  accountView: (read: () => Promise<AccountView>) => Promise<AccountView>,
): Promise<string | null> {
  const { limits, market } = run.state;
  if (leg.reason === 'signal' && check.notionalUsd > limits.maxOrderNotionalUsd) {
    return 'pre-trade: order notional cap';
  }
  const read = run.deps.account;
  if (!limits.account || !read) return null;
  return accountRefusal(limits.account, await accountView(read), { ...check, market });
}

/**
 * Sends the legs in order. A new decision first cancels this session's open orders; a leg
 * that adds exposure passes the pre-trade checks or is recorded `rejected`; the kill switch is
 * read again at every submit: unreadable, nothing more is sent (fail closed); engaged, only a
 * leg that brings the position toward flat is sent. A broker refusal is recorded `rejected`.
 * @returns the client_order_ids sent, and `why` with what stopped the sending.
 */
async function sendLegs(
  run: TickRun,
  legs: readonly Leg[],
  q: number,
  last: Minute,
  why: string,
  killSwitchMode: HaltMode,
): Promise<{ sent: string[]; why: string }> {
  const { deps, nowMs } = run;
  if (legs.length > 0) {
    const open = run.state.orders.filter((o) => !isTerminalOrderStatus(o.status));
    run.canceled = [...run.canceled, ...(await cancelOpen(deps, open)).canceled];
  }
  const sent: string[] = [];
  const orders = [...(await track(deps, run.state.orders, run.state.limits.costs))];
  const onBook = flattenOnBook(run.state, orders, legs, q);
  why = `${why}${onBook.note}`;
  let position = onBook.q;
  let reducingNotionalUsd = 0;
  let view: AccountView | null = null;
  const accountView = async (read: () => Promise<AccountView>) => {
    view ??= await read();
    return view;
  };
  for (const [k, leg] of onBook.legs.entries()) {
    const qty = Math.abs(leg.qty);
    const id = clientOrderId({
      promotionId: run.state.promotionId,
      leg: minuteLeg(last.t, run.state.market, k + 1),
      attempt: 1,
    });
    const side = leg.qty > 0 ? 'buy' : 'sell';
    const base = newOrder(run.state.symbol, id, side, qty, leg.reason, last.t, nowMs);
    const reducing = reducingLegs(position, [leg]).length === 1;
    const opensFromFlat = Math.abs(position) <= DUST_QTY;
    position += leg.qty;
    const notionalUsd = qty * Math.max(last.mark, 0);
    const refusal = reducing
      ? null
      : await preTradeRefusal(
          run,
          leg,
          { notionalUsd, reducingNotionalUsd, opensFromFlat },
          accountView,
        );
    if (refusal) {
      orders.push({ ...base, status: 'rejected', rejectReason: refusal });
      run.refused.push({ clientOrderId: id, reason: refusal });
      continue;
    }
    if (reducing) reducingNotionalUsd += notionalUsd;
    const again = await readKillSwitch(run, killSwitchMode);
    const on = again.kind === 'engaged' || again.kind === 'released';
    if (again.kind === 'unreadable' || (on && !reducing)) {
      if (on && escalates(run.state.halt, killSwitchMode))
        run.state = { ...run.state, halt: { mode: killSwitchMode, reason: again.reason } };
      why = `${why}; not sent: ${again.reason}`;
      run.haltedNow = true;
      break;
    }
    try {
      orders.push(await submitPaperOrder(deps, base, run.state.market, run.state.limits.costs));
      sent.push(id);
    } catch (err) {
      if (!(err instanceof BrokerRejectedError)) throw err;
      orders.push({ ...base, status: 'rejected', rejectReason: err.message });
    }
  }
  run.state = { ...run.state, orders };
  return { sent, why };
}

/**
 * The flatten leg (−q, sized on the book before this tick's cancels) sized again on `orders`,
 * the session's orders read back after the cancels: an order canceled here may have filled
 * first (the kill switch's flatten, or the session's own order), and −q would then open a
 * position the other way. `note` says so in the decision's reason ('' when unchanged).
 */
function flattenOnBook(
  state: PaperSessionState,
  orders: readonly PaperOrder[],
  legs: readonly Leg[],
  q: number,
): { legs: readonly Leg[]; q: number; note: string } {
  if (legs.length !== 1 || legs[0]?.reason !== 'flatten') return { legs, q, note: '' };
  const book = sessionBook({ capitalUsd: state.capitalUsd, orders });
  const now = book.positions[state.symbol]?.qty ?? 0;
  if (Math.abs(now - q) <= DUST_QTY) return { legs, q, note: '' };
  const resized: Leg[] = Math.abs(now) > DUST_QTY ? [{ qty: -now, reason: 'flatten' }] : [];
  const held = Number(now.toFixed(9));
  const note = `; flatten sized again on the book after the cancels: ${held} shares held (an order canceled this tick filled first)`;
  return { legs: resized, q: now, note };
}

/**
 * Runs one tick (see the module comment). Never throws for a broker refusal (the order is
 * recorded `rejected` with the reason); transient broker or market-data errors propagate (the
 * workflow retries the tick; deterministic client_order_ids make the retry idempotent).
 */
export async function paperTick(
  deps: PaperTickDeps,
  input: PaperSessionState,
): Promise<PaperTickResult> {
  const nowMs = deps.clock.now();
  const run: TickRun = {
    deps,
    nowMs,
    state: {
      ...input,
      orders: await track(deps, input.orders, input.limits.costs),
      ticks: input.ticks + 1,
    },
    markUsd: null,
    barsHash: null,
    refused: [],
    canceled: [],
    entriesPaused: null,
    haltedNow: false,
    overshoot: null,
  };
  const open = run.state.orders.filter((o) => !isTerminalOrderStatus(o.status));
  if (nowMs >= run.state.closeMs) return closeSession(run);
  const bar = await newBarOf(run);
  if ('result' in bar) return bar.result;
  const { last } = bar;
  const modes = haltModesOf(run.state.limits);
  const idle =
    open.length === 0 && !sentSinceKillSwitchRead(run.state) ? idleTick(run, last, modes) : null;
  if (idle) return idle;
  // Breakers first (before the book: a cancel can change what fills).
  const halted = await applyKillSwitch(run, open, last, modes.killSwitch);
  if (halted) return halted;
  await cancelOvershootingFlatten(run, last);
  const decided = decide(run, last, modes);
  if ('result' in decided) return decided.result;
  const { sent, why } = await sendLegs(
    run,
    decided.legs,
    decided.q,
    last,
    decided.why,
    modes.killSwitch,
  );
  const action = actionOf(run.haltedNow, sent.length, run.refused.length);
  const reason = run.haltedNow ? `${run.state.halt?.reason ?? 'halted'}; ${why}` : why;
  return tickResult(run, action, reason, last.t, sent, run.canceled);
}

/**
 * The tick's decision after the kill switch: the book (`q` shares held), the daily loss stop,
 * what the bar asks for ({@link decideLegs}) and the halt's restrictions ({@link restrictLegs}).
 * Changes `run`.
 * @returns the legs to send, or the tick's result when there is nothing to send.
 */
function decide(
  run: TickRun,
  last: Minute,
  modes: HaltModes,
): { legs: Leg[]; why: string; q: number } | { result: PaperTickResult } {
  const book = sessionBook(run.state);
  const q = book.positions[run.state.symbol]?.qty ?? 0;
  applyLossStop(
    run,
    sessionCashUsd(run.state, book) + q * Math.max(last.mark, 0),
    modes.dailyLossStop,
  );
  const decided = decideLegs(run, book, q, last);
  if ('result' in decided) return decided;
  const restricted = restrictLegs(run, q, decided, last);
  return 'result' in restricted ? restricted : { ...restricted, q };
}

/**
 * True when the session sent (or refused) an order at or after the last tick that read the
 * kill switch before deciding (`killSwitchReadAtMs`; never read: any order counts): an engage
 * DURING that sending tick sized its flatten of this session from the book the session-book
 * registry held before it (saved at the tick's end), so the session may be flat in its own
 * book while the kill switch's flatten, not yet adopted, is at the broker. Ticks that do not
 * decide (a stale bar is skipped, no new bar) read nothing and leave the mark, so the next
 * deciding tick reads the switch (and adopts that flatten, {@link applyKillSwitch}).
 */
function sentSinceKillSwitchRead(state: PaperSessionState): boolean {
  const readAt = state.killSwitchReadAtMs ?? null;
  return state.orders.some((o) => readAt === null || o.submittedAtMs >= readAt);
}

/**
 * A tick that cannot matter for capital, decided without reading the kill switch: this
 * session is flat in its own book (within {@link DUST_QTY}), has no order open (the caller
 * checks, after tracking) and has sent none since a tick last read the switch
 * ({@link sentSinceKillSwitchRead}), and
 * its decision with the switch taken as off ({@link decide}, on a scratch copy of `run`)
 * sends, cancels, refuses and halts nothing (`hold`, `flattened for the session`, the close's
 * flatten of a flat book, no quote to size). An engage finds nothing of this session to cancel
 * or flatten, and its halt is not lost: the switch keeps its last engage time
 * (`lastEngagedAtIso`), which the next tick that reads it and the settle step take as engaged
 * ({@link killSwitchReading}).
 * @returns that decision, or null when the tick must read the switch (the scratch discarded).
 */
function idleTick(run: TickRun, last: Minute, modes: HaltModes): PaperTickResult | null {
  const q = sessionBook(run.state).positions[run.state.symbol]?.qty ?? 0;
  if (Math.abs(q) > DUST_QTY) return null;
  const scratch: TickRun = { ...run, refused: [], canceled: [] };
  const decided = decide(scratch, last, modes);
  if (scratch.haltedNow || scratch.canceled.length > 0 || scratch.refused.length > 0) return null;
  if ('result' in decided) {
    const { action } = decided.result.decision;
    return action === 'none' || action === 'wait' ? decided.result : null;
  }
  return decided.legs.length === 0 ? tickResult(scratch, 'none', decided.why, last.t) : null;
}

/**
 * A tick at or after the session close. When the market's orders are `gtc` (crypto: Alpaca
 * takes no `day` for crypto, {@link alpacaTimeInForce}), every order of this session still
 * open at the broker is canceled, so none keeps working into the next UTC day; the decision
 * lists them in `canceled`, so the workflow records the cancels in the audit trail as a
 * `paper_decision`. An order already `pending_cancel` is not asked again. Equity orders are
 * `day` orders, which the broker itself expires at the close: the tick only waits for the
 * broker to report them. The session is done once none of its orders is open, or 5 minutes
 * after the close (what the broker has not confirmed by then is left to the settle step).
 * First the kill switch's flatten is adopted (an engage during the close's tick, which no
 * deciding tick follows) and, when the working flattens overshoot the book, it alone is
 * canceled ({@link settleOvershoot}); the kill switch's flatten that does not overshoot is
 * never canceled here (it reduces risk; at a crypto close it is left working). Last, a position
 * left while the kill flatten is in the book, or its cancel still failing, is recorded in the
 * halt ({@link recordAfterClose}; the decision `halted` when that changes the halt). No order
 * is sent.
 */
async function closeSession(run: TickRun): Promise<PaperTickResult> {
  const before = run.state.halt;
  const guarded = await settleOvershoot(
    run.deps,
    await adoptKillSwitchFlatten(run.deps, run.state, run.nowMs),
  );
  run.state = guarded.state;
  run.canceled = guarded.canceled;
  const atClose = await cancelAtCryptoClose(run);
  const recorded = recordAfterClose(run.state, guarded.failed);
  const stillOpen = recorded.state.orders.some((o) => !isTerminalOrderStatus(o.status));
  const done = !stillOpen || run.nowMs >= run.state.closeMs + 5 * MINUTE_MS;
  run.state = { ...recorded.state, done };
  const closed = atClose.length > 0 ? 'session closed: open orders canceled' : 'session closed';
  // The cancel's outcome, then what the halt records now (a failed cancel only once).
  const said = guarded.note ? [guarded.note] : [];
  const notes = [...said, ...recorded.added.filter((n) => !said.includes(n))];
  const reason = [closed, ...notes].join('; ');
  const halted = run.state.halt !== before;
  return tickResult(run, halted ? 'halted' : 'none', reason, null, [], run.canceled);
}

/**
 * At a `gtc` market's close (crypto, {@link alpacaTimeInForce}) every order of the session still
 * open at the broker, but the kill switch's flatten and one already `pending_cancel`, is
 * canceled (added to `run.canceled`) and the orders read back; an equity (`day`) session
 * cancels nothing (the broker expires its orders).
 * @returns the client_order_ids the broker accepted to cancel.
 */
async function cancelAtCryptoClose(run: TickRun): Promise<string[]> {
  if (alpacaTimeInForce(run.state.market) === 'day') return [];
  const killId = killSwitchFlattenOrderId(run.state.promotionId);
  const cancelable = run.state.orders.filter(
    (o) =>
      !isTerminalOrderStatus(o.status) &&
      o.status !== 'pending_cancel' &&
      o.clientOrderId !== killId,
  );
  if (cancelable.length === 0) return [];
  const { canceled } = await cancelOpen(run.deps, cancelable);
  run.canceled = [...run.canceled, ...canceled];
  run.state = {
    ...run.state,
    orders: await track(run.deps, run.state.orders, run.state.limits.costs),
  };
  return canceled;
}

/**
 * The kill switch's flatten of this session (sent when the switch was engaged, under
 * {@link killSwitchFlattenOrderId}), read from the broker and added to the session's orders
 * when the broker knows it and the session does not yet track it: its fills are then this
 * session's, so the book stays the fold of its own orders and the session's own flatten only
 * covers what the kill switch's did not (a session never flattens the same shares twice).
 */
async function adoptKillSwitchFlatten(
  deps: Pick<PaperTickDeps, 'broker'>,
  state: PaperSessionState,
  nowMs: number,
): Promise<PaperSessionState> {
  const id = killSwitchFlattenOrderId(state.promotionId);
  if (state.orders.some((o) => o.clientOrderId === id)) return state;
  const known = await deps.broker.getOrderByClientOrderId(id);
  if (!known || known.symbol !== state.symbol) return state;
  const submittedMs = Date.parse(known.submittedAtIso);
  const at = Number.isFinite(submittedMs) ? submittedMs : nowMs;
  const adopted: PaperOrder = {
    ...newOrder(state.symbol, id, known.side, known.qty, 'flatten', at, at),
    ...reportedByBroker(known, state.limits.costs),
  };
  return { ...state, orders: [...state.orders, adopted] };
}

/**
 * The session's orders as the broker has them at its settle step (the workflow's Finish, after
 * the last tick): the kill switch's flatten of this session adopted when the broker knows it
 * and the session does not track it yet, then every order that is not terminal read again
 * (status, filled shares, average fill price USD, fees USD). The switch can be engaged after
 * the session's last tick, for example while its own close flatten is open: the engage
 * cancels that order and sends the kill flatten in its place, and the session may never tick
 * again (a tick after the close decides nothing). Settling takes the kill
 * flatten's fills into the session's book, so the session ends flat in its book as at the
 * broker. A kill flatten that overshoots the book (sized from the stale registry during the
 * close's tick) is canceled and what it filled past flat recorded in the session's halt
 * ({@link settleOvershoot}): the settle step runs after the close and sends no order.
 * `nowMs` (epoch ms) dates the adopted order when the broker gives no submit time.
 *
 * @throws the broker's errors (transient: the workflow retries the step).
 */
export async function settleSessionOrders(
  deps: Pick<PaperTickDeps, 'broker'>,
  state: PaperSessionState,
  nowMs: number,
): Promise<PaperSessionState> {
  const adopted = await adoptKillSwitchFlatten(deps, state, nowMs);
  const tracked = { ...adopted, orders: await track(deps, adopted.orders, adopted.limits.costs) };
  const guarded = await settleOvershoot(deps, tracked);
  return recordAfterClose(guarded.state, guarded.failed).state;
}

/** Signed shares the session's open flatten orders have still to fill (sells negative). */
function workingFlattenQty(orders: readonly PaperOrder[]): number {
  let qty = 0;
  for (const o of orders) {
    if (o.reason !== 'flatten' || isTerminalOrderStatus(o.status)) continue;
    const rest = Math.max(0, o.qty - o.filledQty);
    qty += o.side === 'buy' ? rest : -rest;
  }
  return qty;
}

/** A new order of the session before the broker's answer. */
function newOrder(
  symbol: string,
  clientOrderId: string,
  side: 'buy' | 'sell',
  qty: number,
  reason: PaperOrderReason,
  decidedAtMs: number,
  submittedAtMs: number,
): PaperOrder {
  return {
    clientOrderId,
    symbol,
    side,
    qty,
    reason,
    decidedAtMs,
    submittedAtMs,
    status: 'pending_new',
    filledQty: 0,
    avgPriceUsd: null,
    feesUsd: 0,
    updatedAtIso: '',
  };
}

/**
 * Sends `base` as a market order with the market's time in force (`day` for equities, `gtc`
 * for crypto: `marketOrderRequest`), through the intent trail when there is one.
 */
async function submitPaperOrder(
  deps: PaperTickDeps,
  base: PaperOrder,
  market: MarketSession['market'],
  costs: FillCosts,
): Promise<PaperOrder> {
  const request = marketOrderRequest({ ...base, market });
  const { order } = deps.intentTrail
    ? // A retried tick decides the same orders under the same ids: mayBeKnown always.
      await submitOnce(deps.intentTrail, deps.broker, request, { mayBeKnown: true })
    : await deps.broker.submitOrder(request);
  return { ...base, ...reportedByBroker(order, costs) };
}

/**
 * What the broker reports of an order: status, fills, fees by regulatory type. A broker that
 * reports no breakdown (Alpaca paper: `feesUsd` is the order's commission; Alpaca charges the
 * SEC fee, FINRA TAF and CAT fee as account activities, outside the order) is taken to have
 * charged none in `feesUsd`: the session prices its filled shares at the stage's rates
 * (`regulatoryFeesUsd` of the fill model, per order: SEC on the principal, TAF capped per
 * order, CAT on the shares rounded up), as its reference simulation charges them, and adds
 * them to `feesUsd`. So paper PnL and parity compare fills, not fee bookkeeping; at rates of 0
 * (`cohort_default`, crypto) nothing is added.
 */
function reportedByBroker(
  b: BrokerOrder,
  costs: FillCosts,
): Pick<
  PaperOrder,
  'status' | 'filledQty' | 'avgPriceUsd' | 'feesUsd' | 'updatedAtIso' | 'regulatoryFeesUsd'
> {
  const modelled = b.regulatoryFeesUsd ? undefined : modelledRegulatoryFees(b, costs);
  const regulatory = b.regulatoryFeesUsd ?? modelled;
  const added = modelled ? modelled.secUsd + modelled.tafUsd + modelled.catUsd : 0;
  return {
    status: b.status,
    filledQty: b.filledQty,
    avgPriceUsd: b.filledAvgPriceUsd,
    feesUsd: b.feesUsd + added,
    updatedAtIso: b.updatedAtIso,
    ...(regulatory ? { regulatoryFeesUsd: regulatory } : {}),
  };
}

/** The regulatory fees of an order's fills at the stage's rates; undefined when none. */
function modelledRegulatoryFees(b: BrokerOrder, costs: FillCosts): RegulatoryFees | undefined {
  if (!(b.filledQty > 0) || b.filledAvgPriceUsd === null) return undefined;
  const fees = regulatoryFeesUsd(b.filledQty, b.filledAvgPriceUsd, costs, b.side);
  return hasRegulatoryFees(fees) ? fees : undefined;
}

/** The tick's action: halted, orders sent, only refusals, or nothing. */
function actionOf(halted: boolean, sent: number, refused: number): TickDecision['action'] {
  if (halted) return 'halted';
  if (sent > 0) return 'orders';
  return refused > 0 ? 'skipped' : 'none';
}

/** The legs, in order, that each bring the running position toward flat (never past it). */
function reducingLegs(position: number, legs: readonly Leg[]): Leg[] {
  const kept: Leg[] = [];
  let p = position;
  for (const leg of legs) {
    const toward = p !== 0 && leg.qty !== 0 && p > 0 !== leg.qty > 0;
    if (!toward || Math.abs(leg.qty) > Math.abs(p) + DUST_QTY) break;
    kept.push(leg);
    p += leg.qty;
  }
  return kept;
}

const HALT_RANK: Readonly<Record<HaltMode, number>> = {
  'pause-entries': 0,
  'reduce-only': 1,
  flatten: 2,
};

/** True when `mode` is stricter than the session's current halt (halts only escalate). */
function escalates(current: PaperSessionState['halt'], mode: HaltMode): boolean {
  return current === null || HALT_RANK[mode] > HALT_RANK[current.mode];
}

/** What {@link cancelOpen} did with each order it was given (client_order_ids). */
interface CancelOutcome {
  /**
   * The broker accepted the cancel: its answer is `canceled` (with what filled before it),
   * `pending_cancel`, or still working while the cancel is pending.
   */
  readonly canceled: string[];
  /**
   * The broker answered with another terminal status: the order filled before the cancel
   * (or expired, was rejected or replaced). Not canceled: the caller's `track` reads it back
   * and books what it filled (`order_status_changed` records the transition).
   */
  readonly ended: string[];
}

/**
 * Cancels `open` (`cancelOrLearn`: a refused cancel of an order the broker shows terminal is
 * that answer). With `failed`, a cancel still failing is listed there (`<id>: <error>`) and
 * the rest still cancelled (the kill switch's halt); without, it throws.
 * @returns the orders cancelled, and those the broker shows ended otherwise ({@link CancelOutcome}).
 */
async function cancelOpen(
  deps: Pick<PaperTickDeps, 'broker'>,
  open: readonly PaperOrder[],
  failed?: string[],
): Promise<CancelOutcome> {
  const out: CancelOutcome = { canceled: [], ended: [] };
  for (const o of open) {
    try {
      const now = await cancelOrLearn(deps.broker, o.clientOrderId);
      const endedOtherwise = isTerminalOrderStatus(now.status) && now.status !== 'canceled';
      (endedOtherwise ? out.ended : out.canceled).push(o.clientOrderId);
    } catch (err) {
      if (!failed) throw err;
      failed.push(`${o.clientOrderId}: ${(err as Error).message}`);
    }
  }
  return out;
}
