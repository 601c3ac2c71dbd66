/**
 * RequestApproval, the `.waitForTaskToken` step of the Day-3 go/no-go state machine: stores
 * the approval request with its task token and announces the signed link.
 */
import { createHmac } from 'node:crypto';
import { defaultChain } from '../approval/chain.js';
import { type ApprovalKey, buildApprovalLink, expFromMs } from '../approval/links.js';
import type { ApprovalSummary } from '../approval/types.js';
import type { AuditPayload } from '../audit/record.js';
import { type Day3ApprovalDeps, day3Draft, streamOfExecution } from './day3.js';
import { lineageEquityCurve } from './day3-curves.js';
import type { Day3Selection, LineageDay } from './day3-records.js';

/**
 * The approval id of an execution: `base64url(HMAC-SHA256(key, "approval-id:v1:<arn>"))`
 * truncated to 22 characters (132 bits). Opaque without the key, and stable for one execution,
 * so a retried RequestApproval task (which gets a new task token) updates the same request
 * instead of creating a second one.
 */
export function approvalIdFor(executionArn: string, key: ApprovalKey): string {
  return createHmac('sha256', key)
    .update(`approval-id:v1:${executionArn}`, 'utf8')
    .digest('base64url')
    .slice(0, 22);
}

/** The approver's view of a selection (what the page and the Slack message show). */
export function approvalSummaryOf(selection: Day3Selection): ApprovalSummary {
  const c = selection.candidate;
  const d3 = c.days.at(-1) as LineageDay;
  return {
    candidateId: d3.genomeId,
    agentId: d3.agentId,
    family: c.family,
    symbol: c.symbol,
    sessionDates: [...selection.sessionDates],
    metrics: selection.metrics,
    gates: selection.gates.results.map((g) => ({ ...g })) as ApprovalSummary['gates'],
    bankrollUsd: selection.bankrollUsd,
    capitalSliceUsd: selection.capitalSliceUsd,
    leverage: selection.leverage,
    demoOverride: selection.demoOverride?.label ?? null,
    reportUrl: selection.reportUrl,
  };
}

/**
 * RequestApproval (the Lambda behind the `.waitForTaskToken` task): stores the request with
 * the task token (encrypted by the store), the candidate summary, its equity curve and the
 * approver allow-list, expiring after the configured timeout; records `approval_requested`;
 * then announces the signed link. The link carries only the approval id, its expiry and an
 * HMAC signature, never the token.
 *
 * A retried task (Step Functions gives every attempt a new task token) keeps ONE request per
 * execution (the approval id is derived from it): the store swaps in the new token, the live
 * one, and keeps the first attempt's deadline, so the link already posted stays the same and
 * resolves to the live token; the message is posted only when no message ref is stored yet;
 * `approval_requested` is appended once per step when the handler scopes `promotion.audit` to
 * the step (docs/approval.md, "Retries of RequestApproval"). An older attempt finishing after
 * a newer one changes nothing (`superseded`).
 *
 * @returns the approval id and the stored expiry (the task's result comes from the decision).
 * @throws ValidationError (bad selection, short key, bad base URL), ApprovalAlreadyDecidedError
 *   (a retried task after a decision), NotificationRejectedError, TransientError.
 */
export async function requestDay3Approval(
  deps: Day3ApprovalDeps,
  input: {
    readonly selection: Day3Selection;
    readonly taskToken: string;
    readonly executionArn: string;
    readonly executionName: string;
  },
): Promise<{ approvalId: string; expiresAtIso: string; superseded?: true }> {
  const { selection } = input;
  const p = deps.promotion;
  const approvalId = approvalIdFor(input.executionArn, deps.key);
  const nowMs = p.clock.now();
  // Nothing sends heartbeats: the task's deadline is the earlier of its two timers.
  const deadlineSeconds = Math.min(
    selection.approval.timeoutSeconds,
    selection.approval.heartbeatSeconds,
  );
  const summary = approvalSummaryOf(selection);
  const equityCurve = await lineageEquityCurve(p.artifacts, selection.candidate.days);
  const stored = await deps.approvals.create({
    approvalId,
    taskToken: input.taskToken,
    executionArn: input.executionArn,
    summary,
    equityCurve: equityCurve.map(([t, v]) => [t, v] as [number, number]),
    approvers: [...deps.config.approvers],
    ...(deps.config.chain ? { chain: deps.config.chain } : {}),
    createdAtIso: new Date(nowMs).toISOString(),
    expiresAtIso: new Date(nowMs + deadlineSeconds * 1000).toISOString(),
  });
  // The stored request's deadline: a retried task's is its first attempt's.
  const { expiresAtIso } = stored;
  if (stored.outcome === 'superseded') return { approvalId, expiresAtIso, superseded: true };
  const expiresAtMs = Date.parse(expiresAtIso);
  const link = buildApprovalLink(
    { baseUrl: deps.approvalBaseUrl, approvalId, exp: expFromMs(expiresAtMs) },
    deps.key,
  );
  const d3 = selection.candidate.days.at(-1) as LineageDay;
  await p.audit.append(
    day3Draft(
      deps,
      'approval_requested',
      streamOfExecution(input.executionName),
      {
        execution_id: input.executionArn,
        cohort_id: d3.cohortId,
        agent_id: d3.agentId,
        genome_id: d3.genomeId,
      },
      approvalRequestedPayload(deps, { approvalId, selection, expiresAtIso }),
    ),
  );
  const already = await deps.microLive.getMessageRef(approvalId);
  if (!already) {
    const ref = await deps.announcer.request(summary, {
      approvalId,
      approvalUrl: link.url,
      expiresAtIso,
    });
    await deps.microLive.saveMessageRef(approvalId, ref);
  }
  return { approvalId, expiresAtIso };
}

/** The `approval_requested` record's payload: the candidate, its ranking, gates and slice. */
function approvalRequestedPayload(
  deps: Day3ApprovalDeps,
  input: {
    readonly approvalId: string;
    readonly selection: Day3Selection;
    readonly expiresAtIso: string;
  },
): AuditPayload<'approval_requested'> {
  const { selection } = input;
  return {
    approval_id: input.approvalId,
    review_id: selection.reviewId,
    lineage_id: selection.candidate.lineageId,
    cohort_ids: selection.cohortIds,
    session_dates: selection.sessionDates,
    metrics: selection.metrics,
    ranking: selection.ranking.map((r) => ({
      rank: r.rank,
      lineage_id: r.lineageId,
      symbol: r.symbol,
      genome_id: r.lineageId,
      in_sample_mean_roi: r.inSampleMeanRoi,
      in_sample_sessions: r.inSampleSessions,
      out_of_sample_mean_roi: r.outOfSampleMeanRoi,
      out_of_sample_sessions: r.outOfSampleSessions,
      min_daily_trades: r.minDailyTrades,
      eligible: r.eligible,
    })),
    gates_passed: selection.gates.passed,
    verdict: selection.verdict,
    demo_override: selection.demoOverride?.label ?? null,
    evidence: { ...selection.evidence, sessions: selection.evidence.sessions.length },
    capital_slice_usd: selection.capitalSliceUsd,
    leverage: selection.leverage,
    approvers: deps.config.approvers,
    chain: (deps.config.chain ?? defaultChain(deps.config.approvers)).map((s) => ({
      role: s.role,
      approvers: s.approvers,
    })),
    expires_at: input.expiresAtIso,
    timeout_seconds: selection.approval.timeoutSeconds,
  };
}
