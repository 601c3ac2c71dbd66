/**
 * Parity: the cohort simulator and the simulated paper broker share ONE exchange model
 * (timing, fill model, position book), so a genome's simulated fills, replayed as orders
 * through the broker AT THE MOMENT THE DECISION IS KNOWN (the end of the decision minute, plus
 * the configured latency; same side and quantity; participation 1, the cohort's costs), fill
 * in the same minute at the same prices and fees, and the broker's realized PnL equals the
 * agent's, to the cent, under the default costs and under every broker fee schedule. Nothing is
 * refused: no fractional short, no market-closed flatten.
 *
 * Every shared session (SPY/BAC/AIG/IBM) read in place through the LEAN loader.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { SimulatedPaperBroker } from '../../../functions/adapters/brokers/simulated-broker.js';
import { FileSystemBlobSource } from '../../../functions/adapters/market-data/blob-source.js';
import { LeanMarketData } from '../../../functions/adapters/market-data/lean-market-data.js';
import { parseCohortConfig } from '../../../functions/core/cohort/config.js';
import { seedGenomePool } from '../../../functions/core/cohort/genome.js';
import {
  type AgentResult,
  type Fill,
  type SimulationResult,
  simulateCohort,
} from '../../../functions/core/cohort/simulate.js';
import { BROKER_FEE_SCHEDULES } from '../../../functions/core/exchange/fee-schedules.js';
import type { BrokerOrder } from '../../../functions/ports/broker.js';
import { ManualClock } from '../../../functions/ports/clock.js';
import { InMemorySimulatedBrokerStore } from '../../support/doubles/memory-simulated-broker-store.js';
import { DATA_ROOT } from '../../support/paths.js';

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
const cents = (usd: number) => Math.round(usd * 100);

const SESSIONS = [
  '2013-10-04',
  '2013-10-07',
  '2013-10-08',
  '2013-10-09',
  '2013-10-10',
  '2013-10-11',
];
const LATENCY_MS = 1_000;

let marketData: LeanMarketData;
const results: SimulationResult[] = [];
/** Two sessions under each broker's fee schedule (regulatory fees on sells, crypto fee). */
const scheduled: SimulationResult[] = [];

beforeAll(async () => {
  marketData = new LeanMarketData(new FileSystemBlobSource(DATA_ROOT));
  for (const [k, date] of SESSIONS.entries()) {
    const session = await marketData.loadSession(date, ['SPY', 'BAC', 'AIG', 'IBM']);
    const config = parseCohortConfig({ bankrollUsd: 1_000, agentCount: 12, seed: 7 + k });
    results.push(
      simulateCohort({
        cohortId: `parity-${date}`,
        session,
        genomes: seedGenomePool(12, session.symbols, config.seed),
        config,
      }),
    );
    if (k >= 2) continue;
    for (const schedule of Object.values(BROKER_FEE_SCHEDULES)) {
      const costed = parseCohortConfig({
        bankrollUsd: 1_000,
        agentCount: 12,
        seed: 7 + k,
        ...schedule.costs,
      });
      scheduled.push(
        simulateCohort({
          cohortId: `parity-${schedule.name}-${date}`,
          session,
          genomes: seedGenomePool(12, session.symbols, costed.seed),
          config: costed,
        }),
      );
    }
  }
});

/** Replays one agent's fills through a fresh simulated broker; returns the filled orders. */
async function replay(result: SimulationResult, agent: AgentResult) {
  const { config } = result;
  const clock = new ManualClock(result.sessionOpenMs);
  const broker = new SimulatedPaperBroker({
    store: new InMemorySimulatedBrokerStore(),
    marketData,
    clock,
    config: {
      startingCashUsd: config.bankrollUsd,
      participationFraction: 1,
      latencyMs: LATENCY_MS,
      costs: config,
      fractionalShares: config.fractionalShares,
    },
  });
  const byMinute = new Map<number, Fill[]>();
  for (const fill of agent.fills) {
    byMinute.set(fill.decidedAt, [...(byMinute.get(fill.decidedAt) ?? []), fill]);
  }
  const orders: { fill: Fill; order: BrokerOrder | null }[] = [];
  let n = 0;
  for (const [decidedAt, fills] of byMinute) {
    // The decision is known at the end of its minute: the order is sent then, not before.
    clock.set(decidedAt + MINUTE_MS);
    const ids: string[] = [];
    for (const fill of fills) {
      const clientOrderId = `parity_${agent.agentId}_${++n}`;
      ids.push(clientOrderId);
      await broker.submitOrder({
        clientOrderId,
        symbol: fill.symbol,
        side: fill.side,
        qty: fill.qty,
        type: 'market',
        timeInForce: 'day',
      });
    }
    clock.set((fills[0]?.t ?? decidedAt) + MINUTE_MS);
    for (const [i, fill] of fills.entries()) {
      orders.push({ fill, order: await broker.getOrderByClientOrderId(ids[i] as string) });
    }
  }
  // The next New York day: the account has paid the session day's regulatory-fee charge.
  clock.set(result.sessionOpenMs + DAY_MS);
  return { orders, ledger: await broker.getLedger() };
}

