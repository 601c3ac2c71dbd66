/**
 * Block Kit messages of the Day-3 approval: the request ({@link approvalMessage}), its
 * replacement after each partial signature of a chain ({@link progressMessage}) and once
 * decided or expired ({@link decisionMessage}). Pure builders returning the
 * {@link ChatMessage} the notifier posts.
 *
 * Two ways to decide from Slack, both supported:
 * - `interactive` (default): Approve / Reject are action buttons (`action_id` `approve` /
 *   `reject`, `value` = approval id) with a Slack confirmation dialog; a click POSTs a
 *   `block_actions` payload to the app's interactivity endpoint (see interaction.ts). A third
 *   `url` button opens the approval page for the full report.
 * - link only (`interactive: false`, e.g. an incoming webhook with no interactivity endpoint):
 *   Approve / Reject are `url` buttons to the approval page, whose GET shows the confirmation
 *   form; their action ids (`open_approval_page_*`) are acknowledged and ignored if Slack posts
 *   them to an interactivity endpoint.
 *
 * Only the opaque approval id and the signed link travel in the message; never the task token.
 * Free text is escaped for mrkdwn (`&`, `<`, `>`), so a strategy name cannot inject mentions
 * or links. Limits respected (Block Kit reference): header text <= 150 chars, section text
 * <= 3000, <= 10 fields of <= 2000, button text <= 75, value <= 2000, url <= 3000.
 */

import type { ApprovalSignature, ApprovalStep } from '../../core/approval/chain.js';
import { baselineText, paperText, sharpeText } from '../../core/approval/page.js';
import type { ApprovalSummary } from '../../core/approval/types.js';
import { ValidationError } from '../../core/errors.js';
import {
  countVerdicts,
  describeVerdictCounts,
  type GateResult,
  verdictLabel,
} from '../../core/gates/types.js';
import { killSwitchSeenDigest } from '../../core/use-cases/kill-switch.js';
import type { ChatMessage } from '../../ports/notifier.js';

/** Action ids of the message's buttons (interaction.ts dispatches on them). */
export const SLACK_ACTION_IDS = {
  approve: 'approve',
  reject: 'reject',
  openPage: 'open_approval_page',
  openPageApprove: 'open_approval_page_approve',
  openPageReject: 'open_approval_page_reject',
  /** Confirmation buttons of `/stagegate kill on|off` (value = the reason). */
  killSwitchOn: 'kill_switch_on',
  killSwitchOff: 'kill_switch_off',
} as const;

const KILL_SWITCH_CONFIRM_BLOCK = 'kill_switch_confirm';
/**
 * Longest `changedAtIso` a confirmation carries whole (an ISO-8601 time is 20-30 characters;
 * Slack's `block_id` limit is 255): a longer one is carried as its digest.
 */
const SEEN_MAX = 200;
const SEEN_DIGEST = /^sha256:[0-9a-f]{64}$/;

/**
 * The `block_id` of the kill switch confirmation's buttons: `kill_switch_confirm`, followed
 * for a release by `:<changedAtIso>` of the switch the confirmation showed (`:none` when never
 * set; `:sha256:<64 hex>`, `killSwitchSeenDigest`, for one over 200 characters), which Slack
 * sends back with the click ({@link seenOfKillSwitchBlock}).
 */
export function killSwitchConfirmBlockId(seen: string | null | undefined): string {
  if (seen === undefined) return KILL_SWITCH_CONFIRM_BLOCK;
  if (seen === null) return `${KILL_SWITCH_CONFIRM_BLOCK}:none`;
  return `${KILL_SWITCH_CONFIRM_BLOCK}:${seen.length > SEEN_MAX || SEEN_DIGEST.test(seen) ? killSwitchSeenDigest(seen) : seen}`;
}

/**
 * The switch a clicked confirmation showed: its `changedAtIso` (or its digest), null for
 * `:none`, undefined when the block carries none (`kill_switch_confirm` alone: an engage, a
 * release asked before confirmations carried it) or is not the confirmation's.
 *
 * @throws ValidationError (field `payload.actions.0.block_id`) for a `kill_switch_confirm:`
 *   block whose tail is not a time of at most 200 characters, `none` or a SHA-256 digest.
 */
