/**
 * Powertools logger shared by every handler module (created once per cold start). Log level
 * from POWERTOOLS_LOG_LEVEL; service name from POWERTOOLS_SERVICE_NAME. Secrets never go
 * through it: handlers log ids and figures, not events wholesale.
 */
import { Console } from 'node:console';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

export const logger = new Logger({ serviceName: 'stagegate' });

/**
 * Sends every line of the shared logger (all levels) to `stream`. The local runtime passes
 * `process.stderr`: the CLI's stdout carries the run's story or JSON only (README, "Exit codes
 * and output"). Powertools has no public option for its output stream, so its `console` member
 * is replaced (as its own constructor builds it: one Console, `trace` printed like `log`).
 */
export function routeLogsTo(stream: NodeJS.WritableStream): void {
  const target = new Console({ stdout: stream, stderr: stream });
  target.trace = (message?: unknown, ...rest: unknown[]) => target.log(message, ...rest);
  (logger as unknown as { console: Console }).console = target;
}

/**
 * Powertools metrics (CloudWatch EMF), namespace from POWERTOOLS_METRICS_NAMESPACE, dimension
 * `service=stagegate`, flushed once per invocation by `makeHandler`. Disabled locally and in
 * tests (POWERTOOLS_METRICS_DISABLED). Every metric the handlers add (`addMetric`):
 * - `CohortRuntimeMs` (milliseconds; run-cohort), `AgentBars` (count; run-cohort,
 *   run-cohort-shard);
 * - `BankrollUtilization`, `ParentMaxDrawdownPercent` (percent), `IdleAgents` (count;
 *   score-cohort);
 * - `GateFailures` (count of failed gates; evaluate-gates);
 * - `PaperOrders` (count of orders a tick added to the session; paper-tick),
 *   `PaperSessionHalts` (1 per session halt: paper-tick when a tick halts it,
 *   finish-paper-session when the session came to it with no halt and it halts it: the
 *   kill-switch halt read at settle, or its settle step's halt for the kill switch's flatten,
 *   shares left at the close or its cancel failing; never for a session a tick halted);
 * - `ReconciliationDiscrepancies` (count; reconcile-promotion; finish-paper-session 0 or 1);
 * - `InFlightRecovered` (count of abandoned runs recovered; recover-in-flight);
 * - `AuditDeadLetters` (1 per audit record dead-lettered; the AWS audit sink, composition/stores);
 * - `WorkflowStarts` (dimensions `workflow`, `market`; the first step of every execution),
 *   `RollbackMonitorTicks` (dimension `market`; rollback-monitor), `DailyReportRuns`
 *   (dimension `market`; post-daily-report): the did-not-run alarms' counts (docs/deploy.md).
 * The `ReconciliationDiscrepancies` and `KillSwitchHalts` alarms of the promotion pipeline read
 * log metric filters on the handlers' log lines instead (lib/constructs/promotion-pipeline.ts).
 */
export const metrics = new Metrics({ serviceName: 'stagegate' });
export { MetricUnit };

/** The narrow logging surface helpers may depend on. */
export type NarrowLogger = Pick<Logger, 'info' | 'warn' | 'error' | 'debug'>;
