/**
 * The crypto stage's schedules (`schedules.crypto`, every one evaluated in UTC, every day),
 * deployed when `cohort.cryptoSymbols` is not empty. They start the SAME state machines and
 * invoke the SAME rollback monitor as the equity schedules, with `market: "crypto"` in their
 * input, so each run reads the crypto cohorts, calendar (24 h UTC days) and promotion window
 * (`promotion.cryptoWindow`):
 *
 * | schedule | target | input |
 * | --- | --- | --- |
 * | `crypto-cohort-start` (DISABLED by default: the crypto ingestion chain starts the cohort) | intraday cohort | `{source, scheduledTime, market, symbols: cohort.cryptoSymbols, bankrollUsd, agentCount, allocation}` |
 * | `crypto-promotion-start` | promotion pipeline | `{source, market}` |
 * | `crypto-learning-cycle` | learning cycle | `{source, market}` |
 * | `crypto-day3-go-no-go` (Day-3 only; DISABLED by default: the chain starts it) | Day-3 go/no-go | `{source, market}` |
 * | `crypto-rollback-monitor-*` (Day-3 only) | rollback monitor | `{scheduledTime, market, closeOfDay?}` |
 *
 * The crypto session ingestion (its own state machine, `SessionIngestion.crypto`) is deployed
 * by the session-ingestion construct. The crypto daily report is not deployed (the local
 * replay posts it). Every target retries and then dead-letters to one queue,
 * `stagegate-<stage>-crypto-schedule-dlq`, whose depth the workflow stack alarms on.
 */
import { Duration, Stack, TimeZone } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { EnvironmentConfig } from '../config/environment-config.js';
import type { ResourceNames } from '../config/naming.js';
import { type StageSchedule, stageSchedules } from '../config/schedules.js';
import { acknowledgeNag, wildcardResourceFinding } from './nag.js';
import type { StagegateFunction } from './stagegate-function.js';

export interface CryptoStageProps {
  /** The validated config; `cohort.cryptoSymbols` must not be empty. */
  readonly config: EnvironmentConfig;
  readonly names: ResourceNames;
  readonly scheduleGroup: scheduler.IScheduleGroup;
  readonly cohort: sfn.IStateMachine;
  readonly promotion: sfn.IStateMachine;
  readonly learning: sfn.IStateMachine;
  /** The Day-3 go/no-go and its rollback monitor, when deployed (approvers set). */
  readonly day3?: {
    readonly stateMachine: sfn.IStateMachine;
    readonly rollbackMonitor: StagegateFunction;
  };
}

/** See the module comment. */
export class CryptoStage extends Construct {
  /** Every crypto schedule deployed here, by schedule name (`crypto-promotion-start`, ...). */
  public readonly schedules: Readonly<Record<string, scheduler.Schedule>>;
  /** `stagegate-<stage>-crypto-schedule-dlq`: starts the scheduler could not deliver. */
  public readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: CryptoStageProps) {
    super(scope, id);
    const { config, names } = props;
    this.deadLetterQueue = new sqs.Queue(this, 'CryptoScheduleDlq', {
      queueName: `${names.prefix}-crypto-schedule-dlq`,
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    acknowledgeNag(
      this.deadLetterQueue,
      'AwsSolutions-SQS3',
      'This queue is itself the dead-letter queue of the crypto schedule targets; its depth is alarmed.',
    );
    const crypto = stageSchedules(config).crypto;
    const market = { source: 'schedule', market: 'crypto' };
    const out: Record<string, scheduler.Schedule> = {
      [crypto.cohortStart.name]: this.startSchedule(props, crypto.cohortStart, props.cohort, {
        ...market,
        scheduledTime: scheduler.ContextAttribute.scheduledTime,
        symbols: config.cohort.cryptoSymbols ?? [],
        bankrollUsd: config.cohort.bankrollUsd,
        agentCount: config.cohort.agentCount,
        allocation: config.cohort.allocation,
      }),
      [crypto.promotionStart.name]: this.startSchedule(
        props,
        crypto.promotionStart,
        props.promotion,
        market,
      ),
      [crypto.learningCycle.name]: this.startSchedule(
        props,
        crypto.learningCycle,
        props.learning,
        market,
      ),
    };
    if (props.day3) {
      out[crypto.day3GoNoGo.name] = this.startSchedule(
        props,
        crypto.day3GoNoGo,
        props.day3.stateMachine,
        market,
      );
      Object.assign(out, this.rollbackTicks(props, props.day3.rollbackMonitor));
    }
    this.schedules = out;
  }

  /** A schedule starting `machine` with `input` (retries, then this construct's DLQ). */
  private startSchedule(
    props: CryptoStageProps,
    s: StageSchedule,
    machine: sfn.IStateMachine,
    input: Record<string, unknown>,
  ): scheduler.Schedule {
    return new scheduler.Schedule(this, s.name, {
      scheduleName: s.name,
      scheduleGroup: props.scheduleGroup,
      description: `${s.name} of the ${props.config.stage} crypto stage (${s.expression} ${s.timezone})`,
      schedule: scheduler.ScheduleExpression.expression(s.expression, TimeZone.of(s.timezone)),
      timeWindow: scheduler.TimeWindow.off(),
      enabled: s.enabled,
      target: new schedulerTargets.StepFunctionsStartExecution(machine, {
        input: scheduler.ScheduleTargetInput.fromObject(input),
        deadLetterQueue: this.deadLetterQueue,
        retryAttempts: 3,
        // As the equity starts: an undeliverable start is dead-lettered (and alarmed).
        maxEventAge: Duration.minutes(30),
      }),
    });
  }

  /** The crypto rollback-monitor ticks (UTC, every day; the closing tick at 23:55 UTC). */
  private rollbackTicks(
    props: CryptoStageProps,
    monitor: StagegateFunction,
  ): Record<string, scheduler.Schedule> {
    const { config } = props;
    const invoker = new iam.Role(this, 'CryptoRollbackMonitorSchedulerRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
      description: `Lets EventBridge Scheduler invoke the ${config.stage} rollback monitor for crypto slices`,
    });
    const out: Record<string, scheduler.Schedule> = {};
    for (const tick of stageSchedules(config).crypto.rollbackMonitor) {
      out[tick.name] = new scheduler.Schedule(this, tick.name, {
        scheduleName: tick.name,
        scheduleGroup: props.scheduleGroup,
        description: `Rollback monitor of the ${config.stage} crypto micro-live slices (${tick.expression} ${tick.timezone}${tick.closeOfDay ? ', closing tick' : ''})`,
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
            market: tick.market,
            ...(tick.closeOfDay ? { closeOfDay: true } : {}),
          }),
          deadLetterQueue: this.deadLetterQueue,
          retryAttempts: 2,
          // A tick older than its slot (`everyMinutes`) is superseded by the next one.
          maxEventAge: Duration.minutes(
            Math.max(1, config.schedules.rollbackMonitor.everyMinutes - 1),
          ),
        }),
      });
    }
    const invokePolicy = invoker.node.tryFindChild('DefaultPolicy');
    if (invokePolicy) {
      acknowledgeNag(
        invokePolicy,
        wildcardResourceFinding(invokePolicy, `${monitor.functionArn}:*`),
        'The scheduler target grant (grantInvoke) covers the rollback monitor and its qualified ARNs ("<function>:*", versions and aliases) of that one function only; the schedules invoke the unqualified function.',
      );
    }
    return out;
  }
}
