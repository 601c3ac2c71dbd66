/**
 * The workflow stack per stage: the cohort schedule (expression, New York time zone, no
 * flexible window, retries, dead-letter queue, input from config), the state machine and the
 * exact functions its role may invoke, the functions' runtime and least-privilege grants,
 * and the alarms.
 */
import { readFileSync } from 'node:fs';
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { STAGES, type Stage } from '../../lib/config/environment-config.js';
import { environments } from '../../lib/config/environments.js';
import { cohortEnvironment } from '../../lib/config/runtime-env.js';
import {
  HANDLERS,
  type HandlerName,
  LEARNING_HANDLERS,
  PIPELINE_HANDLERS,
  type PipelineHandlerName,
} from '../../lib/handlers.js';
import { INTRADAY_COHORT_ASL } from '../../lib/paths.js';
import {
  arnOf,
  asArray,
  logicalIdOf,
  type SynthesizedStage,
  statementsOfRole,
  synthStage,
} from './synth.js';

const built = {} as Record<Stage, SynthesizedStage>;

beforeAll(() => {
  for (const stage of STAGES) built[stage] = synthStage(stage);
});

const HANDLER_NAMES = Object.keys(HANDLERS) as HandlerName[];
const PIPELINE_NAMES = Object.keys(PIPELINE_HANDLERS) as PipelineHandlerName[];
const LEARNING_FILES = Object.values(LEARNING_HANDLERS).map((spec) => spec.file);

/** Grants of one function as `action -> rendered resources` (JSON strings). */
function grantsOf(stage: Stage, name: HandlerName): Map<string, string[]> {
  const { env, workflow } = built[stage];
  const roleId = logicalIdOf(env.workflow.functions[name].executionRole);
  const grants = new Map<string, string[]>();
  for (const statement of statementsOfRole(workflow, roleId)) {
    for (const action of asArray(statement.Action as string | string[])) {
      const resources = asArray(statement.Resource).map((r) => JSON.stringify(r));
      grants.set(action, [...(grants.get(action) ?? []), ...resources]);
    }
  }
  return grants;
}

/** Renders a `Fn::Join` ARN as a string, references as `${Ref}`. */
function flattenJoin(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as { 'Fn::Join'?: [string, unknown[]]; Ref?: string };
  if (v.Ref) return `\${${v.Ref}}`;
  if (v['Fn::Join']) return v['Fn::Join'][1].map(flattenJoin).join(v['Fn::Join'][0]);
  return JSON.stringify(value);
}

/** Actions of a function that touch S3 or DynamoDB. */
function dataActions(stage: Stage, name: HandlerName): string[] {
  return [...grantsOf(stage, name).keys()].filter((a) => /^(s3|dynamodb):/.test(a)).sort();
}

