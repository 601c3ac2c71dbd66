/**
 * Plan use-case deps over memory (the unit tests of `functions/core/use-cases/plans.ts`):
 * the given cohorts as the desk's evidence, no promotions, a {@link MemoryPlanStore}, a
 * memory audit trail on a manual clock, the core's leverage policy.
 */
import { DEFAULT_LEVERAGE_POLICY } from '../../functions/core/leverage/policy.js';
import type { CohortSummary } from '../../functions/core/use-cases/cohort-records.js';
import type { PlanDeps } from '../../functions/core/use-cases/plans.js';
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
    policy: DEFAULT_LEVERAGE_POLICY,
    market: 'equity-usa',
    bankrollUsd: 10_000,
    bankrollLimits: { minUsd: 1_000, maxUsd: 100_000 },
    maxDrawdownFraction: 0.1,
  };
  return { deps, store, audit, clock };
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
