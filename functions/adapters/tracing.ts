/**
 * Powertools Tracer (AWS X-Ray) for the deployed functions, loaded only inside Lambda.
 *
 * - {@link tracingMiddleware}: middy middleware of every handler (`makeHandler`). Inside Lambda
 *   (`enabled()` true) its first `before` loads `@aws-lambda-powertools/tracer`, creates the
 *   process-wide {@link Tracer} and delegates to Powertools' own `captureLambdaHandler`
 *   (a `## <handler>` subsegment with the ColdStart and Service annotations, the response or
 *   error as metadata). Elsewhere (the local mode, tests) it does nothing and never imports
 *   the X-Ray SDK (~150 ms of module load the local start-up would pay for nothing).
 * - {@link traced}: wraps an AWS SDK v3 client with `Tracer.captureAWSv3Client` (one X-Ray
 *   subsegment per SDK call) once the tracer exists, else returns it unchanged. Every client
 *   the composition roots build goes through it; the roots build their clients inside the
 *   first invocation, after the middleware's `before`, so every deployed client is traced.
 *
 * X-Ray itself is switched on per function by the stack (`tracing: Active`); Powertools reads
 * `POWERTOOLS_SERVICE_NAME` and honours `POWERTOOLS_TRACE_ENABLED=false`.
 */

import type { Tracer } from '@aws-lambda-powertools/tracer';
import type { MiddlewareObj } from '@middy/core';

let tracer: Tracer | undefined;

/** The process-wide tracer, or undefined outside Lambda / before the first invocation. */
export function currentTracer(): Tracer | undefined {
  return tracer;
}

/** Loads Powertools Tracer once and returns the process-wide instance. */
export async function loadTracer(): Promise<Tracer> {
  if (!tracer) {
    const { Tracer } = await import('@aws-lambda-powertools/tracer');
    // Service name from POWERTOOLS_SERVICE_NAME (the function's, e.g. `record-audit`).
    tracer ??= new Tracer();
  }
  return tracer;
}

/**
 * `client` with one X-Ray subsegment per SDK call when the tracer is loaded; `client`
 * unchanged otherwise (local mode, tests).
 */
export function traced<C>(client: C): C {
  return tracer ? tracer.captureAWSv3Client(client) : client;
}

/**
 * middy middleware that traces the handler through Powertools' `captureLambdaHandler`, loaded
 * on the first invocation when `enabled()` (the handler edge passes "running inside Lambda").
 */
export function tracingMiddleware(enabled: () => boolean): MiddlewareObj {
  let inner: MiddlewareObj | undefined;
  return {
    before: async (request) => {
      if (!inner) {
        if (!enabled()) return;
        const t = await loadTracer();
        const { captureLambdaHandler } = await import('@aws-lambda-powertools/tracer/middleware');
        inner = captureLambdaHandler(t);
      }
      await inner.before?.(request);
    },
    after: async (request) => {
      await inner?.after?.(request);
    },
    onError: async (request) => {
      await inner?.onError?.(request);
    },
  };
}
