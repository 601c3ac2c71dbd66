/**
 * The built-in simulated paper broker: an adapter that persists orders and an account through
 * the {@link SimulatedBrokerStore} and maps the broker port onto THE exchange account
 * (`functions/core/exchange/exchange-account.ts`, pure). Every rule lives in the core: which
 * orders are accepted, what they reserve, buying power and what Alpaca refuses
 * (`exchange/order-acceptance.ts`, `exchange/exchange-model.ts`), timing, participation, fill
 * prices, fees and time in force (`exchange/exchange-model.ts`), the pattern-day-trader count
 * (`exchange/day-trades.ts`), booking (THE position book, `exchange/position-book.ts`) and the
 * marks. The paper session's reference simulation runs the same functions with the same
 * configuration (`core/paper/exchange-broker.ts`), so with this broker its paper PnL equals the
 * reference to the cent.
 *
 * What this adapter adds: the configuration's boundary (zod), reading and caching the minute
 * bars and splits from the market-data port, and the persistence protocol. Time comes from the
 * injected clock; nothing happens in the background. Fills are computed lazily whenever the
 * broker is read (every port method): each open order is advanced over the minute bars that
 * have ENDED by `clock.now()` (no look-ahead), then the new state is written through the store
 * in one atomic, version-checked commit (retried on a lost race).
 *
 * Market hours: an order is accepted from the start of the first minute bar to the end of the
 * last minute bar of the symbol's session on the date of `clock.now()` (New York date; UTC for
 * crypto), i.e. the regular session as the data has it (half days included). Anything outside,
 * or a date without a session, is refused as `market closed`. `opg` / `cls` are refused (no
 * auction model).
 *
 * Account: cash, signed positions with weighted-average cost and realized PnL (gross of fees).
 * Regulatory fees (SEC, FINRA TAF, CAT) accrue per fill; at its first read on a later New York
 * date the account pays each fee type's day total rounded up to the cent beyond the accruals
 * (`core/exchange/regulatory-fees.ts`), as Alpaca charges each account at the end of the day.
 * Marks for equity and buying power: the last quote mid (else last trade) of a minute that
 * ended at or before now. A new order's buying power is estimated at the last completed
 * minute's quote (the current minute's in the session's first minute). Positions are restated
 * for splits on the split day (THE position book's `restateBookForSplit`).
 */

import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import { type FillCosts, FillCostsSchema } from '../../core/cohort/fill-model.js';
import {
  BrokerRejectedError,
  BrokerUnavailableError,
  NoSessionError,
  NotFoundError,
  parseOrThrow,
} from '../../core/errors.js';
import {
  dayTradeCount,
  EMPTY_DAY_TRADE_LEDGER,
  type FINRA_PDT_RULE,
  type PatternDayTraderRule,
} from '../../core/exchange/day-trades.js';
import {
  admitOrder,
  advanceExchangeOrder,
  bookExchangeFills,
  cancelExchangeOrder,
  type ExchangeBooking,
  type ExchangeBooks,
  markUsd,
  newYorkDate,
  restateForSplits,
  type SessionSource,
  sessionOrUnknown,
  settleRegulatoryFees,
  workingOf,
} from '../../core/exchange/exchange-account.js';
import { type SymbolMinutes, symbolMinutes } from '../../core/exchange/exchange-model.js';
import {
  type AccountValuation,
  accountValuation,
  heldReservationsUsd,
} from '../../core/exchange/order-acceptance.js';
import type { AccountBook, BookedPosition } from '../../core/exchange/position-book.js';
import type { MarketSession } from '../../core/market/types.js';
import { brokerOrderOf } from '../../core/paper/exchange-broker.js';
import type {
  BrokerAccount,
  BrokerOrder,
  BrokerOrderRequest,
  BrokerPort,
  BrokerPosition,
} from '../../ports/broker.js';
import type { Clock } from '../../ports/clock.js';
import type { MarketDataPort } from '../../ports/market-data.js';
import type {
  SimAccountRecord,
  SimFill,
  SimOrderRecord,
  SimPosition,
  SimulatedBrokerStore,
  VersionedWrite,
} from './simulated-broker-store.js';

/** Attempts of a read-advance-commit cycle before giving up on a contended store. */
const MAX_COMMIT_ATTEMPTS = 8;
/** Parsed sessions kept per broker instance (LRU by insertion). */
const SESSION_CACHE_SIZE = 32;

