/**
 * What happens after a decision attempt on a Day-3 approval, whichever door it came through
 * (the approval page, the Slack interactivity endpoint, the operator console, the local CLI's
 * auto mode):
 *
 * 1. audit the attempt: a signature the store recorded is appended as `approval_decided` (actor
 *    the approver) under the key stored with it (`ApprovalSignature.auditKey`), a refusal as
 *    `input_rejected` with its reason, once per logical request when the door gives its
 *    natural key. The store's signature and its record are a recoverable pair: the signature
 *    is claimed first (the atomic arbiter between concurrent signers), and whoever finds it
 *    without its record (a redelivery of the signing request, {@link recordMissingSignatures}
 *    at Conclude) appends it once under that key. Nothing resumes the execution before the
 *    record is durable: no effect of a decision without its audit;
 * 2. for a signature that completes the request's chain (functions/core/approval/chain.ts),
 *    resume the waiting execution: SendTaskSuccess with the {@link ApprovalResult} on
 *    approval, SendTaskFailure `ApprovalRejected` on rejection, and mark in the store what that
 *    did (`resumed`, or `gone` when Step Functions refused the token: TaskTimedOut,
 *    TaskDoesNotExist, InvalidToken). A redelivery of the signing request re-sends the resume
 *    when no mark says it was done (the first delivery failed or crashed before it), and
 *    answers from what actually happened; a signature that does not complete the chain
 *    releases nothing (the execution keeps waiting for the next step, or its timeout);
 * 3. replace the announced request with the decision and who made it, or, after a partial
 *    signature, with who signed and which steps are still due (best effort: a failed message
 *    update is reported, never undoes the decision).
 *
 * A refusal changes nothing but the audit trail.
 */

import type { ApprovalAnnouncer } from '../../ports/approval-announcer.js';
import type { ApprovalStore, ApprovalView, ResumeMark } from '../../ports/approval-store.js';
import type { AuditSink, AuditStreamReader, IdempotentAuditSink } from '../../ports/audit.js';
import type { Clock } from '../../ports/clock.js';
import type { ExecutionDescriber } from '../../ports/executions.js';
import type { MicroLiveRepository } from '../../ports/micro-live.js';
import type { PostedMessage } from '../../ports/notifier.js';
import type { TaskTokenPort } from '../../ports/task-token.js';
import type { ApprovalSignature } from '../approval/chain.js';
import {
  type AttemptAnswer,
  answerOf,
  answerOfRecord,
  type DecideFailure,
  type DecideOutcome,
  type DecideSuccess,
  recordAttempt,
  signatureAuditKey,
  signatureDraft,
} from '../approval/decide.js';
import {
  unconfirmedFinding,
  type WorkflowFinding,
  workflowFinding,
} from '../approval/workflow-finding.js';
import { type AuditDraft, type AuditRecord, auditDraft } from '../audit/record.js';
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
  /** When a resume is marked (absent: the signature's time). */
  readonly clock?: Clock;
  /** Reads the execution when a redelivery's re-sent resume is refused (DescribeExecution). */
  readonly executions: ExecutionDescriber;
}

