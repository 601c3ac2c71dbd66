/**
 * Broker adapter benchmark (measures, never asserts):
 * - simulated broker, in-memory store, real SPY session 2013-10-07: a submit, and a full
 *   session of per-minute polls with 1 / 10 / 50 open orders filling partially every minute
 *   (participation 0.001 of SPY's volume, orders too large to complete), i.e. the cost of the
 *   lazy fill computation and the store round trip per read as the fill history grows;
 * - Alpaca adapter against the local fake server on loopback: per-call overhead of the
 *   adapter (rate limiter, JSON mapping) plus loopback HTTP, no network.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AlpacaPaperBroker } from '../functions/adapters/brokers/alpaca-paper-broker.js';
import { TokenBucket } from '../functions/adapters/brokers/rate-limiter.js';
import { SimulatedPaperBroker } from '../functions/adapters/brokers/simulated-broker.js';
import { FileSystemBlobSource } from '../functions/adapters/market-data/blob-source.js';
import { LeanMarketData } from '../functions/adapters/market-data/lean-market-data.js';
import { ManualClock } from '../functions/ports/clock.js';
import { InMemorySimulatedBrokerStore } from '../test/support/doubles/memory-simulated-broker-store.js';
import { startFakeAlpaca } from '../test/support/fake-alpaca/server.js';
import type { BenchReport } from './run.js';

const LEAN_ROOT = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../shared/data/lean',
);
const OPEN_2013_10_07 = Date.UTC(2013, 9, 7, 13, 30);
const MINUTE_MS = 60_000;

const round = (x: number): number => Math.round(x * 1000) / 1000;

async function sessionOfPolls(marketData: LeanMarketData, orders: number) {
  const clock = new ManualClock(OPEN_2013_10_07);
  const broker = new SimulatedPaperBroker({
    store: new InMemorySimulatedBrokerStore(),
    marketData,
    clock,
    config: {
      startingCashUsd: 1e12,
      participationFraction: 0.001,
      latencyMs: 0,
      costs: { slippageBps: 1, feePerShareUsd: 0.005, minFeeUsd: 0, maxFeeFraction: 0.01 },
      fractionalShares: true,
    },
  });
  const submitStart = performance.now();
  for (let i = 0; i < orders; i++) {
    await broker.submitOrder({
      clientOrderId: `bench_${i}`,
      symbol: 'SPY',
      side: 'buy',
      qty: 10_000_000,
      type: 'market',
      timeInForce: 'day',
    });
  }
  const submitMs = (performance.now() - submitStart) / orders;
  const pollStart = performance.now();
  let polls = 0;
  for (let m = 1; m <= 390; m++) {
    clock.set(OPEN_2013_10_07 + m * MINUTE_MS);
    await broker.listOpenOrders();
    polls++;
  }
  const pollMs = (performance.now() - pollStart) / polls;
  return { submitMs, pollMs, polls };
}

export default async function brokerBench(): Promise<BenchReport> {
  const marketData = new LeanMarketData(new FileSystemBlobSource(LEAN_ROOT));
  await marketData.loadSession('2013-10-07', ['SPY']);
  await sessionOfPolls(marketData, 1); // warm-up
  const rows: Record<string, string | number>[] = [];
  for (const orders of [1, 10, 50]) {
    const r = await sessionOfPolls(marketData, orders);
    rows.push({
      case: 'simulated: per-minute polls, whole session',
      openOrders: orders,
      submitMeanMs: round(r.submitMs),
      pollMeanMs: round(r.pollMs),
      polls: r.polls,
    });
  }

  // The fake's own 200/min limit is lifted: this measures overhead, not throttling.
  const fake = await startFakeAlpaca({
    keyId: 'PKBENCH',
    secretKey: 'bench-secret',
    rateLimit: { limit: 1_000_000, windowMs: 60_000 },
  });
  try {
    const alpaca = new AlpacaPaperBroker({
      keyId: 'PKBENCH',
      secretKey: 'bench-secret',
      baseUrl: fake.url,
      rateLimiter: new TokenBucket({ capacity: 1_000_000 }),
    });
    const n = 300;
    const start = performance.now();
    for (let i = 0; i < n; i++) {
      await alpaca.submitOrder({
        clientOrderId: `bench_a_${i}`,
        symbol: 'SPY',
        side: 'buy',
        qty: 0.01,
        type: 'market',
        timeInForce: 'day',
      });
    }
    const submitMs = (performance.now() - start) / n;
    const getStart = performance.now();
    for (let i = 0; i < n; i++) await alpaca.getOrderByClientOrderId(`bench_a_${i}`);
    const getMs = (performance.now() - getStart) / n;
    rows.push({
      case: 'alpaca adapter vs loopback fake',
      openOrders: 0,
      submitMeanMs: round(submitMs),
      pollMeanMs: round(getMs),
      polls: n,
    });
  } finally {
    await fake.close();
  }
  return {
    name: 'broker',
    description:
      'simulated broker submit/poll cost (lazy fills, in-memory store) and Alpaca adapter overhead on loopback; no target',
    rows,
  };
}