export function seenOfKillSwitchBlock(blockId: string | undefined): string | null | undefined {
  const prefix = `${KILL_SWITCH_CONFIRM_BLOCK}:`;
  if (!blockId?.startsWith(prefix)) return undefined;
  const tail = blockId.slice(prefix.length);
  const digest = tail.startsWith('sha256:');
  if (tail.length === 0 || tail.length > SEEN_MAX || (digest && !SEEN_DIGEST.test(tail))) {
    throw new ValidationError(
      'payload.actions.0.block_id',
      'is not a kill switch confirmation of a seen switch (kill_switch_confirm:<changedAtIso|none|sha256:<hex>>)',
    );
  }
  return tail === 'none' ? null : tail;
}

/** True for the kill switch confirmation's `block_id` (with or without the switch seen). */
export const isKillSwitchConfirmBlock = (blockId: unknown): boolean =>
  typeof blockId === 'string' &&
  (blockId === KILL_SWITCH_CONFIRM_BLOCK || blockId.startsWith(`${KILL_SWITCH_CONFIRM_BLOCK}:`));

/** Plain-text object. */
interface PlainText {
  readonly type: 'plain_text';
  readonly text: string;
  readonly emoji?: boolean;
}

/** mrkdwn text object. */
interface Mrkdwn {
  readonly type: 'mrkdwn';
  readonly text: string;
}

/** The Block Kit subset these messages use. */
export type SlackBlock =
  | { readonly type: 'header'; readonly block_id?: string; readonly text: PlainText }
  | {
      readonly type: 'section';
      readonly block_id?: string;
      readonly text?: Mrkdwn | PlainText;
      readonly fields?: readonly Mrkdwn[];
    }
  | { readonly type: 'context'; readonly block_id?: string; readonly elements: readonly Mrkdwn[] }
  | { readonly type: 'divider' }
  | {
      readonly type: 'actions';
      readonly block_id: string;
      readonly elements: readonly SlackButton[];
    };

/** A button element (action or url). */
export interface SlackButton {
  readonly type: 'button';
  readonly action_id: string;
  readonly text: PlainText;
  readonly value?: string;
  readonly url?: string;
  readonly style?: 'primary' | 'danger';
  readonly confirm?: {
    readonly title: PlainText;
    readonly text: PlainText;
    readonly confirm: PlainText;
    readonly deny: PlainText;
    readonly style?: 'primary' | 'danger';
  };
}

/** A chat message whose blocks are typed Block Kit. */
export interface SlackMessage extends ChatMessage {
  readonly blocks: readonly SlackBlock[];
}

/** Escapes the three characters Slack's mrkdwn treats as control characters. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

export const plain = (text: string, max = 150): PlainText => ({
  type: 'plain_text',
  text: truncate(text, max),
  emoji: true,
});
export const md = (text: string, max = 3000): Mrkdwn => ({
  type: 'mrkdwn',
  text: truncate(text, max),
});

const usd = new Intl.NumberFormat('en-US', {
  style: 'currency',
  currency: 'USD',
  minimumFractionDigits: 2,
  maximumFractionDigits: 2,
});
export const fmtUsd = (v: number) => (Number.isFinite(v) ? usd.format(v) : 'n/a');
export const fmtPct = (v: number) => (Number.isFinite(v) ? `${(v * 100).toFixed(2)}%` : 'n/a');
const fmtNum = (v: number, d = 2) => (Number.isFinite(v) ? v.toFixed(d) : 'n/a');

function fmtGateValue(v: number | string | null): string {
  if (v === null) return 'missing';
  if (typeof v === 'number') return Number.isFinite(v) ? String(Number(v.toPrecision(6))) : 'n/a';
  return v;
}

/** A URL safe to embed in `<url|label>` mrkdwn (http(s), no characters that end the link). */
function linkable(url: string | null | undefined): url is string {
  return typeof url === 'string' && /^https?:\/\/[^\s<>|]+$/i.test(url) && url.length <= 3000;
}

