/**
 * How the Day-3 use cases announce an approval request and its outcome, without knowing the
 * message format: the composition root binds it to a {@link Notifier} and the Block Kit
 * builders of `functions/adapters/slack/messages.ts`.
 */
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
}
