/**
 * A staged promotion as the paper slot reads it: pipeline-picked (no approval), generation-0
 * genome without parameters, a zero config hash, $100 of a $1,000 bankroll, neutral cohort
 * metrics (4 round trips), on the simulated broker. One definition for the slot tests
 * (`test/unit/use-cases/promotion-slot.test.ts`, `test/integration/paper-slot.test.ts`,
 * `test/integration/day3/support.ts`).
 */
import type { StagedPromotion } from '../../functions/core/use-cases/promotion-records.js';

/** Who the promotion stages and when: the fields every slot test sets. */
export interface StagedPromotionSubject {
  readonly promotionId: string;
  readonly cohortId: string;
  /** The cohort's session, `YYYY-MM-DD`. */
  readonly sessionDate: string;
  readonly agentId: string;
  readonly agentRank: number;
  readonly genome: { readonly id: string; readonly family: string; readonly symbol: string };
  /** UTC ISO-8601. */
  readonly stagedAtIso: string;
  readonly status: StagedPromotion['status'];
  /** Absent: `equity-usa` (as a record staged before markets existed). */
  readonly market?: StagedPromotion['market'];
}

/**
 * The staged promotion of `subject` (see the module comment); `statusReason` defaults to
 * `test: <status>`, the broker to `simulated:local-paper`; `extra` overrides any field.
 */
export function stagedPromotionOf(
  subject: StagedPromotionSubject,
  extra: Partial<StagedPromotion> = {},
): StagedPromotion {
  const { genome, status, ...rest } = subject;
  return {
    ...rest,
    genome: { ...genome, generation: 0, parentIds: [], params: {} },
    configHash: '0'.repeat(64),
    bankrollUsd: 1000,
    capitalSliceUsd: 100,
    metrics: {
      totalPnlUsd: 0,
      sharpe: 0,
      maxDrawdownFraction: 0,
      parentMaxDrawdownFraction: 0,
      tradeCount: 4,
    },
    broker: 'simulated:local-paper',
    approvalId: null,
    status,
    statusReason: `test: ${status}`,
    ...extra,
  };
}
