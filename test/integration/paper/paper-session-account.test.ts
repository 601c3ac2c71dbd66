/**
 * The paper session's tick (the workflow step `tickPaperSession`) against the real local
 * parts: the Alpaca paper adapter talking to the fake Alpaca server on loopback
 * (`test/support/fake-alpaca/server.ts`) or the simulated broker, the LEAN market data of a
 * shared session, the session-book registry and the audit trail. Covers what a live session
 * meets at the broker: partial fills across ticks, a rejected order, HTTP 429 mid-session,
 * the pattern-day-trader count of an account under $25,000, two sessions on one account
 * under the account's exposure limit, and the reconciliation of the sum of the sessions'
 * books against the account when the broker holds more or less than they booked.
 *
 * The fake's clock, the adapter's sleeps and the session share one manual clock: no test
 * waits for real time or races a timer.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { LeanMarketData } from '../../../functions/adapters/market-data/lean-market-data.js';
import type { AuditRecord } from '../../../functions/core/audit/record.js';
import { parseCohortConfig } from '../../../functions/core/cohort/config.js';
import { isTerminalOrderStatus } from '../../../functions/core/orders/order.js';
import {
  type AccountLimits,
  DEFAULT_ACCOUNT_LIMITS,
} from '../../../functions/core/paper/account.js';
import {
  type PaperSessionState,
  sessionBook,
} from '../../../functions/core/paper/paper-session.js';
import { recoverPaperSession } from '../../../functions/core/use-cases/paper-session-recovery.js';
import { ManualClock } from '../../../functions/ports/clock.js';
import type { FakeAlpacaOptions } from '../../support/fake-alpaca/server.js';
import { paperSessionFixture } from '../../support/paper-session-fixture.js';
import {
  fakeAlpacaSession,
  nextTickMs,
  type Payload,
  paperTickRunner,
  positionOf,
  testSimulatedBroker,
} from '../../support/paper-tick.js';
import { type CloseSeries, closeAt, loadSharedSession } from '../../support/shared-session.js';

const DATE = '2013-10-08';
const SYMBOLS = ['SPY', 'BAC', 'AIG', 'IBM'];
const KEY_ID = 'PKTESTKEYID0000000011';
const SECRET = 'fake-secret-for-paper-session-tests';
const ACCOUNT = 'test';
const costs = parseCohortConfig({ bankrollUsd: 1_000 });

let marketData: LeanMarketData;
/** The most active genomes of a cohort on the shared session, most trades first. */
let genomes: PaperSessionState['genome'][];
let openMs: number;
let closes: Map<string, CloseSeries>;

beforeAll(async () => {
  ({ marketData, openMs, closes, genomes } = await loadSharedSession(DATE, SYMBOLS, 'c-account'));
});

/** A session of `genome` with account limits; capital `capitalUsd`. */
function session(
  promotionId: string,
  genome: PaperSessionState['genome'],
  account: AccountLimits | undefined,
  capitalUsd = 100,
): PaperSessionState {
  const s = paperSessionFixture({ promotionId, genome, date: DATE, openMs, costs });
  return {
    ...s,
    capitalUsd,
    limits: {
      ...s.limits,
      maxOrderNotionalUsd: 10 * capitalUsd,
      ...(account ? { account } : {}),
    },
  };
}

/** A session's tick at the fake Alpaca on `options`. */
const alpacaHarness = (options: Partial<FakeAlpacaOptions> = {}) =>
  fakeAlpacaSession({
    keyId: KEY_ID,
    secretKey: SECRET,
    startMs: openMs + 30 * 60_000,
    marketData,
    closes,
    fake: options,
    deps: { brokerAccount: ACCOUNT },
  });

/** Payloads (parsed) of the records of `kind`, in order. */
const ofKind = (records: readonly AuditRecord[], kind: AuditRecord['kind']) =>
  records
    .filter((r) => r.kind === kind)
    .map((r) => ({ subject: r.subject, payload: JSON.parse(r.payload) as Payload }));

