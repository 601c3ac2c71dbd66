/**
 * The one way a stagegate schedule starts a state machine: an EventBridge Scheduler schedule
 * (flexible time window off, in the schedule's time zone) whose Step Functions
 * `StartExecution` target retries 3 times over at most 30 minutes and then dead-letters the
 * start to its own SQS queue (SQS-managed encryption, TLS only, 14-day retention; the workflow
 * stack alarms on its depth). The queue's cdk-nag finding AwsSolutions-SQS3 ("no DLQ of its
 * own") is acknowledged: it IS the dead-letter queue.
 *
 * Used by the learning cycle, the session ingestion, the audit compaction, the Day-3 go/no-go
 * and the crypto stage (the last two pass a dead-letter queue they share with other targets).
 *
 * {@link rollbackTickSchedules} is the one way the rollback monitor's ticks (equity and crypto)
 * are scheduled: Lambda `Invoke` targets under one scheduler role, retried twice within the
 * tick's slot, then dead-lettered.
 */
import { Duration, Stack, TimeZone } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import type { RollbackMonitorTick } from '../config/schedules.js';
import { acknowledgeNag, wildcardResourceFinding } from './nag.js';
import type { StagegateFunction } from './stagegate-function.js';

export interface ScheduledStartProps {
  /** The state machine the schedule starts. */
  readonly machine: sfn.IStateMachine;
  /**
   * When: an EventBridge Scheduler expression (`cron(...)`, `rate(...)`), whether it is
   * enabled, and the IANA time zone it is read in (`UTC`, `America/New_York`).
   */
  readonly schedule: {
    readonly expression: string;
    readonly enabled: boolean;
    readonly timezone: string;
  };
  /** The environment's schedule group. */
  readonly group: scheduler.IScheduleGroup;
  /** Schedule name inside the group (`learning-cycle`). */
  readonly name: string;
  readonly description: string;
  /** Construct id of the schedule (kept stable: it names the CloudFormation resource). */
  readonly id: string;
  /**
   * The dead-letter queue: an existing one (shared with other targets), or the construct id
   * and physical name (`stagegate-dev-learning-schedule-dlq`) of a new one for this schedule.
   */
  readonly deadLetterQueue: sqs.Queue | { readonly id: string; readonly name: string };
  /**
   * The execution input: `{source: "schedule"}`, plus `scheduledTime` (the scheduler's
   * `<aws.scheduler.scheduled-time>`, UTC ISO-8601) when `withScheduledTime`, plus `input`.
   */
  readonly withScheduledTime: boolean;
  /** More fixed fields of the execution input (e.g. `{ market: 'crypto' }`). */
  readonly input?: Readonly<Record<string, unknown>>;
}

/** The schedule and its dead-letter queue (see the module comment). */
export function scheduledStart(
  scope: Construct,
  props: ScheduledStartProps,
): { readonly schedule: scheduler.Schedule; readonly deadLetterQueue: sqs.Queue } {
  const deadLetterQueue =
    props.deadLetterQueue instanceof sqs.Queue
      ? props.deadLetterQueue
      : deadLetterQueueOf(scope, props.deadLetterQueue, `the ${props.name} schedule target`);
  const schedule = new scheduler.Schedule(scope, props.id, {
    scheduleName: props.name,
    scheduleGroup: props.group,
    description: props.description,
    schedule: scheduler.ScheduleExpression.expression(
      props.schedule.expression,
      TimeZone.of(props.schedule.timezone),
    ),
    timeWindow: scheduler.TimeWindow.off(),
    enabled: props.schedule.enabled,
    target: new schedulerTargets.StepFunctionsStartExecution(props.machine, {
      input: scheduler.ScheduleTargetInput.fromObject(
        props.withScheduledTime
          ? {
              source: 'schedule',
              scheduledTime: scheduler.ContextAttribute.scheduledTime,
              ...props.input,
            }
          : { source: 'schedule', ...props.input },
      ),
      deadLetterQueue,
      retryAttempts: 3,
      // A start that cannot be delivered within 30 min is dead-lettered (and alarmed); the
      // next slot or a manual start (docs/runbook.md) catches up.
      maxEventAge: Duration.minutes(30),
    }),
  });
  return { schedule, deadLetterQueue };
}

