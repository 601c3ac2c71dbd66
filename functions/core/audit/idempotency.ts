/**
 * Idempotency keys of the audit appends a workflow step makes (the `record-audit` function).
 *
 * Step Functions retries a Task with the same effective input after a Lambda error or a task
 * timeout, even when the first attempt's append was committed and only its answer was lost.
 * The key names the attempt's *step*, not the attempt: the execution (`$$.Execution.Id`, which
 * AWS and the local interpreter both provide), the state's name (a literal in the ASL, because
 * the local interpreter does not provide `$$.State`), and the content the step was asked to
 * record (a loop re-entering the state with other content is another step). Every attempt of
 * one step derives the same key; the sink commits a key at most once per stream
 * (docs/audit.md, "Idempotent appends").
 */
import * as z from 'zod';
import { canonicalJson, sha256Hex } from './record.js';

/**
 * How long a committed idempotency key is remembered, days: its item in the stream-heads table
 * carries `expiresAt` (epoch seconds, DynamoDB TTL) this long after its record's `ts`. A key's
 * memory does not depend on the stream's traffic, only on this age. The longest redelivery it
 * must outlive is a Step Functions Retry, which can only happen inside its execution, and a
 * Standard execution lasts at most one year (AWS Step Functions quotas, "Maximum execution
 * time"); the others are far shorter: EventBridge Scheduler retries an event for at most 24 h
 * (`MaximumEventAgeInSeconds` <= 86,400), Lambda asynchronous invocation for at most 6 h
 * (`MaximumEventAgeInSeconds` <= 21,600), Slack redelivers a request 3 times within about 5
 * minutes, and the console's key lives as long as one rendered page. 400 days covers all.
 */
export const AUDIT_IDEMPOTENCY_TTL_DAYS = 400;

/** The workflow step an audit append belongs to, as the ASL passes it. */
export const auditStepSchema = z.strictObject({
  /** `$$.Execution.Id`: the execution's ARN. */
  execution_id: z.string().min(1).max(2_048),
  /** The Task state's name (ASL state names are at most 80 characters). */
  state: z.string().min(1).max(80),
});
export type AuditStep = z.infer<typeof auditStepSchema>;

/**
 * The idempotency key of `step` recording `content`: hex SHA-256 of the canonical JSON of
 * `{ execution_id, state, content }` (RFC 8785 canonical form, `canonicalJson`).
 *
 * @param content the JSON the step asked to record (the draft or failure notice as received).
 * @returns 64 lowercase hex characters.
 * @throws ValidationError when `content` is not representable as JSON.
 */
export function auditIdempotencyKey(step: AuditStep, content: unknown): string {
  return sha256Hex(canonicalJson({ execution_id: step.execution_id, state: step.state, content }));
}