/** Settings of {@link SimulatedPaperBroker}. */
export interface SimulatedBrokerConfig {
  /** Cash of a new account, USD, > 0. */
  readonly startingCashUsd: number;
  /** Largest share of a minute's traded volume one order may fill in that minute, (0, 1]. */
  readonly participationFraction: number;
  /** Delay between submission and the order becoming fillable, ms, >= 0. */
  readonly latencyMs: number;
  /** The fill model's costs (slippage, fee schedule), as in the cohort config. */
  readonly costs: FillCosts;
  /** Quantities in steps of 1e-6 share; otherwise whole shares only. */
  readonly fractionalShares: boolean;
  /** Gross exposure allowed per USD of equity. @default 1 */
  readonly buyingPowerMultiplier?: number;
  /** Symbols whose asset is not fractionable at the broker (Alpaca `fractionable: false`). @default [] */
  readonly nonFractionableSymbols?: readonly string[];
  /**
   * Orders that may be open at once (one commit writes every changed order plus the account,
   * and a DynamoDB transaction holds at most 100 items). @default 50
   */
  readonly maxOpenOrders?: number;
  /**
   * Alpaca's pattern-day-trader protection (`core/exchange/day-trades.ts`): below
   * `minEquityUsd`, an order that could complete a day trade beyond `maxDayTrades` in five
   * business days is refused (the day trades are counted and reported either way). null or
   * absent: off, as the cohort simulator, which the parity tests replay, has no such limit;
   * the composition roots turn it on with FINRA's numbers ({@link FINRA_PDT_RULE}).
   * @default null
   */
  readonly patternDayTrader?: PatternDayTraderRule | null;
}

/** Dependencies of {@link SimulatedPaperBroker}. */
export interface SimulatedPaperBrokerDeps {
  readonly store: SimulatedBrokerStore;
  readonly marketData: MarketDataPort;
  readonly clock: Clock;
  readonly config: SimulatedBrokerConfig;
  /** Mints broker order ids. @default crypto.randomUUID */
  readonly newOrderId?: () => string;
}

const ConfigSchema = z.object({
  startingCashUsd: z.number().positive().finite(),
  participationFraction: z.number().gt(0).max(1),
  latencyMs: z.number().min(0).finite(),
  costs: FillCostsSchema,
  fractionalShares: z.boolean(),
  buyingPowerMultiplier: z.number().positive().max(10).default(1),
  nonFractionableSymbols: z.array(z.string().min(1)).default([]),
  maxOpenOrders: z.number().int().min(1).max(98).default(50),
  patternDayTrader: z
    .object({ minEquityUsd: z.number().min(0), maxDayTrades: z.number().int().min(0) })
    .nullable()
    .default(null),
});

type ResolvedConfig = z.infer<typeof ConfigSchema>;

function parseConfig(input: SimulatedBrokerConfig): ResolvedConfig {
  return parseOrThrow(ConfigSchema, input, 'config');
}

/** The state after a sync: account and every order that was open when it started. */
interface Synced {
  readonly account: SimAccountRecord;
  /** Version of the stored account (null when it does not exist yet). */
  readonly accountVersion: number | null;
  /** Orders open at load time, advanced to now (some may have become terminal). */
  readonly orders: Map<string, SimOrderRecord>;
}

/**
 * The stored account as THE position book's {@link AccountBook} (the store calls the average
 * price `avgEntryPriceUsd`, as Alpaca does), so fills and splits are booked by the same
 * functions as the cohort ledgers, the paper session and the pipeline's reconciliation.
 */
function accountBookOf(account: SimAccountRecord): AccountBook {
  const positions: Record<string, BookedPosition> = {};
  for (const p of Object.values(account.positions)) {
    positions[p.symbol] = {
      symbol: p.symbol,
      qty: p.qty,
      avgPriceUsd: p.avgEntryPriceUsd,
      realizedPnlUsd: p.realizedPnlUsd,
    };
  }
  return {
    cashUsd: account.cashUsd,
    realizedPnlUsd: account.realizedPnlUsd,
    feesUsd: account.feesUsd,
    positions,
  };
}

/** The stored account's books as THE exchange account keeps them. */
function booksOf(account: SimAccountRecord): ExchangeBooks {
  return {
    book: accountBookOf(account),
    dayTrades: account.dayTradeLedger ?? EMPTY_DAY_TRADE_LEDGER,
    regulatoryFees: account.regulatoryFees ?? null,
  };
}

