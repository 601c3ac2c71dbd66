/**
 * THE order sizing rule: how a strategy's target (a signed fraction of equity) becomes an order
 * at decision time. The cohort simulator and the paper session both call {@link sizeOrder}, so
 * a promoted genome trades exactly the quantities it traded in its cohort.
 *
 * With V equity, m mark, q position, L leverage cap, c per-share cost, F0 minimum fee, the
 * target quantity is `target × V / m` rounded toward zero to the quantity step, then to what
 * Alpaca accepts (`alpacaTargetQty`: whole shares for a short, no crypto short). The reducing
 * part r (toward flat) is always allowed; the opening part x is capped by
 *   leverage:  (|q| − r + x) m <= L (V − (r + x) c − F0)
 *   aggregate: x m <= headroom + r m   (headroom = aggregate ceiling − aggregate exposure)
 * and rounded down to the step (to whole shares when it opens a short). F0 is the minimum
 * commission plus one share's CAT fee ({@link fixedFeeUsd}). An opening buy of a fractional
 * quantity worth less than USD 1 is not sent (Alpaca's minimum: `belowFractionalMinimum`).
 *
 * Units: shares, USD, USD per share.
 */
import {
  type AssetRules,
  alpacaTargetQty,
  belowFractionalMinimum,
} from '../exchange/exchange-model.js';
import {
  type FillCosts,
  fillPriceWithImpactUsd,
  qtyWithinNotional,
  roundQtyDown,
  roundQtyUp,
  type Side,
} from './fill-model.js';

/** Everything {@link sizeOrder} reads (the decision minute's state). */
export interface SizingInput {
  /** Signed fraction of equity the strategy wants. */
  readonly target: number;
  /** Signed position, shares. */
  readonly qty: number;
  /** Cash, USD. */
  readonly cashUsd: number;
  /** Mark (quote mid, else last close), USD per share. */
  readonly markUsd: number;
  /** The decision minute's closing quote, USD (NaN when missing). */
  readonly bidUsd: number;
  readonly askUsd: number;
  /** Agent leverage ceiling, gross exposure / equity. */
  readonly leverageCap: number;
  /** Gross exposure still allowed under the aggregate ceiling, USD (Infinity when none). */
  readonly aggregateHeadroomUsd: number;
  readonly costs: FillCosts;
  /** Quantity step, shares (1e-6 or 1). */
  readonly step: number;
  readonly asset: AssetRules;
  /**
   * The decision minute's traded volume, shares: the market impact is priced at the wanted
   * quantity's share of it (an upper bound for any smaller quantity sized). Absent or not
   * positive: no impact.
   */
  readonly volumeShares?: number;
}

/** The sized order: signed shares (0 when there is nothing to do) and which ceiling clipped it. */
export interface SizedOrder {
  readonly qty: number;
  readonly leverageBreach: boolean;
  readonly exposureBreach: boolean;
  /**
   * The opening leg was not sent: a fractional buy worth less than USD 1, which Alpaca refuses
   * (`belowFractionalMinimum`). Absent: false.
   */
  readonly belowMinimum?: boolean;
}

const NOTHING: SizedOrder = { qty: 0, leverageBreach: false, exposureBreach: false };

/**
 * Per-share cost of trading against the mark (adverse price distance + the linear part of
 * the fees). The fees are bounded by `minFeeUsd + k × qty` with
 * `k = min(maxFeeFraction × price, feePerShareUsd) + notionalFeeFraction × price +
 * catFeePerShare` and, on a sell, `+ secFeePerUsdSold × price + finraTafPerShareSold` (the TAF
 * cap only lowers it): an upper bound of the fee schedule (`fill-model.ts#commissionUsd`).
 */
export function costPerShare(side: Side, priceUsd: number, markUsd: number, c: FillCosts): number {
  const adverse = side === 'buy' ? priceUsd - markUsd : markUsd - priceUsd;
  let k = Math.min(c.maxFeeFraction * priceUsd, c.feePerShareUsd);
  k += (c.notionalFeeFraction ?? 0) * priceUsd;
  k += c.catFeePerShare ?? 0;
  if (side === 'sell') {
    k += (c.secFeePerUsdSold ?? 0) * priceUsd;
    if ((c.finraTafMaxUsd ?? 0) > 0) k += c.finraTafPerShareSold ?? 0;
  }
  return Math.max(0, adverse) + k;
}

/**
 * The fixed part F0 of the fee bound `F0 + k × qty`, USD: the minimum commission per order plus
 * one share's CAT fee (the CAT fee counts an order's executed shares rounded up to a whole
 * share, so it is at most `catFeePerShare × (qty + 1)`).
 */
export function fixedFeeUsd(c: FillCosts): number {
  return c.minFeeUsd + (c.catFeePerShare ?? 0);
}

/**
 * The fill-model price of `qty` shares against the decision minute's quote and volume: the
 * market impact is monotone in the quantity, so pricing the largest quantity the order can
 * have bounds the cost of any smaller one (no ceiling is overshot).
 */
