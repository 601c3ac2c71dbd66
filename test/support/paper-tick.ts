/**
 * The paper session's tick (`tickPaperSession`) as the paper integration tests drive it: one
 * manual clock, the broker (the Alpaca paper adapter at the fake Alpaca on loopback, or any
 * {@link BrokerPort}), an in-memory audit trail and session-book registry, and the paper tests'
 * configuration. The tick's dependencies hold only what a tick reads; reading anything else
 * throws (a test that starts using more of the pipeline's dependencies fails loudly).
 */
import { onTestFinished } from 'vitest';
import type { AlpacaPaperBroker } from '../../functions/adapters/brokers/alpaca-paper-broker.js';
import { SimulatedPaperBroker } from '../../functions/adapters/brokers/simulated-broker.js';
import type { LeanMarketData } from '../../functions/adapters/market-data/lean-market-data.js';
import type { AuditRecord } from '../../functions/core/audit/record.js';
import { parseCohortConfig } from '../../functions/core/cohort/config.js';
import { type PaperSessionState, sessionBook } from '../../functions/core/paper/paper-session.js';
import {
  finishPaperSession,
  type PaperSessionDeps,
  tickPaperSession,
} from '../../functions/core/use-cases/paper-session.js';
import type { BrokerPort } from '../../functions/ports/broker.js';
import { ManualClock } from '../../functions/ports/clock.js';
import type { KillSwitchPort } from '../../functions/ports/kill-switch.js';
import { MemoryAuditSink } from './doubles/memory-audit-sink.js';
import { MemoryPaperTrackRecord } from './doubles/memory-paper-track-record.js';
import { MemorySessionBooks } from './doubles/memory-session-books.js';
import { InMemorySimulatedBrokerStore } from './doubles/memory-simulated-broker-store.js';
import type { FakeAlpaca, FakeAlpacaOptions } from './fake-alpaca/server.js';
import { type PaperSessionFixture, paperSessionFixture } from './paper-session-fixture.js';
import {
  type CloseSeries,
  closeAt,
  startFakeAlpacaBroker,
  TEST_PAPER_SESSION_CONFIG,
  TEST_PROMOTION_CONFIG,
} from './shared-session.js';
import { stagedPromotionOf } from './staged-promotion.js';

/** A kill switch nobody engaged (reads `null`). */
export const KILL_SWITCH_OFF: KillSwitchPort = { read: async () => null, set: async () => {} };

/** Fills of an order at the fake: 10 % a read for six reads, then the rest (orders stay open a while). */
export const SLOW_FILLS: Partial<FakeAlpacaOptions> = {
  statusSchedule: ['new', ...Array<string>(6).fill('partially_filled'), 'filled'],
  partialFillFraction: 0.1,
};

/** One second after the minute that follows `nowMs`, epoch ms: the workflow's next tick. */
export const nextTickMs = (nowMs: number): number =>
  (Math.floor(nowMs / 60_000) + 1) * 60_000 + 1_000;

/** What a tick runner is built on: its clock, broker and market data, and any deps to add. */
export interface PaperTickParts {
  readonly clock: ManualClock;
  readonly broker: BrokerPort;
  readonly marketData: LeanMarketData;
  /** The account key's name (`<broker>:<account>` in the registry). @default 'test' */
  readonly brokerAccount?: string;
  /** More of the tick's dependencies, or others in place of the defaults (e.g. `killSwitch`). */
  readonly deps?: Readonly<Record<string, unknown>>;
}

/** A paper session ticked on one manual clock. */
export interface PaperTickRunner {
  readonly clock: ManualClock;
  readonly audit: MemoryAuditSink;
  readonly sessionBooks: MemorySessionBooks;
  readonly deps: PaperSessionDeps;
  /** One tick of `state` at the clock's time (the clock does not move); the next state. */
  step(state: PaperSessionState): Promise<PaperSessionState>;
  /** {@link step}, then the clock to the next tick ({@link nextTickMs}). */
  tick(state: PaperSessionState): Promise<PaperSessionState>;
  /** Ticks until `until` holds or the session is done; the last state. */
  runUntil(
    state: PaperSessionState,
    until?: (s: PaperSessionState) => boolean,
  ): Promise<PaperSessionState>;
}

