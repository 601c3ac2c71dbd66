/**
 * Step "MergeCohortShards": merges the shard artifacts into the one simulation artifact
 * RunCohort would have written (same key, same shape), so ScoreCohort runs unchanged.
 *
 * Event: `{ prepared: PreparedCohort, plan: ShardPlanOutput, shards: ShardRunOutput[] }`.
 * Returns `RunOutput`.
 */
import * as z from 'zod';
import { getRuntime } from '../composition/runtime.js';
import {
  mergeCohortShardsStep,
  ShardPlanOutputSchema,
  ShardRunOutputSchema,
} from '../core/use-cases/cohort-shards.js';
import { PreparedCohortSchema } from '../core/use-cases/intraday-cohort.js';
import { makeHandler } from './shared/handler.js';
import { logger } from './shared/observability.js';

const EventSchema = z.object({
  prepared: PreparedCohortSchema,
  plan: ShardPlanOutputSchema,
  shards: z.array(ShardRunOutputSchema).min(1),
});

export const handler = makeHandler('merge-cohort-shards', EventSchema, async (event) => {
  logger.appendKeys({ cohortId: event.prepared.cohortId });
  const out = await mergeCohortShardsStep(getRuntime(), event);
  logger.info('cohort shards merged', { shards: event.shards.length, agents: out.agentCount });
  return out;
});
