/**
 * Slack's `/stagegate kill on <reason>` against a RUNNING paper session on the local stack:
 * the command is signed like Slack and posted to the local server's real slash-command and
 * interactivity handlers (the confirmation click included), as the operator. The session
 * ticks with the paper-tick use case over the local stack's own dependencies (the simulated
 * broker and the session books on DynamoDB Local, the audit trail on the S3 emulator, the
 * stack's manual clock), so the engage path finds it exactly as a deployed one would.
 *
 * Asserted: the order the session had open is canceled at the broker by its client_order_id;
 * the session's kill flatten is sent at once; the session ends flat in its own book and at
 * the broker with nothing open; every order sent after the switch is a flatten (no new
 * entry); the command, the switch change, the cancel and the halt are in the audit trail.
 *
 * The edge: the switch engaged while the session's own close flatten is open. The engage
 * cancels that order and sends the kill flatten in its place; the session never ticks again
 * (its next step is the workflow's Finish), and still ends flat in its book and at the broker:
 * Finish settles the session's orders with the broker (the kill flatten adopted) first.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildConsoleApi } from '../../../functions/composition/console.js';
import { buildPaperSessionDeps } from '../../../functions/composition/paper-session.js';
import { parseCohortConfig } from '../../../functions/core/cohort/config.js';
import { isTerminalOrderStatus } from '../../../functions/core/orders/order.js';
import { DEFAULT_ACCOUNT_LIMITS } from '../../../functions/core/paper/account.js';
import {
  killSwitchFlattenOrderId,
  type PaperSessionState,
  sessionBook,
} from '../../../functions/core/paper/paper-session.js';
import {
  finishPaperSession,
  type PaperSessionDeps,
  tickPaperSession,
} from '../../../functions/core/use-cases/paper-session.js';
import type { StagedPromotion } from '../../../functions/core/use-cases/promotion-records.js';
import { type ConsoleServer, startConsoleServer } from '../../../local/console-server.js';
import { ConsoleUsers } from '../../../local/console-users.js';
import { type LocalStack, startLocalStack } from '../../../local/local-stack.js';
import { sendSlashCommand } from '../../../local/slack-cli.js';
import {
  localSigningSecret,
  localSlackHandlers,
  localSlackUser,
} from '../../../local/slack-local.js';
import { paperSessionFixture } from '../../support/paper-session-fixture.js';
import { DATA_ROOT } from '../../support/paths.js';
import { loadSharedSession } from '../../support/shared-session.js';
import { auditRecords } from '../day3/support.js';

const DATE = '2013-10-09';
const EDGE_DATE = '2013-10-08';
const SYMBOLS = ['SPY', 'BAC', 'AIG', 'IBM'];
const PROMOTION = 'PSLACKKILL01';

let stack: LocalStack;
let server: ConsoleServer;
let secret: string;
let paper: PaperSessionDeps;
let genomes: PaperSessionState['genome'][];
let openMs: number;
let edge: Awaited<ReturnType<typeof loadSharedSession>>;

beforeAll(async () => {
  let shared: Awaited<ReturnType<typeof loadSharedSession>>;
  [stack, shared, edge] = await Promise.all([
    startLocalStack({ dataRoot: DATA_ROOT, stateDir: 'memory', logLevel: 'SILENT' }),
    loadSharedSession(DATE, SYMBOLS, 'c-slack-kill'),
    loadSharedSession(EDGE_DATE, SYMBOLS, 'c-slack-kill-edge'),
  ]);
  ({ genomes, openMs } = shared);
  secret = await localSigningSecret('memory');
  server = await startConsoleServer({
    api: buildConsoleApi(stack.runtime, { promotionDeps: () => stack.promotion }),
    users: await ConsoleUsers.load('memory'),
    audit: stack.runtime.audit,
    environment: 'local',
    slack: await localSlackHandlers(stack, secret),
  });
  paper = buildPaperSessionDeps(stack.runtime, stack.promotion);
}, 240_000);

afterAll(async () => {
  await server?.close();
  await stack?.stop();
});

const positionOf = (s: PaperSessionState) => sessionBook(s).positions[s.symbol]?.qty ?? 0;
const isOpen = (o: PaperSessionState['orders'][number]) => !isTerminalOrderStatus(o.status);

/** One tick of the session at the stack's clock (the paper-tick handler's use case). */
const tick = async (state: PaperSessionState) => (await tickPaperSession(paper, { state })).state;
/** Moves the stack's clock to one second after the next minute. */
const nextMinute = () =>
  stack.clock.set((Math.floor(stack.clock.now() / 60_000) + 1) * 60_000 + 1_000);

