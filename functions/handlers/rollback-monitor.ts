/**
 * The rollback monitor of micro-live slices (EventBridge Scheduler, every few minutes in
 * market hours, plus one closing tick): rolls a slice back (flatten + demote + `rollback`
 * record with its numbers) on a drawdown or variance breach, finishes pending flattens, and on
 * the closing tick records the leverage policy's next decision with its rationale.
 *
 * Event: `{ scheduledTime?: ISO, closeOfDay?: boolean, market?: 'equity-usa' | 'crypto' }`
 * (strict: unknown keys are refused): a tick watches the slices of its `market` only (the
 * equity ticks in New York session hours, the crypto ticks every day in UTC).
 * The schedule passes `<aws.scheduler.scheduled-time>`, which is only logged: "now" is always
 * the runtime's clock (no input can set the time). Returns `{ atIso, slices: SliceTick[] }`.
 * Metric: `RollbackMonitorTicks` (count, dimension `market`) once per completed tick.
 */
import * as z from 'zod';
import { logger, MetricUnit, metrics } from '../adapters/observability.js';
import { getDay3CoreDeps } from '../composition/day3.js';
import type { Day3Deps } from '../core/use-cases/day3.js';
import { monitorMicroLive } from '../core/use-cases/day3-rollback.js';
import { makeHandler, type Provide } from './shared/handler.js';

const EventSchema = z.strictObject({
  scheduledTime: z.iso.datetime({ offset: true }).optional(),
  closeOfDay: z.boolean().optional(),
  /** The market whose slices this tick watches (`equity-usa` when absent). */
  market: z.enum(['equity-usa', 'crypto']).optional(),
});

/**
 * EMF metric of one completed tick, dimensions `service=stagegate` and `market` (`equity-usa`
 * or `crypto`): the crypto ticks' did-not-run alarm reads it (the function serves both markets).
 */
export const ROLLBACK_MONITOR_TICKS_METRIC = 'RollbackMonitorTicks';

/** The handler over `provide`d dependencies (the AWS root below, or the local root). */
export function createHandler(provide: Provide<Day3Deps>) {
  return makeHandler('rollback-monitor', EventSchema, async (event) => {
    const deps = await provide();
    const nowMs = deps.promotion.clock.now();
    if (event.scheduledTime) logger.appendKeys({ scheduledTime: event.scheduledTime });
    const market = event.market ?? 'equity-usa';
    const slices = await monitorMicroLive(deps, { closeOfDay: event.closeOfDay ?? false, market });
    // One completed tick of this market: the market's did-not-run alarm counts these per UTC day.
    metrics
      .singleMetric()
      .addDimension('market', market)
      .addMetric(ROLLBACK_MONITOR_TICKS_METRIC, MetricUnit.Count, 1);
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
}

/** The Lambda entry point: dependencies from the AWS composition root, built once. */
export const handler = createHandler(getDay3CoreDeps);
