/**
 * An in-memory broker over THE exchange account (`exchange/exchange-account.ts`, which composes
 * the exchange model, the account rules and THE position book): the paper session's reference
 * simulation sends its orders here. It admits, works, books and cancels orders through the same
 * functions as the simulated paper broker, with the same configuration (timing and latency,
 * participation, fill prices and fees, day orders expiring at the close, buying power, what
 * Alpaca refuses), without persistence. One symbol session at
 * a time; no open-order limit (the reference never sends more than the session's few orders)
 * and every asset fractionable. It keeps the account's day-trade ledger as the simulated broker
 * does (`exchange/day-trades.ts`: every fill, in fill order, against the position before it),
 * reports the count as `dayTradeCount`, and, when given the pattern-day-trader rule, refuses the
 * order that could complete a day trade beyond it, with the simulated broker's reason. Its
 * orders report their regulatory fees by type, and the account pays the day's rounding of them
 * once the New York date is over, as the simulated broker does (`exchange/regulatory-fees.ts`).
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
} from '../exchange/day-trades.js';
import {
  admitOrder,
  advanceExchangeOrder,
  bookExchangeFills,
  cancelExchangeOrder,
  type ExchangeBooking,
  type ExchangeOrder,
  type SessionSource,
  settleRegulatoryFees,
  workingOf,
} from '../exchange/exchange-account.js';
import {
  type ExchangeConfig,
  type ExchangeFill,
  lastMark,
  type SymbolMinutes,
} from '../exchange/exchange-model.js';
import {
  type AccountValuation,
  accountValuation,
  heldReservationsUsd,
} from '../exchange/order-acceptance.js';
import { type AccountBook, emptyAccountBook } from '../exchange/position-book.js';
import {
  hasRegulatoryFees,
  type RegulatoryFeeAccrual,
  sumRegulatoryFees,
} from '../exchange/regulatory-fees.js';
import type { OrderSnapshot } from '../orders/order.js';

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
  /** Every order by client_order_id, in submission order. */
  private readonly orders = new Map<string, ExchangeOrder>();
  private seq = 0;
  private ledger: DayTradeLedger;
  /** Regulatory fees accrued on the session date, charged rounded up at its end. */
  private regulatoryFees: RegulatoryFeeAccrual | null = null;
  /** The one session, as THE exchange account reads sessions. */
  private readonly source: SessionSource;

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
    this.source = {
      session: (date) => (date === minutes.date ? minutes : null),
      sessionDates: () => [minutes.date],
    };
  }

  /** Works every order to now and books the fills due (THE exchange account). */
  private async sync(): Promise<void> {
    const now = this.clock.now();
    const bookings: ExchangeBooking[] = [];
    for (const [id, rec] of this.orders) {
      const advanced = await advanceExchangeOrder(rec, now, this.config, this.source);
      if (!advanced) continue;
      this.orders.set(id, advanced.order);
      bookings.push(...advanced.bookings);
    }
    const booked = bookExchangeFills(
      { book: this.book, dayTrades: this.ledger, regulatoryFees: this.regulatoryFees },
      bookings,
    );
    const books = settleRegulatoryFees(booked, now) ?? booked;
    this.book = books.book;
    this.ledger = books.dayTrades;
    this.regulatoryFees = books.regulatoryFees ?? null;
  }

  private view(rec: ExchangeOrder): BrokerOrder {
    return brokerOrderOf(rec.order, rec.feesUsd, rec.fills);
  }

  private valuation(now: number): AccountValuation {
    const q = this.book.positions[this.symbol]?.qty ?? 0;
    const mark = lastMark(this.minutes, now);
    const m = mark > 0 ? mark : (this.book.positions[this.symbol]?.avgPriceUsd ?? 0);
    return accountValuation({
      cashUsd: this.book.cashUsd,
      marked: [{ qty: q, markUsd: m }],
      reservedUsd: heldReservationsUsd(workingOf(this.orders.values())),
      multiplier: this.config.buyingPowerMultiplier,
    });
  }

  async submitOrder(r: BrokerOrderRequest): Promise<{ order: BrokerOrder; duplicate: boolean }> {
    await this.sync();
    const existing = this.orders.get(r.clientOrderId);
    if (existing) return { order: this.view(existing), duplicate: true };
    const now = this.clock.now();
    const rule = this.dayTrades.rule;
    const admitted = await admitOrder({
      request: r,
      nowMs: now,
      newBrokerOrderId: () => `ref-${++this.seq}`,
      latencyMs: this.config.latencyMs,
      session: () => this.minutes,
      positionQty: this.book.positions[this.symbol]?.qty ?? 0,
      working: workingOf(this.orders.values()),
      rules: {
        maxOpenOrders: Number.POSITIVE_INFINITY,
        fractionalShares: this.config.fractionalShares,
        fractionable: true,
        costs: this.config.costs,
      },
      dayTrades:
        rule && this.dayTrades.countAtStart !== null ? { rule, ledger: this.ledger } : null,
      valuation: () => this.valuation(now),
    });
    this.orders.set(r.clientOrderId, admitted);
    if (admitted.order.status === 'rejected') {
      throw new BrokerRejectedError(r.clientOrderId, admitted.order.rejectReason ?? 'rejected');
    }
    return { order: this.view(admitted), duplicate: false };
  }

  async getOrderByClientOrderId(clientOrderId: string): Promise<BrokerOrder | null> {
    await this.sync();
    const w = this.orders.get(clientOrderId);
    return w ? this.view(w) : null;
  }

  async cancelOrder(clientOrderId: string): Promise<BrokerOrder> {
    await this.sync();
    const rec = this.orders.get(clientOrderId);
    if (!rec) throw new NotFoundError('order', clientOrderId);
    const canceled = cancelExchangeOrder(rec, this.clock.now());
    if (canceled) this.orders.set(clientOrderId, canceled);
    return this.view(canceled ?? rec);
  }

  async listOpenOrders(): Promise<readonly BrokerOrder[]> {
    await this.sync();
    return workingOf(this.orders.values()).map((rec) => this.view(rec));
  }

  async listPositions(): Promise<readonly BrokerPosition[]> {
    await this.sync();
    const p = this.book.positions[this.symbol];
    return p && p.qty !== 0
      ? [{ symbol: p.symbol, qty: p.qty, avgEntryPriceUsd: p.avgPriceUsd }]
      : [];
  }

  async getAccount(): Promise<BrokerAccount> {
    await this.sync();
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
 * The broker port's view of an order: its snapshot (`functions/core/orders`), the fees charged
 * so far (USD) and, when its fills accrued any, their regulatory part by fee type (USD,
 * unrounded: the account's daily rounding is not an order's). Times as UTC ISO-8601; a
 * missing broker id is `''`.
 */
export function brokerOrderOf(
  o: OrderSnapshot,
  feesUsd: number,
  fills: readonly ExchangeFill[] = [],
): BrokerOrder {
  const regulatory = sumRegulatoryFees(fills.map((f) => f.regulatoryFeesUsd));
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
    timeInForce: o.timeInForce,
    feesUsd,
    ...(hasRegulatoryFees(regulatory) ? { regulatoryFeesUsd: regulatory } : {}),
  };
}
