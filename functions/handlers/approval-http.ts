/**
 * The approval page (API Gateway HTTP API, payload 2.0; the local approval server calls it
 * with the same events):
 *
 * - `GET /approvals/{approvalId}?exp&sig`: the confirmation page (candidate metrics, gate
 *   table, equity-curve chart, Approve / Reject form with a CSRF token). NEVER changes state:
 *   Slack unfurls and link scanners prefetch links. A refused GET (tampered, expired, unknown,
 *   foreign viewer) renders its error page and is audited.
 * - `POST /approvals/{approvalId}` (urlencoded `decision`, `csrf`, `exp`, `sig`): verifies the
 *   link and the CSRF token, the approver (the authorizer's identity, never a form field) and
 *   decides once; then resumes the waiting execution and updates the Slack message. Every
 *   attempt, recorded or refused, is audited, once per rendered form: the page carries a
 *   per-render `nonce`, so a double submit or a retried POST of one form appends nothing new
 *   and answers as the first POST did (a form without a nonce is recorded per POST).
 *
 * Errors never leak details: a storage fault is a 503 page, anything else a 500 page.
 */
import '../composition/slack-web-api.js';
import { randomUUID } from 'node:crypto';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import {
  HttpApiEventSchema,
  type HttpResponse,
  httpRequestOf,
  parseForm,
} from '../adapters/http/api-gateway.js';
import { logger } from '../adapters/observability.js';
import { type ApprovalDeps, getApprovalDeps } from '../composition/approval.js';
import {
  type DecideOutcome,
  decideFromForm,
  formAttemptKey,
  pageForAnswer,
  pageForOutcome,
  refuseRequest,
  showApprovalPage,
} from '../core/approval/decide.js';
import { PAGE_HEADERS, type RenderedPage, renderErrorPage } from '../core/approval/page.js';
import { StagegateError } from '../core/errors.js';
import { applyApprovalDecision } from '../core/use-cases/day3-approval.js';
import type { Provide } from './shared/handler.js';

/** Identity used for a POST the edge could not authenticate: never on an allow-list. */
const UNAUTHENTICATED = 'anonymous:unauthenticated';

const page = (p: RenderedPage, status = p.status): HttpResponse => ({
  statusCode: status,
  headers: { ...p.headers },
  body: p.body,
});

function faultPage(status: 503 | 500): HttpResponse {
  const text =
    status === 503
      ? 'The approval service is temporarily unavailable. Nothing was changed; try again in a minute.'
      : 'Something went wrong. Nothing was changed.';
  return {
    statusCode: status,
    headers: { ...PAGE_HEADERS },
    body: `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>Error</title></head><body><main><h1>${status === 503 ? 'Temporarily unavailable' : 'Error'}</h1><p>${text}</p></main></body></html>\n`,
  };
}

async function handle(provide: Provide<ApprovalDeps>, event: unknown): Promise<HttpResponse> {
  const parsed = HttpApiEventSchema.safeParse(event);
  if (!parsed.success) return page(renderErrorPage('malformed', 'not an HTTP request'));
  const req = httpRequestOf(parsed.data);
  const approvalId =
    req.pathParameters.approvalId ?? /\/approvals\/([^/]+)\/?$/.exec(req.path)?.[1];
  const deps = await await provide();
  if (req.method === 'GET' || req.method === 'HEAD') {
    const shown = await showApprovalPage(deps, {
      link: { approvalId, exp: req.query.exp, sig: req.query.sig },
      viewer: req.identity,
      nonce: randomUUID(),
    });
    if (shown.failure) await applyApprovalDecision(deps, shown.failure);
    const out = page(shown.page);
    return req.method === 'HEAD' ? { ...out, body: '' } : out;
  }
  // Refusals before any approval logic are audited too (input_rejected, reason malformed).
  const refuse = async (field: string, message: string, status: number) => {
    const refusal = refuseRequest({
      field,
      message,
      approvalId,
      approver: req.identity ?? UNAUTHENTICATED,
      channel: 'web',
    });
    await applyApprovalDecision(deps, refusal);
    return page(pageForOutcome(refusal), status);
  };
  if (req.method !== 'POST') {
    const refused = await refuse('method', `method ${req.method} is not allowed`, 405);
    return { ...refused, headers: { ...refused.headers, allow: 'GET, HEAD, POST' } };
  }
  const form = parseForm(req.rawBody);
  if (!form.ok) {
    return form.reason === 'too-large'
      ? refuse('body', 'the form is too large', 413)
      : refuse(
          form.field ?? 'body',
          `form field "${form.field}" is given more than once; send each field once`,
          400,
        );
  }
  const attempt = { approvalId, form: form.fields, approver: req.identity ?? UNAUTHENTICATED };
  const outcome: DecideOutcome = await decideFromForm(deps, attempt);
  const applied = await applyApprovalDecision(deps, outcome, null, formAttemptKey(attempt));
  logger.info('approval attempt', {
    approvalId: outcome.approvalId,
    ok: applied.answer.ok,
    result: applied.answer.ok ? applied.answer.status : applied.answer.kind,
    execution: applied.execution,
    workflowStatus: applied.workflow?.status ?? null,
    replayed: applied.replayed,
    announceError: applied.announceError,
  });
  if (applied.execution === 'gone' && applied.answer.ok) {
    return page(
      renderErrorPage(
        'expired',
        applied.answer.status === 'approved'
          ? 'Your approval was recorded, but the workflow had already timed out or ended: it was NOT approved and nothing was resumed.'
          : 'Your rejection was recorded; the workflow had already timed out or ended (not approved).',
      ),
    );
  }
  // A redelivery whose re-sent resume was refused: what the execution says it did.
  if (applied.workflow && applied.answer.ok) {
    return page(renderErrorPage('signed', applied.workflow.message));
  }
  return page(pageForAnswer(applied.answer));
}

/** The handler over `provide`d dependencies (the AWS root below, or the local root). */
export function createHandler(provide: Provide<ApprovalDeps>) {
  return middy(async (event: unknown): Promise<HttpResponse> => {
    try {
      return await handle(provide, event);
    } catch (err) {
      const e = err as Error;
      logger.error('approval page failed', { errorName: e.name, errorMessage: e.message });
      return faultPage(err instanceof StagegateError && err.retryable ? 503 : 500);
    }
  }).use(injectLambdaContext(logger, { resetKeys: true }));
}

/** The Lambda entry point: dependencies from the AWS composition root, built once. */
export const handler = createHandler(getApprovalDeps);
