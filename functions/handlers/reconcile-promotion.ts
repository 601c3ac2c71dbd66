/**
 * Step "Reconcile": compares the local position book and the promotion's orders with the
 * broker's positions and orders; records `reconciliation`; logs an error (alarmed on) for
 * any discrepancy.
 *
 * Event: `{ promotion, step? }` (`step`: its records are appended once per step, shared/audit-step.ts). Returns `{ clean, discrepancies, positions }`.
 */

import { logger, MetricUnit, metrics } from '../adapters/observability.js';
import { getPromotionDeps } from '../composition/promotion.js';
import type { PromotionDeps } from '../core/use-cases/promotion.js';
import { reconcilePromotion } from '../core/use-cases/promotion-orders.js';
import { withAuditStep } from './shared/audit-step.js';
import { makeHandler, type Provide } from './shared/handler.js';
import { PromotionStepEventSchema } from './shared/promotion-events.js';

/** The handler over `provide`d dependencies (the AWS root below, or the local root). */
export function createHandler(provide: Provide<PromotionDeps>) {
  return makeHandler(
    'reconcile-promotion',
    PromotionStepEventSchema,
    async (event) => {
      const out = await reconcilePromotion(withAuditStep(await provide(), event), event);
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
}

/** The Lambda entry point: dependencies from the AWS composition root, built once. */
export const handler = createHandler(getPromotionDeps);
