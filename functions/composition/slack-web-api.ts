/**
 * The Slack Web API through the official SDK (`@slack/web-api`), registered with the approval
 * composition. Imported (for its effect) only by the handlers that post or update Slack
 * messages, so the SDK and its HTTP stack are bundled only there.
 */
import { WebClient } from '@slack/web-api';
import { useSlackPoster } from './approval.js';

useSlackPoster((botToken) => {
  // No SDK-level retries: Step Functions retries the step on TransientError.
  const web = new WebClient(botToken, {
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    timeout: 10_000,
  });
  return {
    chat: {
      postMessage: (a) =>
        web.chat.postMessage(a as unknown as Parameters<typeof web.chat.postMessage>[0]),
      update: (a) => web.chat.update(a as unknown as Parameters<typeof web.chat.update>[0]),
    },
  };
});
