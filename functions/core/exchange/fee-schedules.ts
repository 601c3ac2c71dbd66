/**
 * Fee schedules per broker: every cost field of the fill model (`cohort/fill-model.ts`) set at
 * once, each with its source. A stage picks one with {@link stageFeeCosts} (the per-stage
 * `fees` block of `lib/config`); a schedule can also be spread into a cohort config
 * (`{ bankrollUsd, ...BROKER_FEE_SCHEDULES.alpaca_equity.costs }`). The cohort simulator, the
 * simulated broker and the paper session's reference simulation all read the same costs, so
 * the schedule changes all three together (parity to the cent).
 *
 * Sources, read 2026-12-05 (the regulators re-set their rates once or twice a year: check them):
 * - IBKR Pro Fixed (US stocks): USD 0.005 per share, USD 1.00 minimum per order, at most 1 % of
 *   trade value (interactivebrokers.com, "Commissions Stocks, ETFs and Warrants: Fixed").
 *   IBKR's Fixed rate includes the exchange and regulatory fees except the pass-through FINRA
 *   TAF and SEC fee on sales, charged on top like Alpaca's.
 * - Alpaca equities: commission-free. Alpaca's "Regulatory Fees" rate table
 *   (docs.alpaca.markets/docs/regulatory-fees, read 2026-12-05) lists, for equities:
 *   - SEC Section 31 transaction fee (REG), sells only: 0.0000278 USD per USD of principal
 *     (USD 27.80 per million). The SEC re-sets this rate every fiscal year (and mid-year when
 *     collections run ahead): it set USD 0.00 per million from 2025-05-14 for the rest of
 *     fiscal 2025 (FINRA Information Notice 2025-04-24), and its fiscal-2026 order (Release
 *     34-104909, 2026-02-27, 91 FR 10643) set a new rate the sources read here do not quote.
 *     So the rate is a per-stage config value (`fees.secFeePerUsdSold`), defaulting to
 *     {@link SEC_FEE_PER_USD_SOLD}, the figure in Alpaca's table.
 *   - FINRA Trading Activity Fee (TAF), sells only: USD 0.000166 per share, at most USD 8.30
 *     per trade (the table's 50,000-share quantity limit × 0.000166; FINRA By-Laws Schedule A
 *     Section 1). The model caps it per ORDER (an order filled over several minutes pays the
 *     cap once): FINRA's TAF FAQ A200.17 lets a member compute the fee on the account-level
 *     average-price confirmation, and Alpaca confirms an order at one average price.
 *   - Consolidated Audit Trail fee (CAT), buys and sells: USD 0.000046 per executed share (the
 *     table's "EES rate"), the executed shares rounded UP to a whole share
 *     (alpaca.markets/support/regulatory-fees, read 2026-12-05: "The CAT Fee rate is
 *     determined based on executed shares, rounded up to the nearest whole share"; that page
 *     has quoted 0.0000265 and 0.000053 per share at other dates: the model keeps the docs
 *     table's rate). Rounded per order, like the TAF cap: a 0.1-share order pays one share's
 *     CAT fee.
 *   How Alpaca charges them (docs page, "How Fees are charged and reflected in account
 *   balances"): it accrues them intraday and deducts the pending amounts from the account's
 *   balances; at the end of the day it charges each account the day's cumulative total of each
 *   fee, rounded UP to the cent (a TAF total of USD 0.00083 is charged USD 0.01); they are
 *   taken from the sale proceeds (the CAT fee of a purchase from buying power). The model
 *   accrues them per fill, unrounded, inside the fill's fee, and charges each account, once per
 *   New York session date, each type's total rounded up beyond the accruals
 *   (`exchange/regulatory-fees.ts`): the cohort (each agent is an account), the simulated
 *   broker, the reference simulation and the paper PnL alike. A USD 50 slice's round trip of
 *   0.1 share at USD 500 accrues USD 0.0015 and is charged USD 0.03.
 * - Alpaca crypto, tier 1 (30-day volume below USD 100,000): taker 0.25 % of notional on
 *   either side (a market order takes liquidity); maker 0.15 % (alpaca.markets/support/
 *   crypto-maker-taker-gmt-faq, effective 2023-03-13). Higher tiers: set `notionalFeeFraction`
 *   to the tier's rate. No SEC fee, TAF or CAT fee on crypto.
 *
 * Slippage stays the cohort default (1 bp beyond the touch): the quoted spread itself is paid
 * in full by every fill (a buy pays the ask, a sell receives the bid).
 */
import type { Market } from '../calendar/market-calendar.js';
import { parseCohortConfig } from '../cohort/config.js';
import { type FillCosts, fillCostsOf } from '../cohort/fill-model.js';
import { ValidationError } from '../errors.js';

/** The fee schedules with a preset. */
export type BrokerFeeScheduleName = 'ibkr_fixed' | 'alpaca_equity' | 'alpaca_crypto_tier1';

/** A named schedule: the costs and where they come from. */
export interface BrokerFeeSchedule {
  readonly name: BrokerFeeScheduleName;
  /** Where the figures come from (printed with the schedule). */
  readonly source: string;
  readonly costs: Required<Omit<FillCosts, 'slippageBps'>>;
}

/**
 * Default SEC Section 31 fee, USD per USD of sell principal: USD 27.80 per million, the rate in
 * Alpaca's regulatory-fee table (docs.alpaca.markets/docs/regulatory-fees, read 2026-12-05).
 * The SEC re-sets it every fiscal year (module comment): a stage sets its own
 * (`fees.secFeePerUsdSold`).
 */
