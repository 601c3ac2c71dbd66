/**
 * Step "Reconcile": compares the local FIFO book and the promotion's orders with the
 * broker's positions and orders; records `reconciliation`; logs an error (alarmed on) for
 * any discrepancy.
 *
 * Event: `{ promotion }`. Returns `{ clean, discrepancies, positions }`.
 */
import { getPromotionDeps } from '../composition/promotion.js';
import { reconcilePromotion } from '../core/use-cases/promotion.js';
import { makeHandler } from './shared/handler.js';
import { logger, MetricUnit, metrics } from './shared/observability.js';
import { PromotionStepEventSchema } from './shared/promotion-events.js';

export const handler = makeHandler(
  'reconcile-promotion',
  PromotionStepEventSchema,
  async (event) => {
    const out = await reconcilePromotion(getPromotionDeps(), event);
    metrics.addMetric('ReconciliationDiscrepancies', MetricUnit.Count, out.discrepancies.length);
    if (!out.clean) {
      logger.error('reconciliation discrepancies', {
        promotionId: event.promotion.promotionId,
        discrepancies: out.discrepancies,
      });
    }
    return out;
  },
  { emitsMetrics: true },
);
