/**
 * Step "CheckPromotionWindow": is "now" inside today's promotion window (America/New_York)?
 *
 * Event: `{ promotion }`. Returns `{ status: 'open'|'not_yet'|'closed', nowIso,
 * opensAtIso, closesAtIso, waitSeconds }`; the state machine waits `waitSeconds` and asks
 * again while `not_yet`, and records an expired promotion when `closed`.
 */
import { getPromotionDeps } from '../composition/promotion.js';
import { checkPromotionWindow } from '../core/use-cases/promotion.js';
import { makeHandler } from './shared/handler.js';
import { PromotionStepEventSchema } from './shared/promotion-events.js';

export const handler = makeHandler('check-promotion-window', PromotionStepEventSchema, async () =>
  checkPromotionWindow(getPromotionDeps()),
);