describe.each(STAGES)('workflow stack (%s)', (stage) => {
  const config = environments[stage];

  it('schedules the cohort with EventBridge Scheduler in America/New_York, window off', () => {
    // Prepare
    const { workflow } = built[stage];

    // Act / Assess
    workflow.hasResourceProperties('AWS::Scheduler::ScheduleGroup', { Name: `stagegate-${stage}` });
    workflow.hasResourceProperties('AWS::Scheduler::Schedule', {
      Name: 'cohort-start',
      GroupName: `stagegate-${stage}`,
      ScheduleExpression: 'cron(35 9 ? * MON-FRI *)',
      ScheduleExpressionTimezone: 'America/New_York',
      FlexibleTimeWindow: { Mode: 'OFF' },
      // The session-ingestion chain starts each session's cohort (session-ingestion.test.ts).
      State: 'DISABLED',
    });
  });

  it('targets the state machine with retries, a dead-letter queue and the configured input', () => {
    // Prepare
    const { workflow, env } = built[stage];
    const schedule = Object.values(workflow.findResources('AWS::Scheduler::Schedule'))[0];
    const target = schedule?.Properties.Target as Record<string, unknown>;

    // Act
    const input = JSON.parse(String(target.Input)) as Record<string, unknown>;

    // Assess
    expect(target.Arn).toEqual({ Ref: logicalIdOf(env.workflow.stateMachine) });
    expect(target.DeadLetterConfig).toEqual({
      Arn: arnOf(logicalIdOf(env.workflow.scheduleDeadLetterQueue)),
    });
    expect(target.RetryPolicy).toEqual({ MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 1800 });
    expect(input).toEqual({
      source: 'schedule',
      scheduledTime: '<aws.scheduler.scheduled-time>',
      symbols: config.cohort.symbols,
      bankrollUsd: config.cohort.bankrollUsd,
      agentCount: config.cohort.agentCount,
      allocation: 'equal',
    });
  });

  it('runs a Standard, traced, fully logged state machine with every ASL placeholder substituted', () => {
    // Prepare
    const { workflow, env } = built[stage];
    const placeholders = [
      ...new Set(
        [...readFileSync(INTRADAY_COHORT_ASL, 'utf8').matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]),
      ),
    ].sort();

    // Act
    const machine = Object.values(workflow.findResources('AWS::StepFunctions::StateMachine'))[0];
    const substitutions = machine?.Properties.DefinitionSubstitutions as Record<string, unknown>;

    // Assess
    expect(machine?.Properties).toEqual(
      expect.objectContaining({
        StateMachineType: 'STANDARD',
        TracingConfiguration: { Enabled: true },
        LoggingConfiguration: expect.objectContaining({ Level: 'ALL', IncludeExecutionData: true }),
      }),
    );
    expect(Object.keys(substitutions).sort()).toEqual(placeholders);
    for (const name of HANDLER_NAMES) {
      expect(substitutions[HANDLERS[name].aslPlaceholder]).toEqual(
        arnOf(logicalIdOf(env.workflow.functions[name])),
      );
    }
  });

  it('lets the state machine role invoke exactly the cohort functions, nothing else', () => {
    // Prepare
    const { workflow, env } = built[stage];
    const roleId = logicalIdOf(env.workflow.stateMachine.role);
    const expected = HANDLER_NAMES.map((n) =>
      JSON.stringify(arnOf(logicalIdOf(env.workflow.functions[n]))),
    );

    // Act
    const statements = statementsOfRole(workflow, roleId);
    const lambda = statements.filter((s) =>
      asArray(s.Action as string | string[]).some((a) => a.startsWith('lambda:')),
    );
    const actions = lambda.flatMap((s) => asArray(s.Action as string | string[]));
    const resources = lambda.flatMap((s) => asArray(s.Resource).map((r) => JSON.stringify(r)));

    // Assess
    expect([...new Set(actions)]).toEqual(['lambda:InvokeFunction']);
    expect(resources.sort()).toEqual(expected.sort());
  });

  it('substitutes CohortShardAgents with cohort.shardAgents, as a plain string', () => {
    // Prepare
    const { workflow } = built[stage];

    // Act
    const machine = Object.values(workflow.findResources('AWS::StepFunctions::StateMachine')).find(
      (m) => m.Properties.StateMachineName === `stagegate-${stage}-intraday-cohort`,
    );
    const substitutions = machine?.Properties.DefinitionSubstitutions as Record<string, unknown>;

    // Assess
    expect(substitutions.CohortShardAgents).toBe(String(config.cohort.shardAgents));
    expect(JSON.parse(String(substitutions.CohortShardAgents))).toBe(config.cohort.shardAgents);
  });

  it('lets the Distributed Map start, describe and stop only its own child executions', () => {
    // Prepare
    const { workflow, env } = built[stage];
    const roleId = logicalIdOf(env.workflow.stateMachine.role);
    const arn = (resource: string) =>
      `arn:aws:states:${config.region}:\${AWS::AccountId}:${resource}`;
    const name = `stagegate-${stage}-intraday-cohort`;

    // Act
    const statements = statementsOfRole(workflow, roleId).filter((s) =>
      asArray(s.Action as string | string[]).some((a) => a.startsWith('states:')),
    );
    const byAction = new Map<string, string[]>();
    for (const s of statements) {
      for (const action of asArray(s.Action as string | string[])) {
        byAction.set(action, [
          ...(byAction.get(action) ?? []),
          ...asArray(s.Resource).map(flattenJoin),
        ]);
      }
    }

    // Assess
    expect([...byAction.keys()].sort()).toEqual([
      'states:DescribeExecution',
      'states:StartExecution',
      'states:StopExecution',
    ]);
    expect(byAction.get('states:StartExecution')).toEqual([arn(`stateMachine:${name}`)]);
    for (const action of ['states:DescribeExecution', 'states:StopExecution']) {
      expect(byAction.get(action)?.sort()).toEqual(
        [arn(`execution:${name}:*`), arn(`execution:${name}/*`)].sort(),
      );
    }
    // Built from the name: the role's policies never reference the machine they serve.
    expect(JSON.stringify(statements)).not.toContain(logicalIdOf(env.workflow.stateMachine));
  });

  it('scopes the sharded-path functions to the cohort artifacts and the session', () => {
    // Prepare
    const bucket = (purpose: string) => `stagegate-${stage}-${purpose}-`;

    // Act
    const plan = grantsOf(stage, 'planCohortShards');
    const shard = grantsOf(stage, 'runCohortShard');
    const merge = grantsOf(stage, 'mergeCohortShards');

    // Assess
    for (const grants of [plan, shard, merge]) {
      expect(grants.get('s3:PutObject')).toHaveLength(1);
      expect(grants.get('s3:PutObject')?.join()).toContain(bucket('artifacts'));
      expect(grants.get('s3:PutObject')?.join()).toContain('/cohorts/*');
    }
    expect(shard.get('s3:GetObject')?.join()).toContain(`${bucket('market-data')}`);
    expect(shard.get('s3:GetObject')?.join()).toContain('/lean/*');
    expect(shard.get('s3:GetObject')?.join()).toContain('/cohorts/*');
    expect(merge.get('s3:GetObject')?.join()).not.toContain(bucket('market-data'));
    expect(plan.get('dynamodb:PutItem')).toHaveLength(1);
  });

  it('limits the plan step to the genome pool partition, like run-cohort', () => {
    // Prepare
    const { workflow, env } = built[stage];
    const partitionsOf = (name: HandlerName) =>
      statementsOfRole(workflow, logicalIdOf(env.workflow.functions[name].executionRole))
        .filter((s) =>
          asArray(s.Action as string | string[]).some((a) => a.startsWith('dynamodb:')),
        )
        .map((s) => ({
          actions: asArray(s.Action as string | string[]).sort(),
          condition: s.Condition,
        }));

    // Act
    const plan = partitionsOf('planCohortShards');

    // Assess
    expect(plan).toEqual([
      {
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query'],
        condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['GENOME_POOL'] } },
      },
    ]);
    expect(plan).toEqual(partitionsOf('runCohort'));
  });

  it.each(HANDLER_NAMES)(
    '%s runs nodejs22.x on arm64 with tracing, its own log group and the contract env',
    (name) => {
      // Prepare
      const { workflow, env } = built[stage];
      const fn = env.workflow.functions[name];

      // Act
      const props = workflow.findResources('AWS::Lambda::Function')[logicalIdOf(fn)]?.Properties;

      // Assess
      expect(props).toEqual(
        expect.objectContaining({
          Runtime: 'nodejs22.x',
          Architectures: ['arm64'],
          Handler: 'index.handler',
          TracingConfig: { Mode: 'Active' },
          MemorySize: HANDLERS[name].memoryMb,
          Timeout: HANDLERS[name].timeoutSeconds,
          LoggingConfig: {
            LogGroup: { Ref: expect.stringMatching(new RegExp(`^${name}LogGroup`)) },
          },
        }),
      );
      const vars =
        (props?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ??
        {};
      expect(Object.keys(vars).sort()).toEqual(
        [
          'ARTIFACTS_BUCKET',
          'AUDIT_BUCKET',
          'MARKET_DATA_URI',
          'NODE_OPTIONS',
          'POWERTOOLS_LOG_LEVEL',
          'POWERTOOLS_METRICS_NAMESPACE',
          'POWERTOOLS_SERVICE_NAME',
          'STAGE',
          'TABLE_NAME',
          // The prepare step simulates with the stage's fee preset (fees.preset).
          ...(name === 'loadMarketData' ? ['COHORT_COSTS_JSON'] : []),
        ].sort(),
      );
      if (name === 'loadMarketData') {
        expect(vars.COHORT_COSTS_JSON).toBe(cohortEnvironment(config).COHORT_COSTS_JSON);
      }
      expect(vars.STAGE).toBe(stage);
      expect(vars.POWERTOOLS_SERVICE_NAME).toBe(HANDLERS[name].file);
      expect(vars.POWERTOOLS_LOG_LEVEL).toBe(config.logs.level);
      expect(JSON.stringify(vars.MARKET_DATA_URI)).toContain(
        `s3://stagegate-${stage}-market-data-`,
      );
    },
  );

  it('keeps function and state machine logs, under stable names, for the configured retention', () => {
    // Prepare
    const { workflow } = built[stage];

    // Act
    const groups = Object.values(workflow.findResources('AWS::Logs::LogGroup'));

    // Assess
    expect(groups).toHaveLength(
      HANDLER_NAMES.length + PIPELINE_NAMES.length + LEARNING_FILES.length + 1 + 6 + 2 + 2 + 1 + 1,
    );
    for (const g of groups) expect(g.Properties.RetentionInDays).toBe(config.logs.retentionDays);
    expect(groups.map((g) => g.Properties.LogGroupName).sort()).toEqual(
      [
        `/aws/vendedlogs/states/stagegate-${stage}-intraday-cohort`,
        `/aws/vendedlogs/states/stagegate-${stage}-promotion-pipeline`,
        `/aws/vendedlogs/states/stagegate-${stage}-paper-session`,
        `/aws/vendedlogs/states/stagegate-${stage}-learning-cycle`,
        `/aws/vendedlogs/states/stagegate-${stage}-audit-compaction`,
        `/aws/vendedlogs/states/stagegate-${stage}-session-ingestion`,
        `/stagegate/${stage}/functions/ingest-session`,
        `/stagegate/${stage}/functions/verify-audit-day`,
        `/stagegate/${stage}/functions/recover-in-flight`,
        `/stagegate/${stage}/functions/console-api`,
        `/stagegate/${stage}/console-api/access`,
        `/stagegate/${stage}/functions/slack-command`,
        `/stagegate/${stage}/functions/post-daily-report`,
        ...HANDLER_NAMES.map((n) => `/stagegate/${stage}/functions/${HANDLERS[n].file}`),
        ...PIPELINE_NAMES.map((n) => `/stagegate/${stage}/functions/${PIPELINE_HANDLERS[n].file}`),
        ...LEARNING_FILES.map((file) => `/stagegate/${stage}/functions/${file}`),
      ].sort(),
    );
  });

  it('grants each function only the data actions its adapters call', () => {
    // Prepare / Act
    const actual = Object.fromEntries(HANDLER_NAMES.map((n) => [n, dataActions(stage, n)]));

    // Assess
    expect(actual).toEqual({
      loadMarketData: ['s3:GetObject', 's3:ListBucket'],
      runCohort: [
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:Query',
        's3:GetObject',
        's3:ListBucket',
        's3:PutObject',
      ],
      planCohortShards: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 's3:PutObject'],
      runCohortShard: ['s3:GetObject', 's3:ListBucket', 's3:PutObject'],
      mergeCohortShards: ['s3:GetObject', 's3:ListBucket', 's3:PutObject'],
      scoreCohort: ['s3:GetObject', 's3:ListBucket', 's3:PutObject'],
      persistCohort: [
        'dynamodb:BatchWriteItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        's3:GetObject',
        's3:ListBucket',
      ],
      recordAudit: [
        'dynamodb:GetItem',
        'dynamodb:UpdateItem',
        's3:GetObject',
        's3:ListBucket',
        's3:PutObject',
      ],
    });
  });

  it('scopes object grants to the right bucket and key prefix', () => {
    // Prepare
    const bucket = (purpose: string) => `stagegate-${stage}-${purpose}-`;

    // Act
    const load = grantsOf(stage, 'loadMarketData');
    const run = grantsOf(stage, 'runCohort');
    const audit = grantsOf(stage, 'recordAudit');

    // Assess
    expect(load.get('s3:GetObject')?.join()).toContain(bucket('market-data'));
    expect(load.get('s3:GetObject')?.join()).toContain('/lean/*');
    expect(run.get('s3:PutObject')?.join()).toContain(`${bucket('artifacts')}`);
    expect(run.get('s3:PutObject')?.join()).toContain('/cohorts/*');
    expect(run.get('s3:PutObject')?.join()).not.toContain(bucket('market-data'));
    const auditPuts = audit.get('s3:PutObject') ?? [];
    expect(auditPuts).toHaveLength(2);
    expect(auditPuts.join()).toContain(`/audit/env=${stage}/*`);
    expect(auditPuts.join()).toContain(`/audit-dead-letter/env=${stage}/*`);
  });

  it('never grants deletes, wildcard actions or Object Lock bypass to any function', () => {
    // Prepare / Act
    const actions = HANDLER_NAMES.flatMap((n) => [...grantsOf(stage, n).keys()]);

    // Assess
    expect(actions.filter((a) => a.includes('*'))).toEqual([]);
    expect(
      actions.filter((a) =>
        /Delete|BypassGovernance|PutObjectRetention|PutObjectLegalHold/.test(a),
      ),
    ).toEqual([]);
  });

  it(`${config.kms.customerManagedKey ? 'adds' : 'needs no'} KMS grants via S3 / DynamoDB / Secrets Manager only`, () => {
    // Prepare / Act
    const kmsGrants = HANDLER_NAMES.flatMap((n) =>
      [...grantsOf(stage, n).keys()].filter((a) => a.startsWith('kms:')),
    );
    const { workflow } = built[stage];
    const viaService = Object.values(workflow.findResources('AWS::IAM::Policy'))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as Record<string, unknown>[])
      .filter((s) => asArray(s.Action as string | string[]).some((a) => a.startsWith('kms:')))
      .map((s) => JSON.stringify(s.Condition));

    // Assess
    if (config.kms.customerManagedKey) {
      expect(kmsGrants.length).toBeGreaterThan(0);
      for (const condition of viaService)
        expect(condition).toMatch(/kms:ViaService.*(s3|dynamodb|secretsmanager)\./);
    } else {
      expect(kmsGrants).toEqual([]);
    }
  });

  it('alarms on failed executions, non-empty DLQs, reconciliation, kill-switch halts, parent drawdown, audit dead letters and every function error, to the topic', () => {
    // Prepare
    const { workflow, env } = built[stage];
    const topic = { Ref: logicalIdOf(env.workflow.alarmTopic) };

    // Act: the did-not-run, throttle and time-out alarms are asserted in operability.test.ts
    const alarms = Object.values(workflow.findResources('AWS::CloudWatch::Alarm')).filter(
      (a) =>
        !/-(did-not-run|throttles|executions-timed-out|execution-throttled|failures-not-empty)$/.test(
          String(a.Properties.AlarmName),
        ),
    );

    // Assess: per state machine failed executions + schedule DLQ, reconciliation
    // discrepancies, kill-switch halts, and one error alarm per function.
    expect(alarms).toHaveLength(
      5 * 2 +
        4 +
        1 +
        1 +
        1 +
        2 +
        2 +
        HANDLER_NAMES.length +
        PIPELINE_NAMES.length +
        LEARNING_FILES.length,
    );
    expect(alarms.map((a) => a.Properties.AlarmName).sort()).toEqual(
      [
        `stagegate-${stage}-intraday-cohort-executions-failed`,
        `stagegate-${stage}-promotion-pipeline-executions-failed`,
        `stagegate-${stage}-cohort-schedule-dlq-not-empty`,
        `stagegate-${stage}-promotion-schedule-dlq-not-empty`,
        `stagegate-${stage}-learning-cycle-executions-failed`,
        `stagegate-${stage}-learning-schedule-dlq-not-empty`,
        `stagegate-${stage}-reconciliation-discrepancies`,
        `stagegate-${stage}-promotion-halted-by-kill-switch`,
        `stagegate-${stage}-parent-drawdown`,
        `stagegate-${stage}-audit-dead-letters`,
        `stagegate-${stage}-audit-compaction-executions-failed`,
        `stagegate-${stage}-audit-compaction-schedule-dlq-not-empty`,
        `stagegate-${stage}-verify-audit-day-errors`,
        `stagegate-${stage}-session-ingestion-executions-failed`,
        `stagegate-${stage}-ingestion-schedule-dlq-not-empty`,
        `stagegate-${stage}-ingest-session-errors`,
        `stagegate-${stage}-slack-command-errors`,
        `stagegate-${stage}-post-daily-report-errors`,
        `stagegate-${stage}-daily-report-schedule-dlq-not-empty`,
        `stagegate-${stage}-console-api-errors`,
        `stagegate-${stage}-console-api-5xx`,
        ...[
          ...HANDLER_NAMES.map((n) => HANDLERS[n].file),
          ...PIPELINE_NAMES.map((n) => PIPELINE_HANDLERS[n].file),
          ...LEARNING_FILES,
        ].map((file) => `stagegate-${stage}-${file}-errors`),
      ].sort(),
    );
    for (const alarm of alarms) {
      expect(alarm.Properties.AlarmActions).toEqual([topic]);
      expect(alarm.Properties.OKActions).toEqual([topic]);
      expect(alarm.Properties.TreatMissingData).toBe('notBreaching');
    }
    // The parent-drawdown alarm fires above the drawdown circuit breaker of this stage's config.
    workflow.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: `stagegate-${stage}-parent-drawdown`,
      MetricName: 'ParentMaxDrawdownPercent',
      Namespace: `stagegate/${stage}`,
      Threshold: environments[stage].gates.maxParentDrawdownFraction * 100,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    workflow.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: `stagegate-${stage}-audit-dead-letters`,
      MetricName: 'AuditDeadLetters',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    workflow.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    workflow.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: 'FILL(failed, 0) + FILL(timedOut, 0) + FILL(aborted, 0)' }),
      ]),
    });
    workflow.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });

  it(`${config.kms.customerManagedKey ? 'encrypts' : 'leaves unencrypted (dev)'} the TLS-only alarm topic`, () => {
    // Prepare
    const { workflow } = built[stage];

    // Act
    const topic = Object.values(workflow.findResources('AWS::SNS::Topic'))[0];
    const policy = JSON.stringify(workflow.findResources('AWS::SNS::TopicPolicy'));

    // Assess
    if (config.kms.customerManagedKey) expect(topic?.Properties.KmsMasterKeyId).toBeDefined();
    else expect(topic?.Properties.KmsMasterKeyId).toBeUndefined();
    expect(policy).toContain('"aws:SecureTransport":"false"');
  });
});

