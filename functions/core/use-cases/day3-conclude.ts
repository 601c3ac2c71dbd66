/** Conclude, the last step of the Day-3 go/no-go state machine: how the review ended. */
import type { ApprovalAnnouncer } from '../../ports/approval-announcer.js';
import type { ApprovalStore } from '../../ports/approval-store.js';
import type { ApprovalKey } from '../approval/links.js';
import { TransientError, ValidationError } from '../errors.js';
import { SLICE_ROLLBACK_REASON } from '../paper/slice-rollback.js';
import { type Day3Deps, day3Draft, streamOfExecution } from './day3.js';
import type { ApprovalResult, Day3Selection, LineageDay, MicroLiveSlice } from './day3-records.js';
import { approvalIdFor } from './day3-request-approval.js';

/** How a Day-3 execution ended. */
export type Day3Outcome =
  | 'micro_live_started'
  | 'micro_live_not_started'
  | 'not_approved'
  | 'gates_failed'
  /** The order-time gates passed, the evidence gates (`psr`, `dsr`) did not. */
  | 'insufficient_evidence';

/** The Day-3 execution's output. */
export interface Day3Conclusion {
  readonly outcome: Day3Outcome;
  readonly reason: string;
  /** The approval decision: `expired` on a timeout; null when no approval was requested. */
  readonly decision: 'approved' | 'rejected' | 'expired' | null;
  readonly reviewId: string;
  readonly agentId: string;
  readonly approvalId: string | null;
  /** Approver identity `scheme:id` (null when nobody decided). */
  readonly decidedBy: string | null;
  readonly sliceId: string | null;
  readonly promotionId: string | null;
}

/** What the Conclude step receives, per path of the state machine. */
export type ConcludeInput =
  | { readonly kind: 'gates_failed'; readonly selection: Day3Selection }
  | {
      readonly kind: 'timed_out' | 'rejected';
      readonly selection: Day3Selection;
      /** The Catch output `{ Error, Cause }` of the RequestApproval task. */
      readonly error: { readonly Error: string; readonly Cause?: string | null };
    }
  | {
      readonly kind: 'micro_live';
      readonly selection: Day3Selection;
      readonly decision: ApprovalResult;
      readonly sliceId: string;
      /** The promotion pipeline's output (`{ promotionId, outcome, reason }`). */
      readonly pipelineOutput: { promotionId: string; outcome: string; reason: string };
      readonly pipelineExecutionArn: string;
    };

/**
 * Conclude: records how the Day-3 review ended and returns the execution's output.
 * - `gates_failed`: `promotion_completed` (outcome `gates_failed`, the failed gates) on the
 *   review's stream; no approval was requested.
 * - `timed_out`: nobody decided before the deadline: `approval_decided` with decision `expired`
 *   (actor `stagegate/day3-go-no-go`, reason "not approved"), and the announced request is
 *   replaced by its expiry notice.
 * - `rejected`: the approver's `approval_decided` (decision `rejected`) is already recorded by
 *   the page or Slack handler; the output says not approved, by whom.
 * - `micro_live`: the slice becomes `active` with the pipeline's entry fill when the pipeline
 *   promoted, else `not_started` with the pipeline's reason.
 *
 * @throws TransientError, AuditWriteError; NotFoundError (unknown slice).
 */
export async function concludeDay3(
  deps: ConcludeDeps,
  input: ConcludeInput & ExecutionRef,
): Promise<Day3Conclusion> {
  const s = input.selection;
  const d3 = s.candidate.days.at(-1) as LineageDay;
  const base: ConclusionBase = {
    decision: null,
    reviewId: s.reviewId,
    agentId: d3.agentId,
    approvalId: null,
    decidedBy: null,
    sliceId: null,
    promotionId: null,
  };
  if (input.kind === 'gates_failed') return concludeGatesFailed(deps, { ...input, d3, base });
  if (input.kind === 'rejected') return concludeRejected(deps, { ...input, base });
  if (input.kind === 'timed_out') return concludeTimedOut(deps, { ...input, d3, base });
  if (input.kind !== 'micro_live') throw new ValidationError('kind', 'unknown Day-3 outcome');
  return concludeMicroLive(deps, { ...input, d3, base });
}

/** What Conclude needs beyond the Day-3 dependencies (absent: no approval was set up). */
type ConcludeDeps = Day3Deps & {
  readonly approvals?: ApprovalStore;
  readonly announcer?: ApprovalAnnouncer;
  readonly key?: ApprovalKey;
};

interface ExecutionRef {
  readonly executionArn: string;
  readonly executionName: string;
}

type ConclusionBase = Omit<Day3Conclusion, 'outcome' | 'reason' | 'decision'> & {
  readonly decision: null;
};

/** The path's input with the Day-3 session of the candidate and the output's common fields. */
type PathInput<K extends ConcludeInput['kind']> = ConcludeInput & {
  readonly kind: K;
} & ExecutionRef & { readonly d3: LineageDay; readonly base: ConclusionBase };

