/**
 * Block Kit answers of the `/stagegate` slash command (`functions/core/use-cases/
 * slash-command.ts` decides WHAT to answer; this module only renders it). Answers are
 * ephemeral (only the caller sees them) except a confirmed kill switch change, which is posted
 * `in_channel` so the channel sees who halted or released the desk.
 *
 * Free text (reasons, symbols, ids) is escaped for mrkdwn. Limits as in messages.ts.
 */

import { lastEngageNote } from '../../core/use-cases/kill-switch.js';
import type { SlashAnswer, StatusView } from '../../core/use-cases/slash-command.js';
import type { KillSwitchState } from '../../ports/kill-switch.js';
import {
  escapeMrkdwn,
  fmtUsd,
  killSwitchConfirmBlockId,
  md,
  plain,
  SLACK_ACTION_IDS,
  type SlackBlock,
  type SlackMessage,
} from './messages.js';
import { reconciliationPhrase } from './reconciliation-phrase.js';

/** A slash-command response body (Slack: "Responding to slash commands"). */
export interface SlashResponse extends SlackMessage {
  readonly response_type: 'ephemeral' | 'in_channel';
  /** With response_url: replace the message the button was on. */
  readonly replace_original?: boolean;
}

const HELP_LINES = [
  '`status`: today’s cohort, promotions, kill switch, pending approvals, alarms',
  '`kill on <reason>` / `kill off`: engage / release the kill switch (operator; asks to confirm)',
  '`cohort start [bankroll] [agents] [symbols]`: a partial intraday cohort (operator)',
  '`fund?`: what to fund tomorrow, with the evidence',
  '`plan grow <amount> <days>` / `plan status` / `plan cancel`: a tracked plan (operator to change)',
];

function killLine(k: StatusView['killSwitch']): string {
  if (k === 'unreadable') return ':warning: *UNKNOWN* (cannot be read; gates fail closed)';
  if (!k) return 'off (never set)';
  const note = lastEngageNote(k);
  return `${k.engaged ? ':octagonal_sign: *ON*' : 'off'} since ${k.changedAtIso} by ${escapeMrkdwn(k.changedBy)}: ${escapeMrkdwn(k.reason)}${note ? `; ${note}` : ''}`;
}

function paperLines(v: StatusView): string {
  const p = v.paperSessions;
  if (p === null) return 'not readable here';
  if (p === 'unreadable') return ':warning: could not be read (the audit trail or the books)';
  if (p.length === 0) return 'none today';
  return p
    .map((s) => {
      const pnl =
        s.sessionPnlUsd === null ? 'no fill yet' : `${fmtUsd(s.sessionPnlUsd)} (${s.pnlBasis})`;
      const open = s.openOrders.length
        ? s.openOrders
            .map((o) => `${escapeMrkdwn(o.clientOrderId)} ${o.side} ${o.filledQty}/${o.qty}`)
            .join(', ')
        : 'none';
      const parity =
        s.parityDifferenceUsd === null
          ? 'parity pending'
          : `parity ${fmtUsd(s.parityDifferenceUsd)} vs the simulator`;
      const rec = reconciliationPhrase(s.reconciliationClean);
      return `• ${escapeMrkdwn(s.promotionId)} ${escapeMrkdwn(s.symbol ?? '?')}: *${s.status}*${s.halt ? ` (${escapeMrkdwn(s.halt.mode)}: ${escapeMrkdwn(s.halt.reason)})` : ''}, position ${s.positionQty} sh, session PnL ${pnl}, open orders: ${open}; ${parity}, ${rec}`;
    })
    .join('\n');
}

