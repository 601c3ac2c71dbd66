/**
 * Parsing of Slack interactivity requests (a button click in the approval message). Slack
 * POSTs `application/x-www-form-urlencoded` with one field, `payload`, holding JSON; for
 * Block Kit buttons its `type` is `block_actions` (Slack reference: "block_actions payload").
 * Verify the request signature (signature.ts) BEFORE parsing: only then is `user.id` the
 * authenticated clicker.
 */
import * as z from 'zod';
import { APPROVAL_ID_PATTERN, type ApprovalDecision } from '../../core/approval/types.js';
import { parseOrThrow, ValidationError } from '../../core/errors.js';
import { SLACK_ACTION_IDS, seenOfKillSwitchBlock } from './messages.js';

const actionSchema = z.looseObject({
  action_id: z.string().max(255),
  type: z.string(),
  block_id: z.string().optional(),
  value: z.string().max(2000).optional(),
  /** When Slack registered the click (`"1700000000.123456"`); the same on every redelivery. */
  action_ts: z.string().max(32).optional(),
});

/** The fields of a `block_actions` payload this app reads (others are kept, unread). */
export const blockActionsPayloadSchema = z.looseObject({
  type: z.literal('block_actions'),
  user: z.looseObject({ id: z.string().regex(/^[A-Z0-9]+$/), team_id: z.string().optional() }),
  team: z.looseObject({ id: z.string() }).nullish(),
  api_app_id: z.string().optional(),
  actions: z.array(actionSchema).min(1),
  container: z
    .looseObject({ message_ts: z.string().optional(), channel_id: z.string().optional() })
    .optional(),
  channel: z.looseObject({ id: z.string() }).nullish(),
  message: z.looseObject({ ts: z.string() }).nullish(),
  response_url: z.url({ protocol: /^https$/ }).optional(),
});

/** What a click means for the approval workflow. */
export type SlackApprovalAction =
  | {
      /** Approve / Reject clicked (after Slack's confirmation dialog): record the decision. */
      readonly kind: 'decision';
      readonly decision: ApprovalDecision;
      readonly approvalId: string;
      /** Approver identity for the allow-list and audit: `slack:<user id>`. */
      readonly approver: string;
      readonly userId: string;
      readonly teamId: string | null;
      /** Where the clicked message lives (to update it with the decision). */
      readonly channelId: string | null;
      readonly messageTs: string | null;
      /** Slack's response_url for this interaction (valid 30 minutes, 5 uses). */
      readonly responseUrl: string | null;
      /** The clicked action's `action_id` and `action_ts` (null when Slack sent none). */
      readonly actionId: string;
      readonly actionTs: string | null;
    }
  | {
      /** A url button that opened the approval page: acknowledge, change nothing. */
      readonly kind: 'link_opened';
      readonly approvalId: string;
      readonly approver: string;
    }
  | {
      /** The confirmation click of `/stagegate kill on|off` (slash-command.ts acts on it). */
      readonly kind: 'kill_switch';
      readonly engage: boolean;
      readonly reason: string;
      readonly userId: string;
      readonly responseUrl: string | null;
      /** The click's `action_ts` (null when Slack sent none): a redelivery's key. */
      readonly actionTs: string | null;
      /**
       * A release's view of the switch (its `changedAtIso` when the confirmation was asked,
       * null: never set), from the block's id; absent when the block carries none.
       */
      readonly expectedChangedAtIso?: string | null;
    }
  | {
      /** Any other interaction (another payload type or action): acknowledge, change nothing. */
      readonly kind: 'ignored';
      readonly reason: string;
    };

const DECISIONS: Readonly<Record<string, ApprovalDecision>> = {
  [SLACK_ACTION_IDS.approve]: 'approved',
  [SLACK_ACTION_IDS.reject]: 'rejected',
};
const LINK_ACTIONS: ReadonlySet<string> = new Set([
  SLACK_ACTION_IDS.openPage,
  SLACK_ACTION_IDS.openPageApprove,
  SLACK_ACTION_IDS.openPageReject,
]);