/** `gates_failed`: `promotion_completed` (outcome `gates_failed`, the failed gates). */
async function concludeGatesFailed(
  deps: ConcludeDeps,
  input: PathInput<'gates_failed'>,
): Promise<Day3Conclusion> {
  const { selection: s, d3 } = input;
  const failed = s.gates.results
    .filter((g) => g.verdict === 'fail')
    .map((g) => `${g.gate} (observed ${g.observed}, threshold ${g.threshold} ${g.unit})`);
  const outcome = s.verdict === 'insufficient_evidence' ? 'insufficient_evidence' : 'gates_failed';
  const against = (s.evidenceAgainst ?? []).map((a) => a.split(':')[0]);
  const reason = `${outcome === 'insufficient_evidence' ? 'insufficient evidence' : 'failed gates'}: ${failed.join('; ')}${against.length > 0 ? `; evidence against the candidate (${against.join(', ')}), which no override looks past` : ''}`;
  await deps.promotion.audit.append(
    day3Draft(
      deps,
      'promotion_completed',
      `promotion:${s.reviewId}`,
      {
        promotion_id: s.reviewId,
        cohort_id: d3.cohortId,
        agent_id: d3.agentId,
        execution_id: input.executionArn,
      },
      {
        outcome: 'gates_failed',
        verdict: s.verdict,
        evidence_against: s.evidenceAgainst ?? [],
        reason,
        review: 'day3',
        evidence: { ...s.evidence, sessions: s.evidence.sessions.length },
      },
    ),
  );
  return { ...input.base, outcome, reason };
}

/** `rejected`: the approver's decision is already recorded; the output says by whom. */
async function concludeRejected(
  deps: ConcludeDeps,
  input: Omit<PathInput<'rejected' | 'timed_out'>, 'd3'>,
): Promise<Day3Conclusion> {
  const approvalId = deps.key ? approvalIdFor(input.executionArn, deps.key) : null;
  const reason = `not approved: ${input.error.Cause ?? 'rejected'}`;
  const view = approvalId && deps.approvals ? await deps.approvals.getForDisplay(approvalId) : null;
  return {
    ...input.base,
    decision: 'rejected',
    approvalId,
    decidedBy: view?.decidedBy ?? null,
    outcome: 'not_approved',
    reason,
  };
}

/** `timed_out`: `approval_decided` (expired) and the announced request's expiry notice. */
async function concludeTimedOut(
  deps: ConcludeDeps,
  input: PathInput<'rejected' | 'timed_out'>,
): Promise<Day3Conclusion> {
  const { selection: s, d3 } = input;
  const approvalId = deps.key ? approvalIdFor(input.executionArn, deps.key) : null;
  const atIso = new Date(deps.promotion.clock.now()).toISOString();
  const reason = `not approved: no decision within ${s.approval.timeoutSeconds} s (${input.error.Error})`;
  await deps.promotion.audit.append(
    day3Draft(
      deps,
      'approval_decided',
      streamOfExecution(input.executionName),
      { execution_id: input.executionArn, agent_id: d3.agentId, genome_id: d3.genomeId },
      {
        decision: 'expired',
        reason,
        outcome: 'not_approved',
        approval_id: approvalId,
        timeout_seconds: s.approval.timeoutSeconds,
        error: input.error.Error,
      },
    ),
  );
  if (approvalId && deps.approvals && deps.announcer) {
    const ref = await deps.microLive.getMessageRef(approvalId);
    if (ref) {
      const view = await deps.approvals.getForDisplay(approvalId);
      await deps.announcer.outcome(
        view.summary,
        { approvalId, decision: 'expired', by: null, atIso },
        ref,
      );
    }
  }
  return { ...input.base, decision: 'expired', approvalId, outcome: 'not_approved', reason };
}

/** The net position the pipeline's orders left: signed qty, signed notional, last fill. */
interface NetPosition {
  readonly qty: number;
  readonly notional: number;
  readonly lastFillMs: number;
  readonly symbol: string;
}

function netPositionOf(
  orders: Awaited<ReturnType<Day3Deps['promotion']['promotions']['listOrders']>>,
  fallbackSymbol: string,
): NetPosition {
  let qty = 0;
  let notional = 0;
  let lastFillMs = 0;
  let symbol = fallbackSymbol;
  for (const o of orders) {
    const signed = o.order.side === 'buy' ? o.order.filledQty : -o.order.filledQty;
    qty += signed;
    notional += signed * (o.order.avgFillPriceUsd ?? 0);
    if (o.order.filledQty > 0) {
      lastFillMs = Math.max(lastFillMs, o.order.updatedAtMs);
      symbol = o.order.symbol;
    }
  }
  return { qty, notional, lastFillMs, symbol };
}

