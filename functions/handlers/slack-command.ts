/**
 * The `/stagegate` slash-command endpoint (API Gateway HTTP API `POST /slack/commands`; the
 * local server serves the same handler). Slack POSTs a urlencoded form (`user_id`, `team_id`,
 * `channel_id`, `command`, `text`, `response_url`, ...).
 *
 * 1. Verifies the signature and the 5-minute replay window on the raw body BEFORE parsing it
 *    (shared/slack-request.ts); a failure is 401 and `input_rejected` (`tampered`,
 *    `replayed` or `malformed`).
 * 2. Answers through the use case (`core/use-cases/slash-command.ts`: user -> roles from the
 *    stage config, refusals audited, every command recorded once per `trigger_id`, so a
 *    redelivered invocation appends nothing and a redelivered `cohort start` (re)starts the one
 *    execution named after its trigger_id)
 *    as Block Kit
 *    (adapters/slack/command-messages.ts), HTTP 200 (Slack shows the body to the caller).
 * 3. A long command (cohort start): where the composition can defer work (AWS: an
 *    asynchronous invocation of this same function, `deferFollowUp`), the command is
 *    acknowledged at once ("working") and the follow-up invocation (an event of
 *    adapters/slack/follow-up.ts, never an HTTP request) does the work and POSTs the answer to
 *    `response_url`. Otherwise (local) it works for at most `ackBudgetMs` (2.5 s; Slack waits
 *    3 s) in this process and, if not done, answers "working" and posts the answer when done.
 *    Follow-ups go only to the allowed hosts (Slack's hooks host in AWS).
 * 4. `POST .../slack/interactivity` (routed here where no Day-3 interactivity function
 *    exists): the kill-switch confirmation clicks, verified the same way; other clicks are
 *    acknowledged and change nothing.
 */
import * as z from 'zod';
import { type HttpResponse, jsonResponse, parseForm } from '../adapters/http/api-gateway.js';
import { logger } from '../adapters/observability.js';
import { renderSlashAnswer, type SlashResponse } from '../adapters/slack/command-messages.js';
import {
  followUpEvent,
  type SlashFollowUpEvent,
  SlashFollowUpEventSchema,
} from '../adapters/slack/follow-up.js';
import { parseSlackInteraction, type SlackApprovalAction } from '../adapters/slack/interaction.js';
import { getSlashCommandDeps, type SlashCommandHandlerDeps } from '../composition/chatops.js';
import { ValidationError } from '../core/errors.js';
import {
  answerSlashCommand,
  confirmKillSwitch,
  recordSlashRefusal,
  runSlashFollowUp,
  type SlashAnswer,
} from '../core/use-cases/slash-command.js';
import type { Provide } from './shared/handler.js';
import {
  notAnHttpEvent,
  refuseUnsignedSlackRequest,
  signatureRefusedBody,
  slackEndpoint,
  slackHttpRequest,
} from './shared/slack-request.js';

/** The fields of Slack's slash-command form this endpoint reads. */
const SlashFormSchema = z.looseObject({
  user_id: z.string().regex(/^[A-Z0-9]{2,32}$/),
  team_id: z.string().max(64).optional(),
  channel_id: z.string().max(64).optional(),
  command: z.string().max(64).optional(),
  text: z.string().max(4000).default(''),
  response_url: z.string().max(3000).optional(),
  /** Slack's id of this invocation, the same on a redelivery: the command's idempotency key. */
  trigger_id: z.string().min(1).max(255).optional(),
});

/** POSTs `message` to a response_url (Slack: "Responding to slash commands", up to 5 times). */
async function postToResponseUrl(url: string, message: SlashResponse): Promise<void> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify(message),
    signal: AbortSignal.timeout(10_000),
  });
  if (!res.ok) logger.warn('response_url post refused', { status: res.status });
}

const slackJson = (body: SlashResponse): HttpResponse => jsonResponse(200, body);

/** Answers the confirmation click of `kill on|off` (called by slack-interactivity.ts). */
export async function answerKillSwitchClick(
  deps: SlashCommandHandlerDeps,
  action: Extract<SlackApprovalAction, { kind: 'kill_switch' }>,
): Promise<HttpResponse> {
  const answer = await confirmKillSwitch(deps, action);
  const body = renderSlashAnswer(answer);
  if (action.responseUrl && deps.responseUrlAllowed(action.responseUrl)) {
    await postToResponseUrl(action.responseUrl, body).catch((err: unknown) =>
      logger.warn('response_url post failed', { errorName: (err as Error).name }),
    );
  }
  return slackJson(body);
}

