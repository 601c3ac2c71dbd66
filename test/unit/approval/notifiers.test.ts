import { describe, expect, it } from 'vitest';
import { approvalMessage } from '../../../functions/adapters/slack/messages.js';
import {
  type SlackApiResult,
  SlackNotifier,
  type SlackPoster,
  type SlackPostMessageArgs,
  type SlackUpdateArgs,
} from '../../../functions/adapters/slack/slack-notifier.js';
import { WebhookNotifier } from '../../../functions/adapters/slack/webhook-notifier.js';
import { NotificationRejectedError, TransientError } from '../../../functions/core/errors.js';
import { ConsoleNotifier, messageLinks } from '../../../local/console-notifier.js';
import { APPROVAL_ID, summary } from './fixtures.js';

const URL_ = `https://approve.example.com/approvals/${APPROVAL_ID}?exp=1381363200&sig=${'s'.repeat(43)}`;
const MESSAGE = approvalMessage(summary(), {
  approvalId: APPROVAL_ID,
  approvalUrl: URL_,
  expiresAtIso: '2013-10-10T00:00:00.000Z',
});
const HOOK = 'https://hooks.slack.com/services/T000/B000/secret-part';

/** A fake Slack client recording calls and answering with `answer` (or throwing it). */
function fakePoster(answer: SlackApiResult | Error) {
  const posts: SlackPostMessageArgs[] = [];
  const updates: SlackUpdateArgs[] = [];
  const respond = async () => {
    if (answer instanceof Error) throw answer;
    return answer;
  };
  const poster: SlackPoster = {
    chat: {
      postMessage: (args) => {
        posts.push(args);
        return respond();
      },
      update: (args) => {
        updates.push(args);
        return respond();
      },
    },
  };
  return { poster, posts, updates };
}

/** An error shaped like @slack/web-api's coded errors. */
function webApiError(fields: Record<string, unknown>): Error {
  return Object.assign(new Error('slack error'), fields);
}

describe('SlackNotifier', () => {
  it('posts text and blocks to the channel without unfurling, and returns channel + ts', async () => {
    // Prepare
    const fake = fakePoster({ ok: true, channel: 'C0001', ts: '1381348800.000100' });
    const notifier = new SlackNotifier({ poster: fake.poster, channel: 'C0001' });
    // Act
    const posted = await notifier.postApprovalRequest(MESSAGE);
    // Assess
    expect(posted).toEqual({ channel: 'C0001', ts: '1381348800.000100' });
    expect(fake.posts).toEqual([
      {
        channel: 'C0001',
        text: MESSAGE.text,
        blocks: MESSAGE.blocks,
        unfurl_links: false,
        unfurl_media: false,
      },
    ]);
  });

  it('updates a message by channel and ts', async () => {
    // Prepare
    const fake = fakePoster({ ok: true, channel: 'C0001', ts: '1.2' });
    const notifier = new SlackNotifier({ poster: fake.poster, channel: 'C0001' });
    // Act
    await notifier.updateMessage('C0002', '1.2', MESSAGE);
    // Assess
    expect(fake.updates).toEqual([
      { channel: 'C0002', ts: '1.2', text: MESSAGE.text, blocks: MESSAGE.blocks },
    ]);
  });

  it.each([
    [
      'ok: false channel_not_found',
      { ok: false, error: 'channel_not_found' },
      NotificationRejectedError,
    ],
    ['ok: false ratelimited', { ok: false, error: 'ratelimited' }, TransientError],
    [
      'a platform error',
      webApiError({
        code: 'slack_webapi_platform_error',
        data: { ok: false, error: 'invalid_blocks' },
      }),
      NotificationRejectedError,
    ],
    [
      'a rate-limited error',
      webApiError({ code: 'slack_webapi_rate_limited_error', retryAfter: 30 }),
      TransientError,
    ],
    ['a network error', webApiError({ code: 'slack_webapi_request_error' }), TransientError],
    [
      'an HTTP 503',
      webApiError({ code: 'slack_webapi_http_error', statusCode: 503 }),
      TransientError,
    ],
    [
      'an HTTP 400',
      webApiError({ code: 'slack_webapi_http_error', statusCode: 400 }),
      NotificationRejectedError,
    ],
  ])('maps %s', async (_name, answer, error) => {
    // Prepare
    const notifier = new SlackNotifier({
      poster: fakePoster(answer as SlackApiResult | Error).poster,
      channel: 'C0001',
    });
    // Act / Assess
    await expect(notifier.postApprovalRequest(MESSAGE)).rejects.toBeInstanceOf(error);
  });
});

/** A fake fetch recording requests and answering with `status` (or throwing). */
function fakeFetch(status: number | Error) {
  const calls: Array<{ url: string; init: RequestInit }> = [];
  const fn = (async (url: string | URL | Request, init?: RequestInit) => {
    calls.push({ url: String(url), init: init ?? {} });
    if (status instanceof Error) throw status;
    return new Response(status === 200 ? 'ok' : 'no_service', { status });
  }) as typeof fetch;
  return { fn, calls };
}

describe('WebhookNotifier', () => {
  it('POSTs the message as JSON to the webhook URL', async () => {
    // Prepare
    const fake = fakeFetch(200);
    const notifier = new WebhookNotifier({ url: HOOK, fetch: fake.fn });
    // Act
    const posted = await notifier.postApprovalRequest(MESSAGE);
    await notifier.updateMessage(posted.channel, posted.ts, MESSAGE);
    // Assess
    expect(posted).toEqual({ channel: 'webhook', ts: '1' });
    expect(fake.calls).toHaveLength(2);
    expect(fake.calls[0]?.url).toBe(HOOK);
    expect(fake.calls[0]?.init.method).toBe('POST');
    expect(JSON.parse(String(fake.calls[0]?.init.body))).toEqual({
      text: MESSAGE.text,
      blocks: JSON.parse(JSON.stringify(MESSAGE.blocks)),
    });
  });

  it.each([
    ['HTTP 500', 500, TransientError],
    ['HTTP 429', 429, TransientError],
    ['a network fault', new TypeError('fetch failed'), TransientError],
    ['HTTP 404', 404, NotificationRejectedError],
  ])('maps %s without revealing the URL', async (_name, status, error) => {
    // Prepare
    const notifier = new WebhookNotifier({ url: HOOK, fetch: fakeFetch(status).fn });
    // Act
    const failure = await notifier.postApprovalRequest(MESSAGE).catch((e: unknown) => e);
    // Assess
    expect(failure).toBeInstanceOf(error);
    expect(String((failure as Error).message)).not.toContain('secret-part');
  });
});

describe('ConsoleNotifier', () => {
  it('prints the fallback text and every link of the message', async () => {
    // Prepare
    const lines: string[] = [];
    const notifier = new ConsoleNotifier((l) => lines.push(l));
    // Act
    const posted = await notifier.postApprovalRequest(MESSAGE);
    // Assess
    expect(posted).toEqual({ channel: 'console', ts: '1' });
    expect(lines[0]).toContain('Approval needed: genome-7f3a');
    expect(lines).toContain(`  ${URL_}`);
    expect(lines).toContain('  https://reports.example.com/runs/day3?cohort=c-1');
    expect(messageLinks(MESSAGE.blocks)).toEqual([
      'https://reports.example.com/runs/day3?cohort=c-1',
      URL_,
    ]);
  });
});