/** `/stagegate <text>` signed like Slack, as the operator, confirmation clicked. */
const operatorSays = (text: string) =>
  sendSlashCommand({
    baseUrl: server.url,
    signingSecret: secret,
    userId: localSlackUser('operator'),
    text,
    confirm: async () => true,
  });

describe('/stagegate kill on from Slack against a running paper session (local stack)', () => {
  it('cancels the open order, flattens the session in its book and at the broker, records it all; no new entry after', async () => {
    // Prepare: a session that holds a position and has an order open right after a tick
    const genome = genomes[0] as PaperSessionState['genome'];
    let s = paperSessionFixture({
      promotionId: PROMOTION,
      genome,
      date: DATE,
      openMs,
      costs: parseCohortConfig({ bankrollUsd: 1_000 }),
    });
    s = { ...s, limits: { ...s.limits, account: DEFAULT_ACCOUNT_LIMITS } };
    stack.clock.set(openMs + 30 * 60_000 + 1_000);
    for (;;) {
      s = await tick(s);
      if (s.done || (positionOf(s) !== 0 && s.orders.some(isOpen))) break;
      nextMinute();
    }
    expect(s.done).toBe(false);
    const openIds = s.orders.filter(isOpen).map((o) => o.clientOrderId);
    const broker = stack.promotion.brokerAt(stack.clock.now());
    const before = new Set(s.orders.map((o) => o.clientOrderId));
    for (const id of openIds) {
      expect(
        isTerminalOrderStatus((await broker.getOrderByClientOrderId(id))?.status ?? 'filled'),
      ).toBe(false);
    }

    // Act: the operator types `/stagegate kill on <reason>` and clicks the confirmation
    const exchanges = await operatorSays('kill on desk test: stop the session');

    // Assess (at engage): the switch is on, the open orders canceled, the flatten sent
    expect(exchanges.map((x) => [x.via, x.status])).toEqual([
      ['response', 200],
      ['interactivity', 200],
    ]);
    expect(await stack.promotion.killSwitch.read()).toMatchObject({
      engaged: true,
      changedBy: 'slack:ULOCALOPERATOR',
      reason: 'desk test: stop the session',
    });
    for (const id of openIds) {
      expect((await broker.getOrderByClientOrderId(id))?.status).toBe('canceled');
    }
    const killId = killSwitchFlattenOrderId(PROMOTION);
    expect(await broker.getOrderByClientOrderId(killId)).toMatchObject({
      symbol: s.symbol,
      side: positionOf(s) > 0 ? 'sell' : 'buy',
    });

    // Act: the session keeps ticking to its end
    const engagedAt = stack.clock.now();
    while (!s.done) {
      nextMinute();
      s = await tick(s);
    }

    // Assess: flat in its book and at the broker, nothing open, only flattens after the switch
    expect(positionOf(s)).toBeCloseTo(0, 9);
    const held = (await broker.listPositions()).find((p) => p.symbol === s.symbol)?.qty ?? 0;
    expect(held).toBeCloseTo(0, 9);
    expect(await broker.listOpenOrders()).toEqual([]);
    expect(s.orders.find((o) => o.clientOrderId === killId)).toMatchObject({
      reason: 'flatten',
      status: 'filled',
    });
    const after = s.orders.filter((o) => !before.has(o.clientOrderId));
    expect(after.length).toBeGreaterThan(0);
    for (const o of after) expect(o.reason).toBe('flatten');
    expect(s.orders.filter((o) => o.reason === 'signal' && o.submittedAtMs > engagedAt)).toEqual(
      [],
    );
    expect(s.halt).toMatchObject({ mode: 'flatten' });

    // Assess: the audit trail
    const records = await auditRecords(stack);
    // The command as typed (a confirmation is asked), then the confirmed click
    const commands = records.filter((r) => r.kind === 'chat_command');
    expect(commands.map((r) => [r.actor, r.payload.command, r.payload.outcome])).toContainEqual([
      'slack:ULOCALOPERATOR',
      'kill',
      'confirmed',
    ]);
    expect(records.find((r) => r.kind === 'kill_switch_changed')).toMatchObject({
      actor: 'slack:ULOCALOPERATOR',
      payload: { engaged: true, reason: 'desk test: stop the session' },
    });
    const cancels = records.filter(
      (r) => r.kind === 'order_status_changed' && r.payload.reason === 'kill switch engaged',
    );
    expect(cancels.map((r) => r.payload.client_order_id)).toEqual(expect.arrayContaining(openIds));
    const halt = records.find((r) => r.kind === 'rollback' && r.payload.action === 'halt');
    expect(halt?.payload).toMatchObject({
      reason: 'desk test: stop the session',
      canceled_orders: expect.arrayContaining(openIds),
      flattened: [expect.objectContaining({ promotion_id: PROMOTION, client_order_id: killId })],
      flatten_errors: [],
    });
    expect(
      records.some(
        (r) =>
          r.kind === 'order_intent' &&
          r.payload.client_order_id === killId &&
          r.stream === `promotion:${PROMOTION}`,
      ),
    ).toBe(true);
  }, 300_000);

  it("engaged while the session's own close flatten is open: it never ticks again and Finish still ends it flat in its book and at the broker", async () => {
    // Prepare: the switch released (from Slack); a session run to its close flatten, open
    expect((await operatorSays('kill off desk test over')).at(-1)?.status).toBe(200);
    expect(await stack.promotion.killSwitch.read()).toMatchObject({ engaged: false });
    const promotionId = 'PSLACKKILL02';
    const costs = parseCohortConfig({ bankrollUsd: 1_000 });
    let s: PaperSessionState | null = null;
    // The busiest genome that still holds a position when its close flatten goes out.
    for (const genome of edge.genomes.slice(0, 5)) {
      const id = `${promotionId}${edge.genomes.indexOf(genome)}`;
      let t = paperSessionFixture({
        promotionId: id,
        genome,
        date: EDGE_DATE,
        openMs: edge.openMs,
        costs,
      });
      t = { ...t, limits: { ...t.limits, account: DEFAULT_ACCOUNT_LIMITS } };
      stack.clock.set(edge.openMs + 30 * 60_000 + 1_000);
      while (!t.done && !t.flattenDecided) {
        t = await tick(t);
        if (!t.flattenDecided) nextMinute();
      }
      if (t.orders.some((o) => o.reason === 'flatten' && isOpen(o))) {
        s = t;
        break;
      }
      // Flat at the close: finish it so the account holds nothing of it, try the next genome.
      while (!t.done) {
        nextMinute();
        t = await tick(t);
      }
    }
    if (!s) throw new Error('no genome of the shared session holds a position at its close');
    const session = s;
    const broker = stack.promotion.brokerAt(stack.clock.now());
    const own = session.orders.filter((o) => o.reason === 'flatten' && isOpen(o));
    expect(own.length).toBeGreaterThan(0);
    const heldBefore = positionOf(session);
    expect(heldBefore).not.toBe(0);

    // Act: the switch engaged from Slack while that flatten is open
    expect((await operatorSays('kill on close edge')).at(-1)?.status).toBe(200);

    // Assess (at engage): the session's own flatten canceled, the kill flatten sent instead
    for (const o of own) {
      expect((await broker.getOrderByClientOrderId(o.clientOrderId))?.status).toBe('canceled');
    }
    const killId = killSwitchFlattenOrderId(session.promotionId);
    expect(await broker.getOrderByClientOrderId(killId)).toMatchObject({
      side: heldBefore > 0 ? 'sell' : 'buy',
    });

    // Act: no further tick; after the close the workflow's Finish runs on the last tick's state
    stack.clock.set(session.closeMs + 60_000);
    const promotion = { metrics: { totalPnlUsd: 0 } } as unknown as StagedPromotion;
    const out = await finishPaperSession(paper, { state: session, promotion });

    // Assess: flat in its book and at the broker, reconciled; the kill flatten is the session's
    expect(positionOf(session)).toBe(heldBefore); // the last tick's book was not flat
    expect(out.reconciliation).toMatchObject({ clean: true });
    expect(out.reconciliation.bookQty).toBeCloseTo(0, 9);
    expect(out.reconciliation.brokerQty).toBeCloseTo(0, 9);
    expect(await broker.listOpenOrders()).toEqual([]);
    expect(out.orders.find((o) => o.clientOrderId === killId)).toMatchObject({
      reason: 'flatten',
      status: 'filled',
    });
    for (const o of own) {
      expect(out.orders.find((x) => x.clientOrderId === o.clientOrderId)?.status).toBe('canceled');
    }
    const records = await auditRecords(stack);
    const settled = records.filter(
      (r) =>
        r.kind === 'order_status_changed' &&
        r.stream === `promotion:${session.promotionId}` &&
        r.payload.client_order_id === killId,
    );
    expect(settled.at(-1)?.payload).toMatchObject({ status: 'filled' });
    expect(
      records.find(
        (r) =>
          r.kind === 'paper_session_completed' && r.stream === `promotion:${session.promotionId}`,
      )?.payload.reconciliation,
    ).toMatchObject({ clean: true });
  }, 600_000);
});
