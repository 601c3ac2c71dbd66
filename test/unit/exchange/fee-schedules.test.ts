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
import { requiredBuyingPowerUsd } from '../../../functions/core/exchange/exchange-model.js';
import { BROKER_FEE_SCHEDULES } from '../../../functions/core/exchange/fee-schedules.js';

const costsOf = (name: keyof typeof BROKER_FEE_SCHEDULES) =>
  fillCostsOf({ slippageBps: 0, ...BROKER_FEE_SCHEDULES[name].costs });

describe('broker fee schedules', () => {
  it('Alpaca equities: a buy is free; a sell pays the SEC fee and the FINRA TAF', () => {
    const c = costsOf('alpaca_equity');
    // 100 shares at 50 USD: notional 5,000
    expect(commissionUsd(100, 50, c, 'buy')).toBe(0);
    // SEC 5,000 × 27.8e-6 = 0.139; TAF 100 × 0.000166 = 0.0166
    expect(commissionUsd(100, 50, c, 'sell')).toBeCloseTo(0.139 + 0.0166, 12);
    // TAF capped at 8.30 per order: 100,000 shares × 0.000166 = 16.60 → 8.30; SEC on 100,000 USD = 2.78
    expect(commissionUsd(100_000, 1, c, 'sell')).toBeCloseTo(2.78 + 8.3, 10);
    // A 10 USD sale of a fractional share: 0.000278 + 0.0000332 USD (accrued unrounded)
    expect(commissionUsd(0.2, 50, c, 'sell')).toBeCloseTo(10 * 27.8e-6 + 0.2 * 0.000166, 15);
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
    expect(fill?.feeUsd).toBeCloseTo(0.1556, 12);
    expect(requiredBuyingPowerUsd(100, 100, 50, c, 'sell')).toBeCloseTo(5_000.1556, 9);
    expect(requiredBuyingPowerUsd(100, 100, 50, c, 'buy')).toBe(5_000);
    // Upper bound per share of the sale: 50 × 27.8e-6 + 0.000166
    expect(costPerShare('sell', 50, 50, c)).toBeCloseTo(0.00139 + 0.000166, 12);
    expect(costPerShare('buy', 50, 50, c)).toBe(0);
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
