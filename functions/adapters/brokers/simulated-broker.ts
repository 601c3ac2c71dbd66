/**
 * The built-in simulated paper broker: orders fill against real minute quote bars through THE
 * shared fill model (`functions/core/cohort/fill-model.ts`), so a paper run and the cohort
 * simulator price the same decision identically (the parity test replays a genome's fills
 * through this broker and compares them to the cent).
 *
 * Time comes from the injected clock; nothing happens in the background. Fills are computed
 * lazily whenever the broker is read (every port method): each open order is advanced over the
 * minute bars that have ENDED by `clock.now()` (no look-ahead), then the new state is written
 * through the {@link SimulatedBrokerStore} in one atomic, version-checked commit.
 *
 * Market hours: an order is accepted from the start of the first minute bar to the end of the
 * last minute bar of the symbol's session on the date of `clock.now()` (New York date; UTC for
 * crypto), i.e. the regular session as the data has it (half days included). A minute inside
 * it without a trade is accepted (the order fills in a later minute with volume); anything
 * outside, or a date without a session, is refused as `market closed`.
 *
 * Execution rules (per open order, per minute of its session, in time order):
 * - eligible minutes: those whose end is after `submittedAt + latencyMs` and at or before now;
 *   the order fills at the END of a minute, against that minute's closing quote (as the
 *   simulator fills a decision at the end of its minute);
 * - quantity: `min(remaining, participationFraction × minute volume)`, the cap rounded down to
 *   the quantity step (1e-6 share, or 1 share without fractional shares); a minute with no
 *   volume, or without a quote on the order's side, fills nothing. Participation applies per
 *   order (two orders on one symbol may each take the fraction);
 * - price and fee: `fillMarketOrder(order, { bid, ask }, costs)`, i.e. buy at ask, sell at bid,
 *   plus adverse slippage, and the fee schedule of the cohort config, computed per fill (so
 *   with `minFeeUsd > 0` a multi-fill order pays the minimum per fill);
 * - limit orders fill by the same rule only in minutes where that price is within the limit
 *   (buy: price <= limit; sell: price >= limit);
 * - time in force: `day` expires at the session close (end of its last minute bar); `gtc`
 *   carries over to the following sessions of the data; `ioc` fills what the first eligible
 *   minute allows and cancels the rest; `fok` fills the whole quantity in the first eligible
 *   minute or cancels; `opg` / `cls` are rejected (no auction model).
 *
 * Account: cash, signed positions with weighted-average cost and realized PnL, exactly the
 * accounting of the cohort ledger (`functions/core/cohort/ledger.ts`): cash moves by
 * `−signedQty × price − fee` per fill; realized PnL is gross of fees.
 *
 * Buying power (a margin model of our own, documented because Alpaca's is richer):
 * `max(0, buyingPowerMultiplier × equity − gross exposure − open-order reservations)`, equity =
 * cash + Σ qty × mark, gross = Σ |qty| × mark, marks = the last quote mid (else last trade)
 * of a minute that ended at or before now. With the default multiplier 1 an account may hold
 * gross exposure up to its equity, long or SHORT: a short sale's proceeds raise cash but its
 * exposure consumes buying power exactly like a long (so shorts need buying power too). A new
 * order reserves its opening part (the quantity that increases |position| after the other
 * open orders on the symbol) × the estimated fill price + the estimated fee; pure reductions
 * are always accepted. The estimate uses the last completed minute's quote (the current
 * minute's in the session's first minute).
 */

import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import {
  commissionUsd,
  type FillCosts,
  fillMarketOrder,
  fillPriceUsd,
  qtyStep,
  roundQtyDown,
} from '../../core/cohort/fill-model.js';
import { DUST_QTY } from '../../core/cohort/ledger.js';
import {
  BrokerRejectedError,
  BrokerUnavailableError,
  NoSessionError,
  NotFoundError,
  UnknownSymbolError,
  ValidationError,
} from '../../core/errors.js';
import { restatePositionForSplit } from '../../core/market/corporate-actions.js';
import type { MarketSession, SymbolSeries } from '../../core/market/types.js';
import { Order, type OrderSnapshot, type TimeInForce } from '../../core/orders/order.js';
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

