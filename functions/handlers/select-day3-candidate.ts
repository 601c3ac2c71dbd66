/**
 * Step "SelectCandidate" of the Day-3 go/no-go: ranks the genome lineages of the Day 1-3
 * cohorts by one-day ROI and Sharpe (minimum trade count per day), runs every promotion gate
 * on the best one with the micro-live slice, and returns the selection the rest of the state
 * machine carries (including the approval timeout / heartbeat from the config).
 *
 * Event: `{ request: Day3Request, execution: { id, name } }`. Returns `Day3Selection`.
 * Errors: ValidationError (bad request, not three cohorts, no lineage), NotFoundError.
 */
import * as z from 'zod';
import { getDay3CoreDeps } from '../composition/approval.js';
import { selectDay3Candidate } from '../core/use-cases/day3.js';
import { makeHandler } from './shared/handler.js';
import { logger } from './shared/observability.js';

const EventSchema = z.object({
  request: z.unknown(),
  execution: z.object({ id: z.string().min(1), name: z.string().min(1) }),
});

export const handler = makeHandler('select-day3-candidate', EventSchema, async (event) => {
  logger.appendKeys({ executionArn: event.execution.id });
  const out = await selectDay3Candidate(getDay3CoreDeps(), {
    request: event.request,
    executionName: event.execution.name,
  });
  logger.info('day-3 candidate selected', {
    lineageId: out.candidate.lineageId,
    eligible: out.candidate.eligible,
    gatesPassed: out.gates.passed,
    capitalSliceUsd: out.capitalSliceUsd,
  });
  return out;
});