function statusBlocks(v: StatusView): SlackBlock[] {
  const c = v.latestCohort;
  const cohort = c
    ? `*${escapeMrkdwn(c.cohortId)}* (session ${c.sessionDate}, ${c.agentCount} agents, ${escapeMrkdwn(c.symbols.join(','))}): bankroll ${fmtUsd(c.bankrollUsd)}, PnL ${fmtUsd(c.totalPnlUsd)}, best ${escapeMrkdwn(c.bestAgentId ?? '-')}`
    : 'no cohort yet';
  const promotions = v.promotions.length
    ? v.promotions
        .map(
          (p) =>
            `• ${escapeMrkdwn(p.promotionId)} ${escapeMrkdwn(p.genome.symbol)} ${p.sessionDate}: *${p.status}* (${escapeMrkdwn(p.statusReason)}), slice ${fmtUsd(p.capitalSliceUsd)}, cohort PnL ${fmtUsd(p.metrics.totalPnlUsd)}`,
        )
        .join('\n')
    : 'none';
  const approvals = v.pendingApprovals.length
    ? v.pendingApprovals
        .map(
          (a) =>
            `• ${escapeMrkdwn(a.approvalId)}: ${escapeMrkdwn(a.candidateId)} on ${escapeMrkdwn(a.symbol)}, expires ${a.expiresAtIso}`,
        )
        .join('\n')
    : 'none';
  const alarms =
    v.alarms === null
      ? 'not readable here (the local mode has no CloudWatch alarms)'
      : v.alarms.length
        ? v.alarms.map(escapeMrkdwn).join(', ')
        : 'none in ALARM';
  return [
    { type: 'header', text: plain('stagegate status') },
    {
      type: 'section',
      block_id: 'kill_switch',
      text: md(`*Kill switch:* ${killLine(v.killSwitch)}`),
    },
    { type: 'section', block_id: 'cohort', text: md(`*Latest cohort:* ${cohort}`) },
    { type: 'section', block_id: 'promotions', text: md(`*Recent promotions:*\n${promotions}`) },
    { type: 'section', block_id: 'paper', text: md(`*Paper sessions today:*\n${paperLines(v)}`) },
    { type: 'section', block_id: 'approvals', text: md(`*Pending approvals:* ${approvals}`) },
    { type: 'section', block_id: 'alarms', text: md(`*Alarms:* ${alarms}`) },
    { type: 'context', elements: [md(`as of ${v.nowIso}`)] },
  ];
}

function killConfirmBlocks(answer: Extract<SlashAnswer, { kind: 'kill_confirm' }>): SlackBlock[] {
  const { engage, reason, seenChangedAtIso: seen } = answer;
  const what = engage ? 'Engage the kill switch' : 'Release the kill switch';
  const effect = engage
    ? 'every gate fails and every open paper order is canceled'
    : 'gates evaluate again; nothing is resubmitted';
  const asSeen = seen
    ? `\nReleases the switch as set at ${escapeMrkdwn(seen.length > 200 ? `${seen.slice(0, 200)}…` : seen)}: refused if it changes before the click.`
    : '';
  return [
    {
      type: 'section',
      text: md(`*${what}?* ${effect}.\nReason: ${escapeMrkdwn(reason)}${asSeen}`),
    },
    {
      type: 'actions',
      block_id: killSwitchConfirmBlockId(seen),
      elements: [
        {
          type: 'button',
          action_id: engage ? SLACK_ACTION_IDS.killSwitchOn : SLACK_ACTION_IDS.killSwitchOff,
          text: plain(engage ? 'Engage kill switch' : 'Release kill switch', 75),
          value: reason.slice(0, 2000),
          style: engage ? 'danger' : 'primary',
          confirm: {
            title: plain(`${what}?`, 100),
            text: plain(`${effect}. Reason: ${reason}`, 300),
            confirm: plain(engage ? 'Engage' : 'Release', 30),
            deny: plain('Cancel', 30),
            style: engage ? 'danger' : 'primary',
          },
        },
      ],
    },
  ];
}

