/**
 * THE fill model: how a simulated market order becomes a fill. The cohort simulator and the
 * simulated paper broker both use these functions, so a backtest and a paper run of the same
 * decision produce the same price, quantity and fee (parity).
 *
 * - Timing: the decision is taken at a bar's close and filled against the quote at the end of
 *   that same minute (the quote bar's close). No look-ahead: nothing after the minute is used.
 * - Price: a buy pays the ask, a sell receives the bid, plus `slippageBps` adverse:
 *   `buy = ask × (1 + bps/10⁴)`, `sell = bid × (1 − bps/10⁴)`, where `bps = slippageBps +
 *   impactCoefficientBps × √(qty / minute volume)` (market impact, {@link marketImpactBps}).
 *   No fill when the side's quote is missing (NaN) or not positive.
 * - Quantity: fractional shares in steps of 1e-6 share (Alpaca accepts fractional market
 *   orders; 1e-6 keeps a 1.67 USD agent slice tradable in a 170 USD stock), or whole shares.
 *   Rounded toward zero when opening so a ceiling is never overshot, away from zero when a
 *   risk reduction must free at least a given amount.
 * - Fee: the commission `min(maxFeeFraction × notional, max(minFeeUsd, feePerShareUsd ×
 *   |qty|))`, the shape of the IBKR Pro Fixed schedule (per share, minimum per order, capped at
 *   a share of trade value); plus `notionalFeeFraction × notional` on either side (a crypto
 *   taker fee); plus, on sells only, the regulatory fees a commission-free broker passes on:
 *   the SEC Section 31 fee `secFeePerUsdSold × notional` and the FINRA Trading Activity Fee
 *   `min(finraTafMaxUsd, finraTafPerShareSold × |qty|)`; plus, on either side, the
 *   Consolidated Audit Trail fee `catFeePerShare × ⌈|qty|⌉` (executed shares rounded up to a
 *   whole share) that Alpaca passes through. The TAF cap and the CAT rounding apply per ORDER:
 *   a fill of an order already partly filled pays the increase of the order's TAF and CAT over
 *   what its earlier fills paid ({@link regulatoryFeesUsd}). 0 for a zero quantity. Presets per
 *   broker with their sources: `exchange/fee-schedules.ts`. The regulatory fees are accrued
 *   unrounded per fill; the account's daily charge (each fee type's day total rounded up to
 *   the cent) is `exchange/regulatory-fees.ts`.
 */

import * as z from 'zod';

export type Side = 'buy' | 'sell';

/** Cost parameters of the fill model (a subset of the cohort config). */
export interface FillCosts {
  /** Adverse slippage beyond the touch, basis points (1 bp = 0.0001). */
  readonly slippageBps: number;
  /**
   * Market-impact coefficient, basis points per unit of √participation (participation = the
   * fill's shares / the minute's traded volume, {@link marketImpactBps}). @default 0
   */
  readonly impactCoefficientBps?: number;
  /** Commission per share, USD. */
  readonly feePerShareUsd: number;
  /** Minimum commission per order, USD. */
  readonly minFeeUsd: number;
  /** Commission cap per order as a fraction of notional (qty × price). */
  readonly maxFeeFraction: number;
  /** Fee on both sides as a fraction of notional (crypto taker fee), e.g. 0.0025. @default 0 */
  readonly notionalFeeFraction?: number;
  /** SEC Section 31 fee on sells, USD per USD of sell notional, e.g. 27.8e-6. @default 0 */
  readonly secFeePerUsdSold?: number;
  /** FINRA Trading Activity Fee on sells, USD per share sold, e.g. 0.000166. @default 0 */
  readonly finraTafPerShareSold?: number;
  /** Cap of the FINRA TAF per order, USD, e.g. 8.30 (0 = no TAF). @default 0 */
  readonly finraTafMaxUsd?: number;
  /**
   * Consolidated Audit Trail fee on both sides, USD per share executed, e.g. 0.000046.
   * @default 0
   */
  readonly catFeePerShare?: number;
}

const nonNegative = z.number().min(0).finite();

/**
 * Zod schema of {@link FillCosts}: the one shape every runtime copy of the costs (the cohort
 * config, the simulated broker's, the paper session's reference exchange and its persisted
 * state) is read with, so no copy silently drops a fee field (parity to the cent).
 */
export const FillCostsSchema = z.object({
  slippageBps: nonNegative,
  impactCoefficientBps: nonNegative.default(0),
  feePerShareUsd: nonNegative,
  minFeeUsd: nonNegative,
  maxFeeFraction: nonNegative,
  notionalFeeFraction: nonNegative.default(0),
  secFeePerUsdSold: nonNegative.default(0),
  finraTafPerShareSold: nonNegative.default(0),
  finraTafMaxUsd: nonNegative.default(0),
  catFeePerShare: nonNegative.default(0),
});

