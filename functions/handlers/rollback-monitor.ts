/**
 * The rollback monitor of micro-live slices (EventBridge Scheduler, every few minutes in
 * market hours, plus one closing tick): rolls a slice back (flatten + demote + `rollback`
 * record with its numbers) on a drawdown or variance breach, finishes pending flattens, and on
 * the closing tick records the leverage policy's next decision with its rationale.
 *
 * Event: `{ scheduledTime?: ISO, replayAtIso?: ISO, closeOfDay?: boolean }`: the schedule
 * passes `<aws.scheduler.scheduled-time>`; the local mode passes a replayed `replayAtIso`.
 * Without either, "now" is the clock. Returns `{ atIso, slices: SliceTick[] }`.
 */
import * as z from 'zod';
import { getDay3CoreDeps } from '../composition/approval.js';
import { monitorMicroLive } from '../core/use-cases/day3-rollback.js';
import { makeHandler } from './shared/handler.js';
import { logger } from './shared/observability.js';

const EventSchema = z.object({
  scheduledTime: z.iso.datetime({ offset: true }).optional(),
  replayAtIso: z.iso.datetime({ offset: true }).optional(),
  closeOfDay: z.boolean().optional(),
});

export const handler = makeHandler('rollback-monitor', EventSchema, async (event) => {
  const deps = getDay3CoreDeps();
  const at = event.replayAtIso ?? event.scheduledTime;
  const nowMs = at ? Date.parse(at) : deps.promotion.clock.now();
  const slices = await monitorMicroLive(deps, {
    nowMs,
    replay: event.replayAtIso !== undefined,
    closeOfDay: event.closeOfDay ?? false,
  });
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