describe('paper session at the fake Alpaca', () => {
  it('books partial fills across ticks: the session book equals the broker position at every tick', async () => {
    // Prepare: each order fills 40 %, then 40 %, then the rest, one step per broker read
    const h = await alpacaHarness({
      statusSchedule: ['new', 'partially_filled', 'partially_filled', 'filled'],
      partialFillFraction: 0.4,
    });
    const genome = genomes[0] as PaperSessionState['genome'];
    let s = session('PPARTIAL1', genome, DEFAULT_ACCOUNT_LIMITS);

    // Act
    const partialBooks: number[] = [];
    const mismatches: string[] = [];
    while (!s.done) {
      s = await h.step(s);
      // The broker's position as of the session's last read of its orders: the fake fills on
      // reads, so compare only when nothing is open (no fill can have happened since).
      if (s.orders.every((o) => isTerminalOrderStatus(o.status))) {
        const positions = await h.broker.listPositions();
        const brokerQty = positions.find((p) => p.symbol === s.symbol)?.qty ?? 0;
        if (Math.abs(brokerQty - positionOf(s)) > 1e-6)
          mismatches.push(
            `${new Date(h.clock.now()).toISOString()}: ${brokerQty} vs ${positionOf(s)}`,
          );
      }
      if (s.orders.some((o) => o.status === 'partially_filled')) partialBooks.push(positionOf(s));
      h.clock.set(nextTickMs(h.clock.now()));
    }

    // Assess
    expect(partialBooks.some((q) => q !== 0)).toBe(true);
    expect(mismatches).toEqual([]);
    const changes = ofKind(h.audit.records(), 'order_status_changed').map((r) => r.payload.status);
    expect(changes).toContain('partially_filled');
    expect(changes).toContain('filled');
    // Flat at the close, on both sides
    expect(positionOf(s)).toBeCloseTo(0, 9);
    expect(await h.broker.listPositions()).toEqual([]);
  }, 300_000);

  it('records a rejected order with the broker reason and keeps trading the session', async () => {
    // Prepare: the first order is refused (403 insufficient buying power)
    const h = await alpacaHarness();
    h.fake.inject({
      method: 'POST',
      path: '/v2/orders',
      status: 403,
      body: JSON.stringify({ code: 40310000, message: 'insufficient buying power' }),
    });
    const genome = genomes[0] as PaperSessionState['genome'];

    // Act
    const s = await h.runUntil(session('PREJECT1', genome, DEFAULT_ACCOUNT_LIMITS));

    // Assess
    const rejected = s.orders.filter((o) => o.status === 'rejected');
    expect(rejected).toHaveLength(1);
    expect(rejected[0]?.rejectReason).toMatch(/insufficient buying power/);
    const rejectedAudit = ofKind(h.audit.records(), 'order_status_changed').filter(
      (r) => r.payload.status === 'rejected',
    );
    expect(rejectedAudit.map((r) => r.subject.order_id)).toEqual([rejected[0]?.clientOrderId]);
    expect(s.orders.filter((o) => o.status === 'filled').length).toBeGreaterThan(0);
    expect(await h.broker.listPositions()).toEqual([]);
  }, 300_000);

  it('rides out HTTP 429 mid-session: one order per client_order_id, the session ends flat', async () => {
    // Prepare: let the session trade, then answer the next submit and the next read with 429
    const h = await alpacaHarness();
    const genome = genomes[0] as PaperSessionState['genome'];
    let s = await h.runUntil(session('P429A1', genome, DEFAULT_ACCOUNT_LIMITS), (x) =>
      x.orders.some((o) => o.status === 'filled'),
    );
    h.fake.inject(
      { method: 'POST', path: '/v2/orders', status: 429, headers: { 'Retry-After': '2' } },
      { method: 'GET', path: '/v2/orders', status: 429, headers: { 'Retry-After': '1' } },
    );

    // Act
    s = await h.runUntil(s);

    // Assess
    expect(h.fake.requests.filter((r) => r.status === 429).length).toBe(2);
    const created = h.fake.orders().map((o) => o.clientOrderId);
    expect(new Set(created).size).toBe(created.length);
    expect([...created].sort()).toEqual(
      s.orders
        .filter((o) => !(o.status === 'rejected' && o.rejectReason?.startsWith('pre-trade')))
        .map((o) => o.clientOrderId)
        .sort(),
    );
    expect(s.orders.length).toBeGreaterThan(2);
    expect(await h.broker.listPositions()).toEqual([]);
  }, 300_000);

  it('pattern-day-trader count: under $25,000 with 3 day trades, no position is opened; the refusal is audited', async () => {
    // Prepare: a $20,000 account that already made 3 day trades this week
    const h = await alpacaHarness({ cashUsd: 20_000, dayTradeCount: 3 });
    const genome = genomes[0] as PaperSessionState['genome'];

    // Act
    const s = await h.runUntil(session('PPDT0001', genome, DEFAULT_ACCOUNT_LIMITS));

    // Assess
    expect(h.fake.count('POST', '/v2/orders')).toBe(0);
    const refused = s.orders.filter((o) =>
      o.rejectReason?.startsWith('pre-trade: pattern-day-trader'),
    );
    expect(refused.length).toBeGreaterThan(0);
    const audited = ofKind(h.audit.records(), 'paper_decision').flatMap(
      (r) => (r.payload.refused as { client_order_id: string; reason: string }[] | undefined) ?? [],
    );
    expect(audited.map((x) => x.client_order_id)).toEqual(refused.map((o) => o.clientOrderId));
    // Every decision names the session config and the data (bars, state) it rested on
    const decisions = ofKind(h.audit.records(), 'paper_decision');
    expect(decisions.length).toBeGreaterThan(0);
    for (const d of decisions) {
      expect(d.payload.provenance).toMatchObject({
        config_hash: expect.stringMatching(/^[0-9a-f]{64}$/),
        data_hash: expect.stringMatching(/^[0-9a-f]{64}$/),
      });
    }
    const configs = new Set(
      decisions.map((d) => (d.payload.provenance as { config_hash: string }).config_hash),
    );
    const data = new Set(
      decisions.map((d) => (d.payload.provenance as { data_hash: string }).data_hash),
    );
    expect(configs.size).toBe(1); // one session, one config
    expect(data.size).toBe(decisions.length); // each decision read other bars or state
  }, 300_000);

  it('pattern-day-trader count: with 2 day trades, one round trip is allowed and then entries stop', async () => {
    // Prepare
    const h = await alpacaHarness({ cashUsd: 20_000, dayTradeCount: 2 });
    const genome = genomes[0] as PaperSessionState['genome'];

    // Act
    const s = await h.runUntil(session('PPDT0002', genome, DEFAULT_ACCOUNT_LIMITS));

    // Assess: every order sent opened from flat at most once while the count allowed it
    const sent = s.orders.filter((o) => !o.rejectReason?.startsWith('pre-trade'));
    expect(sent.length).toBeGreaterThan(0);
    expect(s.orders.some((o) => o.rejectReason?.startsWith('pre-trade: pattern-day-trader'))).toBe(
      true,
    );
    let position = 0;
    let opensFromFlat = 0;
    for (const o of sent) {
      if (Math.abs(position) < 1e-9 && o.filledQty > 0) opensFromFlat++;
      position += o.side === 'buy' ? o.filledQty : -o.filledQty;
    }
    expect(opensFromFlat).toBe(1);
    expect(await h.broker.listPositions()).toEqual([]);
  }, 300_000);
});

