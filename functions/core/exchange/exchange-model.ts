/**
 * THE exchange model: how an order placed at a moment meets the real minute bars. Pure (no I/O,
 * no clock): the simulated paper broker (an adapter that only persists orders and maps the
 * broker port) and the paper session's reference simulation both execute orders through these
 * functions, with the same configuration, so a paper session with the simulated broker and its
 * reference simulation agree to the cent.
 *
 * Timing (docs/execution.md): an order submitted at `s` may first trade at `s + latencyMs`
 * ("arrival"). It fills at the END of a minute bar whose end is after its arrival, against that
 * minute's closing quote (the quote prevailing at the end of the minute). A decision taken on
 * minute t's bar is known at the bar's end, so it can never fill in minute t: zero-latency
 * fills do not exist in this model.
 *
 * Per eligible minute (end after arrival and at or before now), in time order:
 * - quantity: `min(remaining, participationFraction × minute volume)`, the cap rounded down to
 *   the quantity step (1e-6 share, or 1 share without fractional shares); a minute with no
 *   volume, or without a quote on the order's side, fills nothing;
 * - price and fee: `fillMarketOrder` of the shared fill model (`cohort/fill-model.ts`), with
 *   the order's shares filled before (the TAF cap and the CAT rounding are per order) and the
 *   minute's volume (the market impact grows with the fill's share of it);
 * - a limit order fills only when that price is within its limit;
 * - time in force: `day` expires at the session close (end of its last minute bar); `ioc` fills
 *   what its first eligible minute allows and cancels the rest; `fok` fills all in the first
 *   eligible minute or cancels; `gtc` carries over (the caller moves it to the next session;
 *   crypto orders are `gtc`, {@link alpacaTimeInForce}, and the paper session cancels its own
 *   at its session's end).
 *
 * Buying power (our margin model, documented because Alpaca's is richer):
 * `max(0, multiplier × equity − gross exposure − reservations)`; a new order reserves its
 * opening part × the estimated fill price + the estimated fee; pure reductions need none.
 *
 * What Alpaca paper refuses, refused here too (see {@link alpacaRefusal}): a fractional short
 * sale, any short sale of crypto, a fractional quantity of a non-fractionable asset, a
 * fractional equity order that is not `day`, a crypto order that is not `gtc` or `ioc`.
 */

import {
  commissionUsd,
  type FillCosts,
  fillMarketOrder,
  fillPriceWithImpactUsd,
  qtyStep,
  type RegulatoryFees,
  roundQtyDown,
} from '../cohort/fill-model.js';
import type { MarketSession, SymbolSeries } from '../market/types.js';
import type { Order, OrderSide, OrderSnapshot, TimeInForce } from '../orders/order.js';
import { costsForMarket } from './fee-schedules.js';
import { DUST_QTY } from './position-book.js';

/** One minute, ms. */
export const MINUTE_MS = 60_000;

/** Settings of the exchange model (the simulated broker's configuration). */
export interface ExchangeConfig {
  /** Largest share of a minute's traded volume one order may fill in that minute, (0, 1]. */
  readonly participationFraction: number;
  /** Delay between submission and the order becoming fillable, ms, >= 0. */
  readonly latencyMs: number;
  /**
   * The fill model's costs (slippage, fee schedule), as in the cohort config: the equity
   * schedule; a crypto symbol's fills pay `costsForMarket(costs, 'crypto')` (Alpaca's crypto fee).
   */
  readonly costs: FillCosts;
  /** Quantities in steps of 1e-6 share; otherwise whole shares only. */
  readonly fractionalShares: boolean;
  /** Gross exposure allowed per USD of equity. */
  readonly buyingPowerMultiplier: number;
}

/** One symbol's bars of one session, with its bounds. */
export interface SymbolMinutes {
  readonly date: string;
  readonly market: MarketSession['market'];
  readonly ts: Float64Array;
  readonly series: SymbolSeries;
  /** First minute's start, epoch ms UTC. */
  readonly openMs: number;
  /** Last minute's end, epoch ms UTC: day orders expire here. */
  readonly closeMs: number;
}

/** One execution of an order by the exchange model. */
export interface ExchangeFill {
  /** Start of the minute whose closing quote priced the fill, epoch ms UTC. */
  readonly minuteStartMs: number;
  /** When the fill happened: the end of that minute, epoch ms UTC. */
  readonly atMs: number;
  /** Shares, > 0. */
  readonly qty: number;
  /** USD per share, slippage included. */
  readonly priceUsd: number;
  /** Commission of this fill, USD (its regulatory fees included). */
  readonly feeUsd: number;
  /**
   * The regulatory part of `feeUsd` by fee type, USD (accrued, unrounded; the TAF cap and the
   * CAT rounding per order). Absent in a fill recorded before it was kept: none.
   */
  readonly regulatoryFeesUsd?: RegulatoryFees;
}

