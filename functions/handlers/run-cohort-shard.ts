/**
 * Step "RunCohortShard" (the child of the RunCohortShards Distributed Map): simulates one
 * shard of the cohort's agents over the session under the shard's aggregate ceiling and
 * stores the shard as an artifact.
 *
 * Event: `{ prepared: PreparedCohort, planKey: string, agentIndices: number[] }` (built from
 * the batch `{ Items, BatchInput }`). Returns `ShardRunOutput`.
 */
import * as z from 'zod';
import { logger, MetricUnit, metrics } from '../adapters/observability.js';
import type { Runtime } from '../composition/runtime.js';
import { getRuntime } from '../composition/runtime.js';
import { runCohortShardStep } from '../core/use-cases/cohort-shards.js';
import { PreparedCohortSchema } from '../core/use-cases/intraday-cohort.js';
import { makeHandler, type Provide } from './shared/handler.js';

const EventSchema = z.object({
  prepared: PreparedCohortSchema,
  planKey: z.string().min(1),
  agentIndices: z.array(z.number().int().min(0)).min(1),
});

/** The handler over `provide`d dependencies (the AWS root below, or the local root). */
export function createHandler(provide: Provide<Runtime>) {
  return makeHandler(
    'run-cohort-shard',
    EventSchema,
    async (event) => {
      logger.appendKeys({ cohortId: event.prepared.cohortId });
      const started = performance.now();
      const out = await runCohortShardStep(await provide(), event);
      // Summed over the shards, AgentBars equals what RunCohort reports for the same cohort.
      metrics.addMetric('AgentBars', MetricUnit.Count, out.agentBars);
      logger.info('cohort shard simulated', {
        firstAgentId: out.firstAgentId,
        agents: out.agentCount,
        runtimeMs: Math.round(performance.now() - started),
      });
      return out;
    },
    { emitsMetrics: true },
  );
}

/** The Lambda entry point: dependencies from the AWS composition root, built once. */
export const handler = createHandler(getRuntime);
