/**
 * The kill switch engaged DURING the tick that sends the session's close flatten (issue t5):
 * the engage sizes its flatten from the session-book registry, which still holds the position
 * (a tick writes it at its end), so both flattens go out and no deciding tick follows. The
 * ticks after the close and the settle step adopt the kill flatten: while it works and
 * overshoots they cancel it, and only it (the session's own close flatten keeps working); no
 * order is sent after the close, and whatever position is left while the kill flatten is in the
 * book is named in the session's halt, each note once. A real session through the simulated paper broker and the
 * workflow's steps (`tickPaperSession`, `finishPaperSession`); the engage through the use case
 * every door calls (`setKillSwitch`), forced into the close tick by a broker hook: it runs
 * when the session submits its close flatten, before that order reaches the broker.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { parseCohortConfig } from '../../../functions/core/cohort/config.js';
import { isTerminalOrderStatus } from '../../../functions/core/orders/order.js';
import {
  killSwitchFlattenOrderId,
  type PaperSessionState,
  sessionBook,
} from '../../../functions/core/paper/paper-session.js';
import { setKillSwitch } from '../../../functions/core/use-cases/kill-switch.js';
import type { BrokerOrder } from '../../../functions/ports/broker.js';
import { accountKeyOf } from '../../../functions/ports/session-books.js';
import { MemoryKillSwitch } from '../../support/doubles/memory-kill-switch.js';
import { finishingSimulatedSession, payloadsOf } from '../../support/paper-tick.js';
import { loadSharedSession, type SharedSession } from '../../support/shared-session.js';

const DATE = '2013-10-08';
const PROMOTION = 'PKCLOSE1';
const KILL_ID = killSwitchFlattenOrderId(PROMOTION);
const costs = parseCohortConfig({ bankrollUsd: 1_000 });
const OVERSHOOT = 'kill switch flatten would overshoot a flat book';

let shared: SharedSession;
/** The cohort's first genome that holds a short into the close (its close flatten buys). */
let genome: PaperSessionState['genome'];

const positionOf = (s: PaperSessionState) => sessionBook(s).positions[s.symbol]?.qty ?? 0;

beforeAll(async () => {
  shared = await loadSharedSession(DATE, ['SPY', 'BAC', 'AIG', 'IBM'], 'c-kill-close');
  for (const g of shared.genomes) {
    const s = session(g as PaperSessionState['genome']);
    const before = await s.runUntil(s.start, (x) => s.clock.now() >= x.closeMs - 60_000);
    if (positionOf(before) < 0) {
      genome = g as PaperSessionState['genome'];
      return;
    }
  }
  throw new Error('no genome of the cohort holds a short into the close');
}, 600_000);

/**
 * A session of `g` at the simulated broker (orders fill whole on the minute bar after they
 * are sent), ticked and finished by the workflow's steps. `engageAtClose` arms the hook: the
 * switch is engaged (its flatten sized from the runner's registry, as the tick left it) when
 * the session submits its close flatten, before that order reaches the broker (`'after'`: once
 * it has).
 */
function session(g: PaperSessionState['genome']) {
  const killSwitch = new MemoryKillSwitch();
  const runner = finishingSimulatedSession({
    fixture: { promotionId: PROMOTION, genome: g, date: DATE, openMs: shared.openMs, costs },
    marketData: shared.marketData,
    killSwitch,
    cohortId: 'c-kill-close',
    agentId: 'a-close',
    agentRank: 1,
  });
  const { broker, clock, start } = runner;
  const engageAtClose = (when: 'before' | 'after' = 'before') => {
    const submit = broker.submitOrder.bind(broker);
    let engaged = false;
    broker.submitOrder = async (request) => {
      const closing = clock.now() >= start.closeMs - 60_000 && clock.now() < start.closeMs;
      const armed = closing && !engaged && request.clientOrderId !== KILL_ID;
      if (armed) engaged = true;
      if (armed && when === 'before') await engage({ ...runner, killSwitch });
      const out = await submit(request);
      if (armed && when === 'after') await engage({ ...runner, killSwitch });
      return out;
    };
  };
  return { ...runner, killSwitch, engageAtClose };
}

/** The operator engages the kill switch (its flatten sized from the runner's registry). */
async function engage(
  s: Pick<ReturnType<typeof session>, 'killSwitch' | 'audit' | 'clock' | 'broker' | 'sessionBooks'>,
) {
  await setKillSwitch(
    {
      killSwitch: s.killSwitch,
      audit: s.audit,
      clock: s.clock,
      environment: 'local',
      broker: s.broker,
      flatten: { sessionBooks: s.sessionBooks, account: accountKeyOf(s.broker.name, 'test') },
    },
    { engaged: true, reason: 'operator: stop', by: 'cli:operator' },
  );
}

