/**
 * Step "RunCohort": seeds the agents' genomes, simulates the cohort over the session and
 * stores the simulation result as an artifact.
 *
 * Event: `{ prepared: PreparedCohort }`. Returns `RunOutput` (artifact key, counts).
 */
import * as z from 'zod';
import { logger, MetricUnit, metrics } from '../adapters/observability.js';
import type { Runtime } from '../composition/runtime.js';
import { getRuntime } from '../composition/runtime.js';
import { PreparedCohortSchema, runCohort } from '../core/use-cases/intraday-cohort.js';
import { makeHandler, type Provide } from './shared/handler.js';

const EventSchema = z.object({ prepared: PreparedCohortSchema });

/** The handler over `provide`d dependencies (the AWS root below, or the local root). */
export function createHandler(provide: Provide<Runtime>) {
  return makeHandler(
    'run-cohort',
    EventSchema,
    async ({ prepared }) => {
      logger.appendKeys({ cohortId: prepared.cohortId });
      const started = performance.now();
      const out = await runCohort(await provide(), prepared);
      metrics.addMetric('CohortRuntimeMs', MetricUnit.Milliseconds, performance.now() - started);
      metrics.addMetric('AgentBars', MetricUnit.Count, out.agentBars);
      logger.info('cohort simulated', { agents: out.agentCount, agentBars: out.agentBars });
      return out;
    },
    { emitsMetrics: true },
  );
}

/** The Lambda entry point: dependencies from the AWS composition root, built once. */
export const handler = createHandler(getRuntime);
