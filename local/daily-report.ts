/**
 * The local firing of the daily report (the deployed `daily-report` schedule, issue 15): the
 * SAME handler (`functions/handlers/post-daily-report.ts`) and use case over the local stack,
 * posting to the terminal (and to `STAGEGATE_SLACK_WEBHOOK_URL` when set) instead of the Slack
 * Web API. The time is the stack's clock (the replay sets it to the firing), as in AWS.
 */
import { buildDailyReportDeps } from '../functions/composition/daily-report.js';
import { dailyReportKeys } from '../functions/core/use-cases/daily-report.js';
import { createHandler } from '../functions/handlers/post-daily-report.js';
import { chatOpsConfigOf } from '../lib/config/runtime-env.js';
import { localLambdaContext } from './asl-runner.js';
import { ConsoleReportChannel } from './console-notifier.js';
import type { LocalStack } from './local-stack.js';

/** What one firing did: `posted` (with the session) or `skipped` (with the reason). */
export interface LocalDailyReport {
  readonly outcome: 'posted' | 'skipped';
  readonly market: 'equity-usa' | 'crypto';
  readonly sessionDate: string | null;
  readonly channel?: string;
  readonly reason?: string;
}

/**
 * Runs the daily-report handler once at the stack's clock and prints its outcome.
 * @param firing.iso the firing's time (UTC ISO-8601; logged only, the clock decides);
 *   `stamp` how the replay prints it; `crypto` the replay's market (the event's `market`, as
 *   the deployed `crypto-daily-report` schedule sends it).
 * @throws what the handler throws (a failed post is recorded `report_posted` `failed` first).
 */
export async function runLocalDailyReport(
  stack: Pick<LocalStack, 'runtime' | 'config'>,
  firing: { readonly iso: string; readonly stamp: string; readonly crypto: boolean },
  write: (text: string) => void,
): Promise<LocalDailyReport> {
  write(`\n[${firing.stamp}] schedule daily-report\n`);
  const market = firing.crypto ? ('crypto' as const) : ('equity-usa' as const);
  const channel = new ConsoleReportChannel(
    (line) => write(`  ${line}\n`),
    process.env.STAGEGATE_SLACK_WEBHOOK_URL || undefined,
  );
  const deps = buildDailyReportDeps(stack.runtime, chatOpsConfigOf(stack.config), channel);
  const handler = createHandler(() => deps);
  const out = (await handler(
    { scheduledTime: firing.iso, market },
    localLambdaContext('PostDailyReport', 120_000),
  )) as LocalDailyReport;
  const kept = out.sessionDate ? dailyReportKeys(market, out.sessionDate).artifact : '';
  write(
    out.outcome === 'posted'
      ? `  daily report ${out.sessionDate}: posted (${out.channel}); kept as ${kept}\n`
      : `  daily report: skipped (${out.reason})\n`,
  );
  return out;
}
