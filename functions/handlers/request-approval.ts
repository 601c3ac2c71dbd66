/**
 * Step "RequestApproval" (a `lambda:invoke.waitForTaskToken` task): stores the approval
 * request with the task token (encrypted, server-side), records `approval_requested`, and
 * announces the signed, expiring approval link (Slack Block Kit message). The execution then
 * waits until the approval page or the Slack endpoint resumes it, or the task times out.
 *
 * Event (the task's Payload): `{ taskToken, execution: { id, name }, selection, step? }`. The
 * token is never logged or returned. `step`: `approval_requested` is appended once per step
 * under a retry, keyed by the execution, the state and the event without `taskToken` (every
 * attempt gets a new token) and without `step` (shared/audit-step.ts). Returns
 * `{ approvalId, expiresAtIso, superseded? }` (ignored by Step Functions: the task's result is
 * the decision).
 */
import '../composition/slack-web-api.js';
import * as z from 'zod';
import { logger } from '../adapters/observability.js';
import type { Day3HandlerDeps } from '../composition/approval.js';
import { getDay3Deps } from '../composition/day3.js';
import { ValidationError } from '../core/errors.js';
import { Day3SelectionSchema } from '../core/use-cases/day3-records.js';
import { requestDay3Approval } from '../core/use-cases/day3-request-approval.js';
import { optionalAuditStep, withNestedAuditStep } from './shared/audit-step.js';
import { makeHandler, type Provide } from './shared/handler.js';

const EventSchema = z.object({
  taskToken: z.string().min(1).max(2048),
  execution: z.object({ id: z.string().min(1), name: z.string().min(1) }),
  selection: Day3SelectionSchema,
  step: optionalAuditStep,
});

/** The handler over `provide`d dependencies (the AWS root below, or the local root). */
export function createHandler(provide: Provide<Day3HandlerDeps>) {
  return makeHandler('request-approval', EventSchema, async (event) => {
    logger.appendKeys({ executionArn: event.execution.id });
    const deps = await await provide();
    if (!deps.approvalBaseUrl) {
      throw new ValidationError('env.APPROVAL_BASE_URL', 'is required to build approval links');
    }
    // The step's key leaves the task token out: a retried task's differs from the first's.
    const { taskToken: _token, ...keyed } = event;
    const out = await requestDay3Approval(withNestedAuditStep(deps, keyed), {
      selection: event.selection,
      taskToken: event.taskToken,
      executionArn: event.execution.id,
      executionName: event.execution.name,
    });
    if (out.superseded) logger.warn('approval request superseded by a later attempt', out);
    else logger.info('approval requested', out);
    return out;
  });
}

/** The Lambda entry point: dependencies from the AWS composition root, built once. */
export const handler = createHandler(getDay3Deps);
