/**
 * The rollback monitor of micro-live slices (EventBridge Scheduler, every few minutes in
 * market hours, plus one closing tick): rolls a slice back (flatten + demote + `rollback`
 * record with its numbers) on a drawdown or variance breach, finishes pending flattens, and on
 * the closing tick records the leverage policy's next decision with its rationale.
 *
 * Event: `{ scheduledTime?: ISO, closeOfDay?: boolean }` (strict: unknown keys are refused).
 * The schedule passes `<aws.scheduler.scheduled-time>`, which is only logged: "now" is always
 * the runtime's clock (no input can set the time). Returns `{ atIso, slices: SliceTick[] }`.
 */
import * as z from 'zod';
import { getDay3CoreDeps } from '../composition/approval.js';
import { monitorMicroLive } from '../core/use-cases/day3-rollback.js';
import { makeHandler } from './shared/handler.js';
import { logger } from './shared/observability.js';

const EventSchema = z.strictObject({
  scheduledTime: z.iso.datetime({ offset: true }).optional(),
  closeOfDay: z.boolean().optional(),
});

export const handler = makeHandler('rollback-monitor', EventSchema, async (event) => {
  const deps = getDay3CoreDeps();
  const nowMs = deps.promotion.clock.now();
  if (event.scheduledTime) logger.appendKeys({ scheduledTime: event.scheduledTime });
  const slices = await monitorMicroLive(deps, { closeOfDay: event.closeOfDay ?? false });
  for (const s of slices) {
    logger.info('micro-live slice checked', {
      sliceId: s.sliceId,
      action: s.action,
      status: s.status,
      equityUsd: s.equityUsd,
      leverage: s.leverage?.next,
    });
  }
  return { atIso: new Date(nowMs).toISOString(), slices };
});
