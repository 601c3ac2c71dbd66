/**
 * The stateless part of one environment: the eight cohort Lambda functions (least-privilege
 * grants; three serve the sharded path, docs/scale.md), the intraday cohort state machine
 * (loaded from `statemachines/*.asl.json`, with a Distributed Map), its
 * EventBridge Scheduler schedule with a dead-letter queue, the promotion pipeline (its seven
 * functions, state machine and schedule: {@link PromotionPipeline}), the learning cycle
 * (function, state machine, schedule: {@link LearningCycle}), the alarm topic, alarms (built
 * from tables: per workflow, per function, per schedule and market) and a dashboard
 * (`workflow-dashboard.ts`).
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
import type { Market } from '../../functions/core/calendar/market-calendar.js';
import { ValidationError } from '../../functions/core/errors.js';
import type { SharedWorkflow } from '../../functions/handlers/shared/workflow-starts.js';
import type { EnvironmentConfig } from '../config/environment-config.js';
import { PARTITIONS, PREFIXES, type ResourceNames, resourceNames } from '../config/naming.js';
import { cohortEnvironment, cohortStateMachineValues } from '../config/runtime-env.js';
import { type StageSchedule, stageSchedules } from '../config/schedules.js';
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
import { type FunctionFactory, PromotionPipeline } from '../constructs/promotion-pipeline.js';
import { SessionIngestion } from '../constructs/session-ingestion.js';
import { StagegateFunction } from '../constructs/stagegate-function.js';
import {
  APPROVAL_HANDLERS,
  CHATOPS_HANDLERS,
  CONSOLE_HANDLERS,
  DAY3_HANDLERS,
  entryOf,
  type FunctionSpec,
  HANDLERS,
  type HandlerName,
  INGESTION_HANDLERS,
  LEARNING_HANDLERS,
  PIPELINE_HANDLERS,
  RECOVERY_HANDLERS,
} from '../handlers.js';
import { INTRADAY_COHORT_ASL } from '../paths.js';
import { GSI1 } from './stateful-stack.js';
import { buildWorkflowDashboard } from './workflow-dashboard.js';

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
    this.functions = this.buildCohortFunctions(table, { artifacts, marketData, audit });

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
      newFunction: this.functionFactory,
    });
    this.learning = new LearningCycle(this, 'Learning', {
      config,
      names,
      table,
      cohortIndexName: GSI1,
      auditBucket: audit,
      recordAudit: this.functions.recordAudit,
      scheduleGroup: this.scheduleGroup,
      newFunction: this.functionFactory,
    });
    this.day3 = this.buildDay3(props, { artifacts, marketData, audit });
    this.ingestion = this.buildIngestion(props, marketData);
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
      newFunction: this.functionFactory,
    });
    this.chatOps = this.buildChatOps(props, { artifacts, audit });
    this.alarmTopic = this.buildAlarmTopic(config, dataKey);
    this.auditCompaction = this.buildAuditCompaction(props, audit);
    this.buildAlarms();
    this.alarms.push(...this.auditCompaction.alarms);
    this.buildOperationalAlarms();
    this.buildCryptoAlarms();
    this.dashboard = buildWorkflowDashboard(this, this);
  }

  /** Builds each function with this stack's defaults (runtime, logs, contract environment). */
  private readonly functionFactory: FunctionFactory = (scope, id, spec, environment) =>
    this.newFunction(scope, id, spec, environment);

  /** The intraday cohort's functions and record-audit, with their grants. */
  private buildCohortFunctions(
    table: ITableV2,
    buckets: {
      readonly artifacts: s3.IBucket;
      readonly marketData: s3.IBucket;
      readonly audit: s3.IBucket;
    },
  ): Record<HandlerName, StagegateFunction> {
    const { artifacts, marketData, audit } = buckets;
    const stage = this.config.stage;
    const fn = (name: HandlerName, env = {}) => this.newFunction(this, name, HANDLERS[name], env);

    // Each grant mirrors what the handler's adapters call (functions/adapters/**).
    return {
      // LEAN zips: ListObjectsV2 + GetObject under lean/; the stage's fees in COHORT_COSTS_JSON.
      loadMarketData: fn('loadMarketData', cohortEnvironment(this.config)).readsObjects(
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
  }

  /** The Day-3 go/no-go, when the config lists approvers. */
  private buildDay3(
    props: WorkflowStackProps,
    buckets: {
      readonly artifacts: s3.IBucket;
      readonly marketData: s3.IBucket;
      readonly audit: s3.IBucket;
    },
  ): Day3GoNoGo | undefined {
    const { config, table } = props;
    const names = this.names;
    const { artifacts, marketData, audit } = buckets;
    if (config.approval.approvers.length === 0) return undefined;
    if (!props.approvalSecrets) {
      throw new ValidationError(
        'approval.approvers',
        'the Day-3 go/no-go needs the approval secrets (approvalSecrets prop)',
      );
    }
    return new Day3GoNoGo(this, 'Day3', {
      config,
      names,
      table,
      indexName: GSI1,
      buckets: { artifacts, marketData, audit },
      secrets: props.approvalSecrets,
      promotion: this.promotion,
      recordAudit: this.functions.recordAudit,
      scheduleGroup: this.scheduleGroup,
      newFunction: this.functionFactory,
    });
  }

  /** The session ingestion and its chain, when the Alpaca secret is given (the app always gives it). */
  private buildIngestion(
    props: WorkflowStackProps,
    marketData: s3.IBucket,
  ): SessionIngestion | undefined {
    const { config } = props;
    const names = this.names;
    if (!props.alpacaPaperSecret) return undefined;
    return new SessionIngestion(this, 'Ingestion', {
      config,
      names,
      marketDataBucket: marketData,
      alpacaSecret: props.alpacaPaperSecret,
      recordAudit: this.functions.recordAudit,
      scheduleGroup: this.scheduleGroup,
      newFunction: this.functionFactory,
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

  /** The daily audit compaction (its alarms join the stack's). */
  private buildAuditCompaction(props: WorkflowStackProps, audit: s3.IBucket): AuditCompaction {
    const { config, table, dataKey } = props;
    const names = this.names;
    return new AuditCompaction(this, 'AuditCompaction', {
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
      newFunction: this.functionFactory,
      alarmTopic: this.alarmTopic,
    });
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
   * time-outs and throttles and its did-not-run (its own state machine's starts); the
   * did-not-run of the crypto promotion, learning (and, when enabled, cohort and go/no-go)
   * schedules ({@link cryptoWorkflowStarts}) and of the crypto rollback monitor
   * (`RollbackMonitorTicks` with `market=crypto`); the crypto schedule DLQs not empty.
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
        starts: this.rollbackMonitorTicks('crypto'),
      });
    }
    const report = this.chatOps?.dailyReport.crypto;
    if (report) {
      starts.push({
        id: 'CryptoDailyReport',
        name: crypto.dailyReport.name,
        enabled: crypto.dailyReport.enabled,
        weekdaysOnly: false,
        starts: this.dailyReportRuns('crypto'),
      });
    }
    starts.push(...this.cryptoWorkflowStarts());
    for (const s of starts.filter((x) => x.enabled)) {
      this.alarm(`${s.id}DidNotRun`, didNotRunAlarm(this.names.prefix, s));
    }
  }

  /**
   * The crypto schedules that start a workflow both markets share (promotion, learning, and
   * when deployed and enabled the cohort and the go/no-go): each market's starts are told
   * apart by the first step's `WorkflowStarts` metric with `market=crypto`. Every day.
   */
  private cryptoWorkflowStarts(): ScheduleStarts[] {
    const { crypto } = stageSchedules(this.config);
    const rows: [string, StageSchedule, SharedWorkflow][] = [
      ['CryptoPromotionStart', crypto.promotionStart, 'promotion-pipeline'],
      ['CryptoLearningCycle', crypto.learningCycle, 'learning-cycle'],
      ['CryptoCohortStart', crypto.cohortStart, 'intraday-cohort'],
      ...(this.day3
        ? [
            ['CryptoDay3GoNoGo', crypto.day3GoNoGo, 'day3-go-no-go'] as [
              string,
              StageSchedule,
              SharedWorkflow,
            ],
          ]
        : []),
    ];
    return rows.map(([id, schedule, workflow]) => ({
      id,
      name: schedule.name,
      enabled: schedule.enabled,
      weekdaysOnly: false,
      starts: this.workflowStarts(workflow, 'crypto'),
    }));
  }

  /**
   * One market's starts of a shared workflow per UTC day: the EMF metric `WorkflowStarts`
   * (functions/handlers/shared/workflow-starts.ts) its first step emits with dimensions
   * `workflow` and `market`. The state machine's `ExecutionsStarted` counts both markets.
   */
  private workflowStarts(workflow: SharedWorkflow, market: Market): cloudwatch.IMetric {
    return new cloudwatch.Metric({
      namespace: `stagegate/${this.config.stage}`,
      metricName: 'WorkflowStarts',
      dimensionsMap: { service: 'stagegate', workflow, market },
      statistic: 'Sum',
      period: Duration.days(1),
    });
  }

  /**
   * One market's completed rollback-monitor ticks per UTC day: the EMF metric
   * `RollbackMonitorTicks` (functions/handlers/rollback-monitor.ts) with dimension `market`.
   * The function serves both markets, so its `Invocations` cannot tell them apart.
   */
  private rollbackMonitorTicks(market: Market): cloudwatch.IMetric {
    return this.marketCount('RollbackMonitorTicks', market);
  }

  /**
   * One market's daily-report runs per UTC day: the EMF metric `DailyReportRuns`
   * (functions/handlers/post-daily-report.ts) with dimension `market`. The function serves
   * both markets, so its `Invocations` cannot tell a missing equity report from a crypto one.
   */
  private dailyReportRuns(market: Market): cloudwatch.IMetric {
    return this.marketCount('DailyReportRuns', market);
  }

  /** An EMF count with dimension `market` (namespace `stagegate/<stage>`), summed per UTC day. */
  private marketCount(metricName: string, market: Market): cloudwatch.IMetric {
    return new cloudwatch.Metric({
      namespace: `stagegate/${this.config.stage}`,
      metricName,
      dimensionsMap: { service: 'stagegate', market },
      statistic: 'Sum',
      period: Duration.days(1),
    });
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
      newFunction: this.functionFactory,
      // With the crypto stage (its ingestion chain), the crypto report after its UTC day.
      cryptoReport: this.crypto !== undefined,
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

  /**
   * The "something failed" alarms, in the dashboard's order: per workflow its failed
   * executions and its schedule dead-letter queue ({@link workflowFailureRows}), the EMF
   * metrics (drawdown breaker, audit dead letters, reconciliation, kill-switch halts), the
   * console API's 5xx, the chat-ops queues, and every function's errors.
   */
  private buildAlarms(): void {
    const [cohort, ...workflows] = this.workflowFailureRows();
    const metricAlarms = this.metricAlarmRows();
    for (const row of [cohort, metricAlarms.slice(0, 2), ...workflows, metricAlarms.slice(2)]) {
      for (const [id, props] of row ?? []) this.alarm(id, props);
    }
    this.consoleApiAlarm();
    if (this.chatOps) this.chatOpsAlarms(this.chatOps);
    for (const f of this.everyFunction().filter((x) => !x.errorsAlarmedElsewhere)) {
      this.alarm(`${f.id}Errors`, {
        alarmName: `${this.names.prefix}-${f.file}-errors`,
        alarmDescription: `The ${f.file} function threw. Runbook: docs/runbook.md#a-function-reports-errors`,
        metric: f.fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
        ...atLeastOnce,
      });
    }
  }

  /**
   * Per workflow (cohort, promotion, learning, ingestion and Day-3 when deployed): its failed,
   * timed-out or aborted executions (>= 1 per 5 min) and its schedule DLQ not empty.
   */
  private workflowFailureRows(): [string, cloudwatch.AlarmProps][][] {
    const n = this.names;
    return this.workflowFailureTable().map((r) => [
      [
        `${r.id}ExecutionsFailed`,
        {
          alarmName: `${r.machineName}-executions-failed`,
          alarmDescription: r.failed,
          metric: executionsFailed(r.machine, Duration.minutes(5)),
          ...atLeastOnce,
        },
      ],
      [
        `${r.dlq.id}ScheduleDlqNotEmpty`,
        {
          alarmName: `${n.prefix}-${r.dlq.name}-schedule-dlq-not-empty`,
          alarmDescription: `The scheduler could not start ${r.starts} (message in the DLQ). Runbook: docs/runbook.md#the-schedule-dead-letter-queue-is-not-empty`,
          ...dlqNotEmpty(r.dlq.queue),
        },
      ],
    ]);
  }

  /** The workflows of {@link workflowFailureRows}: machine, texts, schedule DLQ. */
  private workflowFailureTable(): WorkflowFailureRow[] {
    const n = this.names;
    return [
      {
        id: 'IntradayCohort',
        machineName: n.stateMachine,
        machine: this.stateMachine,
        failed:
          'An intraday cohort execution failed, timed out or was aborted. Runbook: docs/runbook.md#a-cohort-execution-failed',
        dlq: { id: 'Cohort', name: 'cohort', queue: this.scheduleDeadLetterQueue },
        starts: 'the cohort state machine',
      },
      {
        id: 'PromotionPipeline',
        machineName: n.promotionStateMachine,
        machine: this.promotion.stateMachine,
        failed:
          'A promotion pipeline execution failed, timed out or was aborted (gates failed, window expired and kill-switch halts end as succeeded executions). Runbook: docs/runbook.md#a-promotion-execution-failed',
        dlq: {
          id: 'Promotion',
          name: 'promotion',
          queue: this.promotion.scheduleDeadLetterQueue,
        },
        starts: 'the promotion pipeline',
      },
      {
        id: 'LearningCycle',
        machineName: n.learningStateMachine,
        machine: this.learning.stateMachine,
        failed:
          'A learning-cycle execution failed, timed out or was aborted (a cycle with no evidence ends as a succeeded skip). Runbook: docs/runbook.md#a-learning-cycle-execution-failed',
        dlq: { id: 'Learning', name: 'learning', queue: this.learning.scheduleDeadLetterQueue },
        starts: 'the learning cycle',
      },
      ...(this.ingestion
        ? [
            {
              id: 'SessionIngestion',
              machineName: n.ingestionStateMachine,
              machine: this.ingestion.stateMachine,
              failed:
                "A session-ingestion execution failed, timed out or was aborted: the session's data was not ingested (or no symbol passed the data-quality checks, or a chained cohort/learning cycle failed), so the session has no cohort and the next promotion skips. Runbook: docs/runbook.md#a-session-ingestion-execution-failed",
              dlq: {
                id: 'Ingestion',
                name: 'ingestion',
                queue: this.ingestion.scheduleDeadLetterQueue,
              },
              starts: 'the session ingestion',
            },
          ]
        : []),
      ...(this.day3
        ? [
            {
              id: 'Day3GoNoGo',
              machineName: n.day3StateMachine,
              machine: this.day3.stateMachine,
              failed:
                'A Day-3 go/no-go execution failed, timed out or was aborted (rejections, approval timeouts and failed gates end as succeeded executions, "not approved"). Runbook: docs/runbook.md#a-day-3-go-no-go-execution-failed',
              dlq: { id: 'Day3', name: 'day3', queue: this.day3.scheduleDeadLetterQueue },
              starts: 'the Day-3 go/no-go or a rollback-monitor tick',
            },
          ]
        : []),
    ];
  }

  /**
   * The alarms on Powertools (EMF) metrics: the drawdown circuit breaker and audit dead
   * letters (every handler's Metrics instance has dimension service=stagegate), then the
   * pipeline's reconciliation discrepancies and kill-switch halts.
   */
  private metricAlarmRows(): [string, cloudwatch.AlarmProps][] {
    const namespace = `stagegate/${this.config.stage}`;
    const period = Duration.minutes(5);
    const emf = (metricName: string, statistic: string) =>
      new cloudwatch.Metric({
        namespace,
        metricName,
        dimensionsMap: { service: 'stagegate' },
        statistic,
        period,
      });
    const drawdown = this.config.gates.maxParentDrawdownFraction * 100;
    return [
      [
        'ParentDrawdownBreached',
        {
          alarmName: `${this.names.prefix}-parent-drawdown`,
          alarmDescription: `A cohort's parent wallet drew down more than the drawdown circuit breaker allows (${drawdown}% of peak). Runbook: docs/runbook.md#parent-drawdown`,
          metric: emf('ParentMaxDrawdownPercent', 'Maximum'),
          threshold: drawdown,
          evaluationPeriods: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        },
      ],
      [
        'AuditDeadLetters',
        {
          alarmName: `${this.names.prefix}-audit-dead-letters`,
          alarmDescription:
            'An audit draft failed the record schema and went to audit-dead-letter/ instead of the trail. Runbook: docs/runbook.md#audit-dead-letters',
          metric: emf('AuditDeadLetters', 'Sum'),
          ...atLeastOnce,
        },
      ],
      [
        'ReconciliationDiscrepancies',
        {
          alarmName: `${this.names.prefix}-reconciliation-discrepancies`,
          alarmDescription:
            'reconcile-promotion or a paper session found positions, orders or the sum of the sessions books that differ from the paper broker. Runbook: docs/runbook.md#reconciliation-found-discrepancies',
          metric: this.promotion.reconciliationDiscrepancies,
          ...atLeastOnce,
        },
      ],
      [
        'PromotionHaltedByKillSwitch',
        {
          alarmName: `${this.names.prefix}-promotion-halted-by-kill-switch`,
          alarmDescription:
            'a paper session halted because the kill switch is on or unreadable (paper-tick logs "paper session halted"; no order is sent), or its Finish recorded the halt of a session that never read the switch again (finish-paper-session logs it). Runbook: docs/runbook.md#a-promotion-was-halted-by-the-kill-switch',
          metric: this.promotion.killSwitchHalts,
          ...atLeastOnce,
        },
      ],
    ];
  }

  /**
   * The chat-ops queues' alarms: follow-up failures, the daily report's failures and each
   * market's daily-report schedule DLQ.
   */
  private chatOpsAlarms(chatOps: ChatOps): void {
    const { crypto } = chatOps.dailyReport;
    for (const [id, name, queue] of [
      ['DailyReportScheduleDlq', 'daily-report', chatOps.dailyReport.deadLetterQueue],
      ...(crypto
        ? [['CryptoDailyReportScheduleDlq', 'crypto-daily-report', crypto.deadLetterQueue]]
        : []),
    ] as [string, string, sqs.Queue][]) {
      this.alarm(id, {
        alarmName: `${this.names.prefix}-${name}-schedule-dlq-not-empty`,
        alarmDescription: `The ${name} schedule could not invoke post-daily-report (after 2 retries): no report was posted for a session. Runbook: docs/runbook.md#the-daily-report-was-not-posted`,
        ...dlqNotEmpty(queue),
      });
    }
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

  /**
   * The console API's 5xx alarm; returns the console function for the per-function errors
   * alarm. The function answers an unexpected fault as a 500 problem (the Lambda does not
   * fail): its Errors cover crashes, time-outs and out-of-memory, the API's 5xx the answered
   * faults.
   */
  private consoleApiAlarm(): void {
    const period = Duration.minutes(5);
    this.alarm('ConsoleApiServerErrors', {
      alarmName: `${this.names.prefix}-console-api-5xx`,
      alarmDescription:
        'The operator console API answered 5xx (an unexpected fault, storage unavailable, or the function failed). Runbook: docs/runbook.md#a-function-reports-errors',
      metric: this.console.api.metricServerError({ period, statistic: 'Sum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    });
  }

  /**
   * The alarms an operator needs beyond "something failed":
   * - **did not run**, one per enabled schedule ({@link scheduleStarts}): the target's starts
   *   per UTC day, missing data filled with 0, below 1 on a day the schedule fires. The
   *   targets both markets share (cohort, promotion, learning, Day-3 machines and the rollback
   *   monitor) are counted by market (EMF `WorkflowStarts` / `RollbackMonitorTicks` with
   *   `market=equity-usa`), so crypto runs never hide a missing equity one; the others by
   *   their own `ExecutionsStarted` or `Invocations`. A weekday-only schedule (`MON-FRI`)
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
    for (const s of this.scheduleStarts().filter((x) => x.enabled)) {
      this.alarm(`${s.id}DidNotRun`, didNotRunAlarm(this.names.prefix, s));
    }
    const period = Duration.minutes(5);
    for (const [name, machine] of this.everyStateMachine()) {
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
    const failureDestinations: [string, string, sqs.Queue, string][] = [
      [
        'RecoverInFlightFailuresNotEmpty',
        'recover-in-flight-failures-not-empty',
        this.promotion.asyncFailureQueue,
        'A crash-sweeper run failed after its retries',
      ],
      ...(this.day3
        ? ([
            [
              'RollbackMonitorFailuresNotEmpty',
              'rollback-monitor-failures-not-empty',
              this.day3.asyncFailureQueue,
              'A rollback-monitor tick failed after its retries',
            ],
          ] as [string, string, sqs.Queue, string][])
        : []),
    ];
    for (const [id, name, queue, what] of failureDestinations) {
      this.alarm(id, {
        alarmName: `${this.names.prefix}-${name}`,
        alarmDescription: `${what} (asynchronous invocation, message in the failure destination). Runbook: docs/runbook.md#the-rollback-monitor-failed`,
        ...dlqNotEmpty(queue),
      });
    }
  }

  /** Every state machine of the stack, by name (time-out and throttle alarms). */
  private everyStateMachine(): [string, sfn.StateMachine][] {
    const n = this.names;
    return [
      [n.stateMachine, this.stateMachine],
      [n.promotionStateMachine, this.promotion.stateMachine],
      [n.paperSessionStateMachine, this.promotion.paperSession],
      [n.learningStateMachine, this.learning.stateMachine],
      [`${n.prefix}-audit-compaction`, this.auditCompaction.stateMachine],
      ...(this.day3
        ? ([[n.day3StateMachine, this.day3.stateMachine]] as [string, sfn.StateMachine][])
        : []),
      ...(this.ingestion
        ? ([[n.ingestionStateMachine, this.ingestion.stateMachine]] as [string, sfn.StateMachine][])
        : []),
    ];
  }

  /**
   * The equity (and market-free) schedules' starts per UTC day, for their did-not-run alarms.
   * The workflows both markets share and the rollback monitor are counted by market
   * ({@link workflowStarts}, {@link rollbackMonitorTicks}); the others by their own target.
   */
  private scheduleStarts(): ScheduleStarts[] {
    const { schedules } = this.config;
    const equity = 'equity-usa';
    const shared = [
      startsRow(
        'CohortStart',
        'cohort-start',
        schedules.cohortStart,
        this.workflowStarts('intraday-cohort', equity),
      ),
      // weekdayCronAt: always MON-FRI
      startsRow(
        'PromotionStart',
        'promotion-start',
        schedules.promotionStart,
        this.workflowStarts('promotion-pipeline', equity),
        true,
      ),
      startsRow(
        'LearningCycle',
        'learning-cycle',
        schedules.learningCycle,
        this.workflowStarts('learning-cycle', equity),
      ),
    ];
    const day3 = this.day3
      ? [
          startsRow(
            'Day3GoNoGo',
            'day3-go-no-go',
            schedules.day3GoNoGo,
            this.workflowStarts('day3-go-no-go', equity),
          ),
          // rollbackMonitorSchedules: MON-FRI
          startsRow(
            'RollbackMonitor',
            'rollback-monitor',
            schedules.rollbackMonitor,
            this.rollbackMonitorTicks(equity),
            true,
          ),
        ]
      : [];
    return [...shared, ...this.ownTargetStarts(), ...day3];
  }

  /** The schedules whose target serves one market or none: counted by the target itself. */
  private ownTargetStarts(): ScheduleStarts[] {
    const { schedules } = this.config;
    const day = Duration.days(1);
    return [
      startsRow(
        'AuditCompaction',
        'audit-compaction',
        DEFAULT_AUDIT_COMPACTION_SCHEDULE,
        this.auditCompaction.stateMachine.metricStarted({ period: day, statistic: 'Sum' }),
      ),
      ...(this.ingestion
        ? [
            startsRow(
              'SessionIngestion',
              'session-ingestion',
              schedules.sessionIngestion,
              this.ingestion.stateMachine.metricStarted({ period: day, statistic: 'Sum' }),
            ),
          ]
        : []),
      // rate(1 hour), every day
      startsRow(
        'RecoverInFlight',
        'recover-in-flight',
        { enabled: true },
        this.promotion.recoverInFlight.metricInvocations({ period: day, statistic: 'Sum' }),
      ),
      // One function serves both markets' reports: counted by market (DailyReportRuns).
      ...(this.chatOps
        ? [
            startsRow(
              'DailyReport',
              'daily-report',
              schedules.dailyReport,
              this.dailyReportRuns('equity-usa'),
            ),
          ]
        : []),
    ];
  }

  /**
   * Every function of the stack (cohort, pipeline, learning, Day-3, approval, ingestion,
   * console, chat-ops, then the crash sweeper and the audit verifier: `errorsAlarmedElsewhere`,
   * by the sweeper's failure destination and the compaction's executions-failed alarm).
   */
  private everyFunction(): {
    id: string;
    file: string;
    fn: StagegateFunction;
    errorsAlarmedElsewhere?: true;
  }[] {
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
      ...(this.ingestion
        ? [
            {
              id: 'ingestSession',
              file: INGESTION_HANDLERS.ingestSession.file,
              fn: this.ingestion.ingestSession,
            },
          ]
        : []),
      { id: 'consoleApi', file: CONSOLE_HANDLERS.consoleApi.file, fn: this.console.function },
      ...(this.chatOps
        ? [
            {
              id: 'slackCommand',
              file: CHATOPS_HANDLERS.slackCommand.file,
              fn: this.chatOps.function,
            },
            {
              id: 'postDailyReport',
              file: CHATOPS_HANDLERS.postDailyReport.file,
              fn: this.chatOps.dailyReport.function,
            },
          ]
        : []),
      {
        id: 'recoverInFlight',
        file: RECOVERY_HANDLERS.recoverInFlight.file,
        fn: this.promotion.recoverInFlight,
        errorsAlarmedElsewhere: true,
      },
      {
        id: 'verifyAuditDay',
        file: 'verify-audit-day',
        fn: this.auditCompaction.verifyFunction,
        errorsAlarmedElsewhere: true,
      },
    ];
  }
}

/**
 * One did-not-run row: expected Monday to Friday when `weekdaysOnly` (default: the schedule's
 * expression says `MON-FRI`), else every day.
 */
function startsRow(
  id: string,
  name: string,
  schedule: { readonly enabled: boolean; readonly expression?: string },
  starts: cloudwatch.IMetric,
  weekdaysOnly = /MON-FRI/.test(schedule.expression ?? ''),
): ScheduleStarts {
  return { id, name, enabled: schedule.enabled, weekdaysOnly, starts };
}

/** At least one event per period. */
const atLeastOnce = {
  threshold: 1,
  evaluationPeriods: 1,
  comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
};

/** A queue (dead letters, failure destination) holds a message. */
function dlqNotEmpty(queue: sqs.IQueue) {
  return {
    metric: queue.metricApproximateNumberOfMessagesVisible({
      period: Duration.minutes(5),
      statistic: 'Maximum',
    }),
    threshold: 0,
    evaluationPeriods: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
  };
}

/** One workflow's failed-executions and schedule-DLQ alarms (see `workflowFailureRows`). */
interface WorkflowFailureRow {
  readonly id: string;
  readonly machineName: string;
  readonly machine: sfn.StateMachine;
  /** The executions-failed alarm's description. */
  readonly failed: string;
  readonly dlq: { readonly id: string; readonly name: string; readonly queue: sqs.Queue };
  /** What the scheduler could not start (the DLQ alarm's description). */
  readonly starts: string;
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