describe('cohort shard size from config', () => {
  it('substitutes an overridden cohort.shardAgents', () => {
    // Prepare
    const override = { cohort: { shardAgents: 100 } };

    // Act
    const { workflow } = synthStage('dev', { 'stagegate:dev': override });
    const machine = Object.values(workflow.findResources('AWS::StepFunctions::StateMachine')).find(
      (m) => m.Properties.StateMachineName === 'stagegate-dev-intraday-cohort',
    );

    // Assess
    expect(machine?.Properties.DefinitionSubstitutions).toEqual(
      expect.objectContaining({ CohortShardAgents: '100' }),
    );
  });
});

describe('alarm subscribers from config', () => {
  it('subscribes alarm emails and wires an AWS Chatbot Slack channel when configured', () => {
    // Prepare
    const override = {
      alarms: {
        emails: ['oncall@example.com'],
        chatbotSlack: { workspaceId: 'T0123456789', channelId: 'C0123456789' },
      },
    };

    // Act
    const { workflow } = synthStage('staging', { 'stagegate:staging': override });

    // Assess
    workflow.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'oncall@example.com',
    });
    workflow.hasResourceProperties('AWS::Chatbot::SlackChannelConfiguration', {
      SlackWorkspaceId: 'T0123456789',
      SlackChannelId: 'C0123456789',
    });
  });
});