/** The stored positions of an {@link AccountBook} (inverse of {@link accountBookOf}). */
function simPositionsOf(book: AccountBook): Record<string, SimPosition> {
  const out: Record<string, SimPosition> = {};
  for (const p of Object.values(book.positions)) {
    out[p.symbol] = {
      symbol: p.symbol,
      qty: p.qty,
      avgEntryPriceUsd: p.avgPriceUsd,
      realizedPnlUsd: p.realizedPnlUsd,
    };
  }
  return out;
}

/** The port's view of a stored order. */
function toBrokerOrder(rec: SimOrderRecord): BrokerOrder {
  return brokerOrderOf(rec.order, rec.feesUsd, rec.fills);
}

/** The orders of a sync that are still working (not terminal). */
function workingOrders(synced: Synced): SimOrderRecord[] {
  return workingOf(synced.orders.values());
}

/** Submission order: submission time, then client_order_id. */
function bySubmission(a: SimOrderRecord, b: SimOrderRecord): number {
  return (
    a.order.createdAtMs - b.order.createdAtMs ||
    a.order.clientOrderId.localeCompare(b.order.clientOrderId)
  );
}

/** The simulated account's ledger (beyond the port's view), for reports and the parity test. */
export interface SimulatedLedger {
  readonly startingCashUsd: number;
  readonly cashUsd: number;
  /** Realized PnL, gross of fees, USD. */
  readonly realizedPnlUsd: number;
  readonly feesUsd: number;
  /** Every symbol ever traded, flat ones included (qty 0). */
  readonly positions: readonly SimPosition[];
}

/**
 * {@link BrokerPort} `simulated`: a paper account that fills against real minute bars through
 * the shared fill model (see the module comment for the execution, account and buying-power
 * rules).
 *
 * Errors: `BrokerRejectedError` for an order the broker refuses (reasons: `market closed`,
 * `insufficient buying power`, `too many open orders`, `unknown symbol`, `time_in_force ...
 * not supported`, `fractional quantity not allowed`, `invalid order: ...`); the refused order
 * is stored with status `rejected` (so its client_order_id is used, as every id is forever),
 * except an order so malformed that it cannot be built. `BrokerUnavailableError` when the
 * store stayed contended for {@link MAX_COMMIT_ATTEMPTS} attempts; `TransientError` from the
 * store or the market data; `NotFoundError('order', id)` when cancelling an unknown order.
 */
export class SimulatedPaperBroker implements BrokerPort {
  readonly name = 'simulated' as const;
  private readonly store: SimulatedBrokerStore;
  private readonly marketData: MarketDataPort;
  private readonly clock: Clock;
  private readonly config: ResolvedConfig;
  private readonly newOrderId: () => string;
  private readonly sessions = new Map<string, Promise<SymbolMinutes | null>>();
  /** The sync that calls issued together share (see `syncCommitted`), until it reads. */
  private syncBatch: { readonly now: number; readonly result: Promise<Synced> } | null = null;
  /** The market data as THE exchange account reads it (cached sessions). */
  private readonly source: SessionSource = {
    session: (date, symbol) => this.symbolSession(date, symbol),
    sessionDates: (symbol) => this.marketData.listSessions([symbol]),
  };

  /** @throws ValidationError('config.<field>') for an invalid config. */
  constructor(deps: SimulatedPaperBrokerDeps) {
    this.store = deps.store;
    this.marketData = deps.marketData;
    this.clock = deps.clock;
    this.config = parseConfig(deps.config);
    this.newOrderId = deps.newOrderId ?? randomUUID;
  }

