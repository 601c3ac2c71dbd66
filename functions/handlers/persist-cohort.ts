/**
 * Step "PersistCohort": writes the complete cohort (header + agent rows) to DynamoDB.
 *
 * Event: `{ prepared, run, score }`. Returns `{ cohortId, agentRows }`.
 * Errors: CohortAlreadyExistsError (another execution owns the id), TransientError.
 */
import * as z from 'zod';
import { logger } from '../adapters/observability.js';
import type { StoreRuntime } from '../composition/stores.js';
import { getStoreRuntime } from '../composition/stores.js';
import type { ScoreOutput } from '../core/use-cases/intraday-cohort.js';
import {
  PreparedCohortSchema,
  persistCohort,
  RunOutputSchema,
  ScoreOutputSchema,
} from '../core/use-cases/intraday-cohort.js';
import { makeHandler, type Provide } from './shared/handler.js';

const EventSchema = z.object({
  prepared: PreparedCohortSchema,
  run: RunOutputSchema,
  score: ScoreOutputSchema,
});

/** The handler over `provide`d dependencies (the AWS root below, or the local root). */
export function createHandler(provide: Provide<StoreRuntime>) {
  return makeHandler('persist-cohort', EventSchema, async (event) => {
    const rt = await provide();
    logger.appendKeys({ cohortId: event.prepared.cohortId });
    const out = await persistCohort(
      { ...rt, environment: rt.env.STAGE },
      { prepared: event.prepared, run: event.run, score: event.score as unknown as ScoreOutput },
    );
    logger.info('cohort persisted', { agentRows: out.agentRows });
    return out;
  });
}

/** The Lambda entry point: dependencies from the AWS composition root, built once. */
export const handler = createHandler(getStoreRuntime);
