/**
 * THE exchange account: how a broker account at the exchange model admits a new order, works
 * its open orders over the minute bars, books their fills and values itself. Pure: no I/O, no
 * clock (the instant is an argument); the minute bars come through a {@link SessionSource} the
 * caller provides. Two brokers are thin shells over these functions, so they cannot disagree:
 * - the simulated paper broker (`adapters/brokers/simulated-broker.ts`), which only persists
 *   the orders and the account and maps the broker port;
 * - the reference simulation's in-memory broker (`paper/exchange-broker.ts`).
 *
 * The rules themselves live in the modules this one composes: matching, participation and time
 * in force in `exchange-model.ts` ({@link matchOrder}); acceptance, reservations and buying
 * power in `order-acceptance.ts`; what Alpaca refuses in `exchange-model.ts`
 * (`alpacaRefusal`); the pattern-day-trader count and protection in `day-trades.ts`; booking
 * in THE position book (`position-book.ts`, {@link applyBookFill}, the cohort simulator's
 * booking function).
 *
 * Sessions and dates: an equity order works in the session of its New York date, a crypto
 * order in the session of its UTC date (crypto sessions are UTC days). A `gtc` order whose
 * session closed moves to the symbol's next session in the data once that session opened.
 *
 * Quantities shares (signed positions: short < 0), prices USD per share, money USD, times
 * epoch ms UTC, dates `YYYY-MM-DD`.
 */

import type { BrokerOrderRequest } from '../../ports/broker.js';
import { NYSE_TIME_ZONE } from '../calendar/market-calendar.js';
import { NO_REGULATORY_FEES, type RegulatoryFees } from '../cohort/fill-model.js';
import {
  BrokerRejectedError,
  DataFileMissingError,
  UnknownSymbolError,
  ValidationError,
} from '../errors.js';
import type { SplitEvent } from '../market/corporate-actions.js';
import type { MarketSession } from '../market/types.js';
import { Order, type OrderSnapshot } from '../orders/order.js';
import {
  type DayTradeLedger,
  type PatternDayTraderRule,
  pdtRefusal,
  recordDayTradeFill,
} from './day-trades.js';
import {
  type ExchangeConfig,
  type ExchangeFill,
  lastMark,
  matchOrder,
  type SymbolMinutes,
} from './exchange-model.js';
import {
  type AcceptanceRules,
  type AccountValuation,
  acceptOrder,
  effectiveQty,
} from './order-acceptance.js';
import { type AccountBook, applyBookFill, restateBookForSplit } from './position-book.js';
import {
  addRegulatoryFees,
  hasRegulatoryFees,
  type RegulatoryFeeAccrual,
  regulatoryRoundingUsd,
} from './regulatory-fees.js';

/** An order at the exchange with the exchange's bookkeeping (what a broker persists). */
export interface ExchangeOrder {
  /** The order's state (status, filled quantity, average price, ...), `core/orders`. */
  readonly order: OrderSnapshot;
  /** When the order may first trade: submit time + latency, epoch ms UTC. */
  readonly fillableAtMs: number;
  /** End of the last minute already examined for fills, epoch ms UTC. */
  readonly processedThroughMs: number;
  /** Session (`YYYY-MM-DD`) the order works in (moves forward for `gtc`); '' when refused without one. */
  readonly sessionDate: string;
  /** Buying power held for the order's opening part at submission, USD (scaled by remaining). */
  readonly reservedUsd: number;
  /** Commission charged so far, USD. */
  readonly feesUsd: number;
  /** Every fill so far, oldest first. */
  readonly fills: readonly ExchangeFill[];
  /**
   * Why a `gtc` order whose session closed was NOT moved to the next session in the data (one
   * of that session's files is missing: the exchange cannot work it there, so it rests
   * unfilled in its old session until the data exists or it is canceled), e.g.
   * `carry-over to 2018-04-06 held: market data file not found: .../20180406_quote.zip`.
   * Absent when nothing held it.
   */
  readonly heldReason?: string;
}

/** Where the exchange reads minute bars (the caller loads and caches them). */
export interface SessionSource {
  /** `symbol`'s minutes on `date`, or null when the date has no session for it. */
  session(date: string, symbol: string): SymbolMinutes | null | Promise<SymbolMinutes | null>;
  /** Every session date of `symbol` in the data, ascending. */
  sessionDates(symbol: string): readonly string[] | Promise<readonly string[]>;
}