/** Slack date token: renders in the reader's time zone, with `fallback` where unsupported. */
function slackDate(iso: string): string {
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) return escapeMrkdwn(iso);
  return `<!date^${Math.floor(ms / 1000)}^{date_short_pretty} {time}|${escapeMrkdwn(iso)}>`;
}

/** Shows `slack:U123` as a mention, anything else as escaped text. */
function who(by: string): string {
  const m = /^slack:([UW][A-Z0-9]{2,})$/.exec(by);
  return m ? `<@${m[1]}>` : escapeMrkdwn(by);
}

function metricFields(s: ApprovalSummary): Mrkdwn[] {
  return [
    md(`*Total PnL (net)*\n${fmtUsd(s.metrics.totalPnlUsd)}`),
    md(`*Return*\n${fmtPct(s.metrics.roi)}`),
    md(`*Sharpe*\n${escapeMrkdwn(sharpeText(s))}`),
    ...(s.metrics.inSampleRoi !== undefined && s.metrics.outOfSampleRoi !== undefined
      ? [
          md(
            `*In sample / out of sample*\n${fmtPct(s.metrics.inSampleRoi)} (n = ${s.metrics.inSampleSessions ?? 0}) / ${fmtPct(s.metrics.outOfSampleRoi)} (n = ${s.metrics.outOfSampleSessions ?? 0}) per session`,
          ),
        ]
      : []),
    ...(s.metrics.paperSessions !== undefined
      ? [md(`*Paper sessions*\n${escapeMrkdwn(paperText(s.metrics))}`)]
      : []),
    ...(baselineText(s.metrics) !== null
      ? [md(`*Baseline*\n${escapeMrkdwn(baselineText(s.metrics) ?? '')}`)]
      : []),
    md(`*Max drawdown*\n${fmtPct(s.metrics.maxDrawdownFraction)} from the agent's own peak`),
    md(`*Trades*\n${s.metrics.tradeCount} over ${s.metrics.sessions} session(s)`),
    md(`*Capital slice*\n${fmtUsd(s.capitalSliceUsd)} of ${fmtUsd(s.bankrollUsd)}`),
    md(`*Leverage*\n${fmtNum(s.leverage, 1)}x`),
  ];
}

/** A gate line's icon by its {@link verdictLabel} (an unknown verdict reads `FAIL`, as everywhere). */
const VERDICT_ICONS: Readonly<Record<string, string>> = {
  PASS: ':white_check_mark:',
  'NOT JUDGED': ':grey_question: not judged',
  FAIL: ':x:',
};

function gateLine(g: GateResult): string {
  const icon = VERDICT_ICONS[verdictLabel(g.verdict)];
  return `${icon} \`${escapeMrkdwn(g.gate)}\` ${escapeMrkdwn(fmtGateValue(g.observed))} vs ${escapeMrkdwn(fmtGateValue(g.threshold))} ${escapeMrkdwn(g.unit)}${g.verdict !== 'pass' ? ` — ${escapeMrkdwn(truncate(g.reason, 300))}` : ''}`;
}

/** The gate table as mrkdwn sections of at most 3000 characters each. */
function gateSections(gates: readonly GateResult[], blockPrefix: string): SlackBlock[] {
  const lines = [`*Gates:* ${describeVerdictCounts(countVerdicts(gates))}`, ...gates.map(gateLine)];
  const chunks: string[] = [];
  let current = '';
  for (const line of lines) {
    const safe = truncate(line, 2900);
    if (current && current.length + 1 + safe.length > 2900) {
      chunks.push(current);
      current = safe;
    } else {
      current = current ? `${current}\n${safe}` : safe;
    }
  }
  if (current) chunks.push(current);
  return chunks.map((text, i) => ({
    type: 'section' as const,
    block_id: `${blockPrefix}:gates:${i}`,
    text: md(text),
  }));
}

