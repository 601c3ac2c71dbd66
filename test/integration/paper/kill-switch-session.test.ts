/**
 * The kill switch engaged against a RUNNING paper session, through the use case the console,
 * the Slack command and the CLI call (`setKillSwitch`): the session ticks
 * (`tickPaperSession`) against the Alpaca paper adapter talking to the fake Alpaca on loopback
 * (partial fills keep an order open across ticks), with the shared session's LEAN bars, the
 * session-book registry and the audit trail. Engaging cancels the open orders by
 * client_order_id and sends the session's flatten at once; the session adopts that flatten
 * into its own book and sends no new entry; everything is in the audit trail. When the
 * flatten cannot be sent at engage (the registry fails), the failure is recorded and the
 * session still ends flat at its next tick (fail closed).
 *
 * One manual clock drives the fake, the adapter's sleeps and the session: nothing waits for
 * real time.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { LeanMarketData } from '../../../functions/adapters/market-data/lean-market-data.js';
import { parseCohortConfig } from '../../../functions/core/cohort/config.js';
import { isTerminalOrderStatus } from '../../../functions/core/orders/order.js';
import { DEFAULT_ACCOUNT_LIMITS } from '../../../functions/core/paper/account.js';
import {
  killSwitchFlattenOrderId,
  type PaperSessionState,
} from '../../../functions/core/paper/paper-session.js';
import {
  type KillSwitchDeps,
  setKillSwitch,
} from '../../../functions/core/use-cases/kill-switch.js';
import { accountKeyOf, type SessionBookRegistry } from '../../../functions/ports/session-books.js';
import { MemoryKillSwitch } from '../../support/doubles/memory-kill-switch.js';
import { paperSessionFixture } from '../../support/paper-session-fixture.js';
import {
  fakeAlpacaSession,
  payloadsOf as ofKind,
  positionOf,
  SLOW_FILLS,
} from '../../support/paper-tick.js';
import { type CloseSeries, loadSharedSession } from '../../support/shared-session.js';

const DATE = '2013-10-08';
const SYMBOLS = ['SPY', 'BAC', 'AIG', 'IBM'];
const KEY_ID = 'PKTESTKEYID0000000015';
const SECRET = 'fake-secret-for-kill-switch-tests';
const ACCOUNT = 'test';
const costs = parseCohortConfig({ bankrollUsd: 1_000 });

let marketData: LeanMarketData;
let genomes: PaperSessionState['genome'][];
let openMs: number;
let closes: Map<string, CloseSeries>;

beforeAll(async () => {
  ({ marketData, openMs, closes, genomes } = await loadSharedSession(DATE, SYMBOLS, 'c-kill'));
});

/** A session's tick at the fake Alpaca (orders fill slowly) with a switch the test engages. */
async function harness() {
  const killSwitch = new MemoryKillSwitch();
  const h = await fakeAlpacaSession({
    keyId: KEY_ID,
    secretKey: SECRET,
    startMs: openMs + 30 * 60_000,
    marketData,
    closes,
    fake: SLOW_FILLS,
    deps: { killSwitch, brokerAccount: ACCOUNT },
  });
  const killDeps = (books: SessionBookRegistry = h.sessionBooks): KillSwitchDeps => ({
    killSwitch,
    audit: h.audit,
    clock: h.clock,
    environment: 'local',
    broker: h.broker,
    flatten: { sessionBooks: books, account: accountKeyOf(h.broker.name, ACCOUNT) },
  });
  return { ...h, killSwitch, killDeps };
}

const isOpen = (o: PaperSessionState['orders'][number]) => !isTerminalOrderStatus(o.status);

/** Ticks until the session holds a position AND has an order open (partially filled). */
async function runToOpenPosition(h: Awaited<ReturnType<typeof harness>>, id: string) {
  const genome = genomes[0] as PaperSessionState['genome'];
  const start = paperSessionFixture({ promotionId: id, genome, date: DATE, openMs, costs });
  const s = await h.runUntil(
    { ...start, limits: { ...start.limits, account: DEFAULT_ACCOUNT_LIMITS } },
    (x) => positionOf(x) !== 0 && x.orders.some(isOpen),
  );
  expect(s.done).toBe(false);
  return s;
}

