/**
 * The Slack interactivity endpoint (API Gateway HTTP API `POST /slack/interactivity`): a click
 * on Approve / Reject in the approval message.
 *
 * 1. Verifies `X-Slack-Signature` (v0 HMAC-SHA256 of `v0:{timestamp}:{raw body}` with the
 *    signing secret from Secrets Manager) and the 5-minute replay window of
 *    `X-Slack-Request-Timestamp`, on the raw body BEFORE parsing it. A failure is 401 and an
 *    `input_rejected` record (reason `tampered`, `replayed` or `malformed`).
 * 2. Parses the `block_actions` payload; the approver is `slack:<user id>` (authenticated by
 *    the signature), checked against the request's allow-list.
 * 3. Decides once (conditional write), resumes the execution (SendTaskSuccess /
 *    SendTaskFailure) and replaces the message with the decision and who made it.
 * 4. Records the attempt once per click: Slack redelivers a request it saw no timely answer to
 *    (`X-Slack-Retry-Num`) with the same payload, so the attempt is keyed on the click's action
 *    identity (`slackClickKey`); a redelivery appends nothing and answers as the first delivery
 *    did (from its record). A payload without `action_ts` is recorded per delivery.
 *
 * Responses are JSON: 200 `{ ok: true, decision, by }`; a refusal carries the page kind's
 * status (403 forbidden, 409 already decided, 410 expired, 404 unknown, 400 malformed) and
 * `{ ok: false, error, reason, message }`. Every attempt is audited.
 */
import '../composition/slack-web-api.js';
import { type HttpResponse, jsonResponse } from '../adapters/http/api-gateway.js';
import { logger } from '../adapters/observability.js';
import {
  parseSlackInteraction,
  type SlackApprovalAction,
  slackClickKey,
} from '../adapters/slack/interaction.js';
import { type ApprovalDeps, getApprovalDeps } from '../composition/approval.js';
import {
  getKillSwitchClickForwarder,
  type SlashCommandHandlerDeps,
} from '../composition/chatops.js';
import { decideApproval } from '../core/approval/decide.js';
import type { WorkflowFinding } from '../core/approval/workflow-finding.js';
import { ValidationError } from '../core/errors.js';
import { applyApprovalDecision } from '../core/use-cases/day3-approval.js';
import type { Provide } from './shared/handler.js';
import {
  notAnHttpEvent,
  refuseUnsignedSlackRequest,
  signatureRefusedBody,
  slackEndpoint,
  slackHttpRequest,
} from './shared/slack-request.js';
import { answerKillSwitchClick } from './slack-command.js';

async function rejectInput(
  deps: ApprovalDeps,
  field: string,
  message: string,
  reason: string,
): Promise<void> {
  await deps.audit.append({
    kind: 'input_rejected',
    actor: 'stagegate/slack-interactivity',
    stream: 'slack:interactivity',
    environment: deps.environment,
    subject: {},
    payload: { source: 'slack-interactivity', field, message, reason, channel: 'slack' },
  });
}

/** Hands a kill-switch click (the signed event as received) to the slash-command function. */
export type KillSwitchClickForwarder = (event: unknown) => Promise<unknown>;

async function handle(
  provide: Provide<ApprovalDeps>,
  provideChatOps: Provide<SlashCommandHandlerDeps> | null,
  forward: KillSwitchClickForwarder | null,
  event: unknown,
): Promise<HttpResponse> {
  const req = slackHttpRequest(event);
  if (!req) return notAnHttpEvent();
  const deps = await await provide();
  const refusal = refuseUnsignedSlackRequest(
    req,
    await deps.secrets.get('slackSigningSecret'),
    deps.clock.now(),
  );
  if (refusal) {
    await rejectInput(deps, refusal.field, refusal.message, refusal.reason);
    return jsonResponse(401, signatureRefusedBody(refusal));
  }
  let action: ReturnType<typeof parseSlackInteraction>;
  try {
    action = parseSlackInteraction(req.rawBody);
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    await rejectInput(deps, err.field, err.message, 'malformed');
    return jsonResponse(400, {
      ok: false,
      error: err.name,
      reason: 'malformed',
      message: err.message,
    });
  }
  if (action.kind === 'kill_switch' && provideChatOps) {
    return answerKillSwitchClick(await provideChatOps(), action);
  }
  if (action.kind === 'kill_switch' && forward) {
    // The slash-command function verifies the same signed request again and acts.
    return (await forward(event)) as HttpResponse;
  }
  if (action.kind !== 'decision') return jsonResponse(200, { ok: true, ignored: action.kind });
  return answerDecision(deps, action, req.headers['x-slack-retry-num'] ?? null);
}