/** The fill-cost fields of a larger object (e.g. a cohort config), nothing else. */
export function fillCostsOf(c: FillCosts): Required<FillCosts> {
  return {
    slippageBps: c.slippageBps,
    impactCoefficientBps: c.impactCoefficientBps ?? 0,
    feePerShareUsd: c.feePerShareUsd,
    minFeeUsd: c.minFeeUsd,
    maxFeeFraction: c.maxFeeFraction,
    notionalFeeFraction: c.notionalFeeFraction ?? 0,
    secFeePerUsdSold: c.secFeePerUsdSold ?? 0,
    finraTafPerShareSold: c.finraTafPerShareSold ?? 0,
    finraTafMaxUsd: c.finraTafMaxUsd ?? 0,
    catFeePerShare: c.catFeePerShare ?? 0,
  };
}

/** A market order: side and positive quantity (shares). */
export interface MarketOrder {
  readonly side: Side;
  readonly qty: number;
}

/** Quote at the end of the decision minute, USD; NaN where missing. */
export interface Quote {
  readonly bid: number;
  readonly ask: number;
}

/** The outcome of {@link fillMarketOrder}. */
export interface FillOutcome {
  readonly side: Side;
  /** Shares filled (> 0). */
  readonly qty: number;
  /** Fill price per share, USD, slippage included. */
  readonly priceUsd: number;
  /** Commission, USD: every fee of the fill, the regulatory fees included. */
  readonly feeUsd: number;
  /** The regulatory part of `feeUsd` by fee type, USD (accrued, unrounded). */
  readonly regulatoryFeesUsd: RegulatoryFees;
}

/**
 * The regulatory fees a commission-free broker passes on, by fee type, USD, unrounded: the
 * SEC Section 31 fee and the FINRA TAF (sells only) and the CAT fee (both sides). Alpaca
 * charges each type's day total per account rounded up to the cent (`exchange/regulatory-fees.ts`).
 */
export interface RegulatoryFees {
  readonly secUsd: number;
  readonly tafUsd: number;
  readonly catUsd: number;
}

/** No regulatory fee. */
export const NO_REGULATORY_FEES: RegulatoryFees = Object.freeze({
  secUsd: 0,
  tafUsd: 0,
  catUsd: 0,
});

/**
 * Whole shares of an executed quantity rounded up, as the CAT fee counts them (0.1 share -> 1);
 * a quantity within 1e-9 share above a whole number counts as that number (the representation
 * error of a sum of 1e-6 steps).
 */
export function sharesRoundedUp(qty: number): number {
  return qty > 0 ? Math.ceil(qty - 1e-9) : 0;
}

/**
 * The regulatory fees of one fill of `qty` shares at `priceUsd` (USD per share), by type, USD:
 * - SEC fee, sells only: `secFeePerUsdSold × qty × priceUsd`;
 * - FINRA TAF, sells only, capped per order: `min(cap, rate × (prior + qty)) − min(cap, rate ×
 *   prior)`;
 * - CAT fee, both sides, on the order's executed shares rounded up to a whole share:
 *   `catFeePerShare × (⌈prior + qty⌉ − ⌈prior⌉)`.
 * Sources (Alpaca "Regulatory Fees", docs.alpaca.markets/docs/regulatory-fees and
 * alpaca.markets/support/regulatory-fees, read 2026-12-05) and why per order:
 * `exchange/fee-schedules.ts`.
 *
 * @param priorFilledQty shares of the same order filled before this fill (0 for its first).
 */
export function regulatoryFeesUsd(
  qty: number,
  priceUsd: number,
  costs: FillCosts,
  side: Side,
  priorFilledQty = 0,
): RegulatoryFees {
  const shares = Math.abs(qty);
  if (shares === 0) return NO_REGULATORY_FEES;
  const prior = Math.abs(priorFilledQty);
  const catRate = costs.catFeePerShare ?? 0;
  const catUsd =
    catRate === 0 ? 0 : catRate * (sharesRoundedUp(prior + shares) - sharesRoundedUp(prior));
  if (side === 'buy') return catUsd === 0 ? NO_REGULATORY_FEES : { secUsd: 0, tafUsd: 0, catUsd };
  const cap = costs.finraTafMaxUsd ?? 0;
  const tafRate = costs.finraTafPerShareSold ?? 0;
  const tafBefore = prior === 0 ? 0 : Math.min(cap, tafRate * prior);
  return {
    secUsd: (costs.secFeePerUsdSold ?? 0) * (shares * priceUsd),
    tafUsd: Math.min(cap, tafRate * (prior + shares)) - tafBefore,
    catUsd,
  };
}

