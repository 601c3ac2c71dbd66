/**
 * Step "EvaluateGates": observes and evaluates every risk gate for the staged candidate,
 * records one `gate_evaluated` per gate, and plans the entry order.
 *
 * Event: `{ promotion }`. Returns `{ passed, results, strongestAction, plan, nowIso }`.
 * Missing observations fail their gate closed; they never throw.
 */
import { getPromotionDeps } from '../composition/promotion.js';
import { evaluatePromotionGates } from '../core/use-cases/promotion.js';
import { makeHandler } from './shared/handler.js';
import { logger, MetricUnit, metrics } from './shared/observability.js';
import { PromotionStepEventSchema } from './shared/promotion-events.js';

export const handler = makeHandler(
  'evaluate-gates',
  PromotionStepEventSchema,
  async (event) => {
    logger.appendKeys({ promotionId: event.promotion.promotionId });
    const out = await evaluatePromotionGates(getPromotionDeps(), event);
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
