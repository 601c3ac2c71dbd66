import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCohortConfig } from '../../../functions/core/cohort/config.js';
import { type Genome, seedGenomePool } from '../../../functions/core/cohort/genome.js';
import {
  type SimulationResult,
  sessionOpenMs,
  simulateCohort,
} from '../../../functions/core/cohort/simulate.js';
import { ValidationError } from '../../../functions/core/errors.js';
import type { MarketSession } from '../../../functions/core/market/types.js';
import { config, genome, makeSession, OPEN_2013_10_07, randomSession } from './fixtures.js';

const CENT = 0.01;

/** Marks as the simulator defines them: quote mid, else last close, else previous mark. */
function marks(session: MarketSession): Float64Array[] {
  return session.series.map((s) => {
    const out = new Float64Array(session.timestamps.length);
    let m = Number.NaN;
    for (let t = 0; t < out.length; t++) {
      const b = s.bid[t] as number;
      const a = s.ask[t] as number;
      const c = s.close[t] as number;
      if (b > 0 && a > 0) m = (a + b) / 2;
      else if (c > 0) m = c;
      out[t] = m;
    }
    return out;
  });
}

/** Minutes at which every symbol has a two-sided quote. */
function fullyQuoted(session: MarketSession): boolean[] {
  return Array.from(session.timestamps, (_, t) =>
    session.series.every((s) => (s.bid[t] as number) > 0 && (s.ask[t] as number) > 0),
  );
}

/**
 * Rebuilds one agent's equity curve from its fills alone:
 * equity_t = allocation − Σ_{fills up to t} (signedQty × price + fee) + position_t × mark_t.
 */
function replayEquity(
  result: SimulationResult,
  session: MarketSession,
  agentIndex: number,
): number[] {
  const agent = result.agents[agentIndex] as SimulationResult['agents'][number];
  const mark = marks(session)[session.symbols.indexOf(agent.genome.symbol)] as Float64Array;
  let cash = agent.allocationUsd;
  let q = 0;
  let f = 0;
  return result.timestamps.map((ts, t) => {
    while (f < agent.fills.length && agent.fills[f]?.t === ts) {
      const fill = agent.fills[f] as (typeof agent.fills)[number];
      const signed = fill.side === 'buy' ? fill.qty : -fill.qty;
      cash -= signed * fill.priceUsd + fill.feeUsd;
      q += signed;
      f++;
    }
    return Math.abs(q) < 1e-9 ? cash : cash + q * (mark[t] as number);
  });
}

/** Scenario generator. Ratios are drawn on a grid so fast-check's bias toward tiny doubles does not starve trading. */
const scenario = fc.record({
  sessionSeed: fc.integer({ min: 0, max: 1_000_000 }),
  genomeSeed: fc.integer({ min: 0, max: 1_000_000 }),
  symbols: fc.constantFrom(['SPY'], ['SPY', 'BAC'], ['SPY', 'BAC', 'AIG']),
  bars: fc.integer({ min: 30, max: 150 }),
  tradeGap: fc.integer({ min: 0, max: 20 }).map((x) => x / 100),
  quoteGap: fc.integer({ min: 0, max: 20 }).map((x) => x / 100),
  volatility: fc.integer({ min: 5, max: 100 }).map((x) => x / 10_000),
  bankrollUsd: fc.integer({ min: 5_000, max: 10_000_000 }).map((x) => x / 100),
  agentCount: fc.integer({ min: 1, max: 40 }),
  allocation: fc.constantFrom('equal', 'risk-weighted'),
  maxAgentLeverage: fc.integer({ min: 0, max: 100 }).map((x) => x / 10),
  maxAggregateExposure: fc.integer({ min: 0, max: 40 }).map((x) => x / 10),
  minFeeUsd: fc.constantFrom(0, 0.01, 1),
  slippageBps: fc.integer({ min: 0, max: 50 }),
  fractionalShares: fc.boolean(),
  flattenAtClose: fc.boolean(),
  sigma: fc.integer({ min: 2, max: 50 }).map((x) => x / 1_000),
});