/** Quantity step of fractional trading, shares. */
export const FRACTIONAL_QTY_STEP = 1e-6;

/** Quantity step for the cohort's `fractionalShares` setting: 1e-6 share or 1 share. */
export function qtyStep(fractionalShares: boolean): number {
  return fractionalShares ? FRACTIONAL_QTY_STEP : 1;
}

/**
 * Market impact of one fill, basis points: the square-root law of market impact in a
 * per-minute form, `impactCoefficientBps × √(qtyShares / minuteVolumeShares)`.
 *
 * Source: the square-root law `I = Y σ_daily √(Q / V_daily)` (Tóth, Lempérière, Deremble,
 * de Lataillade, Kockelkoren & Bouchaud 2011, "Anomalous price impact and the critical nature
 * of liquidity in financial markets", Phys. Rev. X 1, 021006: Y of order 1; Almgren, Thum,
 * Hauptmann & Li 2005, "Direct estimation of equity market impact", Risk 18(7), exponent near
 * 1/2). With only minute bars a fill's participation is its share of the minute's volume, so
 * `σ_daily √(Q / V_daily)` becomes `σ_minute √(q / v_minute)` with `σ_minute = σ_daily / √390`
 * (390 minutes per US session): `impactCoefficientBps = Y × σ_daily[bps] / √390`.
 *
 * @param qtyShares the fill's shares (sign ignored).
 * @param minuteVolumeShares the minute's traded volume, shares.
 * @returns bps, >= 0; 0 when the coefficient or the quantity is 0, or the volume is not
 *   positive (a zero-volume minute never fills: the callers refuse it before pricing).
 */
export function marketImpactBps(
  costs: Pick<FillCosts, 'impactCoefficientBps'>,
  qtyShares: number,
  minuteVolumeShares: number,
): number {
  const k = costs.impactCoefficientBps ?? 0;
  if (k === 0 || !(minuteVolumeShares > 0)) return 0;
  return k * Math.sqrt(Math.abs(qtyShares) / minuteVolumeShares);
}

/**
 * Fill price per share, USD: `ask × (1 + bps/10⁴)` for a buy, `bid × (1 − bps/10⁴)` for a
 * sell, with `bps = slippageBps + impactBps` (`impactBps` from {@link marketImpactBps}, 0 for
 * the flat slippage alone); NaN (no fill) when that side's quote is NaN or not positive.
 */
export function fillPriceUsd(
  side: Side,
  bid: number,
  ask: number,
  slippageBps: number,
  impactBps = 0,
): number {
  const bps = slippageBps + impactBps;
  if (side === 'buy') return ask > 0 ? ask * (1 + bps / 10_000) : Number.NaN;
  return bid > 0 ? bid * (1 - bps / 10_000) : Number.NaN;
}

/**
 * {@link fillPriceUsd} of `qtyShares` in a minute that traded `minuteVolumeShares` under
 * `costs`: the flat slippage plus the market impact. Every path prices a fill with this.
 */
export function fillPriceWithImpactUsd(
  side: Side,
  quote: Quote,
  costs: Pick<FillCosts, 'slippageBps' | 'impactCoefficientBps'>,
  qtyShares: number,
  minuteVolumeShares: number,
): number {
  const impact = marketImpactBps(costs, qtyShares, minuteVolumeShares);
  return fillPriceUsd(side, quote.bid, quote.ask, costs.slippageBps, impact);
}

/**
 * All fees of one fill, USD (module comment): the commission
 * `min(maxFeeFraction × |qty| × priceUsd, max(minFeeUsd, feePerShareUsd × |qty|))`, the
 * notional fee, and the regulatory fees of {@link regulatoryFeesUsd} (the CAT fee on either
 * side, on a sell the SEC fee and the TAF capped per order); 0 when `qty` is 0.
 *
 * @param side the order's side; the SEC fee and the TAF apply to sells only. @default 'buy'
 * @param priorFilledQty shares of the same order filled before this fill. @default 0
 */
export function commissionUsd(
  qty: number,
  priceUsd: number,
  costs: FillCosts,
  side: Side = 'buy',
  priorFilledQty = 0,
): number {
  return feesOfFill(qty, priceUsd, costs, side, priorFilledQty).feeUsd;
}

