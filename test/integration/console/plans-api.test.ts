/**
 * The console API's plan routes (`/api/plans`, `/api/plans/current`, `.../report`,
 * `.../cancel`) over the local stack, with three real daily cohorts as the plan's evidence:
 * zod-validated bodies, the operator role for writes (any role reads), the CSRF token, and
 * every change and refusal in the audit trail (the same plan use cases as Slack and the CLI).
 * The router is called as the console Lambda and the local server call it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../../../functions/core/console/roles.js';
import type { ConsoleApi } from '../../../functions/core/use-cases/console-api.js';
import { localConsoleApi } from '../../../local/console-server.js';
import { type LocalStack, startLocalStack } from '../../../local/local-stack.js';
import { DATA_ROOT } from '../../support/paths.js';
import { auditRecords, runDailyCohort } from '../day3/support.js';

const CSRF = 'csrf-plans-test-0123456789';
let stack: LocalStack;
let api: ConsoleApi;

beforeAll(async () => {
  stack = await startLocalStack({ dataRoot: DATA_ROOT, stateDir: 'memory', logLevel: 'SILENT' });
  for (const d of ['2013-10-04', '2013-10-07', '2013-10-08']) {
    await runDailyCohort(stack, 'it-plans-api', d);
  }
  api = localConsoleApi(stack);
}, 240_000);

afterAll(async () => {
  await stack?.stop();
});

async function call(
  method: 'GET' | 'POST',
  path: string,
  options: { as: string; roles: Role[]; body?: unknown; csrf?: boolean },
) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (options.csrf !== false) {
    headers['x-csrf-token'] = CSRF;
    headers.cookie = `stagegate_csrf=${CSRF}`;
  }
  const out = await api.handle({
    method,
    path,
    query: {},
    headers,
    body: options.body === undefined ? '' : JSON.stringify(options.body),
    identity: options.as,
    roles: options.roles,
  });
  return { status: out.status, body: JSON.parse(out.body || 'null') };
}

const operator = { as: 'cognito:olivia@example.com', roles: ['operator'] as Role[] };
const viewer = { as: 'cognito:vera@example.com', roles: ['viewer'] as Role[] };

describe('console API: plans', () => {
  it('refuses a viewer, a missing CSRF token and an invalid body, each recorded', async () => {
    const byViewer = await call('POST', '/api/plans', {
      ...viewer,
      body: { amountUsd: 1000, days: 3 },
    });
    expect(byViewer.status).toBe(403);
    expect(byViewer.body).toMatchObject({ field: 'role' });

    const noCsrf = await call('POST', '/api/plans', {
      ...operator,
      body: { amountUsd: 1000, days: 3 },
      csrf: false,
    });
    expect(noCsrf.status).toBe(403);
    expect(noCsrf.body).toMatchObject({ field: 'csrf' });

    const bad = await call('POST', '/api/plans', {
      ...operator,
      body: { amountUsd: 1000, days: 0 },
    });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ field: 'body.days' });
    const extra = await call('POST', '/api/plans', {
      ...operator,
      body: { amountUsd: 1000, days: 3, leverage: 10 },
    });
    expect(extra.status).toBe(400);

    const refusals = (await auditRecords(stack)).filter(
      (r) => r.kind === 'input_rejected' && r.stream === 'console:refusals',
    );
    expect(refusals.map((r) => r.payload.field)).toEqual(
      expect.arrayContaining(['role', 'csrf', 'body.days']),
    );
    expect((await call('GET', '/api/plans/current', viewer)).body).toEqual({ plan: null });
  });

  it('an operator creates, reports and cancels a plan; any role reads it; each change is audited', async () => {
    // Act: create
    const created = await call('POST', '/api/plans', {
      ...operator,
      body: { amountUsd: 1000, days: 3 },
    });

    // Assess: the plan over the next three sessions, with its range from three sessions
    expect(created.status).toBe(201);
    const plan = created.body.plan;
    expect(plan.days.map((d: { sessionDate: string }) => d.sessionDate)).toEqual([
      '2013-10-09',
      '2013-10-10',
      '2013-10-11',
    ]);
    expect(plan.evidence.n).toBe(3);
    expect(plan.createdBy).toBe(operator.as);
    expect(created.body.lines.join('\n')).toMatch(/not a promise/);

    // A viewer reads it; a second plan is refused (422) and recorded
    const read = await call('GET', '/api/plans/current', viewer);
    expect(read.status).toBe(200);
    expect(read.body.plan.planId).toBe(plan.planId);
    const second = await call('POST', '/api/plans', {
      ...operator,
      body: { amountUsd: 500, days: 2 },
    });
    expect(second.status).toBe(422);
    expect(second.body.detail).toMatch(/is active/);

    // Report (no planned session has closed yet: nothing added), then cancel
    const report = await call('POST', '/api/plans/current/report', operator);
    expect(report.status).toBe(200);
    expect(report.body.plan.reports).toEqual([]);
    const viewerCancel = await call('POST', '/api/plans/current/cancel', {
      ...viewer,
      body: { reason: 'viewer tries' },
    });
    expect(viewerCancel.status).toBe(403);
    const canceled = await call('POST', '/api/plans/current/cancel', {
      ...operator,
      body: { reason: 'test over' },
    });
    expect(canceled.status).toBe(200);
    expect(canceled.body.plan.status).toBe('canceled');
    const again = await call('POST', '/api/plans/current/cancel', {
      ...operator,
      body: { reason: 'test over' },
    });
    expect(again.status).toBe(404);

    // The audit trail: created and canceled by the operator; the refusals on plan:commands
    const records = await auditRecords(stack);
    const events = records.filter((r) => r.kind === 'plan_event');
    expect(events.map((r) => [r.payload.event, r.actor])).toEqual([
      ['created', operator.as],
      ['canceled', operator.as],
    ]);
    const refused = records.filter(
      (r) => r.kind === 'input_rejected' && r.stream === 'plan:commands',
    );
    expect(refused.map((r) => [r.payload.source, r.payload.command])).toEqual([
      ['console', 'plan_grow'],
      ['console', 'plan_cancel'],
    ]);
  });
});