/** One minute, ms. */
const MINUTE_MS = 60_000;
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
  /**
   * Orders that may be open at once (one commit writes every changed order plus the account,
   * and a DynamoDB transaction holds at most 100 items). @default 50
   */
  readonly maxOpenOrders?: number;
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
  costs: z.object({
    slippageBps: z.number().min(0).finite(),
    feePerShareUsd: z.number().min(0).finite(),
    minFeeUsd: z.number().min(0).finite(),
    maxFeeFraction: z.number().min(0).finite(),
  }),
  fractionalShares: z.boolean(),
  buyingPowerMultiplier: z.number().positive().max(10).default(1),
  maxOpenOrders: z.number().int().min(1).max(98).default(50),
});

type ResolvedConfig = z.infer<typeof ConfigSchema>;

function parseConfig(input: SimulatedBrokerConfig): ResolvedConfig {
  const parsed = ConfigSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new ValidationError(
    `config.${issue?.path.map(String).join('.') ?? ''}`,
    issue?.message ?? 'invalid simulated broker config',
  );
}

/** One symbol's bars of one session, with its bounds. */
interface SymbolSession {
  readonly date: string;
  readonly market: MarketSession['market'];
  readonly ts: Float64Array;
  readonly series: SymbolSeries;
  /** First minute's start, epoch ms UTC. */
  readonly openMs: number;
  /** Last minute's end, epoch ms UTC: day orders expire here. */
  readonly closeMs: number;
}

/** Account state while a sync is being computed. */
interface WorkingAccount {
  cashUsd: number;
  realizedPnlUsd: number;
  feesUsd: number;
  positions: Record<string, SimPosition>;
}

/** The state after a sync: account and every order that was open when it started. */
interface Synced {
  readonly account: SimAccountRecord;
  /** Version of the stored account (null when it does not exist yet). */
  readonly accountVersion: number | null;
  /** Orders open at load time, advanced to now (some may have become terminal). */
  readonly orders: Map<string, SimOrderRecord>;
}

const NY_DATE = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'America/New_York',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
});

const iso = (ms: number) => new Date(ms).toISOString();