/** What the property runs exercised. */
class Coverage {
  runsWithTrades = 0;
  leverageBreaches = 0;
  exposureBreaches = 0;
  forcedReductions = 0;
  record(result: SimulationResult): void {
    let trades = 0;
    for (const a of result.agents) {
      trades += a.tradeCount;
      this.leverageBreaches += a.leverageBreaches;
      this.exposureBreaches += a.exposureBreaches;
      this.forcedReductions += a.forcedReductions;
    }
    if (trades > 0) this.runsWithTrades++;
  }
}

type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

function simulateScenario(s: Scenario) {
  const session = randomSession(s.sessionSeed, {
    symbols: s.symbols,
    bars: s.bars,
    tradeGap: s.tradeGap,
    quoteGap: s.quoteGap,
    volatility: s.volatility,
  });
  const cfg = parseCohortConfig({
    bankrollUsd: s.bankrollUsd,
    agentCount: s.agentCount,
    allocation: s.allocation,
    maxAgentLeverage: s.maxAgentLeverage,
    maxAggregateExposure: s.maxAggregateExposure,
    minFeeUsd: s.minFeeUsd,
    slippageBps: s.slippageBps,
    fractionalShares: s.fractionalShares,
    flattenAtClose: s.flattenAtClose,
  });
  const genomes = seedGenomePool(s.agentCount, s.symbols, s.genomeSeed);
  const riskEstimates = Object.fromEntries(s.symbols.map((sym, i) => [sym, s.sigma * (1 + i)]));
  const result = simulateCohort({ cohortId: 'prop', session, genomes, config: cfg, riskEstimates });
  return { session, cfg, result };
}

describe('simulateCohort risk ceilings (property)', () => {
  it('keeps every agent under its leverage ceiling and the cohort under the aggregate ceiling, up to the price move between decision and fill', () => {
    const coverage = new Coverage();
    fc.assert(
      fc.property(scenario, (s) => {
        // Prepare / Act
        const { session, cfg, result } = simulateScenario(s);
        coverage.record(result);
        const quoted = fullyQuoted(session);
        const traded = Array.from(session.timestamps, (_, t) =>
          session.series.every((x) => (x.volume[t] as number) > 0),
        );
        const mark = marks(session);
        const aggregateCap = cfg.maxAggregateExposure * cfg.bankrollUsd;
        const L = cfg.maxAgentLeverage;

        // Assess: the ceilings hold at the decision minute's prices (t − 1); the orders fill at
        // minute t's quote, so the check at t allows the move of the marks from t − 1 to t and
        // the distance of each fill price from the decision mark. An order decided earlier
        // (its symbol did not trade in between) stays open at its size, so the aggregate also
        // allows its mark's move from its decision minute d to t − 1. Checked where every order
        // can fill at t (both minutes quoted, every symbol traded at t).
        const indexOf = new Map(result.timestamps.map((ts, i) => [ts, i]));
        for (let t = 1; t < result.timestamps.length; t++) {
          if (!(quoted[t] && quoted[t - 1] && traded[t])) continue;
          const ts = result.timestamps[t] as number;
          let aggregateSlack = CENT;
          for (const agent of result.agents) {
            const s = session.symbols.indexOf(agent.genome.symbol);
            const m = mark[s] as Float64Array;
            const fills = agent.fills.filter((f) => f.t === ts);
            const d = Math.min(t - 1, ...fills.map((f) => indexOf.get(f.decidedAt) as number));
            const move =
              Math.abs((m[t] as number) - (m[t - 1] as number)) +
              Math.abs((m[t - 1] as number) - (m[d] as number));
            const gross = agent.grossExposureCurve[t] as number;
            const qty = gross / (m[t] as number);
            aggregateSlack += qty * move;
            if (fills.some((f) => f.decidedAt !== result.timestamps[t - 1])) continue;
            const equity = agent.equityCurve[t] as number;
            const fillSlack = fills.reduce(
              (sum, f) => sum + f.qty * Math.abs(f.priceUsd - (m[t - 1] as number)) + f.feeUsd,
              0,
            );
            const slack = (1 + L) * (qty * move + fillSlack) + CENT;
            expect(gross).toBeLessThanOrEqual(L * Math.max(0, equity) + slack);
          }
          expect(result.parent.grossExposureCurve[t] as number).toBeLessThanOrEqual(
            aggregateCap + aggregateSlack,
          );
        }
      }),
      { numRuns: 60 },
    );

    // Assess that the scenarios exercised what they check (not a degenerate generator).
    expect(coverage.runsWithTrades).toBeGreaterThan(30);
    expect(coverage.leverageBreaches).toBeGreaterThan(0);
    expect(coverage.exposureBreaches).toBeGreaterThan(0);
    expect(coverage.forcedReductions).toBeGreaterThan(0);
  });
});

