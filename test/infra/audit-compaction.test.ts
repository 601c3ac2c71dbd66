/**
 * The daily audit compaction per stage (built with the context flag
 * `stagegate:auditCompaction`): its UTC schedule with retries, DLQ and the scheduled-time
 * input, the state machine's substitutions, its Athena/Glue/S3 permissions scoped to the
 * stage's workgroup, catalog tables and prefixes, the verify function's read-only grant, the
 * alarms, and cdk-nag cleanliness.
 */
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { STAGES, type Stage } from '../../lib/config/environment-config.js';
import { environments } from '../../lib/config/environments.js';
import { aslPlaceholders } from '../../lib/constructs/asl-state-machine.js';
import {
  AUDIT_COMPACTION_ASL,
  type AuditCompaction,
} from '../../lib/constructs/audit-compaction.js';
import {
  arnOf,
  asArray,
  logicalIdOf,
  render,
  type SynthesizedStage,
  scheduleProps,
  statementsOfRole,
  synthStage,
} from './synth.js';

const built = {} as Record<Stage, SynthesizedStage>;

beforeAll(() => {
  for (const stage of STAGES) {
    built[stage] = synthStage(stage);
  }
});

function compactionOf(stage: Stage): AuditCompaction {
  return built[stage].env.workflow.auditCompaction;
}

/** Statements of a role rendered as `{ actions, resources, condition }` text. */
function renderedStatements(stage: Stage, roleLogicalId: string) {
  return statementsOfRole(built[stage].workflow, roleLogicalId).map((s) => ({
    actions: asArray(s.Action as string | string[]),
    resources: asArray(s.Resource).map(render),
    condition: s.Condition ? JSON.stringify(s.Condition) : '',
  }));
}

function roleOf(template: SynthesizedStage['workflow'], stateMachineLogicalId: string): string {
  const sm = template.findResources('AWS::StepFunctions::StateMachine')[stateMachineLogicalId];
  const roleArn = sm?.Properties.RoleArn as { 'Fn::GetAtt': [string, string] };
  return roleArn['Fn::GetAtt'][0];
}

