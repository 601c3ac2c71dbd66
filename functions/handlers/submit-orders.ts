/**
 * Step "SubmitOrders": re-checks the kill switch (fails closed), reserves each planned leg
 * under its deterministic client_order_id and sends it to the paper broker; idempotent
 * across retries and restarts.
 *
 * Event: `{ promotion, plan }`. Returns `{ orders, allTerminal, pollIntervalSeconds,
 * maxPolls }`. Errors: KillSwitchEngagedError (halt), BrokerUnavailableError (retried).
 */
import * as z from 'zod';
import { getPromotionDeps } from '../composition/promotion.js';
import { submitPromotionOrders } from '../core/use-cases/promotion.js';
import { makeHandler } from './shared/handler.js';
import { logger, MetricUnit, metrics } from './shared/observability.js';
import { PlannedLegSchema, PromotionStepEventSchema } from './shared/promotion-events.js';

const EventSchema = PromotionStepEventSchema.extend({ plan: z.array(PlannedLegSchema) });

export const handler = makeHandler(
  'submit-orders',
  EventSchema,
  async (event) => {
    const deps = getPromotionDeps();
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
