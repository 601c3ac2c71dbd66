/**
 * The one way a stagegate schedule starts a state machine: an EventBridge Scheduler schedule
 * (flexible time window off, in the schedule's time zone) whose Step Functions
 * `StartExecution` target retries 3 times over at most 30 minutes and then dead-letters the
 * start to its own SQS queue (SQS-managed encryption, TLS only, 14-day retention; the workflow
 * stack alarms on its depth). The queue's cdk-nag finding AwsSolutions-SQS3 ("no DLQ of its
 * own") is acknowledged: it IS the dead-letter queue.
 *
 * Used by the learning cycle, the session ingestion and the audit compaction.
 */
import { Duration, TimeZone } from 'aws-cdk-lib';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { acknowledgeNag } from './nag.js';

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
  /** Construct ids (kept stable: they name the CloudFormation resources). */
  readonly ids: { readonly schedule: string; readonly deadLetterQueue: string };
  /** Physical name of the dead-letter queue (`stagegate-dev-learning-schedule-dlq`). */
  readonly deadLetterQueueName: string;
  /**
   * The execution input: `{source: "schedule"}`, plus `scheduledTime` (the scheduler's
   * `<aws.scheduler.scheduled-time>`, UTC ISO-8601) when `withScheduledTime`, plus `input`.
   */
  readonly withScheduledTime: boolean;
  /** More fixed fields of the execution input (e.g. `{ market: 'crypto' }`). */
  readonly input?: Readonly<Record<string, string>>;
}

/** The schedule and its dead-letter queue (see the module comment). */
export function scheduledStart(
  scope: Construct,
  props: ScheduledStartProps,
): { readonly schedule: scheduler.Schedule; readonly deadLetterQueue: sqs.Queue } {
  const deadLetterQueue = new sqs.Queue(scope, props.ids.deadLetterQueue, {
    queueName: props.deadLetterQueueName,
    retentionPeriod: Duration.days(14),
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
  });
  acknowledgeNag(
    deadLetterQueue,
    'AwsSolutions-SQS3',
    `This queue is itself the dead-letter queue of the ${props.name} schedule target; its depth is alarmed.`,
  );
  const schedule = new scheduler.Schedule(scope, props.ids.schedule, {
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
