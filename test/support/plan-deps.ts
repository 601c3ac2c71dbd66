/**
 * Plan use-case deps over memory (the unit tests of `functions/core/use-cases/plans.ts`):
 * the given cohorts as the desk's evidence, no promotions, a {@link MemoryPlanStore}, a
 * memory audit trail on a manual clock, the stage limits {@link PLAN_LIMITS}; the three
 * sessions most plan tests stand on, and an active plan over them.
 */

import type { PlanRecord } from '../../functions/core/chatops/plan.js';
import { DEFAULT_LEVERAGE_POLICY } from '../../functions/core/leverage/policy.js';
import type { CohortSummary } from '../../functions/core/use-cases/cohort-records.js';
import { growPlan, type PlanDeps } from '../../functions/core/use-cases/plans.js';
import { ManualClock } from '../../functions/ports/clock.js';
import type { PlanStore } from '../../functions/ports/plan-store.js';
import { MemoryAuditSink } from './doubles/memory-audit-sink.js';
import { MemoryPlanStore } from './doubles/memory-plan-store.js';

/** A complete daily cohort of `sessionDate` on a $10,000 bankroll that made `totalPnlUsd`. */
export const dailyCohort = (sessionDate: string, totalPnlUsd: number) =>
  ({
    cohortId: `coh-${sessionDate}`,
    sessionDate,
    completedAtIso: `${sessionDate}T21:00:00.000Z`,
    symbols: ['SPY'],
    bankrollUsd: 10_000,
    agentCount: 5,
    totalPnlUsd,
    bestAgentId: 'a1',
  }) as unknown as CohortSummary;

/**
 * The stage's plan limits of the plan tests: the core's leverage policy, US equities, a
 * $10,000 bankroll within $1,000-$100,000, a 10 % largest drawdown.
 */
export const PLAN_LIMITS = {
  policy: DEFAULT_LEVERAGE_POLICY,
  market: 'equity-usa',
  bankrollUsd: 10_000,
  bankrollLimits: { minUsd: 1_000, maxUsd: 100_000 },
  maxDrawdownFraction: 0.1,
} as const satisfies Pick<
  PlanDeps,
  'policy' | 'market' | 'bankrollUsd' | 'bankrollLimits' | 'maxDrawdownFraction'
>;

/** Memory plan deps at `nowIso` over `cohorts`; the store, trail and clock to assess with. */
export function memoryPlanDeps(nowIso: string, cohorts: readonly CohortSummary[]) {
  const clock = new ManualClock(Date.parse(nowIso));
  const audit = new MemoryAuditSink(clock);
  const store = new MemoryPlanStore();
  const deps: PlanDeps = {
    plans: store,
    readModel: {
      listCohorts: async () => ({ items: [...cohorts], next: null }),
      listPromotions: async () => ({ items: [], next: null }),
    },
    audit,
    environment: 'local',
    clock,
    ...PLAN_LIMITS,
  };
  return { deps, store, audit, clock };
}

/** The evening a plan is made after three sessions of evidence (2013-10-07 to 10-09). */
export const THIRD_SESSION_EVENING_ISO = '2013-10-09T21:30:00Z';

/**
 * Memory plan deps over three sessions of evidence (2013-10-07 +$12, 10-08 -$30, 10-09 +$8)
 * and `extra` cohorts, at `nowIso` (default {@link THIRD_SESSION_EVENING_ISO}); `cohorts` is
 * the desk's live list (a cohort pushed later is evidence from then on).
 */
export function threeSessionPlanDeps(
  extra: readonly CohortSummary[] = [],
  nowIso = THIRD_SESSION_EVENING_ISO,
) {
  const cohorts = [
    dailyCohort('2013-10-07', 12),
    dailyCohort('2013-10-08', -30),
    dailyCohort('2013-10-09', 8),
    ...extra,
  ];
  return { ...memoryPlanDeps(nowIso, cohorts), cohorts };
}

/** An active plan ($500 over 3 days, by `slack:UOLD`) grown over the three sessions. */
export async function activePlan(): Promise<PlanRecord> {
  return growPlan(threeSessionPlanDeps().deps, { amountUsd: 500, days: 3, by: 'slack:UOLD' });
}

/**
 * `store` whose first `n` reads answer only once all `n` were made: `n` requests run at once
 * all decide on the same version, as when they arrive together (the race is forced, not
 * left to the scheduler); later reads (a loser's re-read) pass straight through.
 */
export function raceReads(store: PlanStore, n: number): PlanStore {
  let waiting = n;
  let release: () => void = () => {};
  const all = new Promise<void>((resolve) => {
    release = resolve;
  });
  return {
    read: async () => {
      const out = await store.read();
      if (waiting > 0) {
        waiting -= 1;
        if (waiting === 0) release();
        await all;
      }
      return out;
    },
    write: (plan, expected) => store.write(plan, expected),
  };
}