function headline(s: ApprovalSummary): string {
  return `${s.candidateId} (${s.family}) on ${s.symbol}`;
}

function candidateSection(s: ApprovalSummary, blockPrefix: string): SlackBlock {
  const sessions = s.sessionDates.length ? s.sessionDates.join(', ') : 'n/a';
  return {
    type: 'section',
    block_id: `${blockPrefix}:candidate`,
    text: md(
      `*Candidate* \`${escapeMrkdwn(s.candidateId)}\` · agent \`${escapeMrkdwn(s.agentId)}\` · ${escapeMrkdwn(s.family)} on *${escapeMrkdwn(s.symbol)}*\nSessions: ${escapeMrkdwn(sessions)}`,
    ),
  };
}

/** Links an approval message points at. */
export interface ApprovalLinks {
  readonly approvalId: string;
  /** The signed approval page link (links.ts `buildApprovalLink(...).url`). */
  readonly approvalUrl: string;
  /** When the request expires (timeout = reject), UTC ISO-8601. */
  readonly expiresAtIso: string;
}

/**
 * The approval's action buttons for the interactivity flow: Approve and Reject (each with a
 * confirmation dialog) and, when the page link is linkable, a url button to the approval page.
 */
function interactiveButtons(
  summary: ApprovalSummary,
  id: string,
  pageUrl: string | undefined,
): SlackButton[] {
  return [
    {
      type: 'button',
      action_id: SLACK_ACTION_IDS.approve,
      text: plain('Approve', 75),
      value: id,
      style: 'primary',
      confirm: {
        title: plain('Approve micro-live?', 100),
        text: plain(
          `Start a ${fmtUsd(summary.capitalSliceUsd)} micro-live slice of ${headline(summary)} at ${fmtNum(summary.leverage, 1)}x on the paper account.`,
          300,
        ),
        confirm: plain('Approve', 30),
        deny: plain('Cancel', 30),
        style: 'primary',
      },
    },
    {
      type: 'button',
      action_id: SLACK_ACTION_IDS.reject,
      text: plain('Reject', 75),
      value: id,
      style: 'danger',
      confirm: {
        title: plain('Reject this candidate?', 100),
        text: plain(`Stop the promotion of ${headline(summary)}.`, 300),
        confirm: plain('Reject', 30),
        deny: plain('Cancel', 30),
        style: 'danger',
      },
    },
    ...(pageUrl
      ? [
          {
            type: 'button' as const,
            action_id: SLACK_ACTION_IDS.openPage,
            text: plain('Open approval page', 75),
            value: id,
            url: pageUrl,
          },
        ]
      : []),
  ];
}

/**
 * The approval's url buttons when interactivity is off (Approve… / Reject… open the approval
 * page, which asks again); none when the page link is not linkable.
 */
function pageUrlButtons(id: string, pageUrl: string | undefined): SlackButton[] {
  if (!pageUrl) return [];
  return [
    {
      type: 'button',
      action_id: SLACK_ACTION_IDS.openPageApprove,
      text: plain('Approve…', 75),
      value: id,
      url: pageUrl,
      style: 'primary',
    },
    {
      type: 'button',
      action_id: SLACK_ACTION_IDS.openPageReject,
      text: plain('Reject…', 75),
      value: id,
      url: pageUrl,
      style: 'danger',
    },
  ];
}

/**
 * The approval request: header, candidate, metrics (PnL, return, Sharpe, drawdown, trades,
 * capital slice, leverage), gate table, expiry and run-report link, and the buttons described
 * in the module comment. `text` (the notification fallback) names the candidate and deadline
 * but not the link, so lock-screen previews do not show it.
 *
 * @param options.interactive action buttons for the interactivity flow (default true), or url
 *   buttons only.
 */
