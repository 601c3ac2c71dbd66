/**
 * The crash sweeper, started by its schedule (lib/constructs/in-flight-recovery.ts): finds
 * promotions left mid-flight longer than any execution runs, reconciles their orders with the
 * broker by client_order_id and closes them with `workflow_failed`; never sends an order.
 *
 * Event: `{ source: "schedule", scheduledTime? }`. Returns `{ recovered, failed }`.
 * Errors: when any run failed to recover it throws a
 * `TransientError` after sweeping the others (the next schedule retries them).
 */
import * as z from 'zod';
import { logger, MetricUnit, metrics } from '../adapters/observability.js';
import { getPromotionDeps, inFlightWorkflows } from '../composition/promotion.js';
import { TransientError } from '../core/errors.js';
import type { PromotionRecoveryDeps } from '../core/use-cases/promotion-recovery.js';
import { promotionStaleAfterSeconds } from '../core/use-cases/promotion-recovery.js';
import { sweepInFlight } from '../core/use-cases/recover-in-flight.js';
import { makeHandler, type Provide } from './shared/handler.js';

const EventSchema = z.object({
  source: z.literal('schedule'),
  scheduledTime: z.string().optional(),
});

/** How far back the sweeper looks, seconds (two weeks). */
const LOOKBACK_SECONDS = 14 * 86_400;

/** The handler over `provide`d dependencies (the AWS root below, or the local root). */
export function createHandler(provide: Provide<PromotionRecoveryDeps>) {
  return makeHandler(
    'recover-in-flight',
    EventSchema,
    async () => {
      const deps = await provide();
      const out = await sweepInFlight(
        { clock: deps.clock, workflows: inFlightWorkflows(deps) },
        {
          mode: 'stale',
          staleAfterSeconds: promotionStaleAfterSeconds(deps.promotionConfig),
          lookbackSeconds: LOOKBACK_SECONDS,
        },
      );
      metrics.addMetric('InFlightRecovered', MetricUnit.Count, out.recovered.length);
      for (const r of out.recovered) logger.warn('recovered an abandoned run', { ...r });
      if (out.failed.length > 0) {
        logger.error('in-flight recovery incomplete', { failed: out.failed });
        throw new TransientError(
          `${out.failed.length} abandoned run(s) not recovered: ${out.failed.map((f) => `${f.workflow}:${f.id}`).join(', ')}`,
        );
      }
      return out;
    },
    { emitsMetrics: true },
  );
}

/** The Lambda entry point: dependencies from the AWS composition root, built once. */
export const handler = createHandler(getPromotionDeps);
