/**
 * Step "IngestSession" of the session-ingestion state machine: pulls the closed session's
 * minute bars and quotes from Alpaca, checks their quality, stores the usable symbols in the
 * LEAN tree the cohorts read and returns the report (`functions/core/use-cases/session-ingestion.ts`).
 *
 * Event: `{ request: { source, scheduledTime? | sessionDate? }, execution: { id, name } }`.
 * Returns `IngestionResult` (`{ skipped: true, reason }` before the close, on a closed day or
 * for a session already ingested).
 * Errors: ValidationError (request, INGESTION_CONFIG_JSON), UnknownSymbolError, BrokerAuthError
 * (keys), TransientError (after the adapter's retries; the state machine retries it too).
 */
import * as z from 'zod';
import { logger } from '../adapters/observability.js';
import { getIngestionDeps } from '../composition/ingestion.js';
import { type IngestionDeps, ingestSession } from '../core/use-cases/session-ingestion.js';
import { makeHandler, type Provide } from './shared/handler.js';

const EventSchema = z.object({
  request: z.unknown(),
  execution: z.object({ id: z.string().min(1), name: z.string().min(1) }),
});

/** The handler over `provide`d dependencies (the AWS root below, or the local root). */
export function createHandler(provide: Provide<IngestionDeps>) {
  return makeHandler('ingest-session', EventSchema, async (event) => {
    const deps = await provide();
    logger.appendKeys({ executionArn: event.execution.id });
    const out = await ingestSession(deps, event.request);
    if (out.skipped) logger.info('ingestion skipped', { reason: out.reason });
    else {
      logger.info('session ingested', {
        sessionDate: out.sessionDate,
        included: out.included,
        excluded: out.excluded.map((e) => e.symbol),
        requests: out.requests,
        bytesStored: out.bytesStored,
      });
    }
    return out;
  });
}

/** The Lambda entry point: dependencies from the AWS composition root, built once. */
export const handler = createHandler(getIngestionDeps);