export function approvalMessage(
  summary: ApprovalSummary,
  links: ApprovalLinks,
  options: { readonly interactive?: boolean } = {},
): SlackMessage {
  const interactive = options.interactive ?? true;
  const prefix = `approval:${links.approvalId}`;
  const pageUrl = linkable(links.approvalUrl) ? links.approvalUrl : undefined;
  const buttons = interactive
    ? interactiveButtons(summary, links.approvalId, pageUrl)
    : pageUrlButtons(links.approvalId, pageUrl);
  const contextBits = [`Expires ${slackDate(links.expiresAtIso)} (no decision = reject)`];
  if (linkable(summary.reportUrl)) contextBits.push(`<${summary.reportUrl}|Run report>`);
  if (pageUrl) contextBits.push(`<${pageUrl}|Approval page>`);
  const blocks: SlackBlock[] = [
    {
      type: 'header',
      block_id: `${prefix}:header`,
      text: plain(`Approval needed: ${headline(summary)}`),
    },
    ...(summary.demoOverride
      ? [
          {
            type: 'section' as const,
            block_id: `${prefix}:demo`,
            text: md(`:warning: *${summary.demoOverride}*`),
          },
        ]
      : []),
    candidateSection(summary, prefix),
    { type: 'section', block_id: `${prefix}:metrics`, fields: metricFields(summary) },
    ...gateSections(summary.gates, prefix),
    { type: 'context', block_id: `${prefix}:context`, elements: [md(contextBits.join(' · '))] },
  ];
  if (buttons.length > 0)
    blocks.push({ type: 'actions', block_id: `${prefix}:actions`, elements: buttons });
  return {
    text: truncate(
      escapeMrkdwn(
        `Approval needed: ${headline(summary)}, ${fmtUsd(summary.capitalSliceUsd)} at ${fmtNum(summary.leverage, 1)}x; expires ${links.expiresAtIso}`,
      ),
      3000,
    ),
    blocks,
  };
}

/** How an approval request ended. */
export interface DecisionInfo {
  readonly approvalId: string;
  /** `expired` when the deadline passed without a decision (counts as a reject). */
  readonly decision: 'approved' | 'rejected' | 'expired';
  /** Approver identity `scheme:id` (`slack:U123` renders as a mention); null for `expired`. */
  readonly by: string | null;
  /** When it was decided or expired, UTC ISO-8601. */
  readonly atIso: string;
}

/** The outcome line's icon by the decision. */
const DECISION_ICONS: Readonly<Record<DecisionInfo['decision'], string>> = {
  approved: ':white_check_mark:',
  rejected: ':no_entry:',
  expired: ':hourglass:',
};

/**
 * The message that replaces the request once it is decided or expired: the outcome, who
 * decided and when, the candidate and its metrics, and NO buttons (nothing left to click).
 */
export function decisionMessage(summary: ApprovalSummary, info: DecisionInfo): SlackMessage {
  const prefix = `approval:${info.approvalId}:${info.decision}`;
  const title =
    info.decision === 'approved'
      ? `Approved: ${headline(summary)}`
      : info.decision === 'rejected'
        ? `Rejected: ${headline(summary)}`
        : `Expired (rejected): ${headline(summary)}`;
  const icon = DECISION_ICONS[info.decision];
  const line =
    info.decision === 'expired'
      ? `${icon} No decision before the deadline ${slackDate(info.atIso)}: the promotion was rejected.`
      : `${icon} *${info.decision === 'approved' ? 'Approved' : 'Rejected'}* by ${who(info.by ?? 'unknown')} ${slackDate(info.atIso)}.${info.decision === 'approved' ? ` Micro-live slice of ${fmtUsd(summary.capitalSliceUsd)} at ${fmtNum(summary.leverage, 1)}x starting.` : ''}`;
  const blocks: SlackBlock[] = [
    { type: 'header', block_id: `${prefix}:header`, text: plain(title) },
    { type: 'section', block_id: `${prefix}:outcome`, text: md(line) },
    candidateSection(summary, prefix),
    { type: 'section', block_id: `${prefix}:metrics`, fields: metricFields(summary) },
  ];
  if (linkable(summary.reportUrl)) {
    blocks.push({
      type: 'context',
      block_id: `${prefix}:context`,
      elements: [md(`<${summary.reportUrl}|Run report>`)],
    });
  }
  const byText = info.by ? ` by ${info.by}` : '';
  return { text: truncate(escapeMrkdwn(`${title}${byText} at ${info.atIso}`), 3000), blocks };
}

