/**
 * What happens after a decision attempt on a Day-3 approval, whichever door it came through
 * (the approval page, the Slack interactivity endpoint, the local CLI's auto mode):
 *
 * 1. audit the attempt ({@link recordAttempt}: `approval_decided` with the approver as actor,
 *    or `input_rejected` with the refusal's reason) BEFORE anything acts on it, once per
 *    logical request when the door gives its natural key (a redelivery is answered from the
 *    recorded attempt and acts on nothing);
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
import {
  type AttemptAnswer,
  answerOf,
  answerOfRecord,
  type DecideOutcome,
  recordAttempt,
} from '../approval/decide.js';
import type { AuditDraft, AuditRecord } from '../audit/record.js';
import { appendKeyedOnce } from '../audit/step-scoped.js';
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
   * `refused`: the attempt was refused, nothing changed; `replayed`: a redelivery of an
   * attempt already recorded under the same `attemptKey`: nothing was appended or acted on.
   */
  readonly execution: 'resumed' | 'waiting' | 'gone' | 'refused' | 'replayed';
  /** Why the announced message could not be updated (null when it was, or there is none). */
  readonly announceError: string | null;
  /**
   * What to answer: this attempt's outcome, or for `replayed` the first delivery's, read back
   * from its record (so a redelivery answers as the first delivery did).
   */
  readonly answer: AttemptAnswer;
}

/**
 * Appends the attempt's record, once per `attemptKey` when given (`appendKeyedOnce`): a
 * redelivery of a recorded attempt gets that record back (`replayed`). A fresh signature is
 * never swallowed: when this attempt recorded a signature (only one attempt can) but the key
 * was committed by an earlier refused attempt (e.g. a form first refused as not yet due), the
 * signature is appended on its own.
 */
async function appendAttempt(
  audit: AuditSink,
  draft: AuditDraft,
  signed: boolean,
  attemptKey: readonly unknown[] | null,
): Promise<{ record: AuditRecord; replayed: boolean }> {
  const parts = attemptKey ? ['approval-attempt', ...attemptKey] : null;
  const out = await appendKeyedOnce(audit, draft, parts);
  if (out.replayed && signed) return { record: await audit.append(draft), replayed: false };
  return out;
}

/**
 * Audits an attempt and, for a recorded decision, resumes the execution and updates the
 * announced message (see the module comment).
 *
 * @param messageRef where the request was announced, when the caller knows it (Slack gives it
 *   with the click); otherwise it is looked up.
 * @param attemptKey the natural key of the request that made the attempt, the same on every
 *   redelivery of it (Slack: the click's action identity; the page: the form's nonce with the
 *   approval id, decision and approver): the attempt is recorded once, and a redelivery
 *   answers the recorded attempt (`replayed`). Null: every call is its own attempt.
 * @throws AuditWriteError / ValidationError from the audit sink (nothing was acted on);
 *   TransientError when Step Functions keeps failing (the decision is recorded: retrying the
 *   request finds it already decided, the execution then times out as not approved).
 */
export async function applyApprovalDecision(
  deps: ApplyDecisionDeps,
  outcome: DecideOutcome,
  messageRef?: PostedMessage | null,
  attemptKey: readonly unknown[] | null = null,
): Promise<AppliedDecision> {
  const draft: AuditDraft = { ...recordAttempt(outcome), environment: deps.environment };
  const { record, replayed } = await appendAttempt(deps.audit, draft, outcome.ok, attemptKey);
  if (replayed) {
    return {
      auditRecordId: record.id,
      execution: 'replayed',
      announceError: null,
      answer: answerOfRecord(record),
    };
  }
  const answer = answerOf(outcome);
  if (!outcome.ok) {
    return { auditRecordId: record.id, execution: 'refused', announceError: null, answer };
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
    return { auditRecordId: record.id, execution: 'waiting', announceError, answer };
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
  return { auditRecordId: record.id, execution, announceError, answer };
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
