/**
 * Step "RunCohortShard" (the child of the RunCohortShards Distributed Map): simulates one
 * shard of the cohort's agents over the session under the shard's aggregate ceiling and
 * stores the shard as an artifact.
 *
 * Event: `{ prepared: PreparedCohort, planKey: string, agentIndices: number[] }` (built from
 * the batch `{ Items, BatchInput }`). Returns `ShardRunOutput`.
 */
import * as z from 'zod';
import { getRuntime } from '../composition/runtime.js';
import { runCohortShardStep } from '../core/use-cases/cohort-shards.js';
import { PreparedCohortSchema } from '../core/use-cases/intraday-cohort.js';
import { makeHandler } from './shared/handler.js';
import { logger, MetricUnit, metrics } from './shared/observability.js';

const EventSchema = z.object({
  prepared: PreparedCohortSchema,
  planKey: z.string().min(1),
  agentIndices: z.array(z.number().int().min(0)).min(1),
});

export const handler = makeHandler(
  'run-cohort-shard',
  EventSchema,
  async (event) => {
    logger.appendKeys({ cohortId: event.prepared.cohortId });
    const started = performance.now();
    const out = await runCohortShardStep(getRuntime(), event);
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
