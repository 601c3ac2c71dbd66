import { describe, expect, it } from 'vitest';
import {
  parseSlackInteraction,
  slackClickKey,
} from '../../../functions/adapters/slack/interaction.js';
import {
  approvalMessage,
  decisionMessage,
  escapeMrkdwn,
  findingMessage,
  type SlackBlock,
  type SlackButton,
} from '../../../functions/adapters/slack/messages.js';
import { ValidationError } from '../../../functions/core/errors.js';
import { APPROVAL_ID, gate, HOSTILE, hostileSummary, summary, TASK_TOKEN } from './fixtures.js';

const LINKS = {
  approvalId: APPROVAL_ID,
  approvalUrl: `https://approve.example.com/approvals/${APPROVAL_ID}?exp=1381363200&sig=${'s'.repeat(43)}`,
  expiresAtIso: '2013-10-10T00:00:00.000Z',
};

const buttons = (blocks: readonly SlackBlock[]): SlackButton[] =>
  blocks.flatMap((b) => (b.type === 'actions' ? [...b.elements] : []));

/** Every text string in the blocks (section text, fields, context, header). */
function texts(blocks: readonly SlackBlock[]): string[] {
  const out: string[] = [];
  for (const b of blocks) {
    if (b.type === 'header') out.push(b.text.text);
    if (b.type === 'section') {
      if (b.text) out.push(b.text.text);
      for (const f of b.fields ?? []) out.push(f.text);
    }
    if (b.type === 'context') for (const e of b.elements) out.push(e.text);
  }
  return out;
}