export const SEC_FEE_PER_USD_SOLD = 27.8e-6;
/** FINRA TAF on sales, USD per share, and its cap per order, USD (Alpaca's table). */
const FINRA_TAF_PER_SHARE = 0.000166;
const FINRA_TAF_MAX_USD = 8.3;
/**
 * CAT fee on both sides, USD per executed share, the order's executed shares rounded up to a
 * whole share (Alpaca's table, "CAT FEE, EES Rate"; the rounding: its support page).
 */
const CAT_FEE_PER_SHARE = 0.000046;
/**
 * Market impact of a US large-cap equity, bps per unit of √(fill shares / minute volume)
 * (`fill-model.ts#marketImpactBps`): `Y × σ_daily / √390` with the square-root law's prefactor
 * Y = 1 (Tóth et al. 2011, Phys. Rev. X 1, 021006: Y of order 1), a daily volatility of 1.5 %
 * (150 bps, a typical large cap; our assumption) and 390 minutes per session: 150 / 19.75 ≈
 * 7.6. A fill of 1 % of its minute's volume pays 0.76 bp beyond the flat slippage.
 */
export const EQUITY_IMPACT_COEFFICIENT_BPS = 7.6;

/** Every preset, by name. */
export const BROKER_FEE_SCHEDULES: Readonly<Record<BrokerFeeScheduleName, BrokerFeeSchedule>> = {
  ibkr_fixed: {
    name: 'ibkr_fixed',
    source:
      'IBKR Pro Fixed: USD 0.005/share, min USD 1.00/order, max 1 % of trade value; SEC fee and FINRA TAF passed through on sales; market impact 7.6 bps × √(share of the minute volume) (square-root law, Tóth et al. 2011)',
    costs: {
      feePerShareUsd: 0.005,
      minFeeUsd: 1,
      maxFeeFraction: 0.01,
      notionalFeeFraction: 0,
      secFeePerUsdSold: SEC_FEE_PER_USD_SOLD,
      finraTafPerShareSold: FINRA_TAF_PER_SHARE,
      finraTafMaxUsd: FINRA_TAF_MAX_USD,
      catFeePerShare: 0,
      impactCoefficientBps: EQUITY_IMPACT_COEFFICIENT_BPS,
    },
  },
  alpaca_equity: {
    name: 'alpaca_equity',
    source:
      'Alpaca equities: no commission; SEC fee USD 27.80 per million and FINRA TAF USD 0.000166/share (max USD 8.30 per order) on sells, CAT fee USD 0.000046/share rounded up to whole shares on both sides; each fee type charged per account and day, rounded up to the cent (docs.alpaca.markets/docs/regulatory-fees, alpaca.markets/support/regulatory-fees, read 2026-12-05); market impact 7.6 bps × √(share of the minute volume) (square-root law, Tóth et al. 2011)',
    costs: {
      feePerShareUsd: 0,
      minFeeUsd: 0,
      maxFeeFraction: 0,
      notionalFeeFraction: 0,
      secFeePerUsdSold: SEC_FEE_PER_USD_SOLD,
      finraTafPerShareSold: FINRA_TAF_PER_SHARE,
      finraTafMaxUsd: FINRA_TAF_MAX_USD,
      catFeePerShare: CAT_FEE_PER_SHARE,
      impactCoefficientBps: EQUITY_IMPACT_COEFFICIENT_BPS,
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
      catFeePerShare: 0,
      // The equity estimate is not calibrated for coins: no impact term for crypto.
      impactCoefficientBps: 0,
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

/**
 * The equity fee presets a stage may choose (`fees.preset` of `lib/config`):
 * - `cohort_default`: the cohort config's defaults (USD 0.005 per share, capped at 1 % of
 *   notional, no minimum; `cohort/config.ts` says why), which stand in for the pass-through
 *   fees too;
 * - `ibkr_fixed`, `alpaca_equity`: the {@link BROKER_FEE_SCHEDULES} presets.
 */
export const STAGE_FEE_PRESETS = ['cohort_default', 'ibkr_fixed', 'alpaca_equity'] as const;
export type StageFeePreset = (typeof STAGE_FEE_PRESETS)[number];

/**
 * A stage's equity costs: the preset's fee fields with the cohort default slippage (1 bp),
 * and, when given, the stage's SEC Section 31 rate in place of the preset's (only a preset
 * that charges the SEC fee takes one).
 *
 * @param preset the stage's {@link StageFeePreset}.
 * @param secFeePerUsdSold the stage's SEC rate, USD per USD of sell principal (e.g. 27.8e-6,
 *   or 0 while the SEC charges nothing); absent: the preset's ({@link SEC_FEE_PER_USD_SOLD}).
 * @returns every cost field set (USD, fractions, bps as in {@link FillCosts}).
 * @throws ValidationError (field `secFeePerUsdSold`) when `cohort_default` is given an SEC rate.
 */
export function stageFeeCosts(
  preset: StageFeePreset,
  secFeePerUsdSold?: number,
): Required<FillCosts> {
  const defaults = fillCostsOf(parseCohortConfig({ bankrollUsd: 1_000 }));
  if (preset === 'cohort_default') {
    if (secFeePerUsdSold !== undefined) {
      throw new ValidationError(
        'secFeePerUsdSold',
        'the cohort_default preset charges no SEC fee (its per-share fee stands in for it): choose ibkr_fixed or alpaca_equity',
      );
    }
    return defaults;
  }
  const costs = { ...BROKER_FEE_SCHEDULES[preset].costs, slippageBps: defaults.slippageBps };
  return secFeePerUsdSold === undefined ? costs : { ...costs, secFeePerUsdSold };
}