/**
 * Parses the raw (already signature-verified) interactivity body.
 *
 * @param rawBody `payload=<url-encoded JSON>` exactly as received.
 * @returns the approval action of the first action in the payload (a button click carries
 *   exactly one).
 * @throws ValidationError (field `payload`, or the JSON path of the first bad field) when the
 *   body has no `payload` or more than one, it is not JSON, or a `block_actions` payload lacks what the
 *   approval flow needs (user id, actions, a well-formed approval id in `value`).
 */
export function parseSlackInteraction(rawBody: string): SlackApprovalAction {
  const form = new URLSearchParams(rawBody);
  const payloads = form.getAll('payload');
  if (payloads.length > 1) {
    throw new ValidationError('payload', 'form field "payload" is given more than once');
  }
  const payloadText = payloads[0] ?? null;
  if (payloadText === null) throw new ValidationError('payload', 'missing form field "payload"');
  let json: unknown;
  try {
    json = JSON.parse(payloadText);
  } catch {
    throw new ValidationError('payload', 'is not JSON');
  }
  const type = (json as { type?: unknown } | null)?.type;
  if (type !== 'block_actions') {
    return { kind: 'ignored', reason: `payload type ${String(type)}` };
  }
  const p = parseOrThrow(blockActionsPayloadSchema, json, 'payload');
  const action = p.actions[0] as z.infer<typeof actionSchema>;
  if (
    action.action_id === SLACK_ACTION_IDS.killSwitchOn ||
    action.action_id === SLACK_ACTION_IDS.killSwitchOff
  ) {
    const reason = (action.value ?? '').trim();
    if (reason.length < 3) throw new ValidationError('payload.actions.0.value', 'is not a reason');
    const seen = seenOfKillSwitchBlock(action.block_id);
    return {
      kind: 'kill_switch',
      engage: action.action_id === SLACK_ACTION_IDS.killSwitchOn,
      reason: reason.slice(0, 500),
      userId: p.user.id,
      responseUrl: p.response_url ?? null,
      actionTs: action.action_ts ?? null,
      ...(seen !== undefined ? { expectedChangedAtIso: seen } : {}),
    };
  }
  const decision = DECISIONS[action.action_id];
  const isLink = LINK_ACTIONS.has(action.action_id);
  if (!decision && !isLink) return { kind: 'ignored', reason: `action ${action.action_id}` };
  const approvalId = action.value ?? '';
  if (!APPROVAL_ID_PATTERN.test(approvalId)) {
    throw new ValidationError('payload.actions.0.value', 'is not an approval id');
  }
  const approver = `slack:${p.user.id}`;
  if (!decision) return { kind: 'link_opened', approvalId, approver };
  return {
    kind: 'decision',
    decision,
    approvalId,
    approver,
    userId: p.user.id,
    teamId: p.team?.id ?? p.user.team_id ?? null,
    channelId: p.channel?.id ?? p.container?.channel_id ?? null,
    messageTs: p.message?.ts ?? p.container?.message_ts ?? null,
    responseUrl: p.response_url ?? null,
    actionId: action.action_id,
    actionTs: action.action_ts ?? null,
  };
}

/**
 * The natural key of a click (`applyApprovalDecision`'s `attemptKey`): the clicker, the team,
 * the clicked message's ts, the action's `action_id` and `action_ts`. Slack redelivers an
 * unacknowledged request (`X-Slack-Retry-Num`) with the same payload, so every delivery of one
 * click has this key, while a second click has another `action_ts`. Read it only after the
 * request signature verified (the payload is then Slack's).
 *
 * @returns the parts, or null when the payload has no `action_ts` (then every delivery is its
 *   own attempt).
 */
export function slackClickKey(
  action: Extract<SlackApprovalAction, { kind: 'decision' }>,
): unknown[] | null {
  if (action.actionTs === null) return null;
  return [
    'slack-click',
    action.userId,
    action.teamId,
    action.messageTs,
    action.actionId,
    action.actionTs,
  ];
}
