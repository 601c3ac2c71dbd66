/**
 * The /stagegate slash command end to end on the local server (the same handlers as the HTTP
 * API), posted and signed like Slack by the CLI's client: the status answer built from real
 * cohorts, a real promotion and a pending approval; signature, replay, unknown-user and role
 * refusals (each audited); the kill switch engaged and released from Slack through the
 * confirmation click.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildConsoleApi } from '../../../functions/composition/console.js';
import { type ConsoleServer, startConsoleServer } from '../../../local/console-server.js';
import { ConsoleUsers } from '../../../local/console-users.js';
import { sendSlashCommand } from '../../../local/slack-cli.js';
import {
  localSigningSecret,
  localSlackHandlers,
  localSlackUser,
} from '../../../local/slack-local.js';
import { type ConsoleFixture, startConsoleFixture } from '../console/support.js';
import { auditRecords } from '../day3/support.js';

let fx: ConsoleFixture;
let server: ConsoleServer;
let secret: string;

beforeAll(async () => {
  fx = await startConsoleFixture('it-slash');
  secret = await localSigningSecret('memory');
  server = await startConsoleServer({
    api: buildConsoleApi(fx.stack.runtime, { promotionDeps: () => fx.stack.promotion }),
    users: await ConsoleUsers.load('memory'),
    audit: fx.stack.runtime.audit,
    environment: 'local',
    slack: await localSlackHandlers(fx.stack, secret),
  });
}, 240_000);

afterAll(async () => {
  await server?.close();
  await fx?.stop();
});

const never = async () => false;

function ask(text: string, extra: Partial<Parameters<typeof sendSlashCommand>[0]> = {}) {
  return sendSlashCommand({
    baseUrl: server.url,
    signingSecret: secret,
    userId: localSlackUser(),
    text,
    confirm: never,
    ...extra,
  });
}

const texts = (body: unknown): string =>
  JSON.stringify((body as { blocks?: unknown[] }).blocks ?? body);

async function slackRefusals() {
  return (await auditRecords(fx.stack))
    .filter((r) => r.stream === 'slack:commands' && r.kind === 'input_rejected')
    .map((r) => r.payload);
}

describe('answers', () => {
  it('status: the newest cohort, the promotion, the pending approval and the kill switch', async () => {
    const [x] = await ask('status');
    expect(x?.status).toBe(200);
    const body = texts(x?.body);
    expect(body).toContain(fx.cohortIds[1]);
    expect(body).toContain(fx.promotionId);
    expect(body).toContain(fx.approvalId);
    expect(body).toContain('Kill switch:');
    const recorded = (await auditRecords(fx.stack)).filter((r) => r.kind === 'chat_command');
    expect(recorded.at(-1)).toMatchObject({
      actor: 'slack:ULOCALALL',
      payload: { command: 'status', outcome: 'answered' },
    });
  });

  it('kill on from Slack engages the switch only after the confirmation click; kill off releases it', async () => {
    const asked = await ask('kill on chat-ops test', { userId: localSlackUser('operator') });
    expect(asked).toHaveLength(1);
    expect(texts(asked[0]?.body)).toContain('kill_switch_on');
    expect(await fx.stack.promotion.killSwitch.read()).toBeNull();

    const on = await ask('kill on chat-ops test', {
      userId: localSlackUser('operator'),
      confirm: async () => true,
    });
    expect(on.map((x) => [x.via, x.status])).toEqual([
      ['response', 200],
      ['interactivity', 200],
    ]);
    expect(await fx.stack.promotion.killSwitch.read()).toMatchObject({
      engaged: true,
      changedBy: 'slack:ULOCALOPERATOR',
      reason: 'chat-ops test',
    });
    await ask('kill off', { userId: localSlackUser('operator'), confirm: async () => true });
    expect(await fx.stack.promotion.killSwitch.read()).toMatchObject({ engaged: false });
    const changes = (await auditRecords(fx.stack)).filter((r) => r.kind === 'kill_switch_changed');
    expect(changes.slice(-2).map((r) => [r.actor, r.payload.engaged])).toEqual([
      ['slack:ULOCALOPERATOR', true],
      ['slack:ULOCALOPERATOR', false],
    ]);
  });
});

describe('cohort start and fund?', () => {
  it('fund?: the candidate of the newest cohort, its evidence and a bankroll with the formula', async () => {
    const [x] = await ask('fund?', { userId: localSlackUser('viewer') });
    expect(x?.status).toBe(200);
    const body = texts(x?.body);
    expect(body).toContain(fx.cohortIds[1]);
    expect(body).toContain('PSR(0)');
    expect(body).toContain('B* = clamp(d_max');
    expect(body).toContain(fx.approvalId);
  });

  it('cohort start: a partial cohort of the session on the bars up to now, answered after the work', async () => {
    // 11:00 New York on a shared session: the partial cohort sees the bars up to then.
    fx.stack.clock.set(Date.parse('2013-10-08T15:00:00.000Z'));
    try {
      const out = await ask('cohort start 1000 5 SPY', { userId: localSlackUser('operator') });
      expect(out[0]?.status).toBe(200);
      const final = texts(out.at(-1)?.body);
      expect(final).toContain('Partial cohort');
      expect(final).toContain('2013-10-08');
      expect(final).toContain('SUCCEEDED');
    } finally {
      fx.stack.clock.set(Date.now());
    }
    const started = (await auditRecords(fx.stack)).filter(
      (r) => r.kind === 'operator_command' && r.payload.channel === 'slack',
    );
    expect(started.at(-1)).toMatchObject({
      actor: 'slack:ULOCALOPERATOR',
      payload: { command: 'cohort start', partial: true, symbols: ['SPY'], agent_count: 5 },
    });
  });
});

describe('refusals (each recorded)', () => {
  it('a bad signature is 401 tampered', async () => {
    const [x] = await ask('status', { headers: { 'x-slack-signature': `v0=${'0'.repeat(64)}` } });
    expect(x).toMatchObject({ status: 401, body: { reason: 'tampered' } });
    expect((await slackRefusals()).at(-1)).toMatchObject({
      reason: 'tampered',
      field: 'x-slack-signature',
    });
  });

  it('a request older than 5 minutes (a replay) is 401 replayed', async () => {
    const [x] = await ask('status', { nowMs: () => Date.now() - 6 * 60_000 });
    expect(x).toMatchObject({ status: 401, body: { reason: 'replayed' } });
    expect((await slackRefusals()).at(-1)).toMatchObject({
      reason: 'replayed',
      field: 'x-slack-request-timestamp',
    });
  });

  it('an unknown Slack user is refused', async () => {
    const [x] = await ask('status', { userId: 'USTRANGER' });
    expect(x?.status).toBe(200);
    expect(texts(x?.body)).toContain('unknown_user');
    expect((await slackRefusals()).at(-1)).toMatchObject({ reason: 'unknown_user' });
  });

  it('a redelivered invocation (same trigger_id) is recorded once; control: another trigger_id is recorded again', async () => {
    // Prepare
    const commands = async () =>
      (await auditRecords(fx.stack)).filter(
        (r) => r.stream === 'slack:commands' && r.kind === 'chat_command',
      ).length;
    const before = await commands();

    // Act
    const [a] = await ask('status', { triggerId: '2013.10.09.redelivered' });
    const [b] = await ask('status', { triggerId: '2013.10.09.redelivered' });
    const afterRedelivery = await commands();
    await ask('status', { triggerId: '2013.10.09.another' });

    // Assess
    expect([a?.status, b?.status]).toEqual([200, 200]);
    expect(texts(b?.body)).toBe(texts(a?.body));
    expect(afterRedelivery).toBe(before + 1);
    expect(await commands()).toBe(before + 2);
  });

  it('a viewer cannot engage the kill switch', async () => {
    const [x] = await ask('kill on viewer tries', { userId: localSlackUser('viewer') });
    expect(texts(x?.body)).toContain('forbidden');
    expect((await slackRefusals()).at(-1)).toMatchObject({ reason: 'forbidden' });
    expect((await fx.stack.promotion.killSwitch.read())?.reason).not.toBe('viewer tries');
  });
});
