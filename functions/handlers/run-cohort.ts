/**
 * Step "RunCohort": seeds the agents' genomes, simulates the cohort over the session and
 * stores the simulation result as an artifact.
 *
 * Event: `{ prepared: PreparedCohort }`. Returns `RunOutput` (artifact key, counts).
 */
import * as z from 'zod';
import { getRuntime } from '../composition/runtime.js';
import { PreparedCohortSchema, runCohort } from '../core/use-cases/intraday-cohort.js';
import { makeHandler } from './shared/handler.js';
import { logger, MetricUnit, metrics } from './shared/observability.js';

const EventSchema = z.object({ prepared: PreparedCohortSchema });

export const handler = makeHandler(
  'run-cohort',
  EventSchema,
  async ({ prepared }) => {
    logger.appendKeys({ cohortId: prepared.cohortId });
    const started = performance.now();
    const out = await runCohort(getRuntime(), prepared);
    metrics.addMetric('CohortRuntimeMs', MetricUnit.Milliseconds, performance.now() - started);
    metrics.addMetric('AgentBars', MetricUnit.Count, out.agentBars);
    logger.info('cohort simulated', { agents: out.agentCount, agentBars: out.agentBars });
    return out;
  },
  { emitsMetrics: true },
);