/** `symbol`'s minutes in `session` (null when it has none). */
export function symbolMinutes(session: MarketSession, symbol: string): SymbolMinutes | null {
  const s = session.symbols.indexOf(symbol);
  const series = session.series[s];
  const ts = session.timestamps;
  if (s < 0 || !series || ts.length === 0) return null;
  return {
    date: session.date,
    market: session.market,
    ts,
    series,
    openMs: ts[0] as number,
    closeMs: (ts[ts.length - 1] as number) + MINUTE_MS,
  };
}

/** Index of the first minute whose end is after `afterMs` (binary search). */
export function firstMinuteEndingAfter(ts: Float64Array, afterMs: number): number {
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
export function lastMark(s: SymbolMinutes, atMs: number): number {
  for (let i = firstMinuteEndingAfter(s.ts, atMs) - 1; i >= 0; i--) {
    const bid = s.series.bid[i] as number;
    const ask = s.series.ask[i] as number;
    if (bid > 0 && ask > 0) return 0.5 * (bid + ask);
    const close = s.series.close[i] as number;
    if (close > 0) return close;
  }
  return Number.NaN;
}

function withinLimit(o: OrderSnapshot, priceUsd: number): boolean {
  if (o.type !== 'limit' || o.limitPriceUsd === null) return true;
  return o.side === 'buy' ? priceUsd <= o.limitPriceUsd : priceUsd >= o.limitPriceUsd;
}

/**
 * Advances an open `order` (mutated through its entity) over the minutes of `s` that end after
 * `processedThroughMs` and at or before `nowMs`, then expires a `day` (or cancels an
 * `ioc`/`fok`) order whose session is over.
 *
 * @returns the new fills, the end of the last minute examined, and whether the session is over
 *   for a still-open `gtc` order (the caller moves it to the next session).
 */
export function matchOrder(
  order: Order,
  s: SymbolMinutes,
  processedThroughMs: number,
  nowMs: number,
  config: ExchangeConfig,
): { fills: ExchangeFill[]; processedThroughMs: number; carryOver: boolean; changed: boolean } {
  const snap = order.snapshot();
  const tif = snap.timeInForce;
  const step = qtyStep(config.fractionalShares);
  // The symbol's market picks the fee schedule (a crypto fill pays bps of notional).
  const costs = costsForMarket(config.costs, s.market);
  const fills: ExchangeFill[] = [];
  let processed = processedThroughMs;
  let changed = false;
  const { ts, series } = s;
  for (let i = firstMinuteEndingAfter(ts, processed); i < ts.length; i++) {
    const startMs = ts[i] as number;
    const endMs = startMs + MINUTE_MS;
    if (endMs > nowMs) break;
    processed = endMs;
    changed = true;
    const remaining = order.remainingQty;
    const volume = series.volume[i] as number;
    const cap = config.participationFraction * volume;
    let qty = 0;
    if (volume > 0) qty = cap >= remaining ? remaining : roundQtyDown(cap, step);
    if (tif === 'fok' && !(cap >= remaining)) qty = 0;
    if (qty > 0) {
      const fill = fillMarketOrder(
        { side: snap.side, qty },
        { bid: series.bid[i] as number, ask: series.ask[i] as number },
        costs,
        snap.qty - remaining,
        volume,
      );
      if (fill && withinLimit(snap, fill.priceUsd)) {
        order.apply({ type: 'fill', atMs: endMs, qty: fill.qty, priceUsd: fill.priceUsd });
        fills.push({
          minuteStartMs: startMs,
          atMs: endMs,
          qty: fill.qty,
          priceUsd: fill.priceUsd,
          feeUsd: fill.feeUsd,
          regulatoryFeesUsd: fill.regulatoryFeesUsd,
        });
      }
    }
    if (order.isTerminal()) break;
    if (tif === 'ioc' || tif === 'fok') {
      order.apply({ type: 'canceled', atMs: endMs });
      break;
    }
  }
  let carryOver = false;
  if (!order.isTerminal() && nowMs >= s.closeMs) {
    if (tif === 'gtc') carryOver = true;
    else {
      order.apply({ type: tif === 'day' ? 'expired' : 'canceled', atMs: s.closeMs });
      changed = true;
    }
  }
  return { fills, processedThroughMs: processed, carryOver, changed };
}

/**
 * Estimated price per share, USD: the limit price of a limit order; otherwise the fill-model
 * price of the order's `qty` against the last completed minute's quote and volume (the
 * current minute's when none has completed yet); NaN when there is no quote.
 */
export function estimatePriceUsd(
  o: Pick<OrderSnapshot, 'side' | 'type' | 'limitPriceUsd' | 'qty'>,
  s: SymbolMinutes,
  nowMs: number,
  costs: FillCosts,
): number {
  if (o.type === 'limit' && o.limitPriceUsd !== null) return o.limitPriceUsd;
  const { bid, ask, volume } = s.series;
  const quoted = (i: number) =>
    fillPriceWithImpactUsd(
      o.side,
      { bid: bid[i] as number, ask: ask[i] as number },
      costs,
      o.qty,
      volume[i] as number,
    );
  const current = firstMinuteEndingAfter(s.ts, nowMs);
  for (let i = current - 1; i >= 0; i--) {
    const price = quoted(i);
    if (price > 0) return price;
  }
  return current < s.ts.length ? quoted(current) : Number.NaN;
}

/**
 * Shares of a new order that increase |position| once `effectiveQty` (position + other open
 * orders on the symbol, signed) is accounted for: the whole order when it goes the same way,
 * the part beyond flat otherwise.
 */
export function openingQty(effectiveQty: number, side: OrderSide, qty: number): number {
  const sameWay = effectiveQty === 0 || effectiveQty > 0 === (side === 'buy');
  return sameWay ? qty : Math.max(0, qty - Math.abs(effectiveQty));
}

/**
 * Buying power a new order needs, USD: opening part × price + its fees (the regulatory fees
 * of a sell included), 0 for a pure reduction.
 */
export function requiredBuyingPowerUsd(
  openingShares: number,
  totalShares: number,
  priceUsd: number,
  costs: FillCosts,
  side: OrderSide = 'buy',
): number {
  if (openingShares <= 0) return 0;
  return openingShares * priceUsd + commissionUsd(totalShares, priceUsd, costs, side);
}

/** Buying power, USD: `max(0, multiplier × equity − gross − reserved)`. */
export function buyingPowerUsd(
  equityUsd: number,
  grossUsd: number,
  reservedUsd: number,
  multiplier: number,
): number {
  return Math.max(0, multiplier * equityUsd - grossUsd - reservedUsd);
}

/** The `time_in_force` values Alpaca accepts for crypto (docs.alpaca.markets, "Crypto Orders"). */
export const CRYPTO_TIMES_IN_FORCE: readonly TimeInForce[] = ['gtc', 'ioc'];

/**
 * The time in force of every market order stagegate sends (entries, signals, exits, the close
 * and kill-switch flattens, the crash sweeper's flatten, micro-live), by the symbol's market:
 * - `equity-usa`: `day` (expires at the session close; the only time in force Alpaca takes for
 *   fractional equity orders: "Fractional Trading", https://docs.alpaca.markets/docs/trading-1);
 * - `crypto`: `gtc`. Alpaca refuses `day` for crypto: "The following time_in_force values are
 *   supported: gtc, and ioc" (Alpaca docs, "Crypto Orders",
 *   https://docs.alpaca.markets/docs/crypto-orders, looked up 2026-12-05). `gtc` rather than
 *   `ioc` because a market order that meets the participation cap keeps working minute by
 *   minute, as an equity `day` order does; the paper session cancels whatever of its own is
 *   still open at its session's end (`paper/paper-session.ts`), so nothing is carried into
 *   the next UTC day.
 *
 * The simulated broker and the reference simulation apply the same rule ({@link alpacaRefusal}
 * refuses a crypto order that is not `gtc`/`ioc`, as Alpaca does).
 */
export function alpacaTimeInForce(market: MarketSession['market']): TimeInForce {
  return market === 'crypto' ? 'gtc' : 'day';
}

/** What the exchange knows about an asset when it checks a new order. */
export interface AssetRules {
  readonly market: MarketSession['market'];
  /** Alpaca's `fractionable` flag of the asset. */
  readonly fractionable: boolean;
}

/**
 * The reason Alpaca paper refuses an order, or null when it accepts it. Alpaca's documented
 * rules (looked up 2026-12-05):
 * - "Fractional Trading" / Broker API "Trading" (https://docs.alpaca.markets/docs/trading-1,
 *   https://alpaca.markets/support/how-can-i-pass-a-fractional-order): fractional equity
 *   orders are supported "only for day orders"; they are long only; the asset must be
 *   fractionable;
 * - "Crypto Trading": crypto cannot be sold short;
 * - "Crypto Orders" (https://docs.alpaca.markets/docs/crypto-orders): the `time_in_force`
 *   values supported for crypto are `gtc` and `ioc` (see {@link alpacaTimeInForce}).
 *
 * Refusals, checked in this order:
 * - `time_in_force <tif> not supported for crypto (gtc or ioc)`: a crypto order with any
 *   other time in force (`day`, `fok`, ...);
 * - `crypto short sale not allowed`: a crypto sell beyond what is held;
 * - `asset not fractionable`: a fractional quantity of a non-fractionable asset;
 * - `fractional orders must be time_in_force day`: a fractional equity order that is not `day`;
 * - `fractional short sale not allowed`: a sell with a fractional quantity whose result would
 *   be short (position + other open orders − qty < 0).
 *
 * @param effectiveQty signed position plus the other open orders on the symbol, shares.
 */
export function alpacaRefusal(
  side: OrderSide,
  qty: number,
  effectiveQty: number,
  asset: AssetRules,
  timeInForce: TimeInForce,
): string | null {
  const crypto = asset.market === 'crypto';
  const fractional = Math.abs(qty - Math.round(qty)) > DUST_QTY;
  const after = side === 'sell' ? effectiveQty - qty : effectiveQty + qty;
  const shorting = side === 'sell' && after < -DUST_QTY;
  if (crypto && !CRYPTO_TIMES_IN_FORCE.includes(timeInForce)) {
    return `time_in_force ${timeInForce} not supported for crypto (gtc or ioc)`;
  }
  if (shorting && crypto) return 'crypto short sale not allowed';
  if (fractional && !asset.fractionable) return 'asset not fractionable';
  if (fractional && !crypto && timeInForce !== 'day') {
    return 'fractional orders must be time_in_force day';
  }
  if (fractional && shorting) return 'fractional short sale not allowed';
  return null;
}

/**
 * The smallest notional of a fractional equity buy Alpaca accepts, USD. Alpaca's "Fractional
 * Trading" page (docs.alpaca.markets/docs/fractional-trading, read 2026-12-05): "You can now
 * buy as little as $1 worth of shares"; its fractional-shares tutorial: "Starting as small as
 * 0.000000001 of a share (or a notional amount of $1.00)". The pages state the minimum for
 * buys only: a sell is never refused by it, so a fractional position worth less than USD 1
 * can always be closed (see {@link belowFractionalMinimum}).
 */
export const FRACTIONAL_MIN_NOTIONAL_USD = 1;

/** Refusal reason of a fractional equity buy below {@link FRACTIONAL_MIN_NOTIONAL_USD}. */
export const BELOW_FRACTIONAL_MINIMUM = 'fractional buy below the USD 1.00 minimum notional';

/**
 * Whether Alpaca refuses an order as a fractional buy below its minimum notional: an equity
 * buy of a fractional quantity (not whole shares, beyond dust) worth less than
 * {@link FRACTIONAL_MIN_NOTIONAL_USD} at `priceUsd` (the order's estimated fill price, USD per
 * share). Sells are never refused by it (Alpaca's pages state the minimum for buys; refusing a
 * sell would leave a position below USD 1 unsellable); crypto neither (not sourced here).
 */
export function belowFractionalMinimum(
  side: OrderSide,
  qty: number,
  priceUsd: number,
  market: MarketSession['market'],
): boolean {
  if (side !== 'buy' || market === 'crypto') return false;
  if (Math.abs(qty - Math.round(qty)) <= DUST_QTY) return false;
  return qty * priceUsd < FRACTIONAL_MIN_NOTIONAL_USD;
}

/**
 * The largest target position (signed shares) Alpaca would let an account reach from
 * `qty` through market orders, rounded as it requires: crypto never below 0; a short in whole
 * shares only (a fractional long part is sold down to flat first, the short side rounded
 * toward zero to whole shares); a non-fractionable asset in whole shares. Used by the cohort
 * simulator and the paper session alike, so neither sends what Alpaca would refuse.
 */
export function alpacaTargetQty(targetQty: number, asset: AssetRules, step: number): number {
  if (targetQty < 0 && asset.market === 'crypto') return 0;
  const unit = asset.fractionable ? step : 1;
  if (targetQty < 0) return roundQtyDown(targetQty, Math.max(1, unit));
  return roundQtyDown(targetQty, unit);
}
