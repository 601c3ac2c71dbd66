/**
 * The broker fee schedules, each fee computed by hand from a small order.
 */
import { describe, expect, it } from 'vitest';
import { parseCohortConfig } from '../../../functions/core/cohort/config.js';
import {
  commissionUsd,
  FillCostsSchema,
  fillCostsOf,
  fillMarketOrder,
} from '../../../functions/core/cohort/fill-model.js';
import { costPerShare } from '../../../functions/core/cohort/sizing.js';
import { ValidationError } from '../../../functions/core/errors.js';
import { requiredBuyingPowerUsd } from '../../../functions/core/exchange/exchange-model.js';
import {
  BROKER_FEE_SCHEDULES,
  SEC_FEE_PER_USD_SOLD,
  stageFeeCosts,
} from '../../../functions/core/exchange/fee-schedules.js';

const costsOf = (name: keyof typeof BROKER_FEE_SCHEDULES) =>
  fillCostsOf({ slippageBps: 0, ...BROKER_FEE_SCHEDULES[name].costs });

describe('broker fee schedules', () => {
  it('Alpaca equities: a buy pays the CAT fee only; a sell adds the SEC fee and the FINRA TAF', () => {
    const c = costsOf('alpaca_equity');
    // 100 shares at 50 USD: notional 5,000; CAT 100 × 0.000046 = 0.0046 on either side
    expect(commissionUsd(100, 50, c, 'buy')).toBeCloseTo(0.0046, 15);
    // SEC 5,000 × 27.8e-6 = 0.139; TAF 100 × 0.000166 = 0.0166; CAT 0.0046
    expect(commissionUsd(100, 50, c, 'sell')).toBeCloseTo(0.139 + 0.0166 + 0.0046, 12);
    // TAF capped at 8.30 per trade: 100,000 shares × 0.000166 = 16.60 → 8.30; SEC on
    // 100,000 USD = 2.78; CAT 100,000 × 0.000046 = 4.60 (no cap)
    expect(commissionUsd(100_000, 1, c, 'sell')).toBeCloseTo(2.78 + 8.3 + 4.6, 10);
    // The cap binds from 50,000 shares (Alpaca's TAF quantity limit): 49,999 shares pay
    // 8.299834, 50,000 and 60,000 shares pay 8.30
    const taf = (n: number) => commissionUsd(n, 1, c, 'sell') - n * (27.8e-6 + 0.000046);
    expect(taf(49_999)).toBeCloseTo(8.299834, 9);
    expect(taf(50_000)).toBeCloseTo(8.3, 9);
    expect(taf(60_000)).toBeCloseTo(8.3, 9);
    // A 10 USD sale of a fractional share, accrued unrounded (the account's day total of each
    // fee is rounded up to the cent: regulatory-fees.test.ts): SEC 0.000278 + TAF 0.0000332 +
    // CAT on the executed shares rounded up to a whole share, 1 × 0.000046
    expect(commissionUsd(0.2, 50, c, 'sell')).toBeCloseTo(
      10 * 27.8e-6 + 0.2 * 0.000166 + 1 * 0.000046,
      15,
    );
  });

  it('Alpaca crypto tier 1: 0.25 % of notional on both sides', () => {
    const c = costsOf('alpaca_crypto_tier1');
    expect(commissionUsd(0.01, 60_000, c, 'buy')).toBeCloseTo(1.5, 12);
    expect(commissionUsd(0.01, 60_000, c, 'sell')).toBeCloseTo(1.5, 12);
  });

  it('IBKR Fixed: the USD 1 minimum, capped at 1 % of trade value, plus the sale pass-throughs', () => {
    const c = costsOf('ibkr_fixed');
    // 10 shares at 20 USD: 0.05 per-share fee → the 1 USD minimum (1 % of 200 = 2 does not bind)
    expect(commissionUsd(10, 20, c, 'buy')).toBeCloseTo(1, 12);
    // 1 share at 50 USD: minimum 1 USD, but at most 1 % of 50 = 0.50
    expect(commissionUsd(1, 50, c, 'buy')).toBeCloseTo(0.5, 12);
    // 1,000 shares at 20 USD: 5 USD; a sale adds SEC 20,000 × 27.8e-6 = 0.556 and TAF 0.166
    expect(commissionUsd(1_000, 20, c, 'sell')).toBeCloseTo(5 + 0.556 + 0.166, 10);
  });

  it('the fill, the buying power and the sizing bound all charge the sale fees', () => {
    const c = costsOf('alpaca_equity');
    const fill = fillMarketOrder({ side: 'sell', qty: 100 }, { bid: 50, ask: 50.02 }, c);
    expect(fill?.feeUsd).toBeCloseTo(0.1602, 12);
    expect(requiredBuyingPowerUsd(100, 100, 50, c, 'sell')).toBeCloseTo(5_000.1602, 9);
    expect(requiredBuyingPowerUsd(100, 100, 50, c, 'buy')).toBeCloseTo(5_000.0046, 9);
    // Upper bound per share of the sale: 50 × 27.8e-6 + 0.000166 + 0.000046 (CAT)
    expect(costPerShare('sell', 50, 50, c)).toBeCloseTo(0.00139 + 0.000166 + 0.000046, 12);
    expect(costPerShare('buy', 50, 50, c)).toBeCloseTo(0.000046, 15);
  });

  it('every schedule is a valid cohort config and keeps its fields through the shared costs schema', () => {
    for (const s of Object.values(BROKER_FEE_SCHEDULES)) {
      const config = parseCohortConfig({ bankrollUsd: 50, ...s.costs });
      expect(FillCostsSchema.parse(fillCostsOf(config))).toEqual({
        slippageBps: 1,
        ...s.costs,
      });
      expect(s.source.length).toBeGreaterThan(20);
    }
  });
});

