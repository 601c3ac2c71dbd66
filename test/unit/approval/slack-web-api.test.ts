/**
 * The Slack-posting handlers' poster (`functions/composition/slack-web-api.ts`): the official
 * SDK's WebClient is built on the first post, once per bot token, with no SDK-level retries,
 * and every call goes through it. The SDK is replaced by a recording double; no request leaves.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { SlackPoster } from '../../../functions/adapters/slack/slack-notifier.js';

const sdk = vi.hoisted(() => ({
  built: [] as { token: string; options: unknown }[],
  calls: [] as { method: string; args: unknown }[],
  factory: undefined as ((botToken: string) => SlackPoster) | undefined,
}));

vi.mock('@slack/web-api', () => ({
  WebClient: class {
    readonly chat;
    constructor(token: string, options: unknown) {
      sdk.built.push({ token, options });
      this.chat = {
        postMessage: async (args: unknown) => {
          sdk.calls.push({ method: 'postMessage', args });
          return { ok: true, channel: 'C1', ts: '1.0' };
        },
        update: async (args: unknown) => {
          sdk.calls.push({ method: 'update', args });
          return { ok: true };
        },
      };
    }
  },
}));

vi.mock('../../../functions/composition/approval.js', () => ({
  useSlackPoster: (factory: (botToken: string) => SlackPoster) => {
    sdk.factory = factory;
  },
}));

describe('the Slack Web API poster', () => {
  beforeEach(() => {
    sdk.built.length = 0;
    sdk.calls.length = 0;
  });

  it('builds one WebClient on the first call (no retries, 10 s timeout) and sends every call through it', async () => {
    // Prepare: the module registers its factory; building a poster makes no client yet
    await import('../../../functions/composition/slack-web-api.js');
    const poster = sdk.factory?.('xoxb-test-token') as SlackPoster;
    expect(sdk.built).toEqual([]);

    // Act
    const posted = await poster.chat.postMessage({
      channel: 'C1',
      text: 'hello',
      blocks: [],
      unfurl_links: false,
      unfurl_media: false,
    });
    await poster.chat.update({ channel: 'C1', ts: '1.0', text: 'decided', blocks: [] });

    // Assess
    expect(posted).toMatchObject({ ok: true, ts: '1.0' });
    expect(sdk.built).toEqual([
      {
        token: 'xoxb-test-token',
        options: { retryConfig: { retries: 0 }, rejectRateLimitedCalls: true, timeout: 10_000 },
      },
    ]);
    expect(sdk.calls.map((c) => c.method)).toEqual(['postMessage', 'update']);
    expect(sdk.calls[1]?.args).toMatchObject({ channel: 'C1', ts: '1.0', text: 'decided' });
  });
});