describe('simulateCohort cash conservation (property)', () => {
  it('parent equity = bankroll + Σ (trading PnL − fees) at every minute, and each ledger identity at the end', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        // Prepare / Act
        const { session, cfg, result } = simulateScenario(s);

        // Assess: allocations + unallocated cash = bankroll (to the cent, never above).
        const allocated = result.agents.reduce((sum, a) => sum + a.allocationUsd, 0);
        expect(allocated).toBeLessThanOrEqual(cfg.bankrollUsd + 1e-9);
        expect(allocated + result.parent.unallocatedCashUsd).toBeCloseTo(cfg.bankrollUsd, 6);

        // Every minute: each agent's curve equals its replayed cash flows + position × mark,
        // and the parent curve equals unallocated cash + Σ agent equity.
        const replays = result.agents.map((_, i) => replayEquity(result, session, i));
        for (let t = 0; t < result.timestamps.length; t++) {
          let sum = result.parent.unallocatedCashUsd;
          result.agents.forEach((agent, i) => {
            expect(
              Math.abs((agent.equityCurve[t] as number) - (replays[i]?.[t] as number)),
            ).toBeLessThan(1e-6);
            sum += agent.equityCurve[t] as number;
          });
          expect(Math.abs((result.parent.equityCurve[t] as number) - sum)).toBeLessThan(1e-6);
        }

        // End: final cash + positions at mark = allocation + realized + unrealized − fees.
        let pnl = 0;
        for (const agent of result.agents) {
          const positionsValue = agent.positions.reduce((v, p) => v + p.qty * p.markPriceUsd, 0);
          const equity = agent.finalCashUsd + positionsValue;
          const identity =
            agent.allocationUsd + agent.realizedPnlUsd + agent.unrealizedPnlUsd - agent.feesUsd;
          expect(Math.abs(equity - identity)).toBeLessThan(1e-6);
          expect(Math.abs(equity - (agent.equityCurve.at(-1) as number))).toBeLessThan(1e-6);
          expect(agent.tradeCount).toBe(agent.fills.length);
          pnl += agent.realizedPnlUsd + agent.unrealizedPnlUsd - agent.feesUsd;
          if (cfg.flattenAtClose) expect(agent.positions).toEqual([]);
        }
        expect(
          Math.abs((result.parent.equityCurve.at(-1) as number) - (cfg.bankrollUsd + pnl)),
        ).toBeLessThan(1e-6);
      }),
      { numRuns: 60 },
    );
  });
});