/**
 * The tick's dependencies over `parts`: the clock, market data, broker (`brokerAt`), an
 * unengaged kill switch, the audit sink and registry given, environment `local` and the paper
 * tests' configuration, with `parts.deps` over them. Reading any other dependency throws.
 */
function strictTickDeps(
  parts: PaperTickParts,
  audit: MemoryAuditSink,
  sessionBooks: MemorySessionBooks,
): PaperSessionDeps {
  const provided: Record<string, unknown> = {
    clock: parts.clock,
    marketData: parts.marketData,
    killSwitch: KILL_SWITCH_OFF,
    audit,
    environment: 'local',
    brokerAt: () => parts.broker,
    brokerAccount: parts.brokerAccount ?? 'test',
    sessionBooks,
    promotionConfig: TEST_PROMOTION_CONFIG,
    paperSession: TEST_PAPER_SESSION_CONFIG,
    ...parts.deps,
  };
  return new Proxy(provided, {
    get(target, key) {
      if (typeof key === 'symbol' || key === 'then') return undefined;
      if (key in target) return target[key];
      throw new Error(`the tick read deps.${key}, which this test does not provide`);
    },
  }) as unknown as PaperSessionDeps;
}

/** A {@link PaperTickRunner} over `parts` (see {@link strictTickDeps} for its dependencies). */
export function paperTickRunner(parts: PaperTickParts): PaperTickRunner {
  const { clock } = parts;
  const audit = new MemoryAuditSink(clock);
  const sessionBooks = new MemorySessionBooks();
  const deps = strictTickDeps(parts, audit, sessionBooks);
  const step = async (state: PaperSessionState) => (await tickPaperSession(deps, { state })).state;
  const tick = async (state: PaperSessionState) => {
    const next = await step(state);
    clock.set(nextTickMs(clock.now()));
    return next;
  };
  const runUntil = async (state: PaperSessionState, until = (_: PaperSessionState) => false) => {
    let s = state;
    while (!s.done && !until(s)) s = await tick(s);
    return s;
  };
  return { clock, audit, sessionBooks, deps, step, tick, runUntil };
}

/**
 * The simulated paper broker of the paper tests on `clock`: every order fills whole
 * (participation 1) a second after it is sent, fractional shares, the $1,000-bankroll costs,
 * buying power `buyingPowerMultiplier` × equity, `startingCashUsd` of cash (USD).
 */
export function testSimulatedBroker(o: {
  readonly clock: ManualClock;
  readonly marketData: LeanMarketData;
  readonly startingCashUsd: number;
  readonly buyingPowerMultiplier: number;
}): SimulatedPaperBroker {
  return new SimulatedPaperBroker({
    store: new InMemorySimulatedBrokerStore(),
    marketData: o.marketData,
    clock: o.clock,
    config: {
      participationFraction: 1,
      latencyMs: 1_000,
      costs: parseCohortConfig({ bankrollUsd: 1_000 }),
      fractionalShares: true,
      buyingPowerMultiplier: o.buyingPowerMultiplier,
      startingCashUsd: o.startingCashUsd,
    },
  });
}

/**
 * A session of `fixture` ({@link paperSessionFixture}) ticked by a {@link PaperTickRunner} at a
 * new {@link testSimulatedBroker} ($100,000 of cash, buying power 1 × equity) on a manual clock
 * at its start, and finished by the workflow's Finish (`finish`: `finishPaperSession` of its
 * staged promotion, `promoted`, of `cohortId`/`agentId`/`agentRank`): the `killSwitch` given,
 * an in-memory track record, the reference simulation's exchange configured as that broker.
 */
