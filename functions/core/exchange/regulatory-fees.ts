/**
 * The account's daily regulatory-fee charge, as Alpaca charges it (docs.alpaca.markets/docs/
 * regulatory-fees, "How Fees are charged and reflected in account balances", read 2026-12-05):
 * "Alpaca's trading system keeps track of the accrued FEE amounts intraday and deducts the
 * pending amounts from account balances. At EOD, for each account, we charge the cumulative
 * total for the given trading day. We round up the cumulative total based on currency
 * precision": a TAF total of USD 0.00083 is charged USD 0.01.
 *
 * So each fill accrues its SEC fee, FINRA TAF and CAT fee exactly (`cohort/fill-model.ts`,
 * `regulatoryFeesUsd`, inside the fill's fee), and once per account and day the account pays
 * the difference between each fee type's day total rounded up to the cent and that total
 * ({@link regulatoryRoundingUsd}). The day is the equity session date in New York (the
 * session a fill happened in; crypto pays no regulatory fee). The account is one broker
 * account: in the cohort each agent (its own paper account, as each promoted slice trades on
 * its own account); the simulated broker's account; the reference simulation's in-memory
 * account; a paper session's own orders.
 *
 * Money USD, dates `YYYY-MM-DD`.
 */

import { NO_REGULATORY_FEES, type RegulatoryFees } from '../cohort/fill-model.js';

/** The regulatory fees accrued by an account on one session date, not yet charged. */
export interface RegulatoryFeeAccrual extends RegulatoryFees {
  /** The session date (`YYYY-MM-DD`, New York) the fees accrued on. */
  readonly date: string;
}

/** The sum of two sets of regulatory fees, by type, USD. */
export function addRegulatoryFees(a: RegulatoryFees, b: RegulatoryFees): RegulatoryFees {
  return { secUsd: a.secUsd + b.secUsd, tafUsd: a.tafUsd + b.tafUsd, catUsd: a.catUsd + b.catUsd };
}

/** Σ of `fees` by type, USD (absent entries count as none). */
export function sumRegulatoryFees(fees: Iterable<RegulatoryFees | undefined>): RegulatoryFees {
  let total = NO_REGULATORY_FEES;
  for (const f of fees) if (f) total = addRegulatoryFees(total, f);
  return total;
}

/**
 * `usd` rounded up to the cent, USD. A total within 1e-8 USD above a whole cent counts as that
 * cent (the representation error of a sum of fees: 0.01 summed as 0.010000000000000002 is
 * USD 0.01, not 0.02); 0 for 0 or less.
 */
export function ceilToCent(usd: number): number {
  if (!(usd > 0)) return 0;
  return Math.ceil(usd * 100 - 1e-6) / 100;
}

/** The day's charge of an account: each fee type's day total rounded up to the cent, USD. */
export function dailyRegulatoryChargeUsd(day: RegulatoryFees): number {
  return ceilToCent(day.secUsd) + ceilToCent(day.tafUsd) + ceilToCent(day.catUsd);
}

/**
 * What the account pays at the end of the day beyond the fees its fills already accrued:
 * {@link dailyRegulatoryChargeUsd} minus the unrounded totals, USD, in [0, 0.03).
 */
export function regulatoryRoundingUsd(day: RegulatoryFees): number {
  const accrued = day.secUsd + day.tafUsd + day.catUsd;
  return Math.max(0, dailyRegulatoryChargeUsd(day) - accrued);
}

/**
 * The rounding an account pays beyond the regulatory fees its orders accrued, over several
 * days, USD: the orders' fees by type summed per session date, each date's
 * {@link regulatoryRoundingUsd}, summed (Alpaca rounds each day's total, never an order's).
 * The orders must be ALL of the account's orders on those dates (the rounding of a day total
 * is not a sum over subsets); an order without fees by type counts as none.
 *
 * @param orders each with its session date (`YYYY-MM-DD`, New York) and its fees by type.
 */
export function regulatoryRoundingByDayUsd(
  orders: Iterable<{
    readonly date: string;
    readonly regulatoryFeesUsd?: RegulatoryFees | undefined;
  }>,
): number {
  const byDate = new Map<string, RegulatoryFees>();
  for (const { date, regulatoryFeesUsd: fees } of orders) {
    if (fees) byDate.set(date, addRegulatoryFees(byDate.get(date) ?? NO_REGULATORY_FEES, fees));
  }
  let total = 0;
  for (const day of byDate.values()) total += regulatoryRoundingUsd(day);
  return total;
}

/** Whether `fees` holds any fee at all. */
export function hasRegulatoryFees(fees: RegulatoryFees): boolean {
  return fees.secUsd > 0 || fees.tafUsd > 0 || fees.catUsd > 0;
}
