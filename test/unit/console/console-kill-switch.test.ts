/**
 * The console's kill-switch door says what an engage left undone: `POST /api/kill-switch`
 * answers the use case's `cancelErrors` and `flattenErrors` and the sentence every door shows
 * (`shortfall`: "K cancel(s) failed: <ids>; engage again"), null when nothing failed.
 */
import { describe, expect, it } from 'vitest';
import { ConsoleApi, type ConsoleApiDeps } from '../../../functions/core/use-cases/console-api.js';
import type { KillSwitchOutcome } from '../../../functions/core/use-cases/kill-switch.js';
import { ManualClock } from '../../../functions/ports/clock.js';
import { MemoryAuditSink } from '../../support/doubles/memory-audit-sink.js';

const CSRF = 'csrf-console-kill-0123';

function post(undone: Pick<KillSwitchOutcome, 'cancelErrors' | 'flattenErrors'>) {
  const clock = new ManualClock(Date.parse('2013-10-09T15:00:00Z'));
  const setKillSwitch: ConsoleApiDeps['setKillSwitch'] = async (input) => ({
    state: {
      engaged: input.engaged,
      reason: input.reason,
      changedBy: input.by,
      changedAtIso: '2013-10-09T15:00:00.000Z',
    },
    canceled: ['sgp_p1_entry_1'],
    flattened: [],
    ...undone,
  });
  const api = new ConsoleApi({
    setKillSwitch,
    audit: new MemoryAuditSink(clock),
    environment: 'local',
    clock,
  } as unknown as ConsoleApiDeps);
  return api.handle({
    method: 'POST',
    path: '/api/kill-switch',
    query: {},
    headers: {
      'content-type': 'application/json',
      'x-csrf-token': CSRF,
      cookie: `stagegate_csrf=${CSRF}`,
    },
    body: JSON.stringify({ engaged: true, reason: 'broker outage' }),
    identity: 'cognito:olivia@example.com',
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
    expect(JSON.parse(res.body)).toMatchObject({ cancelErrors: [], shortfall: null });
  });
});