  /**
   * Submits an order at `clock.now()`. Accepted orders start in `new` and fill on later reads.
   *
   * @returns the new order (`duplicate: false`), or the order already stored under this
   *   client_order_id (`duplicate: true`, whatever its status, rejected included).
   * @throws BrokerRejectedError see the class comment; the order is stored as `rejected`.
   */
  async submitOrder(
    request: BrokerOrderRequest,
  ): Promise<{ order: BrokerOrder; duplicate: boolean }> {
    for (let attempt = 0; attempt < MAX_COMMIT_ATTEMPTS; attempt++) {
      if (attempt > 0) await this.backoff(attempt);
      if (await this.store.getOrder(request.clientOrderId)) {
        return { order: await this.readOrder(request.clientOrderId), duplicate: true };
      }
      const now = this.clock.now();
      const synced = await this.sync(now);
      if (!synced) continue;
      const decided = await this.decide(request, synced, now);
      const accepted = decided.order.status !== 'rejected';
      const account: SimAccountRecord = {
        ...synced.account,
        version: synced.account.version + 1,
        openClientOrderIds: accepted
          ? [...synced.account.openClientOrderIds, request.clientOrderId]
          : synced.account.openClientOrderIds,
        updatedAtMs: now,
      };
      const result = await this.store.commit({
        account: { record: account, expectedVersion: synced.accountVersion },
        orders: [{ record: decided, expectedVersion: null }],
      });
      if (result.ok) {
        if (!accepted) {
          throw new BrokerRejectedError(
            request.clientOrderId,
            decided.order.rejectReason ?? 'rejected',
          );
        }
        return { order: toBrokerOrder(decided), duplicate: false };
      }
    }
    throw new BrokerUnavailableError(
      `simulated broker: store stayed contended submitting ${request.clientOrderId}`,
    );
  }

  async getOrderByClientOrderId(clientOrderId: string): Promise<BrokerOrder | null> {
    const synced = await this.syncCommitted();
    const rec = synced.orders.get(clientOrderId) ?? (await this.store.getOrder(clientOrderId));
    return rec ? toBrokerOrder(rec) : null;
  }

  /**
   * Cancels an open order at `clock.now()` (after booking the fills due by then); a terminal
   * order is returned unchanged.
   *
   * @throws NotFoundError('order', clientOrderId) when the broker never saw the id.
   */
  async cancelOrder(clientOrderId: string): Promise<BrokerOrder> {
    for (let attempt = 0; attempt < MAX_COMMIT_ATTEMPTS; attempt++) {
      if (attempt > 0) await this.backoff(attempt);
      const synced = await this.syncCommitted();
      const rec = synced.orders.get(clientOrderId) ?? (await this.store.getOrder(clientOrderId));
      if (!rec) throw new NotFoundError('order', clientOrderId);
      const now = this.clock.now();
      const cancel = cancelExchangeOrder(rec, now);
      if (!cancel) return toBrokerOrder(rec);
      const canceled: SimOrderRecord = { ...rec, ...cancel, version: rec.version + 1 };
      const account: SimAccountRecord = {
        ...synced.account,
        version: synced.account.version + 1,
        openClientOrderIds: synced.account.openClientOrderIds.filter((id) => id !== clientOrderId),
        updatedAtMs: now,
      };
      const result = await this.store.commit({
        account: { record: account, expectedVersion: synced.accountVersion },
        orders: [{ record: canceled, expectedVersion: rec.version }],
      });
      if (result.ok) return toBrokerOrder(canceled);
    }
    throw new BrokerUnavailableError(
      `simulated broker: store stayed contended cancelling ${clientOrderId}`,
    );
  }

  async listOpenOrders(): Promise<readonly BrokerOrder[]> {
    const synced = await this.syncCommitted();
    return workingOrders(synced)
      .sort((a, b) => a.order.createdAtMs - b.order.createdAtMs)
      .map(toBrokerOrder);
  }

  /** Open positions with the broker's mark at `clock.now()` (see the module comment). */
  async listPositions(): Promise<readonly BrokerPosition[]> {
    const now = this.clock.now();
    const synced = await this.syncCommitted();
    const held = Object.values(synced.account.positions)
      .filter((p) => p.qty !== 0)
      .sort((a, b) => a.symbol.localeCompare(b.symbol));
    const out: BrokerPosition[] = [];
    for (const p of held) {
      out.push({
        symbol: p.symbol,
        qty: p.qty,
        avgEntryPriceUsd: p.avgEntryPriceUsd,
        marketPriceUsd: await markUsd(this.source, p.symbol, now, p.avgEntryPriceUsd),
      });
    }
    return out;
  }

  /** Cash, equity at the last marks, and buying power (see the module comment), USD. */
  async getAccount(): Promise<BrokerAccount> {
    const now = this.clock.now();
    const synced = await this.syncCommitted();
    const v = await this.valuation(synced, now);
    return {
      cashUsd: synced.account.cashUsd,
      equityUsd: v.equityUsd,
      buyingPowerUsd: v.buyingPowerUsd,
      grossExposureUsd: v.grossUsd,
      // As Alpaca's `daytrade_count`: day trades in the last five business days.
      dayTradeCount: dayTradeCount(
        synced.account.dayTradeLedger ?? EMPTY_DAY_TRADE_LEDGER,
        newYorkDate(now),
      ),
    };
  }

