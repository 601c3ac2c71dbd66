/**
 * Fee schedules per broker: every cost field of the fill model (`cohort/fill-model.ts`) set at
 * once, each with its source. A schedule is spread into a cohort config
 * (`{ bankrollUsd, ...BROKER_FEE_SCHEDULES.alpaca_equity.costs }`); the cohort simulator, the
 * simulated broker and the paper session's reference simulation all read the same config, so
 * the schedule changes all three together (parity to the cent).
 *
 * Figures looked up 2026-12-04; the regulators re-set their rates once or twice a year:
 * - IBKR Pro Fixed (US stocks): USD 0.005 per share, USD 1.00 minimum per order, at most 1 % of
 *   trade value (interactivebrokers.com, "Commissions Stocks, ETFs and Warrants: Fixed").
 *   IBKR's Fixed rate includes the exchange and regulatory fees except the pass-through FINRA
 *   TAF and SEC fee on sales, charged on top like Alpaca's.
 * - Alpaca equities: commission-free; on sells the SEC Section 31 fee (USD 27.80 per million of
 *   principal in the rate table of docs.alpaca.markets/docs/regulatory-fees; the SEC set the
 *   fiscal-2025 rate to USD 0.00 from 2025-05-14, so check the current rate) and the FINRA
 *   Trading Activity Fee (USD 0.000166 per share sold, at most USD 8.30 per trade). Alpaca
 *   accrues them intraday and charges the day's total rounded up to the cent; the model
 *   accrues them per fill, unrounded. Not modelled: the CAT fee (USD 0.0000265–0.000046 per
 *   share, both sides), below a tenth of a cent for the order sizes simulated here.
 * - Alpaca crypto, tier 1 (30-day volume below USD 100,000): taker 0.25 % of notional on
 *   either side (a market order takes liquidity); maker 0.15 % (alpaca.markets/support/
 *   crypto-maker-taker-gmt-faq). Higher tiers: set `notionalFeeFraction` to the tier's rate.
 *
 * Slippage stays the cohort default (1 bp beyond the touch): the quoted spread itself is paid
 * in full by every fill (a buy pays the ask, a sell receives the bid).
 */
import type { Market } from '../calendar/market-calendar.js';
import { type FillCosts, fillCostsOf } from '../cohort/fill-model.js';

/** The fee schedules with a preset. */
export type BrokerFeeScheduleName = 'ibkr_fixed' | 'alpaca_equity' | 'alpaca_crypto_tier1';

/** A named schedule: the costs and where they come from. */
export interface BrokerFeeSchedule {
  readonly name: BrokerFeeScheduleName;
  /** Where the figures come from (printed with the schedule). */
  readonly source: string;
  readonly costs: Required<Omit<FillCosts, 'slippageBps'>>;
}

/** SEC Section 31 fee in Alpaca's published rate table, USD per USD of sell principal. */
const SEC_FEE_PER_USD_SOLD = 27.8e-6;
/** FINRA TAF on sales, USD per share, and its cap per trade, USD. */
const FINRA_TAF_PER_SHARE = 0.000166;
const FINRA_TAF_MAX_USD = 8.3;

/** Every preset, by name. */
export const BROKER_FEE_SCHEDULES: Readonly<Record<BrokerFeeScheduleName, BrokerFeeSchedule>> = {
  ibkr_fixed: {
    name: 'ibkr_fixed',
    source:
      'IBKR Pro Fixed: USD 0.005/share, min USD 1.00/order, max 1 % of trade value; SEC fee and FINRA TAF passed through on sales',
    costs: {
      feePerShareUsd: 0.005,
      minFeeUsd: 1,
      maxFeeFraction: 0.01,
      notionalFeeFraction: 0,
      secFeePerUsdSold: SEC_FEE_PER_USD_SOLD,
      finraTafPerShareSold: FINRA_TAF_PER_SHARE,
      finraTafMaxUsd: FINRA_TAF_MAX_USD,
    },
  },
  alpaca_equity: {
    name: 'alpaca_equity',
    source:
      'Alpaca equities: no commission; SEC fee USD 27.80 per million and FINRA TAF USD 0.000166/share (max USD 8.30) on sells (docs.alpaca.markets/docs/regulatory-fees)',
    costs: {
      feePerShareUsd: 0,
      minFeeUsd: 0,
      maxFeeFraction: 0,
      notionalFeeFraction: 0,
      secFeePerUsdSold: SEC_FEE_PER_USD_SOLD,
      finraTafPerShareSold: FINRA_TAF_PER_SHARE,
      finraTafMaxUsd: FINRA_TAF_MAX_USD,
    },
  },
  alpaca_crypto_tier1: {
    name: 'alpaca_crypto_tier1',
    source:
      'Alpaca crypto tier 1 (30-day volume < USD 100,000): taker fee 0.25 % of notional on both sides; no SEC fee or TAF',
    costs: {
      feePerShareUsd: 0,
      minFeeUsd: 0,
      maxFeeFraction: 0,
      notionalFeeFraction: 0.0025,
      secFeePerUsdSold: 0,
      finraTafPerShareSold: 0,
      finraTafMaxUsd: 0,
    },
  },
};

/**
 * The fee schedule each market is charged by default: equities keep the configured schedule
 * (the cohort default, IBKR-Fixed-shaped USD 0.005/share, or a preset spread into the config);
 * crypto pays Alpaca's crypto tier-1 taker fee (bps of notional). A per-share fee on a coin
 * would charge USD 0.005 per bitcoin: 0.00001 % of a USD 50,000 notional instead of 0.25 %.
 */
export const MARKET_FEE_SCHEDULES: Readonly<Record<Market, BrokerFeeScheduleName | 'configured'>> =
  {
    'equity-usa': 'configured',
    crypto: 'alpaca_crypto_tier1',
  };

/**
 * The costs a fill in `market` is charged, selected by the symbol's market (never by the
 * caller): for `equity-usa` the configured `costs` unchanged; for `crypto` the
 * {@link MARKET_FEE_SCHEDULES} preset's fee fields (no per-share fee, no SEC fee or FINRA TAF,
 * `notionalFeeFraction` 0.0025) with the configured `slippageBps` kept. The cohort simulator,
 * the paper session's sizing and reference simulation and the simulated broker all call this,
 * so they charge one schedule (parity to the cent).
 *
 * @param costs the configured (equity) costs, USD / fractions / bps as in {@link FillCosts}.
 * @returns every cost field set.
 */
export function costsForMarket(costs: FillCosts, market: Market): Required<FillCosts> {
  const schedule = MARKET_FEE_SCHEDULES[market];
  if (schedule === 'configured') return fillCostsOf(costs);
  return { ...BROKER_FEE_SCHEDULES[schedule].costs, slippageBps: costs.slippageBps };
}