function priceOf(
  side: Side,
  input: Pick<SizingInput, 'bidUsd' | 'askUsd' | 'costs' | 'volumeShares'>,
  qty: number,
): number {
  const quote = { bid: input.bidUsd, ask: input.askUsd };
  return fillPriceWithImpactUsd(side, quote, input.costs, qty, input.volumeShares ?? 0);
}

/**
 * The order that moves the position toward `target` (see the module comment), or null when it
 * must wait (no mark, or no quote on the needed side).
 */
export function sizeOrder(input: SizingInput): SizedOrder | null {
  const { qty: q, markUsd: m, step } = input;
  if (!(m > 0)) return null;
  const equity = input.cashUsd + q * m;
  const raw = equity > 0 ? qtyWithinNotional(input.target * equity, m, step) : 0;
  const targetQty = alpacaTargetQty(raw, input.asset, step);
  const delta = targetQty - q;
  if (Math.abs(delta) < step / 2) return NOTHING;
  const side: Side = delta > 0 ? 'buy' : 'sell';
  const price = priceOf(side, input, Math.abs(delta));
  if (!(price > 0)) return null;
  const absQ = Math.abs(q);
  const wanted = Math.abs(delta);
  const reduce = q !== 0 && q > 0 !== delta > 0 ? Math.min(wanted, absQ) : 0;
  const open = wanted - reduce;
  let allowed = 0;
  let leverageBreach = false;
  let exposureBreach = false;
  let belowMinimum = false;
  if (open > 0) {
    const L = input.leverageCap;
    const c = costPerShare(side, price, m, input.costs);
    const byLeverage =
      (L * (equity - reduce * c - fixedFeeUsd(input.costs)) - (absQ - reduce) * m) / (m + L * c);
    const byAggregate = (input.aggregateHeadroomUsd + reduce * m) / m;
    allowed = open;
    const tol = 1e-9 * open;
    if (open > byLeverage + tol) {
      leverageBreach = true;
      allowed = byLeverage;
    }
    if (open > byAggregate + tol) {
      exposureBreach = true;
      if (byAggregate < allowed) allowed = byAggregate;
    }
    const openStep = side === 'sell' ? Math.max(1, step) : step;
    allowed = allowed === open ? open : allowed > 0 ? roundQtyDown(allowed, openStep) : 0;
    // Alpaca refuses a fractional buy below USD 1: the opening leg is not sent.
    belowMinimum = allowed > 0 && belowFractionalMinimum(side, allowed, price, input.asset.market);
    if (belowMinimum) allowed = 0;
  }
  const qty = reduce === absQ && allowed === 0 ? absQ : reduce + allowed;
  const sized = { qty: side === 'buy' ? qty : -qty, leverageBreach, exposureBreach };
  return belowMinimum ? { ...sized, belowMinimum } : sized;
}

/**
 * A forced reduction (a ceiling exceeded because prices moved, not because of an order) brings
 * the exposure down to 98% of the ceiling rather than exactly to it, like a margin call that
 * restores a buffer: otherwise every further tick in the same direction would force another
 * tiny trade (and its fee).
 */
export const RISK_REDUCTION_TARGET = 0.98;

/** What {@link forcedReductionQty} reads. */
export interface ReductionInput {
  readonly qty: number;
  readonly cashUsd: number;
  readonly markUsd: number;
  readonly bidUsd: number;
  readonly askUsd: number;
  readonly leverageCap: number;
  readonly costs: FillCosts;
  readonly step: number;
  /** The decision minute's traded volume, shares (as in {@link SizingInput}). */
  readonly volumeShares?: number;
}

/**
 * The signed order that brings a position whose gross exposure is above `L × equity` (prices
 * moved) to {@link RISK_REDUCTION_TARGET} of the ceiling: the least step quantity x with
 * `(|q| − x) m <= 0.98 L (V − x c − F0)`; everything when that is impossible (equity at or
 * below the minimum fee, or a spread wider than m / L). A short is covered in whole shares.
 * 0 when under the ceiling or the needed side is not quoted.
 */
export function forcedReductionQty(input: ReductionInput): number {
  const { qty: q, markUsd: m } = input;
  if (q === 0 || !(m > 0)) return 0;
  const absQ = Math.abs(q);
  const gross = absQ * m;
  const equity = input.cashUsd + q * m;
  const L = input.leverageCap;
  if (gross <= L * Math.max(0, equity) + 1e-9 * (1 + gross)) return 0;
  const side: Side = q > 0 ? 'sell' : 'buy';
  const price = priceOf(side, input, Math.abs(q));
  if (!(price > 0)) return 0;
  const c = costPerShare(side, price, m, input.costs);
  const room = equity - fixedFeeUsd(input.costs);
  const target = L * RISK_REDUCTION_TARGET;
  const denom = m - target * c;
  let x = absQ;
  const unit = q < 0 ? Math.max(1, input.step) : input.step;
  if (room > 0 && denom > 0) x = Math.min(absQ, roundQtyUp((gross - target * room) / denom, unit));
  if (x <= 0) return 0;
  return side === 'buy' ? x : -x;
}