/** {@link commissionUsd} with its regulatory part by fee type. */
export function feesOfFill(
  qty: number,
  priceUsd: number,
  costs: FillCosts,
  side: Side,
  priorFilledQty = 0,
): { readonly feeUsd: number; readonly regulatoryFeesUsd: RegulatoryFees } {
  const shares = Math.abs(qty);
  if (shares === 0) return { feeUsd: 0, regulatoryFeesUsd: NO_REGULATORY_FEES };
  const notional = shares * priceUsd;
  const perShare = Math.max(costs.minFeeUsd, costs.feePerShareUsd * shares);
  let fee = Math.min(costs.maxFeeFraction * notional, perShare);
  fee += (costs.notionalFeeFraction ?? 0) * notional;
  const regulatory = regulatoryFeesUsd(shares, priceUsd, costs, side, priorFilledQty);
  fee += regulatory.catUsd;
  if (side === 'sell') {
    fee += regulatory.secUsd;
    fee += regulatory.tafUsd;
  }
  return { feeUsd: fee, regulatoryFeesUsd: regulatory };
}

/**
 * `whole` steps of `step` shares: divided by the step's inverse when it is an integer (1e-6 ->
 * 1e6), so 300000 steps of 1e-6 is the double nearest 0.3, not 300000 x 1e-6 with its error.
 */
function stepsOf(whole: number, step: number): number {
  const inverse = Math.round(1 / step);
  return step < 1 && Math.abs(1 / step - inverse) < 1e-6 ? whole / inverse : whole * step;
}

/**
 * `qty` rounded toward zero to a multiple of `step` (shares), never beyond `qty`: the result's
 * magnitude is at most `|qty|` (the order never exceeds its budget) and it is the largest such
 * multiple. The count of steps is checked against `|qty|` itself rather than trusted from the
 * division (whose representation error could say 299999.99999999994 steps for 0.3 / 1e-6, and
 * which a relative tolerance once carried past the budget: 4.995004995 shares to 4.995005).
 * 0 for a zero, non-finite or NaN quantity or a step that is not positive.
 */
export function roundQtyDown(qty: number, step: number): number {
  const size = Math.abs(qty);
  if (!(size > 0) || !(step > 0) || !Number.isFinite(size)) return 0;
  // A step below the quantity's precision (2^52 steps and more): every double is a multiple.
  if (size / step >= 2 ** 52) return qty;
  let whole = Math.floor(size / step);
  while (stepsOf(whole + 1, step) <= size) whole++;
  while (whole > 0 && stepsOf(whole, step) > size) whole--;
  return whole > 0 ? Math.sign(qty) * stepsOf(whole, step) : 0;
}

/**
 * The quantity that `notionalUsd` buys at `priceUsd` (USD per share), rounded toward zero to a
 * multiple of `step` so that its cost never exceeds the budget: `|result| × priceUsd ≤
 * |notionalUsd|` as computed (signed like `notionalUsd`; 0 when the price is not positive).
 */
export function qtyWithinNotional(notionalUsd: number, priceUsd: number, step: number): number {
  if (!(priceUsd > 0) || !Number.isFinite(notionalUsd)) return 0;
  const budget = Math.abs(notionalUsd);
  let qty = roundQtyDown(budget / priceUsd, step);
  while (qty > 0 && qty * priceUsd > budget) {
    const lower = roundQtyDown(qty - step / 2, step);
    // Below the quantity's precision one step is no change: go one ulp lower instead.
    qty = lower < qty ? lower : qty * (1 - Number.EPSILON);
  }
  return Math.sign(notionalUsd) * qty;
}

/** `qty` rounded away from zero to a multiple of `step` (same tolerance as {@link roundQtyDown}). */
export function roundQtyUp(qty: number, step: number): number {
  const units = Math.abs(qty) / step;
  const whole = Math.ceil(units - 1e-9 * Math.max(1, units));
  return Math.sign(qty) * whole * step;
}

/**
 * Fills a market order against the end-of-minute quote of a minute that traded
 * `minuteVolumeShares` (the market impact's denominator, {@link marketImpactBps}).
 *
 * @param priorFilledQty shares of the same order filled before (the TAF cap and the CAT
 *   rounding are per order). @default 0
 * @returns the fill, or `null` when the quote side is missing or the quantity is not positive.
 */
export function fillMarketOrder(
  order: MarketOrder,
  quote: Quote,
  costs: FillCosts,
  priorFilledQty = 0,
  minuteVolumeShares = 0,
): FillOutcome | null {
  if (!(order.qty > 0)) return null;
  const priceUsd = fillPriceWithImpactUsd(order.side, quote, costs, order.qty, minuteVolumeShares);
  if (!(priceUsd > 0)) return null;
  const fees = feesOfFill(order.qty, priceUsd, costs, order.side, priorFilledQty);
  return {
    side: order.side,
    qty: order.qty,
    priceUsd,
    feeUsd: fees.feeUsd,
    regulatoryFeesUsd: fees.regulatoryFeesUsd,
  };
}
