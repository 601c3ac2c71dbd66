/**
 * Per-agent ledgers: cash, one signed position (an agent trades only its genome's symbol),
 * average cost, realized PnL and fees. Struct-of-arrays (typed arrays indexed by agent) so the
 * simulator can sweep a thousand agents per minute without allocation.
 *
 * Accounting (weighted-average cost basis, as broker statements report it): a fill that adds to a
 * position (or opens one) moves the average price to the size-weighted mean; a fill that
 * reduces a position realizes `(fillPrice − avgPrice) × closedQty × sign(position)` and leaves
 * the average unchanged; the part of a fill beyond flat opens the opposite side at the fill
 * price. Fees are not part of realized PnL; they are kept in `feesUsd`.
 *
 * Identity guaranteed for every agent at every moment, for any mark price `m` (USD):
 *
 *     cash + qty × m  ==  allocation + realizedPnl + (m − avgPrice) × qty − fees
 *     (equity)                          (unrealized PnL)
 *
 * exact in real arithmetic; in floating point up to rounding (about 1e-9 USD per fill).
 */

/** Position size below which a position counts as closed, shares. */
export const DUST_QTY = 1e-9;

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
   * `feeUsd`. Cash moves by `−signedQty × priceUsd − feeUsd`.
   */
  applyFill(i: number, signedQty: number, priceUsd: number, feeUsd: number): void {
    const q = this.qty[i] as number;
    this.cashUsd[i] = (this.cashUsd[i] as number) - signedQty * priceUsd - feeUsd;
    this.feesUsd[i] = (this.feesUsd[i] as number) + feeUsd;
    this.tradeCount[i] = (this.tradeCount[i] as number) + 1;
    if (q === 0 || q > 0 === signedQty > 0) {
      const nq = q + signedQty;
      this.avgPriceUsd[i] =
        ((this.avgPriceUsd[i] as number) * Math.abs(q) + priceUsd * Math.abs(signedQty)) /
        Math.abs(nq);
      this.qty[i] = nq;
      return;
    }
    let nq = q + signedQty;
    if (Math.abs(nq) < DUST_QTY) nq = 0;
    const closed = nq === 0 ? Math.abs(q) : Math.min(Math.abs(signedQty), Math.abs(q));
    const avg = this.avgPriceUsd[i] as number;
    this.realizedPnlUsd[i] =
      (this.realizedPnlUsd[i] as number) + (priceUsd - avg) * closed * (q > 0 ? 1 : -1);
    if (nq === 0) this.avgPriceUsd[i] = 0;
    else if (nq > 0 !== q > 0) this.avgPriceUsd[i] = priceUsd;
    this.qty[i] = nq;
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
