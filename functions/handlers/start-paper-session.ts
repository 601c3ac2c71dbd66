/**
 * Step "StartSession" of the paper session: the promoted genome's session from now (the
 * promotion window) to the calendar close, with its capital slice; records `paper_decision`
 * (session_started).
 *
 * Event: `{ promotion, step? }` (`step`: its records are appended once per step, shared/audit-step.ts). Returns `{ state, waitSeconds, done }`.
 */
import { logger } from '../adapters/observability.js';
import { getPaperSessionDeps } from '../composition/paper-session.js';
import { type PaperSessionDeps, startPaperSession } from '../core/use-cases/paper-session.js';
import { withAuditStep } from './shared/audit-step.js';
import { makeHandler, type Provide } from './shared/handler.js';
import { PromotionStepEventSchema } from './shared/promotion-events.js';

/** The handler over `provide`d dependencies (the AWS root below, or the local root). */
export function createHandler(provide: Provide<PaperSessionDeps>) {
  return makeHandler('start-paper-session', PromotionStepEventSchema, async (event) => {
    const deps = withAuditStep(await provide(), event);
    logger.appendKeys({ promotionId: event.promotion.promotionId });
    return startPaperSession(deps, event);
  });
}

/** The Lambda entry point: dependencies from the AWS composition root, built once. */
export const handler = createHandler(getPaperSessionDeps);