describe('simulateCohort fills', () => {
  const momentum = genome('momentum', 'SPY', { lookback: 2, threshold: 0.001, riskFraction: 0.5 });

  it("matches a hand-computed session: decide on the signal minute, buy at the next minute's ask, flatten in the last minute", () => {
    // Prepare: SPY closes 100, 100, 101, 101, 101; bid/ask = close ∓ 0.01; no slippage.
    // Minute 2: r = 101/100 − 1 = 1% > 0.1% → target 0.5 × 1000 / mid 101 = 4.950495 shares (1e-6 steps),
    //   decided at the end of minute 2. Minute 3: buy at its closing ask 101.01; fee = min(1% × notional, 0.005 × 4.950495) = 0.024752475.
    //   Cash = 1000 − 4.950495 × 101.01 − 0.024752475 = 499.925747575.
    //   Equity = cash + 4.950495 × 101 (mid) = 999.925742575.
    // Minute 3 (two minutes before the close): decide to flatten; minute 4: sell at the bid 100.99.
    //   Cash = 499.925747575 + 4.950495 × 100.99 − 0.024752475 = 999.85148515.
    //   Realized = (100.99 − 101.01) × 4.950495 = −0.0990099; fees = 0.04950495.
    const session = makeSession({ SPY: [100, 100, 101, 101, 101] });
    const cfg = config({ slippageBps: 0 });

    // Act
    const result = simulateCohort({ cohortId: 'hand', session, genomes: [momentum], config: cfg });

    // Assess
    const agent = result.agents[0] as SimulationResult['agents'][number];
    expect(agent.fills.map((f) => [f.decidedAt, f.t, f.side, f.reason])).toEqual([
      [OPEN_2013_10_07 + 2 * 60_000, OPEN_2013_10_07 + 3 * 60_000, 'buy', 'signal'],
      [OPEN_2013_10_07 + 3 * 60_000, OPEN_2013_10_07 + 4 * 60_000, 'sell', 'flatten'],
    ]);
    expect(agent.fills[0]?.qty).toBeCloseTo(4.950495, 9);
    expect(agent.fills[0]?.priceUsd).toBeCloseTo(101.01, 9);
    expect(agent.fills[0]?.feeUsd).toBeCloseTo(0.024752475, 9);
    expect(agent.fills[1]?.priceUsd).toBeCloseTo(100.99, 9);
    const expected = [1000, 1000, 1000, 999.925742575, 999.85148515];
    agent.equityCurve.forEach((v, t) => {
      expect(v).toBeCloseTo(expected[t] as number, 8);
    });
    expect(agent.realizedPnlUsd).toBeCloseTo(-0.0990099, 9);
    expect(agent.feesUsd).toBeCloseTo(0.04950495, 9);
    expect(agent.unrealizedPnlUsd).toBe(0);
    expect(agent.positions).toEqual([]);
    expect(result.parent.equityCurve.at(-1)).toBeCloseTo(999.85148515, 8);
  });

  it('applies slippage against the agent on both sides', () => {
    // Prepare
    const session = makeSession({ SPY: [100, 100, 101, 101, 101] });

    // Act
    const result = simulateCohort({
      cohortId: 's',
      session,
      genomes: [momentum],
      config: config({ slippageBps: 10 }),
    });

    // Assess: 101.01 × 1.001 and 100.99 × 0.999
    const fills = result.agents[0]?.fills ?? [];
    expect(fills[0]?.priceUsd).toBeCloseTo(101.01 * 1.001, 9);
    expect(fills[1]?.priceUsd).toBeCloseTo(100.99 * 0.999, 9);
  });

  it('does not size an order in a minute without a quote; it is decided in the next quoted minute and fills in the one after', () => {
    // Prepare: the signal minute (2) has no quote.
    const nan = Number.NaN;
    const session = makeSession({
      SPY: {
        close: [100, 100, 101, 101, 101, 101],
        bid: [99.99, 99.99, nan, 100.99, 100.99, 100.99],
        ask: [100.01, 100.01, nan, 101.02, 101.03, 101.01],
      },
    });

    // Act
    const result = simulateCohort({
      cohortId: 'q',
      session,
      genomes: [momentum],
      config: config({ slippageBps: 0 }),
    });

    // Assess
    const fills = result.agents[0]?.fills ?? [];
    expect(fills[0]?.decidedAt).toBe(OPEN_2013_10_07 + 3 * 60_000);
    expect(fills[0]?.t).toBe(OPEN_2013_10_07 + 4 * 60_000);
    expect(fills[0]?.priceUsd).toBe(101.03);
    expect(result.agents[0]?.grossExposureCurve[3]).toBe(0);
  });

  it('keeps the position overnight when flattenAtClose is false', () => {
    // Prepare
    const session = makeSession({ SPY: [100, 100, 101, 101.5, 102] });

    // Act
    const kept = simulateCohort({
      cohortId: 'k',
      session,
      genomes: [momentum],
      config: config({ flattenAtClose: false }),
    });
    const flat = simulateCohort({ cohortId: 'f', session, genomes: [momentum], config: config() });

    // Assess
    const position = kept.agents[0]?.positions[0];
    expect(position?.symbol).toBe('SPY');
    expect(position?.markPriceUsd).toBe(102);
    expect(kept.agents[0]?.unrealizedPnlUsd).toBeCloseTo(
      ((position?.markPriceUsd ?? 0) - (position?.avgPriceUsd ?? 0)) * (position?.qty ?? 0),
      9,
    );
    expect(flat.agents[0]?.positions).toEqual([]);
    expect(flat.agents[0]?.fills.at(-1)?.reason).toBe('flatten');
  });
});

