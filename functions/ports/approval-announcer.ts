/**
 * How the Day-3 use cases announce an approval request and its outcome, without knowing the
 * message format: the composition root binds it to a {@link Notifier} and the Block Kit
 * builders of `functions/adapters/slack/messages.ts`.
 */
import type { ApprovalSignature, ApprovalStep } from '../core/approval/chain.js';
import type { ApprovalSummary } from '../core/approval/types.js';
import type { PostedMessage } from './notifier.js';

/** The links an approval request carries (the signed page link; never the task token). */
export interface AnnouncedLinks {
  readonly approvalId: string;
  readonly approvalUrl: string;
  /** UTC ISO-8601. */
  readonly expiresAtIso: string;
}

/** How an approval request ended. */
export interface AnnouncedOutcome {
  readonly approvalId: string;
  readonly decision: 'approved' | 'rejected' | 'expired';
  /** Approver identity `scheme:id`; null for `expired`. */
  readonly by: string | null;
  /** UTC ISO-8601. */
  readonly atIso: string;
}

/**
 * What the workflow did with a decided request, as read from its execution after a
 * redelivery's re-sent resume was refused (core/approval/workflow-finding.ts).
 */
export interface AnnouncedFinding {
  readonly approvalId: string;
  /** `running`: the execution has not ended; `concluded`: it ended (see `message`). */
  readonly finding: 'running' | 'concluded';
  /** One sentence: what the workflow did (never claims more than the execution says). */
  readonly message: string;
}

/** A request of a multi-signature chain that is signed in part and still waits. */
export interface AnnouncedProgress {
  readonly approvalId: string;
  /** The signatures the request needs, in order (chain.ts). */
  readonly chain: readonly ApprovalStep[];
  /** The signatures given so far, oldest first (all `approved`: a rejection ends the request). */
  readonly signatures: readonly ApprovalSignature[];
  /** UTC ISO-8601. */
  readonly expiresAtIso: string;
  /** Expiry in epoch seconds UTC (what the signed page link carries as `exp`). */
  readonly exp: number;
}

export interface ApprovalAnnouncer {
  /**
   * Posts the approval request.
   * @throws NotificationRejectedError (permanent) or TransientError (retry).
   */
  request(summary: ApprovalSummary, links: AnnouncedLinks): Promise<PostedMessage>;
  /**
   * Replaces the posted request with its outcome (who decided, when).
   * @throws NotificationRejectedError or TransientError.
   */
  outcome(summary: ApprovalSummary, outcome: AnnouncedOutcome, ref: PostedMessage): Promise<void>;
  /**
   * Replaces the posted request with what the workflow did with its decision (a redelivery's
   * finding), instead of the decision itself: the channel never says more than the execution.
   * @throws NotificationRejectedError or TransientError.
   */
  finding(summary: ApprovalSummary, finding: AnnouncedFinding, ref: PostedMessage): Promise<void>;
  /**
   * Replaces the posted request after a partial signature: who signed (role, when) and which
   * steps are still due; the request stays open (its buttons stay).
   * @throws NotificationRejectedError or TransientError.
   */
  progress(
    summary: ApprovalSummary,
    progress: AnnouncedProgress,
    ref: PostedMessage,
  ): Promise<void>;
}
