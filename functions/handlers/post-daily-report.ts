/**
 * The daily report after the close (EventBridge Scheduler, weekdays after the session's
 * close, per stage): builds the report of the session that just closed and posts it to the
 * desk's Slack channel (`functions/core/use-cases/daily-report.ts`). Every outcome (posted,
 * skipped, failed) is recorded `report_posted`.
 *
 * Event: `{ scheduledTime?: ISO }` (strict: unknown keys are refused). The schedule passes
 * `<aws.scheduler.scheduled-time>`, which is logged and keys the `report_posted` record (one
 * per scheduled invocation under a redelivery); "now" is always the runtime's clock (no input
 * can set the time). Returns the outcome without the report body:
 * `{ outcome, sessionDate, channel?, ts?, reason? }`.
 */
import * as z from 'zod';
import { logger } from '../adapters/observability.js';
import { dailyReportMessage } from '../adapters/slack/daily-report-message.js';
import { getDailyReportDeps } from '../composition/daily-report.js';
import { type DailyReportDeps, postDailyReport } from '../core/use-cases/daily-report.js';
import { makeHandler, type Provide } from './shared/handler.js';

const EventSchema = z.strictObject({
  scheduledTime: z.iso.datetime({ offset: true }).optional(),
});

/** The handler over `provide`d dependencies (the AWS root below, or the local root). */
export function createHandler(provide: Provide<DailyReportDeps>) {
  return makeHandler('post-daily-report', EventSchema, async (event) => {
    const deps = await provide();
    if (event.scheduledTime) logger.appendKeys({ scheduledTime: event.scheduledTime });
    const out = await postDailyReport(deps, dailyReportMessage, event.scheduledTime ?? null);
    if (out.outcome === 'posted') {
      logger.info('daily report posted', { sessionDate: out.report.sessionDate, ts: out.ts });
      return {
        outcome: out.outcome,
        sessionDate: out.report.sessionDate,
        channel: out.channel,
        ts: out.ts,
      };
    }
    logger.info('daily report skipped', { sessionDate: out.sessionDate, reason: out.reason });
    return out;
  });
}

/** The Lambda entry point: dependencies from the AWS composition root, built once. */
export const handler = createHandler(getDailyReportDeps);
