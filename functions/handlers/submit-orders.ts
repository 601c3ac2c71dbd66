/**
 * Step "SubmitOrders": re-checks the kill switch before each leg (fails closed), reserves each leg
 * under its deterministic client_order_id and sends it to the paper broker; idempotent
 * across retries and restarts.
 *
 * Event: `{ promotion, plan }`. Returns `{ orders, allTerminal, pollIntervalSeconds,
 * maxPolls }`. Errors: KillSwitchEngagedError (halt), BrokerUnavailableError (retried).
 */
import * as z from 'zod';
import { logger, MetricUnit, metrics } from '../adapters/observability.js';
import { getPromotionDeps } from '../composition/promotion.js';
import type { PromotionDeps } from '../core/use-cases/promotion.js';
import { submitPromotionOrders } from '../core/use-cases/promotion.js';
import { makeHandler, type Provide } from './shared/handler.js';
import { PlannedLegSchema, PromotionStepEventSchema } from './shared/promotion-events.js';

const EventSchema = PromotionStepEventSchema.extend({ plan: z.array(PlannedLegSchema) });

/** The handler over `provide`d dependencies (the AWS root below, or the local root). */
export function createHandler(provide: Provide<PromotionDeps>) {
  return makeHandler(
    'submit-orders',
    EventSchema,
    async (event) => {
      const deps = await provide();
      logger.appendKeys({ promotionId: event.promotion.promotionId });
      const out = await submitPromotionOrders(deps, event);
      metrics.addMetric('OrdersSubmitted', MetricUnit.Count, out.orders.length);
      for (const o of out.orders) {
        logger.info('order submitted', { client_order_id: o.clientOrderId, status: o.status });
      }
      return {
        ...out,
        pollIntervalSeconds: deps.promotionConfig.pollIntervalSeconds,
        maxPolls: deps.promotionConfig.maxPolls,
      };
    },
    { emitsMetrics: true },
  );
}

/** The Lambda entry point: dependencies from the AWS composition root, built once. */
export const handler = createHandler(getPromotionDeps);