/** What happened to the waiting execution. */
export interface AppliedDecision {
  /** The attempt's audit record id (for a signature: its `approval_decided` record). */
  readonly auditRecordId: string;
  /**
   * `resumed`: the execution continues with the decision (now, or by an earlier delivery);
   * `waiting`: the signature is recorded and the chain needs more, so the execution keeps
   * waiting; `gone`: the decision is recorded but the execution no longer waits for it (its
   * task had timed out or it had ended: Step Functions refused the token of a fresh claim,
   * which nothing had used), so it was NOT acted on; `running`, `concluded`, `unconfirmed`:
   * the decision is recorded and a redelivery's re-sent resume was refused (which Step
   * Functions also answers for a token an earlier delivery already used), so the execution
   * was read (DescribeExecution; {@link AppliedDecision.workflow} says what it found): still
   * running (the re-send failed), ended with the decision it took, or unreadable (nothing
   * claimed); `refused`: the attempt was refused, nothing changed.
   */
  readonly execution:
    | 'resumed'
    | 'waiting'
    | 'gone'
    | 'running'
    | 'concluded'
    | 'unconfirmed'
    | 'refused';
  /**
   * What the workflow did with the decision, read after a redelivery's re-sent resume was
   * refused (recorded `approval_reconciled`); null otherwise.
   */
  readonly workflow: WorkflowFinding | null;
  /**
   * True for a redelivery of a request whose attempt was recorded already (under the same
   * `attemptKey`): nothing new was decided; a signature's missing record or unsent resume was
   * completed, a refusal is answered as recorded.
   */
  readonly replayed: boolean;
  /** Why the announced message could not be updated (null when it was, or there is none). */
  readonly announceError: string | null;
  /** What to answer: this attempt's outcome, or for a replay the recorded attempt's. */
  readonly answer: AttemptAnswer;
}

/** What a signature's record and resume need of its request. */
type SignedRequest = Pick<ApprovalView, 'approvalId' | 'executionArn' | 'resume'> & {
  readonly summary: Pick<ApprovalView['summary'], 'candidateId' | 'agentId'>;
  readonly chain: { readonly length: number };
};

/** A stored signature with its request: what a redelivery or a sweep completes. */
interface StoredSignature {
  readonly view: SignedRequest;
  readonly signature: ApprovalSignature;
  /** Whether it decided the request (its signer's signature completed the chain). */
  readonly complete: boolean;
}

/**
 * Appends `draft` under the hex idempotency key `key` through the sink's `appendManyOnce`
 * (a plain append on a sink without it).
 */
async function appendUnder(
  audit: AuditSink,
  draft: AuditDraft,
  key: string,
): Promise<{ record: AuditRecord; replayed: boolean }> {
  const once = (audit as Partial<IdempotentAuditSink>).appendManyOnce;
  if (typeof once !== 'function') return { record: await audit.append(draft), replayed: false };
  const out = await once.call(audit, [draft], key);
  return { record: out.records[0] as AuditRecord, replayed: out.replayed };
}

/**
 * Audits an attempt and, for a recorded decision, resumes the execution and updates the
 * announced message (see the module comment).
 *
 * @param messageRef where the request was announced, when the caller knows it (Slack gives it
 *   with the click); otherwise it is looked up.
 * @param attemptKey the natural key of the request that made the attempt, the same on every
 *   redelivery of it (Slack: the click's action identity; the page: the form's nonce with the
 *   approval id, decision and approver; the console: its Idempotency-Key), and the one the
 *   door passed to `decideApproval`: the attempt is recorded once, and a redelivery answers
 *   the recorded attempt (`replayed`), completing what its first delivery left undone. Null:
 *   every call is its own attempt.
 * @throws AuditWriteError / ValidationError from the audit sink (nothing was acted on);
 *   TransientError when Step Functions or the store keep failing (the decision is recorded,
 *   its resume not: a redelivery of the same request re-sends it).
 */
export async function applyApprovalDecision(
  deps: ApplyDecisionDeps,
  outcome: DecideOutcome,
  messageRef?: PostedMessage | null,
  attemptKey: readonly unknown[] | null = null,
): Promise<AppliedDecision> {
  if (outcome.ok) return applySignature(deps, fresh(outcome), messageRef, false);
  const own = attemptKey ? await ownSignature(deps, outcome, attemptKey) : null;
  if (own) return applySignature(deps, own, messageRef, true);
  const draft: AuditDraft = { ...recordAttempt(outcome), environment: deps.environment };
  const parts = attemptKey ? ['approval-attempt', ...attemptKey] : null;
  const { record, replayed } = await appendKeyedOnce(deps.audit, draft, parts);
  return {
    auditRecordId: record.id,
    execution: 'refused',
    workflow: null,
    replayed,
    announceError: null,
    answer: replayed ? answerOfRecord(record) : answerOf(outcome),
  };
}

