/**
 * A signature made in the operator console updates the Slack approval message, as a
 * Slack-button signature does (issue 14): the console API composed as the console function is
 * in AWS (its handler module registers the official Slack SDK; the approval deps are read from
 * the environment the CDK gives the function: NOTIFIER=slack, the channel, the bot token's
 * secret id, the page's base URL), with only the secrets and the task-token port in memory and
 * the SDK pointed at a fake Slack on loopback. After the operator's console signature the posted
 * request shows "Signed 1 of 2", who signed (when, note) and the risk step still due, buttons
 * kept; a refused `chat.update` is reported in the answer and never undoes the signature.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ApprovalDeps,
  buildApprovalDeps,
  useSlackPoster,
} from '../../../functions/composition/approval.js';
import { buildConsoleApi } from '../../../functions/composition/console.js';
import { webApiPoster } from '../../../functions/composition/slack-web-api.js';
import { expFromMs, newApprovalId } from '../../../functions/core/approval/links.js';
import type { ConsoleApi } from '../../../functions/core/use-cases/console-api.js';
// The console function's handler module: importing it registers the Slack SDK poster.
import '../../../functions/handlers/console-api.js';
import { InMemorySecrets } from '../../../local/composition.js';
import { type LocalStack, startLocalStack } from '../../../local/local-stack.js';
import { type FakeSlack, startFakeSlack } from '../../support/fake-slack.js';
import { DATA_ROOT } from '../../support/paths.js';
import { newRequest, summary } from '../../unit/approval/fixtures.js';

const OLIVIA = 'web:olivia@example.com';
const RICK = 'web:rick@example.com';
const BOT_TOKEN = 'xoxb-console-signature-test';
const CSRF = 'csrf-console-slack-0123456789';
const BASE_URL = 'https://approvals.example.com';

let stack: LocalStack;
let slack: FakeSlack;
let deps: ApprovalDeps;
let api: ConsoleApi;
const sent: string[] = [];

beforeAll(async () => {
  [stack, slack] = await Promise.all([
    startLocalStack({ dataRoot: DATA_ROOT, stateDir: 'memory', logLevel: 'SILENT' }),
    startFakeSlack(),
  ]);
  // The SDK poster the handler registered, pointed at the fake Slack instead of slack.com.
  useSlackPoster((token) => webApiPoster(token, { slackApiUrl: slack.apiUrl }));
  deps = await buildApprovalDeps(
    stack.runtime,
    // What lib/constructs/operator-console.ts sets on the console function.
    {
      NOTIFIER: 'slack',
      SLACK_CHANNEL: 'C0APPROVALS',
      APPROVAL_KEY_SECRET_ID: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:approval-key',
      SLACK_BOT_TOKEN_SECRET_ID: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:bot-token',
      APPROVAL_BASE_URL: BASE_URL,
    },
    {
      secrets: new InMemorySecrets({
        approvalKey: Buffer.from('stagegate-console-slack-key-0001').toString('base64'),
        slackBotToken: BOT_TOKEN,
      }),
      taskTokens: {
        sendTaskSuccess: async (token) => void sent.push(`success:${token}`),
        sendTaskFailure: async (token, error) => void sent.push(`${error}:${token}`),
        sendTaskHeartbeat: async () => undefined,
      },
    },
  );
  api = buildConsoleApi(stack.runtime, {
    approvalDeps: async () => deps,
    promotionDeps: () => stack.promotion,
  });
}, 240_000);

afterAll(async () => {
  await slack?.close();
  await stack?.stop();
});

/** A pending two-step request (operator olivia, then risk rick), announced in Slack. */
async function announcedRequest() {
  const approvalId = newApprovalId();
  const now = stack.clock.now();
  const request = newRequest({
    approvalId,
    taskToken: `task-token-${approvalId}`,
    approvers: [OLIVIA, RICK],
    chain: [
      { role: 'operator', approvers: [OLIVIA] },
      { role: 'risk', approvers: [RICK] },
    ],
    createdAtIso: new Date(now).toISOString(),
    expiresAtIso: new Date(now + 3_600_000).toISOString(),
  });
  await deps.store.create(request);
  const ref = await deps.announcer.request(summary(), {
    approvalId,
    approvalUrl: `${BASE_URL}/approvals/${approvalId}`,
    expiresAtIso: request.expiresAtIso,
  });
  await deps.microLive.saveMessageRef(approvalId, ref);
  expect(expFromMs(Date.parse(request.expiresAtIso))).toBeGreaterThan(0);
  return { approvalId, ref, taskToken: request.taskToken };
}

