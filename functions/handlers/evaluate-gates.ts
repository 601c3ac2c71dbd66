/**
 * Step "EvaluateGates": observes and evaluates every risk gate for the staged candidate,
 * records one `gate_evaluated` per gate, and plans the entry order.
 *
 * Event: `{ promotion, step? }` (`step`: the gate records are appended once per step under a
 * retry, and a retry returns the recorded verdicts; shared/audit-step.ts). Returns `{ passed, results, strongestAction, plan, nowIso }`.
 * Missing observations fail their gate closed; they never throw.
 */

import { logger, MetricUnit, metrics } from '../adapters/observability.js';
import { getPromotionDeps } from '../composition/promotion.js';
import type { PromotionDeps } from '../core/use-cases/promotion.js';
import { evaluatePromotionGates } from '../core/use-cases/promotion-gates.js';
import { withAuditStep } from './shared/audit-step.js';
import { makeHandler, type Provide } from './shared/handler.js';
import { PromotionStepEventSchema } from './shared/promotion-events.js';

/** The handler over `provide`d dependencies (the AWS root below, or the local root). */
export function createHandler(provide: Provide<PromotionDeps>) {
  return makeHandler(
    'evaluate-gates',
    PromotionStepEventSchema,
    async (event) => {
      logger.appendKeys({ promotionId: event.promotion.promotionId });
      const out = await evaluatePromotionGates(withAuditStep(await provide(), event), event);
      const failed = out.results.filter((r) => r.verdict === 'fail').map((r) => r.gate);
      metrics.addMetric('GateFailures', MetricUnit.Count, failed.length);
      logger.info('gates evaluated', {
        passed: out.passed,
        failed,
        strongestAction: out.strongestAction,
      });
      return out;
    },
    { emitsMetrics: true },
  );
}

/** The Lambda entry point: dependencies from the AWS composition root, built once. */
export const handler = createHandler(getPromotionDeps);