  /** Fills of one order, oldest first (empty for an unknown or unfilled order). */
  async getFills(clientOrderId: string): Promise<readonly SimFill[]> {
    const synced = await this.syncCommitted();
    const rec = synced.orders.get(clientOrderId) ?? (await this.store.getOrder(clientOrderId));
    return rec?.fills ?? [];
  }

  /** The account's ledger after booking the fills due by now. */
  async getLedger(): Promise<SimulatedLedger> {
    const { account } = await this.syncCommitted();
    return {
      startingCashUsd: account.startingCashUsd,
      cashUsd: account.cashUsd,
      realizedPnlUsd: account.realizedPnlUsd,
      feesUsd: account.feesUsd,
      positions: Object.values(account.positions).sort((a, b) => a.symbol.localeCompare(b.symbol)),
    };
  }

  // ---- internals ------------------------------------------------------------------------

  private backoff(attempt: number): Promise<void> {
    const ms = Math.random() * 5 * 2 ** Math.min(attempt, 6);
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  /** An order after a committed sync (for a duplicate submit). */
  private async readOrder(clientOrderId: string): Promise<BrokerOrder> {
    const found = await this.getOrderByClientOrderId(clientOrderId);
    if (!found) throw new NotFoundError('order', clientOrderId);
    return found;
  }

  /**
   * Advances every open order to now and commits the result, retrying on conflicts.
   *
   * Reads issued together share one sync: a call made while another call's sync has not yet
   * sent its first store read (the calls of one `Promise.all`, e.g. the account and the
   * positions a pre-trade check reads), at the same `clock.now()`, gets that sync's result.
   * Every sharer's call began before the store was read, so each still sees a state committed
   * during its own call; it saves one account read and one order batch read per sharer.
   */
  private syncCommitted(): Promise<Synced> {
    const now = this.clock.now();
    const batch = this.syncBatch;
    if (batch !== null && batch.now === now) return batch.result;
    const next: { now: number; result: Promise<Synced> } = {
      now,
      result: Promise.resolve() as never,
    };
    next.result = (async () => {
      await Promise.resolve(); // let the calls issued together join before the first read
      if (this.syncBatch === next) this.syncBatch = null;
      return this.syncCommittedNow();
    })();
    this.syncBatch = next;
    return next.result;
  }

  private async syncCommittedNow(): Promise<Synced> {
    for (let attempt = 0; attempt < MAX_COMMIT_ATTEMPTS; attempt++) {
      if (attempt > 0) await this.backoff(attempt);
      const synced = await this.sync(this.clock.now());
      if (synced !== null) return synced;
    }
    throw new BrokerUnavailableError('simulated broker: store stayed contended booking fills');
  }

  /**
   * Loads the account and its open orders, advances them to `now` and books their fills
   * (THE exchange account, `core/exchange/exchange-account.ts`), and commits the changes.
   * Returns the committed state, or null when the commit lost a race (the caller retries).
   */
  private async sync(now: number): Promise<Synced | null> {
    const stored = await this.store.loadAccount();
    const base: SimAccountRecord = stored ?? {
      version: 0,
      startingCashUsd: this.config.startingCashUsd,
      cashUsd: this.config.startingCashUsd,
      realizedPnlUsd: 0,
      feesUsd: 0,
      positions: {},
      openClientOrderIds: [],
      updatedAtMs: now,
    };
    const open = await this.store.getOrders(base.openClientOrderIds);
    const orders = new Map(open.map((rec) => [rec.order.clientOrderId, rec] as const));
    const changed: SimOrderRecord[] = [];
    const bookings: ExchangeBooking[] = [];
    // In submission order: fills of one minute are booked in the order they were submitted.
    for (const rec of [...open].sort(bySubmission)) {
      const advanced = await advanceExchangeOrder(rec, now, this.config, this.source);
      if (!advanced) continue;
      const record: SimOrderRecord = { ...advanced.order, version: rec.version + 1 };
      orders.set(rec.order.clientOrderId, record);
      changed.push(record);
      bookings.push(...advanced.bookings);
    }
    const restated = stored
      ? await restateForSplits(
          accountBookOf(base),
          base.updatedAtMs,
          now,
          (symbol, after, through) => this.marketData.splits(symbol, after, through),
        )
      : null;
    const settling = settleRegulatoryFees(booksOf(base), now) !== null;
    if (changed.length === 0 && restated === null && !settling) {
      return { account: base, accountVersion: stored ? stored.version : null, orders };
    }
    const booked = bookExchangeFills(
      { ...booksOf(base), ...(restated ? { book: restated } : {}) },
      bookings,
    );
    const { book, dayTrades, regulatoryFees } = settleRegulatoryFees(booked, now) ?? booked;
    const account: SimAccountRecord = {
      ...base,
      dayTradeLedger: dayTrades,
      regulatoryFees: regulatoryFees ?? null,
      cashUsd: book.cashUsd,
      realizedPnlUsd: book.realizedPnlUsd,
      feesUsd: book.feesUsd,
      positions: simPositionsOf(book),
      version: base.version + 1,
      openClientOrderIds: base.openClientOrderIds.filter((id) => {
        const rec = orders.get(id);
        return rec !== undefined && workingOf([rec]).length > 0;
      }),
      updatedAtMs: Math.max(base.updatedAtMs, now),
    };
    const writes: VersionedWrite<SimOrderRecord>[] = changed.map((rec) => ({
      record: rec,
      expectedVersion: rec.version - 1,
    }));
    const result = await this.store.commit({
      account: { record: account, expectedVersion: stored ? stored.version : null },
      orders: writes,
    });
    if (!result.ok) return null;
    return { account, accountVersion: account.version, orders };
  }

  /**
   * The record of a new order at `now` (THE exchange account's `admitOrder`): `new` when
   * accepted, `rejected` (with a reason) when the broker refuses it.
   *
   * @throws BrokerRejectedError for an order too malformed to build (not stored).
   */
  private async decide(
    request: BrokerOrderRequest,
    synced: Synced,
    now: number,
  ): Promise<SimOrderRecord> {
    const rule = this.config.patternDayTrader;
    const symbol = request.symbol.toUpperCase();
    const admitted = await admitOrder({
      request,
      nowMs: now,
      newBrokerOrderId: this.newOrderId,
      latencyMs: this.config.latencyMs,
      session: (s) => sessionOrUnknown(this.source, s, now),
      positionQty: synced.account.positions[symbol]?.qty ?? 0,
      working: workingOrders(synced),
      rules: {
        maxOpenOrders: this.config.maxOpenOrders,
        fractionalShares: this.config.fractionalShares,
        fractionable: !this.config.nonFractionableSymbols.includes(symbol),
        costs: this.config.costs,
      },
      dayTrades: rule
        ? { rule, ledger: synced.account.dayTradeLedger ?? EMPTY_DAY_TRADE_LEDGER }
        : null,
      valuation: () => this.valuation(synced, now),
    });
    return { ...admitted, version: 1 };
  }

  /** Equity, gross exposure, reservations and buying power at `now`, USD. */
  private async valuation(synced: Synced, now: number): Promise<AccountValuation> {
    const marked: { qty: number; markUsd: number }[] = [];
    for (const pos of Object.values(synced.account.positions)) {
      if (pos.qty === 0) continue;
      marked.push({
        qty: pos.qty,
        markUsd: await markUsd(this.source, pos.symbol, now, pos.avgEntryPriceUsd),
      });
    }
    return accountValuation({
      cashUsd: synced.account.cashUsd,
      marked,
      reservedUsd: heldReservationsUsd(workingOrders(synced)),
      multiplier: this.config.buyingPowerMultiplier,
    });
  }

  /**
   * One symbol's bars on `date` (cached), or null when the date has no session for it.
   *
   * @throws UnknownSymbolError when the symbol has no data at all; other market-data errors.
   */
  private symbolSession(date: string, symbol: string): Promise<SymbolMinutes | null> {
    const key = `${date}/${symbol}`;
    const cached = this.sessions.get(key);
    if (cached) return cached;
    const loading = this.loadSymbolSession(date, symbol);
    if (this.sessions.size >= SESSION_CACHE_SIZE) {
      const oldest = this.sessions.keys().next().value;
      if (oldest !== undefined) this.sessions.delete(oldest);
    }
    this.sessions.set(key, loading);
    loading.catch(() => this.sessions.delete(key));
    return loading;
  }

  private async loadSymbolSession(date: string, symbol: string): Promise<SymbolMinutes | null> {
    let session: MarketSession;
    try {
      session = await this.marketData.loadSession(date, [symbol]);
    } catch (err) {
      if (err instanceof NoSessionError) return null;
      throw err;
    }
    return symbolMinutes(session, session.symbols[0] ?? symbol);
  }
}
