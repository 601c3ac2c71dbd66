/**
 * {@link Notifier} that prints messages (fallback text plus every link in the blocks) instead
 * of sending them: the local mode's default, so the approval link is one click away in the
 * terminal.
 */
import { WebhookNotifier } from '../functions/adapters/slack/webhook-notifier.js';
import type { ChatMessage, Notifier, PostedMessage } from '../functions/ports/notifier.js';
import type { ReportChannel } from '../functions/ports/report-channel.js';

/** Every `url` of a button and every `<url|label>` link found in the blocks, in order, once. */
export function messageLinks(blocks: readonly object[]): string[] {
  const found: string[] = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const item of node) visit(item);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    for (const [k, v] of Object.entries(node)) {
      if (k === 'url' && typeof v === 'string') found.push(v);
      else if (k === 'text' && typeof v === 'string') {
        for (const m of v.matchAll(/<(https?:\/\/[^|>]+)(?:\|[^>]*)?>/g))
          found.push(m[1] as string);
      } else visit(v);
    }
  };
  visit(blocks);
  return [...new Set(found)];
}

export class ConsoleNotifier implements Notifier {
  private seq = 0;

  /** @param write sink for each printed line (default: stdout). */
  constructor(
    private readonly write: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
  ) {}

  async postApprovalRequest(message: ChatMessage): Promise<PostedMessage> {
    this.seq += 1;
    this.print(`[approval request #${this.seq}]`, message);
    return { channel: 'console', ts: String(this.seq) };
  }

  async updateMessage(_channel: string, ts: string, message: ChatMessage): Promise<void> {
    this.print(`[update of #${ts}]`, message);
  }

  private print(prefix: string, message: ChatMessage): void {
    this.write(`${prefix} ${message.text}`);
    for (const link of messageLinks(message.blocks)) this.write(`  ${link}`);
  }
}

/**
 * The local mode's report channel: prints the report's headline (its fallback text) and, when
 * an incoming webhook is configured (`STAGEGATE_SLACK_WEBHOOK_URL`), posts the whole Block Kit
 * message there too. The full report is kept by the use case (`daily-reports/<date>.json`).
 */
export class ConsoleReportChannel implements ReportChannel {
  private seq = 0;
  private readonly webhook: WebhookNotifier | null;

  constructor(
    private readonly write: (line: string) => void,
    webhookUrl?: string,
  ) {
    this.webhook = webhookUrl ? new WebhookNotifier({ url: webhookUrl }) : null;
  }

  async post(message: ChatMessage): Promise<PostedMessage> {
    this.seq += 1;
    this.write(message.text);
    if (this.webhook) await this.webhook.postApprovalRequest(message);
    return { channel: this.webhook ? 'console+webhook' : 'console', ts: String(this.seq) };
  }
}
