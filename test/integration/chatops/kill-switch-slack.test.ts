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
  type PaperSessionDeps,
  tickPaperSession,
} from '../../../functions/core/use-cases/paper-session.js';
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
const SYMBOLS = ['SPY', 'BAC', 'AIG', 'IBM'];
const PROMOTION = 'PSLACKKILL01';

let stack: LocalStack;
let server: ConsoleServer;
let secret: string;
let paper: PaperSessionDeps;
let genomes: PaperSessionState['genome'][];
let openMs: number;

beforeAll(async () => {
  let shared: Awaited<ReturnType<typeof loadSharedSession>>;
  [stack, shared] = await Promise.all([
    startLocalStack({ dataRoot: DATA_ROOT, stateDir: 'memory', logLevel: 'SILENT' }),
    loadSharedSession(DATE, SYMBOLS, 'c-slack-kill'),
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
    const exchanges = await sendSlashCommand({
      baseUrl: server.url,
      signingSecret: secret,
      userId: localSlackUser('operator'),
      text: 'kill on desk test: stop the session',
      confirm: async () => true,
    });

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
});
