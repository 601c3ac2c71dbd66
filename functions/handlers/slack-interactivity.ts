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
 *
 * Responses are JSON: 200 `{ ok: true, decision, by }`; a refusal carries the page kind's
 * status (403 forbidden, 409 already decided, 410 expired, 404 unknown, 400 malformed) and
 * `{ ok: false, error, reason, message }`. Every attempt is audited.
 */
import '../composition/slack-web-api.js';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import {
  HttpApiEventSchema,
  type HttpResponse,
  httpRequestOf,
  jsonResponse,
} from '../adapters/http/api-gateway.js';
import { logger } from '../adapters/observability.js';
import { parseSlackInteraction } from '../adapters/slack/interaction.js';
import { verifySlackSignature } from '../adapters/slack/signature.js';
import { type ApprovalDeps, getApprovalDeps } from '../composition/approval.js';
import { decideApproval } from '../core/approval/decide.js';
import type { AuditDraft } from '../core/audit/record.js';
import { StagegateError, ValidationError } from '../core/errors.js';
import { applyApprovalDecision } from '../core/use-cases/day3-approval.js';
import type { Provide } from './shared/handler.js';

const REASON = {
  stale_timestamp: 'replayed',
  bad_signature: 'tampered',
  malformed: 'malformed',
} as const;

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
  } as AuditDraft);
}

async function handle(provide: Provide<ApprovalDeps>, event: unknown): Promise<HttpResponse> {
  const parsed = HttpApiEventSchema.safeParse(event);
  if (!parsed.success)
    return jsonResponse(400, { ok: false, error: 'ValidationError', reason: 'malformed' });
  const req = httpRequestOf(parsed.data);
  const deps = await await provide();
  const verified = verifySlackSignature({
    signingSecret: await deps.secrets.get('slackSigningSecret'),
    timestampHeader: req.headers['x-slack-request-timestamp'],
    signatureHeader: req.headers['x-slack-signature'],
    rawBody: req.rawBody,
    nowMs: deps.clock.now(),
  });
  if (!verified.ok) {
    const reason = REASON[verified.error];
    const field =
      verified.error === 'stale_timestamp' ? 'x-slack-request-timestamp' : 'x-slack-signature';
    await rejectInput(deps, field, `Slack request signature: ${verified.error}`, reason);
    return jsonResponse(401, {
      ok: false,
      error: 'SignatureInvalidError',
      reason,
      message: 'request signature invalid',
    });
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
  if (action.kind !== 'decision') return jsonResponse(200, { ok: true, ignored: action.kind });
  const outcome = await decideApproval(deps, {
    approvalId: action.approvalId,
    decision: action.decision,
    approver: action.approver,
    channel: 'slack',
  });
  const ref =
    action.channelId && action.messageTs
      ? { channel: action.channelId, ts: action.messageTs }
      : null;
  const applied = await applyApprovalDecision(deps, outcome, ref);
  logger.info('slack approval attempt', {
    approvalId: outcome.approvalId,
    ok: outcome.ok,
    result: outcome.ok ? outcome.status : outcome.kind,
    execution: applied.execution,
  });
  if (!outcome.ok) {
    return jsonResponse(outcome.httpStatus, {
      ok: false,
      error: outcome.error.name,
      reason: outcome.kind,
      message: outcome.error.message,
    });
  }
  if (applied.execution === 'gone') {
    return jsonResponse(410, {
      ok: false,
      error: 'TaskTokenInvalidError',
      reason: 'expired',
      message: 'decision recorded, but the workflow is no longer waiting for it',
    });
  }
  return jsonResponse(200, { ok: true, decision: outcome.status, by: outcome.by });
}

/** The handler over `provide`d dependencies (the AWS root below, or the local root). */
export function createHandler(provide: Provide<ApprovalDeps>) {
  return middy(async (event: unknown): Promise<HttpResponse> => {
    try {
      return await handle(provide, event);
    } catch (err) {
      const e = err as Error;
      logger.error('slack interactivity failed', { errorName: e.name, errorMessage: e.message });
      const retryable = err instanceof StagegateError && err.retryable;
      return jsonResponse(retryable ? 503 : 500, {
        ok: false,
        error: retryable ? 'TransientError' : 'InternalError',
      });
    }
  }).use(injectLambdaContext(logger, { resetKeys: true }));
}

/** The Lambda entry point: dependencies from the AWS composition root, built once. */
export const handler = createHandler(getApprovalDeps);