describe('simulateCohort risk enforcement', () => {
  it('clips an order to the agent leverage ceiling and counts the breach', () => {
    // Prepare: riskFraction 2 but maxAgentLeverage 1.
    const session = makeSession({ SPY: [100, 100, 101, 101, 101] });
    const g = genome('momentum', 'SPY', { lookback: 2, threshold: 0.001, riskFraction: 2 });

    // Act
    const result = simulateCohort({
      cohortId: 'l',
      session,
      genomes: [g],
      config: config({ maxAgentLeverage: 1 }),
    });

    // Assess
    const agent = result.agents[0] as SimulationResult['agents'][number];
    expect(agent.leverageBreaches).toBe(1);
    expect(agent.grossExposureCurve[3]).toBeGreaterThan(990);
    expect(agent.grossExposureCurve[3]).toBeLessThanOrEqual(agent.equityCurve[3] as number);
  });

  it('gives the aggregate headroom to the agent first in the minute rotation and clips the next one', () => {
    // Prepare: two identical agents with 500 USD each want 1 × equity; the cohort may hold 500 USD gross.
    const session = makeSession({ SPY: [100, 100, 101, 101, 101] });
    const g = genome('momentum', 'SPY', { lookback: 2, threshold: 0.001, riskFraction: 1 });

    // Act
    const result = simulateCohort({
      cohortId: 'x',
      session,
      genomes: [g, g],
      config: config({ agentCount: 2, maxAggregateExposure: 0.5 }),
    });

    // Assess: minute 2 starts the rotation at agent 2 % 2 = 0.
    const [first, second] = result.agents;
    expect(first?.exposureBreaches).toBe(0);
    expect(second?.exposureBreaches).toBe(1);
    expect(second?.fills).toEqual([]);
    expect(result.parent.grossExposureCurve[3]).toBeLessThanOrEqual(500);
    expect(result.parent.grossExposureCurve[3]).toBeGreaterThan(499.9);
  });

  it('forces a short back under its leverage ceiling when the price rises', () => {
    // Prepare: opening range 99..101 over 5 minutes; 98 breaks down → short 1 × equity (ceiling 1×),
    // 10 whole shares (a short is never fractional), filled at minute 6; the stop (99 + 2 × 2 =
    // 103) is far, but at 102.9 (minute 7) the short's exposure exceeds its equity: the cover is
    // decided at minute 7 and fills at minute 8.
    const session = makeSession({ SPY: [100, 101, 99, 100, 100, 98, 98, 102.9, 102.9, 102.9] });
    const g = genome('opening_range_breakout', 'SPY', {
      rangeMinutes: 5,
      stopRangeMultiple: 2,
      riskFraction: 1,
    });

    // Act
    const result = simulateCohort({
      cohortId: 'r',
      session,
      genomes: [g],
      config: config({ maxAgentLeverage: 1 }),
    });

    // Assess
    const agent = result.agents[0] as SimulationResult['agents'][number];
    const risk = agent.fills.filter((f) => f.reason === 'risk');
    expect(risk).toHaveLength(1);
    expect(agent.fills[0]?.qty).toBe(10);
    expect(risk[0]?.t).toBe(OPEN_2013_10_07 + 8 * 60_000);
    expect(risk[0]?.side).toBe('buy');
    expect(Number.isInteger(risk[0]?.qty)).toBe(true);
    expect(agent.forcedReductions).toBe(1);
    expect(agent.grossExposureCurve[8]).toBeLessThanOrEqual(agent.equityCurve[8] as number);
    expect(agent.grossExposureCurve[8]).toBeGreaterThan(0.97 * (agent.equityCurve[8] as number));
  });
});

