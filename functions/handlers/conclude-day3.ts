/**
 * The Day-3 go/no-go's concluding steps ("GatesFailed", "Rejected", "TimedOut",
 * "ConcludeMicroLive"): records how the review ended (a timeout is recorded as an `expired`,
 * not-approved decision and the announced request is replaced by its expiry notice), marks the
 * micro-live slice active or not started, and returns the execution's output.
 *
 * Event: `{ kind, selection, execution, error? | decision, sliceId, pipeline? }`.
 * Returns `Day3Conclusion` (`outcome`, `reason`, approver, slice, promotion).
 */
import '../composition/slack-web-api.js';
import * as z from 'zod';
import { logger } from '../adapters/observability.js';
import type { Day3HandlerDeps } from '../composition/approval.js';
import { getDay3Deps } from '../composition/day3.js';
import { ApprovalNotFoundError } from '../core/errors.js';
import { recordMissingSignatures } from '../core/use-cases/day3-approval.js';
import { concludeDay3 } from '../core/use-cases/day3-conclude.js';
import { ApprovalResultSchema, Day3SelectionSchema } from '../core/use-cases/day3-records.js';
import { approvalIdFor } from '../core/use-cases/day3-request-approval.js';
import { optionalAuditStep, withNestedAuditStep } from './shared/audit-step.js';
import { makeHandler, type Provide } from './shared/handler.js';

const execution = z.object({ id: z.string().min(1), name: z.string().min(1) });
const step = optionalAuditStep;
const EventSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('gates_failed'), selection: Day3SelectionSchema, execution, step }),
  z.object({
    kind: z.enum(['timed_out', 'rejected']),
    selection: Day3SelectionSchema,
    execution,
    step,
    error: z.object({ Error: z.string(), Cause: z.string().nullish() }),
  }),
  z.object({
    kind: z.literal('micro_live'),
    selection: Day3SelectionSchema,
    execution,
    step,
    decision: ApprovalResultSchema,
    sliceId: z.string().min(1),
    pipeline: z.object({
      executionArn: z.string(),
      output: z.object({ promotionId: z.string(), outcome: z.string(), reason: z.string() }),
    }),
  }),
]);

/**
 * Appends the `approval_decided` record of every signature of the execution's approval request
 * whose record a crashed door left missing (once, under the signature's own key, so through
 * the sink itself rather than the step-scoped one).
 */
async function sweepSignatures(deps: Day3HandlerDeps, executionArn: string): Promise<void> {
  if (!deps.key || !deps.approvals) return;
  const approvalId = approvalIdFor(executionArn, deps.key);
  try {
    const appended = await recordMissingSignatures(deps, approvalId);
    if (appended > 0) logger.warn('recorded signatures a door left unaudited', { appended });
  } catch (err) {
    if (!(err instanceof ApprovalNotFoundError)) throw err;
  }
}

/** The handler over `provide`d dependencies (the AWS root below, or the local root). */
export function createHandler(provide: Provide<Day3HandlerDeps>) {
  return makeHandler('conclude-day3', EventSchema, async (event) => {
    logger.appendKeys({ executionArn: event.execution.id });
    const provided = await await provide();
    if (event.kind !== 'gates_failed') await sweepSignatures(provided, event.execution.id);
    const deps = withNestedAuditStep(provided, event);
    const ids = { executionArn: event.execution.id, executionName: event.execution.name };
    const out =
      event.kind === 'micro_live'
        ? await concludeDay3(deps, {
            kind: 'micro_live',
            selection: event.selection,
            decision: event.decision,
            sliceId: event.sliceId,
            pipelineOutput: event.pipeline.output,
            pipelineExecutionArn: event.pipeline.executionArn,
            ...ids,
          })
        : event.kind === 'gates_failed'
          ? await concludeDay3(deps, { kind: 'gates_failed', selection: event.selection, ...ids })
          : await concludeDay3(deps, {
              kind: event.kind,
              selection: event.selection,
              error: event.error,
              ...ids,
            });
    logger.info('day-3 concluded', { outcome: out.outcome, decidedBy: out.decidedBy });
    return out;
  });
}

/** The Lambda entry point: dependencies from the AWS composition root, built once. */
export const handler = createHandler(getDay3Deps);
