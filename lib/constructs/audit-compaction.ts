/**
 * The daily audit compaction of one environment (docs/audit.md#compaction): the
 * `verify-audit-day` function, the Standard state machine loaded from
 * `statemachines/audit-compaction.asl.json`, the EventBridge Scheduler schedule that starts it
 * (UTC, input `{"source":"schedule","scheduledTime":<aws.scheduler.scheduled-time>}`) with
 * retries and a dead-letter queue, and its alarms.
 *
 * Grants (least privilege):
 *
 * | principal | what | resources |
 * | --- | --- | --- |
 * | `verify-audit-day` | s3:GetObject; s3:ListBucket with `s3:prefix` condition | `audit/env=<stage>/` |
 * | | s3:GetObject, s3:PutObject; s3:ListBucket with `s3:prefix` condition | `audit-manifests/env=<stage>/` (day manifests) |
 * | | dynamodb:GetItem, PutItem (LeadingKeys `AUDIT_ANCHOR#*`) | the table (the day anchor) |
 * | | dynamodb:GetItem (LeadingKeys `AUDIT_STREAM#*`) | the table (heads of the day's streams) |
 * | | dynamodb:Query | index `audit-heads` (the heads written since the day) |
 * | state machine (Athena runs with its credentials) | athena:Start/Get/StopQueryExecution | the stage's workgroup |
 * | | athena:GetDataCatalog | `AwsDataCatalog` |
 * | | glue:GetDatabase/GetTable/GetPartition(s)/BatchCreatePartition | catalog, database, `audit_jsonl`, `audit_parquet` |
 * | | s3:GetObject + ListBucket (prefix condition) | `audit/env=<stage>/`, `audit-parquet/env=<stage>/` |
 * | | s3:PutObject, AbortMultipartUpload, ListMultipartUploadParts | `audit-parquet/env=<stage>/` and the results prefix |
 * | | kms:Decrypt/GenerateDataKey via S3 | the environment's key, when it has one |
 *
 * Athena's own permission list for Step Functions ("IAM policies for Amazon Athena", Step
 * Functions developer guide) is broader (all Glue table actions, `*` resources); this keeps the
 * read/insert subset an `INSERT INTO ... SELECT` over two known tables needs.
 */
import { ArnFormat, Duration, RemovalPolicy, Stack, TimeZone } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { AUDIT_HEADS_INDEX } from '../../functions/core/audit/keys.js';
import type { EnvironmentConfig } from '../config/environment-config.js';
import { PARTITIONS, PREFIXES, type ResourceNames } from '../config/naming.js';
import { HANDLERS, type HandlerSpec } from '../handlers.js';
import { REPO_ROOT } from '../paths.js';
import { aslStateMachine } from './asl-state-machine.js';
import { acknowledgeNag, wildcardResourceFinding } from './nag.js';
import type { FunctionFactory } from './promotion-pipeline.js';
import { scheduledStart } from './scheduled-start.js';
import type { StagegateFunction } from './stagegate-function.js';

/** The audit-compaction state machine (JSONPath ASL with `${...}` placeholders). */
export const AUDIT_COMPACTION_ASL = `${REPO_ROOT}/statemachines/audit-compaction.asl.json`;

/** The compaction's own function (`statemachines/audit-compaction.asl.json`). */
export const AUDIT_COMPACTION_HANDLERS = {
  verifyAuditDay: {
    file: 'verify-audit-day',
    aslPlaceholder: 'VerifyAuditDayFunctionArn',
    // Reads and hashes one day of records (one object each): I/O bound, 16 GETs in flight.
    memoryMb: 1024,
    timeoutSeconds: 540,
    description:
      "Verifies one UTC day's audit records (chains and completeness) and anchors its day manifest before compaction",
  },
} as const satisfies Record<string, HandlerSpec>;

/** Default start: 00:15 UTC daily (the day before is complete by then). */
export const DEFAULT_AUDIT_COMPACTION_SCHEDULE = {
  expression: 'cron(15 0 * * ? *)',
  enabled: true,
} as const;

