/**
 * Step "VerifyAuditDay" of the audit-compaction state machine: re-verifies the hash chains of
 * one UTC day of this stage's audit records before the day is compacted to Parquet.
 *
 * Event: `{ request: { source?, scheduledTime? | date? }, execution: { id, name } }`.
 * Returns `{ date, environment, records, streams }` (`records: 0`: nothing to compact).
 * Errors: ValidationError (no valid day), AuditChainBrokenError (the day does not verify),
 * TransientError (S3 keeps failing).
 */
import * as z from 'zod';
import { S3AuditReader } from '../adapters/audit/s3-audit-reader.js';
import { logger } from '../adapters/observability.js';
import type { Runtime } from '../composition/runtime.js';
import { getRuntime, makeS3Client } from '../composition/runtime.js';
import { verifyAuditDay } from '../core/use-cases/audit-compaction.js';
import { makeHandler, type Provide } from './shared/handler.js';

const EventSchema = z.object({
  request: z.unknown(),
  execution: z.object({ id: z.string().min(1), name: z.string().min(1) }),
});

let reader: S3AuditReader | undefined;

/** The handler over `provide`d dependencies (the AWS root below, or the local root). */
export function createHandler(provide: Provide<Runtime>) {
  return makeHandler('verify-audit-day', EventSchema, async (event) => {
    const rt = await provide();
    reader ??= new S3AuditReader({
      s3: makeS3Client(rt.env, rt.credentials),
      bucket: rt.env.AUDIT_BUCKET,
    });
    const out = await verifyAuditDay({ reader, environment: rt.env.STAGE }, event.request);
    logger.info('audit day verified', { ...out, execution: event.execution.name });
    return out;
  });
}

/** The Lambda entry point: dependencies from the AWS composition root, built once. */
export const handler = createHandler(getRuntime);
