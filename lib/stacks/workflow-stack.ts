/**
 * The stateless part of one environment: the five cohort Lambda functions (least-privilege
 * grants), the intraday cohort state machine (loaded from `statemachines/*.asl.json`), its
 * EventBridge Scheduler schedule with a dead-letter queue, the alarm topic, alarms and a
 * dashboard.
 */
import { Duration, RemovalPolicy, Stack, type StackProps, TimeZone } from 'aws-cdk-lib';
import * as chatbot from 'aws-cdk-lib/aws-chatbot';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import type { EnvironmentConfig } from '../config/environment-config.js';
import { PREFIXES, type ResourceNames, resourceNames } from '../config/naming.js';
import { acknowledgeNag, STAR_RESOURCE_FINDING } from '../constructs/nag.js';
import { StagegateFunction } from '../constructs/stagegate-function.js';
import { entryOf, HANDLERS, type HandlerName } from '../handlers.js';
import { INTRADAY_COHORT_ASL } from '../paths.js';

export interface WorkflowStackProps extends StackProps {
  readonly config: EnvironmentConfig;
  /** The single table (from the stateful stack). */
  readonly table: ITableV2;
  /** The environment's customer-managed key, when it has one (encrypts the buckets). */
  readonly dataKey?: kms.IKey;
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

  constructor(scope: Construct, id: string, props: WorkflowStackProps) {
    super(scope, id, props);
    const { config, table, dataKey } = props;
    const stage = config.stage;
    this.names = resourceNames(stage);
    const names = this.names;

    // Buckets are addressed by their deterministic names (no cross-stack export).
    const bucket = (purpose: 'artifacts' | 'market-data' | 'audit') =>
      s3.Bucket.fromBucketAttributes(this, `${purpose}-bucket`, {
        bucketName: names.bucket(purpose),
        encryptionKey: dataKey,
      });
    const artifacts = bucket('artifacts');
    const marketData = bucket('market-data');
    const audit = bucket('audit');

    const logRetention = config.logs.retentionDays as logs.RetentionDays;
    const fn = (name: HandlerName) => {
      const spec = HANDLERS[name];
      const f = new StagegateFunction(this, name, {
        entry: entryOf(spec),
        stage,
        serviceName: spec.file,
        metricsNamespace: `stagegate/${stage}`,
        logLevel: config.logs.level,
        logRetention,
        logRemovalPolicy:
          config.removalPolicy === 'retain' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
        memorySize: spec.memoryMb,
        timeout: Duration.seconds(spec.timeoutSeconds),
        description: `${spec.description} (${stage})`,
        environment: {
          TABLE_NAME: table.tableName,
          ARTIFACTS_BUCKET: artifacts.bucketName,
          AUDIT_BUCKET: audit.bucketName,
          MARKET_DATA_URI: `s3://${marketData.bucketName}/${PREFIXES.marketData}`,
        },
      });
      acknowledgeNag(
        f,
        'AwsSolutions-L1',
        'nodejs22.x is pinned on purpose: the code is built, tested and benchmarked on Node 22 (the repo toolchain); move to nodejs24.x together with the toolchain.',
      );
      return f;
    };

    // Each grant mirrors what the handler's adapters call (functions/adapters/**).
    this.functions = {
      // LEAN zips: ListObjectsV2 + GetObject under lean/.
      loadMarketData: fn('loadMarketData').readsObjects(marketData, PREFIXES.marketData),
      // Reads the session again, writes cohorts/<date>/<id>/simulation.json.
      runCohort: fn('runCohort')
        .readsObjects(marketData, PREFIXES.marketData)
        .writesObjects(artifacts, PREFIXES.cohortArtifacts),
      // Reads simulation.json, writes score.json.
      scoreCohort: fn('scoreCohort').readsAndWritesObjects(artifacts, PREFIXES.cohortArtifacts),
      // Reads score.json; conditional PutItem of the header, BatchWriteItem of the agent
      // rows, GetItem to recognise its own retry.
      persistCohort: fn('persistCohort')
        .readsObjects(artifacts, PREFIXES.cohortArtifacts)
        .usesTableItems(table, ['GetItem', 'PutItem', 'BatchWriteItem']),
      // HeadObject (needs GetObject) finishes interrupted writes, PutObject (If-None-Match)
      // appends; rejected drafts go to the dead-letter prefix; stream heads (hash-chain tips)
      // are read with GetItem and advanced with a conditional UpdateItem.
      recordAudit: fn('recordAudit')
        .readsAndWritesObjects(audit, `${PREFIXES.auditJsonLines}/env=${stage}`)
        .writesObjects(audit, `${PREFIXES.auditDeadLetter}/env=${stage}`)
        .usesTableItems(table, ['GetItem', 'UpdateItem']),
    };

    this.stateMachine = this.buildStateMachine(config);
    const dlq = this.buildSchedule(config);
    this.scheduleDeadLetterQueue = dlq.queue;
    this.scheduleGroup = dlq.group;
    this.cohortSchedule = dlq.schedule;
    this.alarmTopic = this.buildAlarmTopic(config, dataKey);
    this.buildAlarms();
    this.dashboard = this.buildDashboard();
  }

