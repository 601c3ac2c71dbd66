/**
 * Intent before effect and crash recovery (functions/core/orders/order-intent.ts,
 * functions/core/use-cases/recover-in-flight.ts) against ONE persistent fake Alpaca paper
 * account: a crash between `order_intent` and the broker call, a crash after the broker
 * accepted, the sweeper reconciling both by client_order_id, and reruns for the same candidate
 * and session that never place a second entry.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlpacaPaperBroker } from '../../functions/adapters/brokers/alpaca-paper-broker.js';
import { buildPromotionDeps, inFlightWorkflows } from '../../functions/composition/promotion.js';
import { clientOrderId } from '../../functions/core/orders/client-order-id.js';
import { closeGtcOrdersPastTheirDay } from '../../functions/core/use-cases/gtc-day-close.js';
import { evaluatePromotionGates } from '../../functions/core/use-cases/promotion-gates.js';
import {
  pollPromotionOrders,
  submitPromotionOrders,
} from '../../functions/core/use-cases/promotion-orders.js';
import {
  type PromotionRecoveryDeps,
  recoverPromotion,
} from '../../functions/core/use-cases/promotion-recovery.js';
import { stagePromotion } from '../../functions/core/use-cases/promotion-stage.js';
import { sweepInFlight } from '../../functions/core/use-cases/recover-in-flight.js';
import type { BrokerPort } from '../../functions/ports/broker.js';
import { ManualClock } from '../../functions/ports/clock.js';
import { accountKeyOf } from '../../functions/ports/session-books.js';
import { type LocalStack, startLocalStack } from '../../local/local-stack.js';
import { readAuditObjects } from '../support/audit.js';
import { runTestCohort } from '../support/cohort.js';
import type { FakeAlpaca } from '../support/fake-alpaca/server.js';
import { DATA_ROOT } from '../support/paths.js';
import { type FakeAlpacaBrokerOptions, startFakeAlpacaBroker } from '../support/shared-session.js';

const KEY_ID = 'PKTESTKEYID0000000002';
const SECRET = 'recovery-test-secret-0000';

let stack: LocalStack;
let fake: FakeAlpaca;
let alpaca: AlpacaPaperBroker;
let cohortId: string;

beforeAll(async () => {
  stack = await startLocalStack({ dataRoot: DATA_ROOT, stateDir: 'memory', logLevel: 'SILENT' });
  const clock = new ManualClock(Date.UTC(2013, 9, 8, 14));
  const sleep = async (ms: number) => {
    clock.advance(ms);
  };
  // One account for the whole file: it keeps every order it ever accepted.
  ({ fake, broker: alpaca } = await startFakeAlpacaBroker({
    keyId: KEY_ID,
    secretKey: SECRET,
    clock,
    sleep,
    timeoutMs: 30_000,
  }));
  cohortId = await runTestCohort(stack, {
    sessionDate: '2013-10-07',
    executionName: 'it-recovery-cohort',
  });
});

afterAll(async () => {
  await fake?.close();
  await stack?.stop();
});

/** The pipeline's deps with the fake Alpaca account as the broker. */
function alpacaDeps(broker: BrokerPort = alpaca): PromotionRecoveryDeps {
  const deps = buildPromotionDeps(stack.runtime);
  return { ...deps, brokerAt: () => broker, brokerFor: () => alpaca };
}

/** A broker whose process dies around the real submit (`before` or `after` the broker call). */
function crashing(when: 'before' | 'after'): BrokerPort {
  const wrapped: BrokerPort = Object.create(alpaca) as BrokerPort;
  return Object.assign(wrapped, {
    name: alpaca.name,
    submitOrder: async (req: Parameters<BrokerPort['submitOrder']>[0]) => {
      if (when === 'after') await alpaca.submitOrder(req);
      throw new Error(`process killed ${when} the broker call`);
    },
  });
}

/** The `order_status_changed` records of a promotion (one `recordOrderStatus` writes them all). */
async function statusChanges(promotionId: string) {
  return (await readAuditObjects(stack.servers.s3Endpoint))
    .filter((r) => r.stream === `promotion:${promotionId}` && r.kind === 'order_status_changed')
    .map((r) => ({ ...r, payload: JSON.parse(String(r.payload)) as Record<string, unknown> }));
}

async function kindsOf(promotionId: string): Promise<string[]> {
  return (await readAuditObjects(stack.servers.s3Endpoint))
    .filter((r) => r.stream === `promotion:${promotionId}`)
    .map((r) => String(r.kind));
}