export function finishingSimulatedSession(o: {
  readonly fixture: PaperSessionFixture;
  readonly marketData: LeanMarketData;
  readonly killSwitch: KillSwitchPort;
  readonly cohortId: string;
  readonly agentId: string;
  readonly agentRank: number;
}) {
  const start = paperSessionFixture(o.fixture);
  const clock = new ManualClock(start.startedAtMs);
  const { marketData } = o;
  const broker = testSimulatedBroker({
    clock,
    marketData,
    startingCashUsd: 100_000,
    buyingPowerMultiplier: 1,
  });
  const trackRecord = new MemoryPaperTrackRecord();
  const runner = paperTickRunner({
    clock,
    broker,
    marketData,
    deps: {
      killSwitch: o.killSwitch,
      trackRecord,
      referenceExchange: {
        participationFraction: 1,
        latencyMs: 1_000,
        costs: parseCohortConfig({ bankrollUsd: 1_000 }),
        fractionalShares: true,
        buyingPowerMultiplier: 1,
      },
    },
  });
  const promotion = stagedPromotionOf({
    promotionId: start.promotionId,
    cohortId: o.cohortId,
    sessionDate: start.date,
    agentId: o.agentId,
    agentRank: o.agentRank,
    genome: start.genome,
    stagedAtIso: new Date(start.startedAtMs).toISOString(),
    status: 'promoted',
  });
  const finish = (state: PaperSessionState) =>
    finishPaperSession(runner.deps, { state, promotion });
  return { ...runner, start, broker, trackRecord, promotion, finish };
}

/** A fake Alpaca session: where it starts, what it trades on, and how the fake behaves. */
export interface FakeAlpacaSessionOptions {
  readonly keyId: string;
  readonly secretKey: string;
  /** The clock's start, epoch ms (UTC). */
  readonly startMs: number;
  readonly marketData: LeanMarketData;
  /** The minute closes the fake fills at ({@link closeAt}). */
  readonly closes: ReadonlyMap<string, CloseSeries>;
  /** The fake's price of `symbol` at `nowMs` (USD). @default the last close by then */
  readonly priceOf?: (symbol: string, nowMs: number) => number;
  /** More options of the fake (status schedule, cash, day trades...). */
  readonly fake?: Partial<FakeAlpacaOptions>;
  /** See {@link PaperTickParts.deps}. */
  readonly deps?: Readonly<Record<string, unknown>>;
}

/**
 * Starts the fake Alpaca and the Alpaca paper adapter on one manual clock (the adapter's
 * sleeps advance it; nothing waits for real time) and a {@link PaperTickRunner} over them.
 * The fake closes when the test finishes.
 */
export async function fakeAlpacaSession(
  o: FakeAlpacaSessionOptions,
): Promise<PaperTickRunner & { readonly fake: FakeAlpaca; readonly broker: AlpacaPaperBroker }> {
  const clock = new ManualClock(o.startMs);
  const priceOf =
    o.priceOf ?? ((symbol: string, nowMs: number) => closeAt(o.closes, symbol, nowMs));
  const { fake, broker } = await startFakeAlpacaBroker({
    keyId: o.keyId,
    secretKey: o.secretKey,
    clock,
    sleep: async (ms) => {
      clock.advance(ms);
    },
    timeoutMs: 30_000,
    fake: { priceOf: (symbol) => priceOf(symbol, clock.now()), ...o.fake },
  });
  onTestFinished(() => fake.close());
  const runner = paperTickRunner({
    clock,
    broker,
    marketData: o.marketData,
    ...(o.deps ? { deps: o.deps } : {}),
  });
  return { ...runner, fake, broker };
}

/** A parsed payload: read by the assertions, whose matchers check the shapes. */
// biome-ignore lint/suspicious/noExplicitAny: assertions read arbitrary payload fields
export type Payload = Record<string, any>;

/** The payloads (parsed) of the records of `kind`, in order. */
export const payloadsOf = (records: readonly AuditRecord[], kind: AuditRecord['kind']): Payload[] =>
  records.filter((r) => r.kind === kind).map((r) => JSON.parse(r.payload) as Payload);

/** What the session's book holds of its symbol (shares; negative = short). */
export const positionOf = (s: PaperSessionState): number =>
  sessionBook(s).positions[s.symbol]?.qty ?? 0;
