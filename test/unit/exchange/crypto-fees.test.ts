/**
 * Fees by market on real minute bars (`../shared/data/lean`, read in place): a crypto symbol
 * pays Alpaca's crypto tier-1 fee (0.25 % of notional on both sides), never the equity
 * USD 0.005 per share (which on a coin would be 0.005 USD per bitcoin), in the cohort
 * simulator, the reference exchange (paper session's reference simulation) and the simulated
 * broker, whatever equity schedule is configured; an equity keeps the configured schedule.
 */
import { describe, expect, it } from 'vitest';
import { SimulatedPaperBroker } from '../../../functions/adapters/brokers/simulated-broker.js';
import { FileSystemBlobSource } from '../../../functions/adapters/market-data/blob-source.js';
import { LeanMarketData } from '../../../functions/adapters/market-data/lean-market-data.js';
import { parseCohortConfig } from '../../../functions/core/cohort/config.js';
import { fillCostsOf } from '../../../functions/core/cohort/fill-model.js';
import { seedGenomePool } from '../../../functions/core/cohort/genome.js';
import { simulateCohort } from '../../../functions/core/cohort/simulate.js';
import { symbolMinutes } from '../../../functions/core/exchange/exchange-model.js';
import {
  BROKER_FEE_SCHEDULES,
  costsForMarket,
} from '../../../functions/core/exchange/fee-schedules.js';
import { ExchangeBroker } from '../../../functions/core/paper/exchange-broker.js';
import type { BrokerOrder, BrokerPort } from '../../../functions/ports/broker.js';
import { ManualClock } from '../../../functions/ports/clock.js';
import { InMemorySimulatedBrokerStore } from '../../support/doubles/memory-simulated-broker-store.js';
import { DATA_ROOT } from '../../support/paths.js';

const marketData = new LeanMarketData(new FileSystemBlobSource(DATA_ROOT));
/** The cohort default: USD 0.005 per share, capped at 1 % of notional (the equity schedule). */
const EQUITY = fillCostsOf(parseCohortConfig({ bankrollUsd: 1_000 }));
const CRYPTO_RATE = BROKER_FEE_SCHEDULES.alpaca_crypto_tier1.costs.notionalFeeFraction;

describe('costsForMarket', () => {
  it("selects Alpaca's crypto schedule for crypto and keeps the configured one for equities", () => {
    expect(CRYPTO_RATE).toBe(0.0025);
    expect(costsForMarket(EQUITY, 'equity-usa')).toEqual(EQUITY);
    const ibkr = { slippageBps: 3, ...BROKER_FEE_SCHEDULES.ibkr_fixed.costs };
    expect(costsForMarket(ibkr, 'equity-usa')).toEqual(ibkr);
    for (const configured of [EQUITY, ibkr]) {
      expect(costsForMarket(configured, 'crypto')).toEqual({
        ...BROKER_FEE_SCHEDULES.alpaca_crypto_tier1.costs,
        slippageBps: configured.slippageBps,
      });
    }
  });
});

describe('a crypto cohort on real BTCUSD/ETHUSD minutes (2018-04-04)', () => {
  it('charges every fill 0.25 % of its notional and records the schedule it used', async () => {
    const session = await marketData.loadSession('2018-04-04', ['BTCUSD', 'ETHUSD']);
    expect(session.market).toBe('crypto');
    const config = parseCohortConfig({ bankrollUsd: 1_000, agentCount: 10, seed: 2 });
    const genomes = seedGenomePool(10, session.symbols, config.seed);
    const result = simulateCohort({ cohortId: 'coh-crypto-fees', session, genomes, config });

    expect(result.config).toMatchObject({
      feePerShareUsd: 0,
      maxFeeFraction: 0,
      notionalFeeFraction: CRYPTO_RATE,
      secFeePerUsdSold: 0,
      finraTafPerShareSold: 0,
    });
    const fills = result.agents.flatMap((a) => a.fills);
    expect(new Set(fills.map((f) => f.symbol))).toEqual(new Set(['BTCUSD', 'ETHUSD']));
    expect(fills.length).toBeGreaterThan(20);
    for (const f of fills) {
      expect(f.feeUsd).toBeCloseTo(CRYPTO_RATE * f.qty * f.priceUsd, 12);
      // The per-coin equity fee would have been 0.005 × qty: orders of magnitude less.
      expect(f.feeUsd).toBeGreaterThan(100 * 0.005 * f.qty);
    }
    for (const a of result.agents) {
      const sum = a.fills.reduce((s, f) => s + f.feeUsd, 0);
      expect(a.feesUsd).toBeCloseTo(sum, 9);
    }
  });

  it('an equity cohort on real SPY minutes keeps the per-share schedule', async () => {
    const session = await marketData.loadSession('2013-10-07', ['SPY']);
    const config = parseCohortConfig({ bankrollUsd: 1_000, agentCount: 6, seed: 2 });
    const genomes = seedGenomePool(6, session.symbols, config.seed);
    const result = simulateCohort({ cohortId: 'coh-equity-fees', session, genomes, config });
    const fills = result.agents.flatMap((a) => a.fills);
    expect(fills.length).toBeGreaterThan(0);
    for (const f of fills) {
      const notional = f.qty * f.priceUsd;
      expect(f.feeUsd).toBeCloseTo(Math.min(0.01 * notional, 0.005 * f.qty), 12);
    }
  });
});