const entriesAtBroker = (promotionId: string) =>
  fake.orders().filter((o) => o.clientOrderId.includes(promotionId));

/** Stages and gates a promotion of the cohort's best candidate at `nowIso` (the stack's clock). */
async function stageAndGate(deps: PromotionRecoveryDeps, nowIso: string, name: string) {
  stack.clock.set(Date.parse(nowIso));
  const staged = await stagePromotion(deps, {
    request: { source: 'test', cohortId },
    executionName: name,
    executionId: `arn:local:${name}`,
  });
  if (staged.skipped) throw new Error(`not staged: ${staged.reason}`);
  const gates = await evaluatePromotionGates(deps, { promotion: staged.promotion });
  expect(gates.passed).toBe(true);
  expect(gates.plan.length).toBeGreaterThan(0);
  return { ...staged, plan: gates.plan };
}

const sweep = () =>
  sweepInFlight(
    { clock: stack.runtime.clock, workflows: inFlightWorkflows(alpacaDeps()) },
    { mode: 'all' },
  );

describe('order intent and crash recovery', () => {
  it('a crash between order_intent and the broker call: the intent is recorded, the sweeper closes the promotion, a rerun sends nothing', async () => {
    // Prepare
    const deps = alpacaDeps(crashing('before'));
    const { promotion, plan } = await stageAndGate(deps, '2013-10-08T14:05:00.000Z', 'rc-1');

    // Act: the process dies after the intent, before the broker call
    await expect(submitPromotionOrders(deps, { promotion, plan })).rejects.toThrow(/killed before/);

    // Assess: intent without outcome, nothing at the broker
    const kinds = await kindsOf(promotion.promotionId);
    expect(kinds).toContain('order_intent');
    expect(kinds).not.toContain('order_submitted');
    expect(entriesAtBroker(promotion.promotionId)).toHaveLength(0);

    // Act: the sweeper (start-up of the next run) reconciles with the broker
    const swept = await sweep();

    // Assess: closed as failed, the order marked never sent
    const mine = swept.recovered.find((r) => r.id === promotion.promotionId);
    expect(mine).toMatchObject({ outcome: 'failed' });
    expect(mine?.orders).toEqual([
      expect.objectContaining({ atBroker: false, statusAfter: 'canceled' }),
    ]);
    expect((await deps.promotions.get(promotion.promotionId)).status).toBe('failed');
    expect((await kindsOf(promotion.promotionId)).slice(-2)).toEqual([
      'workflow_failed',
      'promotion_completed',
    ]);
    const [neverSent] = await statusChanges(promotion.promotionId);
    expect(neverSent).toMatchObject({
      actor: 'stagegate/in-flight-recovery',
      subject: { promotion_id: promotion.promotionId },
      payload: {
        status: 'canceled',
        filled_qty: 0,
        filled_avg_price: null,
        reason: expect.stringContaining('never reached the broker'),
      },
    });

    // Act: a rerun for the same candidate and session
    stack.clock.set(Date.parse('2013-10-08T14:20:00.000Z'));
    const rerun = await stagePromotion(alpacaDeps(), {
      request: { source: 'test', cohortId },
      executionName: 'rc-1-rerun',
      executionId: 'arn:local:rc-1-rerun',
    });

    // Assess: it finds its predecessor and sends nothing
    expect(rerun).toMatchObject({ skipped: true });
    expect((rerun as { reason: string }).reason).toContain(promotion.promotionId);
    expect(entriesAtBroker(promotion.promotionId)).toHaveLength(0);
  });

  it('a crash after the broker accepted: the sweeper finds the order by client_order_id, books it and closes the promotion; exactly one entry', async () => {
    // Prepare
    const deps = alpacaDeps(crashing('after'));
    const { promotion, plan } = await stageAndGate(deps, '2013-10-09T14:05:00.000Z', 'rc-2');
    await expect(submitPromotionOrders(deps, { promotion, plan })).rejects.toThrow(/killed after/);
    expect(entriesAtBroker(promotion.promotionId)).toHaveLength(1);

    // Act
    const swept = await sweep();

    // Assess: the broker's order is now ours, the promotion closed with workflow_failed
    const mine = swept.recovered.find((r) => r.id === promotion.promotionId);
    expect(mine?.orders).toEqual([expect.objectContaining({ atBroker: true })]);
    expect(swept.failed).toEqual([]);
    const orders = await deps.promotions.listOrders(promotion.promotionId);
    expect(orders.map((o) => o.order.status)).not.toContain('pending_new');
    expect(await kindsOf(promotion.promotionId)).toContain('workflow_failed');
    const synced = await statusChanges(promotion.promotionId);
    expect(synced.length).toBeGreaterThan(0);
    for (const r of synced) {
      expect(r).toMatchObject({
        actor: 'stagegate/promotion-pipeline',
        payload: { broker_status: expect.any(String), previous_status: expect.any(String) },
      });
    }

    // Act: rerun the whole stage for the same candidate and session
    stack.clock.set(Date.parse('2013-10-09T14:30:00.000Z'));
    const rerun = await stagePromotion(alpacaDeps(), {
      request: { source: 'test', cohortId },
      executionName: 'rc-2-rerun',
      executionId: 'arn:local:rc-2-rerun',
    });

    // Assess
    expect(rerun).toMatchObject({ skipped: true });
    expect(entriesAtBroker(promotion.promotionId)).toHaveLength(1);
    expect(fake.count('POST', '/v2/orders')).toBeGreaterThan(0);
  });

  it('a rerun before any sweep resumes the same promotion and never sends the entry again', async () => {
    // Prepare: crash after the broker accepted
    const deps = alpacaDeps(crashing('after'));
    const first = await stageAndGate(deps, '2013-10-10T14:05:00.000Z', 'rc-3');
    await expect(
      submitPromotionOrders(deps, {
        promotion: first.promotion,
        plan: first.plan,
      }),
    ).rejects.toThrow(/killed after/);
    const postsBefore = fake.count('POST', '/v2/orders');

    // Act: a new execution for the same candidate and session
    const again = await stageAndGate(alpacaDeps(), '2013-10-10T14:15:00.000Z', 'rc-3-rerun');
    const out = await submitPromotionOrders(alpacaDeps(), {
      promotion: again.promotion,
      plan: again.plan,
    });

    // Assess: same promotion, the order found at the broker, no second POST
    expect(again.promotion.promotionId).toBe(first.promotion.promotionId);
    expect(out.orders).toHaveLength(1);
    expect(fake.count('POST', '/v2/orders')).toBe(postsBefore);
    expect(entriesAtBroker(first.promotion.promotionId)).toHaveLength(1);
  });
  it('the kill switch engaged while legs are being sent stops the legs not yet sent (re-read per leg)', async () => {
    // Prepare: two legs; the operator engages the switch right after the first reaches the broker
    const base = alpacaDeps();
    const { promotion, plan } = await stageAndGate(base, '2013-10-11T14:05:00.000Z', 'rc-4');
    const first = plan[0];
    if (!first) throw new Error('no leg planned');
    const twoLegs = [first, { ...first, leg: 'second' }];
    const engaging: BrokerPort = Object.assign(Object.create(alpaca) as BrokerPort, {
      name: alpaca.name,
      submitOrder: async (req: Parameters<BrokerPort['submitOrder']>[0]) => {
        const out = await alpaca.submitOrder(req);
        await base.killSwitch.set({
          engaged: true,
          reason: 'test: engaged mid-submission',
          changedBy: 'test',
          changedAtIso: '2013-10-11T14:05:01.000Z',
        });
        return out;
      },
    });
    const deps = { ...base, brokerAt: () => engaging };

    try {
      // Act
      const submitting = submitPromotionOrders(deps, { promotion, plan: twoLegs });

      // Assess: halted before the second leg; exactly one entry at the broker
      await expect(submitting).rejects.toMatchObject({ name: 'KillSwitchEngagedError' });
      expect(entriesAtBroker(promotion.promotionId)).toHaveLength(1);
    } finally {
      await base.killSwitch.set({
        engaged: false,
        reason: 'test: released',
        changedBy: 'test',
        changedAtIso: '2013-10-11T14:06:00.000Z',
      });
    }
  });

  it('a sweep that crashed after its records, before closing the promotion: the re-run appends nothing new (once per promotion); control: a plain sink records twice', async () => {
    // Prepare: the promotions the earlier cases left in flight (two at least)
    const base = alpacaDeps();
    const inFlight = await base.promotions.listInFlight(
      '2000-01-01T00:00:00.000Z',
      '2100-01-01T00:00:00.000Z',
    );
    expect(inFlight.length).toBeGreaterThanOrEqual(2);
    const [keyed, plain] = inFlight as [string, string];
    /** The deps of a sweep killed once between its records and the status write. */
    const crashingOnce = (d: PromotionRecoveryDeps): PromotionRecoveryDeps => {
      let crashed = false;
      const promotions = Object.assign(Object.create(d.promotions) as typeof d.promotions, {
        setStatus: async (...args: Parameters<typeof d.promotions.setStatus>) => {
          if (!crashed) {
            crashed = true;
            throw new Error('process killed before the status write');
          }
          return d.promotions.setStatus(...args);
        },
      });
      return { ...d, promotions };
    };
    const twice = async (d: PromotionRecoveryDeps, id: string) => {
      const once = crashingOnce(d);
      await expect(recoverPromotion(once, id, stack.clock.now())).rejects.toThrow(/killed/);
      return recoverPromotion(once, id, stack.clock.now());
    };
    const closing = async (id: string) =>
      (await kindsOf(id)).filter((k) => k === 'workflow_failed' || k === 'promotion_completed');
    const plainAudit = {
      append: base.audit.append.bind(base.audit),
      appendMany: base.audit.appendMany.bind(base.audit),
    };

    // Act
    const out = await twice(base, keyed);
    await twice({ ...base, audit: plainAudit }, plain);

    // Assess
    expect(out.outcome).toBe('failed');
    expect((await base.promotions.get(keyed)).status).toBe('failed');
    expect(await closing(keyed)).toEqual(['workflow_failed', 'promotion_completed']);
    expect(await closing(plain)).toEqual([
      'workflow_failed',
      'promotion_completed',
      'workflow_failed',
      'promotion_completed',
    ]);
  });

  describe('two crash sweeps racing on one promotion (both read the order before either writes)', () => {
    /**
     * Two sweeps' deps whose broker lookups wait for each other: each sweep has listed the
     * promotion's orders before either gets the broker's report, so both try the same
     * transition (a deterministic interleaving, no timing).
     */
    const racing = (
      audit?: PromotionRecoveryDeps['audit'],
    ): [PromotionRecoveryDeps, PromotionRecoveryDeps] => {
      let arrived = 0;
      let release: () => void = () => undefined;
      const both = new Promise<void>((resolve) => {
        release = resolve;
      });
      const deps = (): PromotionRecoveryDeps => {
        const broker: BrokerPort = Object.assign(Object.create(alpaca) as BrokerPort, {
          name: alpaca.name,
          getOrderByClientOrderId: async (id: string) => {
            arrived += 1;
            if (arrived === 2) release();
            await both;
            return alpaca.getOrderByClientOrderId(id);
          },
        });
        const base = alpacaDeps();
        return { ...base, ...(audit ? { audit } : {}), brokerFor: () => broker };
      };
      return [deps(), deps()];
    };
    /** A promotion whose process died after the broker accepted its one entry. */
    const abandoned = async (approvalId: string) => {
      const deps = { ...alpacaDeps(crashing('after')) };
      const { p, plan } = await stageApproved(deps, '2013-10-08T15:05:00.000Z', approvalId);
      await expect(submitPromotionOrders(deps, { promotion: p, plan })).rejects.toThrow(
        /killed after/,
      );
      return p;
    };
    /** Each recorded transition (client_order_id, status, filled_qty) and how often. */
    const transitions = async (promotionId: string) => {
      const counts = new Map<string, number>();
      for (const r of await statusChanges(promotionId)) {
        const k = `${r.payload.client_order_id} ${r.payload.status} ${r.payload.filled_qty}`;
        counts.set(k, (counts.get(k) ?? 0) + 1);
      }
      return counts;
    };

    it('record each order transition once, book its fill once and close the promotion once', async () => {
      // Prepare
      const p = await abandoned('race-keyed');
      const before = await bookedPosition(p);
      const [a, b] = racing();

      // Act
      const [ra, rb] = await Promise.all([
        recoverPromotion(a, p.promotionId, stack.clock.now()),
        recoverPromotion(b, p.promotionId, stack.clock.now()),
      ]);

      // Assess: one record per transition, the fill booked once, closed once
      const counts = await transitions(p.promotionId);
      expect(counts.size).toBeGreaterThan(0);
      expect([...counts.values()].every((n) => n === 1)).toBe(true);
      const [order] = await alpacaDeps().promotions.listOrders(p.promotionId);
      const signed = (order?.order.side === 'buy' ? 1 : -1) * (order?.order.filledQty ?? 0);
      expect(Math.abs(signed)).toBeGreaterThan(0);
      expect(order?.bookedQty).toBe(order?.order.filledQty);
      expect((await bookedPosition(p)) - before).toBeCloseTo(signed, 9);
      expect([ra.outcome, rb.outcome]).toEqual(['failed', 'failed']);
      expect((await kindsOf(p.promotionId)).filter((k) => k === 'workflow_failed')).toHaveLength(1);
    });

    it('control: with a sink that cannot key its appends both sweeps record the transition; the fill is still booked once', async () => {
      // Prepare
      const p = await abandoned('race-plain');
      const before = await bookedPosition(p);
      const real = alpacaDeps().audit;
      const plain = { append: real.append.bind(real), appendMany: real.appendMany.bind(real) };
      const [a, b] = racing(plain);

      // Act
      await Promise.all([
        recoverPromotion(a, p.promotionId, stack.clock.now()),
        recoverPromotion(b, p.promotionId, stack.clock.now()),
      ]);

      // Assess
      expect(Math.max(...(await transitions(p.promotionId)).values())).toBeGreaterThan(1);
      const [order] = await alpacaDeps().promotions.listOrders(p.promotionId);
      const signed = (order?.order.side === 'buy' ? 1 : -1) * (order?.order.filledQty ?? 0);
      expect((await bookedPosition(p)) - before).toBeCloseTo(signed, 9);
    });
  });
});

