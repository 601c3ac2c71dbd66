/**
 * Step "StageCandidate" of the promotion pipeline: freezes the cohort's best candidate
 * (genome, config hash, capital slice) and records `promotion_staged`.
 *
 * Event: `{ request: PromotionRequest, execution: { id, name }, step? }` (`step`: its audit
 * record is appended once per step under a retry, shared/audit-step.ts).
 * Returns `{ skipped: false, promotion: StagedPromotion }`, or
 * `{ skipped: true, reason }` when a scheduled run finds no earlier complete cohort.
 * Metric: one `WorkflowStarts` (workflow `promotion-pipeline`, the request's market) per execution
 * (shared/workflow-starts.ts).
 * Errors: ValidationError (bad request or config), NotFoundError (unknown cohort).
 */
import * as z from 'zod';
import { logger } from '../adapters/observability.js';
import { getPromotionDeps } from '../composition/promotion.js';
import type { PromotionDeps } from '../core/use-cases/promotion.js';
import { stagePromotion } from '../core/use-cases/promotion-stage.js';
import { optionalAuditStep, withAuditStep } from './shared/audit-step.js';
import { makeHandler, type Provide } from './shared/handler.js';
import { countWorkflowStart } from './shared/workflow-starts.js';

const EventSchema = z.object({
  request: z.unknown(),
  execution: z.object({ id: z.string().min(1), name: z.string().min(1) }),
  step: optionalAuditStep,
});

/** The handler over `provide`d dependencies (the AWS root below, or the local root). */
export function createHandler(provide: Provide<PromotionDeps>) {
  return makeHandler('stage-promotion', EventSchema, async (event) => {
    countWorkflowStart('promotion-pipeline', event.request);
    logger.appendKeys({ executionArn: event.execution.id });
    const out = await stagePromotion(withAuditStep(await provide(), event), {
      request: event.request,
      executionId: event.execution.id,
      executionName: event.execution.name,
    });
    if (out.skipped) logger.info('nothing to promote', { reason: out.reason });
    else {
      logger.info('promotion staged', {
        promotionId: out.promotion.promotionId,
        agentId: out.promotion.agentId,
        capitalSliceUsd: out.promotion.capitalSliceUsd,
      });
    }
    return out;
  });
}

/** The Lambda entry point: dependencies from the AWS composition root, built once. */
export const handler = createHandler(getPromotionDeps);
