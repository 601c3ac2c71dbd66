/**
 * Step "RecordAudit" and every Catch path's "RecordRejection"/"RecordFailure": appends one
 * record to the append-only, hash-chained audit trail.
 *
 * Event: `{ draft: { kind, actor, stream, subject, payload } }` or `{ failure: FailureNotice }`
 * (a Catch output turned into an `input_rejected` / `workflow_failed` record), each with an
 * optional `step: { execution_id: $$.Execution.Id, state: "<state name>" }`. With `step`, the
 * append is idempotent: every attempt of one step (a Step Functions Retry re-sends the same
 * input) derives the same key (core/audit/idempotency.ts), and a key already committed on the
 * stream returns its record instead of appending a second one. The environment is this
 * deployment's stage. Returns `{ id, stream, seq, hash }`. A draft that fails the
 * schema is dead-lettered and throws ValidationError; a storage failure after bounded
 * retries throws AuditWriteError (no decision without its record).
 */
import * as z from 'zod';
import { logger } from '../adapters/observability.js';
import type { StoreRuntime } from '../composition/stores.js';
import { getStoreRuntime } from '../composition/stores.js';
import { auditIdempotencyKey, auditStepSchema } from '../core/audit/idempotency.js';
import { FailureNoticeSchema, failureDraft } from '../core/use-cases/record-failure.js';
import { makeHandler, type Provide } from './shared/handler.js';

const EventSchema = z.union([
  z.object({ draft: z.record(z.string(), z.unknown()), step: auditStepSchema.optional() }),
  z.object({ failure: FailureNoticeSchema, step: auditStepSchema.optional() }),
]);

/** The handler over `provide`d dependencies (the AWS root below, or the local root). */
export function createHandler(provide: Provide<StoreRuntime>) {
  return makeHandler('record-audit', EventSchema, async (event) => {
    const rt = await provide();
    const draft = 'draft' in event ? event.draft : failureDraft(event.failure);
    // Untyped JSON from the ASL: the sink validates it with the per-kind audit schema (and
    // dead-letters it when invalid) before anything is chained.
    const full: Record<string, unknown> = { ...draft, environment: rt.env.STAGE };
    const key = event.step
      ? auditIdempotencyKey(
          event.step,
          'draft' in event ? { draft: event.draft } : { failure: event.failure },
        )
      : null;
    const r = await rt.audit.appendUntyped(full, key);
    logger.info(r.replayed ? 'audit append replayed' : 'audit appended', {
      kind: full.kind,
      stream: r.stream,
      seq: r.seq,
      ...(event.step ? { state: event.step.state } : {}),
    });
    return { id: r.id, stream: r.stream, seq: r.seq, hash: r.hash };
  });
}

/** The Lambda entry point: dependencies from the AWS composition root, built once. */
export const handler = createHandler(getStoreRuntime);
