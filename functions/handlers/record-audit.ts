/**
 * Step "RecordAudit" and every Catch path's "RecordRejection"/"RecordFailure": appends one
 * record to the append-only, hash-chained audit trail.
 *
 * Event: `{ draft: { kind, actor, stream, subject, payload } }` or `{ failure: FailureNotice }`
 * (a Catch output turned into an `input_rejected` / `workflow_failed` record). The environment
 * is this deployment's stage. Returns `{ id, stream, seq, hash }`. A draft that fails the
 * schema is dead-lettered and throws ValidationError; a storage failure after bounded
 * retries throws AuditWriteError (no decision without its record).
 */
import * as z from 'zod';
import { logger } from '../adapters/observability.js';
import type { StoreRuntime } from '../composition/stores.js';
import { getStoreRuntime } from '../composition/stores.js';
import { FailureNoticeSchema, failureDraft } from '../core/use-cases/record-failure.js';
import type { AuditDraft } from '../ports/audit.js';
import { makeHandler, type Provide } from './shared/handler.js';

const EventSchema = z.union([
  z.object({ draft: z.record(z.string(), z.unknown()) }),
  z.object({ failure: FailureNoticeSchema }),
]);

/** The handler over `provide`d dependencies (the AWS root below, or the local root). */
export function createHandler(provide: Provide<StoreRuntime>) {
  return makeHandler('record-audit', EventSchema, async (event) => {
    const rt = await provide();
    const draft = 'draft' in event ? event.draft : failureDraft(event.failure);
    // Untyped JSON from the ASL, asserted as a draft only here: the sink validates it with the
    // per-kind audit schema (and dead-letters it when invalid) before anything is chained.
    const record = await rt.audit.append({ ...draft, environment: rt.env.STAGE } as AuditDraft);
    logger.info('audit appended', { kind: record.kind, stream: record.stream, seq: record.seq });
    return { id: record.id, stream: record.stream, seq: record.seq, hash: record.hash };
  });
}

/** The Lambda entry point: dependencies from the AWS composition root, built once. */
export const handler = createHandler(getStoreRuntime);