/**
 * A schedule dead-letter queue (SQS-managed encryption, TLS only, 14 days) whose cdk-nag
 * SQS3 finding is acknowledged: it IS the dead-letter queue of `what`.
 */
export function deadLetterQueueOf(
  scope: Construct,
  queue: { readonly id: string; readonly name: string },
  what: string,
): sqs.Queue {
  const q = new sqs.Queue(scope, queue.id, {
    queueName: queue.name,
    retentionPeriod: Duration.days(14),
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
  });
  acknowledgeNag(
    q,
    'AwsSolutions-SQS3',
    `This queue is itself the dead-letter queue of ${what}; its depth is alarmed.`,
  );
  return q;
}

export interface RollbackTickSchedulesProps {
  /** The ticks (`stageSchedules(config).rollbackMonitor` or `.crypto.rollbackMonitor`). */
  readonly ticks: readonly RollbackMonitorTick[];
  /** The rollback monitor (one function serves both markets). */
  readonly monitor: StagegateFunction;
  readonly group: scheduler.IScheduleGroup;
  /** Where undeliverable ticks go (shared with the same market's go/no-go start). */
  readonly deadLetterQueue: sqs.IQueue;
  /** The stage's `schedules.rollbackMonitor.everyMinutes` (a tick's slot). */
  readonly everyMinutes: number;
  /** Construct id and description of the scheduler role that invokes the monitor. */
  readonly role: { readonly id: string; readonly description: string };
  /** What the ticks watch, for the schedules' descriptions (`dev micro-live slices`). */
  readonly watches: string;
}

/**
 * The rollback monitor's ticks: one schedule per tick (construct id = schedule name), each
 * invoking the monitor with `{scheduledTime, market?, closeOfDay?}` (`market` only when it is
 * not `equity-usa`, the handler's default), retried twice and dead-lettered once older than
 * its slot. One role invokes them all; its grant's `<function>:*` (versions and aliases of the
 * one function) is acknowledged for cdk-nag.
 */
export function rollbackTickSchedules(
  scope: Construct,
  props: RollbackTickSchedulesProps,
): scheduler.Schedule[] {
  const { monitor } = props;
  const invoker = new iam.Role(scope, props.role.id, {
    assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
      conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(scope).account } },
    }),
    description: props.role.description,
  });
  const schedules = props.ticks.map(
    (tick) =>
      new scheduler.Schedule(scope, tick.name, {
        scheduleName: tick.name,
        scheduleGroup: props.group,
        description: `Rollback monitor of the ${props.watches} (${tick.expression} ${tick.timezone}${tick.closeOfDay ? ', closing tick' : ''})`,
        schedule: scheduler.ScheduleExpression.expression(
          tick.expression,
          TimeZone.of(tick.timezone),
        ),
        timeWindow: scheduler.TimeWindow.off(),
        enabled: tick.enabled,
        target: new schedulerTargets.LambdaInvoke(monitor, {
          role: invoker,
          input: scheduler.ScheduleTargetInput.fromObject({
            scheduledTime: scheduler.ContextAttribute.scheduledTime,
            ...(tick.market === 'equity-usa' ? {} : { market: tick.market }),
            ...(tick.closeOfDay ? { closeOfDay: true } : {}),
          }),
          deadLetterQueue: props.deadLetterQueue,
          retryAttempts: 2,
          // A tick older than its slot (`everyMinutes`) is superseded by the next one.
          maxEventAge: Duration.minutes(Math.max(1, props.everyMinutes - 1)),
        }),
      }),
  );
  const invokePolicy = invoker.node.tryFindChild('DefaultPolicy');
  if (invokePolicy) {
    acknowledgeNag(
      invokePolicy,
      wildcardResourceFinding(invokePolicy, `${monitor.functionArn}:*`),
      'The scheduler target grant (grantInvoke) covers the rollback monitor and its qualified ARNs ("<function>:*", versions and aliases) of that one function only; the schedules invoke the unqualified function.',
    );
  }
  return schedules;
}