  private buildStateMachine(config: EnvironmentConfig): sfn.StateMachine {
    const logGroup = new logs.LogGroup(this, 'IntradayCohortLogs', {
      // The vendedlogs prefix keeps CloudWatch Logs resource policies small.
      logGroupName: `/aws/vendedlogs/states/${this.names.stateMachine}`,
      retention: config.logs.retentionDays as logs.RetentionDays,
      removalPolicy:
        config.removalPolicy === 'retain' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    const substitutions = Object.fromEntries(
      (Object.keys(HANDLERS) as HandlerName[]).map((name) => [
        HANDLERS[name].aslPlaceholder,
        this.functions[name].functionArn,
      ]),
    );
    const machine = new sfn.StateMachine(this, 'IntradayCohort', {
      stateMachineName: this.names.stateMachine,
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromFile(INTRADAY_COHORT_ASL),
      definitionSubstitutions: substitutions,
      tracingEnabled: true,
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
    });
    // The definition comes from a file, so CDK cannot infer task permissions: grant
    // lambda:InvokeFunction on exactly the five functions (unqualified ARNs, no versions).
    new iam.Policy(this, 'IntradayCohortInvokeTasks', {
      roles: [machine.role as iam.Role],
      statements: [
        new iam.PolicyStatement({
          actions: ['lambda:InvokeFunction'],
          resources: Object.values(this.functions).map((f) => f.functionArn),
        }),
      ],
    });
    const defaultPolicy = machine.role.node.tryFindChild('DefaultPolicy');
    if (defaultPolicy) {
      acknowledgeNag(
        defaultPolicy,
        STAR_RESOURCE_FINDING,
        'CloudWatch Logs vended delivery (logs:CreateLogDelivery, logs:ListLogDeliveries, ...) and X-Ray (xray:PutTraceSegments, ...) only accept Resource "*"; task permissions are in the separate InvokeTasks policy.',
      );
    }
    return machine;
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
    const { cohort, schedules } = config;
    const schedule = new scheduler.Schedule(this, 'CohortStart', {
      scheduleName: 'cohort-start',
      scheduleGroup: group,
      description: `Starts the ${config.stage} intraday cohort (${schedules.cohortStart.expression} ${schedules.timezone})`,
      schedule: scheduler.ScheduleExpression.expression(
        schedules.cohortStart.expression,
        TimeZone.of(schedules.timezone),
      ),
      timeWindow: scheduler.TimeWindow.off(),
      enabled: schedules.cohortStart.enabled,
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
    const sm = this.stateMachine;
    this.alarm('IntradayCohortExecutionsFailed', {
      alarmName: `${this.names.stateMachine}-executions-failed`,
      alarmDescription:
        'An intraday cohort execution failed, timed out or was aborted. Runbook: docs/runbook.md#a-cohort-execution-failed',
      metric: new cloudwatch.MathExpression({
        expression: 'FILL(failed, 0) + FILL(timedOut, 0) + FILL(aborted, 0)',
        usingMetrics: {
          failed: sm.metricFailed({ period, statistic: 'Sum' }),
          timedOut: sm.metricTimedOut({ period, statistic: 'Sum' }),
          aborted: sm.metricAborted({ period, statistic: 'Sum' }),
        },
        label: 'failed + timed out + aborted executions',
        period,
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    });
    this.alarm('CohortScheduleDlqNotEmpty', {
      alarmName: `${this.names.prefix}-cohort-schedule-dlq-not-empty`,
      alarmDescription:
        'The scheduler could not start the cohort state machine (message in the DLQ). Runbook: docs/runbook.md#the-schedule-dead-letter-queue-is-not-empty',
      metric: this.scheduleDeadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period,
        statistic: 'Maximum',
      }),
      threshold: 0,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    });
    for (const [name, f] of Object.entries(this.functions)) {
      this.alarm(`${name}Errors`, {
        alarmName: `${this.names.prefix}-${HANDLERS[name as HandlerName].file}-errors`,
        alarmDescription: `The ${HANDLERS[name as HandlerName].file} function threw. Runbook: docs/runbook.md#a-function-reports-errors`,
        metric: f.metricErrors({ period, statistic: 'Sum' }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      });
    }
  }

  private buildDashboard(): cloudwatch.Dashboard {
    const sm = this.stateMachine;
    const period = Duration.minutes(5);
    const fns = Object.entries(this.functions);
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: this.names.dashboard,
      defaultInterval: Duration.days(7),
    });
    dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24 }),
    );
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
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Schedule dead-letter queue depth',
        width: 12,
        left: [
          this.scheduleDeadLetterQueue.metricApproximateNumberOfMessagesVisible({
            period,
            statistic: 'Maximum',
          }),
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
