/**
 * Step "PlanCohortShards" (sharded path, cohorts above the shard size): takes the agents'
 * genomes from the pool once, splits the bankroll once for the whole cohort, stores the plan
 * as an artifact and returns the agent indices the Distributed Map batches into shards.
 *
 * Event: `{ prepared: PreparedCohort, shardAgents: number }`. Returns `ShardPlanOutput`.
 */
import * as z from 'zod';
import { logger } from '../adapters/observability.js';
import type { StoreRuntime } from '../composition/stores.js';
import { getStoreRuntime } from '../composition/stores.js';
import { planCohortShardsStep, ShardAgentsSchema } from '../core/use-cases/cohort-shards.js';
import { PreparedCohortSchema } from '../core/use-cases/intraday-cohort.js';
import { makeHandler, type Provide } from './shared/handler.js';

const EventSchema = z.object({ prepared: PreparedCohortSchema, shardAgents: ShardAgentsSchema });

/** The handler over `provide`d dependencies (the AWS root below, or the local root). */
export function createHandler(provide: Provide<StoreRuntime>) {
  return makeHandler('plan-cohort-shards', EventSchema, async (event) => {
    logger.appendKeys({ cohortId: event.prepared.cohortId });
    const out = await planCohortShardsStep(await provide(), event);
    logger.info('cohort shards planned', {
      agents: out.agentCount,
      shardAgents: out.shardAgents,
      shards: out.shardCount,
    });
    return out;
  });
}

/** The Lambda entry point: dependencies from the AWS composition root, built once. */
export const handler = createHandler(getStoreRuntime);
