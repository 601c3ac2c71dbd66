/**
 * Server-side store of Day-3 approval requests. The Step Functions task token lives here
 * (encrypted), never in links or messages: the approval page and Slack only carry the opaque
 * approval id. Each request can be decided ONCE (conditional write).
 *
 * A request needs the signatures of its chain (functions/core/approval/chain.ts), in order, each
 * from a distinct approver; the task token is released only to the claim that completes it.
 *
 * Reads are split by audience:
 * - {@link ApprovalStore.getForDisplay} returns what a page may show, WITHOUT the task token;
 * - {@link ApprovalStore.claimDecision} is the only path to the token, and only for the one
 *   caller whose conditional write won.
 */
import type { ApprovalSignature, ApprovalStep } from '../core/approval/chain.js';
import type {
  ApprovalChannel,
  ApprovalDecision,
  ApprovalStatus,
  ApprovalSummary,
  EquityCurve,
  NewApprovalRequest,
} from '../core/approval/types.js';

export type { NewApprovalRequest } from '../core/approval/types.js';

/** An approval request as pages and messages may show it: no task token. */
export interface ApprovalView {
  readonly approvalId: string;
  /** ARN of the waiting execution (not secret: it cannot resume the execution). */
  readonly executionArn: string;
  readonly summary: ApprovalSummary;
  /** `[epoch ms UTC, equity USD]`, oldest first. */
  readonly equityCurve: EquityCurve;
  /** Allowed approver identities (`scheme:id`). */
  readonly approvers: readonly string[];
  /** The signatures it needs, in order (one `risk` step over `approvers` when none was configured). */
  readonly chain: readonly ApprovalStep[];
  /** The signatures given so far, oldest first (the last one decided when not pending). */
  readonly signatures: readonly ApprovalSignature[];
  readonly status: ApprovalStatus;
  readonly createdAtIso: string;
  readonly expiresAtIso: string;
  /** Expiry in epoch seconds UTC: floor(expiresAt / 1000), the value links carry as `exp`. */
  readonly exp: number;
  /** Who decided (`scheme:id`), null while pending. */
  readonly decidedBy: string | null;
  readonly decidedAtIso: string | null;
  readonly decidedChannel: ApprovalChannel | null;
  /**
   * What resuming the execution with the decision did, once a door tried it
   * ({@link ApprovalStore.markResume}); null (or absent) while nobody has.
   */
  readonly resume?: ResumeMark | null;
}

/**
 * What SendTaskSuccess / SendTaskFailure with the decided request's task token did: `resumed`
 * (the execution continues with the decision) or `gone` (Step Functions refused the token:
 * the task had timed out, or the execution had ended), and when (UTC ISO-8601).
 */
export interface ResumeMark {
  readonly outcome: 'resumed' | 'gone';
  readonly atIso: string;
}

/** The decision a caller tries to record. */
export interface DecisionClaim {
  readonly decision: ApprovalDecision;
  /** Authenticated approver identity `scheme:id`; must be on the request's allow-list. */
  readonly by: string;
  /** When the decision was made, UTC ISO-8601 (from the Clock port). */
  readonly atIso: string;
  readonly channel: ApprovalChannel;
  /** The approver's note (at most 1,000 characters), null when none. */
  readonly note?: string | null;
  /**
   * The signer's console roles when the edge knows them (then the due step's role is required),
   * null when it does not (approval link, Slack).
   */
  readonly roles?: readonly string[] | null;
  /**
   * The idempotency key of the signature's `approval_decided` audit record, stored with the
   * signature (`ApprovalSignature.auditKey`) so a redelivery or a sweep appends it once.
   */
  readonly auditKey?: string;
}

/**
 * The decision this caller recorded, with what it needs to resume the execution. `taskToken`
 * is a NON-enumerable property: it is readable, but `JSON.stringify`, loggers and spreads
 * leave it out, so it does not leak into logs or audit payloads by accident.
 */
