/**
 * The console's kill-switch door says what an engage left undone: `POST /api/kill-switch`
 * answers the use case's `cancelErrors` and `flattenErrors` and the sentence every door shows
 * (`shortfall`: "K cancel(s) failed: <ids>; engage again"), null when nothing failed, and the
 * orders found already ended (`ended`, `endedNote`), apart from the canceled ones. A
 * release that races an engage (forced with the in-memory switch's `afterNextRead`) is
 * answered 409 naming who engaged, recorded once, and so is a release from a page that showed
 * an earlier state (`expectedChangedAtIso`); `GET /api/kill-switch` says when a released
 * switch was last engaged (`lastEngageNote`).
 */
import { describe, expect, it } from 'vitest';
import { ConsoleApi, type ConsoleApiDeps } from '../../../functions/core/use-cases/console-api.js';
import {
  type KillSwitchOutcome,
  setKillSwitch,
} from '../../../functions/core/use-cases/kill-switch.js';
import type { BrokerPort } from '../../../functions/ports/broker.js';
import { ManualClock } from '../../../functions/ports/clock.js';
import { MemoryAuditSink } from '../../support/doubles/memory-audit-sink.js';
import { MemoryKillSwitch } from '../../support/doubles/memory-kill-switch.js';

const CSRF = 'csrf-console-kill-0123';

function post(
  undone: Pick<KillSwitchOutcome, 'cancelErrors' | 'flattenErrors'> &
    Partial<Pick<KillSwitchOutcome, 'ended'>>,
) {
  const clock = new ManualClock(Date.parse('2013-10-09T15:00:00Z'));
  const setKillSwitch: ConsoleApiDeps['setKillSwitch'] = async (input) => ({
    state: {
      engaged: input.engaged,
      reason: input.reason,
      changedBy: input.by,
      changedAtIso: '2013-10-09T15:00:00.000Z',
    },
    canceled: ['sgp_p1_entry_1'],
    ended: [],
    flattened: [],
    unchanged: false,
    ...undone,
  });
  const api = new ConsoleApi({
    setKillSwitch,
    audit: new MemoryAuditSink(clock),
    environment: 'local',
    clock,
  } as unknown as ConsoleApiDeps);
  return killSwitchRequest(
    api,
    'POST',
    { engaged: true, reason: 'broker outage' },
    'cognito:olivia@example.com',
  );
}

/** A request to `/api/kill-switch` by an operator (`body` absent: none), CSRF token included. */
function killSwitchRequest(api: ConsoleApi, method: 'GET' | 'POST', body: unknown, as: string) {
  return api.handle({
    method,
    path: '/api/kill-switch',
    query: {},
    headers: {
      'content-type': 'application/json',
      'x-csrf-token': CSRF,
      cookie: `stagegate_csrf=${CSRF}`,
    },
    body: body === undefined ? '' : JSON.stringify(body),
    identity: as,
    roles: ['operator'],
  });
}

describe('console API: POST /api/kill-switch', () => {
  it('answers the failed cancels and flattens, and the sentence to show', async () => {
    // Act: the broker refused one cancel twice; one session's flatten could not be sent
    const res = await post({
      cancelErrors: [{ clientOrderId: 'sgp_p2_entry_1', error: 'HTTP 500' }],
      flattenErrors: [{ promotionId: 'p9', error: 'broker down' }],
    });

    // Assess
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({
      canceled: ['sgp_p1_entry_1'],
      cancelErrors: [{ clientOrderId: 'sgp_p2_entry_1', error: 'HTTP 500' }],
      flattenErrors: [{ promotionId: 'p9', error: 'broker down' }],
      shortfall:
        '1 cancel(s) failed: sgp_p2_entry_1 (HTTP 500); engage again. ' +
        '1 flatten(s) not sent: p9 (broker down); each session flattens at its next tick',
    });
  });

  it('answers shortfall null when every cancel and flatten went out', async () => {
    const res = await post({ cancelErrors: [], flattenErrors: [] });
    expect(JSON.parse(res.body)).toMatchObject({
      cancelErrors: [],
      ended: [],
      endedNote: null,
      shortfall: null,
    });
  });

  it('answers the orders found already ended and the sentence to show, apart from canceled', async () => {
    const res = await post({
      cancelErrors: [],
      flattenErrors: [],
      ended: [{ clientOrderId: 'sgp_p2_entry_1', status: 'filled' }],
    });
    expect(JSON.parse(res.body)).toMatchObject({
      canceled: ['sgp_p1_entry_1'],
      ended: [{ clientOrderId: 'sgp_p2_entry_1', status: 'filled' }],
      endedNote: '1 order(s) already ended, not canceled: sgp_p2_entry_1 (filled)',
      shortfall: null,
    });
  });
});