/** What a decision the workflow no longer waited for is answered with (nothing was resumed). */
export const GONE_MESSAGE = {
  approved:
    'approval recorded, but the workflow had already timed out or ended: it was NOT approved, nothing was resumed',
  rejected: 'rejection recorded; the workflow had already timed out or ended: not approved',
} as const;

/**
 * Decides a signed Approve / Reject click and answers it; the attempt is recorded once per
 * click (`slackClickKey`), so a redelivery answers the first delivery's recorded attempt.
 */
async function answerDecision(
  deps: ApprovalDeps,
  action: Extract<SlackApprovalAction, { kind: 'decision' }>,
  retryNum: string | null,
): Promise<HttpResponse> {
  const attemptKey = slackClickKey(action);
  const outcome = await decideApproval(deps, {
    approvalId: action.approvalId,
    decision: action.decision,
    approver: action.approver,
    channel: 'slack',
    attemptKey,
  });
  const ref =
    action.channelId && action.messageTs
      ? { channel: action.channelId, ts: action.messageTs }
      : null;
  const applied = await applyApprovalDecision(deps, outcome, ref, attemptKey);
  const answer = applied.answer;
  logger.info('slack approval attempt', {
    approvalId: outcome.approvalId,
    ok: answer.ok,
    result: answer.ok ? answer.status : answer.kind,
    execution: applied.execution,
    workflowStatus: applied.workflow?.status ?? null,
    replayed: applied.replayed,
    retryNum,
  });
  if (!answer.ok) {
    return jsonResponse(answer.httpStatus, {
      ok: false,
      error: answer.errorName,
      reason: answer.kind,
      message: answer.message,
    });
  }
  if (applied.execution === 'gone') {
    return jsonResponse(410, {
      ok: false,
      error: 'TaskTokenInvalidError',
      reason: 'expired',
      message: GONE_MESSAGE[answer.status],
    });
  }
  return jsonResponse(200, {
    ok: true,
    decision: answer.status,
    // `resumed` (now or by an earlier delivery of this click), `waiting` (chain incomplete),
    // or, for a redelivery whose re-sent resume was refused, what the execution says:
    // `running`, `concluded` (with the decision it took) or `unconfirmed` (unreadable).
    execution: applied.execution,
    ...(applied.workflow ? workflowAnswer(applied.workflow) : {}),
    by: answer.by,
    // A signature that does not complete the approval chain leaves the execution waiting.
    chain: { step: answer.step, of: answer.of, complete: answer.complete },
  });
}

/** What a redelivered click answers about the execution after its re-sent resume was refused. */
function workflowAnswer(w: WorkflowFinding) {
  return {
    message: w.message,
    workflow: { status: w.status, decision: w.decision, outcome: w.outcome },
  };
}

/**
 * The handler over `provide`d dependencies (the AWS root below, or the local root); with
 * `provideChatOps`, the kill-switch confirmation clicks of `/stagegate` are acted on too.
 */
export function createHandler(
  provide: Provide<ApprovalDeps>,
  provideChatOps: Provide<SlashCommandHandlerDeps> | null = null,
  forward: KillSwitchClickForwarder | null = null,
) {
  return slackEndpoint('slack interactivity failed', (event) =>
    handle(provide, provideChatOps, forward, event),
  );
}

/**
 * The Lambda entry point: dependencies from the AWS composition root, built once; kill-switch
 * clicks are handed to the slash-command function (this function holds no kill-switch grant).
 */
export const handler = createHandler(getApprovalDeps, null, getKillSwitchClickForwarder());
