/**
 * The crash sweeper, started by its schedule (lib/constructs/in-flight-recovery.ts): finds
 * promotions left mid-flight longer than any execution runs, reconciles their orders with the
 * broker by client_order_id and closes them with `workflow_failed`; never sends an order. Then
 * cancels every `gtc` order of the account that outlived its UTC day and that no unfinished
 * paper session tracks, except the flattens, left working and logged
 * (functions/core/use-cases/gtc-day-close.ts; the schedule runs at minute 0 of every hour, so at
 * 00:00 UTC, the crypto close).
 *
 * Event: `{ source: "schedule", scheduledTime? }`. Returns
 * `{ recovered, failed, gtcClosed, gtcLeftWorking }`.
 * Errors: when any run (or gtc order) failed to recover it throws a `TransientError` after
 * sweeping the others, naming each: `promotion:<id>` and `gtc_order:<client_order_id>` (a failed
 * cancel, still open: the next schedule retries them), `gtc_unrecorded:<client_order_id>`
 * (cancelled at the broker but its record failed: no later run sees it, the operator records it,
 * docs/runbook.md).
 */
import * as z from 'zod';
import { logger, MetricUnit, metrics } from '../adapters/observability.js';
import { getPromotionDeps, inFlightWorkflows } from '../composition/promotion.js';
import { TransientError } from '../core/errors.js';
import { closeGtcOrdersPastTheirDay } from '../core/use-cases/gtc-day-close.js';
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
      const gtc = await closeGtcOrdersPastTheirDay(deps, deps.clock.now());
      metrics.addMetric('InFlightRecovered', MetricUnit.Count, out.recovered.length);
      for (const r of out.recovered) logger.warn('recovered an abandoned run', { ...r });
      for (const c of gtc.closed) logger.warn('canceled a gtc order past its UTC day', { ...c });
      for (const l of gtc.leftWorking) {
        logger.warn('left a flatten working past its UTC day', { ...l });
      }
      const failed = [
        ...out.failed.map((f) => `${f.workflow}:${f.id}`),
        ...gtc.failed.map((f) => `gtc_order:${f.clientOrderId}`),
        ...gtc.unrecorded.map((u) => `gtc_unrecorded:${u.clientOrderId}`),
      ];
      if (failed.length > 0) {
        logger.error('in-flight recovery incomplete', {
          failed: out.failed,
          gtc: gtc.failed,
          gtcUnrecorded: gtc.unrecorded,
        });
        throw new TransientError(
          `${failed.length} abandoned run(s) or order(s) not recovered: ${failed.join(', ')}`,
        );
      }
      return { ...out, gtcClosed: gtc.closed, gtcLeftWorking: gtc.leftWorking };
    },
    { emitsMetrics: true },
  );
}

/** The Lambda entry point: dependencies from the AWS composition root, built once. */
export const handler = createHandler(getPromotionDeps);
