/**
 * Where the daily report after the close is posted: a Slack channel through the Web API
 * (`chat.postMessage`, `functions/adapters/slack/slack-notifier.ts`) in AWS; the terminal and,
 * when configured, an incoming webhook in local mode. The message carries the day's numbers
 * and never a secret or an approval link.
 */
import type { ChatMessage, PostedMessage } from './notifier.js';

export interface ReportChannel {
  /**
   * Posts a message to the configured channel.
   *
   * @throws NotificationRejectedError when the provider refuses it permanently (unknown
   *   channel, revoked token, invalid blocks).
   * @throws TransientError on rate limiting, 5xx or network faults.
   */
  post(message: ChatMessage): Promise<PostedMessage>;
}
