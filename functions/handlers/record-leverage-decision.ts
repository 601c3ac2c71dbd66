/**
 * Step "StartMicroLive" of the Day-3 go/no-go, after the approval: records the micro-live
 * slice and the leverage policy's first decision (start 2x, with its rationale; DynamoDB and
 * a `config_changed` audit record), and returns the promotion pipeline input for the approved
 * agent, slice and approval.
 *
 * Event: `{ selection, decision: ApprovalResult, execution: { id, name } }`.
 * Returns `{ sliceId, capitalSliceUsd, leverage, approvedBy, pipelineInput }`.
 */
import * as z from 'zod';
import { logger } from '../adapters/observability.js';
import { getDay3CoreDeps } from '../composition/day3.js';
import type { Day3Deps } from '../core/use-cases/day3.js';
import { startMicroLive } from '../core/use-cases/day3-micro-live.js';
import { ApprovalResultSchema, Day3SelectionSchema } from '../core/use-cases/day3-records.js';
import { optionalAuditStep, withNestedAuditStep } from './shared/audit-step.js';
import { makeHandler, type Provide } from './shared/handler.js';

const EventSchema = z.object({
  selection: Day3SelectionSchema,
  decision: ApprovalResultSchema,
  execution: z.object({ id: z.string().min(1), name: z.string().min(1) }),
  step: optionalAuditStep,
});

/** The handler over `provide`d dependencies (the AWS root below, or the local root). */
export function createHandler(provide: Provide<Day3Deps>) {
  return makeHandler('record-leverage-decision', EventSchema, async (event) => {
    logger.appendKeys({ executionArn: event.execution.id });
    const out = await startMicroLive(withNestedAuditStep(await provide(), event), {
      selection: event.selection,
      decision: event.decision,
      executionArn: event.execution.id,
      executionName: event.execution.name,
    });
    logger.info('micro-live slice recorded', {
      sliceId: out.sliceId,
      leverage: out.leverage,
      approvedBy: out.approvedBy,
    });
    return out;
  });
}

/** The Lambda entry point: dependencies from the AWS composition root, built once. */
export const handler = createHandler(getDay3CoreDeps);
