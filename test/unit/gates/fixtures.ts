/**
 * A candidate that passes every gate under DEFAULT_GATE_THRESHOLDS, to mutate in tests.
 */
import type { GateInput } from '../../../functions/core/gates/evaluate.js';

/** 2024-03-12 11:00 New York (EDT, UTC-4), a Tuesday inside the 09:45-15:30 window. */
export const NOW_MS = Date.UTC(2024, 2, 12, 15, 0);

/** Deterministic N(0, sigma^2) daily returns (mulberry32 + Box-Muller). */
export function gaussianReturns(n: number, sigma: number, seed = 42): number[] {
  let a = seed >>> 0;
  const rand = (): number => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out: number[] = [];
  while (out.length < n) {
    const u = Math.max(rand(), 1e-12);
    const v = rand();
    out.push(sigma * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v));
  }
  return out;
}

/** A {@link GateInput} with every section present. */
export type FullGateInput = { readonly [K in keyof GateInput]-?: NonNullable<GateInput[K]> };

export function passingInput(): FullGateInput {
  return {
    nowMs: NOW_MS,
    capitalUsd: 100_000,
    killSwitch: { state: 'off' },
    drawdown: { parentDrawdownFraction: 0.02, agentDrawdownFraction: 0.01 },
    // A strategy whose session σ is ~0.5 % of its 5,000 USD slice (390 minutes of P&L), on an
    // underlying with 1.2 % open-to-close moves
    risk: {
      minuteReturns: gaussianReturns(390, 0.005 / Math.sqrt(390)),
      minutesPerSession: 390,
      capitalSliceUsd: 5_000,
      underlyingIntradayReturns: gaussianReturns(1000, 0.012, 7),
      maxIntradayExposureFraction: 1,
    },
    positionsAfterTrade: [
      { symbol: 'SPY', notionalUsd: 5_000 },
      { symbol: 'IBM', notionalUsd: -3_000 },
    ],
    leverage: { grossNotionalUsd: 10_000, equityUsd: 5_000 },
    trades: { tradeCount: 25, fillCount: 50 },
    liquidity: {
      orderQty: 10,
      minuteVolume: 50_000,
      dailyVolume: 60_000_000,
      bidUsd: 510.1,
      askUsd: 510.12,
    },
    staleness: { lastBarMs: NOW_MS - 30_000 },
    window: { isTradingDay: true },
  };
}
