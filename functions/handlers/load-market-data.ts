/**
 * Step "LoadMarketData" of the intraday cohort: validates the request and the cohort
 * config, resolves the session date and proves the session's bars load.
 *
 * Event: `{ request: CohortRequest, execution: { id, name } }`. Returns `PreparedCohort`, or
 * `{ skipped: true, sessionDate, reason }` for a scheduled run on a closed market day.
 * Metric: one `WorkflowStarts` (workflow `intraday-cohort`, the request's market) per execution
 * (shared/workflow-starts.ts).
 * Errors: ValidationError, UnknownSymbolError, NoSessionError, DataFileMissingError,
 * DataFileCorruptError (caught by the state machine and recorded as `input_rejected`).
 */
import * as z from 'zod';
import { logger } from '../adapters/observability.js';
import type { Runtime } from '../composition/runtime.js';
import { cohortCostsOf, getRuntime } from '../composition/runtime.js';
import { prepareCohort } from '../core/use-cases/intraday-cohort.js';
import { makeHandler, type Provide } from './shared/handler.js';
import { countWorkflowStart } from './shared/workflow-starts.js';

const EventSchema = z.object({
  request: z.unknown(),
  execution: z.object({ id: z.string().min(1), name: z.string().min(1) }),
});

/** The handler over `provide`d dependencies (the AWS root below, or the local root). */
export function createHandler(provide: Provide<Runtime>) {
  return makeHandler('load-market-data', EventSchema, async (event) => {
    countWorkflowStart('intraday-cohort', event.request);
    const rt = await provide();
    logger.appendKeys({ executionArn: event.execution.id });
    const equityCosts = cohortCostsOf(rt.env);
    const deps = equityCosts ? { ...rt, equityCosts } : rt;
    const prepared = await prepareCohort(deps, {
      request: event.request,
      executionId: event.execution.id,
      executionName: event.execution.name,
    });
    if (prepared.skipped) logger.info('cohort skipped', { reason: prepared.reason });
    else {
      logger.info('cohort prepared', {
        cohortId: prepared.cohortId,
        sessionDate: prepared.sessionDate,
        bars: prepared.market.barCount,
      });
    }
    return prepared;
  });
}

/** The Lambda entry point: dependencies from the AWS composition root, built once. */
export const handler = createHandler(getRuntime);