/** Another fake Alpaca account on `clock` (the adapter's sleep advances it: no real waits). */
function startAccount(clock: ManualClock, more: Pick<FakeAlpacaBrokerOptions, 'fake' | 'broker'>) {
  return startFakeAlpacaBroker({
    keyId: KEY_ID,
    secretKey: SECRET,
    clock,
    sleep: async (ms: number) => {
      clock.advance(ms);
    },
    timeoutMs: 30_000,
    ...more,
  });
}

/**
 * A promotion of the cohort's best candidate under approval `approvalId` (a 5 USD slice, its own
 * promotion id), staged at `nowIso` and gated (passed).
 */
async function stageApproved(deps: PromotionRecoveryDeps, nowIso: string, approvalId: string) {
  stack.clock.set(Date.parse(nowIso));
  const staged = await stagePromotion(deps, {
    request: { source: 'test', cohortId, approvalId, capitalSliceUsd: 5 },
    executionName: `rc-${approvalId}`,
    executionId: `arn:local:rc-${approvalId}`,
  });
  if (staged.skipped) throw new Error(`not staged: ${staged.reason}`);
  const gates = await evaluatePromotionGates(deps, { promotion: staged.promotion });
  expect(gates.passed).toBe(true);
  return { p: staged.promotion, plan: gates.plan };
}

