/**
 * Parity: the cohort simulator and the simulated paper broker share ONE fill model, so a
 * genome's simulated fills, replayed as orders through the broker (same side, quantity and
 * minute; participation 1, no latency, the cohort's costs), come back at the same prices and
 * fees, and the broker's realized PnL equals the agent's, to the cent.
 *
 * Real session 2013-10-07 (SPY/BAC/AIG/IBM) read in place through the LEAN loader.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { SimulatedPaperBroker } from '../../../functions/adapters/brokers/simulated-broker.js';
import { InMemorySimulatedBrokerStore } from '../../../functions/adapters/brokers/simulated-broker-store.js';
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
import type { BrokerOrder } from '../../../functions/ports/broker.js';
import { ManualClock } from '../../../functions/ports/clock.js';
import { DATA_ROOT } from '../../support/paths.js';

const MINUTE_MS = 60_000;
const cents = (usd: number) => Math.round(usd * 100);

let marketData: LeanMarketData;
let result: SimulationResult;

beforeAll(async () => {
  marketData = new LeanMarketData(new FileSystemBlobSource(DATA_ROOT));
  const session = await marketData.loadSession('2013-10-07', ['SPY', 'BAC', 'AIG', 'IBM']);
  const config = parseCohortConfig({ bankrollUsd: 1_000, agentCount: 5, seed: 7 });
  result = simulateCohort({
    cohortId: 'parity',
    session,
    genomes: seedGenomePool(5, session.symbols, config.seed),
    config,
  });
});

/** Replays one agent's fills through a fresh simulated broker; returns the filled orders. */
async function replay(agent: AgentResult) {
  const { config } = result;
  const clock = new ManualClock(result.sessionOpenMs);
  const broker = new SimulatedPaperBroker({
    store: new InMemorySimulatedBrokerStore(),
    marketData,
    clock,
    config: {
      startingCashUsd: config.bankrollUsd,
      participationFraction: 1,
      latencyMs: 0,
      costs: config,
      fractionalShares: config.fractionalShares,
    },
  });
  const byMinute = new Map<number, Fill[]>();
  for (const fill of agent.fills) byMinute.set(fill.t, [...(byMinute.get(fill.t) ?? []), fill]);
  const orders: { fill: Fill; order: BrokerOrder | null }[] = [];
  let n = 0;
  for (const [t, fills] of byMinute) {
    clock.set(t);
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
    clock.set(t + MINUTE_MS);
    for (const [i, fill] of fills.entries()) {
      orders.push({ fill, order: await broker.getOrderByClientOrderId(ids[i] as string) });
    }
  }
  return { orders, ledger: await broker.getLedger() };
}

describe('parity: cohort simulator vs simulated paper broker (2013-10-07)', () => {
  it('replays every trading agent with the same prices, fees and realized PnL to the cent', async () => {
    // Prepare
    const traders = result.agents.filter((a) => a.fills.length > 0);
    expect(traders.length).toBeGreaterThan(0);
    expect(Math.max(...traders.map((a) => a.fills.length))).toBeGreaterThanOrEqual(4);

    for (const agent of traders) {
      // Act
      const { orders, ledger } = await replay(agent);

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
