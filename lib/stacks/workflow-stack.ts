/**
 * The stateless part of one environment: the eight cohort Lambda functions (least-privilege
 * grants; three serve the sharded path, docs/scale.md), the intraday cohort state machine
 * (loaded from `statemachines/*.asl.json`, with a Distributed Map), its
 * EventBridge Scheduler schedule with a dead-letter queue, the promotion pipeline (its seven
 * functions, state machine and schedule: {@link PromotionPipeline}), the learning cycle
 * (function, state machine, schedule: {@link LearningCycle}), the alarm topic, alarms and a
 * dashboard.
 */
import { Duration, Fn, RemovalPolicy, Stack, type StackProps, TimeZone } from 'aws-cdk-lib';
import * as chatbot from 'aws-cdk-lib/aws-chatbot';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { ValidationError } from '../../functions/core/errors.js';
import type { EnvironmentConfig } from '../config/environment-config.js';
import { PARTITIONS, PREFIXES, type ResourceNames, resourceNames } from '../config/naming.js';
import { cohortEnvironment, cohortStateMachineValues } from '../config/runtime-env.js';
import { stageSchedules } from '../config/schedules.js';
import { aslStateMachine } from '../constructs/asl-state-machine.js';
import {
  AuditCompaction,
  DEFAULT_AUDIT_COMPACTION_SCHEDULE,
} from '../constructs/audit-compaction.js';
import { ChatOps } from '../constructs/chat-ops.js';
import { CryptoStage } from '../constructs/crypto-stage.js';
import { Day3GoNoGo } from '../constructs/day3-go-no-go.js';
import { LearningCycle } from '../constructs/learning-cycle.js';
import { acknowledgeNag } from '../constructs/nag.js';
import { OperatorConsole } from '../constructs/operator-console.js';
import { PromotionPipeline } from '../constructs/promotion-pipeline.js';
import { SessionIngestion } from '../constructs/session-ingestion.js';
import { StagegateFunction } from '../constructs/stagegate-function.js';
import {
  APPROVAL_HANDLERS,
  type ApprovalHandlerName,
  CHATOPS_HANDLERS,
  CONSOLE_HANDLERS,
  DAY3_HANDLERS,
  type Day3HandlerName,
  entryOf,
  type FunctionSpec,
  HANDLERS,
  type HandlerName,
  type HandlerSpec,
  INGESTION_HANDLERS,
  LEARNING_HANDLERS,
  type LearningHandlerName,
  PIPELINE_HANDLERS,
  type PipelineHandlerName,
  RECOVERY_HANDLERS,
} from '../handlers.js';
import { INTRADAY_COHORT_ASL } from '../paths.js';
import { GSI1 } from './stateful-stack.js';

export interface WorkflowStackProps extends StackProps {
  readonly config: EnvironmentConfig;
  /** The single table (from the stateful stack). */
  readonly table: ITableV2;
  /** The environment's customer-managed key, when it has one (encrypts the buckets). */
  readonly dataKey?: kms.IKey;
  /** Alpaca paper API keys (from the stateful stack); read only with `alpaca-paper`. */
  readonly alpacaPaperSecret?: ISecret;
  /** The Day-3 approval secrets (from the stateful stack); needed when approvers are set. */
  readonly approvalSecrets?: {
    readonly approvalKey: ISecret;
    readonly slackBotToken: ISecret;
    readonly slackSigningSecret: ISecret;
  };
}

export class WorkflowStack extends Stack {
  public readonly names: ResourceNames;
  public readonly functions: Record<HandlerName, StagegateFunction>;
  public readonly stateMachine: sfn.StateMachine;
  public readonly scheduleGroup: scheduler.ScheduleGroup;
  public readonly cohortSchedule: scheduler.Schedule;
  public readonly scheduleDeadLetterQueue: sqs.Queue;
  public readonly alarmTopic: sns.Topic;
  public readonly alarms: cloudwatch.Alarm[] = [];
  public readonly dashboard: cloudwatch.Dashboard;
  /** The promotion pipeline: functions, state machine, schedule (issue 3). */
  public readonly promotion: PromotionPipeline;
  /** The learning cycle: function, state machine, schedule. */
  public readonly learning: LearningCycle;
  /**
   * The Day-3 go/no-go (state machine, approval API, rollback monitor, schedules); only when
   * `approval.approvers` is not empty.
   */
  public readonly day3?: Day3GoNoGo;
  /** The operator console: Cognito users and groups, the console API (docs/console.md). */
  public readonly console: OperatorConsole;
  /**
   * The `/stagegate` slash command (function, route, follow-up queue); deployed when the Slack
   * secrets are given (the app always gives them).
   */
  public readonly chatOps?: ChatOps;
  /** The daily audit compaction (verify function, state machine, schedule, alarms). */
  public readonly auditCompaction: AuditCompaction;
  /**
   * The session ingestion from Alpaca and the chain it starts (cohort -> learning -> Day-3);
   * deployed when the Alpaca secret is given (the app always gives it).
   */
  public readonly ingestion?: SessionIngestion;
  /**
   * The crypto stage's schedules (`schedules.crypto`, UTC); deployed with the ingestion when
   * `cohort.cryptoSymbols` is not empty (the crypto ingestion is `ingestion.crypto`).
   */
  public readonly crypto?: CryptoStage;
  private readonly config: EnvironmentConfig;
  private readonly baseEnvironment: Readonly<Record<string, string>>;

