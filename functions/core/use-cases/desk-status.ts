/**
 * The desk's status at a glance (console `GET /api/status`, the Slack `/stagegate status`
 * command): the kill switch, the newest complete cohort, the newest partial cohort, the
 * newest promotion, and the pending approval requests that have not expired.
 *
 * Read only; role checks are the caller's (any console role may read it).
 */
import type { Clock } from '../../ports/clock.js';
import type { ConsoleReadModel } from '../../ports/console-read-model.js';
import type { KillSwitchPort, KillSwitchState } from '../../ports/kill-switch.js';
import { pendingApprovalsAt } from '../approval/pending.js';
import type { CohortSummary } from './cohort-records.js';
import type { StagedPromotion } from './promotion-records.js';

/** Most approval requests scanned for pending ones (newest first). */
const APPROVAL_SCAN = 50;

export interface DeskStatusDeps {
  readonly readModel: ConsoleReadModel;
  readonly killSwitch: Pick<KillSwitchPort, 'read'>;
  readonly clock: Clock;
}

/** A pending approval as the status shows it (no task token, no curve). */
export interface PendingApproval {
  readonly approvalId: string;
  readonly candidateId: string;
  readonly agentId: string;
  readonly symbol: string;
  readonly bankrollUsd: number;
  readonly capitalSliceUsd: number;
  /** Approver identities allowed to decide (`scheme:id`). */
  readonly approvers: readonly string[];
  readonly expiresAtIso: string;
}

export interface DeskStatus {
  /** UTC ISO-8601 time of the answer (the Clock port). */
  readonly asOfIso: string;
  /** The switch; `engaged: false, changedBy: null` when it was never set. */
  readonly killSwitch:
    | KillSwitchState
    | {
        readonly engaged: false;
        readonly reason: 'never set';
        readonly changedBy: null;
        readonly changedAtIso: null;
      };
  /** Newest complete cohort (session date, bankroll USD, total PnL USD), or null. */
  readonly latestCohort: CohortSummary | null;
  /** Newest partial (intraday) cohort, or null. */
  readonly latestPartialCohort: CohortSummary | null;
  /** Newest promotion, or null. */
  readonly latestPromotion: StagedPromotion | null;
  /** Pending, unexpired approval requests, newest first. */
  readonly pendingApprovals: readonly PendingApproval[];
}

/**
 * Reads the status.
 * @throws TransientError from the read model or the kill switch.
 */
export async function deskStatus(deps: DeskStatusDeps): Promise<DeskStatus> {
  const nowMs = deps.clock.now();
  const [killSwitch, cohorts, partials, promotions, approvals] = await Promise.all([
    deps.killSwitch.read(),
    deps.readModel.listCohorts({ limit: 1 }),
    deps.readModel.listCohorts({ limit: 1, kind: 'partial' }),
    deps.readModel.listPromotions({ limit: 1 }),
    deps.readModel.listApprovals({ limit: APPROVAL_SCAN }),
  ]);
  return {
    asOfIso: new Date(nowMs).toISOString(),
    killSwitch: killSwitch ?? {
      engaged: false,
      reason: 'never set',
      changedBy: null,
      changedAtIso: null,
    },
    latestCohort: cohorts.items[0] ?? null,
    latestPartialCohort: partials.items[0] ?? null,
    latestPromotion: promotions.items[0] ?? null,
    pendingApprovals: pendingApprovalsAt(approvals.items, nowMs).map((a) => ({
      approvalId: a.approvalId,
      candidateId: a.summary.candidateId,
      agentId: a.summary.agentId,
      symbol: a.summary.symbol,
      bankrollUsd: a.summary.bankrollUsd,
      capitalSliceUsd: a.summary.capitalSliceUsd,
      approvers: a.approvers,
      expiresAtIso: a.expiresAtIso,
    })),
  };
}