describe('sessions sharing one account', () => {
  function simulatedHarness(startingCashUsd: number) {
    const clock = new ManualClock(openMs + 30 * 60_000);
    const broker = testSimulatedBroker({
      clock,
      marketData,
      startingCashUsd,
      buyingPowerMultiplier: 2,
    });
    return { broker, ...paperTickRunner({ clock, broker, marketData, brokerAccount: ACCOUNT }) };
  }

  it('two sessions never take the account above its exposure limit; the refusals are audited', async () => {
    // Prepare: two sessions of $30,000 each on a $50,000 account whose limit is 0.5 × equity
    const limits: AccountLimits = { ...DEFAULT_ACCOUNT_LIMITS, maxGrossExposureFraction: 0.5 };
    const h = simulatedHarness(50_000);
    let a = session('PTWOA001', genomes[0] as PaperSessionState['genome'], limits, 30_000);
    let b = session('PTWOB001', genomes[1] as PaperSessionState['genome'], limits, 30_000);

    // Act: both tick every minute, like two executions of the workflow
    let peak = 0;
    const samples: { gross: number; equity: number }[] = [];
    while (!a.done || !b.done) {
      if (!a.done) a = await h.step(a);
      if (!b.done) b = await h.step(b);
      const account = await h.broker.getAccount();
      const open = await h.broker.listOpenOrders();
      const pendingOpen = open.reduce(
        (s, o) => s + (o.qty - o.filledQty) * closeAt(closes, o.symbol, h.clock.now()),
        0,
      );
      samples.push({
        gross: (account.grossExposureUsd ?? 0) + pendingOpen,
        equity: account.equityUsd,
      });
      peak = Math.max(peak, (account.grossExposureUsd ?? 0) / account.equityUsd);
      h.clock.set(nextTickMs(h.clock.now()));
    }

    // Assess: the limit bound (some entries were refused) and was never crossed by an order
    // (a mark move of a held position may drift it by a few bps)
    const refusals = [...a.orders, ...b.orders].filter((o) =>
      o.rejectReason?.startsWith('pre-trade: account exposure limit'),
    );
    expect(refusals.length).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(0.5 * 1.01);
    expect(samples.length).toBeGreaterThan(300);
    const audited = ofKind(h.audit.records(), 'paper_decision').flatMap(
      (r) => (r.payload.refused as { client_order_id: string }[] | undefined) ?? [],
    );
    expect(audited.map((x) => x.client_order_id).sort()).toEqual(
      refusals.map((o) => o.clientOrderId).sort(),
    );
    // Each session traded (the limit shares the account, it does not starve one session)
    expect(a.orders.some((o) => o.status === 'filled')).toBe(true);
    expect(b.orders.some((o) => o.status === 'filled')).toBe(true);
    expect(await h.broker.listPositions()).toEqual([]);
  }, 300_000);

  it('the session-book registry holds the book after every tick, written only on the ticks that change it', async () => {
    // Prepare: count the registry writes
    const h = simulatedHarness(50_000);
    let saves = 0;
    const save = h.sessionBooks.save.bind(h.sessionBooks);
    h.sessionBooks.save = async (account, snapshot) => {
      saves++;
      await save(account, snapshot);
    };
    let s = session('PBOOK0001', genomes[0] as PaperSessionState['genome'], undefined, 30_000);

    // Act: tick every minute to the close; after each tick read the registry back
    let ticks = 0;
    const stale: string[] = [];
    while (!s.done) {
      s = await h.step(s);
      ticks++;
      const [stored] = await h.sessionBooks.list(`simulated:${ACCOUNT}`, DATE);
      const open = s.orders.filter((o) => !isTerminalOrderStatus(o.status));
      const book = sessionBook(s).positions[s.symbol];
      if (
        stored === undefined ||
        Math.abs(stored.qty - (book?.qty ?? 0)) > 1e-9 ||
        Math.abs(stored.avgPriceUsd - (book?.avgPriceUsd ?? 0)) > 1e-9 ||
        stored.done !== s.done ||
        stored.open.map((o) => o.clientOrderId).join() !== open.map((o) => o.clientOrderId).join()
      )
        stale.push(`tick ${ticks}: ${JSON.stringify(stored)}`);
      h.clock.set(nextTickMs(h.clock.now()));
    }

    // Assess: never stale, the last snapshot is the finished session, and the idle minutes
    // (no fill, no open order, same position) wrote nothing
    expect(stale).toEqual([]);
    expect(s.orders.some((o) => o.status === 'filled')).toBe(true);
    expect(ticks).toBeGreaterThan(300);
    expect(saves).toBeGreaterThan(1);
    expect(saves).toBeLessThan(ticks / 2);
  }, 300_000);

  it('the same two sessions without the account limit go above it (the test can fail)', async () => {
    // Prepare
    const h = simulatedHarness(50_000);
    let a = session('PTWOA002', genomes[0] as PaperSessionState['genome'], undefined, 30_000);
    let b = session('PTWOB002', genomes[1] as PaperSessionState['genome'], undefined, 30_000);

    // Act
    let peak = 0;
    while (!a.done || !b.done) {
      if (!a.done) a = await h.step(a);
      if (!b.done) b = await h.step(b);
      const account = await h.broker.getAccount();
      peak = Math.max(peak, (account.grossExposureUsd ?? 0) / account.equityUsd);
      h.clock.set(nextTickMs(h.clock.now()));
    }

    // Assess
    expect(peak).toBeGreaterThan(0.5 * 1.01);
  }, 300_000);
});