/** What the workflow did with a decided request (ports/approval-announcer.ts `finding`). */
export interface FindingInfo {
  readonly approvalId: string;
  readonly finding: 'running' | 'concluded';
  /** The finding's sentence (core/approval/workflow-finding.ts). */
  readonly message: string;
}

/**
 * The message that replaces the request when a redelivery read the execution (its re-sent
 * resume was refused): the finding's own sentence, the candidate and its metrics, NO buttons
 * and no claim beyond the finding (never "Micro-live ... starting").
 */
export function findingMessage(summary: ApprovalSummary, info: FindingInfo): SlackMessage {
  const prefix = `approval:${info.approvalId}:${info.finding}`;
  const title = `Decided: ${headline(summary)}`;
  const icon = info.finding === 'running' ? ':hourglass_flowing_sand:' : ':information_source:';
  return {
    text: truncate(escapeMrkdwn(`${title}: ${info.message}`), 3000),
    blocks: [
      { type: 'header', block_id: `${prefix}:header`, text: plain(title) },
      {
        type: 'section',
        block_id: `${prefix}:finding`,
        text: md(`${icon} ${escapeMrkdwn(info.message)}`),
      },
      candidateSection(summary, prefix),
      { type: 'section', block_id: `${prefix}:metrics`, fields: metricFields(summary) },
    ],
  };
}

/** A partly signed request of a multi-signature chain (ports/approval-announcer.ts). */
export interface ChainProgress {
  /** The signatures the request needs, in order. */
  readonly chain: readonly ApprovalStep[];
  /** The signatures given so far, oldest first. */
  readonly signatures: readonly ApprovalSignature[];
}

/**
 * The request after a partial signature of its chain: {@link approvalMessage} (same buttons:
 * the request is still open) with "Signed k of n" in the header and a section listing who
 * signed (step, role, approver, when, note) and each step still due (role and who may sign).
 */
export function progressMessage(
  summary: ApprovalSummary,
  links: ApprovalLinks,
  progress: ChainProgress,
  options: { readonly interactive?: boolean } = {},
): SlackMessage {
  const base = approvalMessage(summary, links, options);
  const prefix = `approval:${links.approvalId}`;
  const signed = progress.signatures.length;
  const total = progress.chain.length;
  const counter = `Signed ${signed} of ${total}`;
  const lines = [
    ...progress.signatures.map(
      (s) =>
        `:white_check_mark: Step ${s.step} (${s.role}): ${s.decision === 'approved' ? 'approved' : 'rejected'} by ${who(s.by)} ${slackDate(s.atIso)}${s.note ? `: _${escapeMrkdwn(truncate(s.note, 200))}_` : ''}`,
    ),
    ...progress.chain
      .slice(signed)
      .map(
        (step, i) =>
          `:hourglass_flowing_sand: Step ${signed + i + 1} (${step.role}) still due: one of ${step.approvers.map(who).join(', ')}`,
      ),
  ];
  const blocks: SlackBlock[] = [
    {
      type: 'header',
      block_id: `${prefix}:header`,
      text: plain(`${counter} · Approval needed: ${headline(summary)}`),
    },
    {
      type: 'section',
      block_id: `${prefix}:signatures:${signed}`,
      text: md(`*${counter}*\n${lines.join('\n')}`),
    },
    ...base.blocks.slice(1),
  ];
  const due = progress.chain[signed];
  return {
    text: truncate(
      escapeMrkdwn(
        `${counter}: ${headline(summary)}; ${due ? `step ${signed + 1} (${due.role}) still due; ` : ''}expires ${links.expiresAtIso}`,
      ),
      3000,
    ),
    blocks,
  };
}
