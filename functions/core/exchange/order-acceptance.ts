/**
 * THE broker's account rules: whether a new order is accepted and what it reserves, and an
 * account's equity and buying power at its marks. Pure. The simulated paper broker (an
 * adapter that persists orders and the account) and the reference simulation's in-memory
 * broker (`paper/exchange-broker.ts`) both decide and value through these functions, so the
 * two refuse the same orders for the same reasons.
 *
 * Buying power is the exchange model's (`exchange-model.ts`, {@link buyingPowerUsd}):
 * `max(0, multiplier × equity − gross exposure − reservations)`. Quantities shares (signed:
 * long > 0), prices and money USD, times epoch ms UTC.
 */

import type { FillCosts } from '../cohort/fill-model.js';
import type { OrderSnapshot } from '../orders/order.js';
import {
  alpacaRefusal,
  BELOW_FRACTIONAL_MINIMUM,
  belowFractionalMinimum,
  buyingPowerUsd,
  estimatePriceUsd,
  openingQty,
  requiredBuyingPowerUsd,
  type SymbolMinutes,
} from './exchange-model.js';
import { costsForMarket } from './fee-schedules.js';

/** A working (not terminal) order as the account rules read it. */
export interface WorkingOrderView {
  readonly order: Pick<OrderSnapshot, 'symbol' | 'side' | 'qty' | 'filledQty'>;
  /** Buying power reserved when the whole order was accepted, USD. */
  readonly reservedUsd: number;
}

/**
 * The position of `symbol` once every working order of it fills: the signed position plus
 * the signed remaining quantity of its working orders, shares.
 */
export function effectiveQty(
  symbol: string,
  positionQty: number,
  working: Iterable<WorkingOrderView>,
): number {
  let effective = positionQty;
  for (const w of working) {
    if (w.order.symbol !== symbol) continue;
    const remaining = w.order.qty - w.order.filledQty;
    effective += w.order.side === 'buy' ? remaining : -remaining;
  }
  return effective;
}

/** Reservations still held by working orders, pro rata to their unfilled part, USD. */
export function heldReservationsUsd(working: Iterable<WorkingOrderView>): number {
  let reserved = 0;
  for (const w of working) {
    if (w.order.qty <= 0) continue;
    reserved += (w.reservedUsd * (w.order.qty - w.order.filledQty)) / w.order.qty;
  }
  return reserved;
}

/** An account's value at its marks, USD. */
export interface AccountValuation {
  /** Cash plus every position at its mark. */
  readonly equityUsd: number;
  /** Sum of |qty| × mark. */
  readonly grossUsd: number;
  readonly buyingPowerUsd: number;
}

/**
 * Equity, gross exposure and buying power of an account.
 *
 * @param marked each open position's signed quantity and mark (USD per share).
 * @param reservedUsd reservations held by working orders ({@link heldReservationsUsd}).
 * @param multiplier gross exposure allowed per USD of equity.
 */
export function accountValuation(input: {
  readonly cashUsd: number;
  readonly marked: Iterable<{ readonly qty: number; readonly markUsd: number }>;
  readonly reservedUsd: number;
  readonly multiplier: number;
}): AccountValuation {
  let equityUsd = input.cashUsd;
  let grossUsd = 0;
  for (const p of input.marked) {
    equityUsd += p.qty * p.markUsd;
    grossUsd += Math.abs(p.qty) * p.markUsd;
  }
  return {
    equityUsd,
    grossUsd,
    buyingPowerUsd: buyingPowerUsd(equityUsd, grossUsd, input.reservedUsd, input.multiplier),
  };
}

/** The broker's settings that decide acceptance. */
export interface AcceptanceRules {
  /** Working orders allowed at once (the new one excluded). */
  readonly maxOpenOrders: number;
  /** Quantities in steps of 1e-6 share; otherwise whole shares only. */
  readonly fractionalShares: boolean;
  /** Alpaca's `fractionable` flag of the order's asset. */
  readonly fractionable: boolean;
  /**
   * The fill model's configured (equity) costs; the session's market selects the schedule
   * charged (`costsForMarket`: crypto pays Alpaca's crypto fee).
   */
  readonly costs: FillCosts;
}

/** The broker's answer to a new order. */
export type Acceptance =
  | { readonly accepted: true; readonly reservedUsd: number }
  | { readonly accepted: false; readonly reason: string };

/**
 * Whether the broker accepts a new order at `nowMs`. Refusals, checked in this order:
 * `time_in_force opg|cls not supported by the simulated broker` (no auction model),
 * `fractional quantity not allowed`, `unknown symbol`, `market closed` (no session on the
 * date, or `nowMs` outside [open, close)), `too many open orders`, Alpaca's refusals
 * ({@link alpacaRefusal}), `no quote to price the order`, a fractional equity buy worth less
 * than USD 1 at its estimated price (`fractional buy below the USD 1.00 minimum notional`,
 * {@link belowFractionalMinimum}: Alpaca's minimum), `insufficient buying power`.
 * An accepted order reserves its opening part × the estimated fill price + the estimated fee
 * (`requiredBuyingPowerUsd`, the regulatory fees of a sell included); a pure reduction reserves nothing and needs no buying power.
 *
 * @param session the symbol's session on the date of `nowMs`; null when the date has none;
 *   `'unknown_symbol'` when the symbol has no data at all.
 * @param effective the symbol's {@link effectiveQty} before this order, shares.
 * @param buyingPowerUsd the account's buying power, read only when the order needs some.
 */
export async function acceptOrder(input: {
  readonly order: OrderSnapshot;
  readonly session: SymbolMinutes | null | 'unknown_symbol';
  readonly nowMs: number;
  readonly effective: number;
  readonly openOrderCount: number;
  readonly rules: AcceptanceRules;
  readonly buyingPowerUsd: () => number | Promise<number>;
}): Promise<Acceptance> {
  const { order: o, session, nowMs, rules } = input;
  const refuse = (reason: string): Acceptance => ({ accepted: false, reason });
  if (o.timeInForce === 'opg' || o.timeInForce === 'cls') {
    return refuse(`time_in_force ${o.timeInForce} not supported by the simulated broker`);
  }
  if (!rules.fractionalShares && !Number.isInteger(o.qty)) {
    return refuse('fractional quantity not allowed');
  }
  if (session === 'unknown_symbol') return refuse('unknown symbol');
  if (!session || nowMs < session.openMs || nowMs >= session.closeMs) {
    return refuse('market closed');
  }
  if (input.openOrderCount >= rules.maxOpenOrders) return refuse('too many open orders');
  const refusal = alpacaRefusal(
    o.side,
    o.qty,
    input.effective,
    { market: session.market, fractionable: rules.fractionable },
    o.timeInForce,
  );
  if (refusal) return refuse(refusal);
  const opening = openingQty(input.effective, o.side, o.qty);
  if (opening <= 0) return { accepted: true, reservedUsd: 0 };
  // The symbol's market picks the fee schedule (a crypto order pays bps of notional).
  const costs = costsForMarket(rules.costs, session.market);
  const price = estimatePriceUsd(o, session, nowMs, costs);
  if (!(price > 0)) return refuse('no quote to price the order');
  if (belowFractionalMinimum(o.side, o.qty, price, session.market)) {
    return refuse(BELOW_FRACTIONAL_MINIMUM);
  }
  const reservedUsd = requiredBuyingPowerUsd(opening, o.qty, price, costs, o.side);
  if (reservedUsd > 0 && reservedUsd > (await input.buyingPowerUsd())) {
    return refuse('insufficient buying power');
  }
  return { accepted: true, reservedUsd };
}
