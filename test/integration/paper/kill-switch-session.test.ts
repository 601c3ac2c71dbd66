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
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LeanMarketData } from '../../../functions/adapters/market-data/lean-market-data.js';
import type { AuditRecord } from '../../../functions/core/audit/record.js';
import { parseCohortConfig } from '../../../functions/core/cohort/config.js';
import { isTerminalOrderStatus } from '../../../functions/core/orders/order.js';
import { DEFAULT_ACCOUNT_LIMITS } from '../../../functions/core/paper/account.js';
import {
  killSwitchFlattenOrderId,
  type PaperSessionState,
  sessionBook,
} from '../../../functions/core/paper/paper-session.js';
import {
  type KillSwitchDeps,
  setKillSwitch,
} from '../../../functions/core/use-cases/kill-switch.js';
import {
  type PaperSessionDeps,
  tickPaperSession,
} from '../../../functions/core/use-cases/paper-session.js';
import { ManualClock } from '../../../functions/ports/clock.js';
import type { KillSwitchPort, KillSwitchState } from '../../../functions/ports/kill-switch.js';
import { accountKeyOf, type SessionBookRegistry } from '../../../functions/ports/session-books.js';
import { MemoryAuditSink } from '../../support/doubles/memory-audit-sink.js';
import { MemorySessionBooks } from '../../support/doubles/memory-session-books.js';
import type { FakeAlpaca } from '../../support/fake-alpaca/server.js';
import { paperSessionFixture } from '../../support/paper-session-fixture.js';
import {
  type CloseSeries,
  closeAt,
  loadSharedSession,
  startFakeAlpacaBroker,
  TEST_PAPER_SESSION_CONFIG,
  TEST_PROMOTION_CONFIG,
} from '../../support/shared-session.js';

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

let fake: FakeAlpaca | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

/** The switch as its store keeps it (the DynamoDB adapter's contract, in memory). */
class MemoryKillSwitch implements KillSwitchPort {
  state: KillSwitchState | null = null;
  async read() {
    return this.state;
  }
  async set(state: KillSwitchState) {
    this.state = state;
  }
}

async function harness() {
  const clock = new ManualClock(openMs + 30 * 60_000);
  const sleep = async (ms: number) => {
    clock.advance(ms);
  };
  // Every order fills 10 % on each of six reads, then the rest: an order stays open a while.
  const started = await startFakeAlpacaBroker({
    keyId: KEY_ID,
    secretKey: SECRET,
    clock,
    sleep,
    timeoutMs: 30_000,
    fake: {
      priceOf: (symbol) => closeAt(closes, symbol, clock.now()),
      statusSchedule: ['new', ...Array<string>(6).fill('partially_filled'), 'filled'],
      partialFillFraction: 0.1,
    },
  });
  fake = started.fake;
  const broker = started.broker;
  const audit = new MemoryAuditSink(clock);
  const sessionBooks = new MemorySessionBooks();
  const killSwitch = new MemoryKillSwitch();
  const deps = {
    clock,
    marketData,
    killSwitch,
    audit,
    environment: 'local',
    brokerAt: () => broker,
    brokerAccount: ACCOUNT,
    sessionBooks,
    promotionConfig: TEST_PROMOTION_CONFIG,
    paperSession: TEST_PAPER_SESSION_CONFIG,
  } as unknown as PaperSessionDeps;
  const killDeps = (books: SessionBookRegistry = sessionBooks): KillSwitchDeps => ({
    killSwitch,
    audit,
    clock,
    environment: 'local',
    broker,
    flatten: { sessionBooks: books, account: accountKeyOf(broker.name, ACCOUNT) },
  });
  const tick = async (state: PaperSessionState) => {
    const next = (await tickPaperSession(deps, { state })).state;
    clock.set((Math.floor(clock.now() / 60_000) + 1) * 60_000 + 1_000);
    return next;
  };
  return { fake: started.fake, broker, clock, audit, killSwitch, killDeps, tick };
}

const positionOf = (s: PaperSessionState) => sessionBook(s).positions[s.symbol]?.qty ?? 0;
const isOpen = (o: PaperSessionState['orders'][number]) => !isTerminalOrderStatus(o.status);
// biome-ignore lint/suspicious/noExplicitAny: assertions read arbitrary payload fields
type Payload = Record<string, any>;
const ofKind = (records: readonly AuditRecord[], kind: AuditRecord['kind']) =>
  records.filter((r) => r.kind === kind).map((r) => JSON.parse(r.payload) as Payload);

/** Ticks until the session holds a position AND has an order open (partially filled). */
async function runToOpenPosition(h: Awaited<ReturnType<typeof harness>>, id: string) {
  const genome = genomes[0] as PaperSessionState['genome'];
  let s = paperSessionFixture({ promotionId: id, genome, date: DATE, openMs, costs });
  s = { ...s, limits: { ...s.limits, account: DEFAULT_ACCOUNT_LIMITS } };
  while (!s.done && !(positionOf(s) !== 0 && s.orders.some(isOpen))) s = await h.tick(s);
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
    while (!s.done) s = await h.tick(s);

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
    while (!s.done) s = await h.tick(s);

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