describe('simulateCohort determinism and output', () => {
  it('gives identical results for identical inputs, as plain JSON', () => {
    // Prepare
    const session = randomSession(5, {
      symbols: ['SPY', 'BAC', 'AIG', 'IBM'],
      bars: 390,
      tradeGap: 0.02,
      quoteGap: 0.02,
    });
    const cfg = config({ agentCount: 50, bankrollUsd: 5_000 });
    const genomes = seedGenomePool(50, session.symbols, cfg.seed);

    // Act
    const a = simulateCohort({ cohortId: 'd', session, genomes, config: cfg });
    const b = simulateCohort({ cohortId: 'd', session, genomes, config: cfg });

    // Assess
    expect(b).toEqual(a);
    expect(JSON.parse(JSON.stringify(a))).toEqual(a);
    expect(a.agents.some((x) => x.tradeCount > 0)).toBe(true);
    expect(a.timestamps).toHaveLength(390);
    expect(a.agents.map((x) => x.agentId).slice(0, 2)).toEqual(['a0001', 'a0002']);
  });

  it('computes the session open at 09:30 New York (EDT and EST) and 00:00 UTC for crypto', () => {
    // Act / Assess
    expect(sessionOpenMs({ date: '2013-10-07', market: 'equity-usa' })).toBe(
      Date.UTC(2013, 9, 7, 13, 30),
    );
    expect(sessionOpenMs({ date: '2013-12-02', market: 'equity-usa' })).toBe(
      Date.UTC(2013, 11, 2, 14, 30),
    );
    expect(sessionOpenMs({ date: '2018-04-04', market: 'crypto' })).toBe(Date.UTC(2018, 3, 4));
  });
});

describe('simulateCohort sizing and allocation', () => {
  it('lets a 50 USD bankroll split 30 ways trade fractional shares', () => {
    // Prepare: 1.66 USD per agent cannot buy one share of a 20-200 USD stock.
    const session = randomSession(8, { symbols: ['SPY', 'BAC'], bars: 390 });
    const cfg = config({ bankrollUsd: 50, agentCount: 30 });

    // Act
    const result = simulateCohort({
      cohortId: 'small',
      session,
      genomes: seedGenomePool(30, session.symbols, 1),
      config: cfg,
    });

    // Assess
    const fills = result.agents.flatMap((a) => a.fills);
    expect(result.agents.every((a) => a.allocationUsd === 1.66)).toBe(true);
    expect(fills.length).toBeGreaterThan(0);
    expect(fills.every((f) => f.qty < 1 && Number.isInteger(Math.round(f.qty * 1e6)))).toBe(true);
    expect(result.parent.equityCurve.every(Number.isFinite)).toBe(true);
  });

  it('trades whole shares only when fractionalShares is false', () => {
    // Prepare
    const session = randomSession(8, { symbols: ['SPY', 'BAC'], bars: 390 });
    const cfg = config({ bankrollUsd: 20_000, agentCount: 20, fractionalShares: false });

    // Act
    const result = simulateCohort({
      cohortId: 'whole',
      session,
      genomes: seedGenomePool(20, session.symbols, 1),
      config: cfg,
    });

    // Assess
    const fills = result.agents.flatMap((a) => a.fills);
    expect(fills.length).toBeGreaterThan(0);
    for (const f of fills) expect(f.qty).toBe(Math.round(f.qty));
  });

  it('applies the risk-weighted policy when every symbol has a σ, and says when it fell back to equal', () => {
    // Prepare
    const session = randomSession(8, { symbols: ['SPY', 'BAC'], bars: 60 });
    const cfg = config({ agentCount: 8, allocation: 'risk-weighted' });
    const genomes = seedGenomePool(8, session.symbols, 1);

    // Act
    const weighted = simulateCohort({
      cohortId: 'rw',
      session,
      genomes,
      config: cfg,
      riskEstimates: { SPY: 0.01, BAC: 0.03 },
    });
    const fallback = simulateCohort({
      cohortId: 'rw',
      session,
      genomes,
      config: cfg,
      riskEstimates: { SPY: 0.01 },
    });

    // Assess: BAC agents (σ 3×) get less than SPY agents of the same risk fraction
    expect(weighted.allocationPolicyApplied).toBe('risk-weighted');
    expect(new Set(weighted.agents.map((a) => a.allocationUsd)).size).toBeGreaterThan(1);
    expect(fallback.allocationPolicyApplied).toBe('equal');
    expect(new Set(fallback.agents.map((a) => a.allocationUsd))).toEqual(new Set([125]));
  });
});