export interface ClaimedDecision {
  readonly approvalId: string;
  readonly decision: ApprovalDecision;
  readonly by: string;
  readonly atIso: string;
  readonly channel: ApprovalChannel;
  readonly executionArn: string;
  /** The signature this claim recorded. */
  readonly signature: ApprovalSignature;
  /** Signatures the chain needs. */
  readonly chainLength: number;
  /**
   * True when this claim decided the request (the last step's approval, or any rejection): only
   * then is the task token released.
   */
  readonly chainComplete: boolean;
  /**
   * Decrypted Step Functions task token (for SendTaskSuccess / SendTaskFailure only), null
   * while the chain is incomplete (the token stays encrypted in the store).
   */
  readonly taskToken: string | null;
}

/**
 * What {@link ApprovalStore.create} did: `created` a new request; `token_replaced`, a retried
 * request step of the same execution, whose new task token (the live one) replaced the
 * stored one while everything else stayed (the first attempt's creation time, deadline and
 * signatures); `superseded`, nothing, because a later attempt's token is stored already (an
 * older attempt that finished last never puts back a dead token).
 */
export interface CreatedApprovalRequest {
  readonly outcome: 'created' | 'token_replaced' | 'superseded';
  /** The stored request's creation time and deadline (its first attempt's), UTC ISO-8601. */
  readonly createdAtIso: string;
  readonly expiresAtIso: string;
}

export interface ApprovalStore {
  /**
   * Stores a new pending request; the task token is encrypted before it is written.
   * Idempotent for a retried request step: re-creating a still-pending id for the same
   * execution replaces only its task token (a retried `.waitForTaskToken` task gets a new
   * one), unless a token of a later attempt (`createdAtIso`: when this attempt made the
   * request) is stored already. The links and the posted message carry only the approval id
   * and the first attempt's deadline, so they always act on the live token.
   *
   * @throws ValidationError when the request is invalid (zod), or the id is already used by
   *   another execution.
   * @throws ApprovalAlreadyDecidedError when the id exists and was already decided.
   * @throws TransientError on throttling / 5xx / network faults.
   */
  create(request: NewApprovalRequest): Promise<CreatedApprovalRequest>;

  /**
   * The request as pages may show it (no task token).
   *
   * @throws ApprovalNotFoundError when no request has this id (or it was purged by TTL).
   * @throws TransientError on throttling / 5xx / network faults.
   */
  getForDisplay(approvalId: string): Promise<ApprovalView>;

  /**
   * Records `claim` as the next signature of the request's chain iff `signatureRefusal`
   * (chain.ts) allows it: one atomic conditional write on the request's status, expiry and
   * signature count, so of any number of concurrent claims for the same step exactly one wins.
   * The claim that completes the chain (the last approval, or a rejection) also sets the
   * request's status and gets the task token.
   *
   * @throws ApprovalNotFoundError when no request has this id.
   * @throws ApprovalAlreadyDecidedError when it was already decided (by anyone).
   * @throws ApprovalExpiredError when `claim.atIso` is at or after its expiry.
   * @throws ApprovalForbiddenError when `claim.by` is not on the allow-list, or may not sign
   *   the step that is due.
   * @throws ApprovalDuplicateSignerError when `claim.by` already signed this request.
   * @throws SignatureInvalidError (subject `task_token`) when the stored token does not decrypt.
   * @throws TransientError on throttling / 5xx / network faults.
   */
  claimDecision(approvalId: string, claim: DecisionClaim): Promise<ClaimedDecision>;

  /**
   * The decrypted task token of a request `by` decided (their signature completed the chain),
   * for re-sending the resume on a redelivery of that decision whose first resume failed or
   * never ran; null while the request is pending or when someone else decided it.
   *
   * @throws ApprovalNotFoundError when no request has this id.
   * @throws SignatureInvalidError (subject `task_token`) when the stored token does not decrypt.
   * @throws TransientError on throttling / 5xx / network faults.
   */
  decidedTaskToken(approvalId: string, by: string): Promise<string | null>;

  /**
   * Records what resuming the decided request's execution did ({@link ResumeMark}); a later
   * `resumed` mark is never replaced by `gone` (a closed token after a resume is not a
   * timeout).
   *
   * @throws ApprovalNotFoundError when no request has this id.
   * @throws TransientError on throttling / 5xx / network faults.
   */
  markResume(approvalId: string, mark: ResumeMark): Promise<void>;
}