/** Buys `qty` at 12:00 UTC and sells it at 12:10 UTC on `broker`; returns both orders filled. */
async function roundTrip(
  broker: BrokerPort,
  clock: ManualClock,
  symbol: string,
  qty: number,
  atIso: string,
): Promise<BrokerOrder[]> {
  const at = Date.parse(atIso);
  clock.set(at);
  await broker.submitOrder({
    clientOrderId: `sg_fee_buy_${symbol}`,
    symbol,
    side: 'buy',
    qty,
    type: 'market',
    timeInForce: 'gtc',
  });
  clock.set(at + 10 * 60_000);
  await broker.submitOrder({
    clientOrderId: `sg_fee_sell_${symbol}`,
    symbol,
    side: 'sell',
    qty,
    type: 'market',
    timeInForce: 'gtc',
  });
  clock.set(at + 20 * 60_000);
  const out: BrokerOrder[] = [];
  for (const id of [`sg_fee_buy_${symbol}`, `sg_fee_sell_${symbol}`]) {
    const o = await broker.getOrderByClientOrderId(id);
    if (o) out.push(o);
  }
  return out;
}

describe('the simulated broker and the reference exchange on real crypto minutes (2018-04-05)', () => {
  const exchange = {
    participationFraction: 1,
    latencyMs: 1_000,
    costs: EQUITY,
    fractionalShares: true,
    buyingPowerMultiplier: 1,
  };

  for (const symbol of ['BTCUSD', 'ETHUSD']) {
    it(`${symbol}: both charge 0.25 % of each fill's notional under an equity config, to the same cent`, async () => {
      const session = await marketData.loadSession('2018-04-05', [symbol]);
      const minutes = symbolMinutes(session, symbol);
      if (!minutes) throw new Error(`no ${symbol} minutes`);
      const refClock = new ManualClock(0);
      const reference = new ExchangeBroker(minutes, symbol, refClock, exchange, 10_000);
      const simClock = new ManualClock(0);
      const simulated = new SimulatedPaperBroker({
        store: new InMemorySimulatedBrokerStore(),
        marketData,
        clock: simClock,
        config: { ...exchange, startingCashUsd: 10_000 },
      });
      const qty = symbol === 'BTCUSD' ? 0.05 : 0.5;
      const ref = await roundTrip(reference, refClock, symbol, qty, '2018-04-05T12:00:00Z');
      const sim = await roundTrip(simulated, simClock, symbol, qty, '2018-04-05T12:00:00Z');
      expect(ref.map((o) => o.status)).toEqual(['filled', 'filled']);
      expect(sim.map((o) => o.status)).toEqual(['filled', 'filled']);
      for (const o of [...ref, ...sim]) {
        const notional = o.filledQty * (o.filledAvgPriceUsd ?? Number.NaN);
        expect(o.feesUsd).toBeCloseTo(CRYPTO_RATE * notional, 9);
        expect(o.feesUsd).toBeGreaterThan(100 * 0.005 * o.filledQty);
      }
      expect(sim.map((o) => o.feesUsd)).toEqual(ref.map((o) => o.feesUsd));
    });
  }
});
