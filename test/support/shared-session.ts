/**
 * Test set-up shared by the paper-session integration tests that trade a shared LEAN session:
 * the genomes of a seeded cohort simulated on that session (most trades first), the last
 * minute close of a symbol at a time (the fake Alpaca's fill price), the fake Alpaca with the
 * Alpaca paper adapter on one manual clock, and the tick dependencies' configuration the
 * paper tests use.
 */
import {
  AlpacaPaperBroker,
  type AlpacaPaperBrokerOptions,
} from '../../functions/adapters/brokers/alpaca-paper-broker.js';
import { TokenBucket } from '../../functions/adapters/brokers/rate-limiter.js';
import { FileSystemBlobSource } from '../../functions/adapters/market-data/blob-source.js';
import { LeanMarketData } from '../../functions/adapters/market-data/lean-market-data.js';
import { parseCohortConfig } from '../../functions/core/cohort/config.js';
import { seedGenomePool } from '../../functions/core/cohort/genome.js';
import { simulateCohort } from '../../functions/core/cohort/simulate.js';
import type { MarketSession } from '../../functions/core/market/types.js';
import { DEFAULT_ACCOUNT_LIMITS } from '../../functions/core/paper/account.js';
import type { PaperSessionState } from '../../functions/core/paper/paper-session.js';
import type { ManualClock } from '../../functions/ports/clock.js';
import { type FakeAlpaca, type FakeAlpacaOptions, startFakeAlpaca } from './fake-alpaca/server.js';
import { DATA_ROOT } from './paths.js';

/** Minute closes of one symbol: bar start times (epoch ms, UTC) and closes (USD, NaN = none). */
export type CloseSeries = { ts: Float64Array; close: Float64Array };

/** The minute closes of every symbol of `session`, by symbol. */
export function closesOf(session: MarketSession): Map<string, CloseSeries> {
  return new Map(session.series.map((s) => [s.symbol, { ts: session.timestamps, close: s.close }]));
}

/**
 * Last trade close (USD) of `symbol` in a minute that ended by `nowMs` (epoch ms): the price
 * the fake Alpaca fills at. $100 before the first close or for a symbol not in `closes`.
 */
export function closeAt(
  closes: ReadonlyMap<string, CloseSeries>,
  symbol: string,
  nowMs: number,
): number {
  const c = closes.get(symbol);
  let price = 100;
  for (let i = 0; c && i < c.ts.length && (c.ts[i] as number) + 60_000 <= nowMs; i++) {
    const v = c.close[i] as number;
    if (Number.isFinite(v)) price = v;
  }
  return price;
}

/**
 * The genomes of a cohort of 30 agents seeded with `seed` on `symbols` ($1,000 bankroll),
 * simulated on `session`, most trades first; with `tradedOnly`, only agents that traded.
 */
export function cohortGenomes(
  session: MarketSession,
  opts: { cohortId: string; symbols: readonly string[]; seed: number; tradedOnly?: boolean },
): PaperSessionState['genome'][] {
  const result = simulateCohort({
    cohortId: opts.cohortId,
    session,
    genomes: seedGenomePool(30, opts.symbols, opts.seed),
    config: parseCohortConfig({ bankrollUsd: 1_000, agentCount: 30, seed: opts.seed }),
  });
  return [...result.agents]
    .filter((a) => !opts.tradedOnly || a.tradeCount > 0)
    .sort((a, b) => b.tradeCount - a.tradeCount)
    .map((a) => a.genome);
}

/** A shared LEAN session loaded for a test: its data, open, closes and busiest genomes. */
export interface SharedSession {
  readonly marketData: LeanMarketData;
  /** The session's first minute, epoch ms (UTC). */
  readonly openMs: number;
  readonly closes: Map<string, CloseSeries>;
  /** {@link cohortGenomes} of a cohort seeded with 12 on the session, most trades first. */
  readonly genomes: PaperSessionState['genome'][];
}

/**
 * Loads `date` for `symbols` from the shared data (`DATA_ROOT`) with LEAN market data and
 * simulates the cohort `cohortId` (seed 12) on it. Errors: the market data's, when a file is
 * missing or malformed.
 */
export async function loadSharedSession(
  date: string,
  symbols: readonly string[],
  cohortId: string,
): Promise<SharedSession> {
  const marketData = new LeanMarketData(new FileSystemBlobSource(DATA_ROOT));
  const session = await marketData.loadSession(date, symbols);
  return {
    marketData,
    openMs: session.timestamps[0] as number,
    closes: closesOf(session),
    genomes: cohortGenomes(session, { cohortId, symbols, seed: 12 }),
  };
}

/** `deps.promotionConfig` of the paper tests' tick (10 % slice, fractional shares). */
export const TEST_PROMOTION_CONFIG = {
  capitalSliceFraction: 0.1,
  minCapitalSliceUsd: 0,
  pollIntervalSeconds: 60,
  maxPolls: 10,
  windowCheckSeconds: 60,
  reconcileQtyTolerance: 1e-6,
  wholeShares: false,
} as const;

/** `deps.paperSession` of the paper tests' tick (halts flatten, default account limits). */
export const TEST_PAPER_SESSION_CONFIG = {
  maxOrderNotionalMultiple: 10,
  dailyLossStopFraction: 0.5,
  maxBarAgeSeconds: 300,
  haltModes: { killSwitch: 'flatten', dailyLossStop: 'flatten' },
  account: DEFAULT_ACCOUNT_LIMITS,
  avgPriceToleranceBps: 5,
} as const;

/** What {@link startFakeAlpacaBroker} needs: the credentials, one clock and its sleep. */
export interface FakeAlpacaBrokerOptions {
  readonly keyId: string;
  readonly secretKey: string;
  readonly clock: ManualClock;
  /** The adapter's sleep (advances `clock`; nothing waits for real time). */
  readonly sleep: (ms: number) => Promise<void>;
  /** The adapter's per-request timeout, ms. */
  readonly timeoutMs: number;
  /** More options of the fake (price, status schedule, faults...). */
  readonly fake?: Partial<FakeAlpacaOptions>;
  /** More options of the adapter (retries, backoff...). */
  readonly broker?: Partial<AlpacaPaperBrokerOptions>;
}

/**
 * Starts the fake Alpaca on loopback on `clock` and the Alpaca paper adapter talking to it
 * (same clock and sleep, jitter fixed at 0.5, a token bucket on the clock). The caller closes
 * the fake.
 */
export async function startFakeAlpacaBroker(
  o: FakeAlpacaBrokerOptions,
): Promise<{ fake: FakeAlpaca; broker: AlpacaPaperBroker }> {
  const { clock, sleep } = o;
  const fake = await startFakeAlpaca({
    keyId: o.keyId,
    secretKey: o.secretKey,
    now: () => clock.now(),
    ...o.fake,
  });
  const broker = new AlpacaPaperBroker({
    keyId: o.keyId,
    secretKey: o.secretKey,
    baseUrl: fake.url,
    clock,
    sleep,
    random: () => 0.5,
    timeoutMs: o.timeoutMs,
    rateLimiter: new TokenBucket({ clock, sleep }),
    ...o.broker,
  });
  return { fake, broker };
}
