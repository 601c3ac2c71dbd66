/**
 * {@link Notifier} over the Slack Web API (`chat.postMessage`, `chat.update`).
 *
 * It depends on the minimal {@link SlackPoster} shape rather than on `@slack/web-api`, so it
 * works with `new WebClient(token)` from that package (wrap its two methods, see the JSDoc of
 * `SlackPoster`) and with a fake in tests. Both methods follow Slack's documented arguments
 * (`channel`, `text`, `blocks`; `chat.update` adds `ts`) and results (`ok`, `error`,
 * `channel`, `ts`).
 */
import { NotificationRejectedError, TransientError } from '../../core/errors.js';
import type { ChatMessage, Notifier, PostedMessage } from '../../ports/notifier.js';
import type { ReportChannel } from '../../ports/report-channel.js';

/** What Slack answers (`ok: false` carries `error`, e.g. `channel_not_found`). */
export interface SlackApiResult {
  readonly ok?: boolean;
  readonly error?: string;
  readonly channel?: string;
  readonly ts?: string;
}

/** `chat.postMessage` arguments (Slack Web API reference). */
export interface SlackPostMessageArgs {
  readonly channel: string;
  /** Notification / accessibility fallback. */
  readonly text: string;
  readonly blocks: readonly object[];
  /** Do not unfurl the approval link into a preview. */
  readonly unfurl_links: false;
  readonly unfurl_media: false;
}

/** `chat.update` arguments (Slack Web API reference). */
export interface SlackUpdateArgs {
  readonly channel: string;
  readonly ts: string;
  readonly text: string;
  readonly blocks: readonly object[];
}

/**
 * The two Web API methods the notifier needs. With `@slack/web-api`:
 *
 * ```ts
 * const web = new WebClient(token);
 * const poster: SlackPoster = { chat: {
 *   postMessage: (a) => web.chat.postMessage(a as unknown as ChatPostMessageArguments),
 *   update: (a) => web.chat.update(a as unknown as ChatUpdateArguments),
 * } };
 * ```
 *
 * WebClient throws on `ok: false` (error `code` `slack_webapi_platform_error`, `data.error`),
 * on HTTP errors (`slack_webapi_http_error`, `statusCode`), rate limits
 * (`slack_webapi_rate_limited_error`) and network faults (`slack_webapi_request_error`); a
 * poster may also return `{ ok: false, error }`. The notifier maps all of them.
 */
export interface SlackPoster {
  readonly chat: {
    postMessage(args: SlackPostMessageArgs): Promise<SlackApiResult>;
    update(args: SlackUpdateArgs): Promise<SlackApiResult>;
  };
}

/** Slack `error` codes worth retrying (Web API reference, "Errors" of chat.postMessage). */
const TRANSIENT_SLACK_ERRORS = new Set([
  'ratelimited',
  'rate_limited',
  'internal_error',
  'fatal_error',
  'service_unavailable',
  'request_timeout',
]);

function fromSlackError(code: string, what: string): Error {
  return TRANSIENT_SLACK_ERRORS.has(code)
    ? new TransientError(`slack ${what}: ${code}`)
    : new NotificationRejectedError('slack', code);
}

interface WebApiErrorLike {
  code?: string;
  data?: { error?: string };
  statusCode?: number;
  message?: string;
}

/**
 * Maps an error thrown by a Slack client onto the core's vocabulary: rate limits, network
 * faults, HTTP 429/5xx and transient platform errors become `TransientError`; other platform
 * errors and HTTP 4xx become `NotificationRejectedError`. Anything else is rethrown unchanged.
 */
export function mapSlackClientError(err: unknown, what: string): never {
  const e = (err ?? {}) as WebApiErrorLike;
  switch (e.code) {
    case 'slack_webapi_platform_error':
      throw fromSlackError(e.data?.error ?? 'unknown_error', what);
    case 'slack_webapi_rate_limited_error':
    case 'slack_webapi_request_error':
      throw new TransientError(`slack ${what}: ${e.message ?? e.code}`, { cause: err });
    case 'slack_webapi_http_error': {
      const status = e.statusCode ?? 0;
      if (status === 429 || status >= 500) {
        throw new TransientError(`slack ${what}: HTTP ${status}`, { cause: err });
      }
      throw new NotificationRejectedError('slack', `HTTP ${status}`);
    }
    default:
      throw err;
  }
}

/** Options of {@link SlackNotifier}. */
export interface SlackNotifierOptions {
  readonly poster: SlackPoster;
  /** Channel id (e.g. `C0123456789`) approval requests (and reports) are posted to. */
  readonly channel: string;
}

export class SlackNotifier implements Notifier, ReportChannel {
  constructor(private readonly options: SlackNotifierOptions) {}

  postApprovalRequest(message: ChatMessage): Promise<PostedMessage> {
    return this.post(message);
  }

  /** Posts `message` to the channel (`chat.postMessage`, no unfurling). */
  async post(message: ChatMessage): Promise<PostedMessage> {
    let result: SlackApiResult;
    try {
      result = await this.options.poster.chat.postMessage({
        channel: this.options.channel,
        text: message.text,
        blocks: message.blocks,
        unfurl_links: false,
        unfurl_media: false,
      });
    } catch (err) {
      mapSlackClientError(err, 'chat.postMessage');
    }
    if (result.ok === false)
      throw fromSlackError(result.error ?? 'unknown_error', 'chat.postMessage');
    if (!result.ts) throw new NotificationRejectedError('slack', 'chat.postMessage returned no ts');
    return { channel: result.channel ?? this.options.channel, ts: result.ts };
  }

  async updateMessage(channel: string, ts: string, message: ChatMessage): Promise<void> {
    let result: SlackApiResult;
    try {
      result = await this.options.poster.chat.update({
        channel,
        ts,
        text: message.text,
        blocks: message.blocks,
      });
    } catch (err) {
      mapSlackClientError(err, 'chat.update');
    }
    if (result.ok === false) throw fromSlackError(result.error ?? 'unknown_error', 'chat.update');
  }
}
