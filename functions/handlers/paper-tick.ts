/**
 * Step "Tick" of the paper session (once a minute): tracks this session's orders, books its
 * fills, steps the strategy on the bars up to now, sizes, checks and sends the orders
 * (deterministic client_order_ids through the order-intent protocol: a retried tick never
 * doubles an order).
 *
 * Event: `{ state, step? }` (`step`: the tick's records are appended once per step under a
 * retry; the state's tick count makes every loop iteration another step, shared/audit-step.ts). Returns `{ state, waitSeconds, done }`. Errors: BrokerUnavailableError /
 * TransientError (retried by the state machine), ValidationError (a malformed state).
 */
import * as z from 'zod';
import { logger, MetricUnit, metrics } from '../adapters/observability.js';
import { getPaperSessionDeps } from '../composition/paper-session.js';
import {
  type PaperSessionDeps,
  parseSessionState,
  tickPaperSession,
} from '../core/use-cases/paper-session.js';
import { optionalAuditStep, withAuditStep } from './shared/audit-step.js';
import { makeHandler, type Provide } from './shared/handler.js';

/** The handler over `provide`d dependencies (the AWS root below, or the local root). */
export function createHandler(provide: Provide<PaperSessionDeps>) {
  return makeHandler(
    'paper-tick',
    z.strictObject({ state: z.unknown(), step: optionalAuditStep }),
    async (event) => {
      const deps = withAuditStep(await provide(), event);
      const state = parseSessionState(event.state);
      logger.appendKeys({ promotionId: state.promotionId });
      const before = state.orders.length;
      const out = await tickPaperSession(deps, { state });
      metrics.addMetric('PaperOrders', MetricUnit.Count, out.state.orders.length - before);
      if (out.state.halt && !state.halt) {
        metrics.addMetric('PaperSessionHalts', MetricUnit.Count, 1);
        logger.warn('paper session halted', { halt: out.state.halt });
      }
      // The account and the sum of its sessions' books disagree (the alarm's log line; the
      // `reconciliation` audit record carries the discrepancies).
      if (
        out.state.halt?.reason.startsWith('reconciliation:') &&
        out.state.halt.reason !== state.halt?.reason
      ) {
        logger.error('reconciliation discrepancies', { halt: out.state.halt });
      }
      return out;
    },
    { emitsMetrics: true },
  );
}

/** The Lambda entry point: dependencies from the AWS composition root, built once. */
export const handler = createHandler(getPaperSessionDeps);
