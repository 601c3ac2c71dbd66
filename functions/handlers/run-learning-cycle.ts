/**
 * Step "RunLearningCycle" of the learning-cycle state machine: evolves the genome pool from
 * the scored cohorts inside the lookback and records `learning_cycle` (or why it skipped).
 *
 * Event: `{ request: { source, seed? }, execution: { id, name } }`. Returns `LearningOutput`.
 * Errors: ValidationError (request or LEARNING_CONFIG_JSON), GenomePoolConflictError.
 */
import * as z from 'zod';
import { getRuntime } from '../composition/runtime.js';
import { ValidationError } from '../core/errors.js';
import { learningCycle, parseLearningConfig } from '../core/use-cases/learning.js';
import { makeHandler } from './shared/handler.js';
import { logger } from './shared/observability.js';

const EventSchema = z.object({
  request: z.unknown(),
  execution: z.object({ id: z.string().min(1), name: z.string().min(1) }),
});

export const handler = makeHandler('run-learning-cycle', EventSchema, async (event) => {
  const rt = getRuntime();
  const text = rt.env.LEARNING_CONFIG_JSON;
  if (!text)
    throw new ValidationError('env.LEARNING_CONFIG_JSON', 'is required by the learning cycle');
  const out = await learningCycle(
    { ...rt, environment: rt.env.STAGE, config: parseLearningConfig(JSON.parse(text)) },
    { request: event.request, executionName: event.execution.name },
  );
  logger.info('learning cycle', {
    status: out.status,
    generation: out.generation,
    best: out.bestFitness,
  });
  return out;
});
