/**
 * The workflow stack's CloudWatch dashboard (`stagegate-<stage>`, 7-day default interval),
 * built from tables: the alarm status (every alarm of the stack, 100 per widget), then one row
 * per workflow (executions, duration, its functions' errors / p95 duration / throttles), and
 * the schedule dead-letter queues with the Scheduler's target errors.
 */
import { Duration } from 'aws-cdk-lib';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import type { StagegateFunction } from '../constructs/stagegate-function.js';

type Functions = Readonly<Record<string, StagegateFunction>>;

/** What the dashboard plots (the workflow stack's public parts). */
export interface DashboardSources {
  readonly names: { readonly dashboard: string };
  readonly alarms: readonly cloudwatch.IAlarm[];
  readonly stateMachine: sfn.StateMachine;
  readonly functions: Functions;
  readonly scheduleDeadLetterQueue: sqs.IQueue;
  readonly promotion: {
    readonly stateMachine: sfn.StateMachine;
    readonly functions: Functions;
    readonly reconciliationDiscrepancies: cloudwatch.Metric;
    readonly killSwitchHalts: cloudwatch.Metric;
    readonly scheduleDeadLetterQueue: sqs.IQueue;
  };
  readonly learning: {
    readonly stateMachine: sfn.StateMachine;
    readonly functions: { readonly runLearningCycle: StagegateFunction };
    readonly scheduleDeadLetterQueue: sqs.IQueue;
  };
  readonly day3?: {
    readonly stateMachine: sfn.StateMachine;
    readonly functions: Functions;
    readonly approvalFunctions: Functions;
    readonly apiStage: apigwv2.HttpStage;
    readonly scheduleDeadLetterQueue: sqs.IQueue;
  };
}

const period = Duration.minutes(5);

/** The execution counts a widget plots, by state-machine metric. */
type ExecutionCount = 'Started' | 'Succeeded' | 'Failed' | 'TimedOut' | 'Aborted';
const COUNTS: readonly ExecutionCount[] = ['Started', 'Succeeded', 'Failed', 'TimedOut'];

function graph(
  title: string,
  width: number,
  left: cloudwatch.IMetric[],
  right?: cloudwatch.IMetric[],
): cloudwatch.GraphWidget {
  return new cloudwatch.GraphWidget({ title, width, left, ...(right ? { right } : {}) });
}

/** `machine`'s execution counts per 5 minutes. */
function executions(
  title: string,
  width: number,
  machine: sfn.StateMachine,
  counts: readonly ExecutionCount[] = COUNTS,
): cloudwatch.GraphWidget {
  return graph(
    title,
    width,
    counts.map((c) => machine[`metric${c}`]({ period, statistic: 'Sum' })),
  );
}

/** `machine`'s execution time, median and maximum. */
function duration(title: string, width: number, machine: sfn.StateMachine) {
  return graph(title, width, [
    machine.metricTime({ period, statistic: 'p50' }),
    machine.metricTime({ period, statistic: 'Maximum' }),
  ]);
}

/** Errors, p95 duration and throttles of `fns` (one line each, labelled by name), width 8 each. */
function lambdaRow(prefix: string, fns: [string, StagegateFunction][]): cloudwatch.IWidget[] {
  return [
    graph(
      `${prefix}Lambda errors`,
      8,
      fns.map(([name, f]) => f.metricErrors({ period, statistic: 'Sum', label: name })),
    ),
    graph(
      `${prefix}Lambda duration p95 (ms)`,
      8,
      fns.map(([name, f]) => f.metricDuration({ period, statistic: 'p95', label: name })),
    ),
    graph(
      `${prefix}Lambda throttles`,
      8,
      fns.map(([name, f]) => f.metricThrottles({ period, statistic: 'Sum', label: name })),
    ),
  ];
}