/** The console over the real use case and the in-memory switch, engaged by olivia at 15:00. */
async function consoleOverTheSwitch() {
  const clock = new ManualClock(Date.parse('2013-10-09T15:00:00Z'));
  const audit = new MemoryAuditSink(clock);
  const killSwitch = new MemoryKillSwitch();
  const broker = { name: 'simulated', listOpenOrders: async () => [] } as unknown as BrokerPort;
  const killDeps = { killSwitch, audit, clock, environment: 'local' as const, broker };
  const api = new ConsoleApi({
    setKillSwitch: (input: Parameters<ConsoleApiDeps['setKillSwitch']>[0]) =>
      setKillSwitch(killDeps, input),
    killSwitch,
    audit,
    environment: 'local',
    clock,
  } as unknown as ConsoleApiDeps);
  await setKillSwitch(killDeps, { engaged: true, reason: 'broker outage', by: 'cli:olivia' });
  clock.advance(60_000);
  const request = (method: 'GET' | 'POST', body?: unknown) =>
    killSwitchRequest(api, method, body, 'cognito:carol@example.com');
  return { audit, killSwitch, killDeps, request };
}

describe('console API: releasing the kill switch', () => {
  it('answers 409 naming who engaged when the switch was engaged again between the release read and its write; the switch stays engaged', async () => {
    // Prepare
    const c = await consoleOverTheSwitch();
    c.killSwitch.afterNextRead(() =>
      setKillSwitch(c.killDeps, { engaged: true, reason: 'drawdown breaker', by: 'slack:UBOB' }),
    );

    // Act
    const res = await c.request('POST', {
      engaged: false,
      reason: 'broker back',
      expectedChangedAtIso: '2013-10-09T15:00:00.000Z',
    });

    // Assess
    expect(res.status).toBe(409);
    expect(JSON.parse(res.body)).toMatchObject({
      title: 'Kill switch changed meanwhile',
      detail: expect.stringContaining(
        'engaged by slack:UBOB at 2013-10-09T15:01:00.000Z (drawdown breaker)',
      ),
    });
    expect(c.killSwitch.state).toMatchObject({ engaged: true, changedBy: 'slack:UBOB' });
    const rejected = c.audit.records().filter((r) => r.kind === 'input_rejected');
    expect(rejected.map((r) => [r.actor, JSON.parse(r.payload).reason])).toEqual([
      ['cognito:carol@example.com', 'changed_meanwhile'],
    ]);
  });

  it('answers 409 to a release from a page that showed an earlier engage; the page of the current one releases', async () => {
    // Prepare: the page read alice's engage; bob engaged again since
    const c = await consoleOverTheSwitch();
    const page = JSON.parse((await c.request('GET')).body);
    await setKillSwitch(c.killDeps, {
      engaged: true,
      reason: 'drawdown breaker',
      by: 'slack:UBOB',
    });
    const release = (expectedChangedAtIso: string) =>
      c.request('POST', { engaged: false, reason: 'broker back', expectedChangedAtIso });

    // Act
    const stale = await release(page.changedAtIso);
    const current = await release(JSON.parse((await c.request('GET')).body).changedAtIso);

    // Assess
    expect(stale.status).toBe(409);
    expect(JSON.parse(stale.body).detail).toContain('engaged by slack:UBOB');
    expect(current.status).toBe(200);
    expect(c.killSwitch.state).toMatchObject({
      engaged: false,
      changedBy: 'cognito:carol@example.com',
    });
  });

  it('answers 400 naming expectedChangedAtIso to a release that does not name the switch its requester saw, recorded; the switch stays engaged', async () => {
    // Prepare
    const c = await consoleOverTheSwitch();

    // Act
    const res = await c.request('POST', { engaged: false, reason: 'broker back' });
    const empty = await c.request('POST', {
      engaged: false,
      reason: 'broker back',
      expectedChangedAtIso: '',
    });

    // Assess
    expect([res.status, empty.status]).toEqual([400, 400]);
    expect(JSON.parse(res.body)).toMatchObject({ field: 'body.expectedChangedAtIso' });
    expect(c.killSwitch.state).toMatchObject({ engaged: true, changedBy: 'cli:olivia' });
    const refusals = c.audit.records().filter((r) => r.kind === 'input_rejected');
    expect(refusals.map((r) => [r.stream, JSON.parse(r.payload).field])).toEqual([
      ['console:refusals', 'body.expectedChangedAtIso'],
      ['console:refusals', 'body.expectedChangedAtIso'],
    ]);
  });

  it('a keyed release (which now always names the switch seen) redelivered after another engage never releases that engage', async () => {
    // Prepare: carol's keyed release from the page of olivia's engage lands, its answer lost;
    // bob engages; the release is redelivered
    const c = await consoleOverTheSwitch();
    const page = JSON.parse((await c.request('GET')).body);
    const body = { engaged: false, reason: 'broker back', expectedChangedAtIso: page.changedAtIso };
    const first = await setKillSwitch(c.killDeps, {
      ...body,
      by: 'cognito:carol@example.com',
      idempotencyKey: 'k-0123456789abcdef',
    });
    await setKillSwitch(c.killDeps, {
      engaged: true,
      reason: 'drawdown breaker',
      by: 'slack:UBOB',
    });

    // Act
    const redelivered = setKillSwitch(c.killDeps, {
      ...body,
      by: 'cognito:carol@example.com',
      idempotencyKey: 'k-0123456789abcdef',
    });

    // Assess
    expect(first.state.engaged).toBe(false);
    await expect(redelivered).rejects.toThrow(/engaged by slack:UBOB/);
    expect(c.killSwitch.state).toMatchObject({ engaged: true, changedBy: 'slack:UBOB' });
  });

  it('a release of a switch released since the page read it writes nothing and says so (unchangedNote)', async () => {
    // Prepare: the page showed olivia's engage; olivia released it from the CLI since
    const c = await consoleOverTheSwitch();
    const page = JSON.parse((await c.request('GET')).body);
    await setKillSwitch(c.killDeps, { engaged: false, reason: 'broker back', by: 'cli:olivia' });
    const writes = c.killSwitch.writes.length;

    // Act
    const res = await c.request('POST', {
      engaged: false,
      reason: 'all clear',
      expectedChangedAtIso: page.changedAtIso,
    });

    // Assess
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({
      unchanged: true,
      unchangedNote:
        'already released at 2013-10-09T15:01:00.000Z by cli:olivia (broker back): nothing was written',
      state: { engaged: false, changedBy: 'cli:olivia' },
    });
    expect(c.killSwitch.writes).toHaveLength(writes);
  });

  it('GET says when a released switch was last engaged', async () => {
    // Prepare
    const c = await consoleOverTheSwitch();
    const engaged = JSON.parse((await c.request('GET')).body);
    await c.request('POST', {
      engaged: false,
      reason: 'broker back',
      expectedChangedAtIso: engaged.changedAtIso,
    });

    // Act
    const released = JSON.parse((await c.request('GET')).body);

    // Assess
    expect(engaged.lastEngageNote).toBeNull();
    expect(released).toMatchObject({
      engaged: false,
      lastEngagedAtIso: '2013-10-09T15:00:00.000Z',
      lastEngageNote:
        'last engaged at 2013-10-09T15:00:00.000Z (paper sessions running between then and the release stay halted for their day under the kill switch halt modes flatten and reduce-only; under pause-entries a released switch does not hold them)',
    });
  });
});
