/**
 * Step "PersistCohort": writes the complete cohort (header + agent rows) to DynamoDB.
 *
 * Event: `{ prepared, run, score }`. Returns `{ cohortId, agentRows }`.
 * Errors: CohortAlreadyExistsError (another execution owns the id), TransientError.
 */
import * as z from 'zod';
import { getRuntime } from '../composition/runtime.js';
import type { ScoreOutput } from '../core/use-cases/intraday-cohort.js';
import {
  PreparedCohortSchema,
  persistCohort,
  RunOutputSchema,
  ScoreOutputSchema,
} from '../core/use-cases/intraday-cohort.js';
import { makeHandler } from './shared/handler.js';
import { logger } from './shared/observability.js';

const EventSchema = z.object({
  prepared: PreparedCohortSchema,
  run: RunOutputSchema,
  score: ScoreOutputSchema,
});

export const handler = makeHandler('persist-cohort', EventSchema, async (event) => {
  const rt = getRuntime();
  logger.appendKeys({ cohortId: event.prepared.cohortId });
  const out = await persistCohort(
    { ...rt, environment: rt.env.STAGE },
    { prepared: event.prepared, run: event.run, score: event.score as unknown as ScoreOutput },
  );
  logger.info('cohort persisted', { agentRows: out.agentRows });
  return out;
});
