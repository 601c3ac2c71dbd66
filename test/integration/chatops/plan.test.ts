/**
 * "Grow $X over N days" over the shared sessions on the local stack: the plan is made from
 * three real cohorts (evidence), then the next three real sessions run and the plan reports
 * actual vs plan for each (audited), and stops at its end, or at the first breach with the
 * reason when the drawdown limit is tight. Plan writes are compare-and-set on the real table
 * (DynamoDB Local): two creates racing store one plan, and a cancel and a create within one
 * second are two plans.
 */
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { buildPlanDeps } from '../../../functions/composition/chatops.js';
import { DEFAULT_LEVERAGE_POLICY } from '../../../functions/core/leverage/policy.js';
import {
  cancelActivePlan,
  growPlan,
  type PlanDeps,
  reportPlan,
  runPlanCommand,
} from '../../../functions/core/use-cases/plans.js';
import { ManualClock } from '../../../functions/ports/clock.js';
import { type LocalStack, startLocalStack } from '../../../local/local-stack.js';
import { DATA_ROOT } from '../../support/paths.js';
import { raceReads } from '../../support/plan-deps.js';
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

describe('plan writes on the real table are compare-and-set', () => {
  // After the tests above: no active plan, six sessions of evidence.
  const GROW = { kind: 'plan_grow', amountUsd: 500, days: 2 } as const;
  const CANCEL = { kind: 'plan_cancel', reason: 'race test' } as const;
  /** The ids of the records in the trail now. */
  const trailIds = async () => new Set((await auditRecords(stack)).map((r) => r.id));
  /** Plan records and refusals appended since `seen`, by stream then seq. */
  const trailSince = async (seen: Set<string>) =>
    (await auditRecords(stack))
      .filter((r) => !seen.has(r.id))
      .filter((r) => r.kind === 'plan_event' || r.kind === 'input_rejected')
      .map((r) =>
        r.kind === 'plan_event' ? `${r.payload.event} ${r.stream}` : `refused ${r.payload.error}`,
      );

  it('two creates racing store exactly one plan and one created record; the other is refused and recorded', async () => {
    // Prepare: both requests read the plan before either stores
    const real = deps(0.1);
    const d = { ...real, plans: raceReads(real.plans, 2) };
    const seen = await trailIds();

    // Act: two operators at once, each with their own key
    const outcomes = await Promise.allSettled([
      runPlanCommand(d, GROW, 'console:ann', 'console', 'race-key-ann-0123456789'),
      runPlanCommand(d, GROW, 'console:bob', 'console', 'race-key-bob-0123456789'),
    ]);
    onTestFinished(async () => {
      if ((await real.plans.read())?.plan.status === 'active') {
        await cancelActivePlan(real, { reason: 'race test over', by: 'console:ann' });
      }
    });

    // Assess
    const created = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value.plan] : []));
    const refused = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as Error] : []));
    expect(created).toHaveLength(1);
    const winner = created[0]?.planId;
    expect(refused.map((e) => e.message)).toEqual([
      `plan: plan ${winner} is active: plan cancel first`,
    ]);
    expect((await real.plans.read())?.plan.planId).toBe(winner);
    // (stream order: `plan:commands` sorts before `plan:plan-...`)
    expect(await trailSince(seen)).toEqual(['refused ValidationError', `created plan:${winner}`]);
  });

  it('a cancel and a create within one second (fixed clock) are two plans with two created records', async () => {
    // Prepare: a clock that never moves
    const d = { ...deps(0.1), clock: new ManualClock(Date.parse('2013-10-15T21:30:00Z')) };
    const seen = await trailIds();

    // Act
    const first = await runPlanCommand(d, GROW, 'cli:rick', 'cli');
    await runPlanCommand(d, CANCEL, 'cli:rick', 'cli');
    const second = await runPlanCommand(d, GROW, 'cli:rick', 'cli');

    // Assess
    const [a, b] = [first.plan?.planId, second.plan?.planId];
    expect(a?.slice(0, 20)).toBe('plan-20131015T213000');
    expect(b?.slice(0, 20)).toBe('plan-20131015T213000');
    expect(b).not.toBe(a);
    // Each plan's own stream (the streams sort by their random suffix, so compare per stream)
    const trail = await trailSince(seen);
    expect(trail.filter((r) => r.endsWith(`plan:${a}`))).toEqual([
      `created plan:${a}`,
      `canceled plan:${a}`,
    ]);
    expect(trail.filter((r) => r.endsWith(`plan:${b}`))).toEqual([`created plan:${b}`]);
    expect(trail).toHaveLength(3);
  });
});
