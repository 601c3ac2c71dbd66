/**
 * An in-memory broker over THE exchange model (`exchange/exchange-model.ts`) and THE position
 * book: the paper session's reference simulation sends its orders here. It accepts and
 * refuses through the same account rules as the simulated paper broker
 * (`exchange/order-acceptance.ts`) and fills through the same exchange model with the same
 * configuration (timing and latency, participation, fill prices and fees, day orders expiring
 * at the close, buying power, what Alpaca refuses), without persistence. One symbol session at
 * a time; no open-order limit (the reference never sends more than the session's few orders)
 * and every asset fractionable. It keeps the account's day-trade ledger as the simulated broker
 * does (`exchange/day-trades.ts`: every fill, in fill order, against the position before it),
 * reports the count as `dayTradeCount`, and, when given the pattern-day-trader rule, refuses the
 * order that could complete a day trade beyond it, with the simulated broker's reason.
 *
 * Quantities shares, prices USD per share, money USD, times epoch ms UTC / ISO-8601.
 */

import type {
  BrokerAccount,
  BrokerOrder,
  BrokerOrderRequest,
  BrokerPort,
  BrokerPosition,
} from '../../ports/broker.js';
import type { Clock } from '../../ports/clock.js';
import { BrokerRejectedError, NotFoundError } from '../errors.js';
import {
  type DayTradeLedger,
  dayTradeCount,
  EMPTY_DAY_TRADE_LEDGER,
  type PatternDayTraderRule,
  pdtRefusal,
  recordDayTradeFill,
} from '../exchange/day-trades.js';
import {
  type ExchangeConfig,
  lastMark,
  matchOrder,
  type SymbolMinutes,
} from '../exchange/exchange-model.js';
import {
  type AccountValuation,
  acceptOrder,
  accountValuation,
  effectiveQty,
  heldReservationsUsd,
} from '../exchange/order-acceptance.js';
import { type AccountBook, applyBookFill, emptyAccountBook } from '../exchange/position-book.js';
import { Order, type OrderSnapshot } from '../orders/order.js';

interface Working {
  readonly order: Order;
  processedThroughMs: number;
  feesUsd: number;
  reservedUsd: number;
}

/** The account's pattern-day-trader state at the start (see {@link ExchangeBroker}). */
export interface ExchangeBrokerDayTrades {
  /**
   * The protection to apply (FINRA's numbers at Alpaca and the simulated broker); null or
   * absent: off (the count is still kept).
   */
  readonly rule?: PatternDayTraderRule | null;
  /**
   * Day trades the account already had in the five business days ending on the session's
   * date when the session started (the broker's `daytrade_count`); null: the broker reported
   * none, so this broker reports none either and applies no protection.
   */
  readonly countAtStart: number | null;
}

/** {@link BrokerPort} `simulated` in memory, over one symbol's session minutes. */
export class ExchangeBroker implements BrokerPort {
  readonly name = 'simulated' as const;
  private book: AccountBook;
  private readonly orders = new Map<string, Working>();
  private seq = 0;
  private ledger: DayTradeLedger;

  constructor(
    private readonly minutes: SymbolMinutes,
    private readonly symbol: string,
    private readonly clock: Clock,
    private readonly config: ExchangeConfig,
    startingCashUsd: number,
    private readonly dayTrades: ExchangeBrokerDayTrades = { countAtStart: 0 },
  ) {
    this.book = emptyAccountBook(startingCashUsd);
    // The earlier day trades, all dated on the session's date: only their count in the
    // window ending today matters for a one-day session.
    const before = Array.from({ length: dayTrades.countAtStart ?? 0 }, () => ({
      date: minutes.date,
      symbol: '',
    }));
    this.ledger = { ...EMPTY_DAY_TRADE_LEDGER, dayTrades: before };
  }

  /** Books the fills due by now (every order, in time order). */
  private sync(): void {
    const now = this.clock.now();
    const fills: {
      atMs: number;
      n: number;
      side: 'buy' | 'sell';
      qty: number;
      priceUsd: number;
      feeUsd: number;
    }[] = [];
    let n = 0;
    for (const w of this.orders.values()) {
      n++;
      if (w.order.isTerminal()) continue;
      const matched = matchOrder(w.order, this.minutes, w.processedThroughMs, now, this.config);
      w.processedThroughMs = matched.processedThroughMs;
      for (const f of matched.fills) {
        w.feesUsd += f.feeUsd;
        fills.push({
          atMs: f.atMs,
          n,
          side: w.order.snapshot().side,
          qty: f.qty,
          priceUsd: f.priceUsd,
          feeUsd: f.feeUsd,
        });
      }
    }
    fills.sort((a, b) => a.atMs - b.atMs || a.n - b.n);
    for (const f of fills) {
      this.ledger = recordDayTradeFill(this.ledger, {
        symbol: this.symbol,
        date: this.minutes.date,
        market: this.minutes.market,
        positionBefore: this.book.positions[this.symbol]?.qty ?? 0,
        signedQty: f.side === 'buy' ? f.qty : -f.qty,
      });
      this.book = applyBookFill(this.book, { symbol: this.symbol, ...f });
    }
  }

  /** The PDT protection's refusal of `snap` (as the simulated broker's `pdtCheck`), or null. */
  private pdtCheck(snap: OrderSnapshot, now: number): string | null {
    const rule = this.dayTrades.rule;
    if (!rule || this.dayTrades.countAtStart === null) return null;
    return pdtRefusal({
      rule,
      ledger: this.ledger,
      market: this.minutes.market,
      date: this.minutes.date,
      equityUsd: this.valuation(now).equityUsd,
      symbol: snap.symbol,
      side: snap.side,
      position: this.book.positions[snap.symbol]?.qty ?? 0,
      workingSides: this.working().map((w) => w.order.snapshot().side),
    });
  }

