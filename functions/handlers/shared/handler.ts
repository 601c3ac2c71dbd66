/**
 * The one handler shape: middy + Powertools logger context + Powertools metrics (flushed per
 * invocation) + Powertools Tracer inside Lambda (`adapters/tracing.ts`: a handler subsegment;
 * the composition roots wrap their SDK clients) + zod validation of the event.
 * A handler body receives the parsed event and returns the use case's JSON result; a
 * validation failure throws `ValidationError` naming the field (Step Functions Catch matches
 * it by name), and every error is logged once with its name before it propagates.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { z } from 'zod';
import { logger, metrics } from '../../adapters/observability.js';
import { tracingMiddleware } from '../../adapters/tracing.js';
import { runsInLambda } from '../../config/env.js';
import { parseOrThrow, StagegateError } from '../../core/errors.js';

/**
 * How a handler gets its dependencies: the AWS composition root builds them once per process
 * from the environment (`functions/composition/`); the local composition root (`local/`)
 * passes its own typed ones to the same handler factory.
 */
export type Provide<T> = () => T | Promise<T>;

/**
 * Parses `event` with `schema`.
 * @throws ValidationError whose field is `event.<path>` of the first issue.
 */
export function parseEvent<S extends z.ZodType>(schema: S, event: unknown): z.infer<S> {
  return parseOrThrow(schema, event, 'event');
}

/**
 * Builds a middy handler that validates the event with `schema` and runs `body`. With
 * `emitsMetrics`, the Powertools metrics the body added are flushed once per invocation.
 */
export function makeHandler<S extends z.ZodType, R>(
  name: string,
  schema: S,
  body: (event: z.infer<S>, context: Context) => Promise<R>,
  options: { readonly emitsMetrics?: boolean } = {},
) {
  const handler = middy(async (event: unknown, context: Context): Promise<R> => {
    try {
      const parsed = parseEvent(schema, event);
      return await body(parsed, context);
    } catch (err) {
      const e = err as Error;
      const fields = { handler: name, errorName: e.name, errorMessage: e.message };
      if (err instanceof StagegateError && !err.retryable) logger.warn('rejected', fields);
      else logger.error('failed', { ...fields, error: e });
      throw err;
    }
  })
    .use(tracingMiddleware(() => runsInLambda()))
    .use(injectLambdaContext(logger, { resetKeys: true }));
  return options.emitsMetrics ? handler.use(logMetrics(metrics)) : handler;
}