  constructor(scope: Construct, id: string, props: WorkflowStackProps) {
    super(scope, id, props);
    const { config, table, dataKey } = props;
    const stage = config.stage;
    this.names = resourceNames(stage);
    const names = this.names;

    // Buckets are addressed by their deterministic names (no cross-stack export).
    const bucket = (purpose: 'artifacts' | 'market-data' | 'audit') =>
      s3.Bucket.fromBucketAttributes(this, `${purpose}-bucket`, {
        // The audit bucket's name changes with every creation of the stateful stack
        // (naming.ts): read it from that stack's export.
        bucketName:
          purpose === 'audit' ? Fn.importValue(names.auditBucketExport) : names.bucket(purpose),
        encryptionKey: dataKey,
      });
    const artifacts = bucket('artifacts');
    const marketData = bucket('market-data');
    const audit = bucket('audit');

    this.config = config;
    // What every function's composition root requires (functions/config/env.ts).
    this.baseEnvironment = {
      TABLE_NAME: table.tableName,
      ARTIFACTS_BUCKET: artifacts.bucketName,
      AUDIT_BUCKET: audit.bucketName,
      MARKET_DATA_URI: `s3://${marketData.bucketName}/${PREFIXES.marketData}`,
    };
    const fn = (name: HandlerName, env = {}) => this.newFunction(this, name, HANDLERS[name], env);

    // Each grant mirrors what the handler's adapters call (functions/adapters/**).
    this.functions = {
      // LEAN zips: ListObjectsV2 + GetObject under lean/; the stage's fees in COHORT_COSTS_JSON.
      loadMarketData: fn('loadMarketData', cohortEnvironment(config)).readsObjects(
        marketData,
        PREFIXES.marketData,
      ),
      // Reads the session again, writes cohorts/<date>/<id>/simulation.sga; takes the
      // agents from the genome pool (CURRENT pointer, header, parts) and saves generation 0
      // when there is none (parts, then one transaction of header + pointer).
      runCohort: fn('runCohort')
        .readsObjects(marketData, PREFIXES.marketData)
        .writesObjects(artifacts, PREFIXES.cohortArtifacts)
        .usesTableItemsIn(table, [PARTITIONS.genomePool], ['GetItem', 'Query', 'PutItem']),
      // Sharded path (docs/scale.md). Takes the genomes from the pool exactly once (saving
      // generation 0 when there is none, like run-cohort) and writes
      // cohorts/<date>/<id>/shards/plan.sga; the plan carries the prepared session's risk
      // estimates, so it reads no market data.
      planCohortShards: fn('planCohortShards')
        .writesObjects(artifacts, PREFIXES.cohortArtifacts)
        .usesTableItemsIn(table, [PARTITIONS.genomePool], ['GetItem', 'Query', 'PutItem']),
      // Reads the plan and the session, writes cohorts/<date>/<id>/shards/<first agent>.sga.
      runCohortShard: fn('runCohortShard')
        .readsObjects(marketData, PREFIXES.marketData)
        .readsAndWritesObjects(artifacts, PREFIXES.cohortArtifacts),
      // Reads the plan and every shard, writes cohorts/<date>/<id>/simulation.sga (agents by reference).
      mergeCohortShards: fn('mergeCohortShards').readsAndWritesObjects(
        artifacts,
        PREFIXES.cohortArtifacts,
      ),
      // Reads simulation.sga (and its shards), writes score.sga.
      scoreCohort: fn('scoreCohort').readsAndWritesObjects(artifacts, PREFIXES.cohortArtifacts),
      // Reads score.sga; conditional PutItem of the header, BatchWriteItem of the agent
      // rows, GetItem to recognise its own retry; COHORT#<id> items only.
      persistCohort: fn('persistCohort')
        .readsObjects(artifacts, PREFIXES.cohortArtifacts)
        .usesTableItemsIn(table, [PARTITIONS.cohort], ['GetItem', 'PutItem', 'BatchWriteItem']),
      // HeadObject (needs GetObject) finishes interrupted writes, PutObject (If-None-Match)
      // appends; rejected drafts go to the dead-letter prefix; stream heads (hash-chain tips)
      // are read with GetItem and advanced with a conditional UpdateItem (AUDIT_STREAM#*).
      recordAudit: fn('recordAudit').appendsAudit(audit, table, stage),
    };

    this.stateMachine = this.buildStateMachine(config);
    const dlq = this.buildSchedule(config);
    this.scheduleDeadLetterQueue = dlq.queue;
    this.scheduleGroup = dlq.group;
    this.cohortSchedule = dlq.schedule;
    this.promotion = new PromotionPipeline(this, 'Promotion', {
      config,
      names,
      table,
      cohortIndexName: GSI1,
      buckets: { artifacts, marketData, audit },
      recordAudit: this.functions.recordAudit,
      alpacaPaperSecret: props.alpacaPaperSecret,
      // The same Alpaca keys serve market data: today's bars reach the gates and the paper
      // session before the ingestion stores the session after the close.
      ...(props.alpacaPaperSecret ? { alpacaDataSecret: props.alpacaPaperSecret } : {}),
      scheduleGroup: this.scheduleGroup,
      newFunction: (scope, id, spec, environment) => this.newFunction(scope, id, spec, environment),
    });
    this.learning = new LearningCycle(this, 'Learning', {
      config,
      names,
      table,
      cohortIndexName: GSI1,
      auditBucket: audit,
      recordAudit: this.functions.recordAudit,
      scheduleGroup: this.scheduleGroup,
      newFunction: (scope, id, spec, environment) => this.newFunction(scope, id, spec, environment),
    });
    if (config.approval.approvers.length > 0) {
      if (!props.approvalSecrets) {
        throw new ValidationError(
          'approval.approvers',
          'the Day-3 go/no-go needs the approval secrets (approvalSecrets prop)',
        );
      }
      this.day3 = new Day3GoNoGo(this, 'Day3', {
        config,
        names,
        table,
        indexName: GSI1,
        buckets: { artifacts, marketData, audit },
        secrets: props.approvalSecrets,
        promotion: this.promotion,
        recordAudit: this.functions.recordAudit,
        scheduleGroup: this.scheduleGroup,
        newFunction: (scope, id, spec, environment) =>
          this.newFunction(scope, id, spec, environment),
      });
    }
    if (props.alpacaPaperSecret) {
      this.ingestion = new SessionIngestion(this, 'Ingestion', {
        config,
        names,
        marketDataBucket: marketData,
        alpacaSecret: props.alpacaPaperSecret,
        recordAudit: this.functions.recordAudit,
        scheduleGroup: this.scheduleGroup,
        newFunction: (scope, id, spec, environment) =>
          this.newFunction(scope, id, spec, environment),
        cohort: { stateMachine: this.stateMachine, stateMachineName: names.stateMachine },
        learning: {
          stateMachine: this.learning.stateMachine,
          stateMachineName: names.learningStateMachine,
        },
        ...(this.day3
          ? {
              day3: {
                stateMachine: this.day3.stateMachine,
                stateMachineName: names.day3StateMachine,
              },
            }
          : {}),
      });
    }
    this.crypto = this.buildCryptoStage();
    this.console = new OperatorConsole(this, 'Console', {
      config,
      names,
      table,
      indexName: GSI1,
      buckets: { artifacts, audit, marketData },
      promotion: this.promotion,
      intradayCohort: this.stateMachine,
      ...this.consoleApprovalProps(props),
      newFunction: (scope, id, spec, environment) => this.newFunction(scope, id, spec, environment),
    });
    this.chatOps = this.buildChatOps(props, { artifacts, audit });
    this.alarmTopic = this.buildAlarmTopic(config, dataKey);
    this.buildAlarms();
    this.auditCompaction = new AuditCompaction(this, 'AuditCompaction', {
      config,
      names,
      table,
      auditBucket: audit,
      resultsBucket: s3.Bucket.fromBucketAttributes(this, 'athena-results-bucket', {
        bucketName: names.bucket('athena-results'),
        encryptionKey: dataKey,
      }),
      dataKey,
      recordAudit: this.functions.recordAudit,
      scheduleGroup: this.scheduleGroup,
      newFunction: (scope, id, spec, environment) => this.newFunction(scope, id, spec, environment),
      alarmTopic: this.alarmTopic,
    });
    this.alarms.push(...this.auditCompaction.alarms);
    this.buildOperationalAlarms();
    this.buildCryptoAlarms();
    this.dashboard = this.buildDashboard();
  }

