/**
 * Slack's approval message follows a two-signature chain (issue 14): after the operator's
 * signature the posted request is replaced (`chat.update` through the Slack SDK, against a
 * fake Slack on loopback) with who signed and the step still due, buttons kept; the risk
 * officer's signature replaces it with the decision, buttons gone; a failed update is reported
 * and never undoes a signature.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SlackNotifier } from '../../../functions/adapters/slack/slack-notifier.js';
import { announcerFor } from '../../../functions/composition/approval.js';
import { webApiPoster } from '../../../functions/composition/slack-web-api.js';
import type { ApprovalStep } from '../../../functions/core/approval/chain.js';
import { decideApproval } from '../../../functions/core/approval/decide.js';
import { buildApprovalLink, expFromMs } from '../../../functions/core/approval/links.js';
import { createTaskTokenCipher } from '../../../functions/core/approval/token-cipher.js';
import type { AuditDraft } from '../../../functions/core/audit/record.js';
import {
  type ApplyDecisionDeps,
  applyApprovalDecision,
} from '../../../functions/core/use-cases/day3-approval.js';
import { ManualClock } from '../../../functions/ports/clock.js';
import type { PostedMessage } from '../../../functions/ports/notifier.js';
import { LocalExecutionRegistry } from '../../../local/local-executions.js';
import { MemoryApprovalStore } from '../../support/doubles/memory-approval-store.js';
import { type FakeSlack, startFakeSlack } from '../../support/fake-slack.js';
import {
  APPROVAL_ID,
  KEY,
  NOW_MS,
  newRequest,
  summary,
  TASK_TOKEN,
} from '../../unit/approval/fixtures.js';

const OLIVIA = 'web:olivia@example.com';
const RICK = 'slack:URICK01';
const CHAIN: ApprovalStep[] = [
  { role: 'operator', approvers: [OLIVIA] },
  { role: 'risk', approvers: [RICK] },
];
const BASE_URL = 'https://approvals.example.com';
const TOKEN = 'xoxb-test-chain-progress';

let slack: FakeSlack;

beforeAll(async () => {
  slack = await startFakeSlack();
}, 60_000);

afterAll(async () => {
  await slack?.close();
});

async function setup() {
  slack.calls.length = 0;
  const clock = new ManualClock(NOW_MS + 5 * 60_000);
  const store = new MemoryApprovalStore(createTaskTokenCipher(KEY));
  const request = newRequest({ approvers: [OLIVIA, RICK], chain: CHAIN });
  await store.create(request);
  const notifier = new SlackNotifier({
    poster: webApiPoster(TOKEN, { slackApiUrl: slack.apiUrl }),
    channel: 'C0APPROVALS',
  });
  const pageLink = (approvalId: string, exp: number) =>
    buildApprovalLink({ baseUrl: BASE_URL, approvalId, exp }, KEY).url;
  const announcer = announcerFor(notifier, true, pageLink);
  const exp = expFromMs(Date.parse(request.expiresAtIso));
  const ref: PostedMessage = await announcer.request(summary(), {
    approvalId: APPROVAL_ID,
    approvalUrl: pageLink(APPROVAL_ID, exp),
    expiresAtIso: request.expiresAtIso,
  });
  const drafts: AuditDraft[] = [];
  const sent: string[] = [];
  const executions = new LocalExecutionRegistry();
  const apply: ApplyDecisionDeps = {
    approvals: store,
    environment: 'local',
    audit: {
      append: async (d: AuditDraft) => {
        drafts.push(d);
        return { id: `rec-${drafts.length}` } as never;
      },
    } as never,
    executions,
    taskTokens: {
      sendTaskSuccess: async (token: string) => void sent.push(`success:${token}`),
      sendTaskFailure: async (token: string, error: string) => void sent.push(`${error}:${token}`),
      sendTaskHeartbeat: async () => undefined,
    },
    announcer,
    microLive: { getMessageRef: async (id: string) => (id === APPROVAL_ID ? ref : null) } as never,
  };
  const sign = async (approver: string, note?: string) =>
    applyApprovalDecision(
      apply,
      await decideApproval(
        { store, clock },
        {
          approvalId: APPROVAL_ID,
          decision: 'approved',
          approver,
          channel: approver.startsWith('slack:') ? 'slack' : 'web',
          ...(note ? { note } : {}),
        },
      ),
    );
  return { ref, sign, sent };
}

const updates = () => slack.calls.filter((c) => c.method === 'chat.update');
const blocksOf = (args: Record<string, unknown>) => args.blocks as Record<string, unknown>[];
const textOf = (blocks: Record<string, unknown>[]) => JSON.stringify(blocks);

describe('the Slack approval message of a two-signature chain', () => {
  it('shows who signed and what is still due after the first signature, keeping the buttons', async () => {
    // Prepare
    const { ref, sign, sent } = await setup();

    // Act
    const first = await sign(OLIVIA, 'evidence checked');

    // Assess
    expect(first).toMatchObject({ execution: 'waiting', announceError: null });
    expect(sent).toEqual([]);
    const [update] = updates();
    expect(update?.token).toBe(TOKEN);
    expect(update?.args).toMatchObject({ channel: ref.channel, ts: ref.ts });
    const blocks = blocksOf(update?.args ?? {});
    const signatures = blocks.find((b) => String(b.block_id).includes(':signatures:'));
    const text = JSON.stringify(signatures);
    expect(text).toContain('Signed 1 of 2');
    expect(text).toMatch(/Step 1 \(operator\): approved by web:olivia@example\.com/);
    expect(text).toContain('evidence checked');
    expect(text).toMatch(/Step 2 \(risk\) still due: one of <@URICK01>/);
    expect(String(update?.args.text)).toMatch(/^Signed 1 of 2: .*step 2 \(risk\) still due/);
    const actions = blocks.find((b) => b.type === 'actions');
    const buttons = (actions?.elements ?? []) as Record<string, unknown>[];
    expect(buttons.map((b) => b.action_id)).toEqual(['approve', 'reject', 'open_approval_page']);
    expect(String(buttons[2]?.url)).toMatch(
      new RegExp(`^${BASE_URL}/approvals/${APPROVAL_ID}\\?exp=\\d+&sig=`),
    );
    expect(textOf(blocks)).not.toContain(TASK_TOKEN);
  });

  it('replaces the message with the decision, without buttons, once the risk officer signs', async () => {
    // Prepare
    const { ref, sign, sent } = await setup();
    await sign(OLIVIA);

    // Act
    const second = await sign(RICK);

    // Assess
    expect(second).toMatchObject({ execution: 'resumed', announceError: null });
    expect(sent).toEqual([`success:${TASK_TOKEN}`]);
    const all = updates();
    expect(all).toHaveLength(2);
    const last = all[1];
    expect(last?.args).toMatchObject({ channel: ref.channel, ts: ref.ts });
    const blocks = blocksOf(last?.args ?? {});
    expect(textOf(blocks)).toMatch(/Approved\* by <@URICK01>/);
    expect(blocks.some((b) => b.type === 'actions')).toBe(false);
  });

  it('reports a refused chat.update and keeps the signature', async () => {
    // Prepare
    const { sign } = await setup();
    const answer = slack.answer;
    slack.answer = (method, args) =>
      method === 'chat.update' ? { ok: false, error: 'message_not_found' } : answer(method, args);

    // Act
    let first: Awaited<ReturnType<typeof sign>>;
    try {
      first = await sign(OLIVIA);
    } finally {
      slack.answer = answer;
    }
    const second = await sign(RICK);

    // Assess
    expect(first.execution).toBe('waiting');
    expect(first.announceError).toMatch(/message_not_found/);
    expect(second.execution).toBe('resumed');
  });
});