/**
 * The day's regulatory-fee rounding of an agent's fills, by hand from Alpaca's rates: SEC on
 * sale principal, TAF per share sold (under the cap here), CAT on each order's shares rounded
 * up; each type's day total rounded up to the cent, less the unrounded totals.
 */
function roundingByHand(agent: AgentResult): number {
  const {
    secFeePerUsdSold: sec,
    finraTafPerShareSold: taf,
    catFeePerShare: cat,
  } = BROKER_FEE_SCHEDULES.alpaca_equity.costs;
  let [secUsd, tafUsd, catUsd] = [0, 0, 0];
  for (const f of agent.fills) {
    catUsd += cat * Math.ceil(f.qty - 1e-9);
    if (f.side === 'sell') {
      secUsd += sec * f.qty * f.priceUsd;
      tafUsd += taf * f.qty;
    }
  }
  const up = (usd: number) => (usd > 0 ? Math.ceil(usd * 100 - 1e-6) / 100 : 0);
  return up(secUsd) + up(tafUsd) + up(catUsd) - (secUsd + tafUsd + catUsd);
}

async function expectParity(sims: readonly SimulationResult[]): Promise<void> {
  const traders = sims.flatMap((result) =>
    result.agents.filter((a) => a.fills.length > 0).map((agent) => ({ result, agent })),
  );
  for (const { result, agent } of traders) {
    const { orders, ledger } = await replay(result, agent);
    expect(orders).toHaveLength(agent.fills.length);
    for (const { fill, order } of orders) {
      expect(order?.status).toBe('filled');
      expect(order?.feesUsd).toBe(fill.feeUsd);
      expect(cents(order?.filledAvgPriceUsd ?? Number.NaN)).toBe(cents(fill.priceUsd));
    }
    expect(cents(ledger.realizedPnlUsd)).toBe(cents(agent.realizedPnlUsd));
    expect(cents(ledger.feesUsd)).toBe(cents(agent.feesUsd));
    expect(cents(ledger.cashUsd - ledger.startingCashUsd)).toBe(
      cents(agent.finalCashUsd - agent.allocationUsd),
    );
  }
}