/** One fill to book, with its order and the session it happened in. */
export interface ExchangeBooking {
  readonly order: Pick<OrderSnapshot, 'symbol' | 'side' | 'createdAtMs'>;
  readonly fill: ExchangeFill;
  /** The session the fill happened in (day trades are counted per session date). */
  readonly sessionDate: string;
  readonly market: MarketSession['market'];
}

/**
 * The account's books: THE position book, the pattern-day-trader ledger, and the regulatory
 * fees accrued on the account's current session date and not yet charged (`regulatory-fees.ts`;
 * absent or null: none).
 */
export interface ExchangeBooks {
  readonly book: AccountBook;
  readonly dayTrades: DayTradeLedger;
  readonly regulatoryFees?: RegulatoryFeeAccrual | null;
}

const NY_DATE = new Intl.DateTimeFormat('en-CA', {
  timeZone: NYSE_TIME_ZONE,
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
});

/** The New York date (`YYYY-MM-DD`) of an instant, epoch ms UTC. */
export function newYorkDate(atMs: number): string {
  return NY_DATE.format(atMs);
}

/** Whether an order snapshot is in a terminal status (`core/orders`). */
export function isTerminal(order: OrderSnapshot): boolean {
  return Order.rehydrate(order).isTerminal();
}

/** The orders still working (not terminal). */
export function workingOf<T extends { readonly order: OrderSnapshot }>(orders: Iterable<T>): T[] {
  return [...orders].filter((o) => !isTerminal(o.order));
}

/**
 * The session of `symbol` an order placed at `atMs` works in: the session of the New York
 * date for an equity; for crypto the session of the UTC date (which is the New York date's
 * session when both dates agree). Null when that date has no session in the data.
 *
 * @throws UnknownSymbolError (from the source) when the symbol has no data at all.
 */
export async function sessionAt(
  sessions: SessionSource,
  symbol: string,
  atMs: number,
): Promise<SymbolMinutes | null> {
  const nyDate = newYorkDate(atMs);
  const utcDate = new Date(atMs).toISOString().slice(0, 10);
  const ny = await sessions.session(nyDate, symbol);
  if (ny && ny.market !== 'crypto') return ny;
  if (ny && utcDate === nyDate) return ny;
  const utc = utcDate === nyDate ? null : await sessions.session(utcDate, symbol);
  return utc && utc.market === 'crypto' ? utc : null;
}

/** {@link sessionAt}, with a symbol that has no data at all as `'unknown_symbol'`. */
export async function sessionOrUnknown(
  sessions: SessionSource,
  symbol: string,
  atMs: number,
): Promise<SymbolMinutes | null | 'unknown_symbol'> {
  try {
    return await sessionAt(sessions, symbol, atMs);
  } catch (err) {
    if (err instanceof UnknownSymbolError) return 'unknown_symbol';
    throw err;
  }
}

/** A session whose data file is missing reads as no session (a valuation falls back). */
async function orNullIfMissing(
  read: () => Promise<SymbolMinutes | null>,
): Promise<SymbolMinutes | null> {
  try {
    return await read();
  } catch (err) {
    if (err instanceof DataFileMissingError) return null;
    throw err;
  }
}

/**
 * Mark of `symbol` at `nowMs`, USD: the last quote mid (else trade close) of a minute that
 * ended by now in today's session ({@link sessionAt}), else the last one of the previous
 * session in the data, else `fallbackUsd`. Today's session is skipped when one of its files is
 * missing (a crypto session starts at the previous one's close, 00:00 UTC, and its quote file
 * may not exist): the mark falls back to the previous session's; fills still need the file.
 * "Previous" is before today's session date, else before the UTC date of `nowMs` (for
 * equities the New York date of any instant without a session or before its open).
 */
export async function markUsd(
  sessions: SessionSource,
  symbol: string,
  nowMs: number,
  fallbackUsd: number,
): Promise<number> {
  const today = await orNullIfMissing(() => sessionAt(sessions, symbol, nowMs));
  if (today) {
    const mark = lastMark(today, nowMs);
    if (mark > 0) return mark;
  }
  const dates = await sessions.sessionDates(symbol);
  const todayDate = today?.date ?? new Date(nowMs).toISOString().slice(0, 10);
  for (let i = dates.length - 1; i >= 0; i--) {
    const date = dates[i] as string;
    if (date >= todayDate) continue;
    const previous = await orNullIfMissing(async () => sessions.session(date, symbol));
    const mark = previous ? lastMark(previous, Number.POSITIVE_INFINITY) : Number.NaN;
    if (mark > 0) return mark;
    break;
  }
  return fallbackUsd;
}