  /**
   * The console's Day-3 parts, when the go/no-go is deployed: approval decisions (approval
   * key) and the Slack request's update after a console signature (bot token).
   */
  private consoleApprovalProps(props: WorkflowStackProps) {
    const secrets = props.approvalSecrets;
    return this.day3 && secrets
      ? { day3: this.day3, approvalKey: secrets.approvalKey, slackBotToken: secrets.slackBotToken }
      : {};
  }

  /** The crypto stage's schedules, when the ingestion (its chain) has a crypto machine. */
  private buildCryptoStage(): CryptoStage | undefined {
    if (!this.ingestion?.crypto) return undefined;
    return new CryptoStage(this, 'Crypto', {
      config: this.config,
      names: this.names,
      scheduleGroup: this.scheduleGroup,
      cohort: this.stateMachine,
      promotion: this.promotion.stateMachine,
      learning: this.learning.stateMachine,
      ...(this.day3
        ? {
            day3: {
              stateMachine: this.day3.stateMachine,
              rollbackMonitor: this.day3.approvalFunctions.rollbackMonitor,
            },
          }
        : {}),
    });
  }

  /**
   * The crypto stage's alarms (every day, UTC): the crypto ingestion chain's failures,
   * time-outs and throttles and its did-not-run (its own state machine's starts); the crypto
   * rollback monitor's did-not-run (its `RollbackMonitorTicks` metric with `market=crypto`,
   * the function serving both markets); the crypto schedule DLQs not empty.
   */
  private buildCryptoAlarms(): void {
    const chain = this.ingestion?.crypto;
    if (!chain || !this.crypto) return;
    const period = Duration.minutes(5);
    const day = Duration.days(1);
    const atLeastOnce = {
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    };
    const machineName = this.names.cryptoIngestionStateMachine;
    this.alarm('CryptoSessionIngestionExecutionsFailed', {
      alarmName: `${machineName}-executions-failed`,
      alarmDescription:
        "A crypto session-ingestion execution failed, timed out or was aborted: the UTC day's data was not ingested (or no pair passed the data-quality checks, or a chained cohort/learning cycle failed), so the day has no crypto cohort and the next crypto promotion skips. Runbook: docs/runbook.md#a-session-ingestion-execution-failed",
      metric: executionsFailed(chain.stateMachine, period),
      ...atLeastOnce,
    });
    this.alarm('CryptoSessionIngestionExecutionThrottled', {
      alarmName: `${machineName}-execution-throttled`,
      alarmDescription: `Step Functions throttled ${machineName}. Runbook: docs/runbook.md#an-execution-timed-out-or-was-throttled`,
      metric: chain.stateMachine.metric('ExecutionThrottled', { period, statistic: 'Sum' }),
      ...atLeastOnce,
    });
    for (const [id, queue, what] of [
      ['CryptoIngestionScheduleDlqNotEmpty', chain.scheduleDeadLetterQueue, 'crypto-ingestion'],
      ['CryptoScheduleDlqNotEmpty', this.crypto.deadLetterQueue, 'crypto'],
    ] as const) {
      this.alarm(id, {
        alarmName: `${this.names.prefix}-${what}-schedule-dlq-not-empty`,
        alarmDescription: `The scheduler could not start a ${what} schedule's target (message in the DLQ). Runbook: docs/runbook.md#the-schedule-dead-letter-queue-is-not-empty`,
        metric: queue.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' }),
        threshold: 0,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      });
    }
    const { crypto } = stageSchedules(this.config);
    const starts: ScheduleStarts[] = [
      {
        id: 'CryptoSessionIngestion',
        name: crypto.sessionIngestion.name,
        enabled: crypto.sessionIngestion.enabled,
        weekdaysOnly: false,
        starts: chain.stateMachine.metricStarted({ period: day, statistic: 'Sum' }),
      },
    ];
    if (this.day3) {
      starts.push({
        id: 'CryptoRollbackMonitor',
        name: 'crypto-rollback-monitor',
        enabled: this.config.schedules.rollbackMonitor.enabled,
        weekdaysOnly: false,
        starts: new cloudwatch.Metric({
          namespace: `stagegate/${this.config.stage}`,
          // functions/handlers/rollback-monitor.ts ROLLBACK_MONITOR_TICKS_METRIC
          metricName: 'RollbackMonitorTicks',
          dimensionsMap: { service: 'stagegate', market: 'crypto' },
          statistic: 'Sum',
          period: day,
        }),
      });
    }
    for (const s of starts.filter((x) => x.enabled)) {
      this.alarm(`${s.id}DidNotRun`, didNotRunAlarm(this.names.prefix, s));
    }
  }

  /** The `/stagegate` slash command on the Slack-facing API (needs the signing secret). */
  private buildChatOps(
    props: WorkflowStackProps,
    buckets: { readonly artifacts: s3.IBucket; readonly audit: s3.IBucket },
  ): ChatOps | undefined {
    if (!props.approvalSecrets) return undefined;
    return new ChatOps(this, 'ChatOps', {
      config: this.config,
      names: this.names,
      table: props.table,
      indexName: GSI1,
      buckets,
      signingSecret: props.approvalSecrets.slackSigningSecret,
      botToken: props.approvalSecrets.slackBotToken,
      scheduleGroup: this.scheduleGroup,
      promotion: this.promotion,
      intradayCohort: this.stateMachine,
      slackApi: this.day3?.api ?? this.console.api,
      consoleUrl: this.console.url,
      ...(this.day3 ? { interactivity: this.day3.approvalFunctions.slackInteractivity } : {}),
      newFunction: (scope, id, spec, environment) => this.newFunction(scope, id, spec, environment),
    });
  }

  /** One house function with this environment's defaults and contract environment. */
  private newFunction(
    scope: Construct,
    id: string,
    spec: FunctionSpec,
    environment: Readonly<Record<string, string>>,
  ): StagegateFunction {
    const config = this.config;
    const stage = config.stage;
    const f = new StagegateFunction(scope, id, {
      entry: entryOf(spec),
      stage,
      serviceName: spec.file,
      metricsNamespace: `stagegate/${stage}`,
      logLevel: config.logs.level,
      logRetention: config.logs.retentionDays as logs.RetentionDays,
      logRemovalPolicy:
        config.removalPolicy === 'retain' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      memorySize: spec.memoryMb,
      timeout: Duration.seconds(spec.timeoutSeconds),
      description: `${spec.description} (${stage})`,
      environment: { ...this.baseEnvironment, ...environment },
    });
    acknowledgeNag(
      f,
      'AwsSolutions-L1',
      'nodejs22.x is pinned on purpose: the code is built, tested and benchmarked on Node 22 (the repo toolchain); move to nodejs24.x together with the toolchain.',
    );
    return f;
  }

