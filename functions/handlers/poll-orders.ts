/**
 * Steps "PollOrders" and "CancelOpenOrders": refreshes the promotion's open orders from the
 * broker (or requests their cancellation first, `cancelOpen: true`) through the Order
 * entity's guarded transitions, and books new fills.
 *
 * Event: `{ promotion, cancelOpen? }`. Returns `{ orders, allTerminal,
 * pollIntervalSeconds, maxPolls }`. Errors: IllegalOrderTransitionError, BrokerUnavailableError.
 */
import * as z from 'zod';
import { MetricUnit, metrics } from '../adapters/observability.js';
import { getPromotionDeps } from '../composition/promotion.js';
import type { PromotionDeps } from '../core/use-cases/promotion.js';
import { pollPromotionOrders } from '../core/use-cases/promotion.js';
import { makeHandler, type Provide } from './shared/handler.js';
import { PromotionStepEventSchema } from './shared/promotion-events.js';

const EventSchema = PromotionStepEventSchema.extend({ cancelOpen: z.boolean().optional() });

/** The handler over `provide`d dependencies (the AWS root below, or the local root). */
export function createHandler(provide: Provide<PromotionDeps>) {
  return makeHandler(
    'poll-orders',
    EventSchema,
    async (event) => {
      const deps = await provide();
      const out = await pollPromotionOrders(deps, event);
      for (const o of out.orders) {
        if (o.status === 'filled')
          metrics.addMetric('OrderLatencyMs', MetricUnit.Milliseconds, o.latencyMs);
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
