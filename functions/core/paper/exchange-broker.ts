/**
 * An in-memory broker over THE exchange model (`exchange/exchange-model.ts`) and THE position
 * book: the paper session's reference simulation sends its orders here. It accepts, refuses
 * and fills exactly as the simulated paper broker does with the same configuration (timing and
 * latency, participation, fill prices and fees, day orders expiring at the close, buying
 * power, what Alpaca refuses), without persistence. One symbol session at a time.
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
  alpacaRefusal,
  buyingPowerUsd,
  type ExchangeConfig,
  estimatePriceUsd,
  lastMark,
  matchOrder,
  openingQty,
  requiredBuyingPowerUsd,
  type SymbolMinutes,
} from '../exchange/exchange-model.js';
import { type AccountBook, applyBookFill, emptyAccountBook } from '../exchange/position-book.js';
import { Order, type OrderSnapshot } from '../orders/order.js';

interface Working {
  readonly order: Order;
  processedThroughMs: number;
  feesUsd: number;
  reservedUsd: number;
}

/** {@link BrokerPort} `simulated` in memory, over one symbol's session minutes. */
export class ExchangeBroker implements BrokerPort {
  readonly name = 'simulated' as const;
  private book: AccountBook;
  private readonly orders = new Map<string, Working>();
  private seq = 0;

  constructor(
    private readonly minutes: SymbolMinutes,
    private readonly symbol: string,
    private readonly clock: Clock,
    private readonly config: ExchangeConfig,
    startingCashUsd: number,
  ) {
    this.book = emptyAccountBook(startingCashUsd);
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
      this.book = applyBookFill(this.book, { symbol: this.symbol, ...f });
    }
  }

  private view(w: Working): BrokerOrder {
    return brokerOrderOf(w.order.snapshot(), w.feesUsd);
  }

  private effectiveQty(): number {
    let q = this.book.positions[this.symbol]?.qty ?? 0;
    for (const w of this.orders.values()) {
      if (w.order.isTerminal()) continue;
      const o = w.order.snapshot();
      q += (o.side === 'buy' ? 1 : -1) * (o.qty - o.filledQty);
    }
    return q;
  }

  private valuation(now: number): { equityUsd: number; buyingPowerUsd: number } {
    const q = this.book.positions[this.symbol]?.qty ?? 0;
    const mark = lastMark(this.minutes, now);
    const m = mark > 0 ? mark : (this.book.positions[this.symbol]?.avgPriceUsd ?? 0);
    const equityUsd = this.book.cashUsd + q * m;
    let reserved = 0;
    for (const w of this.orders.values()) {
      const o = w.order.snapshot();
      if (w.order.isTerminal() || o.qty <= 0) continue;
      reserved += (w.reservedUsd * (o.qty - o.filledQty)) / o.qty;
    }
    return {
      equityUsd,
      buyingPowerUsd: buyingPowerUsd(
        equityUsd,
        Math.abs(q) * m,
        reserved,
        this.config.buyingPowerMultiplier,
      ),
    };
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
    if (now < this.minutes.openMs || now >= this.minutes.closeMs) reject('market closed');
    const effective = this.effectiveQty();
    const refusal = alpacaRefusal(r.side, r.qty, effective, {
      market: this.minutes.market,
      fractionable: true,
    });
    if (refusal) reject(refusal);
    const opening = openingQty(effective, r.side, r.qty);
    if (opening > 0) {
      const snap = order.snapshot();
      const price = estimatePriceUsd(snap, this.minutes, now, this.config.costs);
      if (!(price > 0)) reject('no quote to price the order');
      w.reservedUsd = requiredBuyingPowerUsd(opening, r.qty, price, this.config.costs, r.side);
      if (w.reservedUsd > this.valuation(now).buyingPowerUsd) reject('insufficient buying power');
    }
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
    return { cashUsd: this.book.cashUsd, equityUsd: v.equityUsd, buyingPowerUsd: v.buyingPowerUsd };
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