/**
 * The broker accepts the orders `held` picks but has not routed them yet (Alpaca `accepted`):
 * each works until canceled and fills nothing. `hidden` while true, the broker does not list
 * them yet (read by client_order_id: not found). `cancelError`, when set, makes each cancel of a
 * held order fail with the error it returns (the order keeps working). `cancels` lists the
 * cancels the broker was asked for, in order.
 */
function holdOrders(
  { broker, clock }: Pick<ReturnType<typeof session>, 'broker' | 'clock'>,
  held: (clientOrderId: string) => boolean,
) {
  const submit = broker.submitOrder.bind(broker);
  const get = broker.getOrderByClientOrderId.bind(broker);
  const cancel = broker.cancelOrder.bind(broker);
  const list = broker.listOpenOrders.bind(broker);
  const hold = {
    orders: new Map<string, BrokerOrder>(),
    hidden: false,
    cancels: [] as string[],
    cancelError: null as (() => Error) | null,
  };
  broker.submitOrder = async (request) => {
    if (!held(request.clientOrderId)) return submit(request);
    const atIso = new Date(clock.now()).toISOString();
    const order = hold.orders.get(request.clientOrderId) ?? {
      brokerOrderId: `held-${request.clientOrderId}`,
      clientOrderId: request.clientOrderId,
      symbol: request.symbol,
      side: request.side,
      type: request.type,
      qty: request.qty,
      filledQty: 0,
      filledAvgPriceUsd: null,
      status: 'accepted' as const,
      submittedAtIso: atIso,
      updatedAtIso: atIso,
      timeInForce: request.timeInForce,
      feesUsd: 0,
    };
    hold.orders.set(request.clientOrderId, order);
    return { order, duplicate: false };
  };
  broker.getOrderByClientOrderId = async (id) =>
    hold.orders.has(id) ? (hold.hidden ? null : (hold.orders.get(id) ?? null)) : get(id);
  broker.cancelOrder = async (id) => {
    const order = hold.orders.get(id);
    if (!order) return cancel(id);
    hold.cancels.push(id);
    if (hold.cancelError) throw hold.cancelError();
    const canceled = { ...order, status: 'canceled' as const };
    hold.orders.set(id, canceled);
    return canceled;
  };
  broker.listOpenOrders = async () => {
    const open = [...hold.orders.values()].filter((o) => !isTerminalOrderStatus(o.status));
    return [...(await list()), ...(hold.hidden ? [] : open)];
  };
  return hold;
}

/** {@link holdOrders} of the kill switch's flatten only. */
const holdKillFlatten = (s: Pick<ReturnType<typeof session>, 'broker' | 'clock'>) =>
  holdOrders(s, (id) => id === KILL_ID);

/** The session run to its close tick (armed: `when`, see `engageAtClose`), that tick, and its state before it. */
async function throughCloseTick(s: ReturnType<typeof session>, when?: 'before' | 'after') {
  const before = await s.runUntil(s.start, (x) => s.clock.now() >= x.closeMs - 60_000);
  s.engageAtClose(when);
  const closing = await s.tick(before);
  return { before, closing };
}