/** A block_actions interactivity body as Slack posts it. */
function interactionBody(payload: unknown): string {
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

function blockActions(actionId: string, value: string | null = APPROVAL_ID) {
  return {
    type: 'block_actions',
    user: { id: 'U024BE7LH', username: 'alice', team_id: 'T0001' },
    team: { id: 'T0001', domain: 'example' },
    api_app_id: 'A0001',
    container: { type: 'message', message_ts: '1381348800.000100', channel_id: 'C0001' },
    channel: { id: 'C0001', name: 'approvals' },
    message: { ts: '1381348800.000100', text: 'Approval needed' },
    response_url: 'https://hooks.slack.com/actions/T0001/1/abc',
    trigger_id: '1.2.3',
    actions: [
      {
        type: 'button',
        action_id: actionId,
        block_id: 'b',
        ...(value === null ? {} : { value }),
        action_ts: '1381348900.1',
      },
    ],
  };
}

describe('approvalMessage', () => {
  it('has a header, the metrics, the gate table, the capital slice and leverage', () => {
    // Act
    const msg = approvalMessage(summary(), LINKS);
    // Assess
    expect(msg.blocks[0]).toMatchObject({
      type: 'header',
      text: { type: 'plain_text', text: 'Approval needed: genome-7f3a (momentum) on SPY' },
    });
    const all = texts(msg.blocks).join('\n');
    expect(all).toContain('$12.34');
    expect(all).toContain('1.82');
    expect(all).toContain('*Capital slice*\n$50.00 of $1,000.00');
    expect(all).toContain('*Leverage*\n2.0x');
    expect(all).toContain('*Gates:* 1 passed, 1 failed');
    expect(all).toContain(
      ':white_check_mark: `drawdown_agent` 0.012 vs 0.05 fraction of peak equity\n',
    );
    expect(all).toContain(':x: `min_trade_count` 4 vs 10 trades — 4 trades &lt; 10');
    expect(all).toContain('<https://reports.example.com/runs/day3?cohort=c-1|Run report>');
    expect(msg.text).not.toContain(LINKS.approvalUrl);
  });

  it('shows a gate not judged yet as not judged, with its reason, counted apart from the passes', () => {
    // Prepare
    const notJudged = gate({
      gate: 'baseline',
      verdict: 'not_judged',
      observed: '0 session(s)',
      threshold: '1 to judge',
      unit: 'out-of-sample sessions',
      reason: 'not judged yet',
    });
    // Act
    const msg = approvalMessage(summary({ gates: [...summary().gates, notJudged] }), LINKS);
    // Assess
    const all = texts(msg.blocks).join('\n');
    expect(all).toContain('*Gates:* 1 passed, 1 failed, 1 not judged');
    expect(all).toContain(
      ':grey_question: not judged `baseline` 0 session(s) vs 1 to judge out-of-sample sessions — not judged yet',
    );
  });

  it('offers Approve / Reject action buttons carrying the approval id, and a url button', () => {
    // Act
    const msg = approvalMessage(summary(), LINKS);
    // Assess
    const [approve, reject, open] = buttons(msg.blocks);
    expect(approve).toMatchObject({ action_id: 'approve', value: APPROVAL_ID, style: 'primary' });
    expect(approve?.confirm?.confirm.text).toBe('Approve');
    expect(reject).toMatchObject({ action_id: 'reject', value: APPROVAL_ID, style: 'danger' });
    expect(open).toMatchObject({ action_id: 'open_approval_page', url: LINKS.approvalUrl });
    expect(approve?.url).toBeUndefined();
  });

  it('offers url buttons to the approval page in link-only mode', () => {
    // Act
    const msg = approvalMessage(summary(), LINKS, { interactive: false });
    // Assess
    const bs = buttons(msg.blocks);
    expect(bs.map((b) => b.action_id)).toEqual([
      'open_approval_page_approve',
      'open_approval_page_reject',
    ]);
    expect(bs.every((b) => b.url === LINKS.approvalUrl)).toBe(true);
  });

  it('never carries the task token and escapes hostile text', () => {
    // Act
    const msg = approvalMessage(hostileSummary(), LINKS);
    // Assess
    const json = JSON.stringify(msg);
    expect(json).not.toContain(TASK_TOKEN);
    for (const t of texts(msg.blocks).slice(1)) {
      expect(t).not.toContain('<!channel>');
      expect(t).not.toContain('<@U1>');
      expect(t).not.toContain('<script>');
    }
    expect(msg.text).not.toContain('<!channel>');
    expect(texts(msg.blocks).join('\n')).toContain(escapeMrkdwn(HOSTILE));
  });

  it('shows the baseline comparison beside the paper record, within 10 fields', () => {
    // Prepare: every optional metric present
    const base = summary();
    const full = summary({
      metrics: {
        ...base.metrics,
        inSampleRoi: 0.00023,
        inSampleSessions: 1,
        outOfSampleRoi: -0.00104,
        outOfSampleSessions: 2,
        paperSessions: 2,
        paperPnlUsd: -0.21,
        paperParitySessions: 2,
        paperCountedSessions: 2,
        baseline: {
          candidateMeanReturn: -0.00104,
          candidateSessions: 2,
          bestBaseline: 'buy_and_hold IBM',
          bestMeanReturn: -0.00373,
          bestSessions: 2,
          missingDates: [],
        },
      },
    });
    // Act
    const msg = approvalMessage(full, LINKS);
    // Assess
    expect(texts(msg.blocks).join('\n')).toContain(
      '*Baseline*\ncandidate -0.104% per session (n=2) vs best baseline buy_and_hold IBM -0.373% per session (n=2)',
    );
    const metrics = msg.blocks.find((b) => b.type === 'section' && (b.fields ?? []).length > 0);
    expect(metrics?.type === 'section' ? metrics.fields?.length : 0).toBe(10);
  });

  it('keeps within Block Kit limits for a long gate table', () => {
    // Prepare
    const long = summary({
      gates: Array.from({ length: 60 }, () => ({
        ...summary().gates[1]!,
        reason: 'r'.repeat(500),
      })),
      candidateId: 'c'.repeat(190),
    });
    // Act
    const msg = approvalMessage(long, LINKS);
    // Assess
    expect(msg.blocks.length).toBeLessThanOrEqual(50);
    for (const b of msg.blocks) {
      if (b.type === 'header') expect(b.text.text.length).toBeLessThanOrEqual(150);
      if (b.type === 'section' && b.text) expect(b.text.text.length).toBeLessThanOrEqual(3000);
      if (b.type === 'section') expect((b.fields ?? []).length).toBeLessThanOrEqual(10);
    }
  });
});

describe('findingMessage', () => {
  it("says the workflow's finding and nothing more: no buttons, no 'Approved', no micro-live claim", () => {
    // Act
    const msg = findingMessage(summary(), {
      approvalId: APPROVAL_ID,
      finding: 'concluded',
      message: 'Your decision is recorded. The workflow has concluded: timed out = not approved.',
    });

    // Assess
    const all = texts(msg.blocks).join('\n');
    expect(all).toContain('timed out = not approved');
    expect(all).not.toMatch(/Approved|Micro-live/);
    expect(buttons(msg.blocks)).toEqual([]);
    expect(msg.text).toContain('timed out = not approved');
  });
});

describe('decisionMessage', () => {
  it('states the decision and who made it, with no buttons left', () => {
    // Act
    const msg = decisionMessage(summary(), {
      approvalId: APPROVAL_ID,
      decision: 'approved',
      by: 'slack:U024BE7LH',
      atIso: '2013-10-09T20:05:00.000Z',
    });
    // Assess
    expect(msg.blocks[0]).toMatchObject({
      type: 'header',
      text: { text: 'Approved: genome-7f3a (momentum) on SPY' },
    });
    expect(texts(msg.blocks).join('\n')).toContain(':white_check_mark: *Approved* by <@U024BE7LH>');
    expect(buttons(msg.blocks)).toEqual([]);
    expect(msg.text).toContain('slack:U024BE7LH');
  });

  it('shows an expiry as a rejection without an approver, and escapes non-Slack identities', () => {
    // Act
    const expired = decisionMessage(summary(), {
      approvalId: APPROVAL_ID,
      decision: 'expired',
      by: null,
      atIso: '2013-10-10T00:00:00.000Z',
    });
    const web = decisionMessage(summary(), {
      approvalId: APPROVAL_ID,
      decision: 'rejected',
      by: 'web:<!here>',
      atIso: '2013-10-10T00:00:00.000Z',
    });
    // Assess
    expect(expired.blocks[0]).toMatchObject({
      text: { text: 'Expired (rejected): genome-7f3a (momentum) on SPY' },
    });
    expect(texts(expired.blocks).join('\n')).toContain(
      ':hourglass: No decision before the deadline',
    );
    expect(texts(web.blocks).join('\n')).toContain(':no_entry: *Rejected* by web:&lt;!here&gt;');
  });
});

describe('parseSlackInteraction', () => {
  it.each([
    ['approve', 'approved'],
    ['reject', 'rejected'],
  ])('reads a %s click as a decision by the Slack user', (actionId, decision) => {
    // Act
    const action = parseSlackInteraction(interactionBody(blockActions(actionId)));
    // Assess
    expect(action).toEqual({
      kind: 'decision',
      decision,
      approvalId: APPROVAL_ID,
      approver: 'slack:U024BE7LH',
      userId: 'U024BE7LH',
      teamId: 'T0001',
      channelId: 'C0001',
      messageTs: '1381348800.000100',
      responseUrl: 'https://hooks.slack.com/actions/T0001/1/abc',
      actionId,
      actionTs: '1381348900.1',
    });
  });

  it('keys a click on its action identity: every delivery of one click alike, another click (action_ts) not, none without action_ts', () => {
    // Prepare
    const payload = blockActions('approve');
    const action = (p: unknown) =>
      parseSlackInteraction(interactionBody(p)) as Extract<
        ReturnType<typeof parseSlackInteraction>,
        { kind: 'decision' }
      >;
    const [first] = (payload as { actions: Record<string, unknown>[] }).actions;
    const other = { ...payload, actions: [{ ...first, action_ts: '1381348999.2' }] };
    const none = { ...payload, actions: [{ ...first, action_ts: undefined }] };

    // Act
    const keys = [payload, payload, other, none].map((p) => slackClickKey(action(p)));

    // Assess
    expect(keys[1]).toEqual(keys[0]);
    expect(keys[2]).not.toEqual(keys[0]);
    expect(keys[0]).toEqual([
      'slack-click',
      'U024BE7LH',
      'T0001',
      '1381348800.000100',
      'approve',
      '1381348900.1',
    ]);
    expect(keys[3]).toBeNull();
  });

  it('reads a url-button click as link_opened (no decision)', () => {
    // Act
    const action = parseSlackInteraction(
      interactionBody(blockActions('open_approval_page_approve')),
    );
    // Assess
    expect(action).toEqual({
      kind: 'link_opened',
      approvalId: APPROVAL_ID,
      approver: 'slack:U024BE7LH',
    });
  });

  it.each([
    ['another payload type', { type: 'view_submission', user: { id: 'U1' } }],
    ['another action', blockActions('something_else')],
  ])('ignores %s', (_name, payload) => {
    // Act / Assess
    expect(parseSlackInteraction(interactionBody(payload)).kind).toBe('ignored');
  });

  it.each([
    ['a body without payload', 'foo=bar'],
    ['a payload that is not JSON', 'payload=%7Bnot-json'],
    ['a click without a user', interactionBody({ ...blockActions('approve'), user: undefined })],
    ['a click with no actions', interactionBody({ ...blockActions('approve'), actions: [] })],
    ['a click whose value is not an approval id', interactionBody(blockActions('approve', '../x'))],
    ['a click without a value', interactionBody(blockActions('approve', null))],
  ])('rejects %s with ValidationError', (_name, body) => {
    // Act / Assess
    expect(() => parseSlackInteraction(body)).toThrow(ValidationError);
  });
});