export interface AuditCompactionProps {
  /** The environment's validated config (stage, logs). */
  readonly config: EnvironmentConfig;
  /** Physical names of the environment (`resourceNames(stage)`). */
  readonly names: ResourceNames;
  /** The audit bucket (reads `audit/env=<stage>/`, writes `audit-parquet/env=<stage>/`). */
  readonly auditBucket: IBucket;
  /**
   * The single table: stream heads (read through the `audit-heads` index and by GetItem) and
   * the day anchor (`AUDIT_ANCHOR#<stage>`).
   */
  readonly table: ITableV2;
  /** The Athena results bucket of the stage's workgroup. */
  readonly resultsBucket: IBucket;
  /** The environment's customer-managed key, when it has one (buckets and Athena results). */
  readonly dataKey?: kms.IKey;
  /** The shared record-audit function (the Catch paths call it). */
  readonly recordAudit: StagegateFunction;
  /** The environment's schedule group. */
  readonly scheduleGroup: scheduler.IScheduleGroup;
  /** Builds the function with the stack's defaults (runtime, logs, env). */
  readonly newFunction: FunctionFactory;
  /** Receives the alarms' ALARM and OK notifications. */
  readonly alarmTopic: sns.ITopic;
  /**
   * When to start (evaluated in UTC); a `schedules.auditCompaction` config field can feed it.
   * @default DEFAULT_AUDIT_COMPACTION_SCHEDULE
   */
  readonly schedule?: { readonly expression: string; readonly enabled: boolean };
}

/**
 * The wildcard findings of the Athena policy, each with its reason: the JSON-lines records
 * (read), the Parquet files and the query results (written with generated names).
 */
function acknowledgeAthenaWildcards(
  athenaPolicy: iam.Policy,
  prefixes: { readonly jsonPrefix: string; readonly parquetPrefix: string },
  [jsonObjects, parquetObjects, resultObjects]: readonly [string, string, string],
): void {
  const { jsonPrefix, parquetPrefix } = prefixes;
  const wildcardReasons: [string, string][] = [
    [
      jsonObjects,
      `Athena reads the day's JSON-lines objects with the state machine's credentials; "${jsonPrefix}/*" is this stage's record prefix (read only).`,
    ],
    [
      parquetObjects,
      `INSERT INTO writes Parquet files with generated names under the day's partition; "${parquetPrefix}/*" is this stage's Parquet prefix (no delete).`,
    ],
    [
      resultObjects,
      `Athena writes query results and metadata with generated names under the workgroup's enforced result location "${PREFIXES.athenaResults}/*".`,
    ],
  ];
  for (const [resource, reason] of wildcardReasons) {
    acknowledgeNag(athenaPolicy, wildcardResourceFinding(athenaPolicy, resource), reason);
  }
}