describe('reconciliation of the sessions against the account', () => {
  for (const [name, fraction, kind] of [
    ['larger', 0.5, 'broker_larger'],
    ['smaller', -0.5, 'broker_smaller'],
  ] as const) {
    it(`the broker holds ${name} than the sessions booked: an account reconciliation alarm, the session goes reduce-only`, async () => {
      // Prepare: a session holding a position; someone else trades the same symbol on the account
      const h = await alpacaHarness();
      const genome = genomes[0] as PaperSessionState['genome'];
      let s = await h.runUntil(
        session(`PREC${name.toUpperCase()}`, genome, DEFAULT_ACCOUNT_LIMITS),
        (x) => positionOf(x) !== 0 && x.orders.every((o) => isTerminalOrderStatus(o.status)),
      );
      const held = positionOf(s);
      expect(held).not.toBe(0);
      h.fake.bookOutside(s.symbol, held * fraction, closeAt(closes, s.symbol, h.clock.now()));

      // Act: to the close (the account is reconciled every few minutes and at every fill)
      s = await h.runUntil(s);

      // Assess
      const alarms = ofKind(h.audit.records(), 'reconciliation').filter(
        (r) => r.payload.clean === false && r.payload.scope === 'account',
      );
      expect(alarms.length).toBeGreaterThan(0);
      const first = (alarms[0]?.payload.discrepancies ?? [])[0];
      expect(first).toMatchObject({ kind, symbol: s.symbol, bookQty: held });
      expect(first?.brokerQty).toBeCloseTo(held * (1 + fraction), 6);
      expect(first?.promotionIds).toEqual([s.promotionId]);
      expect(s.halt?.mode).toBe('reduce-only');
      expect(s.halt?.reason).toMatch(/^reconciliation: /);
    }, 300_000);
  }

  it('flags an average price that disagrees with the broker while the quantities agree', async () => {
    // Prepare: a session holding a position, and a broker whose average entry moved
    const h = await alpacaHarness();
    const genome = genomes[0] as PaperSessionState['genome'];
    let s = await h.runUntil(
      session('PRECAVG1', genome, DEFAULT_ACCOUNT_LIMITS),
      (x) => positionOf(x) !== 0 && x.orders.every((o) => isTerminalOrderStatus(o.status)),
    );
    const held = positionOf(s);
    const mark = closeAt(closes, s.symbol, h.clock.now());
    // Another client buys and sells the same quantity at different prices: qty unchanged,
    // the broker's average entry is no longer the session's
    h.fake.bookOutside(s.symbol, held, mark * 1.2);
    h.fake.bookOutside(s.symbol, -held, mark);

    // Act
    s = await h.runUntil(s);

    // Assess
    const kinds = ofKind(h.audit.records(), 'reconciliation')
      .filter((r) => r.payload.scope === 'account')
      .flatMap((r) => (r.payload.discrepancies as { kind: string }[]).map((d) => d.kind));
    expect(kinds).toContain('avg_price_mismatch');
    expect(s.halt?.mode).toBe('reduce-only');
  }, 300_000);
});

