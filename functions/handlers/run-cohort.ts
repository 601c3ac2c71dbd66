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
import { logger } from './shared/observability.js';

const EventSchema = z.object({ prepared: PreparedCohortSchema });

export const handler = makeHandler('run-cohort', EventSchema, async ({ prepared }) => {
  logger.appendKeys({ cohortId: prepared.cohortId });
  const out = await runCohort(getRuntime(), prepared);
  logger.info('cohort simulated', { agents: out.agentCount, agentBars: out.agentBars });
  return out;
});