/** Signed shares of the promotion's symbol in its account's position book. */
async function bookedPosition(p: { broker: string; genome: { symbol: string } }) {
  return (
    (await alpacaDeps().promotions.getBook(p.broker)).book.positions[p.genome.symbol]?.qty ?? 0
  );
}

describe('a cancel that fails during promotion recovery', () => {
  // An account whose orders stay `new` for two reads (the sweep's, the cancel's own) and fill
  // on the third: the order fills while the sweep's cancel is failing.
  let slow: FakeAlpaca;
  let slowBroker: AlpacaPaperBroker;
  const ATTEMPTS = 2;

  beforeAll(async () => {
    const clock = new ManualClock(Date.UTC(2013, 9, 8, 15));
    ({ fake: slow, broker: slowBroker } = await startAccount(clock, {
      fake: { statusSchedule: ['new', 'new', 'filled'] },
      broker: { maxAttempts: ATTEMPTS },
    }));
  });

  afterAll(async () => {
    await slow?.close();
  });

  it("takes the broker's answer: the fill is booked and the promotion closed with workflow_failed in this sweep; exactly one entry", async () => {
    // Prepare: a promotion whose process died after the broker accepted its entry
    const base = alpacaDeps();
    const dying: BrokerPort = Object.assign(Object.create(slowBroker) as BrokerPort, {
      name: slowBroker.name,
      submitOrder: async (req: Parameters<BrokerPort['submitOrder']>[0]) => {
        await slowBroker.submitOrder(req);
        throw new Error('process killed after the broker call');
      },
    });
    const deps: PromotionRecoveryDeps = {
      ...base,
      brokerAt: () => dying,
      brokerFor: () => slowBroker,
    };
    const { p, plan } = await stageApproved(deps, '2013-10-08T15:10:00.000Z', 'cancel-fails');
    await expect(submitPromotionOrders(deps, { promotion: p, plan })).rejects.toThrow(
      /killed after/,
    );
    const before = await bookedPosition(p);
    // Every attempt of the sweep's cancel fails (5xx), the adapter's retries included
    slow.inject(
      ...Array.from({ length: ATTEMPTS }, () => ({
        method: 'DELETE',
        path: '/v2/orders/',
        status: 500,
      })),
    );

    // Act
    const out = await recoverPromotion(deps, p.promotionId, stack.clock.now());

    // Assess: the cancel was tried and failed; the broker's fill is ours, booked once
    expect(slow.count('DELETE', `/v2/orders/${slow.orders()[0]?.id}`)).toBe(ATTEMPTS);
    expect(out).toMatchObject({
      outcome: 'failed',
      orders: [{ atBroker: true, statusBefore: 'pending_new', statusAfter: 'filled' }],
    });
    const [order] = await base.promotions.listOrders(p.promotionId);
    expect(order?.order.status).toBe('filled');
    expect(order?.order.filledQty).toBeGreaterThan(0);
    expect(order?.bookedQty).toBe(order?.order.filledQty);
    const signed = (order?.order.side === 'buy' ? 1 : -1) * (order?.order.filledQty ?? 0);
    expect((await bookedPosition(p)) - before).toBeCloseTo(signed, 9);
    expect((await base.promotions.get(p.promotionId)).status).toBe('failed');
    expect((await kindsOf(p.promotionId)).slice(-2)).toEqual([
      'workflow_failed',
      'promotion_completed',
    ]);
    const filled = (await statusChanges(p.promotionId)).filter(
      (r) => r.payload.status === 'filled',
    );
    expect(filled).toHaveLength(1);
    expect(slow.orders().filter((o) => o.clientOrderId.includes(p.promotionId))).toHaveLength(1);
  });
});

