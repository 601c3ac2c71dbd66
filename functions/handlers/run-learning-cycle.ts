/**
 * Step "RunLearningCycle" of the learning-cycle state machine: evolves the request's market's
 * genome pool (`equity-usa` when the request names none) from that market's scored cohorts
 * inside the lookback and records `learning_cycle` (or why it skipped).
 *
 * Event: `{ request: { source, seed?, market? }, execution: { id, name } }` (`market`: learn from
 * that market's cohorts only; the session-ingestion chain passes it). Returns `LearningOutput`.
 * Metric: one `WorkflowStarts` (workflow `learning-cycle`, the request's market) per execution
 * (shared/workflow-starts.ts).
 * Errors: ValidationError (request or LEARNING_CONFIG_JSON), GenomePoolConflictError.
 */
import * as z from 'zod';
import { logger } from '../adapters/observability.js';
import type { StoreRuntime } from '../composition/stores.js';
import { getStoreRuntime } from '../composition/stores.js';
import { ValidationError } from '../core/errors.js';
import { learningCycle, parseLearningConfig } from '../core/use-cases/learning.js';
import { optionalAuditStep, withAuditStep } from './shared/audit-step.js';
import { makeHandler, type Provide } from './shared/handler.js';
import { countWorkflowStart } from './shared/workflow-starts.js';

const EventSchema = z.object({
  request: z.unknown(),
  execution: z.object({ id: z.string().min(1), name: z.string().min(1) }),
  step: optionalAuditStep,
});

/** The handler over `provide`d dependencies (the AWS root below, or the local root). */
export function createHandler(provide: Provide<StoreRuntime>) {
  return makeHandler('run-learning-cycle', EventSchema, async (event) => {
    countWorkflowStart('learning-cycle', event.request);
    const rt = await provide();
    const text = rt.env.LEARNING_CONFIG_JSON;
    if (!text)
      throw new ValidationError('env.LEARNING_CONFIG_JSON', 'is required by the learning cycle');
    const out = await learningCycle(
      withAuditStep(
        { ...rt, environment: rt.env.STAGE, config: parseLearningConfig(JSON.parse(text)) },
        event,
      ),
      { request: event.request, executionName: event.execution.name },
    );
    logger.info('learning cycle', {
      status: out.status,
      generation: out.generation,
      best: out.bestFitness,
    });
    return out;
  });
}

/** The Lambda entry point: dependencies from the AWS composition root, built once. */
export const handler = createHandler(getStoreRuntime);
