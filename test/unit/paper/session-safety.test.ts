/**
 * The paper session's safety behaviour on a real shared session, through the simulated paper
 * broker: the kill switch mid-session (open orders canceled, the declared halt mode applied,
 * no new entry), an unreachable kill-switch store (nothing sent), and a crash at every step of
 * a tick (a retried tick leaves exactly one order per client_order_id, the book reconciled).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { SimulatedPaperBroker } from '../../../functions/adapters/brokers/simulated-broker.js';
import { FileSystemBlobSource } from '../../../functions/adapters/market-data/blob-source.js';
import { LeanMarketData } from '../../../functions/adapters/market-data/lean-market-data.js';
import { parseCohortConfig } from '../../../functions/core/cohort/config.js';
import { seedGenomePool } from '../../../functions/core/cohort/genome.js';
import { simulateCohort } from '../../../functions/core/cohort/simulate.js';
import { isTerminalOrderStatus } from '../../../functions/core/orders/order.js';
import {
  type HaltModes,
  type PaperSessionState,
  type PaperTickDeps,
  paperTick,
  sessionBook,
} from '../../../functions/core/paper/paper-session.js';
import type {
  BrokerOrder,
  BrokerOrderRequest,
  BrokerPort,
} from '../../../functions/ports/broker.js';
import { ManualClock } from '../../../functions/ports/clock.js';
import { MemoryAuditSink } from '../../support/doubles/memory-audit-sink.js';
import { MemoryKillSwitch } from '../../support/doubles/memory-kill-switch.js';
import { InMemorySimulatedBrokerStore } from '../../support/doubles/memory-simulated-broker-store.js';
import { paperSessionFixture } from '../../support/paper-session-fixture.js';
import { DATA_ROOT } from '../../support/paths.js';

const DATE = '2013-10-08';
const SYMBOLS = ['SPY', 'BAC', 'AIG', 'IBM'];
const costs = parseCohortConfig({ bankrollUsd: 1_000 });

let marketData: LeanMarketData;
let genome: PaperSessionState['genome'];
let openMs: number;

beforeAll(async () => {
  marketData = new LeanMarketData(new FileSystemBlobSource(DATA_ROOT));
  const session = await marketData.loadSession(DATE, SYMBOLS);
  openMs = session.timestamps[0] as number;
  const result = simulateCohort({
    cohortId: 'c-safety',
    session,
    genomes: seedGenomePool(30, SYMBOLS, 12),
    config: parseCohortConfig({ bankrollUsd: 1_000, agentCount: 30, seed: 12 }),
  });
  const active = [...result.agents].sort((a, b) => b.tradeCount - a.tradeCount)[0];
  if (!active) throw new Error('no agent');
  genome = active.genome;
});

/** A broker that records what it created and can crash right after a call succeeded. */
class CrashingBroker implements BrokerPort {
  readonly name = 'simulated' as const;
  /** client_order_ids the broker created (a duplicate submit is not a creation). */
  readonly created: string[] = [];
  crashAfter: 'submit' | 'read-filled' | null = null;
  constructor(private readonly inner: BrokerPort) {}
  async submitOrder(request: BrokerOrderRequest) {
    const out = await this.inner.submitOrder(request);
    if (!out.duplicate) this.created.push(request.clientOrderId);
    if (this.crashAfter === 'submit') {
      this.crashAfter = null;
      throw new Error('crash after the broker accepted, before the tick recorded it');
    }
    return out;
  }
  async getOrderByClientOrderId(id: string): Promise<BrokerOrder | null> {
    const o = await this.inner.getOrderByClientOrderId(id);
    if (this.crashAfter === 'read-filled' && o?.status === 'filled') {
      this.crashAfter = null;
      throw new Error('crash after the fill was read, before the book was updated');
    }
    return o;
  }
  /** Cancels the broker refuses (HTTP 500) before it accepts one again. */
  refuseCancels = 0;
  cancelOrder(id: string) {
    if (this.refuseCancels > 0) {
      this.refuseCancels -= 1;
      return Promise.reject(new Error('HTTP 500 on DELETE /v2/orders'));
    }
    return this.inner.cancelOrder(id);
  }
  listOpenOrders() {
    return this.inner.listOpenOrders();
  }
  listPositions() {
    return this.inner.listPositions();
  }
  getAccount() {
    return this.inner.getAccount();
  }
}

function start(haltModes?: HaltModes): PaperSessionState {
  return paperSessionFixture({
    promotionId: 'PSAFETY1',
    genome,
    date: DATE,
    openMs,
    costs,
    ...(haltModes ? { haltModes } : {}),
  });
}