describe('a fill whose booking lost every round against other writers of the book', () => {
  it('is booked by the crash sweep, once (the order is already filled: only its booking was left)', async () => {
    // Prepare: a promotion's entry, sent and accepted
    const base = alpacaDeps();
    const { p, plan } = await stageApproved(base, '2013-10-08T15:20:00.000Z', 'unbooked');
    await submitPromotionOrders(base, { promotion: p, plan });
    await pollPromotionOrders(base, { promotion: p });
    const before = await bookedPosition(p);
    // Another writer of the account's book saves it between each of our reads and writes
    // (DynamoDB answers our transaction `book_moved`), 5 times: the poll that sees the fill
    // saves the order filled with its fill left to book; then the process dies.
    let rivals = 5;
    const promotions = Object.assign(Object.create(base.promotions) as typeof base.promotions, {
      getBook: async (account: string) => {
        const read = await base.promotions.getBook(account);
        if (rivals > 0) {
          rivals -= 1;
          expect(await base.promotions.saveBook(account, read.book, read.version)).toBe(true);
        }
        return read;
      },
    });
    await pollPromotionOrders({ ...base, promotions }, { promotion: p });
    const [unbooked] = await base.promotions.listOrders(p.promotionId);
    expect(unbooked).toMatchObject({ bookedQty: 0, order: { status: 'filled' } });
    expect(await bookedPosition(p)).toBe(before);

    // Act: the crash sweep, then a second one
    const out = await recoverPromotion(base, p.promotionId, stack.clock.now());
    await recoverPromotion(base, p.promotionId, stack.clock.now());

    // Assess: booked once, the promotion closed
    const [order] = await base.promotions.listOrders(p.promotionId);
    expect(order?.bookedQty).toBe(order?.order.filledQty);
    const signed = (order?.order.side === 'buy' ? 1 : -1) * (order?.order.filledQty ?? 0);
    expect(Math.abs(signed)).toBeGreaterThan(0);
    expect((await bookedPosition(p)) - before).toBeCloseTo(signed, 9);
    expect(out).toMatchObject({
      outcome: 'failed',
      orders: [{ atBroker: true, statusBefore: 'filled', statusAfter: 'filled' }],
    });
    const filled = (await statusChanges(p.promotionId)).filter(
      (r) => r.payload.status === 'filled',
    );
    expect(filled).toHaveLength(1);
  });
});