/**
 * The first session of `symbol` after `date` in the data, null when there is none, or the
 * reason it cannot be read when one of its files is missing (`DataFileMissingError`: e.g. a
 * UTC day with a trade file but no quote file).
 */
async function nextSession(
  sessions: SessionSource,
  symbol: string,
  date: string,
): Promise<SymbolMinutes | null | { readonly heldReason: string }> {
  const next = (await sessions.sessionDates(symbol)).find((d) => d > date);
  if (!next) return null;
  try {
    return await sessions.session(next, symbol);
  } catch (err) {
    if (err instanceof DataFileMissingError) {
      return { heldReason: `carry-over to ${next} held: ${err.message}` };
    }
    throw err;
  }
}

/**
 * Works one order over the minutes that ended by `nowMs` ({@link matchOrder}: latency,
 * participation, limit, time in force), moving a `gtc` order whose session closed to the next
 * session that opened by now. A next session whose data file is missing does not fail the
 * read (every order and the account are read together): the order stays open and unfilled in
 * its old session with the reason recorded on it ({@link ExchangeOrder.heldReason}), and is
 * moved on a later read once the data exists. Returns the order after it and its new fills
 * (each with its session), or null when nothing changed (a terminal order never changes).
 */
export async function advanceExchangeOrder(
  rec: ExchangeOrder,
  nowMs: number,
  config: ExchangeConfig,
  sessions: SessionSource,
): Promise<{ readonly order: ExchangeOrder; readonly bookings: ExchangeBooking[] } | null> {
  const order = Order.rehydrate(rec.order);
  if (order.isTerminal()) return null;
  const fills: ExchangeFill[] = [];
  const bookings: ExchangeBooking[] = [];
  let processed = rec.processedThroughMs;
  let sessionDate = rec.sessionDate;
  let changed = false;
  let heldReason: string | undefined;
  for (;;) {
    const session = await sessions.session(sessionDate, rec.order.symbol);
    if (!session) break;
    const matched = matchOrder(order, session, processed, nowMs, config);
    processed = matched.processedThroughMs;
    changed ||= matched.changed;
    for (const fill of matched.fills) {
      fills.push(fill);
      bookings.push({ order: rec.order, fill, sessionDate, market: session.market });
    }
    if (!matched.carryOver) break;
    const next = await nextSession(sessions, rec.order.symbol, sessionDate);
    if (next && 'heldReason' in next) {
      heldReason = next.heldReason;
      break;
    }
    if (!next || next.openMs > nowMs) break;
    sessionDate = next.date;
    changed = true;
  }
  changed ||= heldReason !== rec.heldReason;
  if (!changed) return null;
  const snapshot = order.snapshot();
  const { heldReason: _previous, ...rest } = rec;
  return {
    order: {
      ...rest,
      ...(heldReason === undefined ? {} : { heldReason }),
      order: snapshot,
      processedThroughMs: processed,
      sessionDate,
      feesUsd: fills.reduce((sum, f) => sum + f.feeUsd, rec.feesUsd),
      fills: [...rec.fills, ...fills],
    },
    bookings: bookings.map((b) => ({ ...b, order: snapshot })),
  };
}

/**
 * The books after `bookings`, in the order the fills happened: by fill time, then by the
 * order's submission time, then in the order given (a stable sort: callers list bookings in
 * submission order). Each fill is booked by THE position book ({@link applyBookFill}), counted
 * for day trades against the position just before it (`recordDayTradeFill`), and its
 * regulatory fees accrue to its session date; a fill on a later session date first settles
 * the earlier date's charge ({@link settleRegulatoryFees}).
 */