  private buildStateMachine(config: EnvironmentConfig): sfn.StateMachine {
    return aslStateMachine(this, 'IntradayCohort', {
      stateMachineName: this.names.stateMachine,
      definitionFile: INTRADAY_COHORT_ASL,
      tasks: Object.fromEntries(
        (Object.keys(HANDLERS) as HandlerName[]).map((name) => [
          HANDLERS[name].aslPlaceholder,
          this.functions[name],
        ]),
      ),
      values: cohortStateMachineValues(config),
      logRetention: config.logs.retentionDays as logs.RetentionDays,
      logRemovalPolicy:
        config.removalPolicy === 'retain' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
  }

  private buildSchedule(config: EnvironmentConfig) {
    const queue = new sqs.Queue(this, 'CohortScheduleDlq', {
      queueName: `${this.names.prefix}-cohort-schedule-dlq`,
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    acknowledgeNag(
      queue,
      'AwsSolutions-SQS3',
      'This queue is itself the dead-letter queue of the cohort schedule target; its depth is alarmed.',
    );
    const group = new scheduler.ScheduleGroup(this, 'ScheduleGroup', {
      scheduleGroupName: this.names.scheduleGroup,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const { cohort } = config;
    const { cohortStart } = stageSchedules(config);
    const schedule = new scheduler.Schedule(this, 'CohortStart', {
      scheduleName: cohortStart.name,
      scheduleGroup: group,
      description: `Starts the ${config.stage} intraday cohort (${cohortStart.expression} ${cohortStart.timezone})`,
      schedule: scheduler.ScheduleExpression.expression(
        cohortStart.expression,
        TimeZone.of(cohortStart.timezone),
      ),
      timeWindow: scheduler.TimeWindow.off(),
      enabled: cohortStart.enabled,
      target: new schedulerTargets.StepFunctionsStartExecution(this.stateMachine, {
        input: scheduler.ScheduleTargetInput.fromObject({
          source: 'schedule',
          scheduledTime: scheduler.ContextAttribute.scheduledTime,
          symbols: cohort.symbols,
          bankrollUsd: cohort.bankrollUsd,
          agentCount: cohort.agentCount,
          allocation: cohort.allocation,
        }),
        deadLetterQueue: queue,
        retryAttempts: 3,
        // A cohort that cannot start within 30 min of its slot is pointless: dead-letter it.
        maxEventAge: Duration.minutes(30),
      }),
    });
    return { queue, group, schedule };
  }

  private buildAlarmTopic(config: EnvironmentConfig, dataKey?: kms.IKey): sns.Topic {
    const topic = new sns.Topic(this, 'AlarmTopic', {
      topicName: this.names.alarmTopic,
      displayName: `stagegate ${config.stage} alarms`,
      enforceSSL: true,
      masterKey: dataKey,
    });
    // dev has no customer-managed key, and CloudWatch alarms cannot publish to a topic
    // encrypted with the AWS-managed SNS key: the dev topic (alarm metadata only) stays
    // unencrypted; staging/prod encrypt it with the environment key.
    for (const email of config.alarms.emails) {
      topic.addSubscription(new subscriptions.EmailSubscription(email));
    }
    if (config.alarms.chatbotSlack) {
      new chatbot.SlackChannelConfiguration(this, 'AlarmsToSlack', {
        slackChannelConfigurationName: `${this.names.prefix}-alarms`,
        slackWorkspaceId: config.alarms.chatbotSlack.workspaceId,
        slackChannelId: config.alarms.chatbotSlack.channelId,
        notificationTopics: [topic],
        loggingLevel: chatbot.LoggingLevel.ERROR,
      });
    }
    return topic;
  }

  private alarm(id: string, props: cloudwatch.AlarmProps): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, id, {
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      ...props,
    });
    alarm.addAlarmAction(new cwActions.SnsAction(this.alarmTopic));
    alarm.addOkAction(new cwActions.SnsAction(this.alarmTopic));
    this.alarms.push(alarm);
    return alarm;
  }

  private buildAlarms(): void {
    const period = Duration.minutes(5);
    const atLeastOnce = {
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    };
    const dlqNotEmpty = (queue: sqs.Queue) => ({
      metric: queue.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' }),
      threshold: 0,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    });
    this.alarm('IntradayCohortExecutionsFailed', {
      alarmName: `${this.names.stateMachine}-executions-failed`,
      alarmDescription:
        'An intraday cohort execution failed, timed out or was aborted. Runbook: docs/runbook.md#a-cohort-execution-failed',
      metric: executionsFailed(this.stateMachine, period),
      ...atLeastOnce,
    });
    this.alarm('CohortScheduleDlqNotEmpty', {
      alarmName: `${this.names.prefix}-cohort-schedule-dlq-not-empty`,
      alarmDescription:
        'The scheduler could not start the cohort state machine (message in the DLQ). Runbook: docs/runbook.md#the-schedule-dead-letter-queue-is-not-empty',
      ...dlqNotEmpty(this.scheduleDeadLetterQueue),
    });
    // Powertools metrics (EMF; every handler's Metrics instance has dimension service=stagegate).
    const namespace = `stagegate/${this.config.stage}`;
    this.alarm('ParentDrawdownBreached', {
      alarmName: `${this.names.prefix}-parent-drawdown`,
      alarmDescription: `A cohort's parent wallet drew down more than the drawdown circuit breaker allows (${this.config.gates.maxParentDrawdownFraction * 100}% of peak). Runbook: docs/runbook.md#parent-drawdown`,
      metric: new cloudwatch.Metric({
        namespace,
        metricName: 'ParentMaxDrawdownPercent',
        dimensionsMap: { service: 'stagegate' },
        statistic: 'Maximum',
        period,
      }),
      threshold: this.config.gates.maxParentDrawdownFraction * 100,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    });
    this.alarm('AuditDeadLetters', {
      alarmName: `${this.names.prefix}-audit-dead-letters`,
      alarmDescription:
        'An audit draft failed the record schema and went to audit-dead-letter/ instead of the trail. Runbook: docs/runbook.md#audit-dead-letters',
      metric: new cloudwatch.Metric({
        namespace,
        metricName: 'AuditDeadLetters',
        dimensionsMap: { service: 'stagegate' },
        statistic: 'Sum',
        period,
      }),
      ...atLeastOnce,
    });
    const promotion = this.promotion;
    this.alarm('PromotionPipelineExecutionsFailed', {
      alarmName: `${this.names.promotionStateMachine}-executions-failed`,
      alarmDescription:
        'A promotion pipeline execution failed, timed out or was aborted (gates failed, window expired and kill-switch halts end as succeeded executions). Runbook: docs/runbook.md#a-promotion-execution-failed',
      metric: executionsFailed(promotion.stateMachine, period),
      ...atLeastOnce,
    });
    this.alarm('PromotionScheduleDlqNotEmpty', {
      alarmName: `${this.names.prefix}-promotion-schedule-dlq-not-empty`,
      alarmDescription:
        'The scheduler could not start the promotion pipeline (message in the DLQ). Runbook: docs/runbook.md#the-schedule-dead-letter-queue-is-not-empty',
      ...dlqNotEmpty(promotion.scheduleDeadLetterQueue),
    });
    const learning = this.learning;
    this.alarm('LearningCycleExecutionsFailed', {
      alarmName: `${this.names.learningStateMachine}-executions-failed`,
      alarmDescription:
        'A learning-cycle execution failed, timed out or was aborted (a cycle with no evidence ends as a succeeded skip). Runbook: docs/runbook.md#a-learning-cycle-execution-failed',
      metric: executionsFailed(learning.stateMachine, period),
      ...atLeastOnce,
    });
    this.alarm('LearningScheduleDlqNotEmpty', {
      alarmName: `${this.names.prefix}-learning-schedule-dlq-not-empty`,
      alarmDescription:
        'The scheduler could not start the learning cycle (message in the DLQ). Runbook: docs/runbook.md#the-schedule-dead-letter-queue-is-not-empty',
      ...dlqNotEmpty(learning.scheduleDeadLetterQueue),
    });
    const ingestion = this.ingestion;
    if (ingestion) {
      this.alarm('SessionIngestionExecutionsFailed', {
        alarmName: `${this.names.ingestionStateMachine}-executions-failed`,
        alarmDescription:
          "A session-ingestion execution failed, timed out or was aborted: the session's data was not ingested (or no symbol passed the data-quality checks, or a chained cohort/learning cycle failed), so the session has no cohort and the next promotion skips. Runbook: docs/runbook.md#a-session-ingestion-execution-failed",
        metric: executionsFailed(ingestion.stateMachine, period),
        ...atLeastOnce,
      });
      this.alarm('IngestionScheduleDlqNotEmpty', {
        alarmName: `${this.names.prefix}-ingestion-schedule-dlq-not-empty`,
        alarmDescription:
          'The scheduler could not start the session ingestion (message in the DLQ). Runbook: docs/runbook.md#the-schedule-dead-letter-queue-is-not-empty',
        ...dlqNotEmpty(ingestion.scheduleDeadLetterQueue),
      });
    }
    const day3 = this.day3;
    if (day3) {
      this.alarm('Day3GoNoGoExecutionsFailed', {
        alarmName: `${this.names.day3StateMachine}-executions-failed`,
        alarmDescription:
          'A Day-3 go/no-go execution failed, timed out or was aborted (rejections, approval timeouts and failed gates end as succeeded executions, "not approved"). Runbook: docs/runbook.md#a-day-3-go-no-go-execution-failed',
        metric: executionsFailed(day3.stateMachine, period),
        ...atLeastOnce,
      });
      this.alarm('Day3ScheduleDlqNotEmpty', {
        alarmName: `${this.names.prefix}-day3-schedule-dlq-not-empty`,
        alarmDescription:
          'The scheduler could not start the Day-3 go/no-go or a rollback-monitor tick (message in the DLQ). Runbook: docs/runbook.md#the-schedule-dead-letter-queue-is-not-empty',
        ...dlqNotEmpty(day3.scheduleDeadLetterQueue),
      });
    }
    this.alarm('ReconciliationDiscrepancies', {
      alarmName: `${this.names.prefix}-reconciliation-discrepancies`,
      alarmDescription:
        'reconcile-promotion or a paper session found positions, orders or the sum of the sessions books that differ from the paper broker. Runbook: docs/runbook.md#reconciliation-found-discrepancies',
      metric: promotion.reconciliationDiscrepancies,
      ...atLeastOnce,
    });
    this.alarm('PromotionHaltedByKillSwitch', {
      alarmName: `${this.names.prefix}-promotion-halted-by-kill-switch`,
      alarmDescription:
        'a paper session halted because the kill switch is on or unreadable (paper-tick logs "paper session halted"; no order is sent). Runbook: docs/runbook.md#a-promotion-was-halted-by-the-kill-switch',
      metric: promotion.killSwitchHalts,
      ...atLeastOnce,
    });
    const everyFunction: [string, FunctionSpec, StagegateFunction][] = [
      ...(Object.keys(HANDLERS) as HandlerName[]).map(
        (n) => [n, HANDLERS[n], this.functions[n]] as [string, HandlerSpec, StagegateFunction],
      ),
      ...(Object.keys(PIPELINE_HANDLERS) as PipelineHandlerName[]).map(
        (n) =>
          [n, PIPELINE_HANDLERS[n], promotion.functions[n]] as [
            string,
            HandlerSpec,
            StagegateFunction,
          ],
      ),
      ...(Object.keys(LEARNING_HANDLERS) as LearningHandlerName[]).map(
        (n) =>
          [n, LEARNING_HANDLERS[n], this.learning.functions[n]] as [
            string,
            HandlerSpec,
            StagegateFunction,
          ],
      ),
    ];
    if (this.day3) {
      const d3 = this.day3;
      everyFunction.push(
        ...(Object.keys(DAY3_HANDLERS) as Day3HandlerName[]).map(
          (n) =>
            [n, DAY3_HANDLERS[n], d3.functions[n]] as [string, FunctionSpec, StagegateFunction],
        ),
        ...(Object.keys(APPROVAL_HANDLERS) as ApprovalHandlerName[]).map(
          (n) =>
            [n, APPROVAL_HANDLERS[n], d3.approvalFunctions[n]] as [
              string,
              FunctionSpec,
              StagegateFunction,
            ],
        ),
      );
    }
    if (this.ingestion) {
      everyFunction.push([
        'ingestSession',
        INGESTION_HANDLERS.ingestSession,
        this.ingestion.ingestSession,
      ]);
    }
    everyFunction.push(this.consoleApiAlarm(period));
    if (this.chatOps) {
      everyFunction.push(
        ['slackCommand', CHATOPS_HANDLERS.slackCommand, this.chatOps.function],
        ['postDailyReport', CHATOPS_HANDLERS.postDailyReport, this.chatOps.dailyReport.function],
      );
      this.chatOpsAlarms(this.chatOps, dlqNotEmpty);
    }
    for (const [name, spec, f] of everyFunction) {
      this.alarm(`${name}Errors`, {
        alarmName: `${this.names.prefix}-${spec.file}-errors`,
        alarmDescription: `The ${spec.file} function threw. Runbook: docs/runbook.md#a-function-reports-errors`,
        metric: f.metricErrors({ period, statistic: 'Sum' }),
        ...atLeastOnce,
      });
    }
  }

  /** The chat-ops queues' alarms: follow-up failures, the daily report's DLQ and failures. */
  private chatOpsAlarms(
    chatOps: ChatOps,
    dlqNotEmpty: (queue: sqs.Queue) => Omit<cloudwatch.AlarmProps, 'alarmName'>,
  ): void {
    this.alarm('DailyReportScheduleDlq', {
      alarmName: `${this.names.prefix}-daily-report-schedule-dlq-not-empty`,
      alarmDescription:
        'The daily-report schedule could not invoke post-daily-report (after 2 retries): no report was posted for a session. Runbook: docs/runbook.md#the-daily-report-was-not-posted',
      ...dlqNotEmpty(chatOps.dailyReport.deadLetterQueue),
    });
    this.alarm('DailyReportFailures', {
      alarmName: `${this.names.prefix}-daily-report-failures-not-empty`,
      alarmDescription:
        'post-daily-report failed after its retries (Slack refused or was unreachable, or a store failed): no report was posted for a session; the audit trail records report_posted failed with the error. Runbook: docs/runbook.md#the-daily-report-was-not-posted',
      ...dlqNotEmpty(chatOps.dailyReport.failureQueue),
    });
    this.alarm('SlackFollowUpFailures', {
      alarmName: `${this.names.prefix}-slack-follow-up-failures-not-empty`,
      alarmDescription:
        'A /stagegate follow-up (a long command such as cohort start, handed to an asynchronous invocation) failed or expired: the caller got no answer in Slack. Runbook: docs/runbook.md#a-slack-follow-up-failed',
      ...dlqNotEmpty(chatOps.followUpFailureQueue),
    });
  }

  /** The daily report's starts per UTC day (its did-not-run alarm). */
  private dailyReportStarts(chatOps: ChatOps, day: Duration) {
    const { dailyReport } = this.config.schedules;
    return {
      id: 'DailyReport',
      name: 'daily-report',
      enabled: dailyReport.enabled,
      weekdaysOnly: dailyReport.expression.includes('MON-FRI'),
      starts: chatOps.dailyReport.function.metricInvocations({ period: day, statistic: 'Sum' }),
    };
  }

  /**
   * The console API's 5xx alarm; returns the console function for the per-function errors
   * alarm. The function answers an unexpected fault as a 500 problem (the Lambda does not
   * fail): its Errors cover crashes, time-outs and out-of-memory, the API's 5xx the answered
   * faults.
   */
  private consoleApiAlarm(period: Duration): [string, FunctionSpec, StagegateFunction] {
    this.alarm('ConsoleApiServerErrors', {
      alarmName: `${this.names.prefix}-console-api-5xx`,
      alarmDescription:
        'The operator console API answered 5xx (an unexpected fault, storage unavailable, or the function failed). Runbook: docs/runbook.md#a-function-reports-errors',
      metric: this.console.api.metricServerError({ period, statistic: 'Sum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    });
    return ['consoleApi', CONSOLE_HANDLERS.consoleApi, this.console.function];
  }

  /**
   * The alarms an operator needs beyond "something failed":
   * - **did not run**, one per enabled schedule: the target's starts (state machine
   *   `ExecutionsStarted`, or the rollback monitor's `Invocations`) per UTC day, missing data
   *   filled with 0, below 1 on a day the schedule fires. A weekday-only schedule (`MON-FRI`)
   *   is only expected Monday to Friday: `IF(DAY(s) < 6, s, 1)` (metric math `DAY`: 1 =
   *   Monday .. 7 = Sunday, UTC). Every weekday slot in America/New_York between 09:00 and
   *   19:59 falls on the same UTC date, so a UTC day is the right bucket. Market holidays
   *   still start executions (they record `schedule_skipped`), so they do not alarm.
   * - **throttles**: every function's `Throttles` (5 min, >= 1) and every state machine's
   *   `ExecutionThrottled`;
   * - **execution time-outs**: every state machine's `ExecutionsTimedOut` (>= 1). A Lambda
   *   time-out is an invocation error and already raises the function's `-errors` alarm.
   * - the rollback monitor's **asynchronous failure destination** (Day-3 only) not empty.
   */
  private buildOperationalAlarms(): void {
    const period = Duration.minutes(5);
    const day = Duration.days(1);
    const config = this.config;
    const machines: [string, sfn.StateMachine][] = [
      [this.names.stateMachine, this.stateMachine],
      [this.names.promotionStateMachine, this.promotion.stateMachine],
      [this.names.paperSessionStateMachine, this.promotion.paperSession],
      [this.names.learningStateMachine, this.learning.stateMachine],
      [`${this.names.prefix}-audit-compaction`, this.auditCompaction.stateMachine],
      ...(this.day3
        ? ([[this.names.day3StateMachine, this.day3.stateMachine]] as [string, sfn.StateMachine][])
        : []),
      ...(this.ingestion
        ? ([[this.names.ingestionStateMachine, this.ingestion.stateMachine]] as [
            string,
            sfn.StateMachine,
          ][])
        : []),
    ];
    const weekdays = (expression: string) => /MON-FRI/.test(expression);
    const schedules: ScheduleStarts[] = [
      {
        id: 'CohortStart',
        name: 'cohort-start',
        enabled: config.schedules.cohortStart.enabled,
        weekdaysOnly: weekdays(config.schedules.cohortStart.expression),
        starts: this.stateMachine.metricStarted({ period: day, statistic: 'Sum' }),
      },
      {
        id: 'PromotionStart',
        name: 'promotion-start',
        enabled: config.schedules.promotionStart.enabled,
        weekdaysOnly: true, // weekdayCronAt: always MON-FRI
        starts: this.promotion.stateMachine.metricStarted({ period: day, statistic: 'Sum' }),
      },
      {
        id: 'LearningCycle',
        name: 'learning-cycle',
        enabled: config.schedules.learningCycle.enabled,
        weekdaysOnly: weekdays(config.schedules.learningCycle.expression),
        starts: this.learning.stateMachine.metricStarted({ period: day, statistic: 'Sum' }),
      },
      {
        id: 'AuditCompaction',
        name: 'audit-compaction',
        enabled: DEFAULT_AUDIT_COMPACTION_SCHEDULE.enabled,
        weekdaysOnly: weekdays(DEFAULT_AUDIT_COMPACTION_SCHEDULE.expression),
        starts: this.auditCompaction.stateMachine.metricStarted({ period: day, statistic: 'Sum' }),
      },
    ];
    if (this.ingestion) {
      schedules.push({
        id: 'SessionIngestion',
        name: 'session-ingestion',
        enabled: config.schedules.sessionIngestion.enabled,
        weekdaysOnly: weekdays(config.schedules.sessionIngestion.expression),
        starts: this.ingestion.stateMachine.metricStarted({ period: day, statistic: 'Sum' }),
      });
    }
    schedules.push({
      id: 'RecoverInFlight',
      name: 'recover-in-flight',
      enabled: true,
      weekdaysOnly: false, // rate(1 hour)
      starts: this.promotion.recoverInFlight.metricInvocations({ period: day, statistic: 'Sum' }),
    });
    if (this.chatOps) schedules.push(this.dailyReportStarts(this.chatOps, day));
    if (this.day3) {
      schedules.push(
        {
          id: 'Day3GoNoGo',
          name: 'day3-go-no-go',
          enabled: config.schedules.day3GoNoGo.enabled,
          weekdaysOnly: weekdays(config.schedules.day3GoNoGo.expression),
          starts: this.day3.stateMachine.metricStarted({ period: day, statistic: 'Sum' }),
        },
        {
          id: 'RollbackMonitor',
          name: 'rollback-monitor',
          enabled: config.schedules.rollbackMonitor.enabled,
          weekdaysOnly: true, // rollbackMonitorSchedules: MON-FRI
          starts: this.day3.approvalFunctions.rollbackMonitor.metricInvocations({
            period: day,
            statistic: 'Sum',
          }),
        },
      );
    }
    for (const s of schedules.filter((x) => x.enabled)) {
      this.alarm(`${s.id}DidNotRun`, didNotRunAlarm(this.names.prefix, s));
    }
    const atLeastOnce = {
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    };
    for (const [name, machine] of machines) {
      const id = name.slice(this.names.prefix.length + 1); // e.g. intraday-cohort
      this.alarm(`${id}ExecutionsTimedOut`, {
        alarmName: `${name}-executions-timed-out`,
        alarmDescription: `An execution of ${name} hit its TimeoutSeconds. Runbook: docs/runbook.md#an-execution-timed-out-or-was-throttled`,
        metric: machine.metricTimedOut({ period, statistic: 'Sum' }),
        ...atLeastOnce,
      });
      this.alarm(`${id}ExecutionThrottled`, {
        alarmName: `${name}-execution-throttled`,
        alarmDescription: `Step Functions throttled ${name} (state transitions or StartExecution over quota). Runbook: docs/runbook.md#an-execution-timed-out-or-was-throttled`,
        metric: machine.metric('ExecutionThrottled', { period, statistic: 'Sum' }),
        ...atLeastOnce,
      });
    }
    for (const f of this.everyFunction()) {
      this.alarm(`${f.id}Throttles`, {
        alarmName: `${this.names.prefix}-${f.file}-throttles`,
        alarmDescription: `Lambda throttled ${f.file} (concurrency limit). Runbook: docs/runbook.md#a-function-is-throttled`,
        metric: f.fn.metricThrottles({ period, statistic: 'Sum' }),
        ...atLeastOnce,
      });
    }
    this.alarm('RecoverInFlightFailuresNotEmpty', {
      alarmName: `${this.names.prefix}-recover-in-flight-failures-not-empty`,
      alarmDescription:
        'A crash-sweeper run failed after its retries (asynchronous invocation, message in the failure destination). Runbook: docs/runbook.md#the-rollback-monitor-failed',
      metric: this.promotion.asyncFailureQueue.metricApproximateNumberOfMessagesVisible({
        period,
        statistic: 'Maximum',
      }),
      threshold: 0,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    });
    if (this.day3) {
      const queue = this.day3.asyncFailureQueue;
      this.alarm('RollbackMonitorFailuresNotEmpty', {
        alarmName: `${this.names.prefix}-rollback-monitor-failures-not-empty`,
        alarmDescription:
          'A rollback-monitor tick failed after its retries (asynchronous invocation, message in the failure destination). Runbook: docs/runbook.md#the-rollback-monitor-failed',
        metric: queue.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' }),
        threshold: 0,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      });
    }
  }

  /** Every function of the stack (cohort, pipeline, learning, Day-3, approval, compaction, console, chat-ops). */
  private everyFunction(): { id: string; file: string; fn: StagegateFunction }[] {
    const of = <N extends string>(
      specs: Readonly<Record<N, FunctionSpec>>,
      fns: Readonly<Record<N, StagegateFunction>>,
    ) => (Object.keys(specs) as N[]).map((n) => ({ id: n, file: specs[n].file, fn: fns[n] }));
    return [
      ...of(HANDLERS, this.functions),
      ...of(PIPELINE_HANDLERS, this.promotion.functions),
      ...of(LEARNING_HANDLERS, this.learning.functions),
      ...(this.day3
        ? [
            ...of(DAY3_HANDLERS, this.day3.functions),
            ...of(APPROVAL_HANDLERS, this.day3.approvalFunctions),
          ]
        : []),
      {
        id: 'recoverInFlight',
        file: RECOVERY_HANDLERS.recoverInFlight.file,
        fn: this.promotion.recoverInFlight,
      },
      {
        id: 'verifyAuditDay',
        file: 'verify-audit-day',
        fn: this.auditCompaction.verifyFunction,
      },
      { id: 'consoleApi', file: 'console-api', fn: this.console.function },
      ...(this.chatOps
        ? [
            { id: 'slackCommand', file: 'slack-command', fn: this.chatOps.function },
            {
              id: 'postDailyReport',
              file: CHATOPS_HANDLERS.postDailyReport.file,
              fn: this.chatOps.dailyReport.function,
            },
          ]
        : []),
      ...(this.ingestion
        ? [
            {
              id: 'ingestSession',
              file: INGESTION_HANDLERS.ingestSession.file,
              fn: this.ingestion.ingestSession,
            },
          ]
        : []),
    ];
  }

  private buildDashboard(): cloudwatch.Dashboard {
    const sm = this.stateMachine;
    const period = Duration.minutes(5);
    const fns = Object.entries(this.functions);
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: this.names.dashboard,
      defaultInterval: Duration.days(7),
    });
    // An alarm status widget shows at most 100 alarms.
    for (let i = 0; i < this.alarms.length; i += 100) {
      dashboard.addWidgets(
        new cloudwatch.AlarmStatusWidget({
          title: i === 0 ? 'Alarms' : `Alarms (${i + 1}-)`,
          alarms: this.alarms.slice(i, i + 100),
          width: 24,
        }),
      );
    }
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Intraday cohort executions',
        width: 12,
        left: [
          sm.metricStarted({ period, statistic: 'Sum' }),
          sm.metricSucceeded({ period, statistic: 'Sum' }),
          sm.metricFailed({ period, statistic: 'Sum' }),
          sm.metricTimedOut({ period, statistic: 'Sum' }),
        ],
      }),
      new cloudwatch.GraphWidget({
        title: 'Intraday cohort duration (ms)',
        width: 12,
        left: [
          sm.metricTime({ period, statistic: 'p50' }),
          sm.metricTime({ period, statistic: 'Maximum' }),
        ],
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Lambda errors',
        width: 8,
        left: fns.map(([name, f]) => f.metricErrors({ period, statistic: 'Sum', label: name })),
      }),
      new cloudwatch.GraphWidget({
        title: 'Lambda duration p95 (ms)',
        width: 8,
        left: fns.map(([name, f]) => f.metricDuration({ period, statistic: 'p95', label: name })),
      }),
      new cloudwatch.GraphWidget({
        title: 'Lambda throttles',
        width: 8,
        left: fns.map(([name, f]) => f.metricThrottles({ period, statistic: 'Sum', label: name })),
      }),
    );
    const pm = this.promotion.stateMachine;
    const pipelineFns = Object.entries(this.promotion.functions);
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Promotion pipeline executions',
        width: 8,
        left: [
          pm.metricStarted({ period, statistic: 'Sum' }),
          pm.metricSucceeded({ period, statistic: 'Sum' }),
          pm.metricFailed({ period, statistic: 'Sum' }),
          pm.metricTimedOut({ period, statistic: 'Sum' }),
          pm.metricAborted({ period, statistic: 'Sum' }),
        ],
      }),
      new cloudwatch.GraphWidget({
        title: 'Promotion pipeline duration (ms)',
        width: 8,
        left: [
          pm.metricTime({ period, statistic: 'p50' }),
          pm.metricTime({ period, statistic: 'Maximum' }),
        ],
      }),
      new cloudwatch.GraphWidget({
        title: 'Reconciliation discrepancies and kill-switch halts',
        width: 8,
        left: [
          this.promotion.reconciliationDiscrepancies.with({
            label: 'reconciliation discrepancies',
          }),
          this.promotion.killSwitchHalts.with({ label: 'kill-switch halts' }),
        ],
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Promotion pipeline Lambda errors',
        width: 8,
        left: pipelineFns.map(([name, f]) =>
          f.metricErrors({ period, statistic: 'Sum', label: name }),
        ),
      }),
      new cloudwatch.GraphWidget({
        title: 'Promotion pipeline Lambda duration p95 (ms)',
        width: 8,
        left: pipelineFns.map(([name, f]) =>
          f.metricDuration({ period, statistic: 'p95', label: name }),
        ),
      }),
      new cloudwatch.GraphWidget({
        title: 'Promotion pipeline Lambda throttles',
        width: 8,
        left: pipelineFns.map(([name, f]) =>
          f.metricThrottles({ period, statistic: 'Sum', label: name }),
        ),
      }),
    );
    const lm = this.learning.stateMachine;
    const learningFn = this.learning.functions.runLearningCycle;
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Learning cycle executions',
        width: 12,
        left: [
          lm.metricStarted({ period, statistic: 'Sum' }),
          lm.metricSucceeded({ period, statistic: 'Sum' }),
          lm.metricFailed({ period, statistic: 'Sum' }),
          lm.metricTimedOut({ period, statistic: 'Sum' }),
        ],
      }),
      new cloudwatch.GraphWidget({
        title: 'run-learning-cycle errors and duration p95 (ms)',
        width: 12,
        left: [learningFn.metricErrors({ period, statistic: 'Sum', label: 'errors' })],
        right: [learningFn.metricDuration({ period, statistic: 'p95', label: 'duration p95' })],
      }),
    );
    if (this.day3) {
      const dm = this.day3.stateMachine;
      const day3Fns = [
        ...Object.entries(this.day3.functions),
        ...Object.entries(this.day3.approvalFunctions),
      ];
      dashboard.addWidgets(
        new cloudwatch.GraphWidget({
          title: 'Day-3 go/no-go executions',
          width: 8,
          left: [
            dm.metricStarted({ period, statistic: 'Sum' }),
            dm.metricSucceeded({ period, statistic: 'Sum' }),
            dm.metricFailed({ period, statistic: 'Sum' }),
            dm.metricTimedOut({ period, statistic: 'Sum' }),
          ],
        }),
        new cloudwatch.GraphWidget({
          title: 'Day-3 and approval Lambda errors',
          width: 8,
          left: day3Fns.map(([name, f]) =>
            f.metricErrors({ period, statistic: 'Sum', label: name }),
          ),
        }),
        new cloudwatch.GraphWidget({
          title: 'Approval API 4xx / 5xx',
          width: 8,
          left: [
            this.day3.apiStage.metricClientError({ period, statistic: 'Sum' }),
            this.day3.apiStage.metricServerError({ period, statistic: 'Sum' }),
          ],
        }),
      );
    }
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Schedule dead-letter queue depth',
        width: 12,
        left: [
          this.scheduleDeadLetterQueue.metricApproximateNumberOfMessagesVisible({
            period,
            statistic: 'Maximum',
            label: 'cohort-start',
          }),
          this.promotion.scheduleDeadLetterQueue.metricApproximateNumberOfMessagesVisible({
            period,
            statistic: 'Maximum',
            label: 'promotion-start',
          }),
          this.learning.scheduleDeadLetterQueue.metricApproximateNumberOfMessagesVisible({
            period,
            statistic: 'Maximum',
            label: 'learning-cycle',
          }),
          ...(this.day3
            ? [
                this.day3.scheduleDeadLetterQueue.metricApproximateNumberOfMessagesVisible({
                  period,
                  statistic: 'Maximum',
                  label: 'day3 + rollback monitor',
                }),
              ]
            : []),
        ],
      }),
      new cloudwatch.GraphWidget({
        title: 'Scheduler target errors (all schedules)',
        width: 12,
        left: [
          scheduler.Schedule.metricAllErrors({ period, statistic: 'Sum' }),
          scheduler.Schedule.metricAllSentToDLQ({ period, statistic: 'Sum' }),
        ],
      }),
    );
    return dashboard;
  }
}