describe('the crypto close for gtc orders no paper session watches', () => {
  // An account whose orders stay `new` on the first read and then sit half filled: open.
  const clock = new ManualClock(Date.parse('2013-10-08T23:00:00.000Z'));
  let gtcFake: FakeAlpaca;
  let gtcBroker: AlpacaPaperBroker;

  beforeAll(async () => {
    ({ fake: gtcFake, broker: gtcBroker } = await startAccount(clock, {
      fake: { statusSchedule: ['new', 'partially_filled'] },
    }));
  });

  afterAll(async () => {
    await gtcFake?.close();
  });

  it("cancels at 00:00 UTC every gtc order of the past day that no unfinished session tracks, books a promotion's fill and records each once; the flattens are left working and reported; a session's own order, today's and a day order are left alone", async () => {
    // Prepare: on 2013-10-08 (UTC) a promotion's crypto entry, the crash sweeper's flatten of
    // another, a kill-switch flatten, a slice rollback's flatten, a running session's own order
    // and an equity day order; today one more
    const base = alpacaDeps();
    const deps: PromotionRecoveryDeps = { ...base, brokerAt: () => gtcBroker };
    const { p } = await stageApproved(deps, '2013-10-08T15:30:00.000Z', 'gtc-close');
    const entry = {
      leg: 'entry',
      symbol: 'BTCUSD',
      side: 'buy' as const,
      qty: 0.5,
      refPriceUsd: 100,
    };
    const crypto = { ...p, market: 'crypto' as const };
    await submitPromotionOrders(deps, { promotion: crypto, plan: [entry] });
    const send = (clientOrderId: string, symbol: string, timeInForce: 'gtc' | 'day') =>
      gtcBroker.submitOrder({
        clientOrderId,
        symbol,
        side: 'sell',
        qty: 1,
        type: 'market',
        timeInForce,
      });
    const flatten = clientOrderId({
      promotionId: 'pr-20131008-swept',
      leg: 'recovflat',
      attempt: 1,
    });
    const killFlatten = clientOrderId({
      promotionId: 'pr-20131008-killed',
      leg: 'kill-flatten',
      attempt: 1,
    });
    const rollback = clientOrderId({
      promotionId: 'pr-20131008-slice',
      leg: 'flatten',
      attempt: 1,
    });
    const flattens = [flatten, killFlatten, rollback];
    const sessions = clientOrderId({ promotionId: 'pr-20131008-live', leg: 's1', attempt: 1 });
    const equityDay = clientOrderId({ promotionId: 'pr-20131008-eq', leg: 'entry', attempt: 1 });
    for (const id of flattens) await send(id, 'ETHUSD', 'gtc');
    await send(sessions, 'BTCUSD', 'gtc');
    await send(equityDay, 'IBM', 'day');
    const account = accountKeyOf(gtcBroker.name, deps.brokerAccount);
    await deps.sessionBooks.save(account, {
      promotionId: 'pr-20131008-live',
      date: '2013-10-08',
      symbol: 'BTCUSD',
      market: 'crypto',
      qty: 0,
      avgPriceUsd: 0,
      openOrders: 1,
      openOrderNotionalUsd: 100,
      open: [{ clientOrderId: sessions, side: 'sell', qty: 1, filledQty: 0 }],
      ticks: 1,
      done: false,
      updatedAtIso: '2013-10-08T23:00:00.000Z',
    });
    clock.set(Date.parse('2013-10-09T00:00:00.000Z'));
    const today = clientOrderId({ promotionId: 'pr-20131009-new', leg: 'entry', attempt: 1 });
    await send(today, 'BTCUSD', 'gtc');
    const [mine] = await base.promotions.listOrders(p.promotionId);
    const before = await bookedPosition({ broker: p.broker, genome: { symbol: 'BTCUSD' } });

    // Act: the sweep at 00:00 UTC, then the next hour's
    const out = await closeGtcOrdersPastTheirDay(deps, clock.now());
    clock.advance(3_600_000);
    const again = await closeGtcOrdersPastTheirDay(deps, clock.now());

    // Assess: the promotion's entry canceled, nothing else; the flattens left working, reported
    const status = (id: string) => gtcFake.orders().find((o) => o.clientOrderId === id)?.status;
    expect(flattens.map(status)).not.toContain('canceled');
    expect(status(mine?.order.clientOrderId ?? '')).toBe('canceled');
    expect([status(sessions), status(today), status(equityDay)]).not.toContain('canceled');
    expect(out.closed.map((c) => c.clientOrderId)).toEqual([mine?.order.clientOrderId]);
    expect(out.failed).toEqual([]);
    expect(out.unrecorded).toEqual([]);
    expect(out.leftWorking.map((l) => [l.clientOrderId, l.symbol])).toEqual(
      flattens.map((id) => [id, 'ETHUSD']),
    );
    expect(out.leftWorking.every((l) => Date.parse(l.submittedAtIso) < clock.now())).toBe(true);
    // the next hour: nothing to cancel, the flattens still working and reported again
    expect(again.closed).toEqual([]);
    expect(again.failed).toEqual([]);
    expect(again.leftWorking.map((l) => l.clientOrderId)).toEqual(flattens);
    // The entry's half fill is booked on the promotion, once
    const [entryAfter] = await base.promotions.listOrders(p.promotionId);
    expect(entryAfter).toMatchObject({
      bookedQty: 0.25,
      order: { status: 'canceled', filledQty: 0.25 },
    });
    expect(
      (await bookedPosition({ broker: p.broker, genome: { symbol: 'BTCUSD' } })) - before,
    ).toBeCloseTo(0.25, 9);
    const canceledRecords = (await readAuditObjects(stack.servers.s3Endpoint))
      .filter((r) => r.kind === 'order_status_changed')
      .map((r) => JSON.parse(String(r.payload)) as { client_order_id: string; status: string })
      .filter(
        (r) =>
          r.status === 'canceled' &&
          [...flattens, mine?.order.clientOrderId].includes(r.client_order_id),
      );
    expect(canceledRecords.map((r) => r.client_order_id)).toEqual([mine?.order.clientOrderId]);
  });
});

