/**
 * The Slack Web API through the official SDK (`@slack/web-api`), registered with the approval
 * composition. Imported (for its effect) only by the handlers that post or update Slack
 * messages, so the SDK and its HTTP stack are bundled only there.
 *
 * The SDK module (with axios and form-data, ~0.25 CPU-s to load) is evaluated on the first
 * post or update, not when the handler module loads: a cold start that posts nothing (an
 * approval page GET, a Day-3 run with no approvers) and the local CLI, which composes these
 * handlers with a console notifier, never pay for it.
 */
import type { WebClient } from '@slack/web-api';
import type { SlackPoster } from '../adapters/slack/slack-notifier.js';
import { useSlackPoster } from './approval.js';

let sdk: Promise<typeof import('@slack/web-api')> | undefined;
const loadSdk = () => {
  sdk ??= import('@slack/web-api');
  return sdk;
};

/**
 * A {@link SlackPoster} over `WebClient` with the bot token (the SDK loaded on the first
 * call). No SDK-level retries: Step Functions (approvals) or the schedule's own retry policy
 * (daily report) retry on TransientError; rate-limited calls are rejected, not queued.
 *
 * @param options.slackApiUrl the Web API base URL (default Slack's `https://slack.com/api/`;
 *   tests point it at a fake Slack on loopback).
 */
export function webApiPoster(
  botToken: string,
  options: { slackApiUrl?: string } = {},
): SlackPoster {
  let web: Promise<WebClient> | undefined;
  const client = () => {
    web ??= loadSdk().then(
      ({ WebClient }) =>
        new WebClient(botToken, {
          retryConfig: { retries: 0 },
          rejectRateLimitedCalls: true,
          timeout: 10_000,
          ...(options.slackApiUrl ? { slackApiUrl: options.slackApiUrl } : {}),
        }),
    );
    return web;
  };
  return {
    chat: {
      postMessage: async (a) =>
        (await client()).chat.postMessage(
          a as unknown as Parameters<WebClient['chat']['postMessage']>[0],
        ),
      update: async (a) =>
        (await client()).chat.update(a as unknown as Parameters<WebClient['chat']['update']>[0]),
    },
  };
}

useSlackPoster((botToken) => webApiPoster(botToken));