describe('kill switch against a running paper session (fake Alpaca on loopback)', () => {
  it('engaging cancels the open orders by client_order_id, flattens the position at once, records it all; no new entry after', async () => {
    // Prepare: a session holding a position with an order open
    const h = await harness();
    let s = await runToOpenPosition(h, 'PKILL0001');
    const openIds = s.orders.filter(isOpen).map((o) => o.clientOrderId);
    const ordersBefore = new Set(h.fake.orders().map((o) => o.clientOrderId));

    // Act: engage, as the console / Slack / CLI do
    const out = await setKillSwitch(h.killDeps(), {
      engaged: true,
      reason: 'operator: stop',
      by: 'slack:U-operator',
    });

    // Assess (at engage): open orders canceled by id, one flatten sent for the session
    expect(out.canceled).toEqual(expect.arrayContaining(openIds));
    for (const id of openIds) {
      const atBroker = h.fake.orders().find((o) => o.clientOrderId === id);
      expect(atBroker?.status).toBe('canceled');
    }
    const killId = killSwitchFlattenOrderId('PKILL0001');
    expect(out.flattened).toEqual([
      expect.objectContaining({ promotionId: 'PKILL0001', clientOrderId: killId }),
    ]);
    expect(out.flattenErrors).toEqual([]);
    // The flatten is sized on what the session holds at the broker (book + fills until cancel)
    const held = (await h.broker.listPositions()).find((p) => p.symbol === s.symbol)?.qty ?? 0;
    expect(held).not.toBe(0);
    const flattenOrder = h.fake.orders().find((o) => o.clientOrderId === killId);
    expect(out.flattened[0]?.side).toBe(held > 0 ? 'sell' : 'buy');
    expect(flattenOrder?.qty).toBeCloseTo(Math.abs(held), 9);

    // Engaging again sends nothing twice
    const again = await setKillSwitch(h.killDeps(), {
      engaged: true,
      reason: 'operator: stop again',
      by: 'slack:U-operator',
    });
    expect(h.fake.orders().filter((o) => o.clientOrderId === killId)).toHaveLength(1);
    expect(again.canceled).not.toContain(killId);

    // Act: the session keeps ticking to its end
    s = await h.runUntil(s);

    // Assess: flat on both sides; the session adopted the kill switch's flatten; no new entry
    expect(positionOf(s)).toBeCloseTo(0, 9);
    expect(await h.broker.listPositions()).toEqual([]);
    expect(await h.broker.listOpenOrders()).toEqual([]);
    expect(s.orders.find((o) => o.clientOrderId === killId)).toMatchObject({
      reason: 'flatten',
      status: 'filled',
    });
    expect(s.halt).toEqual({
      mode: 'flatten',
      reason: 'kill switch engaged: operator: stop again',
    });
    const after = h.fake.orders().filter((o) => !ordersBefore.has(o.clientOrderId));
    const byId = new Map(s.orders.map((o) => [o.clientOrderId, o]));
    for (const o of after) expect(byId.get(o.clientOrderId)?.reason).toBe('flatten');

    // Assess: the audit trail
    const records = h.audit.records();
    expect(ofKind(records, 'kill_switch_changed')[0]).toMatchObject({
      engaged: true,
      reason: 'operator: stop',
    });
    const cancels = ofKind(records, 'order_status_changed').filter(
      (p) => p.reason === 'kill switch engaged',
    );
    expect(cancels.map((p) => p.client_order_id)).toEqual(expect.arrayContaining(openIds));
    expect(ofKind(records, 'order_intent').map((p) => p.client_order_id)).toContain(killId);
    const halt = ofKind(records, 'rollback').find((p) => p.action === 'halt');
    expect(halt).toMatchObject({
      reason: 'operator: stop',
      canceled_orders: expect.arrayContaining(openIds),
      flattened: [expect.objectContaining({ promotion_id: 'PKILL0001', client_order_id: killId })],
      flatten_errors: [],
    });
    expect(ofKind(records, 'paper_decision').some((p) => p.action === 'halted')).toBe(true);
  }, 300_000);

  it('fail closed: when the flatten cannot be sent at engage, the failure is recorded and the session flattens at its next tick', async () => {
    // Prepare
    const h = await harness();
    let s = await runToOpenPosition(h, 'PKILL0002');
    const broken: SessionBookRegistry = {
      save: async () => {},
      list: async () => {
        throw new Error('session-book registry unreachable');
      },
    };

    // Act
    const out = await setKillSwitch(h.killDeps(broken), {
      engaged: true,
      reason: 'registry down',
      by: 'slack:U-operator',
    });
    s = await h.runUntil(s);

    // Assess
    expect(out.flattened).toEqual([]);
    expect(out.flattenErrors).toEqual([
      { promotionId: '*', error: 'session-book registry unreachable' },
    ]);
    const halt = ofKind(h.audit.records(), 'rollback').find((p) => p.action === 'halt');
    expect(halt?.flatten_errors).toEqual([
      { promotion_id: '*', error: 'session-book registry unreachable' },
    ]);
    expect(positionOf(s)).toBeCloseTo(0, 9);
    expect(await h.broker.listPositions()).toEqual([]);
    expect(s.orders.some((o) => o.clientOrderId === killSwitchFlattenOrderId('PKILL0002'))).toBe(
      false,
    );
    const signalsAfter = s.orders.filter(
      (o) => o.reason === 'signal' && o.submittedAtMs > Date.parse(out.state.changedAtIso),
    );
    expect(signalsAfter).toEqual([]);
  }, 300_000);
});