/** A schedule's starts per UTC day, for its did-not-run alarm. */
interface ScheduleStarts {
  readonly id: string;
  readonly name: string;
  readonly enabled: boolean;
  /** Expected Monday to Friday only (`MON-FRI`); else every day. */
  readonly weekdaysOnly: boolean;
  /** The target's starts (or invocations, or ticks), period one day. */
  readonly starts: cloudwatch.IMetric;
}

/**
 * The did-not-run alarm of a schedule (see `buildOperationalAlarms`): its starts per UTC day,
 * missing data filled with 0, below 1 on a day it fires; no data at all is breaching.
 */
function didNotRunAlarm(prefix: string, s: ScheduleStarts): cloudwatch.AlarmProps {
  const day = Duration.days(1);
  return {
    alarmName: `${prefix}-${s.name}-did-not-run`,
    alarmDescription: `The ${s.name} schedule started nothing on a UTC day it fires (${s.weekdaysOnly ? 'Monday to Friday' : 'every day'}). Runbook: docs/runbook.md#a-schedule-did-not-run`,
    metric: new cloudwatch.MathExpression({
      expression: s.weekdaysOnly ? 'IF(DAY(s) < 6, s, 1)' : 's',
      usingMetrics: {
        s: new cloudwatch.MathExpression({
          expression: 'FILL(m, 0)',
          usingMetrics: { m: s.starts },
          period: day,
        }),
      },
      label: `${s.name} starts per UTC day`,
      period: day,
    }),
    threshold: 1,
    evaluationPeriods: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
    // No data at all is the very case this alarm exists for.
    treatMissingData: cloudwatch.TreatMissingData.BREACHING,
  };
}

/** Failed + timed out + aborted executions of `machine` per `period` (missing data = 0). */
function executionsFailed(machine: sfn.StateMachine, period: Duration): cloudwatch.IMetric {
  return new cloudwatch.MathExpression({
    expression: 'FILL(failed, 0) + FILL(timedOut, 0) + FILL(aborted, 0)',
    usingMetrics: {
      failed: machine.metricFailed({ period, statistic: 'Sum' }),
      timedOut: machine.metricTimedOut({ period, statistic: 'Sum' }),
      aborted: machine.metricAborted({ period, statistic: 'Sum' }),
    },
    label: 'failed + timed out + aborted executions',
    period,
  });
}
