/**
 * Step "VerifyAuditDay" of the audit-compaction state machine: verifies one UTC day of this
 * stage's audit records (hash chains and completeness against the neighbouring day manifests,
 * the stream heads and the anchor) and anchors it (writes the day manifest, moves the anchor
 * in the stream-head table) before the day is compacted to Parquet. The same core use case as
 * the local `audit compact` (functions/core/use-cases/audit-compaction.ts).
 *
 * Event: `{ request: { source?, scheduledTime? | date? }, execution: { id, name } }`.
 * Returns `{ date, environment, records, streams, manifestKey }` (`records: 0`: nothing to
 * compact; `manifestKey: null`: nothing newly anchored).
 * Errors: ValidationError (no valid day), AuditChainBrokenError (the day does not verify),
 * TransientError (S3 keeps failing).
 */
import * as z from 'zod';
import { AuditDayAnchors } from '../adapters/audit/day-anchors.js';
import { S3AuditReader } from '../adapters/audit/s3-audit-reader.js';
import { logger } from '../adapters/observability.js';
import type { StoreRuntime } from '../composition/stores.js';
import { getStoreRuntime, makeDocumentClient, makeS3Client } from '../composition/stores.js';
import type { AuditTrailDeps } from '../core/use-cases/audit-compaction.js';
import { verifyAuditDay } from '../core/use-cases/audit-compaction.js';
import { makeHandler, type Provide } from './shared/handler.js';

const EventSchema = z.object({
  request: z.unknown(),
  execution: z.object({ id: z.string().min(1), name: z.string().min(1) }),
});

let deps: Omit<AuditTrailDeps, 'environment'> | undefined;

/** The handler over `provide`d dependencies (the AWS root below, or the local root). */
export function createHandler(provide: Provide<StoreRuntime>) {
  return makeHandler('verify-audit-day', EventSchema, async (event) => {
    const rt = await provide();
    if (!deps) {
      const s3 = makeS3Client(rt.env, rt.credentials);
      const bucket = rt.env.AUDIT_BUCKET;
      deps = {
        reader: new S3AuditReader({ s3, bucket }),
        anchors: new AuditDayAnchors({
          s3,
          bucket,
          dynamo: makeDocumentClient(rt.env, rt.credentials),
          tableName: rt.env.TABLE_NAME,
        }),
      };
    }
    const out = await verifyAuditDay({ ...deps, environment: rt.env.STAGE }, event.request);
    logger.info('audit day verified', { ...out, execution: event.execution.name });
    return out;
  });
}

/** The Lambda entry point: dependencies from the AWS composition root, built once. */
export const handler = createHandler(getStoreRuntime);