function killDoneText(
  state: KillSwitchState,
  canceled: readonly string[],
  unchanged: string | null,
): string {
  const note = lastEngageNote(state);
  if (unchanged)
    return `Kill switch *${state.engaged ? 'ON' : 'off'}*: ${escapeMrkdwn(unchanged)}${note ? `; ${note}` : ''}.`;
  return state.engaged
    ? `:octagonal_sign: Kill switch *ON* by ${escapeMrkdwn(state.changedBy)}: ${escapeMrkdwn(state.reason)}. Gates fail; ${canceled.length} open order(s) canceled.`
    : `Kill switch *off* by ${escapeMrkdwn(state.changedBy)}: ${escapeMrkdwn(state.reason)}${note ? `; ${note}` : ''}.`;
}

/**
 * The confirmed change, posted in the channel; the orders an engage found already ended
 * (`killSwitchEndedNote`) and what it left undone (failed cancels, unsent flattens:
 * `killSwitchShortfall`) follow, each in a `plain_text` section, so a client_order_id's
 * underscores are shown as they are, never read as italics.
 */
function killDoneMessage(answer: Extract<SlashAnswer, { kind: 'kill_done' }>): SlashResponse {
  const text = killDoneText(answer.state, answer.canceled, answer.unchanged);
  const ended = answer.ended ? `${answer.ended}.` : null;
  const warning = answer.shortfall ? `⚠️ ${answer.shortfall}.` : null;
  const more = [ended, warning].filter((line): line is string => line !== null);
  return {
    response_type: 'in_channel',
    replace_original: true,
    text: [text, ...more].join('\n'),
    blocks: [
      { type: 'section', text: md(text) },
      ...more.map((line) => ({ type: 'section' as const, text: plain(line, 3000) })),
    ],
  };
}

/** Renders an answer as the slash-command response body. */
export function renderSlashAnswer(answer: SlashAnswer): SlashResponse {
  const eph = (text: string, blocks: SlackBlock[]): SlashResponse => ({
    response_type: 'ephemeral',
    text,
    blocks,
  });
  switch (answer.kind) {
    case 'help':
      return eph('stagegate commands', [
        { type: 'section', text: md(`*/stagegate* commands:\n${HELP_LINES.join('\n')}`) },
        { type: 'context', elements: [md(`your roles: ${answer.roles.join(', ')}`)] },
      ]);
    case 'refused':
      return eph(`Refused: ${answer.message}`, [
        {
          type: 'section',
          text: md(`:no_entry: *Refused* (${answer.reason}): ${escapeMrkdwn(answer.message)}`),
        },
      ]);
    case 'status':
      return eph('stagegate status', statusBlocks(answer.view));
    case 'kill_confirm':
      return eph(
        `${answer.engage ? 'Engage' : 'Release'} the kill switch? (confirm with the button)`,
        killConfirmBlocks(answer),
      );
    case 'kill_done':
      return killDoneMessage(answer);
    case 'unavailable':
      return eph(`${answer.command}: ${answer.message}`, [
        {
          type: 'section',
          text: md(`*${escapeMrkdwn(answer.command)}:* ${escapeMrkdwn(answer.message)}`),
        },
      ]);
    case 'working':
      return eph(`${answer.command}: ${answer.message}`, [
        {
          type: 'section',
          block_id: 'working',
          text: md(
            `:hourglass_flowing_sand: *${escapeMrkdwn(answer.command)}:* ${escapeMrkdwn(answer.message)}`,
          ),
        },
      ]);
    case 'text':
      return eph(answer.title, [
        { type: 'header', text: plain(answer.title) },
        ...chunk(answer.lines.map(escapeMrkdwn)).map(
          (t): SlackBlock => ({ type: 'section', text: md(t) }),
        ),
      ]);
  }
}

/** Lines joined into section texts of at most 3000 characters (at most 40 blocks). */
function chunk(lines: readonly string[]): string[] {
  const out: string[] = [];
  let cur = '';
  for (const line of lines) {
    if (cur && cur.length + line.length + 1 > 2900) {
      out.push(cur);
      cur = '';
    }
    cur = cur ? `${cur}\n${line}` : line;
  }
  if (cur) out.push(cur);
  return out.slice(0, 40);
}
