/**
 * The one signature check of every Slack request this app receives (interactivity and the
 * slash command): `X-Slack-Signature` over the raw body with the signing secret and the
 * 5-minute replay window of `X-Slack-Request-Timestamp` (adapters/slack/signature.ts), mapped
 * to the refusal the handlers audit and answer with HTTP 401.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import {
  HttpApiEventSchema,
  type HttpRequest,
  type HttpResponse,
  httpRequestOf,
  jsonResponse,
} from '../../adapters/http/api-gateway.js';
import { logger } from '../../adapters/observability.js';
import { verifySlackSignature } from '../../adapters/slack/signature.js';
import { StagegateError } from '../../core/errors.js';

/** Audit reason of each verification failure. */
const REASON = {
  stale_timestamp: 'replayed',
  bad_signature: 'tampered',
  malformed: 'malformed',
} as const;

/** Why a Slack request was refused (audit fields). */
export interface SlackRequestRefusal {
  readonly field: 'x-slack-request-timestamp' | 'x-slack-signature';
  readonly reason: (typeof REASON)[keyof typeof REASON];
  readonly message: string;
}

/** The 401 body of a refused Slack request. */
export const signatureRefusedBody = (refusal: SlackRequestRefusal) => ({
  ok: false,
  error: 'SignatureInvalidError',
  reason: refusal.reason,
  message: 'request signature invalid',
});

/**
 * Verifies `req` as a Slack request signed with `signingSecret` at `nowMs` (epoch ms UTC,
 * from the Clock port).
 * @returns null when it verifies, else the refusal to audit.
 */
export function refuseUnsignedSlackRequest(
  req: HttpRequest,
  signingSecret: string,
  nowMs: number,
): SlackRequestRefusal | null {
  const verified = verifySlackSignature({
    signingSecret,
    timestampHeader: req.headers['x-slack-request-timestamp'],
    signatureHeader: req.headers['x-slack-signature'],
    rawBody: req.rawBody,
    nowMs,
  });
  if (verified.ok) return null;
  return {
    field: verified.error === 'stale_timestamp' ? 'x-slack-request-timestamp' : 'x-slack-signature',
    reason: REASON[verified.error],
    message: `Slack request signature: ${verified.error}`,
  };
}

/**
 * The middy handler of a Slack endpoint: `answer` the event; an unexpected error is logged
 * once by name and answered 503 `TransientError` (retryable: Slack retries) or 500.
 */
export function slackEndpoint(
  failureMessage: string,
  answer: (event: unknown) => Promise<HttpResponse>,
) {
  return middy(async (event: unknown): Promise<HttpResponse> => {
    try {
      return await answer(event);
    } catch (err) {
      const e = err as Error;
      logger.error(failureMessage, { errorName: e.name, errorMessage: e.message });
      const retryable = err instanceof StagegateError && err.retryable;
      return jsonResponse(retryable ? 503 : 500, {
        ok: false,
        error: retryable ? 'TransientError' : 'InternalError',
      });
    }
  }).use(injectLambdaContext(logger, { resetKeys: true }));
}

/** The request of an HTTP API v2 event, or null when the event is not one (answer 400). */
export function slackHttpRequest(event: unknown): HttpRequest | null {
  const parsed = HttpApiEventSchema.safeParse(event);
  return parsed.success ? httpRequestOf(parsed.data) : null;
}

/** The 400 answer to an event that is not an HTTP API event. */
export const notAnHttpEvent = (): HttpResponse =>
  jsonResponse(400, { ok: false, error: 'ValidationError', reason: 'malformed' });