  private view(w: Working): BrokerOrder {
    return brokerOrderOf(w.order.snapshot(), w.feesUsd);
  }

  /** The orders still working (not terminal). */
  private working(): Working[] {
    return [...this.orders.values()].filter((w) => !w.order.isTerminal());
  }

  private views(): { order: OrderSnapshot; reservedUsd: number }[] {
    return this.working().map((w) => ({ order: w.order.snapshot(), reservedUsd: w.reservedUsd }));
  }

  private valuation(now: number): AccountValuation {
    const q = this.book.positions[this.symbol]?.qty ?? 0;
    const mark = lastMark(this.minutes, now);
    const m = mark > 0 ? mark : (this.book.positions[this.symbol]?.avgPriceUsd ?? 0);
    return accountValuation({
      cashUsd: this.book.cashUsd,
      marked: [{ qty: q, markUsd: m }],
      reservedUsd: heldReservationsUsd(this.views()),
      multiplier: this.config.buyingPowerMultiplier,
    });
  }

  async submitOrder(r: BrokerOrderRequest): Promise<{ order: BrokerOrder; duplicate: boolean }> {
    const existing = this.orders.get(r.clientOrderId);
    if (existing) {
      this.sync();
      return { order: this.view(existing), duplicate: true };
    }
    this.sync();
    const now = this.clock.now();
    const order = Order.create(
      {
        clientOrderId: r.clientOrderId,
        symbol: r.symbol,
        side: r.side,
        qty: r.qty,
        type: r.type,
        limitPriceUsd: r.type === 'limit' ? (r.limitPriceUsd ?? null) : null,
        timeInForce: r.timeInForce,
      },
      now,
    );
    const w: Working = {
      order,
      processedThroughMs: now + this.config.latencyMs,
      feesUsd: 0,
      reservedUsd: 0,
    };
    const brokerOrderId = `ref-${++this.seq}`;
    const reject = (reason: string): never => {
      order.apply({ type: 'pending_new', atMs: now, brokerOrderId });
      order.apply({ type: 'rejected', atMs: now, reason });
      this.orders.set(r.clientOrderId, w);
      throw new BrokerRejectedError(r.clientOrderId, reason);
    };
    const views = this.views();
    const decision = await acceptOrder({
      order: order.snapshot(),
      session: this.minutes,
      nowMs: now,
      effective: effectiveQty(this.symbol, this.book.positions[this.symbol]?.qty ?? 0, views),
      openOrderCount: views.length,
      rules: {
        maxOpenOrders: Number.POSITIVE_INFINITY,
        fractionalShares: this.config.fractionalShares,
        fractionable: true,
        costs: this.config.costs,
      },
      buyingPowerUsd: () => this.valuation(now).buyingPowerUsd,
    });
    if (!decision.accepted) reject(decision.reason);
    else w.reservedUsd = decision.reservedUsd;
    const pdt = this.pdtCheck(order.snapshot(), now);
    if (pdt) reject(pdt);
    order.apply({ type: 'new', atMs: now, brokerOrderId });
    this.orders.set(r.clientOrderId, w);
    return { order: this.view(w), duplicate: false };
  }

  async getOrderByClientOrderId(clientOrderId: string): Promise<BrokerOrder | null> {
    this.sync();
    const w = this.orders.get(clientOrderId);
    return w ? this.view(w) : null;
  }

  async cancelOrder(clientOrderId: string): Promise<BrokerOrder> {
    this.sync();
    const w = this.orders.get(clientOrderId);
    if (!w) throw new NotFoundError('order', clientOrderId);
    if (!w.order.isTerminal()) {
      w.order.apply({
        type: 'canceled',
        atMs: Math.max(this.clock.now(), w.order.snapshot().updatedAtMs),
      });
    }
    return this.view(w);
  }

  async listOpenOrders(): Promise<readonly BrokerOrder[]> {
    this.sync();
    return [...this.orders.values()].filter((w) => !w.order.isTerminal()).map((w) => this.view(w));
  }

  async listPositions(): Promise<readonly BrokerPosition[]> {
    this.sync();
    const p = this.book.positions[this.symbol];
    return p && p.qty !== 0
      ? [{ symbol: p.symbol, qty: p.qty, avgEntryPriceUsd: p.avgPriceUsd }]
      : [];
  }

  async getAccount(): Promise<BrokerAccount> {
    this.sync();
    const v = this.valuation(this.clock.now());
    return {
      cashUsd: this.book.cashUsd,
      equityUsd: v.equityUsd,
      buyingPowerUsd: v.buyingPowerUsd,
      grossExposureUsd: v.grossUsd,
      ...(this.dayTrades.countAtStart === null
        ? {}
        : { dayTradeCount: dayTradeCount(this.ledger, this.minutes.date) }),
    };
  }
}

/**
 * The broker port's view of an order: its snapshot (`functions/core/orders`) and the fees
 * charged so far (USD). Times as UTC ISO-8601; a missing broker id is `''`.
 */
export function brokerOrderOf(o: OrderSnapshot, feesUsd: number): BrokerOrder {
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
    submittedAtIso: new Date(o.createdAtMs).toISOString(),
    updatedAtIso: new Date(o.updatedAtMs).toISOString(),
    feesUsd,
  };
}