/** A fresh signature as a stored one. */
function fresh(outcome: DecideSuccess): StoredSignature & { readonly token: string | null } {
  return {
    view: {
      approvalId: outcome.approvalId,
      executionArn: outcome.executionArn,
      summary: { candidateId: outcome.candidateId, agentId: outcome.agentId },
      chain: { length: outcome.chainLength },
      resume: null,
    },
    signature: {
      step: outcome.step,
      role: outcome.role as ApprovalSignature['role'],
      decision: outcome.status,
      by: outcome.by,
      atIso: outcome.atIso,
      channel: outcome.channel,
      note: outcome.note,
      auditKey: outcome.auditKey,
    },
    complete: outcome.chainComplete,
    token: outcome.taskToken,
  };
}

/**
 * The refused attempt's own stored signature, when the refusal (already decided / already
 * signed) is a redelivery of the request that signed: its signer's signature carries the key
 * this attempt derives ({@link signatureAuditKey}).
 */
async function ownSignature(
  deps: ApplyDecisionDeps,
  outcome: DecideFailure,
  attemptKey: readonly unknown[],
): Promise<StoredSignature | null> {
  const { approvalId, approver } = outcome;
  if (approvalId === null || approver === null) return null;
  if (outcome.kind !== 'reused' && outcome.kind !== 'signed') return null;
  const key = signatureAuditKey(approvalId, approver, attemptKey);
  const view = await deps.approvals.getForDisplay(approvalId);
  const signature = view.signatures.find((s) => s.by === approver && s.auditKey === key);
  if (!signature) return null;
  return { view, signature, complete: view.status !== 'pending' && view.decidedBy === approver };
}

/**
 * Records a signature (once, under its key), then resumes the execution when it completed the
 * chain and updates the announced message. `replayed`: a redelivery of the signing request.
 */
async function applySignature(
  deps: ApplyDecisionDeps,
  s: StoredSignature & { readonly token?: string | null },
  messageRef: PostedMessage | null | undefined,
  replayed: boolean,
): Promise<AppliedDecision> {
  const { view, signature } = s;
  const key = signature.auditKey ?? signatureAuditKey(view.approvalId, signature.by, null);
  const draft = { ...signatureDraft(view, signature, s.complete), environment: deps.environment };
  const { record, replayed: recorded } = await appendUnder(deps.audit, draft, key);
  const answer: AttemptAnswer = {
    ok: true,
    status: signature.decision,
    by: signature.by,
    atIso: signature.atIso,
    step: signature.step,
    of: view.chain.length,
    role: signature.role,
    complete: s.complete,
  };
  const base = { auditRecordId: record.id, replayed, answer };
  if (!s.complete) {
    // A redelivery whose record was there already was announced by its first delivery.
    const announceError = recorded
      ? null
      : await announceProgress(deps, view.approvalId, messageRef);
    return { ...base, execution: 'waiting', workflow: null, announceError };
  }
  const { execution, workflow } = await resume(deps, view, signature, s.token);
  if (recorded && view.resume) return { ...base, execution, workflow, announceError: null };
  const announceError = await announceDecided(deps, s, workflow, messageRef);
  return { ...base, execution, workflow, announceError };
}

/**
 * Updates the announced message of a complete chain: with the decision; or, when a redelivery
 * read the execution (`workflow`, its re-sent resume refused), with the workflow's finding
 * instead, so the channel never says more than the execution (never "Approved ... micro-live
 * starting" on a timed-out or failed one). An `unconfirmed` finding leaves the message as it
 * is: nothing is known, nothing is claimed (the approver's answer and the audit say so).
 */
function announceDecided(
  deps: ApplyDecisionDeps,
  { view, signature }: StoredSignature,
  workflow: WorkflowFinding | null,
  messageRef: PostedMessage | null | undefined,
): Promise<string | null> {
  const finding = workflow?.finding;
  if (finding === 'unconfirmed') return Promise.resolve(null);
  const { approvalId } = view;
  if (workflow && finding) {
    const announced = { approvalId, finding, message: workflow.message };
    return announce(deps, approvalId, messageRef, (v, ref) =>
      deps.announcer.finding(v.summary, announced, ref),
    );
  }
  const { decision, by, atIso } = signature;
  return announce(deps, approvalId, messageRef, (v, ref) =>
    deps.announcer.outcome(v.summary, { approvalId, decision, by, atIso }, ref),
  );
}