export function bookExchangeFills(
  books: ExchangeBooks,
  bookings: readonly ExchangeBooking[],
): ExchangeBooks {
  const ordered = [...bookings].sort(
    (a, b) => a.fill.atMs - b.fill.atMs || a.order.createdAtMs - b.order.createdAtMs,
  );
  let { book, dayTrades } = books;
  let accrual = books.regulatoryFees ?? null;
  for (const { order, fill, sessionDate, market } of ordered) {
    dayTrades = recordDayTradeFill(dayTrades, {
      symbol: order.symbol,
      date: sessionDate,
      market,
      positionBefore: book.positions[order.symbol]?.qty ?? 0,
      signedQty: order.side === 'buy' ? fill.qty : -fill.qty,
    });
    book = applyBookFill(book, {
      symbol: order.symbol,
      side: order.side,
      qty: fill.qty,
      priceUsd: fill.priceUsd,
      feeUsd: fill.feeUsd,
      atMs: fill.atMs,
    });
    const fees = fill.regulatoryFeesUsd;
    if (!fees || !hasRegulatoryFees(fees)) continue;
    if (accrual && accrual.date !== sessionDate) {
      book = chargeRegulatoryRounding(book, accrual);
      accrual = null;
    }
    accrual = { ...addRegulatoryFees(accrual ?? NO_REGULATORY_FEES, fees), date: sessionDate };
  }
  return { book, dayTrades, regulatoryFees: accrual };
}

/**
 * The books after the end of the day's charge (`regulatory-fees.ts`): when the New York date
 * of `nowMs` is after the date the accrued regulatory fees belong to, the account pays each
 * fee type's day total rounded up to the cent beyond what its fills accrued (cash down, fees
 * up) and the accrual is cleared. Null when nothing is due (nothing to write).
 */
export function settleRegulatoryFees(books: ExchangeBooks, nowMs: number): ExchangeBooks | null {
  const accrual = books.regulatoryFees;
  if (!accrual || newYorkDate(nowMs) <= accrual.date) return null;
  return { ...books, book: chargeRegulatoryRounding(books.book, accrual), regulatoryFees: null };
}

/** `book` charged the day's regulatory rounding of `day` (cash down, fees up), USD. */
function chargeRegulatoryRounding(book: AccountBook, day: RegulatoryFees): AccountBook {
  const roundingUsd = regulatoryRoundingUsd(day);
  if (roundingUsd === 0) return book;
  return { ...book, cashUsd: book.cashUsd - roundingUsd, feesUsd: book.feesUsd + roundingUsd };
}

/**
 * The book re-stated across the splits effective after the New York date of `sinceMs` (the
 * account's last update) through the New York date of `nowMs`, as a broker does on the split
 * day: quantity times the ratio, average price divided by it (value unchanged), through THE
 * position book's `restateBookForSplit`; flat positions are left alone. Null when no split
 * applies (nothing to write).
 *
 * @param splitsOf the splits of a symbol effective in (after, through], dates `YYYY-MM-DD`.
 */
export async function restateForSplits(
  book: AccountBook,
  sinceMs: number,
  nowMs: number,
  splitsOf: (
    symbol: string,
    after: string,
    through: string,
  ) => readonly SplitEvent[] | Promise<readonly SplitEvent[]>,
): Promise<AccountBook | null> {
  const after = newYorkDate(sinceMs);
  const through = newYorkDate(nowMs);
  if (after >= through) return null;
  let out: AccountBook | null = null;
  for (const pos of Object.values(book.positions)) {
    if (pos.qty === 0) continue;
    for (const split of await splitsOf(pos.symbol, after, through)) {
      out = restateBookForSplit(out ?? book, pos.symbol, split.ratio, split.effectiveDate).book;
    }
  }
  return out;
}

/** What {@link admitOrder} reads about the account and the broker. */
export interface Admission {
  readonly request: BrokerOrderRequest;
  readonly nowMs: number;
  /** Mints the broker's id of the order (called once the request is a valid order). */
  readonly newBrokerOrderId: () => string;
  /** Submission-to-fillable delay, ms. */
  readonly latencyMs: number;
  /**
   * The session of the order's (upper-cased) symbol at `nowMs` ({@link sessionOrUnknown});
   * read once the request is a valid order.
   */
  readonly session: (
    symbol: string,
  ) => SymbolMinutes | null | 'unknown_symbol' | Promise<SymbolMinutes | null | 'unknown_symbol'>;
  /** The account's signed position in the symbol, shares. */
  readonly positionQty: number;
  /** The account's working orders (every symbol). */
  readonly working: readonly ExchangeOrder[];
  readonly rules: AcceptanceRules;
  /** The pattern-day-trader protection and the account's ledger; null: off. */
  readonly dayTrades: {
    readonly rule: PatternDayTraderRule;
    readonly ledger: DayTradeLedger;
  } | null;
  /** The account's valuation at `nowMs`, read at most once and only when a rule needs it. */
  readonly valuation: () => AccountValuation | Promise<AccountValuation>;
}

