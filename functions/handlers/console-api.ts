/**
 * The operator console API (API Gateway HTTP API, payload 2.0, route `ANY /api/{proxy+}`
 * behind the Cognito JWT authorizer; the local console server calls it with the same events).
 * Identity and roles come from the authorizer only: the JWT's `email`/`sub` and
 * `cognito:groups` claims in AWS, the Lambda-authorizer context (`approver`, `groups`)
 * locally. The routes, roles, CSRF rule and errors are those of
 * `functions/core/use-cases/console-api.ts` (docs/console-api.openapi.yaml).
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
// A console signature updates the Slack approval message (chat.update through the official
// SDK, loaded on the first update only; docs/approval.md).
import '../composition/slack-web-api.js';
import middy from '@middy/core';
import {
  type HttpApiEvent,
  HttpApiEventSchema,
  type HttpResponse,
  httpRequestOf,
  jsonResponse,
} from '../adapters/http/api-gateway.js';
import { logger } from '../adapters/observability.js';
import { getConsoleApi } from '../composition/console.js';
import { type Role, rolesFromGroups } from '../core/console/roles.js';
import type { ConsoleApi } from '../core/use-cases/console-api.js';

/** The console roles the authorizer granted (none when it granted none). */
export function rolesOf(event: HttpApiEvent): Role[] {
  const auth = event.requestContext.authorizer;
  const claims = auth?.jwt?.claims;
  if (claims && 'cognito:groups' in claims) return rolesFromGroups(claims['cognito:groups']);
  return rolesFromGroups(auth?.lambda?.groups);
}

/** Answers one HTTP API event with `api` (exported for the local server and tests). */
export async function answer(api: ConsoleApi, event: unknown): Promise<HttpResponse> {
  const parsed = HttpApiEventSchema.safeParse(event);
  if (!parsed.success) return jsonResponse(400, { title: 'not an HTTP API event' });
  const req = httpRequestOf(parsed.data);
  const out = await api.handle({
    method: req.method,
    path: req.path,
    query: req.query,
    headers: req.headers,
    body: req.rawBody,
    identity: req.identity,
    roles: rolesOf(parsed.data),
  });
  logger.info('console api', { method: req.method, path: req.path, status: out.status });
  return { statusCode: out.status, headers: out.headers, body: out.body };
}

/** The handler over a `provide`d console API (the AWS root below, or the local root). */
export function createHandler(provide: () => ConsoleApi) {
  return middy(async (event: unknown): Promise<HttpResponse> => answer(provide(), event)).use(
    injectLambdaContext(logger, { resetKeys: true }),
  );
}

/** The Lambda entry point: the console API from the AWS composition root, built once. */
export const handler = createHandler(getConsoleApi);