/** The follow-up invocation: does the deferred work and posts its answer to response_url. */
async function answerFollowUp(
  deps: SlashCommandHandlerDeps,
  event: SlashFollowUpEvent,
): Promise<HttpResponse> {
  if (!deps.responseUrlAllowed(event.responseUrl)) {
    logger.warn('follow-up refused: response_url host not allowed');
    return jsonResponse(400, { ok: false, error: 'ValidationError', field: 'responseUrl' });
  }
  const answer = await runSlashFollowUp(deps, event.job).catch(
    (err: unknown): SlashAnswer => ({
      kind: 'text',
      title: `${event.job.command.kind.replace('_', ' ')} failed`,
      lines: [`${(err as Error).name}: ${(err as Error).message}`],
    }),
  );
  await postToResponseUrl(event.responseUrl, renderSlashAnswer(answer));
  logger.info('slash follow-up answered', { answer: answer.kind });
  return jsonResponse(200, { ok: true, answer: answer.kind });
}

/** A kill-switch confirmation click posted to this function's interactivity route. */
async function answerInteraction(
  deps: SlashCommandHandlerDeps,
  rawBody: string,
): Promise<HttpResponse> {
  let action: SlackApprovalAction;
  try {
    action = parseSlackInteraction(rawBody);
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    await recordSlashRefusal(deps, { field: err.field, message: err.message, reason: 'malformed' });
    return jsonResponse(400, { ok: false, error: err.name, reason: 'malformed', field: err.field });
  }
  if (action.kind === 'kill_switch') return answerKillSwitchClick(deps, action);
  return jsonResponse(200, { ok: true, ignored: action.kind });
}

async function handle(
  provide: Provide<SlashCommandHandlerDeps>,
  event: unknown,
): Promise<HttpResponse> {
  const followUp = SlashFollowUpEventSchema.safeParse(event);
  if (followUp.success) return answerFollowUp(await provide(), followUp.data);
  const req = slackHttpRequest(event);
  if (!req) return notAnHttpEvent();
  const deps = await provide();
  const refusal = refuseUnsignedSlackRequest(
    req,
    await deps.secrets.get('slackSigningSecret'),
    deps.requestClock.now(),
  );
  if (refusal) {
    await recordSlashRefusal(deps, refusal);
    return jsonResponse(401, signatureRefusedBody(refusal));
  }
  if (req.path.endsWith('/slack/interactivity')) return answerInteraction(deps, req.rawBody);
  const fields = parseForm(req.rawBody, 16 * 1024);
  const form = SlashFormSchema.safeParse(fields.ok ? fields.fields : null);
  if (!fields.ok || !form.success) {
    const issue = form.error?.issues[0];
    const field = fields.ok ? issue?.path.join('.') || 'body' : (fields.field ?? 'body');
    await recordSlashRefusal(deps, {
      field,
      message: fields.ok ? (issue?.message ?? 'invalid form') : `form: ${fields.reason}`,
      reason: 'malformed',
    });
    return jsonResponse(400, { ok: false, error: 'ValidationError', reason: 'malformed', field });
  }
  const f = form.data;
  const outcome = await answerSlashCommand(deps, {
    userId: f.user_id,
    teamId: f.team_id ?? null,
    channelId: f.channel_id ?? null,
    text: f.text,
    triggerId: f.trigger_id ?? null,
  });
  logger.info('slash command', { answer: outcome.answer.kind, long: outcome.later !== null });
  if (outcome.answer.kind === 'unavailable' && outcome.answer.fault) {
    logger.error('slash command failed on a stored record', {
      errorName: outcome.answer.fault,
      errorMessage: outcome.answer.message,
    });
  }
  if (!outcome.later) return slackJson(renderSlashAnswer(outcome.answer));
  const url = f.response_url;
  if (deps.deferFollowUp && url && deps.responseUrlAllowed(url)) {
    try {
      await deps.deferFollowUp(followUpEvent(outcome.later.job, url));
      return slackJson(renderSlashAnswer(outcome.answer));
    } catch (err) {
      // Not queued: do the work here instead (within the budget, then best effort).
      logger.error('follow-up not queued', { errorName: (err as Error).name });
    }
  }
  const work = outcome.later.run();
  const inTime = await Promise.race([
    work,
    new Promise<null>((resolve) => setTimeout(() => resolve(null), deps.ackBudgetMs).unref()),
  ]);
  if (inTime) return slackJson(renderSlashAnswer(inTime));
  if (url && deps.responseUrlAllowed(url)) {
    void work
      .then((answer: SlashAnswer) => postToResponseUrl(url, renderSlashAnswer(answer)))
      .catch((err: unknown) =>
        logger.error('slash command follow-up failed', { errorName: (err as Error).name }),
      );
  }
  return slackJson(renderSlashAnswer(outcome.answer));
}

/** The handler over `provide`d dependencies (the AWS root below, or the local root). */
export function createHandler(provide: Provide<SlashCommandHandlerDeps>) {
  return slackEndpoint('slash command failed', (event) => handle(provide, event));
}

/** The Lambda entry point: dependencies from the AWS composition root, built once. */
export const handler = createHandler(getSlashCommandDeps);
