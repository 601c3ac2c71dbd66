/**
 * {@link Notifier} posting to a Slack incoming webhook (or any endpoint accepting the same
 * JSON `{ text, blocks }`) with `fetch`: the local mode's way to reach a real Slack channel
 * without a bot token. Incoming webhooks cannot edit a message, so `updateMessage` posts the
 * update as a new message. The webhook URL is a secret: it never appears in errors.
 */
import { NotificationRejectedError, TransientError } from '../../core/errors.js';
import type { ChatMessage, Notifier, PostedMessage } from '../../ports/notifier.js';

/** Options of {@link WebhookNotifier}. */
export interface WebhookNotifierOptions {
  /** Incoming-webhook URL (`https://hooks.slack.com/services/...`). */
  readonly url: string;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
  /** Per-request timeout, ms. @default 10_000 */
  readonly timeoutMs?: number;
}

export class WebhookNotifier implements Notifier {
  private seq = 0;
  private readonly fetchFn: typeof fetch;
  private readonly timeoutMs: number;

  constructor(private readonly options: WebhookNotifierOptions) {
    this.fetchFn = options.fetch ?? globalThis.fetch;
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  /**
   * @returns channel `webhook` and a per-instance sequence number as `ts` (webhooks return
   *   no message id).
   */
  async postApprovalRequest(message: ChatMessage): Promise<PostedMessage> {
    await this.post(message);
    this.seq += 1;
    return { channel: 'webhook', ts: String(this.seq) };
  }

  /** Posts `message` as a new message (webhooks cannot edit). */
  async updateMessage(_channel: string, _ts: string, message: ChatMessage): Promise<void> {
    await this.post(message);
  }

  private async post(message: ChatMessage): Promise<void> {
    let res: Response;
    try {
      res = await this.fetchFn(this.options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8' },
        body: JSON.stringify({ text: message.text, blocks: message.blocks }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new TransientError(`webhook post failed: ${(err as Error).message}`, { cause: err });
    }
    if (res.ok) return;
    const body = (await res.text().catch(() => '')).slice(0, 200);
    if (res.status === 429 || res.status >= 500) {
      throw new TransientError(`webhook post failed: HTTP ${res.status} ${body}`);
    }
    throw new NotificationRejectedError('slack-webhook', `HTTP ${res.status} ${body}`.trim());
  }
}
