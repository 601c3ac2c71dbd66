/**
 * The daily report and the plan it reports: a plan that keeps changing under the report
 * (PlanConflictError after the plan use cases' own attempts) does not lose the report; it is
 * built without the plan's lines and says so, and the next report reports the session.
 */
import { describe, expect, it } from 'vitest';
import { PlanConflictError } from '../../../functions/core/errors.js';
import {
  buildDailyReport,
  type DailyReportDeps,
  PLAN_CHANGED_LINE,
} from '../../../functions/core/use-cases/daily-report.js';
import { growPlan, type PlanDeps } from '../../../functions/core/use-cases/plans.js';
import { dailyCohort, threeSessionPlanDeps } from '../../support/plan-deps.js';

const empty = async () => ({ items: [], next: null });
const SESSION = {
  sessionDate: '2013-10-10',
  closeIso: '2013-10-10T20:00:00.000Z',
  earlyClose: false,
};

/** An active plan over three sessions of evidence, with its first session (10-10) closed. */
async function planWithAClosedSession() {
  const made = threeSessionPlanDeps();
  const plan = await growPlan(made.deps, { amountUsd: 500, days: 3, by: 'slack:UOPS' });
  made.cohorts.push(dailyCohort('2013-10-10', 5));
  return { ...made, plan };
}

/** Daily-report deps over nothing but the plan (no cohorts, approvals or trading of its own). */
function reportDeps(plan: PlanDeps): DailyReportDeps {
  return {
    readModel: { listCohorts: empty, listPromotions: empty, listApprovals: empty },
    cohorts: { get: async () => Promise.reject(new Error('no cohort is read')) },
    auditReader: { readRecords: async () => [], readHeads: async () => new Map() },
    audit: { append: async () => undefined, appendMany: async () => undefined },
    artifacts: {},
    environment: 'dev',
    clock: plan.clock,
    market: 'equity-usa',
    channel: {},
    minPsr: 0.95,
    plan,
  } as unknown as DailyReportDeps;
}

describe('the daily report under a plan race', () => {
  it('a plan that keeps changing under the report: the report is built, saying so; the next one reports the session', async () => {
    // Prepare: every plan write loses (another request always stored first).
    const { deps, store, plan } = await planWithAClosedSession();
    const racing: PlanDeps = {
      ...deps,
      plans: {
        read: () => store.read(),
        write: async (_plan, expected) => Promise.reject(new PlanConflictError(expected)),
      },
    };

    // Act
    const raced = await buildDailyReport(reportDeps(racing), SESSION);
    const next = await buildDailyReport(reportDeps(deps), SESSION);

    // Assess
    expect(raced.plan).toEqual([PLAN_CHANGED_LINE]);
    expect(raced.sessionDate).toBe('2013-10-10');
    expect(next.plan?.[0]).toContain(plan.planId);
    expect(next.plan?.join('\n')).toMatch(/2013-10-10 \| .* at \d+x/);
    expect((await store.read())?.plan.reports.map((r) => r.sessionDate)).toEqual(['2013-10-10']);
  });
});