/**
 * A session at the fake Alpaca (orders answer `statusSchedule`) ticked until it holds a fill
 * and has an order open, then abandoned (its execution died): the session, its promotion as
 * the crash sweeper reads it, and the sweeper's dependencies.
 */
async function abandonedSession(statusSchedule: readonly string[], promotionId: string) {
  const h = await alpacaHarness({ statusSchedule });
  const s = await h.runUntil(
    session(promotionId, genomes[0] as PaperSessionState['genome'], DEFAULT_ACCOUNT_LIMITS),
    (x) =>
      x.orders.some((o) => o.status === 'filled') &&
      x.orders.some((o) => !isTerminalOrderStatus(o.status)),
  );
  const p = {
    promotionId: s.promotionId,
    broker: `alpaca-paper:${ACCOUNT}`,
    stagedAtIso: new Date(s.startedAtMs).toISOString(),
  };
  const sweeperDeps = {
    sessionBooks: h.sessionBooks,
    audit: h.audit,
    environment: 'local' as const,
  };
  return { h, s, p, sweeperDeps };
}

describe('the crash sweeper and an abandoned paper session', () => {
  it('cancels its open orders by client_order_id, flattens what it holds once, and records it', async () => {
    // Prepare: orders stay open for a few reads; the session holds a position and has an
    // order open when its execution dies
    const { h, s, p, sweeperDeps } = await abandonedSession(['new', 'new', 'filled'], 'PABANDON1');
    const open = s.orders.filter((o) => !isTerminalOrderStatus(o.status));
    expect(open.length).toBeGreaterThan(0);

    // Act: two sweeps (the second finds the session settled)
    const first = await recoverPaperSession(sweeperDeps, p, h.broker, h.clock.now());
    const second = await recoverPaperSession(sweeperDeps, p, h.broker, h.clock.now());

    // Assess: every open order was asked about and is terminal at the broker
    expect(first?.orders.map((o) => o.clientOrderId).sort()).toEqual(
      open.map((o) => o.clientOrderId).sort(),
    );
    for (const o of open) {
      const atBroker = await h.broker.getOrderByClientOrderId(o.clientOrderId);
      expect(isTerminalOrderStatus(atBroker?.status ?? 'canceled')).toBe(true);
    }
    // One flatten for what the session held after settling, never a second
    const held = (await h.broker.listPositions()).find((x) => x.symbol === s.symbol)?.qty ?? 0;
    expect(first?.flatten).not.toBeNull();
    expect(first?.positionQty).not.toBe(0);
    const flattens = h.fake
      .orders()
      .filter((o) => o.clientOrderId === first?.flatten?.clientOrderId);
    expect(flattens).toHaveLength(1);
    expect(flattens[0]?.qty).toBeCloseTo(Math.abs(first?.positionQty ?? 0), 6);
    expect(second).toBeNull();
    // The flatten fills on its next read: the account is then flat
    for (let read = 0; read < 3; read++)
      await h.broker.getOrderByClientOrderId(first?.flatten?.clientOrderId ?? '');
    expect(held).not.toBe(0);
    expect(await h.broker.listPositions()).toEqual([]);
    // Recorded: the intent before the flatten, and the session's reconciliation
    const kinds = h.audit.records().map((r) => r.kind);
    expect(kinds).toContain('order_intent');
    const rec = ofKind(h.audit.records(), 'reconciliation').filter(
      (r) => r.payload.scope === 'session',
    );
    expect(rec).toHaveLength(1);
    expect(rec[0]?.payload.discrepancies[0]).toMatchObject({
      kind: 'abandoned_position',
      symbol: s.symbol,
    });
  }, 300_000);

  it('two sweeps racing on one abandoned session (both read its orders before either acts): each order settled and recorded once, one session reconciliation', async () => {
    // Prepare: as above, an abandoned session holding a position with an order open
    const { h, s, p, sweeperDeps } = await abandonedSession(
      ['new', 'new', 'new', 'new', 'filled'],
      'PABANDON2',
    );
    // Each sweep's first broker lookup waits for the other's: both have read the session's
    // book before either settles anything (a deterministic interleaving, no timing)
    let arrived = 0;
    let release: () => void = () => undefined;
    const both = new Promise<void>((resolve) => {
      release = resolve;
    });
    const waiting = (): typeof h.broker =>
      Object.assign(Object.create(h.broker) as typeof h.broker, {
        getOrderByClientOrderId: async (id: string) => {
          arrived += 1;
          if (arrived === 2) release();
          await both;
          return h.broker.getOrderByClientOrderId(id);
        },
      });

    // Act
    const [a, b] = await Promise.all([
      recoverPaperSession(sweeperDeps, p, waiting(), h.clock.now()),
      recoverPaperSession(sweeperDeps, p, waiting(), h.clock.now()),
    ]);

    const mine = () =>
      h.audit
        .records()
        .filter(
          (r) =>
            r.stream === `promotion:${s.promotionId}` && r.actor === 'stagegate/in-flight-recovery',
        );
    // Assess: both sweeps settle the same orders (the loser's cancel finds the winner's
    // answer instead of failing); one record per settled order and one session reconciliation
    const changed = ofKind(mine(), 'order_status_changed').map((r) => r.payload.client_order_id);
    expect(changed.length).toBeGreaterThan(0);
    expect(new Set(changed).size).toBe(changed.length);
    expect(b?.orders).toEqual(a?.orders);
    expect(b?.positionQty).toBe(a?.positionQty);
    expect(
      ofKind(mine(), 'reconciliation').filter((r) => r.payload.scope === 'session'),
    ).toHaveLength(1);
    const flattens = h.fake.orders().filter((o) => o.clientOrderId.includes('recovflat'));
    expect(flattens.length).toBeLessThanOrEqual(1);
  }, 300_000);
});
