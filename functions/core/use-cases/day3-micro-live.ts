/**
 * StartMicroLive, the Day-3 step after an approval: records the slice and its first leverage
 * decision and returns the promotion pipeline's input for it.
 */
import { initialLeverage } from '../leverage/policy.js';
import type { SliceRollback } from '../paper/slice-rollback.js';
import { type Day3Deps, day3Draft, streamOfExecution, tailOf } from './day3.js';
import { lineageReturnVariance } from './day3-curves.js';
import type { ApprovalResult, Day3Selection, LineageDay, MicroLiveSlice } from './day3-records.js';

/** The promotion pipeline's input for the micro-live slice (what `.sync:2` starts). */
export interface MicroLivePipelineInput {
  readonly source: 'event';
  readonly cohortId: string;
  readonly agentId: string;
  readonly capitalSliceUsd: number;
  readonly approvalId: string;
  /** Trades behind the approval: the candidate genome's total over its reviewed sessions. */
  readonly evidenceTradeCount: number;
  /**
   * The rollback monitor's thresholds and the candidate's Day 1-3 minute-return variance: the
   * slice's paper session watches its equity at the broker with them.
   */
  readonly sliceRollback: SliceRollback;
  /** Links the child execution to this one in the Step Functions console. */
  readonly AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID: string;
}

/**
 * StartMicroLive (after the approval): records the slice (`starting`) with the approver, the
 * capital slice and the Day 1-3 minute-return variance (the rollback monitor's yardstick),
 * stores the leverage policy's first decision (start 2x) with its rationale and records it
 * (`config_changed`, setting `micro_live.leverage`), and returns the promotion pipeline input
 * for the approved agent and slice. Idempotent per execution.
 *
 * The slice's capital is the capital slice; leverage caps its gross exposure (gross notional /
 * slice equity) and is enforced downstream by the gates' `maxLeverage` and recorded for the
 * rollback monitor (see docs/approval.md).
 *
 * @throws ValidationError, NotFoundError (artifacts), TransientError, AuditWriteError.
 */
export async function startMicroLive(
  deps: Day3Deps,
  input: {
    readonly selection: Day3Selection;
    readonly decision: ApprovalResult;
    readonly executionArn: string;
    readonly executionName: string;
  },
): Promise<{
  sliceId: string;
  capitalSliceUsd: number;
  leverage: number;
  approvedBy: string;
  pipelineInput: MicroLivePipelineInput;
}> {
  const { selection, decision } = input;
  const p = deps.promotion;
  const d3 = selection.candidate.days.at(-1) as LineageDay;
  const sliceId = `ml-${tailOf(input.executionName, 24)}`;
  const nowIso = new Date(p.clock.now()).toISOString();
  const first = initialLeverage(deps.config.leveragePolicy);
  const variance = await lineageReturnVariance(p.artifacts, selection.candidate.days);
  const slice = startingSlice(input, {
    sliceId,
    leverage: first.next,
    backtestReturnVariance: variance,
    nowIso,
  });
  const { slice: stored } = await deps.microLive.createSlice(slice);
  const { created, record } = await deps.microLive.recordLeverageDecision({
    ...first,
    sliceId,
    key: 'initial',
    decidedAtIso: nowIso,
    inputs: { capital_slice_usd: selection.capitalSliceUsd, approved_by: decision.by },
  });
  if (created) {
    await p.audit.append(
      day3Draft(
        deps,
        'config_changed',
        streamOfExecution(input.executionName),
        { execution_id: input.executionArn, agent_id: d3.agentId, genome_id: d3.genomeId },
        {
          setting: 'micro_live.leverage',
          slice_id: sliceId,
          previous: record.previous,
          next: record.next,
          rule: record.rule,
          rationale: record.rationale,
          approval_id: decision.approvalId,
          approved_by: decision.by,
          capital_slice_usd: selection.capitalSliceUsd,
        },
      ),
    );
  }
  const pipelineInput = pipelineInputOf(deps, input, stored);
  return {
    sliceId,
    capitalSliceUsd: stored.capitalSliceUsd,
    leverage: record.next,
    approvedBy: decision.by,
    pipelineInput,
  };
}

/** The promotion pipeline's input for the stored slice (the approved agent, its rollback). */
function pipelineInputOf(
  deps: Day3Deps,
  input: {
    readonly selection: Day3Selection;
    readonly decision: ApprovalResult;
    readonly executionArn: string;
  },
  stored: MicroLiveSlice,
): MicroLivePipelineInput {
  const d3 = input.selection.candidate.days.at(-1) as LineageDay;
  const variance = stored.backtestReturnVariance;
  return {
    source: 'event',
    cohortId: d3.cohortId,
    agentId: d3.agentId,
    capitalSliceUsd: stored.capitalSliceUsd,
    approvalId: input.decision.approvalId,
    evidenceTradeCount: input.selection.candidate.days.reduce((n, d) => n + d.tradeCount, 0),
    sliceRollback: {
      ...deps.config.rollback,
      backtestReturnVariance: variance !== null && variance > 0 ? variance : null,
    },
    AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID: input.executionArn,
  };
}

/** The slice record as StartMicroLive first stores it (`starting`, version 0). */
function startingSlice(
  input: {
    readonly selection: Day3Selection;
    readonly decision: ApprovalResult;
    readonly executionArn: string;
  },
  own: Pick<MicroLiveSlice, 'sliceId' | 'leverage' | 'backtestReturnVariance'> & {
    readonly nowIso: string;
  },
): MicroLiveSlice {
  const { selection, decision } = input;
  const d3 = selection.candidate.days.at(-1) as LineageDay;
  return {
    sliceId: own.sliceId,
    approvalId: decision.approvalId,
    approvedBy: decision.by,
    approvedAtIso: decision.atIso,
    executionArn: input.executionArn,
    reviewId: selection.reviewId,
    cohortId: d3.cohortId,
    agentId: d3.agentId,
    genomeId: d3.genomeId,
    lineageId: selection.candidate.lineageId,
    family: selection.candidate.family,
    symbol: selection.candidate.symbol,
    bankrollUsd: selection.bankrollUsd,
    capitalSliceUsd: selection.capitalSliceUsd,
    leverage: own.leverage,
    backtestReturnVariance: own.backtestReturnVariance,
    status: 'starting',
    statusReason: `approved by ${decision.by}; promotion pipeline starting`,
    promotionId: null,
    pipelineExecutionArn: null,
    entry: null,
    flattenClientOrderId: null,
    dailyCloses: [],
    version: 0,
    createdAtIso: own.nowIso,
    updatedAtIso: own.nowIso,
  };
}
