/**
 * The daily report after the close (EventBridge Scheduler, per stage and market: equity
 * weekdays after the NYSE close, crypto every day after the UTC day's ingestion chain):
 * builds the report of the market's session that just closed and posts it to the desk's
 * Slack channel (`functions/core/use-cases/daily-report.ts`). Every outcome (posted, skipped,
 * failed) is recorded `report_posted`.
 *
 * Event: `{ scheduledTime?: ISO, market?: 'equity-usa' | 'crypto' }` (strict: unknown keys
 * are refused). `market` picks the report (calendar, records, keys); absent = `equity-usa`,
 * what every event sent before reports had a market meant (a schedule firing during a deploy,
 * a redriven dead letter). The schedule passes `<aws.scheduler.scheduled-time>`, which is
 * logged and keys the `report_posted` record (one per scheduled invocation under a
 * redelivery); "now" is always the runtime's clock (no input can set the time). Returns the
 * outcome without the report body: `{ outcome, market, sessionDate, channel?, ts?, reason? }`.
 *
 * Metric: `DailyReportRuns` (count, EMF, dimension `market`) once per run whose event was
 * valid, counted before the dependencies are built or the report runs (a run that then fails
 * still counts): each market's did-not-run alarm counts it (the function serves both markets).
 */
import * as z from 'zod';
import { logger, MetricUnit, metrics } from '../adapters/observability.js';
import { dailyReportMessage } from '../adapters/slack/daily-report-message.js';
import { getDailyReportDeps } from '../composition/daily-report.js';
import {
  type DailyReportDeps,
  dailyReportDepsFor,
  postDailyReport,
} from '../core/use-cases/daily-report.js';
import { makeHandler, type Provide } from './shared/handler.js';

const EventSchema = z.strictObject({
  scheduledTime: z.iso.datetime({ offset: true }).optional(),
  /** The market whose session is reported (`equity-usa` when absent). */
  market: z.enum(['equity-usa', 'crypto']).optional(),
});

/** The EMF metric of one run, dimension `market` (the did-not-run alarms read it). */
export const DAILY_REPORT_RUNS_METRIC = 'DailyReportRuns';

/** The handler over `provide`d dependencies (the AWS root below, or the local root). */
export function createHandler(provide: Provide<DailyReportDeps>) {
  return makeHandler('post-daily-report', EventSchema, async (event) => {
    const market = event.market ?? 'equity-usa';
    logger.appendKeys({
      market,
      ...(event.scheduledTime ? { scheduledTime: event.scheduledTime } : {}),
    });
    // Counted before anything can fail: a run whose dependencies fail still ran (its error
    // alarms), and must not also read as "did not run".
    metrics
      .singleMetric()
      .addDimension('market', market)
      .addMetric(DAILY_REPORT_RUNS_METRIC, MetricUnit.Count, 1);
    const deps = dailyReportDepsFor(await provide(), market);
    const out = await postDailyReport(deps, dailyReportMessage, event.scheduledTime ?? null);
    if (out.outcome === 'posted') {
      logger.info('daily report posted', { sessionDate: out.report.sessionDate, ts: out.ts });
      return {
        outcome: out.outcome,
        market,
        sessionDate: out.report.sessionDate,
        channel: out.channel,
        ts: out.ts,
      };
    }
    logger.info('daily report skipped', { sessionDate: out.sessionDate, reason: out.reason });
    return { ...out, market };
  });
}

/** The Lambda entry point: dependencies from the AWS composition root, built once. */
export const handler = createHandler(getDailyReportDeps);