function harness(latencyMs: number, haltModes?: HaltModes) {
  const s = start(haltModes);
  const clock = new ManualClock(s.startedAtMs);
  const simulated = new SimulatedPaperBroker({
    store: new InMemorySimulatedBrokerStore(),
    marketData,
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
  const broker = new CrashingBroker(simulated);
  const killSwitch = new MemoryKillSwitch();
  const audit = new MemoryAuditSink(clock);
  const deps: PaperTickDeps = {
    broker,
    marketData,
    clock,
    killSwitch,
    intentTrail: {
      audit,
      environment: 'local',
      actor: 'stagegate/paper-session',
      stream: 'promotion:PSAFETY1',
      subject: { promotion_id: 'PSAFETY1' },
    },
  };
  let state = s;
  const tick = async () => {
    const out = await paperTick(deps, state);
    state = out.state;
    clock.set(clock.now() + out.waitSeconds * 1_000);
    return out;
  };
  return { deps, broker, killSwitch, audit, clock, tick, state: () => state };
}

const isOpen = (o: PaperSessionState['orders'][number]) => !isTerminalOrderStatus(o.status);

describe('kill switch mid-session', () => {
  it('with an order open: the order is canceled, the session halts (flatten) and sends no new order', async () => {
    // Prepare: the order stays open across a tick (3 minutes of latency)
    const h = harness(180_000);
    while (!h.state().done && !h.state().orders.some(isOpen)) await h.tick();
    const openOrder = h.state().orders.find(isOpen);
    expect(openOrder).toBeDefined();
    const sentBefore = h.broker.created.length;

    // Act
    h.killSwitch.engage('operator: stop');
    const halted = await h.tick();
    while (!h.state().done) await h.tick();

    // Assess
    expect(halted.decision.action).toBe('halted');
    expect(halted.decision.canceled).toContain(openOrder?.clientOrderId);
    expect(halted.state.halt).toEqual({
      mode: 'flatten',
      reason: 'kill switch engaged: operator: stop',
    });
    const atBroker = await h.broker.getOrderByClientOrderId(openOrder?.clientOrderId ?? '');
    expect(atBroker?.status).toBe('canceled');
    // Nothing opened after the switch: at most the flatten of what had filled
    const after = h.broker.created.slice(sentBefore);
    const byId = new Map(h.state().orders.map((o) => [o.clientOrderId, o]));
    for (const id of after) expect(byId.get(id)?.reason).toBe('flatten');
    expect(await h.broker.listPositions()).toEqual([]);
    expect(await h.broker.listOpenOrders()).toEqual([]);
  });

  it('a cancel the broker refuses never aborts the halt: the session halts, the order stays open and the next tick cancels it', async () => {
    // Prepare: the order stays open across a tick; the broker refuses the first cancel
    const h = harness(180_000);
    while (!h.state().done && !h.state().orders.some(isOpen)) await h.tick();
    const openOrder = h.state().orders.find(isOpen);
    expect(openOrder).toBeDefined();
    h.broker.refuseCancels = 1;

    // Act
    h.killSwitch.engage('operator: stop');
    const halted = await h.tick();
    const stillOpen = await h.broker.getOrderByClientOrderId(openOrder?.clientOrderId ?? '');
    const next = await h.tick();
    while (!h.state().done) await h.tick();

    // Assess
    expect(halted.decision.action).toBe('halted');
    expect(halted.decision.canceled).not.toContain(openOrder?.clientOrderId);
    expect(halted.state.halt?.mode).toBe('flatten');
    expect(halted.state.halt?.reason).toContain(
      `cancel failed, retried next tick: ${openOrder?.clientOrderId}: HTTP 500`,
    );
    expect(stillOpen?.status).not.toBe('canceled');
    expect(next.decision.canceled).toContain(openOrder?.clientOrderId);
    expect(await h.broker.listPositions()).toEqual([]);
    expect(await h.broker.listOpenOrders()).toEqual([]);
  });

  it('an order that fills just before the kill switch cancels it is not listed canceled: its fill is booked and flattened in the same tick', async () => {
    // Prepare: the order stays open across a tick; it fills at the broker as the cancel comes
    const h = harness(180_000);
    while (!h.state().done && !h.state().orders.some(isOpen)) await h.tick();
    const openOrder = h.state().orders.find(isOpen);
    expect(openOrder).toBeDefined();
    const id = openOrder?.clientOrderId ?? '';
    const cancel = h.broker.cancelOrder.bind(h.broker);
    h.broker.cancelOrder = async (x: string) => {
      if (x === id) h.clock.advance(240_000); // past its latency: the broker fills it first
      return cancel(x);
    };

    // Act
    h.killSwitch.engage('operator: stop');
    const halted = await h.tick();
    while (!h.state().done) await h.tick();

    // Assess
    const filled = halted.state.orders.find((o) => o.clientOrderId === id);
    expect((await h.broker.getOrderByClientOrderId(id))?.status).toBe('filled');
    expect(filled).toMatchObject({ status: 'filled', filledQty: openOrder?.qty });
    expect(halted.decision.action).toBe('halted');
    expect(halted.decision.canceled).toEqual([]);
    const [flattenId] = halted.decision.orders;
    const flatten = halted.state.orders.find((o) => o.clientOrderId === flattenId);
    expect(flatten).toMatchObject({ reason: 'flatten', qty: openOrder?.qty });
    expect(flatten?.side).not.toBe(openOrder?.side);
    expect(await h.broker.listPositions()).toEqual([]);
    expect(await h.broker.listOpenOrders()).toEqual([]);
  });

  it('with a position held: one flatten order, then nothing; the halt is audited', async () => {
    // Prepare: wait for a filled position
    const h = harness(1_000);
    const position = () => sessionBook(h.state()).positions[h.state().symbol]?.qty ?? 0;
    while (!h.state().done && (position() === 0 || h.state().orders.some(isOpen))) await h.tick();
    const q = position();
    expect(q).not.toBe(0);
    const sentBefore = h.broker.created.length;

    // Act
    h.killSwitch.engage('risk officer');
    const halted = await h.tick();
    while (!h.state().done) await h.tick();

    // Assess
    expect(halted.decision.action).toBe('halted');
    const after = h.broker.created.slice(sentBefore);
    expect(after).toHaveLength(1);
    const flatten = h.state().orders.find((o) => o.clientOrderId === after[0]);
    expect(flatten).toMatchObject({ reason: 'flatten', side: q > 0 ? 'sell' : 'buy' });
    expect(flatten?.qty).toBeCloseTo(Math.abs(q), 9);
    expect(await h.broker.listPositions()).toEqual([]);
  });

  it('reduce-only: after the switch every order brings the position toward flat', async () => {
    // Prepare
    const h = harness(1_000, { killSwitch: 'reduce-only', dailyLossStop: 'flatten' });
    const position = () => sessionBook(h.state()).positions[h.state().symbol]?.qty ?? 0;
    while (!h.state().done && (position() === 0 || h.state().orders.some(isOpen))) await h.tick();
    const sentBefore = h.state().orders.length;

    // Act
    h.killSwitch.engage('reduce only');
    while (!h.state().done) await h.tick();

    // Assess
    expect(h.state().halt?.mode).toBe('reduce-only');
    const orders = h.state().orders;
    for (let i = sentBefore; i < orders.length; i++) {
      const before = sessionBook({ capitalUsd: 100, orders: orders.slice(0, i) });
      const after = sessionBook({ capitalUsd: 100, orders: orders.slice(0, i + 1) });
      const qb = Math.abs(before.positions[genome.symbol]?.qty ?? 0);
      const qa = Math.abs(after.positions[genome.symbol]?.qty ?? 0);
      expect(qa).toBeLessThanOrEqual(qb + 1e-9);
    }
    expect(await h.broker.listPositions()).toEqual([]);
  });

  it('kill-switch store unreachable: no order is ever submitted', async () => {
    // Prepare
    const h = harness(1_000);
    h.killSwitch.unreachable = true;

    // Act
    const decisions: string[] = [];
    while (!h.state().done) decisions.push((await h.tick()).decision.action);

    // Assess
    expect(h.broker.created).toEqual([]);
    expect(h.state().orders).toEqual([]);
    expect(decisions).toContain('halted');
    expect(h.audit.records().filter((r) => r.kind === 'order_intent')).toEqual([]);
  });
});

describe('crash at every step of a tick', () => {
  it('a retried tick leaves exactly one order per client_order_id and the book reconciled', async () => {
    // Prepare: the same session without crashes
    const clean = harness(1_000);
    while (!clean.state().done) await clean.tick();
    expect(clean.state().orders.length).toBeGreaterThan(2);

    // Act: crash after every submit and after every filled read, then retry the same input
    const h = harness(1_000);
    let crashes = 0;
    while (!h.state().done) {
      const input = h.state();
      for (const point of ['submit', 'read-filled'] as const) {
        h.broker.crashAfter = point;
        try {
          await paperTick(h.deps, input);
        } catch {
          crashes++;
        }
        h.broker.crashAfter = null;
      }
      await h.tick(); // the retry, from the same input state
    }

    // Assess
    expect(crashes).toBeGreaterThan(2);
    const ids = h.state().orders.map((o) => o.clientOrderId);
    expect(new Set(h.broker.created).size).toBe(h.broker.created.length);
    expect([...h.broker.created].sort()).toEqual(
      h
        .state()
        .orders.filter((o) => o.status !== 'rejected')
        .map((o) => o.clientOrderId)
        .sort(),
    );
    const key = (o: PaperSessionState['orders'][number]) =>
      [o.clientOrderId, o.side, o.qty, o.status, o.filledQty].join('|');
    expect(h.state().orders.map(key)).toEqual(clean.state().orders.map(key));
    expect(ids.length).toBe(new Set(ids).size);
    // Book vs broker: flat on both sides after the close
    expect(sessionBook(h.state()).positions[genome.symbol]?.qty ?? 0).toBe(0);
    expect(await h.broker.listPositions()).toEqual([]);
    // Intent before effect: every sent order has its order_intent before order_submitted
    const records = h.audit.records();
    for (const id of h.broker.created) {
      const intent = records.findIndex(
        (r) => r.kind === 'order_intent' && r.subject.order_id === id,
      );
      const submitted = records.findIndex(
        (r) => r.kind === 'order_submitted' && r.subject.order_id === id,
      );
      expect(intent).toBeGreaterThanOrEqual(0);
      expect(submitted).toBeGreaterThan(intent);
    }
  }, 300_000); // two whole sessions with retried ticks: seconds quiet, longer under load
});
