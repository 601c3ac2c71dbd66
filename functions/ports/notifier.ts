/**
 * Where approval requests are announced: Slack through the Web API in AWS; the console or an
 * incoming webhook in local mode. Messages are built by `functions/adapters/slack/messages.ts`
 * (Block Kit) and carry only the opaque approval id and signed link, never the task token.
 */

/**
 * A chat message: `text` is the notification / accessibility fallback (Slack shows it where
 * blocks cannot be rendered), `blocks` the Block Kit layout (JSON objects).
 */
export interface ChatMessage {
  readonly text: string;
  readonly blocks: readonly object[];
}

/** Where a posted message landed; what {@link Notifier.updateMessage} needs. */
export interface PostedMessage {
  /** Channel id the message was posted in (adapter-specific for non-Slack sinks). */
  readonly channel: string;
  /** Message timestamp (Slack's message id within the channel). */
  readonly ts: string;
}

export interface Notifier {
  /**
   * Posts an approval request to the configured approvers' channel.
   *
   * @throws NotificationRejectedError when the provider refuses it permanently (unknown
   *   channel, revoked token, invalid blocks).
   * @throws TransientError on rate limiting, 5xx or network faults (retry the step).
   */
  postApprovalRequest(message: ChatMessage): Promise<PostedMessage>;

  /**
   * Replaces a posted message (e.g. with the decision and who made it). Adapters that cannot
   * edit (incoming webhooks, console) post the update as a new message instead.
   *
   * @throws NotificationRejectedError / TransientError as {@link postApprovalRequest}.
   */
  updateMessage(channel: string, ts: string, message: ChatMessage): Promise<void>;
}
