/**
 * What happens after a decision attempt on a Day-3 approval, whichever door it came through
 * (the approval page, the Slack interactivity endpoint, the local CLI's auto mode):
 *
 * 1. audit the attempt ({@link recordAttempt}: `approval_decided` with the approver as actor,
 *    or `input_rejected` with the refusal's reason) BEFORE anything acts on it;
 * 2. for a recorded decision, resume the waiting execution: SendTaskSuccess with the
 *    {@link ApprovalResult} on approval, SendTaskFailure `ApprovalRejected` on rejection; a
 *    signature that does not complete the request's approval chain (functions/core/approval/
 *    chain.ts) releases nothing: the execution keeps waiting for the next step (or its timeout);
 * 3. replace the announced request with the decision and who made it, or, after a partial
 *    signature, with who signed and which steps are still due (best effort: a failed message
 *    update is reported, never undoes the decision).
 *
 * A refusal changes nothing but the audit trail.
 */

import type { ApprovalAnnouncer } from '../../ports/approval-announcer.js';
import type { ApprovalStore, ApprovalView } from '../../ports/approval-store.js';
import type { AuditSink } from '../../ports/audit.js';
import type { MicroLiveRepository } from '../../ports/micro-live.js';
import type { PostedMessage } from '../../ports/notifier.js';
import type { TaskTokenPort } from '../../ports/task-token.js';
import { type DecideOutcome, recordAttempt } from '../approval/decide.js';
import type { AuditDraft } from '../audit/record.js';
import { TaskTokenInvalidError } from '../errors.js';
import type { ApprovalResult } from './day3-records.js';

/** Error name the RequestApproval task fails with on a rejection (its Catch matches it). */
export const APPROVAL_REJECTED_ERROR = 'ApprovalRejected';

/** What {@link applyApprovalDecision} needs. */
export interface ApplyDecisionDeps {
  readonly taskTokens: TaskTokenPort;
  readonly audit: AuditSink;
  readonly environment: AuditDraft['environment'];
  readonly approvals: ApprovalStore;
  readonly announcer: ApprovalAnnouncer;
  readonly microLive: MicroLiveRepository;
}

/** What happened to the waiting execution. */
export interface AppliedDecision {
  /** The attempt's audit record id. */
  readonly auditRecordId: string;
  /**
   * `resumed`: the execution continues with the decision; `waiting`: the signature is recorded
   * and the chain needs more, so the execution keeps waiting; `gone`: the decision is recorded
   * but the execution no longer waits (it timed out or ended; TaskTokenInvalidError);
   * `refused`: the attempt was refused, nothing changed.
   */
  readonly execution: 'resumed' | 'waiting' | 'gone' | 'refused';
  /** Why the announced message could not be updated (null when it was, or there is none). */
  readonly announceError: string | null;
}

/**
 * Audits an attempt and, for a recorded decision, resumes the execution and updates the
 * announced message (see the module comment).
 *
 * @param messageRef where the request was announced, when the caller knows it (Slack gives it
 *   with the click); otherwise it is looked up.
 * @throws AuditWriteError / ValidationError from the audit sink (nothing was acted on);
 *   TransientError when Step Functions keeps failing (the decision is recorded: retrying the
 *   request finds it already decided, the execution then times out as not approved).
 */
export async function applyApprovalDecision(
  deps: ApplyDecisionDeps,
  outcome: DecideOutcome,
  messageRef?: PostedMessage | null,
): Promise<AppliedDecision> {
  const record = await deps.audit.append({
    ...recordAttempt(outcome),
    environment: deps.environment,
  });
  if (!outcome.ok) {
    return { auditRecordId: record.id, execution: 'refused', announceError: null };
  }
  if (!outcome.chainComplete || outcome.taskToken === null) {
    const announceError = await announce(deps, outcome.approvalId, messageRef, (view, ref) =>
      deps.announcer.progress(
        view.summary,
        {
          approvalId: view.approvalId,
          chain: view.chain,
          signatures: view.signatures,
          expiresAtIso: view.expiresAtIso,
          exp: view.exp,
        },
        ref,
      ),
    );
    return { auditRecordId: record.id, execution: 'waiting', announceError };
  }
  let execution: AppliedDecision['execution'] = 'resumed';
  try {
    if (outcome.status === 'approved') {
      const result: ApprovalResult = {
        approvalId: outcome.approvalId,
        decision: 'approved',
        by: outcome.by,
        atIso: outcome.atIso,
        channel: outcome.channel,
      };
      await deps.taskTokens.sendTaskSuccess(outcome.taskToken, result);
    } else {
      await deps.taskTokens.sendTaskFailure(
        outcome.taskToken,
        APPROVAL_REJECTED_ERROR,
        `rejected by ${outcome.by} at ${outcome.atIso} via ${outcome.channel}`,
      );
    }
  } catch (err) {
    if (!(err instanceof TaskTokenInvalidError)) throw err;
    execution = 'gone';
  }
  const announceError = await announce(deps, outcome.approvalId, messageRef, (view, ref) =>
    deps.announcer.outcome(
      view.summary,
      {
        approvalId: outcome.approvalId,
        decision: outcome.status,
        by: outcome.by,
        atIso: outcome.atIso,
      },
      ref,
    ),
  );
  return { auditRecordId: record.id, execution, announceError };
}

/**
 * Updates the announced message of `approvalId` (found with `messageRef` or looked up) with
 * `update`, best effort.
 * @returns why it failed, or null (also when nothing was announced).
 */
async function announce(
  deps: ApplyDecisionDeps,
  approvalId: string,
  messageRef: PostedMessage | null | undefined,
  update: (view: ApprovalView, ref: PostedMessage) => Promise<void>,
): Promise<string | null> {
  try {
    const ref = messageRef ?? (await deps.microLive.getMessageRef(approvalId));
    if (ref) await update(await deps.approvals.getForDisplay(approvalId), ref);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}