describe('parity: cohort simulator vs simulated paper broker (every shared session)', () => {
  it('under every broker fee schedule (IBKR Fixed, Alpaca equities with the SEC fee and FINRA TAF on sells and the CAT fee on both sides, Alpaca crypto): the same fees to the last bit, PnL to the cent', async () => {
    // Prepare: under the Alpaca equity schedule a buy pays only the CAT fee (no commission)
    // and every sell pays more than that (the SEC fee and the TAF on top)
    const alpaca = scheduled.filter((r) => r.cohortId.includes('alpaca_equity'));
    const fills = alpaca.flatMap((r) => r.agents.flatMap((a) => a.fills));
    const cat = BROKER_FEE_SCHEDULES.alpaca_equity.costs.catFeePerShare;
    expect(fills.some((f) => f.side === 'sell')).toBe(true);
    for (const f of fills) {
      if (f.side === 'buy') expect(f.feeUsd).toBeCloseTo(cat * Math.ceil(f.qty - 1e-9), 15);
      else expect(f.feeUsd).toBeGreaterThan(cat * f.qty);
    }
    // Each agent is its own account: after its last minute it pays each fee type's day total
    // rounded up to the cent, beyond the fees its fills accrued (priced by hand here)
    const traders = alpaca.flatMap((r) => r.agents.filter((a) => a.fills.length > 0));
    let charged = 0;
    for (const agent of traders) {
      const accrued = agent.fills.reduce((sum, f) => sum + f.feeUsd, 0);
      const rounding = roundingByHand(agent);
      expect(agent.feesUsd).toBeCloseTo(accrued + rounding, 9);
      // ... reported beside the fills (the trading record's day-level line)
      expect(agent.regulatoryRoundingUsd).toBeCloseTo(rounding, 12);
      expect(agent.finalCashUsd - agent.allocationUsd).toBeCloseTo(
        agent.fills.reduce((c, f) => c + (f.side === 'buy' ? -1 : 1) * f.qty * f.priceUsd, 0) -
          accrued -
          rounding,
        9,
      );
      if (rounding >= 0.01) charged++;
    }
    // The daily charge differs from the sum of the per-fill fees by a cent or more for most
    expect(charged).toBeGreaterThan(traders.length / 2);
    // Act / Assess: the simulated broker charges the same at the end of the day
    await expectParity(scheduled);
  });

  it('under the Alpaca equity preset with market impact: every fill pays the impact of its share of the minute volume, and the broker prices it the same to the cent', async () => {
    // Prepare: the same cohort with and without the impact term (a large coefficient so
    // the impact shows in cents), one session
    const session = await marketData.loadSession('2013-10-08', ['SPY', 'BAC', 'AIG', 'IBM']);
    const run = (impactCoefficientBps: number) => {
      const config = parseCohortConfig({
        bankrollUsd: 100_000,
        agentCount: 12,
        seed: 9,
        ...BROKER_FEE_SCHEDULES.alpaca_equity.costs,
        impactCoefficientBps,
      });
      const genomes = seedGenomePool(12, session.symbols, config.seed);
      return simulateCohort({
        cohortId: `impact-${impactCoefficientBps}`,
        session,
        genomes,
        config,
      });
    };
    const flat = run(0);
    const impacted = run(500);

    // Assess: the first fill of each agent (same decision, same minute) pays more adverse
    const firsts = flat.agents.flatMap((a, k) => {
      const [f0, f1] = [a.fills[0], impacted.agents[k]?.fills[0]];
      return f0 && f1 ? [{ f0, f1 }] : [];
    });
    expect(firsts.length).toBeGreaterThan(0);
    for (const { f0, f1 } of firsts) {
      expect(f1.t).toBe(f0.t);
      const worse = f0.side === 'buy' ? f1.priceUsd > f0.priceUsd : f1.priceUsd < f0.priceUsd;
      expect(worse).toBe(true);
    }
    // Act / Assess: the simulated broker fills the same orders at the same prices and fees
    await expectParity([impacted]);
  });

  it('replays every trading agent, orders sent when the decision is known, with the same prices, fees and realized PnL to the cent', async () => {
    // Prepare
    const traders = results.flatMap((result) =>
      result.agents.filter((a) => a.fills.length > 0).map((agent) => ({ result, agent })),
    );
    expect(traders.length).toBeGreaterThan(20);
    expect(
      traders.some(({ agent }) =>
        agent.fills.some((f) => f.side === 'sell' && f.reason === 'signal'),
      ),
    ).toBe(true);
    expect(traders.some(({ agent }) => agent.fills.some((f) => f.reason === 'flatten'))).toBe(true);

    for (const { result, agent } of traders) {
      // Act
      const { orders, ledger } = await replay(result, agent);

      // Assess: each fill
      expect(orders).toHaveLength(agent.fills.length);
      for (const { fill, order } of orders) {
        expect(order?.status).toBe('filled');
        expect(order?.filledQty).toBe(fill.qty);
        expect(cents(order?.filledAvgPriceUsd ?? Number.NaN)).toBe(cents(fill.priceUsd));
        expect(Math.abs((order?.filledAvgPriceUsd ?? 0) - fill.priceUsd)).toBeLessThan(1e-9);
        expect(cents(order?.feesUsd ?? Number.NaN)).toBe(cents(fill.feeUsd));
        expect(order?.feesUsd).toBe(fill.feeUsd);
        expect(order?.updatedAtIso).toBe(new Date(fill.t + MINUTE_MS).toISOString());
      }
      // Assess: the account
      expect(cents(ledger.realizedPnlUsd)).toBe(cents(agent.realizedPnlUsd));
      expect(cents(ledger.feesUsd)).toBe(cents(agent.feesUsd));
      expect(cents(ledger.cashUsd - ledger.startingCashUsd)).toBe(
        cents(agent.finalCashUsd - agent.allocationUsd),
      );
      expect(ledger.positions.every((p) => p.qty === 0)).toBe(agent.positions.length === 0);
    }
  });
});