/** Index of the first minute whose end is after `afterMs` (binary search). */
function firstMinuteEndingAfter(ts: Float64Array, afterMs: number): number {
  let lo = 0;
  let hi = ts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((ts[mid] as number) + MINUTE_MS > afterMs) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Quote mid (else trade close) of the last minute ending at or before `atMs`; NaN if none. */
function lastMark(s: SymbolSession, atMs: number): number {
  for (let i = firstMinuteEndingAfter(s.ts, atMs) - 1; i >= 0; i--) {
    const bid = s.series.bid[i] as number;
    const ask = s.series.ask[i] as number;
    if (bid > 0 && ask > 0) return 0.5 * (bid + ask);
    const close = s.series.close[i] as number;
    if (close > 0) return close;
  }
  return Number.NaN;
}

/**
 * Books one fill on a position: weighted-average cost when opening or adding, realized PnL
 * `(price − avg) × closed × sign(position)` when reducing, the remainder beyond flat opens
 * the other side at the fill price. Mirrors `AgentLedgers.applyFill` (cohort ledger) exactly,
 * so realized PnL matches the simulator's to the cent.
 */
function bookFill(
  account: WorkingAccount,
  symbol: string,
  signedQty: number,
  priceUsd: number,
  feeUsd: number,
): void {
  account.cashUsd = account.cashUsd - signedQty * priceUsd - feeUsd;
  account.feesUsd += feeUsd;
  const pos = account.positions[symbol] ?? {
    symbol,
    qty: 0,
    avgEntryPriceUsd: 0,
    realizedPnlUsd: 0,
  };
  const q = pos.qty;
  if (q === 0 || q > 0 === signedQty > 0) {
    const nq = q + signedQty;
    account.positions[symbol] = {
      ...pos,
      qty: nq,
      avgEntryPriceUsd:
        (pos.avgEntryPriceUsd * Math.abs(q) + priceUsd * Math.abs(signedQty)) / Math.abs(nq),
    };
    return;
  }
  let nq = q + signedQty;
  if (Math.abs(nq) < DUST_QTY) nq = 0;
  const closed = nq === 0 ? Math.abs(q) : Math.min(Math.abs(signedQty), Math.abs(q));
  const realized = (priceUsd - pos.avgEntryPriceUsd) * closed * (q > 0 ? 1 : -1);
  account.realizedPnlUsd += realized;
  let avg = pos.avgEntryPriceUsd;
  if (nq === 0) avg = 0;
  else if (nq > 0 !== q > 0) avg = priceUsd;
  account.positions[symbol] = {
    ...pos,
    qty: nq,
    avgEntryPriceUsd: avg,
    realizedPnlUsd: pos.realizedPnlUsd + realized,
  };
}

/** The port's view of a stored order. */
function toBrokerOrder(rec: SimOrderRecord): BrokerOrder {
  const o = rec.order;
  return {
    brokerOrderId: o.brokerOrderId ?? '',
    clientOrderId: o.clientOrderId,
    symbol: o.symbol,
    side: o.side,
    type: o.type,
    qty: o.qty,
    filledQty: o.filledQty,
    filledAvgPriceUsd: o.avgFillPriceUsd,
    status: o.status,
    submittedAtIso: iso(o.createdAtMs),
    updatedAtIso: iso(o.updatedAtMs),
    feesUsd: rec.feesUsd,
  };
}

/** Signed remaining quantity of an open order (buy > 0, sell < 0), shares. */
function signedRemaining(o: OrderSnapshot): number {
  const remaining = o.qty - o.filledQty;
  return o.side === 'buy' ? remaining : -remaining;
}

/** A fill waiting to be booked on the account, with its sort keys. */
interface PendingBooking {
  readonly fill: SimFill;
  readonly order: OrderSnapshot;
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
  private readonly sessions = new Map<string, Promise<SymbolSession | null>>();

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
      const order = Order.rehydrate(rec.order);
      if (order.isTerminal()) return toBrokerOrder(rec);
      const now = this.clock.now();
      order.apply({ type: 'canceled', atMs: Math.max(now, rec.order.updatedAtMs) });
      const canceled: SimOrderRecord = {
        ...rec,
        version: rec.version + 1,
        order: order.snapshot(),
      };
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
    return [...synced.orders.values()]
      .filter((rec) => !Order.rehydrate(rec.order).isTerminal())
      .sort((a, b) => a.order.createdAtMs - b.order.createdAtMs)
      .map(toBrokerOrder);
  }

  async listPositions(): Promise<readonly BrokerPosition[]> {
    const synced = await this.syncCommitted();
    return Object.values(synced.account.positions)
      .filter((p) => p.qty !== 0)
      .sort((a, b) => a.symbol.localeCompare(b.symbol))
      .map((p) => ({ symbol: p.symbol, qty: p.qty, avgEntryPriceUsd: p.avgEntryPriceUsd }));
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

  /** Advances every open order to now and commits the result, retrying on conflicts. */
  private async syncCommitted(): Promise<Synced> {
    for (let attempt = 0; attempt < MAX_COMMIT_ATTEMPTS; attempt++) {
      if (attempt > 0) await this.backoff(attempt);
      const synced = await this.sync(this.clock.now());
      if (synced !== null) return synced;
    }
    throw new BrokerUnavailableError('simulated broker: store stayed contended booking fills');
  }

  /**
   * Loads the account and its open orders, advances them to `now`, and commits the changes.
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
    const bookings: PendingBooking[] = [];
    for (const rec of open) {
      const advanced = await this.advanceOrder(rec, now);
      if (!advanced) continue;
      orders.set(rec.order.clientOrderId, advanced.record);
      changed.push(advanced.record);
      for (const fill of advanced.fills) bookings.push({ fill, order: advanced.record.order });
    }
    const restated = stored ? await this.restateForSplits(base, now) : null;
    if (changed.length === 0 && restated === null) {
      return { account: base, accountVersion: stored ? stored.version : null, orders };
    }
    // Book fills in time order across orders (then submission order), as they happened.
    bookings.sort(
      (a, b) =>
        a.fill.atMs - b.fill.atMs ||
        a.order.createdAtMs - b.order.createdAtMs ||
        a.order.clientOrderId.localeCompare(b.order.clientOrderId),
    );
    const working: WorkingAccount = {
      cashUsd: base.cashUsd,
      realizedPnlUsd: base.realizedPnlUsd,
      feesUsd: base.feesUsd,
      positions: { ...(restated ?? base.positions) },
    };
    for (const { fill, order } of bookings) {
      const signed = order.side === 'buy' ? fill.qty : -fill.qty;
      bookFill(working, order.symbol, signed, fill.priceUsd, fill.feeUsd);
    }
    const account: SimAccountRecord = {
      ...base,
      ...working,
      version: base.version + 1,
      openClientOrderIds: base.openClientOrderIds.filter((id) => {
        const rec = orders.get(id);
        return rec !== undefined && !Order.rehydrate(rec.order).isTerminal();
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
   * Positions re-stated across the splits effective after the account's last update (New
   * York date) through `now`'s date, as a broker does on the split day: quantity times the
   * ratio, average price divided by it (value unchanged). Null when no split applies.
   */
  private async restateForSplits(
    base: SimAccountRecord,
    now: number,
  ): Promise<Record<string, SimPosition> | null> {
    const after = NY_DATE.format(base.updatedAtMs);
    const through = NY_DATE.format(now);
    if (after >= through) return null;
    let out: Record<string, SimPosition> | null = null;
    for (const pos of Object.values(base.positions)) {
      if (pos.qty === 0) continue;
      for (const split of await this.marketData.splits(pos.symbol, after, through)) {
        out ??= { ...base.positions };
        const cur = out[pos.symbol] as SimPosition;
        const r = restatePositionForSplit(
          { qty: cur.qty, avgCostUsd: cur.avgEntryPriceUsd },
          split.ratio,
        );
        out[pos.symbol] = { ...cur, qty: r.qty, avgEntryPriceUsd: r.avgCostUsd ?? 0 };
      }
    }
    return out;
  }

  /**
   * Advances one open order over the minutes that ended by `now`. Returns the new record
   * (version + 1) and its new fills, or null when nothing changed.
   */
  private async advanceOrder(
    rec: SimOrderRecord,
    now: number,
  ): Promise<{ record: SimOrderRecord; fills: SimFill[] } | null> {
    const order = Order.rehydrate(rec.order);
    if (order.isTerminal()) return null;
    const snap = rec.order;
    const tif: TimeInForce = snap.timeInForce;
    const step = qtyStep(this.config.fractionalShares);
    const fills: SimFill[] = [];
    let feesUsd = rec.feesUsd;
    let processed = rec.processedThroughMs;
    let sessionDate = rec.sessionDate;
    let changed = false;
    for (;;) {
      const session = await this.symbolSession(sessionDate, snap.symbol);
      if (!session) break;
      const { ts, series } = session;
      for (let i = firstMinuteEndingAfter(ts, processed); i < ts.length; i++) {
        const startMs = ts[i] as number;
        const endMs = startMs + MINUTE_MS;
        if (endMs > now) break;
        processed = endMs;
        changed = true;
        const remaining = order.remainingQty;
        const volume = series.volume[i] as number;
        const cap = this.config.participationFraction * volume;
        let qty = 0;
        if (volume > 0) qty = cap >= remaining ? remaining : roundQtyDown(cap, step);
        if (tif === 'fok' && !(cap >= remaining)) qty = 0;
        if (qty > 0) {
          const fill = fillMarketOrder(
            { side: snap.side, qty },
            { bid: series.bid[i] as number, ask: series.ask[i] as number },
            this.config.costs,
          );
          if (fill && this.withinLimit(snap, fill.priceUsd)) {
            order.apply({ type: 'fill', atMs: endMs, qty: fill.qty, priceUsd: fill.priceUsd });
            feesUsd += fill.feeUsd;
            fills.push({
              minuteStartMs: startMs,
              atMs: endMs,
              qty: fill.qty,
              priceUsd: fill.priceUsd,
              feeUsd: fill.feeUsd,
            });
          }
        }
        if (order.isTerminal()) break;
        if (tif === 'ioc' || tif === 'fok') {
          order.apply({ type: 'canceled', atMs: endMs });
          break;
        }
      }
      if (order.isTerminal() || now < session.closeMs) break;
      // The session is over for this order.
      if (tif === 'gtc') {
        const next = await this.nextSession(snap.symbol, sessionDate);
        if (!next || next.openMs > now) break;
        sessionDate = next.date;
        changed = true;
        continue;
      }
      order.apply({ type: tif === 'day' ? 'expired' : 'canceled', atMs: session.closeMs });
      changed = true;
      break;
    }
    if (!changed) return null;
    return {
      record: {
        ...rec,
        version: rec.version + 1,
        order: order.snapshot(),
        processedThroughMs: processed,
        sessionDate,
        feesUsd,
        fills: [...rec.fills, ...fills],
      },
      fills,
    };
  }

  private withinLimit(o: OrderSnapshot, priceUsd: number): boolean {
    if (o.type !== 'limit' || o.limitPriceUsd === null) return true;
    return o.side === 'buy' ? priceUsd <= o.limitPriceUsd : priceUsd >= o.limitPriceUsd;
  }

  /**
   * Builds the record of a new order at `now`: `new` when accepted, `rejected` (with a reason)
   * when the broker refuses it.
   *
   * @throws BrokerRejectedError for an order too malformed to build (not stored).
   */
  private async decide(
    request: BrokerOrderRequest,
    synced: Synced,
    now: number,
  ): Promise<SimOrderRecord> {
    let order: Order;
    try {
      order = Order.create(
        {
          clientOrderId: request.clientOrderId,
          symbol: request.symbol.toUpperCase(),
          side: request.side,
          qty: request.qty,
          type: request.type,
          limitPriceUsd: request.type === 'limit' ? (request.limitPriceUsd ?? null) : null,
          timeInForce: request.timeInForce,
        },
        now,
      );
    } catch (err) {
      if (err instanceof ValidationError) {
        throw new BrokerRejectedError(request.clientOrderId, `invalid order: ${err.message}`);
      }
      throw err;
    }
    const brokerOrderId = this.newOrderId();
    const record = (sessionDate: string, reservedUsd: number): SimOrderRecord => ({
      version: 1,
      order: order.snapshot(),
      fillableAtMs: now + this.config.latencyMs,
      processedThroughMs: now + this.config.latencyMs,
      sessionDate,
      reservedUsd,
      feesUsd: 0,
      fills: [],
    });
    const reject = (reason: string, sessionDate = ''): SimOrderRecord => {
      order.apply({ type: 'pending_new', atMs: now, brokerOrderId });
      order.apply({ type: 'rejected', atMs: now, reason });
      return record(sessionDate, 0);
    };
    const snap = order.snapshot();
    if (snap.timeInForce === 'opg' || snap.timeInForce === 'cls') {
      return reject(`time_in_force ${snap.timeInForce} not supported by the simulated broker`);
    }
    if (!this.config.fractionalShares && !Number.isInteger(snap.qty)) {
      return reject('fractional quantity not allowed');
    }
    let session: SymbolSession | null;
    try {
      session = await this.sessionAt(snap.symbol, now);
    } catch (err) {
      if (err instanceof UnknownSymbolError) return reject('unknown symbol');
      throw err;
    }
    if (!session || now < session.openMs || now >= session.closeMs) {
      return reject('market closed', session?.date ?? '');
    }
    const openCount = synced.account.openClientOrderIds.filter((id) => {
      const rec = synced.orders.get(id);
      return rec !== undefined && !Order.rehydrate(rec.order).isTerminal();
    }).length;
    if (openCount >= this.config.maxOpenOrders) {
      return reject('too many open orders', session.date);
    }
    const reservedUsd = await this.requiredBuyingPower(snap, session, synced, now);
    if (reservedUsd === null) return reject('no quote to price the order', session.date);
    if (reservedUsd > 0) {
      const { buyingPowerUsd } = await this.valuation(synced, now);
      if (reservedUsd > buyingPowerUsd) {
        return reject('insufficient buying power', session.date);
      }
    }
    order.apply({ type: 'new', atMs: now, brokerOrderId });
    return record(session.date, reservedUsd);
  }

  /**
   * Buying power the order needs, USD: its opening part × the estimated fill price + the
   * estimated fee (0 for a pure reduction); null when no quote can price it.
   */
  private async requiredBuyingPower(
    o: OrderSnapshot,
    session: SymbolSession,
    synced: Synced,
    now: number,
  ): Promise<number | null> {
    let effective = synced.account.positions[o.symbol]?.qty ?? 0;
    for (const rec of synced.orders.values()) {
      if (rec.order.symbol !== o.symbol || Order.rehydrate(rec.order).isTerminal()) continue;
      effective += signedRemaining(rec.order);
    }
    const sameWay = effective === 0 || effective > 0 === (o.side === 'buy');
    const opening = sameWay ? o.qty : Math.max(0, o.qty - Math.abs(effective));
    if (opening <= 0) return 0;
    const price = this.estimatePrice(o, session, now);
    if (!(price > 0)) return null;
    return opening * price + commissionUsd(o.qty, price, this.config.costs);
  }

  /**
   * Estimated price per share, USD: the limit price of a limit order; otherwise the fill-model
   * price against the last completed minute's quote (the current minute's when none has
   * completed yet, i.e. in the session's first minute); NaN when there is no quote.
   */
  private estimatePrice(o: OrderSnapshot, s: SymbolSession, now: number): number {
    if (o.type === 'limit' && o.limitPriceUsd !== null) return o.limitPriceUsd;
    const quoted = (i: number) =>
      fillPriceUsd(
        o.side,
        s.series.bid[i] as number,
        s.series.ask[i] as number,
        this.config.costs.slippageBps,
      );
    const current = firstMinuteEndingAfter(s.ts, now);
    for (let i = current - 1; i >= 0; i--) {
      const price = quoted(i);
      if (price > 0) return price;
    }
    return current < s.ts.length ? quoted(current) : Number.NaN;
  }

  /** Equity, gross exposure, reservations and buying power at `now`, USD. */
  private async valuation(
    synced: Synced,
    now: number,
  ): Promise<{ equityUsd: number; grossUsd: number; buyingPowerUsd: number }> {
    let equityUsd = synced.account.cashUsd;
    let grossUsd = 0;
    for (const pos of Object.values(synced.account.positions)) {
      if (pos.qty === 0) continue;
      const mark = await this.markUsd(pos.symbol, now, pos.avgEntryPriceUsd);
      equityUsd += pos.qty * mark;
      grossUsd += Math.abs(pos.qty) * mark;
    }
    let reservedUsd = 0;
    for (const rec of synced.orders.values()) {
      if (Order.rehydrate(rec.order).isTerminal() || rec.order.qty <= 0) continue;
      reservedUsd += (rec.reservedUsd * (rec.order.qty - rec.order.filledQty)) / rec.order.qty;
    }
    const buyingPowerUsd = Math.max(
      0,
      this.config.buyingPowerMultiplier * equityUsd - grossUsd - reservedUsd,
    );
    return { equityUsd, grossUsd, buyingPowerUsd };
  }

  /**
   * Mark of `symbol` at `now`, USD: the last quote mid (else trade close) of a minute that
   * ended by now in today's session, else the last one of the previous session in the data,
   * else `fallback`.
   */
  private async markUsd(symbol: string, now: number, fallback: number): Promise<number> {
    const today = await this.sessionAt(symbol, now);
    if (today) {
      const mark = lastMark(today, now);
      if (mark > 0) return mark;
    }
    const dates = await this.marketData.listSessions([symbol]);
    const todayDate = today?.date ?? NY_DATE.format(now);
    for (let i = dates.length - 1; i >= 0; i--) {
      const date = dates[i] as string;
      if (date >= todayDate) continue;
      const previous = await this.symbolSession(date, symbol);
      const mark = previous ? lastMark(previous, Number.POSITIVE_INFINITY) : Number.NaN;
      if (mark > 0) return mark;
      break;
    }
    return fallback;
  }

  /**
   * The session of `symbol` containing the date of `atMs` (New York date for equities, UTC
   * date for crypto), or null when that date has no session in the data.
   *
   * @throws UnknownSymbolError when the symbol has no data at all.
   */
  private async sessionAt(symbol: string, atMs: number): Promise<SymbolSession | null> {
    const nyDate = NY_DATE.format(atMs);
    const utcDate = new Date(atMs).toISOString().slice(0, 10);
    const ny = await this.symbolSession(nyDate, symbol);
    if (ny && ny.market !== 'crypto') return ny;
    if (ny && utcDate === nyDate) return ny;
    const utc = utcDate === nyDate ? null : await this.symbolSession(utcDate, symbol);
    return utc && utc.market === 'crypto' ? utc : null;
  }

  /** The first session of `symbol` after `date` in the data, or null. */
  private async nextSession(symbol: string, date: string): Promise<SymbolSession | null> {
    const dates = await this.marketData.listSessions([symbol]);
    const next = dates.find((d) => d > date);
    return next ? this.symbolSession(next, symbol) : null;
  }

  /**
   * One symbol's bars on `date` (cached), or null when the date has no session for it.
   *
   * @throws UnknownSymbolError when the symbol has no data at all; other market-data errors.
   */
  private symbolSession(date: string, symbol: string): Promise<SymbolSession | null> {
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

  private async loadSymbolSession(date: string, symbol: string): Promise<SymbolSession | null> {
    let session: MarketSession;
    try {
      session = await this.marketData.loadSession(date, [symbol]);
    } catch (err) {
      if (err instanceof NoSessionError) return null;
      throw err;
    }
    const series = session.series[0];
    const ts = session.timestamps;
    if (!series || ts.length === 0) return null;
    return {
      date: session.date,
      market: session.market,
      ts,
      series,
      openMs: ts[0] as number,
      closeMs: (ts[ts.length - 1] as number) + MINUTE_MS,
    };
  }
}