/**
 * `micro_live`: the slice becomes `active` with the pipeline's entry fill when the pipeline
 * promoted the approved agent, else `not_started` (or `flattening`, with a `rollback` record,
 * when the pipeline staged another agent than the approved one and holds a position).
 */
async function concludeMicroLive(
  deps: ConcludeDeps,
  input: PathInput<'micro_live'>,
): Promise<Day3Conclusion> {
  const p = deps.promotion;
  const { selection: s } = input;
  const out = input.pipelineOutput;
  const promoted = out.outcome === 'promoted';
  const orders = promoted ? await p.promotions.listOrders(out.promotionId) : [];
  const position = netPositionOf(orders, s.candidate.symbol);
  const hasPosition = promoted && Math.abs(position.qty) > 1e-9;
  const mismatch = await approvalMismatch(deps, input, position.qty);
  // The slice trades through the paper session (statemachines/paper-session.asl.json), which
  // flattens at the close: a promoted slice is active even when it ends the day flat.
  // Rolled back by the slice's rollback monitor inside its paper session (demoted, flattened).
  const rolledBack = out.outcome === 'halted' && out.reason.startsWith(SLICE_ROLLBACK_REASON);
  let status: MicroLiveSlice['status'] = promoted
    ? 'active'
    : rolledBack
      ? 'rolled_back'
      : 'not_started';
  let statusReason = promoted
    ? `promoted by ${out.promotionId}: ${out.reason}`
    : `promotion ${out.promotionId} ${out.outcome}: ${out.reason}`;
  if (mismatch) {
    statusReason = `${mismatch}: ${hasPosition ? 'flattening the unapproved position' : 'nothing to flatten'}`;
    status = hasPosition ? 'flattening' : 'not_started';
  }
  await markSliceConcluded(deps, input, {
    status,
    statusReason,
    entry: hasPosition
      ? {
          symbol: position.symbol,
          qty: position.qty,
          avgPriceUsd: position.notional / position.qty,
          filledAtIso: new Date(position.lastFillMs).toISOString(),
        }
      : null,
  });
  const started = (promoted || rolledBack) && !mismatch;
  return {
    ...input.base,
    outcome: started ? 'micro_live_started' : 'micro_live_not_started',
    decision: 'approved',
    reason: `${s.demoOverride ? '[demo override: approved without sufficient evidence] ' : ''}${started ? out.reason : (mismatch ?? `promotion ${out.outcome}: ${out.reason}`)}`,
    approvalId: input.decision.approvalId,
    decidedBy: input.decision.by,
    sliceId: input.sliceId,
    promotionId: out.promotionId,
  };
}

/**
 * Safety net: the pipeline must have promoted exactly the approved agent of the approved
 * cohort. Anything else is not what the approver saw: records `rollback`
 * (`approval_mismatch`) and returns the mismatch; null when the staged promotion matches.
 */
async function approvalMismatch(
  deps: ConcludeDeps,
  input: PathInput<'micro_live'>,
  positionQty: number,
): Promise<string | null> {
  const { d3, pipelineOutput: out } = input;
  const staged = await deps.promotion.promotions.get(out.promotionId);
  if (staged.agentId === d3.agentId && staged.cohortId === d3.cohortId) return null;
  const mismatch = `the pipeline staged ${staged.agentId} of ${staged.cohortId}, not the approved ${d3.agentId} of ${d3.cohortId}`;
  await deps.promotion.audit.append(
    day3Draft(
      deps,
      'rollback',
      `promotion:${out.promotionId}`,
      {
        promotion_id: out.promotionId,
        cohort_id: staged.cohortId,
        agent_id: staged.agentId,
        execution_id: input.executionArn,
      },
      {
        slice_id: input.sliceId,
        trigger: 'approval_mismatch',
        reason: mismatch,
        approved_agent_id: d3.agentId,
        approved_cohort_id: d3.cohortId,
        position_qty: positionQty,
      },
    ),
  );
  return mismatch;
}

/** Moves the slice out of `starting` (optimistic, 5 attempts); a retried Conclude is a no-op. */
async function markSliceConcluded(
  deps: ConcludeDeps,
  input: PathInput<'micro_live'>,
  change: Pick<MicroLiveSlice, 'status' | 'statusReason' | 'entry'>,
): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const slice = await deps.microLive.getSlice(input.sliceId);
    if (slice.status !== 'starting') return; // a retried Conclude: already concluded
    const next: MicroLiveSlice = {
      ...slice,
      ...change,
      promotionId: input.pipelineOutput.promotionId,
      pipelineExecutionArn: input.pipelineExecutionArn,
      version: slice.version + 1,
      updatedAtIso: new Date(deps.promotion.clock.now()).toISOString(),
    };
    if (await deps.microLive.updateSlice(next)) return;
    if (attempt >= 4) throw new TransientError(`slice ${input.sliceId} keeps moving`);
  }
}