describe('stageFeeCosts (the per-stage preset)', () => {
  it('cohort_default is the cohort config default, untouched', () => {
    expect(stageFeeCosts('cohort_default')).toEqual(
      fillCostsOf(parseCohortConfig({ bankrollUsd: 50 })),
    );
  });

  it("a broker preset's fee fields with the default 1 bp slippage, and the stage's SEC rate", () => {
    expect(stageFeeCosts('alpaca_equity')).toEqual({
      slippageBps: 1,
      ...BROKER_FEE_SCHEDULES.alpaca_equity.costs,
    });
    expect(stageFeeCosts('ibkr_fixed').minFeeUsd).toBe(1);
    expect(stageFeeCosts('alpaca_equity').secFeePerUsdSold).toBe(SEC_FEE_PER_USD_SOLD);
    // While the SEC charges USD 0.00 per million (as from 2025-05-14), a sale of 100 shares at
    // 50 USD pays the TAF 0.0166 and the CAT fee 0.0046 only
    const zeroSec = stageFeeCosts('alpaca_equity', 0);
    expect(zeroSec.secFeePerUsdSold).toBe(0);
    expect(commissionUsd(100, 50, zeroSec, 'sell')).toBeCloseTo(0.0166 + 0.0046, 12);
    // A new fiscal-year rate, e.g. USD 20.60 per million: 5,000 × 20.6e-6 = 0.103
    expect(commissionUsd(100, 50, stageFeeCosts('alpaca_equity', 20.6e-6), 'sell')).toBeCloseTo(
      0.103 + 0.0166 + 0.0046,
      12,
    );
  });

  it('refuses an SEC rate for the cohort_default preset, naming the field', () => {
    expect(() => stageFeeCosts('cohort_default', 27.8e-6)).toThrow(ValidationError);
    expect(() => stageFeeCosts('cohort_default', 27.8e-6)).toThrow(/secFeePerUsdSold|SEC/);
  });
});