/** The daily audit compaction of one environment (see the module comment). */
export class AuditCompaction extends Construct {
  /** `verify-audit-day`. */
  public readonly verifyFunction: StagegateFunction;
  /** `stagegate-<stage>-audit-compaction` (Standard). */
  public readonly stateMachine: sfn.StateMachine;
  /** Starts the compaction daily (UTC). */
  public readonly schedule: scheduler.Schedule;
  /** `stagegate-<stage>-audit-compaction-schedule-dlq`. */
  public readonly scheduleDeadLetterQueue: sqs.Queue;
  /** Failed executions, DLQ depth, function errors. */
  public readonly alarms: cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: AuditCompactionProps) {
    super(scope, id);
    const { config, names } = props;
    const stage = config.stage;
    const jsonPrefix = `${PREFIXES.auditJsonLines}/env=${stage}`;
    const parquetPrefix = `${PREFIXES.auditParquet}/env=${stage}`;
    const stateMachineName = `${names.prefix}-audit-compaction`;

    this.verifyFunction = props.newFunction(
      this,
      'verifyAuditDay',
      AUDIT_COMPACTION_HANDLERS.verifyAuditDay,
      {},
    );
    // The same core use case as the local `audit compact` (verifyAndAnchorAuditDay): manifests
    // in the bucket, the anchor and the heads in the table.
    this.verifyFunction
      .usesTableItemsIn(props.table, [PARTITIONS.auditAnchor], ['GetItem', 'PutItem'])
      .usesTableItemsIn(props.table, [PARTITIONS.auditStream], ['GetItem'])
      .queriesIndex(props.table, AUDIT_HEADS_INDEX);
    this.grantVerifyReads(props, jsonPrefix);

    this.stateMachine = aslStateMachine(this, 'AuditCompaction', {
      stateMachineName,
      definitionFile: AUDIT_COMPACTION_ASL,
      tasks: {
        [AUDIT_COMPACTION_HANDLERS.verifyAuditDay.aslPlaceholder]: this.verifyFunction,
        [HANDLERS.recordAudit.aslPlaceholder]: props.recordAudit,
      },
      values: {
        Stage: stage,
        AuditDatabase: names.glueDatabase,
        AuditJsonTable: names.auditJsonTable,
        AuditParquetTable: names.auditParquetTable,
        AuditWorkgroup: names.athenaWorkgroup,
      },
      logRetention: config.logs.retentionDays as logs.RetentionDays,
      logRemovalPolicy:
        config.removalPolicy === 'retain' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });

    this.grantAthena(props, jsonPrefix, parquetPrefix);

    const when = props.schedule ?? DEFAULT_AUDIT_COMPACTION_SCHEDULE;
    const started = scheduledStart(this, {
      machine: this.stateMachine,
      // A failed day can be re-run with {"date": "YYYY-MM-DD"} (docs/runbook.md).
      schedule: { ...when, timezone: TimeZone.ETC_UTC.timezoneName },
      group: props.scheduleGroup,
      name: 'audit-compaction',
      description: `Compacts the previous UTC day of ${stage} audit records (${when.expression} UTC)`,
      id: 'AuditCompactionStart',
      deadLetterQueue: {
        id: 'AuditCompactionScheduleDlq',
        name: `${names.prefix}-audit-compaction-schedule-dlq`,
      },
      withScheduledTime: true,
    });
    this.schedule = started.schedule;
    this.scheduleDeadLetterQueue = started.deadLetterQueue;

    this.alarms = this.buildAlarms(names, stateMachineName, props.alarmTopic);
  }

  /**
   * The policy `VerifyReadsAudit` of verify-audit-day: read the stage's JSON-lines records,
   * read and write its day manifests, list both prefixes, use the data key.
   */
  private grantVerifyReads(props: AuditCompactionProps, jsonPrefix: string): void {
    const { auditBucket, dataKey } = props;
    const stack = Stack.of(this);
    const stage = props.config.stage;
    const jsonObjects = auditBucket.arnForObjects(`${jsonPrefix}/*`);
    const manifestPrefix = `${PREFIXES.auditManifests}/env=${stage}`;
    const manifestObjects = auditBucket.arnForObjects(`${manifestPrefix}/*`);
    const verifyPolicy = new iam.Policy(this, 'VerifyReadsAudit', {
      roles: [this.verifyFunction.executionRole],
      statements: [
        new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [jsonObjects] }),
        new iam.PolicyStatement({
          actions: ['s3:GetObject', 's3:PutObject'],
          resources: [manifestObjects],
        }),
        new iam.PolicyStatement({
          actions: ['s3:ListBucket'],
          resources: [auditBucket.bucketArn],
          conditions: { StringLike: { 's3:prefix': [`${jsonPrefix}/*`, `${manifestPrefix}/*`] } },
        }),
        ...keyStatements(stack, dataKey, ['kms:Decrypt', 'kms:GenerateDataKey']),
      ],
    });
    acknowledgeNag(
      verifyPolicy,
      wildcardResourceFinding(verifyPolicy, jsonObjects),
      `verify-audit-day reads every record object of one day; "${jsonPrefix}/*" is the narrowest ARN covering this stage's JSON-lines records (read only).`,
    );
    acknowledgeNag(
      verifyPolicy,
      wildcardResourceFinding(verifyPolicy, manifestObjects),
      `verify-audit-day reads the day manifests and writes the verified day's; "${manifestPrefix}/*" is the narrowest ARN covering this stage's manifests (one object per day).`,
    );
  }

  /**
   * The policy `AuditCompactionAthena` of the state machine: run queries in the workgroup,
   * read the Glue tables and add partitions, read the JSON-lines records, write the Parquet
   * files and the query results, use the data key.
   */
  private grantAthena(
    props: AuditCompactionProps,
    jsonPrefix: string,
    parquetPrefix: string,
  ): void {
    const { names, auditBucket, resultsBucket, dataKey } = props;
    const stack = Stack.of(this);
    const jsonObjects = auditBucket.arnForObjects(`${jsonPrefix}/*`);
    const arn = (service: string, resource: string, resourceName?: string) =>
      stack.formatArn({
        service,
        resource,
        resourceName,
        arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
      });
    const parquetObjects = auditBucket.arnForObjects(`${parquetPrefix}/*`);
    const resultObjects = resultsBucket.arnForObjects(`${PREFIXES.athenaResults}/*`);
    const athenaPolicy = new iam.Policy(this, 'AuditCompactionAthena', {
      roles: [this.stateMachine.role as iam.Role],
      statements: [
        new iam.PolicyStatement({
          actions: [
            'athena:StartQueryExecution',
            'athena:GetQueryExecution',
            'athena:StopQueryExecution',
          ],
          resources: [arn('athena', 'workgroup', names.athenaWorkgroup)],
        }),
        new iam.PolicyStatement({
          actions: ['athena:GetDataCatalog'],
          resources: [arn('athena', 'datacatalog', 'AwsDataCatalog')],
        }),
        new iam.PolicyStatement({
          actions: [
            'glue:GetDatabase',
            'glue:GetTable',
            'glue:GetPartition',
            'glue:GetPartitions',
            'glue:BatchCreatePartition',
          ],
          resources: [
            arn('glue', 'catalog'),
            arn('glue', 'database', names.glueDatabase),
            arn('glue', 'table', `${names.glueDatabase}/${names.auditJsonTable}`),
            arn('glue', 'table', `${names.glueDatabase}/${names.auditParquetTable}`),
          ],
        }),
        new iam.PolicyStatement({
          actions: ['s3:GetBucketLocation'],
          resources: [auditBucket.bucketArn, resultsBucket.bucketArn],
        }),
        new iam.PolicyStatement({
          actions: ['s3:ListBucket', 's3:ListBucketMultipartUploads'],
          resources: [auditBucket.bucketArn],
          conditions: { StringLike: { 's3:prefix': [`${jsonPrefix}/*`, `${parquetPrefix}/*`] } },
        }),
        new iam.PolicyStatement({
          actions: ['s3:ListBucket', 's3:ListBucketMultipartUploads'],
          resources: [resultsBucket.bucketArn],
          conditions: { StringLike: { 's3:prefix': [`${PREFIXES.athenaResults}/*`] } },
        }),
        new iam.PolicyStatement({
          actions: ['s3:GetObject'],
          resources: [jsonObjects, parquetObjects, resultObjects],
        }),
        new iam.PolicyStatement({
          actions: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
          resources: [parquetObjects, resultObjects],
        }),
        ...keyStatements(stack, dataKey, ['kms:Decrypt', 'kms:GenerateDataKey']),
      ],
    });
    acknowledgeAthenaWildcards(athenaPolicy, { jsonPrefix, parquetPrefix }, [
      jsonObjects,
      parquetObjects,
      resultObjects,
    ]);
  }

  private buildAlarms(
    names: ResourceNames,
    stateMachineName: string,
    topic: sns.ITopic,
  ): cloudwatch.Alarm[] {
    const period = Duration.minutes(5);
    const machine = this.stateMachine;
    const alarm = (id: string, props: cloudwatch.AlarmProps) => {
      const a = new cloudwatch.Alarm(this, id, {
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        ...props,
      });
      a.addAlarmAction(new cwActions.SnsAction(topic));
      a.addOkAction(new cwActions.SnsAction(topic));
      return a;
    };
    return [
      alarm('AuditCompactionExecutionsFailed', {
        alarmName: `${stateMachineName}-executions-failed`,
        alarmDescription:
          'An audit-compaction execution failed, timed out or was aborted (a broken hash chain stops it before anything is compacted; an empty day ends as a succeeded skip). Runbook: docs/runbook.md#an-audit-compaction-execution-failed',
        metric: new cloudwatch.MathExpression({
          expression: 'FILL(failed, 0) + FILL(timedOut, 0) + FILL(aborted, 0)',
          usingMetrics: {
            failed: machine.metricFailed({ period, statistic: 'Sum' }),
            timedOut: machine.metricTimedOut({ period, statistic: 'Sum' }),
            aborted: machine.metricAborted({ period, statistic: 'Sum' }),
          },
          label: 'failed + timed out + aborted executions',
          period,
        }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      }),
      alarm('AuditCompactionScheduleDlqNotEmpty', {
        alarmName: `${names.prefix}-audit-compaction-schedule-dlq-not-empty`,
        alarmDescription:
          'The scheduler could not start the audit compaction (message in the DLQ). Runbook: docs/runbook.md#the-schedule-dead-letter-queue-is-not-empty',
        metric: this.scheduleDeadLetterQueue.metricApproximateNumberOfMessagesVisible({
          period,
          statistic: 'Maximum',
        }),
        threshold: 0,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      }),
      alarm('verifyAuditDayErrors', {
        alarmName: `${names.prefix}-${AUDIT_COMPACTION_HANDLERS.verifyAuditDay.file}-errors`,
        alarmDescription: `The ${AUDIT_COMPACTION_HANDLERS.verifyAuditDay.file} function threw. Runbook: docs/runbook.md#a-function-reports-errors`,
        metric: this.verifyFunction.metricErrors({ period, statistic: 'Sum' }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      }),
    ];
  }
}

/** kms actions on `key` through S3 only (none without a key). */
function keyStatements(
  stack: Stack,
  key: kms.IKey | undefined,
  actions: string[],
): iam.PolicyStatement[] {
  if (!key) return [];
  return [
    new iam.PolicyStatement({
      actions,
      resources: [key.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `s3.${stack.region}.amazonaws.com` } },
    }),
  ];
}