/**
 * Resumes the execution with the decided request's decision, unless a mark says it was done:
 * with `token` (a fresh claim's) or the store's token for the decider (a redelivery). Marks
 * what it did in the store. A refused token means `gone` only for a fresh claim's token,
 * which nothing had used; a redelivery's refusal leaves no mark (Step Functions refuses a
 * token already used as it refuses a timed-out one, and the earlier delivery may have resumed
 * the execution without storing its mark): the execution is read instead ({@link reconcile}).
 */
async function resume(
  deps: ApplyDecisionDeps,
  view: SignedRequest,
  signature: ApprovalSignature,
  token: string | null | undefined,
): Promise<Pick<AppliedDecision, 'execution' | 'workflow'>> {
  if (view.resume) return { execution: view.resume.outcome, workflow: null };
  const redelivery = token === undefined;
  const taskToken = redelivery
    ? await deps.approvals.decidedTaskToken(view.approvalId, signature.by)
    : token;
  let outcome: ResumeMark['outcome'] = 'resumed';
  try {
    if (taskToken === null) throw new TaskTokenInvalidError('invalid', 'no task token');
    await sendDecision(deps.taskTokens, taskToken, view.approvalId, signature);
  } catch (err) {
    if (!(err instanceof TaskTokenInvalidError)) throw err;
    if (redelivery) {
      const workflow = await reconcile(deps, view, signature);
      return { execution: workflow.finding, workflow };
    }
    outcome = 'gone';
  }
  const atIso = deps.clock ? new Date(deps.clock.now()).toISOString() : signature.atIso;
  // Best effort: the execution is resumed (or gone) whether or not the mark is stored.
  await deps.approvals.markResume(view.approvalId, { outcome, atIso }).catch(() => undefined);
  return { execution: outcome, workflow: null };
}

/**
 * What the workflow did with a decision whose re-sent resume was refused: the execution read
 * with DescribeExecution ({@link workflowFinding}; `unconfirmed` when that fails: fail closed),
 * recorded `approval_reconciled` on the execution's stream once per finding (a redelivery
 * that finds the same appends nothing).
 *
 * @throws AuditWriteError / ValidationError from the sink (the finding is not answered).
 */
async function reconcile(
  deps: ApplyDecisionDeps,
  view: SignedRequest,
  signature: ApprovalSignature,
): Promise<WorkflowFinding> {
  let finding: WorkflowFinding;
  try {
    finding = workflowFinding(await deps.executions.describeExecution(view.executionArn));
  } catch (err) {
    finding = unconfirmedFinding(`DescribeExecution failed: ${(err as Error).name}`);
  }
  const decided = signatureDraft(view, signature, true);
  const draft = auditDraft('approval_reconciled', {
    actor: RECONCILE_ACTOR,
    stream: decided.stream,
    environment: deps.environment,
    subject: decided.subject,
    payload: {
      approval_id: view.approvalId,
      decision: signature.decision,
      signed_by: signature.by,
      finding: finding.finding,
      execution_status: finding.status,
      workflow_decision: finding.decision,
      workflow_outcome: finding.outcome,
      message: finding.message,
    },
  });
  const { finding: f, status, decision } = finding;
  const parts = ['approval-reconciled', view.approvalId, signature.by, f, status, decision];
  await appendKeyedOnce(deps.audit, draft, parts);
  return finding;
}

/** The actor of an `approval_reconciled` record (the doors' own check, not a signer). */
export const RECONCILE_ACTOR = 'stagegate/approvals';

