/**
 * The learning cycle of one environment, stateless part: the `run-learning-cycle` function
 * with least-privilege grants, the Standard state machine loaded from
 * `statemachines/learning-cycle.asl.json`, and the schedule that starts it
 * (`schedules.learningCycle`, in `schedules.timezone`) with retries and a dead-letter queue.
 * Alarms and dashboard widgets are added by the workflow stack, which owns the alarm topic.
 *
 * Grants mirror what the use case calls (`functions/core/use-cases/learning.ts`) through the
 * adapters of `functions/composition/runtime.ts`:
 *
 * | what | DynamoDB (partition patterns) | S3 |
 * | --- | --- | --- |
 * | genome pool: current generation, save the next | Get/Query/Put `GENOME_POOL` | |
 * | scored cohorts of the lookback | Query `COHORT#*` + Query gsi1 | |
 * | `learning_cycle` audit record | {@link StagegateFunction.appendsAudit} | audit |
 *
 * Saving a generation writes its parts with PutItem, then the header and the CURRENT pointer
 * in one TransactWriteItems; IAM authorises each transactional Put as `dynamodb:PutItem` on
 * its own key ("Using IAM with DynamoDB transactions", DynamoDB developer guide), so the
 * `GENOME_POOL` PutItem grant covers it and no other action is needed.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { EnvironmentConfig } from '../config/environment-config.js';
import { PARTITIONS, type ResourceNames } from '../config/naming.js';
import { learningEnvironment } from '../config/runtime-env.js';
import { stageSchedules } from '../config/schedules.js';
import { HANDLERS, LEARNING_HANDLERS, type LearningHandlerName } from '../handlers.js';
import { LEARNING_CYCLE_ASL } from '../paths.js';
import { aslStateMachine } from './asl-state-machine.js';
import type { FunctionFactory } from './promotion-pipeline.js';
import { scheduledStart } from './scheduled-start.js';
import type { StagegateFunction } from './stagegate-function.js';

export interface LearningCycleProps {
  /** The environment's validated config (`learning`, `schedules.learningCycle`). */
  readonly config: EnvironmentConfig;
  /** Physical names of the environment (`resourceNames(stage)`). */
  readonly names: ResourceNames;
  /** The single table (from the stateful stack). */
  readonly table: ITableV2;
  /** Index the cohort repository lists complete cohorts from. */
  readonly cohortIndexName: string;
  /** The audit bucket (`learning_cycle` records). */
  readonly auditBucket: IBucket;
  /** The shared record-audit function (the learning cycle's Catch paths call it). */
  readonly recordAudit: StagegateFunction;
  /** The environment's schedule group (shared with the other schedules). */
  readonly scheduleGroup: scheduler.IScheduleGroup;
  /** Builds the function with the stack's defaults (runtime, logs, env). */
  readonly newFunction: FunctionFactory;
}

/**
 * The learning cycle of one environment (see the module comment).
 *
 * @throws ValidationError (field `learning.<setting>`) when the settings would be refused by
 *   `run-learning-cycle`.
 */
export class LearningCycle extends Construct {
  /** The learning cycle's functions, by handler name. */
  public readonly functions: Record<LearningHandlerName, StagegateFunction>;
  /** `stagegate-<stage>-learning-cycle` (Standard). */
  public readonly stateMachine: sfn.StateMachine;
  /** Starts the learning cycle (`schedules.learningCycle`). */
  public readonly schedule: scheduler.Schedule;
  /** `stagegate-<stage>-learning-schedule-dlq`: starts the scheduler could not deliver. */
  public readonly scheduleDeadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: LearningCycleProps) {
    super(scope, id);
    const { config, table, names } = props;
    const stage = config.stage;

    this.functions = {
      runLearningCycle: props
        .newFunction(
          this,
          'runLearningCycle',
          LEARNING_HANDLERS.runLearningCycle,
          learningEnvironment(config),
        )
        .usesTableItemsIn(table, [PARTITIONS.genomePool], ['GetItem', 'Query', 'PutItem'])
        // Lists complete cohorts (gsi1), then reads each one (Query on COHORT#<id>).
        .usesTableItemsIn(table, [PARTITIONS.cohort], ['Query'])
        .queriesIndex(table, props.cohortIndexName)
        .appendsAudit(props.auditBucket, table, stage),
    };

    this.stateMachine = aslStateMachine(this, 'LearningCycle', {
      stateMachineName: names.learningStateMachine,
      definitionFile: LEARNING_CYCLE_ASL,
      tasks: {
        [LEARNING_HANDLERS.runLearningCycle.aslPlaceholder]: this.functions.runLearningCycle,
        [HANDLERS.recordAudit.aslPlaceholder]: props.recordAudit,
      },
      logRetention: config.logs.retentionDays as logs.RetentionDays,
      logRemovalPolicy:
        config.removalPolicy === 'retain' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });

    const { learningCycle } = stageSchedules(config);
    const started = scheduledStart(this, {
      machine: this.stateMachine,
      schedule: learningCycle,
      group: props.scheduleGroup,
      name: learningCycle.name,
      description: `Starts the ${stage} learning cycle (${learningCycle.expression} ${learningCycle.timezone})`,
      id: 'LearningCycleStart',
      deadLetterQueue: { id: 'LearningScheduleDlq', name: `${names.prefix}-learning-schedule-dlq` },
      withScheduledTime: false,
      // Learn from the equity cohorts only: the crypto schedule and chain learn from theirs.
      input: { market: 'equity-usa' },
    });
    this.schedule = started.schedule;
    this.scheduleDeadLetterQueue = started.deadLetterQueue;
  }
}