describe('simulateCohort validation', () => {
  const session = makeSession({ SPY: [100, 101, 102] });
  const g: Genome = genome('momentum', 'SPY', { lookback: 2, threshold: 0.001, riskFraction: 1 });

  it('requires one genome per configured agent', () => {
    // Act / Assess
    expect(() =>
      simulateCohort({ cohortId: 'v', session, genomes: [g], config: config({ agentCount: 2 }) }),
    ).toThrow(expect.objectContaining({ field: 'genomes' }));
  });

  it('rejects a genome whose symbol is not in the session', () => {
    // Prepare
    const ibm = genome('momentum', 'IBM', { lookback: 2, threshold: 0.001, riskFraction: 1 });

    // Act / Assess
    expect(() =>
      simulateCohort({ cohortId: 'v', session, genomes: [ibm], config: config() }),
    ).toThrow(expect.objectContaining({ name: 'ValidationError', field: 'genomes[0].symbol' }));
  });

  it('rejects a genome with a gene out of bounds', () => {
    // Prepare
    const bad = genome('momentum', 'SPY', { lookback: 1, threshold: 0.001, riskFraction: 1 });

    // Act / Assess
    expect(() =>
      simulateCohort({ cohortId: 'v', session, genomes: [bad], config: config() }),
    ).toThrow(expect.objectContaining({ field: 'genomes[0].params.lookback' }));
  });

  it('rejects a session whose series do not match its symbols or its timestamps', () => {
    // Prepare
    const renamed: MarketSession = { ...session, symbols: ['BAC'] };
    const short: MarketSession = {
      ...session,
      series: [
        { ...(session.series[0] as MarketSession['series'][number]), bid: new Float64Array(2) },
      ],
    };

    // Act / Assess
    expect(() =>
      simulateCohort({ cohortId: 'v', session: renamed, genomes: [g], config: config() }),
    ).toThrow(expect.objectContaining({ field: 'session.series[0].symbol' }));
    expect(() =>
      simulateCohort({ cohortId: 'v', session: short, genomes: [g], config: config() }),
    ).toThrow(expect.objectContaining({ field: 'session.series[0]' }));
  });

  it('rejects an invalid config and an empty session', () => {
    // Prepare
    const empty = makeSession({ SPY: [] });

    // Act / Assess
    expect(() =>
      simulateCohort({
        cohortId: 'v',
        session,
        genomes: [g],
        config: { ...config(), bankrollUsd: 20 },
      }),
    ).toThrow(expect.objectContaining({ field: 'bankrollUsd' }));
    expect(() =>
      simulateCohort({ cohortId: 'v', session: empty, genomes: [g], config: config() }),
    ).toThrow(ValidationError);
  });
});
