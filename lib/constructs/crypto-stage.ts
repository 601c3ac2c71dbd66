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
 * by the session-ingestion construct, the crypto daily report (`crypto-daily-report`, the
 * post-daily-report function with `market: crypto`) by the chat-ops construct. Every target retries and then dead-letters to one queue,
 * `stagegate-<stage>-crypto-schedule-dlq`, whose depth the workflow stack alarms on.
 */
import type * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { EnvironmentConfig } from '../config/environment-config.js';
import type { ResourceNames } from '../config/naming.js';
import { type StageSchedule, stageSchedules } from '../config/schedules.js';
import { deadLetterQueueOf, rollbackTickSchedules, scheduledStart } from './scheduled-start.js';
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
    this.deadLetterQueue = deadLetterQueueOf(
      this,
      { id: 'CryptoScheduleDlq', name: `${names.prefix}-crypto-schedule-dlq` },
      'the crypto schedule targets',
    );
    const crypto = stageSchedules(config).crypto;
    const market = { market: 'crypto' };
    const out: Record<string, scheduler.Schedule> = {
      [crypto.cohortStart.name]: this.startSchedule(props, crypto.cohortStart, props.cohort, {
        ...market,
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
      const ticks = rollbackTickSchedules(this, {
        ticks: crypto.rollbackMonitor,
        monitor: props.day3.rollbackMonitor,
        group: props.scheduleGroup,
        deadLetterQueue: this.deadLetterQueue,
        everyMinutes: config.schedules.rollbackMonitor.everyMinutes,
        role: {
          id: 'CryptoRollbackMonitorSchedulerRole',
          description: `Lets EventBridge Scheduler invoke the ${config.stage} rollback monitor for crypto slices`,
        },
        watches: `${config.stage} crypto micro-live slices`,
      });
      for (const t of ticks) out[t.node.id] = t;
    }
    this.schedules = out;
  }

  /**
   * A schedule starting `machine` with `{source, market, ...input}` (the cohort's also gets
   * `scheduledTime`), then this construct's DLQ ({@link scheduledStart}).
   */
  private startSchedule(
    props: CryptoStageProps,
    s: StageSchedule,
    machine: sfn.IStateMachine,
    input: Record<string, unknown>,
  ): scheduler.Schedule {
    return scheduledStart(this, {
      machine,
      schedule: s,
      group: props.scheduleGroup,
      name: s.name,
      id: s.name,
      description: `${s.name} of the ${props.config.stage} crypto stage (${s.expression} ${s.timezone})`,
      deadLetterQueue: this.deadLetterQueue,
      withScheduledTime: machine === props.cohort,
      input,
    }).schedule;
  }
}
