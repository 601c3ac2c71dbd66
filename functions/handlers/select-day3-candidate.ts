/**
 * Step "SelectCandidate" of the Day-3 go/no-go: reviews the genome that holds the market's
 * paper slot, or (no holder) the best of the walk-forward ranking of the Day 1-3 cohorts, runs
 * every promotion gate and evidence gate on it with the micro-live slice, and returns the
 * selection the rest of the state machine carries (including the approval timeout / heartbeat
 * from the config).
 *
 * Event: `{ request: Day3Request, execution: { id, name }, step? }` (`step`: the gate records
 * are appended once per step under a retry, and a retry returns the recorded verdicts;
 * shared/audit-step.ts). Returns `Day3Selection`.
 * Metric: one `WorkflowStarts` (workflow `day3-go-no-go`, the request's market) per execution
 * (shared/workflow-starts.ts).
 * Errors: ValidationError (bad request, not three cohorts, no lineage), NotFoundError.
 */
import * as z from 'zod';
import { logger } from '../adapters/observability.js';
import { getDay3CoreDeps } from '../composition/day3.js';
import type { Day3Deps } from '../core/use-cases/day3.js';
import { selectDay3Candidate } from '../core/use-cases/day3-select.js';
import { optionalAuditStep, withNestedAuditStep } from './shared/audit-step.js';
import { makeHandler, type Provide } from './shared/handler.js';
import { countWorkflowStart } from './shared/workflow-starts.js';

const EventSchema = z.object({
  request: z.unknown(),
  execution: z.object({ id: z.string().min(1), name: z.string().min(1) }),
  step: optionalAuditStep,
});

/** The handler over `provide`d dependencies (the AWS root below, or the local root). */
export function createHandler(provide: Provide<Day3Deps>) {
  return makeHandler('select-day3-candidate', EventSchema, async (event) => {
    countWorkflowStart('day3-go-no-go', event.request);
    logger.appendKeys({ executionArn: event.execution.id });
    const out = await selectDay3Candidate(withNestedAuditStep(await provide(), event), {
      request: event.request,
      executionName: event.execution.name,
    });
    logger.info('day-3 candidate selected', {
      lineageId: out.candidate.lineageId,
      candidateBasis: out.candidateBasis.basis,
      eligible: out.candidate.eligible,
      gatesPassed: out.gates.passed,
      capitalSliceUsd: out.capitalSliceUsd,
    });
    return out;
  });
}

/** The Lambda entry point: dependencies from the AWS composition root, built once. */
export const handler = createHandler(getDay3CoreDeps);
