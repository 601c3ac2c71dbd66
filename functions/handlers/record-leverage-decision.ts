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
import { getDay3CoreDeps } from '../composition/approval.js';
import { startMicroLive } from '../core/use-cases/day3.js';
import { ApprovalResultSchema, Day3SelectionSchema } from '../core/use-cases/day3-records.js';
import { makeHandler } from './shared/handler.js';
import { logger } from './shared/observability.js';

const EventSchema = z.object({
  selection: Day3SelectionSchema,
  decision: ApprovalResultSchema,
  execution: z.object({ id: z.string().min(1), name: z.string().min(1) }),
});

export const handler = makeHandler('record-leverage-decision', EventSchema, async (event) => {
  logger.appendKeys({ executionArn: event.execution.id });
  const out = await startMicroLive(getDay3CoreDeps(), {
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
