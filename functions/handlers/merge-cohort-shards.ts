/**
 * Step "MergeCohortShards": merges the shard artifacts into the one simulation artifact
 * RunCohort would have written (same key, same shape), so ScoreCohort runs unchanged.
 *
 * Event: `{ prepared: PreparedCohort, plan: ShardPlanOutput, shards: ShardRunOutput[] }`.
 * Returns `RunOutput`.
 */
import * as z from 'zod';
import { logger } from '../adapters/observability.js';
import type { StoreRuntime } from '../composition/stores.js';
import { getStoreRuntime } from '../composition/stores.js';
import {
  mergeCohortShardsStep,
  ShardPlanOutputSchema,
  ShardRunOutputSchema,
} from '../core/use-cases/cohort-shards.js';
import { PreparedCohortSchema } from '../core/use-cases/intraday-cohort.js';
import { makeHandler, type Provide } from './shared/handler.js';

const EventSchema = z.object({
  prepared: PreparedCohortSchema,
  plan: ShardPlanOutputSchema,
  shards: z.array(ShardRunOutputSchema).min(1),
});

/** The handler over `provide`d dependencies (the AWS root below, or the local root). */
export function createHandler(provide: Provide<StoreRuntime>) {
  return makeHandler('merge-cohort-shards', EventSchema, async (event) => {
    logger.appendKeys({ cohortId: event.prepared.cohortId });
    const out = await mergeCohortShardsStep(await provide(), event);
    logger.info('cohort shards merged', { shards: event.shards.length, agents: out.agentCount });
    return out;
  });
}

/** The Lambda entry point: dependencies from the AWS composition root, built once. */
export const handler = createHandler(getStoreRuntime);
