/**
 * "Grow $X over N days" over the shared sessions on the local stack: the plan is made from
 * three real cohorts (evidence), then the next three real sessions run and the plan reports
 * actual vs plan for each (audited), and stops at its end, or at the first breach with the
 * reason when the drawdown limit is tight.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPlanDeps } from '../../../functions/composition/chatops.js';
import { DEFAULT_LEVERAGE_POLICY } from '../../../functions/core/leverage/policy.js';
import {
  cancelActivePlan,
  growPlan,
  type PlanDeps,
  reportPlan,
} from '../../../functions/core/use-cases/plans.js';
import { type LocalStack, startLocalStack } from '../../../local/local-stack.js';
import { DATA_ROOT } from '../../support/paths.js';
import { auditRecords, runDailyCohort } from '../day3/support.js';

let stack: LocalStack;

const cohort = (sessionDate: string) => runDailyCohort(stack, 'it-plan', sessionDate);

const deps = (maxDrawdownFraction: number): PlanDeps =>
  buildPlanDeps(stack.runtime, {
    policy: DEFAULT_LEVERAGE_POLICY,
    market: 'equity-usa',
    bankrollUsd: 1000,
    bankrollLimits: { minUsd: 50, maxUsd: 100_000 },
    maxDrawdownFraction,
  });

beforeAll(async () => {
  stack = await startLocalStack({ dataRoot: DATA_ROOT, stateDir: 'memory', logLevel: 'SILENT' });
  for (const d of ['2013-10-04', '2013-10-07', '2013-10-08']) await cohort(d);
}, 240_000);

afterAll(async () => {
  await stack?.stop();
});

describe('plan grow over the six shared sessions', () => {
  it('refuses a plan without enough evidence or beyond the bankroll limits', async () => {
    const tight = { ...deps(0.1), bankrollLimits: { minUsd: 5000, maxUsd: 10_000 } };
    await expect(growPlan(tight, { amountUsd: 1000, days: 3, by: 'slack:UTEST' })).rejects.toThrow(
      /bankroll/,
    );
  });

  it('creates the plan, reports actual vs plan each session, and stops at the end or on a breach', async () => {
    const plan = await growPlan(deps(0.1), { amountUsd: 1000, days: 3, by: 'slack:UTEST' });
    expect(plan.days.map((d) => d.sessionDate)).toEqual(['2013-10-09', '2013-10-10', '2013-10-11']);
    expect(plan.evidence.n).toBe(3);
    expect(plan.days.every((d) => d.leverage === 2 && d.esUsd >= d.varUsd)).toBe(true);
    expect(plan.expected.p05Usd).toBeLessThanOrEqual(plan.expected.p95Usd);
    expect(plan.expected.runs).toBe(2000);

    // Before the sessions ran nothing is reported.
    expect((await reportPlan(deps(0.1))).added).toEqual([]);
    await cohort('2013-10-09');
    const first = await reportPlan(deps(0.1));
    expect(first.added.map((r) => r.sessionDate)).toEqual(['2013-10-09']);
    await cohort('2013-10-10');
    await cohort('2013-10-11');
    const rest = await reportPlan(deps(0.1));
    const reported = [...first.added, ...rest.added];
    expect(rest.plan?.status).toMatch(/completed|breached/);
    expect(rest.plan?.stopReason).toEqual(expect.any(String));
    if (rest.plan?.status === 'completed') expect(reported).toHaveLength(3);
    for (const r of reported) {
      expect(r.leverage).toBeLessThanOrEqual(2);
      expect(Number.isFinite(r.actualPnlUsd)).toBe(true);
    }
    const events = (await auditRecords(stack)).filter((r) => r.kind === 'plan_event');
    expect(events.map((r) => r.payload.event)).toEqual([
      'created',
      ...reported.map(() => 'day_reported'),
      'stopped',
    ]);
  });

  it('plans the sessions after the newest evidence and cancels the active plan (recorded)', async () => {
    const strict = deps(0.000_001);
    await expect(cancelActivePlan(strict, { reason: 'x', by: 'slack:UTEST' })).rejects.toThrow(
      /active plan/,
    );
    // Evidence now holds six sessions: the next plan covers the sessions after them.
    const plan = await growPlan(strict, { amountUsd: 500, days: 2, by: 'slack:UTEST' });
    expect(plan.days.map((d) => d.sessionDate)).toEqual(['2013-10-14', '2013-10-15']);
    const canceled = await cancelActivePlan(strict, { reason: 'test', by: 'slack:UTEST' });
    expect(canceled.status).toBe('canceled');
  });
});
