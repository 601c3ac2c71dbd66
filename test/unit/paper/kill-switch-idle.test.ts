/**
 * When a paper session reads the kill switch (issue 18: a flat, idle tick does not), and why
 * that loses no halt: the switch keeps its last engage time (`lastEngagedAtIso`) across a
 * release, the next tick that reads it and the settle step take an engage since the session's
 * start as engaged (`killSwitchReading`). A real shared session through the simulated paper
 * broker; the switch engaged and released through the use case every door calls
 * (`setKillSwitch`), over a store that counts its reads.
 */
import { beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest';
import { SimulatedPaperBroker } from '../../../functions/adapters/brokers/simulated-broker.js';
import { logger, metrics } from '../../../functions/adapters/observability.js';
import { parseCohortConfig } from '../../../functions/core/cohort/config.js';
import { TransientError } from '../../../functions/core/errors.js';
import { isTerminalOrderStatus } from '../../../functions/core/orders/order.js';
import {
  killSwitchFlattenOrderId,
  type PaperSessionState,
  type PaperTickDeps,
  type PaperTickResult,
  paperTick,
  sessionBook,
} from '../../../functions/core/paper/paper-session.js';
import {
  type KillSwitchDeps,
  setKillSwitch,
} from '../../../functions/core/use-cases/kill-switch.js';
import { createHandler as createFinishHandler } from '../../../functions/handlers/finish-paper-session.js';
import { ManualClock } from '../../../functions/ports/clock.js';
import { accountKeyOf } from '../../../functions/ports/session-books.js';
import { localLambdaContext } from '../../../local/asl-runner.js';
import { MemoryAuditSink } from '../../support/doubles/memory-audit-sink.js';
import { MemoryKillSwitch } from '../../support/doubles/memory-kill-switch.js';
import { MemorySessionBooks } from '../../support/doubles/memory-session-books.js';
import { InMemorySimulatedBrokerStore } from '../../support/doubles/memory-simulated-broker-store.js';
import { paperSessionFixture } from '../../support/paper-session-fixture.js';
import { finishingSimulatedSession, payloadsOf } from '../../support/paper-tick.js';
import { loadSharedSession, type SharedSession } from '../../support/shared-session.js';

const DATE = '2013-10-08';
const SYMBOLS = ['SPY', 'BAC', 'AIG', 'IBM'];
const costs = parseCohortConfig({ bankrollUsd: 1_000 });

let shared: SharedSession;

beforeAll(async () => {
  shared = await loadSharedSession(DATE, SYMBOLS, 'c-kill-idle');
});

const mostActive = () => shared.genomes[0] as PaperSessionState['genome'];
const isOpen = (o: PaperSessionState['orders'][number]) => !isTerminalOrderStatus(o.status);
const positionOf = (s: PaperSessionState) => sessionBook(s).positions[s.symbol]?.qty ?? 0;

/** One tick's input, output and the switch reads it made. */
interface TickSeen {
  readonly input: PaperSessionState;
  readonly out: PaperTickResult;
  readonly reads: number;
}

/**
 * A session of `genome` ticked by `paperTick` at the simulated broker (orders fill whole
 * `latencyMs` after they are sent), the switch engaged and released with `setKillSwitch`.
 */
function harness(genome: PaperSessionState['genome'], latencyMs: number) {
  let state = paperSessionFixture({
    promotionId: 'PKIDLE01',
    genome,
    date: DATE,
    openMs: shared.openMs,
    costs,
  });
  const clock = new ManualClock(state.startedAtMs);
  const broker = new SimulatedPaperBroker({
    store: new InMemorySimulatedBrokerStore(),
    marketData: shared.marketData,
    clock,
    config: {
      participationFraction: 1,
      latencyMs,
      costs,
      fractionalShares: true,
      buyingPowerMultiplier: 1,
      startingCashUsd: 100_000,
    },
  });
  const killSwitch = new MemoryKillSwitch();
  const audit = new MemoryAuditSink(clock);
  const deps: PaperTickDeps = { broker, marketData: shared.marketData, clock, killSwitch };
  const seen: TickSeen[] = [];
  const tick = async () => {
    const before = killSwitch.reads;
    const out = await paperTick(deps, state);
    seen.push({ input: state, out, reads: killSwitch.reads - before });
    state = out.state;
    clock.set(clock.now() + out.waitSeconds * 1_000);
    return out;
  };
  const change = (engaged: boolean, reason: string, flatten?: KillSwitchDeps['flatten']) =>
    setKillSwitch(
      { killSwitch, audit, clock, environment: 'local', broker, ...(flatten ? { flatten } : {}) },
      { engaged, reason, by: 'cli:operator' },
    );
  const set = (next: PaperSessionState) => {
    state = next;
  };
  return { clock, broker, killSwitch, seen, tick, change, state: () => state, set };
}

describe('which ticks read the kill switch', () => {
  it('a flat idle tick reads it 0 times; a tick with an order open or a position held reads it once; a sending tick once before the book and once per submit', async () => {
    // Prepare: orders stay open across ticks (3 minutes of latency)
    const h = harness(mostActive(), 180_000);

    // Act
    while (!h.state().done) await h.tick();

    // Assess
    const decided = h.seen.filter((t) => t.out.decision.barIso !== null);
    const sending = decided.filter((t) => t.out.decision.orders.length > 0);
    const quiet = decided.filter(
      (t) => t.out.decision.action === 'none' && t.out.decision.orders.length === 0,
    );
    const flatIdle = quiet.filter(
      (t) => positionOf(t.out.state) === 0 && !t.out.state.orders.some(isOpen),
    );
    const withOpenOrder = quiet.filter((t) =>
      t.input.orders.some(
        (o) =>
          isOpen(o) &&
          t.out.state.orders.some((n) => n.clientOrderId === o.clientOrderId && isOpen(n)),
      ),
    );
    const holding = quiet.filter(
      (t) => positionOf(t.out.state) !== 0 && !t.out.state.orders.some(isOpen),
    );
    expect(flatIdle.length).toBeGreaterThan(10);
    expect(flatIdle.map((t) => t.reads)).toEqual(flatIdle.map(() => 0));
    expect(withOpenOrder.length).toBeGreaterThan(0);
    expect(withOpenOrder.map((t) => t.reads)).toEqual(withOpenOrder.map(() => 1));
    expect(holding.length).toBeGreaterThan(0);
    expect(holding.map((t) => t.reads)).toEqual(holding.map(() => 1));
    expect(sending.length).toBeGreaterThan(1);
    for (const t of sending.filter((x) => x.out.decision.refused.length === 0)) {
      expect(t.reads).toBe(1 + t.out.decision.orders.length);
    }
  }, 120_000);

  it('engaged and released while the session is flat and idle: the next signal to enter sends nothing and the tick halts, naming the engage', async () => {
    // Prepare: the minute of the session's first order, on a clean run
    const clean = harness(mostActive(), 1_000);
    while (!clean.state().done && clean.state().orders.length === 0) await clean.tick();
    const firstSend = clean.seen.at(-1);
    expect(firstSend?.out.decision.orders.length).toBeGreaterThan(0);
    const firstSendAtMs = Date.parse(firstSend?.out.decision.atIso ?? '');
    const h = harness(mostActive(), 1_000);
    while (h.clock.now() < firstSendAtMs) await h.tick();
    expect(h.clock.now()).toBe(firstSendAtMs);
    expect(h.state().orders).toEqual([]);
    const readsWhileIdle = h.killSwitch.reads;

    // Act: engage and release between two ticks, then the tick whose signal enters
    const engagedAtIso = new Date(h.clock.now()).toISOString();
    await h.change(true, 'operator: stop');
    h.clock.advance(1_000);
    const releasedAtIso = new Date(h.clock.now()).toISOString();
    await h.change(false, 'operator: resume');
    const next = await h.tick();
    while (!h.state().done) await h.tick();

    // Assess
    expect(readsWhileIdle).toBe(0);
    expect(h.killSwitch.state).toMatchObject({ engaged: false, lastEngagedAtIso: engagedAtIso });
    expect(next.decision.orders).toEqual([]);
    expect(next.decision.action).toBe('halted');
    const reason = `kill switch engaged at ${engagedAtIso} (released at ${releasedAtIso})`;
    expect(next.state.halt).toEqual({ mode: 'flatten', reason });
    expect(next.decision.reason).toContain(reason);
    expect(h.state().orders).toEqual([]);
    expect(await h.broker.listOpenOrders()).toEqual([]);
    expect(await h.broker.listPositions()).toEqual([]);
  }, 120_000);

  it('an engage before the session started and released before it does not halt it', async () => {
    // Prepare
    const h = harness(mostActive(), 1_000);
    h.clock.advance(-60_000);
    await h.change(true, 'yesterday');
    await h.change(false, 'all clear');
    h.clock.advance(60_000);

    // Act
    while (!h.state().done && h.state().orders.length === 0) await h.tick();

    // Assess
    expect(h.state().halt).toBeNull();
    expect(h.seen.at(-1)?.out.decision.action).toBe('orders');
  }, 120_000);

  it("engaged just before the session's start (after its gates) and released while it is flat and idle: its first signal to enter sends nothing and the tick halts, naming the engage", async () => {
    // Prepare: on 5 s before the start; five flat, idle ticks; then released
    const h = harness(mostActive(), 1_000);
    h.clock.advance(-5_000);
    const engagedAtIso = new Date(h.clock.now()).toISOString();
    await h.change(true, 'operator: stop');
    h.clock.advance(5_000);
    for (let i = 0; i < 5; i++) await h.tick();
    const readsWhileOn = h.killSwitch.reads;
    await h.change(false, 'operator: resume');

    // Act: on to the first tick that would trade or halts
    while (!h.state().done && h.state().orders.length === 0 && h.state().halt === null)
      await h.tick();

    // Assess
    expect(readsWhileOn).toBe(0);
    expect(h.state().orders).toEqual([]);
    expect(h.state().halt?.reason).toContain(
      `kill switch engaged at ${engagedAtIso} (released at `,
    );
    expect(h.seen.at(-1)?.out.decision.action).toBe('halted');
    expect(await h.broker.listPositions()).toEqual([]);
  }, 120_000);

  it("an engage after the tick's time (a replay of a past session after a kill on / kill off today) does not halt it", async () => {
    // Prepare: engaged and released a day later, then the clock back at the session
    const h = harness(mostActive(), 1_000);
    const startMs = h.clock.now();
    h.clock.set(startMs + 86_400_000);
    await h.change(true, 'today');
    await h.change(false, 'all clear');
    h.clock.set(startMs);

    // Act
    while (!h.state().done && h.state().orders.length === 0) await h.tick();

    // Assess
    expect(h.state().halt).toBeNull();
    expect(h.seen.at(-1)?.out.decision.action).toBe('orders');
  }, 120_000);

  it('engaged DURING the tick that closes the position (the registry still holds it): the next tick reads the switch, adopts the kill flatten and buys it back', async () => {
    // Prepare
    const { h, engaged } = await engagedWhileClosingShort();

    // Act: the switch is released before the next tick, a minute later: the kill flatten has
    // filled
    await h.change(false, 'operator: resume');
    h.clock.advance(60_000);
    const before = h.killSwitch.reads;
    const next = await h.tick();
    const readsOfNext = h.killSwitch.reads - before;
    while (!h.state().done) await h.tick();

    // Assess
    const killId = killSwitchFlattenOrderId('PKIDLE01');
    expect(engaged.flattened.map((f) => f.clientOrderId)).toEqual([killId]);
    expect(readsOfNext).toBe(2); // before the book, and before the flatten's submit
    expect(next.state.orders.some((o) => o.clientOrderId === killId)).toBe(true);
    expect(next.state.halt?.mode).toBe('flatten');
    expect(next.decision.orders).toHaveLength(1);
    expect(positionOf(h.state())).toBeCloseTo(0, 9);
    expect(await h.broker.listPositions()).toEqual([]);
  }, 120_000);

  it('engaged DURING the tick that closes the position, the next bar stale (skipped, no decision), the switch still on: the next deciding tick reads it, adopts the kill flatten and sells it back', async () => {
    // Prepare: a minute later (the kill flatten has filled), one tick on a stale bar
    const { h } = await engagedWhileClosingShort();
    h.clock.advance(60_000);
    const limits = h.state().limits;
    h.set({ ...h.state(), limits: { ...limits, maxBarAgeSeconds: 0.001 } });
    const stale = await h.tick();
    h.set({ ...h.state(), limits });
    const killId = killSwitchFlattenOrderId('PKIDLE01');

    // Act
    const before = h.killSwitch.reads;
    const next = await h.tick();
    const readsOfNext = h.killSwitch.reads - before;
    await h.tick();

    // Assess
    expect(stale.decision.action).toBe('skipped');
    expect(readsOfNext).toBe(2); // before the book, and before the flatten's submit
    expect(next.state.orders.find((o) => o.clientOrderId === killId)).toMatchObject({
      side: 'buy',
      status: 'filled',
    });
    expect(next.decision.orders).toHaveLength(1);
    expect(positionOf(h.state())).toBeCloseTo(0, 9);
    expect(await h.broker.listPositions()).toEqual([]);
  }, 120_000);

  it('the kill flatten still working at the next tick, the session flat: the tick cancels it and the session ends flat', async () => {
    // Prepare
    const { h } = await engagedWhileClosingShort();
    const killId = killSwitchFlattenOrderId('PKIDLE01');

    // Act: the next tick at once (the kill flatten fills a second after the engage)
    const next = await h.tick();
    while (!h.state().done) await h.tick();

    // Assess
    expect(next.state.orders.find((o) => o.clientOrderId === killId)?.status).toBe('canceled');
    expect(next.decision.canceled).toEqual([killId]);
    expect(next.decision.orders).toEqual([]);
    expect(next.decision.reason).toContain(
      'kill switch flatten would overshoot a flat book: canceled',
    );
    expect(next.state.flattenDecided).toBe(true);
    expect(positionOf(h.state())).toBeCloseTo(0, 9);
    expect(await h.broker.listPositions()).toEqual([]);
  }, 120_000);

  it("engaged DURING a flatten halt's flatten of a short (the flatten already decided), the kill flatten still working: the next tick cancels it and the session ends flat", async () => {
    // Prepare
    const { h, closing } = await engagedWhileClosingShort('flatten halt');
    const killId = killSwitchFlattenOrderId('PKIDLE01');

    // Act
    const next = await h.tick();
    while (!h.state().done) await h.tick();

    // Assess
    expect(closing.state.flattenDecided).toBe(true);
    expect(next.decision.canceled).toEqual([killId]);
    expect(next.decision.reason).toContain(
      'daily loss stop (test): flatten; kill switch flatten would overshoot a flat book: canceled',
    );
    expect(positionOf(h.state())).toBeCloseTo(0, 9);
    expect(await h.broker.listPositions()).toEqual([]);
  }, 120_000);

  it("the registry holding twice the session's short (an order halved it during the engage's tick), the kill flatten filling just before the tick's cancel: the tick's flatten is sized on the book after the cancel, and sells", async () => {
    // Prepare: a session holding a short, nothing open; the registry holds twice that short
    let h = harness(mostActive(), 1_000);
    for (const genome of shared.genomes.slice(0, 10)) {
      h = harness(genome, 1_000);
      while (!h.state().done && !(positionOf(h.state()) < 0 && !h.state().orders.some(isOpen)))
        await h.tick();
      if (!h.state().done) break;
    }
    const short = positionOf(h.state());
    expect(short).toBeLessThan(0);
    const books = new MemorySessionBooks();
    const account = accountKeyOf(h.broker.name, 'test');
    await books.save(account, registryEntry(h.state(), 2 * short, h.clock.now()));
    await h.change(true, 'operator: stop', { sessionBooks: books, account });
    const killId = killSwitchFlattenOrderId('PKIDLE01');
    const cancel = h.broker.cancelOrder.bind(h.broker);
    h.broker.cancelOrder = async (id: string) => {
      if (id === killId) h.clock.advance(60_000); // it fills first (on the next minute bar)
      return cancel(id);
    };

    // Act
    const next = await h.tick();
    while (!h.state().done) await h.tick();

    // Assess
    expect(next.state.orders.find((o) => o.clientOrderId === killId)).toMatchObject({
      side: 'buy',
      status: 'filled',
    });
    const [sentId] = next.decision.orders;
    const flatten = next.state.orders.find((o) => o.clientOrderId === sentId);
    expect(flatten).toMatchObject({ side: 'sell', reason: 'flatten' });
    expect(flatten?.qty).toBeCloseTo(-short, 9);
    expect(next.decision.canceled).not.toContain(killId); // it filled: not canceled
    expect(next.decision.reason).toContain('flatten sized again on the book after the cancels');
    expect(positionOf(h.state())).toBeCloseTo(0, 9);
    expect(await h.broker.listPositions()).toEqual([]);
  }, 120_000);

  it('the cancel of the overshooting kill flatten refused, then it fills: the next tick sells the position back', async () => {
    // Prepare: the broker refuses the session's cancel of the kill flatten
    const { h } = await engagedWhileClosingShort();
    const killId = killSwitchFlattenOrderId('PKIDLE01');
    const cancel = h.broker.cancelOrder.bind(h.broker);
    h.broker.cancelOrder = async (id: string) => {
      if (id === killId) throw new Error('cancel refused (test)');
      return cancel(id);
    };

    // Act: the next tick at once, then the one after (the kill flatten has filled)
    const refused = await h.tick();
    const next = await h.tick();
    while (!h.state().done) await h.tick();

    // Assess
    expect(refused.decision.orders).toEqual([]);
    expect(refused.decision.reason).toContain(
      `kill switch flatten would overshoot a flat book: cancel failed, retried next tick: ${killId}: cancel refused (test)`,
    );
    expect(refused.state.flattenDecided).toBe(false);
    const kill = next.state.orders.find((o) => o.clientOrderId === killId);
    expect(kill).toMatchObject({ side: 'buy', status: 'filled' });
    expect(next.decision.orders).toHaveLength(1);
    const sellBack = next.state.orders.find((o) => o.clientOrderId === next.decision.orders[0]);
    expect(sellBack).toMatchObject({ side: 'sell', reason: 'flatten' });
    expect(sellBack?.qty).toBeCloseTo(kill?.filledQty ?? Number.NaN, 9);
    expect(positionOf(h.state())).toBeCloseTo(0, 9);
    expect(await h.broker.listPositions()).toEqual([]);
  }, 120_000);
});

/**
 * A session run to the tick whose orders bring a short position to flat (a second flatten of a
 * fractional long would be a fractional short, which the broker refuses), on the busiest genome
 * that shorts; its order fills, then the switch is engaged with the session-book registry still
 * holding the short: the engage sizes the kill flatten (a buy, filled a second later) from it.
 * `by`: the order that closes the short is the strategy's (`signal`), or the flatten of a
 * `flatten` halt set on the session while it holds the short (its flatten then decided).
 */
async function engagedWhileClosingShort(by: 'signal' | 'flatten halt' = 'signal') {
  let h = harness(mostActive(), 1_000);
  let closing: PaperTickResult | undefined;
  for (const genome of shared.genomes.slice(0, 10)) {
    h = harness(genome, 1_000);
    while (!h.state().done && !closing) {
      const flat = positionOf(h.state()) >= 0 || h.state().orders.some(isOpen);
      if (by === 'flatten halt' && !flat) {
        h.set({ ...h.state(), halt: { mode: 'flatten', reason: 'daily loss stop (test)' } });
      }
      const out = await h.tick();
      const sent = out.state.orders.filter((o) => out.decision.orders.includes(o.clientOrderId));
      const signed = sent.reduce((q, o) => q + (o.side === 'buy' ? o.qty : -o.qty), 0);
      const held = positionOf(out.state);
      if (sent.length > 0 && held < 0 && Math.abs(held + signed) < 1e-9) closing = out;
    }
    if (closing) break;
  }
  if (!closing) throw new Error('no genome of the session closed a short position');
  const books = new MemorySessionBooks();
  const account = accountKeyOf(h.broker.name, 'test');
  const entry = registryEntry(closing.state, positionOf(closing.state), h.clock.now());
  await books.save(account, { ...entry, ticks: closing.state.ticks - 1 });
  const engaged = await h.change(true, 'operator: stop', { sessionBooks: books, account });
  return { h, engaged, closing };
}

/** The session-book registry's entry of `state` holding `qty` shares (what the engage sizes from). */
function registryEntry(state: PaperSessionState, qty: number, nowMs: number) {
  return {
    promotionId: 'PKIDLE01',
    date: DATE,
    symbol: state.symbol,
    market: 'equity-usa' as const,
    qty,
    avgPriceUsd: 0,
    openOrders: 0,
    openOrderNotionalUsd: 0,
    open: [],
    ticks: state.ticks,
    done: false,
    updatedAtIso: new Date(nowMs).toISOString(),
  };
}

describe('the settle step reads the switch once', () => {
  /** A session of the cohort's quietest genome, ticked and finished by the workflow's steps. */
  function quietSession(killSwitch: MemoryKillSwitch) {
    const genome = shared.genomes.at(-1) as PaperSessionState['genome'];
    const runner = finishingSimulatedSession({
      fixture: { promotionId: 'PKIDLE02', genome, date: DATE, openMs: shared.openMs, costs },
      marketData: shared.marketData,
      killSwitch,
      cohortId: 'c-kill-idle',
      agentId: 'a-quiet',
      agentRank: 30,
    });
    const { broker, clock } = runner;
    const change = (engaged: boolean, reason: string) =>
      setKillSwitch(
        { killSwitch, audit: runner.audit, clock, environment: 'local', broker },
        { engaged, reason, by: 'cli:operator' },
      );
    return { ...runner, change, genome };
  }

  /**
   * The workflow's Finish step of `state` through its real handler (middy, zod), with the
   * `step` the shipped ASL passes; what it counts in `PaperSessionHalts` and logs at WARN.
   */
  function finishStep(q: ReturnType<typeof quietSession>, state: PaperSessionState) {
    const halts: number[] = [];
    vi.spyOn(metrics, 'addMetric').mockImplementation((name, _unit, value) => {
      if (name === 'PaperSessionHalts') halts.push(value);
      return metrics;
    });
    const warned = vi.spyOn(logger, 'warn');
    onTestFinished(() => {
      vi.restoreAllMocks();
    });
    const handler = createFinishHandler(() => q.deps);
    const step = {
      execution_id: 'arn:aws:states:local:0:execution:paper:PKIDLE02',
      state: 'Finish',
    };
    const event = { promotion: q.promotion, state, step };
    const invoke = () => handler(structuredClone(event), localLambdaContext('finish', 300_000));
    const haltLines = () => warned.mock.calls.filter(([m]) => m === 'paper session halted');
    return { invoke, halts, haltLines };
  }

  it('a session flat the whole time, the switch engaged and released mid-session: its track record entry is halted', async () => {
    // Prepare
    const killSwitch = new MemoryKillSwitch();
    const q = quietSession(killSwitch);
    let s = await q.runUntil(q.start, (x) => x.ticks === 60);
    const readsBeforeEngage = killSwitch.reads;
    const engagedAtIso = new Date(q.clock.now()).toISOString();
    await q.change(true, 'operator: stop');
    q.clock.advance(1_000);
    await q.change(false, 'operator: resume'); // reads the switch, to carry lastEngagedAtIso
    const readsAfterRelease = killSwitch.reads;
    s = await q.runUntil(s);
    const readsByTicks = killSwitch.reads - readsAfterRelease + readsBeforeEngage;

    // Act
    await q.finish(s);

    // Assess: the session never traded nor read the switch (its close included); Finish once
    expect(s.orders).toEqual([]);
    expect(s.flattenDecided).toBe(true);
    expect(s.halt).toBeNull();
    expect(readsByTicks).toBe(0);
    expect(killSwitch.reads - readsAfterRelease).toBe(1);
    const [entry] = await q.trackRecord.list(q.genome.id);
    expect(entry?.halt).toEqual({
      mode: 'flatten',
      reason: expect.stringContaining(`kill switch engaged at ${engagedAtIso} (released at `),
    });
    const [completed] = payloadsOf(q.audit.records(), 'paper_session_completed');
    expect(completed).toMatchObject({ halt: entry?.halt });
  }, 120_000);

  it('never engaged: the entry carries no halt; unreadable: Finish throws a TransientError (the workflow retries) and records nothing', async () => {
    // Prepare
    const killSwitch = new MemoryKillSwitch();
    const q = quietSession(killSwitch);
    const s = await q.runUntil(q.start);

    // Act
    killSwitch.unreachable = true;
    const failed = await q.finish(s).catch((err: unknown) => err);
    const recordedWhileUnreadable = await q.trackRecord.list(q.genome.id);
    killSwitch.unreachable = false;
    await q.finish(s);

    // Assess
    expect(failed).toBeInstanceOf(TransientError);
    expect((failed as Error).message).toContain('kill switch unreadable at settle');
    expect(recordedWhileUnreadable).toEqual([]);
    const [entry] = await q.trackRecord.list(q.genome.id);
    expect(entry?.halt).toBeNull();
  }, 120_000);

  it('Finish recording the halt says it in its output and counts it once (PaperSessionHalts, WARN `paper session halted`): not at the attempt the unreadable switch failed, not at a retry of the attempt that recorded it', async () => {
    // Prepare: flat all day, the switch engaged and released mid-session
    const killSwitch = new MemoryKillSwitch();
    const q = quietSession(killSwitch);
    let s = await q.runUntil(q.start, (x) => x.ticks === 60);
    const engagedAtIso = new Date(q.clock.now()).toISOString();
    await q.change(true, 'operator: stop');
    q.clock.advance(1_000);
    await q.change(false, 'operator: resume');
    s = await q.runUntil(s);
    const finish = finishStep(q, s);

    // Act: the step's attempts (Step Functions Retry): unreadable, recorded, answer lost
    killSwitch.unreachable = true;
    const failed = await finish.invoke().catch((err: unknown) => err);
    const haltsWhileUnreadable = [...finish.halts];
    killSwitch.unreachable = false;
    const recorded = await finish.invoke();
    const retried = await finish.invoke();

    // Assess
    expect(s.halt).toBeNull();
    expect(failed).toBeInstanceOf(TransientError);
    expect(haltsWhileUnreadable).toEqual([]);
    const halt = {
      mode: 'flatten',
      reason: expect.stringMatching(
        new RegExp(
          `^kill switch engaged at ${engagedAtIso} \\(released at .*; recorded at settle$`,
        ),
      ),
    };
    expect(recorded).toMatchObject({ halt, haltRecordedAtSettle: true, replayed: false });
    expect(retried).toMatchObject({ halt, haltRecordedAtSettle: true, replayed: true });
    expect(finish.halts).toEqual([1]);
    expect(finish.haltLines()).toHaveLength(1);
    expect(finish.haltLines()[0]?.[1]).toEqual({
      halt: recorded.halt,
      session: { date: DATE, symbol: q.genome.symbol },
      recordedAt: 'settle',
    });
    const completed = payloadsOf(q.audit.records(), 'paper_session_completed');
    expect(completed).toHaveLength(1);
    expect(completed[0]).toMatchObject({ halt: recorded.halt });
    const [entry] = await q.trackRecord.list(q.genome.id);
    expect(entry?.halt).toEqual(recorded.halt);
  }, 120_000);

  it('Finish of a session the switch never halted: no halt in its output, nothing counted', async () => {
    // Prepare
    const q = quietSession(new MemoryKillSwitch());
    const s = await q.runUntil(q.start);
    const finish = finishStep(q, s);

    // Act
    const out = await finish.invoke();

    // Assess
    expect(out).toMatchObject({ halt: null, haltRecordedAtSettle: false, replayed: false });
    expect(finish.halts).toEqual([]);
    expect(finish.haltLines()).toEqual([]);
  }, 120_000);
});