async function sign(approvalId: string, who: string, role: 'operator' | 'risk', note?: string) {
  const out = await api.handle({
    method: 'POST',
    path: `/api/approvals/${approvalId}/decision`,
    query: {},
    headers: {
      'content-type': 'application/json',
      'x-csrf-token': CSRF,
      cookie: `stagegate_csrf=${CSRF}`,
    },
    body: JSON.stringify(note ? { decision: 'approve', note } : { decision: 'approve' }),
    identity: who,
    roles: [role],
  });
  return {
    status: out.status,
    body: JSON.parse(out.body) as Record<string, unknown>,
    raw: out.body,
  };
}

const updatesOf = (ts: string) =>
  slack.calls.filter((c) => c.method === 'chat.update' && c.args.ts === ts);

describe('a console signature updates the Slack approval message', () => {
  it('shows "Signed 1 of 2", who signed with the note, and the risk step still due; buttons kept', async () => {
    // Prepare
    const { approvalId, ref } = await announcedRequest();

    // Act
    const first = await sign(approvalId, OLIVIA, 'operator', 'gate table checked in the console');

    // Assess
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      ok: true,
      execution: 'waiting',
      chain: { step: 1, of: 2, complete: false },
      messageUpdateError: null,
    });
    const [update] = updatesOf(ref.ts);
    expect(update?.token).toBe(BOT_TOKEN);
    expect(update?.args).toMatchObject({ channel: ref.channel, ts: ref.ts });
    const blocks = update?.args.blocks as Record<string, unknown>[];
    const text = JSON.stringify(blocks);
    expect(text).toContain('Signed 1 of 2');
    expect(text).toMatch(/Step 1 \(operator\): approved by web:olivia@example\.com/);
    expect(text).toContain('gate table checked in the console');
    expect(text).toMatch(/Step 2 \(risk\) still due/);
    const actions = blocks.find((b) => b.type === 'actions');
    const buttons = (actions?.elements ?? []) as Record<string, unknown>[];
    expect(buttons.map((b) => b.action_id)).toEqual(['approve', 'reject', 'open_approval_page']);
    expect(String(buttons[2]?.url)).toMatch(
      new RegExp(`^${BASE_URL}/approvals/${approvalId}\\?exp=\\d+&sig=`),
    );
    expect(sent).not.toContain(`success:task-token-${approvalId}`);
    expect(first.raw).not.toContain(BOT_TOKEN);

    // The risk officer's console signature replaces it with the decision, buttons gone.
    const second = await sign(approvalId, RICK, 'risk');
    expect(second.body).toMatchObject({ execution: 'resumed', messageUpdateError: null });
    expect(sent).toContain(`success:task-token-${approvalId}`);
    const last = updatesOf(ref.ts).at(-1);
    expect(JSON.stringify(last?.args.blocks)).not.toContain('"type":"actions"');
  });

  it('keeps the signature when Slack refuses the update, and says so', async () => {
    // Prepare
    const { approvalId, ref } = await announcedRequest();
    const normal = slack.answer;
    slack.answer = (method, args) =>
      method === 'chat.update' ? { ok: false, error: 'channel_not_found' } : normal(method, args);

    // Act
    let first: Awaited<ReturnType<typeof sign>>;
    try {
      first = await sign(approvalId, OLIVIA, 'operator');
    } finally {
      slack.answer = normal;
    }

    // Assess
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ ok: true, chain: { step: 1, of: 2, complete: false } });
    expect(String(first.body.messageUpdateError)).toContain('channel_not_found');
    expect(updatesOf(ref.ts)).toHaveLength(1);
    const view = await deps.approvals.getForDisplay(approvalId);
    expect(view.signatures.map((s) => s.by)).toEqual([OLIVIA]);
    // Signed once: signing again is refused; the risk officer completes the chain.
    expect((await sign(approvalId, OLIVIA, 'operator')).status).toBe(409);
    expect((await sign(approvalId, RICK, 'risk')).body).toMatchObject({ execution: 'resumed' });
    expect(sent).toContain(`success:task-token-${approvalId}`);
  });
});