/** SendTaskSuccess with the {@link ApprovalResult}, or SendTaskFailure `ApprovalRejected`. */
async function sendDecision(
  taskTokens: TaskTokenPort,
  taskToken: string,
  approvalId: string,
  signature: ApprovalSignature,
): Promise<void> {
  if (signature.decision === 'approved') {
    const result: ApprovalResult = {
      approvalId,
      decision: 'approved',
      by: signature.by,
      atIso: signature.atIso,
      channel: signature.channel,
    };
    await taskTokens.sendTaskSuccess(taskToken, result);
    return;
  }
  await taskTokens.sendTaskFailure(
    taskToken,
    APPROVAL_REJECTED_ERROR,
    `rejected by ${signature.by} at ${signature.atIso} via ${signature.channel}`,
  );
}

/** The announced request's progress after a partial signature (best effort). */
function announceProgress(
  deps: ApplyDecisionDeps,
  approvalId: string,
  messageRef: PostedMessage | null | undefined,
): Promise<string | null> {
  return announce(deps, approvalId, messageRef, (view, ref) =>
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
}

/**
 * The sweep of the pair "signature, then its record": appends the `approval_decided` record of
 * every signature of `approvalId` whose record is missing (a door crashed between the claim
 * and its audit), once, under the key stored with the signature; a recorded signature appends
 * nothing. A signature stored before signatures carried their key (no `auditKey`) gets the key
 * the doors derive for a signature without an attempt key ({@link signatureAuditKey} with
 * null, as {@link applySignature} does), and is appended only when its stream holds no
 * `approval_decided` of that approver for that request from the signature's time to
 * {@link LEGACY_RECORD_WINDOW_MS} after it (the older doors appended it within the signing
 * request, under an attempt key nobody stored): read through the sink's
 * {@link AuditStreamReader} when it has one. Run by Conclude, where the approval wait ended;
 * `audit` must be the sink itself (not a step-scoped one), so the keys are the signatures'.
 *
 * @returns how many records it appended.
 * @throws ApprovalNotFoundError, TransientError from the store; AuditWriteError from the sink.
 */
export async function recordMissingSignatures(
  deps: Pick<ApplyDecisionDeps, 'audit' | 'approvals' | 'environment'>,
  approvalId: string,
): Promise<number> {
  const view = await deps.approvals.getForDisplay(approvalId);
  let appended = 0;
  for (const signature of view.signatures) {
    const complete = view.status !== 'pending' && signature === view.signatures.at(-1);
    const draft = { ...signatureDraft(view, signature, complete), environment: deps.environment };
    const key = signature.auditKey ?? signatureAuditKey(view.approvalId, signature.by, null);
    if (!signature.auditKey && (await recordedByOlderDoor(deps.audit, draft, signature))) continue;
    if (!(await appendUnder(deps.audit, draft, key)).replayed) appended += 1;
  }
  return appended;
}

/**
 * How long after a signature an older door (one that stored no `auditKey`) could have appended
 * its record: the signing request's own run, at most a Lambda's 15-minute limit.
 */
export const LEGACY_RECORD_WINDOW_MS = 15 * 60_000;

/**
 * Whether the stream of `draft` holds the `approval_decided` record of `signature`'s approver
 * for the request, appended within {@link LEGACY_RECORD_WINDOW_MS} of the signature. False
 * when the sink cannot read streams back (then the record is appended: a record is never
 * left missing).
 */
async function recordedByOlderDoor(
  audit: AuditSink,
  draft: AuditDraft,
  signature: ApprovalSignature,
): Promise<boolean> {
  const reader = audit as Partial<AuditStreamReader>;
  if (typeof reader.readStreamHours !== 'function') return false;
  const toIso = new Date(Date.parse(signature.atIso) + LEGACY_RECORD_WINDOW_MS).toISOString();
  const records = await reader.readStreamHours.call(audit, draft.stream, signature.atIso, toIso);
  const approvalId = (draft.payload as { approval_id?: unknown }).approval_id;
  return records.some(
    (r) =>
      r.kind === 'approval_decided' &&
      r.actor === signature.by &&
      (JSON.parse(r.payload) as { approval_id?: unknown }).approval_id === approvalId,
  );
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