/**
 * The new order of a submission at `nowMs`: `new` (fillable from `nowMs + latencyMs`, holding
 * its reservation) when the broker accepts it, `rejected` with the reason when it refuses it.
 * Refusals: the account rules' (`acceptOrder`: no auction model, fractional quantities,
 * unknown symbol, market closed, too many open orders, what Alpaca refuses, no quote,
 * insufficient buying power), then the pattern-day-trader protection (`pdtRefusal`).
 *
 * @throws BrokerRejectedError(`invalid order: ...`) for a request too malformed to be an
 *   order at all (the broker keeps no record of it).
 */
export async function admitOrder(input: Admission): Promise<ExchangeOrder> {
  const { request, nowMs } = input;
  const order = createOrder(request, nowMs);
  const snap = order.snapshot();
  const brokerOrderId = input.newBrokerOrderId();
  const session = await input.session(snap.symbol);
  let valued: Promise<AccountValuation> | null = null;
  const valuation = () => {
    valued ??= Promise.resolve(input.valuation());
    return valued;
  };
  const record = (reservedUsd: number): ExchangeOrder => ({
    order: order.snapshot(),
    fillableAtMs: nowMs + input.latencyMs,
    processedThroughMs: nowMs + input.latencyMs,
    sessionDate: session && session !== 'unknown_symbol' ? session.date : '',
    reservedUsd,
    feesUsd: 0,
    fills: [],
  });
  const reject = (reason: string): ExchangeOrder => {
    order.apply({ type: 'pending_new', atMs: nowMs, brokerOrderId });
    order.apply({ type: 'rejected', atMs: nowMs, reason });
    return record(0);
  };
  const decision = await acceptOrder({
    order: snap,
    session,
    nowMs,
    effective: effectiveQty(snap.symbol, input.positionQty, input.working),
    openOrderCount: input.working.length,
    rules: input.rules,
    buyingPowerUsd: async () => (await valuation()).buyingPowerUsd,
  });
  if (!decision.accepted) return reject(decision.reason);
  if (input.dayTrades && session && session !== 'unknown_symbol') {
    const refusal = pdtRefusal({
      rule: input.dayTrades.rule,
      ledger: input.dayTrades.ledger,
      market: session.market,
      date: session.date,
      equityUsd: (await valuation()).equityUsd,
      symbol: snap.symbol,
      side: snap.side,
      position: input.positionQty,
      workingSides: input.working
        .filter((w) => w.order.symbol === snap.symbol)
        .map((w) => w.order.side),
    });
    if (refusal) return reject(refusal);
  }
  order.apply({ type: 'new', atMs: nowMs, brokerOrderId });
  return record(decision.reservedUsd);
}

/** The order entity of a request (symbol upper-cased); malformed: BrokerRejectedError. */
function createOrder(request: BrokerOrderRequest, nowMs: number): Order {
  try {
    return Order.create(
      {
        clientOrderId: request.clientOrderId,
        symbol: request.symbol.toUpperCase(),
        side: request.side,
        qty: request.qty,
        type: request.type,
        limitPriceUsd: request.type === 'limit' ? (request.limitPriceUsd ?? null) : null,
        timeInForce: request.timeInForce,
      },
      nowMs,
    );
  } catch (err) {
    if (err instanceof ValidationError) {
      throw new BrokerRejectedError(request.clientOrderId, `invalid order: ${err.message}`);
    }
    throw err;
  }
}

/**
 * The order canceled at `nowMs` (never before its last update), or null when it is already
 * terminal (a terminal order is returned unchanged by a broker).
 */
export function cancelExchangeOrder(rec: ExchangeOrder, nowMs: number): ExchangeOrder | null {
  const order = Order.rehydrate(rec.order);
  if (order.isTerminal()) return null;
  order.apply({ type: 'canceled', atMs: Math.max(nowMs, rec.order.updatedAtMs) });
  return { ...rec, order: order.snapshot() };
}
