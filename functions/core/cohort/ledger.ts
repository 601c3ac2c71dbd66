/**
 * Per-agent ledgers: cash, one signed position (an agent trades only its genome's symbol),
 * average cost, realized PnL and fees. Struct-of-arrays (typed arrays indexed by agent) so the
 * simulator can sweep a thousand agents per minute without allocation.
 *
 * Every fill is booked by THE position book's one booking function (`bookFill` in
 * `exchange/position-book.ts`: weighted-average cost, realized PnL gross of fees), the one the
 * simulated broker, the paper session and the pipeline's reconciliation book through too.
 *
 * Identity guaranteed for every agent at every moment, for any mark price `m` (USD):
 *
 *     cash + qty × m  ==  allocation + realizedPnl + (m − avgPrice) × qty − fees
 *     (equity)                          (unrealized PnL)
 *
 * exact in real arithmetic; in floating point up to rounding (about 1e-9 USD per fill).
 */
import { bookFill } from '../exchange/position-book.js';

/** Ledgers of `count` agents. All money in USD, quantities in shares (signed: short < 0). */
export class AgentLedgers {
  readonly count: number;
  readonly allocationUsd: Float64Array;
  readonly cashUsd: Float64Array;
  readonly qty: Float64Array;
  readonly avgPriceUsd: Float64Array;
  readonly realizedPnlUsd: Float64Array;
  readonly feesUsd: Float64Array;
  readonly tradeCount: Int32Array;

  /** @param allocationsUsd starting cash of each agent (its allocation from the parent wallet). */
  constructor(allocationsUsd: readonly number[]) {
    const n = allocationsUsd.length;
    this.count = n;
    this.allocationUsd = Float64Array.from(allocationsUsd);
    this.cashUsd = Float64Array.from(allocationsUsd);
    this.qty = new Float64Array(n);
    this.avgPriceUsd = new Float64Array(n);
    this.realizedPnlUsd = new Float64Array(n);
    this.feesUsd = new Float64Array(n);
    this.tradeCount = new Int32Array(n);
  }

  /**
   * Books one fill of agent `i`: `signedQty` shares (> 0 bought, < 0 sold) at `priceUsd`, paying
   * `feeUsd`, through `bookFill` (cash moves by `−signedQty × priceUsd − feeUsd`).
   */
  applyFill(i: number, signedQty: number, priceUsd: number, feeUsd: number): void {
    const booked = bookFill(
      {
        cashUsd: this.cashUsd[i] as number,
        feesUsd: this.feesUsd[i] as number,
        realizedPnlUsd: this.realizedPnlUsd[i] as number,
        qty: this.qty[i] as number,
        avgPriceUsd: this.avgPriceUsd[i] as number,
      },
      signedQty,
      priceUsd,
      feeUsd,
    );
    this.cashUsd[i] = booked.cashUsd;
    this.feesUsd[i] = booked.feesUsd;
    this.realizedPnlUsd[i] = booked.realizedPnlUsd;
    this.qty[i] = booked.qty;
    this.avgPriceUsd[i] = booked.avgPriceUsd;
    this.tradeCount[i] = (this.tradeCount[i] as number) + 1;
  }

  /** Equity of agent `i` at mark `markUsd`: cash + qty × mark (cash alone when flat). */
  equityUsd(i: number, markUsd: number): number {
    const q = this.qty[i] as number;
    return q === 0 ? (this.cashUsd[i] as number) : (this.cashUsd[i] as number) + q * markUsd;
  }

  /** Unrealized PnL of agent `i` at mark `markUsd`: (mark − avgPrice) × qty (0 when flat). */
  unrealizedPnlUsd(i: number, markUsd: number): number {
    const q = this.qty[i] as number;
    return q === 0 ? 0 : (markUsd - (this.avgPriceUsd[i] as number)) * q;
  }
}
