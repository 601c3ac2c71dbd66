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
 * How many recent idempotency keys a stream remembers (in its head item, about 200 bytes
 * each). Streams of workflow steps are per execution and their steps run one after another,
 * so a retry only ever needs the newest key; the window covers shared streams too.
 */
export const AUDIT_IDEMPOTENCY_WINDOW = 16;

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