/** The dashboard's rows, top to bottom (see the module comment). */
function rows(w: DashboardSources): cloudwatch.IWidget[][] {
  const { promotion, learning, day3 } = w;
  const learningFn = learning.functions.runLearningCycle;
  return [
    [
      executions('Intraday cohort executions', 12, w.stateMachine),
      duration('Intraday cohort duration (ms)', 12, w.stateMachine),
    ],
    lambdaRow('', Object.entries(w.functions)),
    [
      executions('Promotion pipeline executions', 8, promotion.stateMachine, [
        ...COUNTS,
        'Aborted',
      ]),
      duration('Promotion pipeline duration (ms)', 8, promotion.stateMachine),
      graph('Reconciliation discrepancies and kill-switch halts', 8, [
        promotion.reconciliationDiscrepancies.with({ label: 'reconciliation discrepancies' }),
        promotion.killSwitchHalts.with({ label: 'kill-switch halts' }),
      ]),
    ],
    lambdaRow('Promotion pipeline ', Object.entries(promotion.functions)),
    [
      executions('Learning cycle executions', 12, learning.stateMachine),
      graph(
        'run-learning-cycle errors and duration p95 (ms)',
        12,
        [learningFn.metricErrors({ period, statistic: 'Sum', label: 'errors' })],
        [learningFn.metricDuration({ period, statistic: 'p95', label: 'duration p95' })],
      ),
    ],
    ...(day3 ? [day3Row(day3)] : []),
    [
      graph('Schedule dead-letter queue depth', 12, scheduleQueues(w)),
      graph('Scheduler target errors (all schedules)', 12, [
        scheduler.Schedule.metricAllErrors({ period, statistic: 'Sum' }),
        scheduler.Schedule.metricAllSentToDLQ({ period, statistic: 'Sum' }),
      ]),
    ],
  ];
}

function day3Row(day3: NonNullable<DashboardSources['day3']>): cloudwatch.IWidget[] {
  const fns = [...Object.entries(day3.functions), ...Object.entries(day3.approvalFunctions)];
  return [
    executions('Day-3 go/no-go executions', 8, day3.stateMachine),
    graph(
      'Day-3 and approval Lambda errors',
      8,
      fns.map(([name, f]) => f.metricErrors({ period, statistic: 'Sum', label: name })),
    ),
    graph('Approval API 4xx / 5xx', 8, [
      day3.apiStage.metricClientError({ period, statistic: 'Sum' }),
      day3.apiStage.metricServerError({ period, statistic: 'Sum' }),
    ]),
  ];
}

/** The depth of each schedule dead-letter queue, labelled by the schedules it serves. */
function scheduleQueues(w: DashboardSources): cloudwatch.IMetric[] {
  const queues: [string, sqs.IQueue][] = [
    ['cohort-start', w.scheduleDeadLetterQueue],
    ['promotion-start', w.promotion.scheduleDeadLetterQueue],
    ['learning-cycle', w.learning.scheduleDeadLetterQueue],
    ...(w.day3
      ? [['day3 + rollback monitor', w.day3.scheduleDeadLetterQueue] as [string, sqs.IQueue]]
      : []),
  ];
  return queues.map(([label, q]) =>
    q.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum', label }),
  );
}

/** The dashboard of `w` (see the module comment); call once every alarm exists. */
export function buildWorkflowDashboard(
  scope: Construct,
  w: DashboardSources,
): cloudwatch.Dashboard {
  const dashboard = new cloudwatch.Dashboard(scope, 'Dashboard', {
    dashboardName: w.names.dashboard,
    defaultInterval: Duration.days(7),
  });
  // An alarm status widget shows at most 100 alarms.
  for (let i = 0; i < w.alarms.length; i += 100) {
    dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({
        title: i === 0 ? 'Alarms' : `Alarms (${i + 1}-)`,
        alarms: [...w.alarms.slice(i, i + 100)],
        width: 24,
      }),
    );
  }
  for (const row of rows(w)) dashboard.addWidgets(...row);
  return dashboard;
}