describe('the crypto close when a cancelled order cannot be recorded', () => {
  const clock = new ManualClock(Date.parse('2013-10-08T23:00:00.000Z'));
  let recFake: FakeAlpaca;
  let recBroker: AlpacaPaperBroker;

  beforeAll(async () => {
    ({ fake: recFake, broker: recBroker } = await startAccount(clock, {
      fake: { statusSchedule: ['new'] },
    }));
  });

  afterAll(async () => {
    await recFake?.close();
  });

  it('retries the record of a cancelled order within the run; one whose record keeps failing is reported unrecorded, not failed', async () => {
    // Prepare: two gtc orders of 2013-10-08 no session tracks; the audit refuses the first
    // one's record twice (then takes it) and the second one's always
    const base = alpacaDeps();
    const flaky = clientOrderId({ promotionId: 'pr-20131008-flaky', leg: 'entry', attempt: 1 });
    const lost = clientOrderId({ promotionId: 'pr-20131008-lost', leg: 'entry', attempt: 1 });
    for (const id of [flaky, lost]) {
      await recBroker.submitOrder({
        clientOrderId: id,
        symbol: 'BTCUSD',
        side: 'buy',
        qty: 0.1,
        type: 'market',
        timeInForce: 'gtc',
      });
    }
    const refusals = new Map([
      [flaky, 2],
      [lost, Number.POSITIVE_INFINITY],
    ]);
    const refuse = (drafts: readonly { payload?: unknown }[]) => {
      const id = (drafts[0]?.payload as { client_order_id?: string } | undefined)?.client_order_id;
      const left = id === undefined ? 0 : (refusals.get(id) ?? 0);
      if (left > 0 && id !== undefined) {
        refusals.set(id, left - 1);
        throw new Error(`audit store unavailable for ${id}`);
      }
    };
    const audit = Object.assign(Object.create(base.audit) as typeof base.audit, {
      append: async (draft: Parameters<typeof base.audit.append>[0]) => {
        refuse([draft]);
        return base.audit.append(draft);
      },
      appendManyOnce: async (drafts: never[], key: string) => {
        refuse(drafts);
        return (
          base.audit as unknown as { appendManyOnce: (...a: unknown[]) => unknown }
        ).appendManyOnce.call(base.audit, drafts, key);
      },
    });
    const deps: PromotionRecoveryDeps = { ...base, audit, brokerAt: () => recBroker };
    clock.set(Date.parse('2013-10-09T00:00:00.000Z'));

    // Act
    const out = await closeGtcOrdersPastTheirDay(deps, clock.now());

    // Assess: both canceled at the broker; the flaky one recorded once, the lost one named
    const status = (id: string) => recFake.orders().find((o) => o.clientOrderId === id)?.status;
    expect([status(flaky), status(lost)]).toEqual(['canceled', 'canceled']);
    expect(out.closed.map((c) => c.clientOrderId)).toEqual([flaky]);
    expect(out.failed).toEqual([]);
    expect(out.unrecorded).toEqual([
      {
        clientOrderId: lost,
        statusAfter: 'canceled',
        error: `Error: audit store unavailable for ${lost}`,
      },
    ]);
    const recorded = (await readAuditObjects(stack.servers.s3Endpoint))
      .filter((r) => r.kind === 'order_status_changed')
      .map((r) => (JSON.parse(String(r.payload)) as { client_order_id: string }).client_order_id)
      .filter((id) => id === flaky || id === lost);
    expect(recorded).toEqual([flaky]);
  });
});