describe('kill switch engaged during the tick that sends the close flatten', () => {
  it('its flatten still working after the close: the tick after the close cancels it; the session ends flat in its book and at the broker, nothing sent after the close', async () => {
    // Prepare
    const s = session(genome);
    const hold = holdKillFlatten(s);
    const { before, closing } = await throughCloseTick(s);

    // Act
    const after = await s.runUntil(closing);
    const summary = await s.finish(after);

    // Assess
    expect(positionOf(before)).toBeLessThan(0);
    expect(hold.orders.get(KILL_ID)?.side).toBe('buy');
    expect(hold.orders.get(KILL_ID)?.qty).toBeCloseTo(-positionOf(before), 9);
    expect(after.orders.find((o) => o.clientOrderId === KILL_ID)?.status).toBe('canceled');
    expect(hold.cancels).toEqual([KILL_ID]);
    const [decision] = payloadsOf(s.audit.records(), 'paper_decision').filter((d) =>
      (d.canceled as string[] | undefined)?.includes(KILL_ID),
    );
    expect(decision?.reason).toBe(`session closed; ${OVERSHOOT}: canceled`);
    expect(after.orders.filter((o) => o.submittedAtMs >= after.closeMs)).toEqual([]);
    expect(summary.reconciliation).toMatchObject({ clean: true, bookQty: 0, brokerQty: 0 });
    expect(await s.broker.listOpenOrders()).toEqual([]);
    expect(await s.broker.listPositions()).toEqual([]);
  }, 120_000);

  it('both flattens filled at the close: no order is sent after it; the position left is in the halt of the tick after the close, its decision and the session result, as at the broker', async () => {
    // Prepare
    const s = session(genome);
    const { before, closing } = await throughCloseTick(s);
    const sentBeforeClose = closing.orders.length;

    // Act
    const after = await s.runUntil(closing);
    const summary = await s.finish(after);

    // Assess: the session short q bought q twice: q shares long at the broker and in its book
    const left = -positionOf(before);
    const kill = after.orders.find((o) => o.clientOrderId === KILL_ID);
    expect(kill).toMatchObject({ side: 'buy', status: 'filled' });
    expect(after.orders).toHaveLength(sentBeforeClose + 1);
    expect(after.orders.filter((o) => o.submittedAtMs >= after.closeMs)).toEqual([]);
    const note = `${OVERSHOOT}: filled before its cancel, ${Number(left.toFixed(9))} shares left at the close, not flattened (no order is sent after the close)`;
    expect(after.halt).toEqual({ mode: 'flatten', reason: note });
    const halted = payloadsOf(s.audit.records(), 'paper_decision').filter(
      (d) => d.action === 'halted',
    );
    expect(halted).toHaveLength(1);
    expect(halted[0]).toMatchObject({ reason: `session closed; ${note}`, halt: after.halt });
    expect(summary.halt).toEqual(after.halt);
    expect(summary.reconciliation.bookQty).toBeCloseTo(left, 9);
    expect(summary.reconciliation.brokerQty).toBeCloseTo(left, 9);
    const [entry] = await s.trackRecord.list(genome.id);
    expect(entry?.halt).toEqual(after.halt);
  }, 120_000);

  it('its flatten first known to the broker at the settle step, still working: Finish cancels it and the session ends flat', async () => {
    // Prepare: the broker lists the kill flatten only after the session's last tick
    const s = session(genome);
    const hold = holdKillFlatten(s);
    hold.hidden = true;
    const { closing } = await throughCloseTick(s);
    const after = await s.runUntil(closing);
    hold.hidden = false;

    // Act
    const summary = await s.finish(after);

    // Assess
    expect(after.orders.some((o) => o.clientOrderId === KILL_ID)).toBe(false);
    expect(summary.orders.find((o) => o.clientOrderId === KILL_ID)?.status).toBe('canceled');
    expect(hold.cancels).toEqual([KILL_ID]);
    expect(summary.reconciliation).toMatchObject({ clean: true, bookQty: 0, brokerQty: 0 });
    expect(await s.broker.listOpenOrders()).toEqual([]);
    expect(await s.broker.listPositions()).toEqual([]);
  }, 120_000);

  it('both filled, the kill flatten first known at the settle step: Finish sends nothing and records the position left in the halt it reports', async () => {
    // Prepare: the settle step is the first to read the session after the close tick
    const s = session(genome);
    const { before, closing } = await throughCloseTick(s);
    s.clock.set(closing.closeMs + 60_000);

    // Act
    const summary = await s.finish(closing);

    // Assess
    const left = Number((-positionOf(before)).toFixed(9));
    expect(summary.orders.find((o) => o.clientOrderId === KILL_ID)?.status).toBe('filled');
    expect(summary.orders).toHaveLength(closing.orders.length + 1);
    expect(summary.halt?.mode).toBe('flatten');
    expect(summary.halt?.reason).toContain(
      `${OVERSHOOT}: filled before its cancel, ${left} shares left at the close`,
    );
    expect(summary.haltRecordedAtSettle).toBe(true);
    expect(summary.reconciliation.brokerQty).toBeCloseTo(left, 9);
  }, 120_000);

  it("both flattens still working after the close: the tick after the close cancels the kill switch's flatten only, the session's own close flatten keeps working, and the position left is named in the halt, its decision, Finish and the track record", async () => {
    // Prepare: the broker holds every order sent from the close tick on (both flattens)
    const s = session(genome);
    const hold = holdOrders(s, () => s.clock.now() >= s.start.closeMs - 60_000);
    const { before, closing } = await throughCloseTick(s);
    const ownId = [...hold.orders.keys()].find((id) => id !== KILL_ID) ?? '';

    // Act
    const after = await s.runUntil(closing);
    const summary = await s.finish(after);

    // Assess
    const q = positionOf(before);
    expect(q).toBeLessThan(0);
    expect(hold.orders.size).toBe(2);
    expect(hold.cancels).toEqual([KILL_ID]);
    expect(hold.orders.get(ownId)).toMatchObject({ status: 'accepted', side: 'buy' });
    expect(after.orders.filter((o) => o.submittedAtMs >= after.closeMs)).toEqual([]);
    const shares = Number(q.toFixed(9));
    const reason = `kill switch flatten canceled, ${shares} shares left at the close, not flattened (no order is sent after the close), still working at the broker: ${ownId} (buy ${-shares})`;
    expect(after.halt).toEqual({ mode: 'flatten', reason });
    const halted = payloadsOf(s.audit.records(), 'paper_decision').filter(
      (d) => d.action === 'halted',
    );
    expect(halted).toHaveLength(1);
    expect(halted[0]).toMatchObject({
      reason: `session closed; ${OVERSHOOT}: canceled; ${reason}`,
      canceled: [KILL_ID],
    });
    expect(summary.halt).toEqual(after.halt);
    expect(summary.haltRecordedAtSettle).toBe(false);
    expect(summary.reconciliation).toMatchObject({ bookQty: q, brokerQty: q });
    const [entry] = await s.trackRecord.list(genome.id);
    expect(entry?.halt).toEqual(after.halt);
  }, 120_000);

  it('its cancel failing after the close with another error each time: the halt names the failed cancel once, one halted decision, and Finish does not count it again', async () => {
    // Prepare: the kill flatten works; every cancel of it fails with a new message
    const s = session(genome);
    const hold = holdKillFlatten(s);
    hold.cancelError = () => new Error(`broker unavailable: request req-${hold.cancels.length}`);
    const { closing } = await throughCloseTick(s);

    // Act
    const after = await s.runUntil(closing);
    const summary = await s.finish(after);

    // Assess: every tick after the close and the settle step asked again, each told otherwise
    expect(hold.cancels.length).toBeGreaterThan(2);
    const first = `${OVERSHOOT}: cancel failed: ${KILL_ID}: broker unavailable: request req-1`;
    expect(after.halt).toEqual({ mode: 'flatten', reason: first });
    expect(summary.halt).toEqual(after.halt);
    expect(summary.haltRecordedAtSettle).toBe(false);
    const halted = payloadsOf(s.audit.records(), 'paper_decision').filter(
      (d) => d.action === 'halted',
    );
    expect(halted).toHaveLength(1);
  }, 120_000);

  it('a session a tick already halted: Finish extends its halt with the shares left at the close but does not report it as a halt of its own', async () => {
    // Prepare: both flattens filled at the close; the session comes to Finish halted by a tick
    const s = session(genome);
    const { before, closing } = await throughCloseTick(s);
    s.clock.set(closing.closeMs + 60_000);
    const halt = { mode: 'flatten' as const, reason: 'daily loss stop: equity below' };

    // Act
    const summary = await s.finish({ ...closing, halt });

    // Assess
    const left = Number((-positionOf(before)).toFixed(9));
    expect(summary.halt?.reason).toBe(
      `daily loss stop: equity below; ${OVERSHOOT}: filled before its cancel, ${left} shares left at the close, not flattened (no order is sent after the close)`,
    );
    expect(summary.haltRecordedAtSettle).toBe(false);
  }, 120_000);

  it('the switch engaged after the close tick, its flatten (not overshooting) still working after the close: it is not canceled, and the position it has not closed yet is named with it', async () => {
    // Prepare: the engage runs once the session's close flatten is at the broker: it cancels that
    // order and sends its own in its place, sized right (the registry's book, nothing filled)
    const s = session(genome);
    const hold = holdKillFlatten(s);
    const { before, closing } = await throughCloseTick(s, 'after');

    // Act
    const after = await s.runUntil(closing);
    const summary = await s.finish(after);

    // Assess
    const q = positionOf(before);
    expect(q).toBeLessThan(0);
    expect(hold.cancels).toEqual([]);
    expect(hold.orders.get(KILL_ID)).toMatchObject({ side: 'buy', status: 'accepted' });
    expect(after.orders.filter((o) => o.submittedAtMs >= after.closeMs)).toEqual([]);
    const shares = Number(q.toFixed(9));
    const reason = `kill switch flatten accepted, ${shares} shares left at the close, not flattened (no order is sent after the close), still working at the broker: ${KILL_ID} (buy ${-shares})`;
    expect(after.halt).toEqual({ mode: 'flatten', reason });
    expect(summary.halt).toEqual(after.halt);
    expect(summary.reconciliation).toMatchObject({ bookQty: q, brokerQty: q });
  }, 120_000);

  it("at a gtc (crypto) close the kill switch's flatten that does not overshoot is left working and named, while the close cancels nothing else", async () => {
    // Prepare: as above; the ticks after the close take the session's orders as gtc (crypto's:
    // they read the market only for the time in force; no bar is read after the close)
    const s = session(genome);
    const hold = holdKillFlatten(s);
    const { before, closing } = await throughCloseTick(s, 'after');

    // Act
    const after = await s.runUntil({ ...closing, market: 'crypto' });

    // Assess
    expect(hold.cancels).toEqual([]);
    expect(after.orders.find((o) => o.clientOrderId === KILL_ID)?.status).toBe('accepted');
    expect(after.halt?.reason).toContain(
      `${Number(positionOf(before).toFixed(9))} shares left at the close, not flattened (no order is sent after the close), still working at the broker: ${KILL_ID}`,
    );
    expect(after.done).toBe(true);
  }, 120_000);
});