describe.each(STAGES)('audit compaction (%s)', (stage) => {
  const config = environments[stage];

  it('starts daily at 00:15 UTC, window off, with the scheduled time as input', () => {
    // Prepare
    const { workflow } = built[stage];

    // Act
    const schedule = scheduleProps(workflow, 'audit-compaction');
    const target = schedule.Target as Record<string, unknown>;

    // Assess
    expect(schedule).toEqual(
      expect.objectContaining({
        GroupName: `stagegate-${stage}`,
        ScheduleExpression: 'cron(15 0 * * ? *)',
        ScheduleExpressionTimezone: 'Etc/UTC',
        FlexibleTimeWindow: { Mode: 'OFF' },
        State: 'ENABLED',
      }),
    );
    expect(JSON.parse(String(target.Input))).toEqual({
      source: 'schedule',
      scheduledTime: '<aws.scheduler.scheduled-time>',
    });
  });

  it('targets the state machine with retries and a dead-letter queue', () => {
    // Prepare
    const { workflow } = built[stage];
    const compaction = compactionOf(stage);

    // Act
    const target = scheduleProps(workflow, 'audit-compaction').Target as Record<string, unknown>;

    // Assess
    expect(target.Arn).toEqual({ Ref: logicalIdOf(compaction.stateMachine) });
    expect(target.DeadLetterConfig).toEqual({
      Arn: arnOf(logicalIdOf(compaction.scheduleDeadLetterQueue)),
    });
    expect(target.RetryPolicy).toEqual({ MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 1800 });
    workflow.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: `stagegate-${stage}-audit-compaction-schedule-dlq`,
      SqsManagedSseEnabled: true,
    });
  });

  it('substitutes the stage, catalog, workgroup and both functions into the ASL', () => {
    // Prepare
    const { workflow } = built[stage];
    const compaction = compactionOf(stage);

    // Act
    const sm = workflow.findResources('AWS::StepFunctions::StateMachine')[
      logicalIdOf(compaction.stateMachine)
    ];
    const subs = sm?.Properties.DefinitionSubstitutions as Record<string, unknown>;

    // Assess
    expect(sm?.Properties.StateMachineName).toBe(`stagegate-${stage}-audit-compaction`);
    expect(sm?.Properties.StateMachineType).toBe('STANDARD');
    expect(Object.keys(subs).sort()).toEqual(aslPlaceholders(AUDIT_COMPACTION_ASL));
    expect(subs).toEqual(
      expect.objectContaining({
        Stage: stage,
        AuditDatabase: `stagegate_${stage}`,
        AuditJsonTable: 'audit_jsonl',
        AuditParquetTable: 'audit_parquet',
        AuditWorkgroup: `stagegate-${stage}`,
        VerifyAuditDayFunctionArn: arnOf(logicalIdOf(compaction.verifyFunction)),
      }),
    );
  });

  it('lets the state machine run Athena only in the stage workgroup, on the two audit tables', () => {
    // Prepare
    const { workflow } = built[stage];
    const role = roleOf(workflow, logicalIdOf(compactionOf(stage).stateMachine));

    // Act
    const statements = renderedStatements(stage, role);
    const athena = statements.filter((s) => s.actions.some((a) => a.startsWith('athena:')));
    const glue = statements.filter((s) => s.actions.some((a) => a.startsWith('glue:')));

    // Assess
    expect(athena.flatMap((s) => s.actions).sort()).toEqual([
      'athena:GetDataCatalog',
      'athena:GetQueryExecution',
      'athena:StartQueryExecution',
      'athena:StopQueryExecution',
    ]);
    for (const s of athena) {
      for (const r of s.resources) {
        expect(r).toMatch(
          new RegExp(`:(workgroup/stagegate-${stage}|datacatalog/AwsDataCatalog)$`),
        );
      }
    }
    expect(glue.flatMap((s) => s.actions).sort()).toEqual([
      'glue:BatchCreatePartition',
      'glue:GetDatabase',
      'glue:GetPartition',
      'glue:GetPartitions',
      'glue:GetTable',
    ]);
    expect(
      glue.flatMap((s) => s.resources.map((r) => r.replace(/^.*\{AWS::AccountId\}:/, ''))),
    ).toEqual([
      'catalog',
      `database/stagegate_${stage}`,
      `table/stagegate_${stage}/audit_jsonl`,
      `table/stagegate_${stage}/audit_parquet`,
    ]);
  });

  it('reads only audit/env=<stage>/ and writes only audit-parquet/env=<stage>/ and Athena results', () => {
    // Prepare
    const { workflow } = built[stage];
    const role = roleOf(workflow, logicalIdOf(compactionOf(stage).stateMachine));

    // Act
    const s3 = renderedStatements(stage, role).filter((s) =>
      s.actions.some((a) => a.startsWith('s3:')),
    );
    const objects = (action: string) =>
      s3
        .filter((s) => s.actions.includes(action))
        .flatMap((s) => s.resources)
        .map((r) =>
          r.replace(/^.*stagegate-\w+-([a-z-]+)-\{AWS::AccountId\}-\{AWS::Region\}/, '$1'),
        )
        .sort();
    const lists = s3.filter((s) => s.actions.includes('s3:ListBucket'));

    // Assess
    expect(objects('s3:GetObject')).toEqual([
      'athena-results/results/*',
      `audit/audit-parquet/env=${stage}/*`,
      `audit/audit/env=${stage}/*`,
    ]);
    expect(objects('s3:PutObject')).toEqual([
      'athena-results/results/*',
      `audit/audit-parquet/env=${stage}/*`,
    ]);
    expect(s3.flatMap((s) => s.actions)).not.toContain('s3:DeleteObject');
    expect(lists.length).toBeGreaterThan(0);
    for (const s of lists) expect(s.condition).toContain('s3:prefix');
  });

  it('gives the verify function read-only access to audit/env=<stage>/ and its day manifests', () => {
    // Prepare
    const { workflow } = built[stage];
    const fn = compactionOf(stage).verifyFunction;

    // Act
    const s3 = renderedStatements(stage, logicalIdOf(fn.executionRole)).filter((s) =>
      s.actions.some((a) => a.startsWith('s3:')),
    );
    const objects = (action: string) =>
      s3
        .filter((s) => s.actions.includes(action))
        .flatMap((s) => s.resources)
        .map((r) => r.replace(/^.*?\/(audit[^/]*\/)/, '$1'))
        .sort();

    // Assess: records are read only; manifests are read and written; listing is by prefix.
    expect(objects('s3:GetObject')).toEqual([
      `audit-manifests/env=${stage}/*`,
      `audit/env=${stage}/*`,
    ]);
    expect(objects('s3:PutObject')).toEqual([`audit-manifests/env=${stage}/*`]);
    expect(s3.flatMap((s) => s.actions).filter((a) => a.startsWith('s3:Delete'))).toEqual([]);
    const list = s3.filter((s) => s.actions.includes('s3:ListBucket'));
    expect(list).toHaveLength(1);
    expect(list[0]?.condition).toContain(`audit/env=${stage}/*`);
    expect(list[0]?.condition).toContain(`audit-manifests/env=${stage}/*`);
    expect(workflow.findResources('AWS::Lambda::Function')[logicalIdOf(fn)]).toBeDefined();
  });

  it('lets the verify function move only the day anchor and read the stream heads', () => {
    // Prepare
    const fn = compactionOf(stage).verifyFunction;

    // Act
    const ddb = renderedStatements(stage, logicalIdOf(fn.executionRole)).filter((s) =>
      s.actions.some((a) => a.startsWith('dynamodb:')),
    );

    // Assess: writes only AUDIT_ANCHOR# items; the heads are read by key and through their
    // index, never by a table Scan (whose cost would grow with the whole table).
    const writes = ddb.filter((s) => s.actions.some((a) => /Put|Update|Delete|Write/.test(a)));
    expect(writes).toHaveLength(1);
    expect(writes[0]?.actions.sort()).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem']);
    expect(writes[0]?.condition).toContain('AUDIT_ANCHOR#*');
    expect(ddb.flatMap((s) => s.actions).sort()).toEqual([
      'dynamodb:GetItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
    ]);
    const headReads = ddb.filter((s) => s.condition.includes('AUDIT_STREAM#*'));
    expect(headReads.flatMap((s) => s.actions)).toEqual(['dynamodb:GetItem']);
    const query = ddb.filter((s) => s.actions.includes('dynamodb:Query'));
    expect(query.flatMap((s) => s.resources).join(' ')).toContain('/index/audit-heads');
  });

  it('uses the KMS key through S3 only, when the stage has one', () => {
    // Prepare
    const { workflow } = built[stage];
    const role = roleOf(workflow, logicalIdOf(compactionOf(stage).stateMachine));

    // Act
    const kms = renderedStatements(stage, role).filter((s) =>
      s.actions.some((a) => a.startsWith('kms:')),
    );

    // Assess
    if (config.kms.customerManagedKey) {
      expect(kms.flatMap((s) => s.actions).sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
      for (const s of kms) expect(s.condition).toMatch(/kms:ViaService.*s3\./);
    } else {
      expect(kms).toEqual([]);
    }
  });

  it('alarms on failed executions, a non-empty DLQ and verify errors, to the topic', () => {
    // Prepare
    const { workflow, env } = built[stage];
    const topic = { Ref: logicalIdOf(env.workflow.alarmTopic) };

    // Act
    const alarms = Object.values(workflow.findResources('AWS::CloudWatch::Alarm')).filter((a) =>
      /audit-compaction|verify-audit-day/.test(String(a.Properties.AlarmName)),
    );

    // Assess
    expect(alarms.map((a) => a.Properties.AlarmName).sort()).toEqual([
      `stagegate-${stage}-audit-compaction-did-not-run`,
      `stagegate-${stage}-audit-compaction-execution-throttled`,
      `stagegate-${stage}-audit-compaction-executions-failed`,
      `stagegate-${stage}-audit-compaction-executions-timed-out`,
      `stagegate-${stage}-audit-compaction-schedule-dlq-not-empty`,
      `stagegate-${stage}-verify-audit-day-errors`,
      `stagegate-${stage}-verify-audit-day-throttles`,
    ]);
    for (const a of alarms) {
      expect(a.Properties.AlarmActions).toEqual([topic]);
      expect(a.Properties.OKActions).toEqual([topic]);
    }
    expect(env.workflow.alarms.length).toBeGreaterThanOrEqual(alarms.length);
  });

  it('declares the Parquet table zstd-compressed, so INSERT INTO writes zstd', () => {
    // Prepare
    const { stateful } = built[stage];

    // Act / Assess
    stateful.hasResourceProperties('AWS::Glue::Table', {
      TableInput: {
        Name: 'audit_parquet',
        Parameters: { classification: 'parquet', 'parquet.compression': 'ZSTD' },
      },
    });
  });

  it('is cdk-nag clean (AwsSolutions)', () => {
    // Prepare
    const { env } = built[stage];

    // Act
    const report = new AwsSolutionsChecks().validateScope(env);
    const open = report.violations.flatMap((v) =>
      v.violatingResources.map((r) => `${v.ruleName} ${r.constructPath ?? ''}`),
    );

    // Assess
    expect(open).toEqual([]);
  });
});
