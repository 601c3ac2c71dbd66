/**
 * Step "CheckPromotionWindow": is "now" inside today's promotion window of the promotion's
 * market (America/New_York for US equities, UTC for crypto)?
 *
 * Event: `{ promotion }`. Returns `{ status: 'open'|'not_yet'|'closed', nowIso,
 * opensAtIso, closesAtIso, waitSeconds }`; the state machine waits `waitSeconds` and asks
 * again while `not_yet`, and records an expired promotion when `closed`.
 */

import { getPromotionDeps } from '../composition/promotion.js';
import type { PromotionDeps } from '../core/use-cases/promotion.js';
import { checkPromotionWindow } from '../core/use-cases/promotion-stage.js';
import { makeHandler, type Provide } from './shared/handler.js';
import { PromotionStepEventSchema } from './shared/promotion-events.js';

/** The handler over `provide`d dependencies (the AWS root below, or the local root). */
export function createHandler(provide: Provide<PromotionDeps>) {
  return makeHandler('check-promotion-window', PromotionStepEventSchema, async (event) =>
    checkPromotionWindow(await provide(), event.promotion),
  );
}

/** The Lambda entry point: dependencies from the AWS composition root, built once. */
export const handler = createHandler(getPromotionDeps);
