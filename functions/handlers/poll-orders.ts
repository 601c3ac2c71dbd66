/**
 * Steps "PollOrders" and "CancelOpenOrders": refreshes the promotion's open orders from the
 * broker (or requests their cancellation first, `cancelOpen: true`) through the Order
 * entity's guarded transitions, and books new fills.
 *
 * Event: `{ promotion, cancelOpen? }`. Returns `{ orders, allTerminal,
 * pollIntervalSeconds, maxPolls }`. Errors: IllegalOrderTransitionError, BrokerUnavailableError.
 */
import * as z from 'zod';
import { getPromotionDeps } from '../composition/promotion.js';
import { pollPromotionOrders } from '../core/use-cases/promotion.js';
import { makeHandler } from './shared/handler.js';
import { MetricUnit, metrics } from './shared/observability.js';
import { PromotionStepEventSchema } from './shared/promotion-events.js';

const EventSchema = PromotionStepEventSchema.extend({ cancelOpen: z.boolean().optional() });

export const handler = makeHandler(
  'poll-orders',
  EventSchema,
  async (event) => {
    const deps = getPromotionDeps();
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
