/**
 * The promotion pipeline per stage (issue 3): the state machine and the exact eight functions
 * its role may invoke, the pipeline environment of each function (thresholds equal to the
 * config), the schedule at the promotion window's open in New York, the least-privilege
 * grants of each function (DynamoDB partitions, S3 prefixes, no kill-switch writes, the
 * Alpaca secret only where orders are sent), the alarms, and the Alpaca secret placeholder.
 */
import { readFileSync } from 'node:fs';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { ValidationError } from '../../functions/core/errors.js';
import { GateThresholdsSchema } from '../../functions/core/gates/thresholds.js';
import { parseEnvironmentConfig, STAGES, type Stage } from '../../lib/config/environment-config.js';
import { DEFAULTS, environments } from '../../lib/config/environments.js';
import { pipelineEnvironment } from '../../lib/config/runtime-env.js';
import {
  DEPLOYED_HANDLERS,
  HANDLERS,
  type HandlerSpec,
  PAPER_SESSION_FUNCTIONS,
  PIPELINE_HANDLERS,
  type PipelineHandlerName,
} from '../../lib/handlers.js';
import {
  INTRADAY_COHORT_ASL,
  LEARNING_CYCLE_ASL,
  PROMOTION_PIPELINE_ASL,
} from '../../lib/paths.js';
import { ALPACA_SECRET_PLACEHOLDER_KEY_ID } from '../../lib/stacks/stateful-stack.js';
import {
  arnOf,
  asArray,
  logicalIdOf,
  render,
  type SynthesizedStage,
  statementsOfRole,
  synthStage,
  tableGrantsOfRole,
} from './synth.js';

type Json = Record<string, unknown>;

const PIPELINE_NAMES = Object.keys(PIPELINE_HANDLERS) as PipelineHandlerName[];
const BROKER_NAMES: PipelineHandlerName[] = [
  'startPaperSession',
  'paperTick',
  'finishPaperSession',
  'reconcilePromotion',
];
const ALPACA = { broker: { adapter: 'alpaca-paper' } };
/** Functions that read today's bars from Alpaca (simulated broker; `live-market-data.test.ts`). */
const LIVE_DATA_NAMES: readonly PipelineHandlerName[] = [
  'evaluateGates',
  'startPaperSession',
  'paperTick',
  'finishPaperSession',
  'reconcilePromotion',
];
const PAPER_NAMES: readonly PipelineHandlerName[] = PAPER_SESSION_FUNCTIONS;

const built = {} as Record<Stage, SynthesizedStage>;
let alpacaStaging: SynthesizedStage;
let alpacaDev: SynthesizedStage;

beforeAll(() => {
  for (const stage of STAGES) built[stage] = synthStage(stage);
  alpacaStaging = synthStage('staging', { 'stagegate:staging': ALPACA });
  alpacaDev = synthStage('dev', { 'stagegate:dev': ALPACA });
});

/** `artifacts/cohorts/*` for an S3 ARN of this stage's artifacts bucket, `audit` for the bucket. */
function s3Target(stage: Stage, resource: unknown): string {
  return render(resource)
    .replace(`arn:aws:s3:::stagegate-${stage}-`, '')
    .replace('-{AWS::AccountId}-{AWS::Region}', '');
}

/** Allow statements of a pipeline function's role. */
function statementsOf(s: SynthesizedStage, name: PipelineHandlerName): Json[] {
  const roleId = logicalIdOf(s.env.workflow.promotion.functions[name].executionRole);
  return statementsOfRole(s.workflow, roleId);
}

/** DynamoDB grants of a function (see {@link tableGrantsOfRole}). */
function tableGrants(s: SynthesizedStage, name: PipelineHandlerName): Record<string, string[]> {
  return tableGrantsOfRole(
    s.workflow,
    logicalIdOf(s.env.workflow.promotion.functions[name].executionRole),
  );
}

/** S3 grants of a function: action -> sorted `<bucket purpose>[/<prefix>/*]` targets. */
function objectGrants(
  s: SynthesizedStage,
  stage: Stage,
  name: PipelineHandlerName,
): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const st of statementsOf(s, name)) {
    for (const action of asArray(st.Action as string | string[])) {
      if (!action.startsWith('s3:')) continue;
      const targets = asArray(st.Resource).map((r) => s3Target(stage, r));
      out[action] = [...new Set([...(out[action] ?? []), ...targets])].sort();
    }
  }
  return out;
}

/** Environment variables of a pipeline function. */
function envOf(s: SynthesizedStage, name: PipelineHandlerName): Record<string, unknown> {
  const fn = s.env.workflow.promotion.functions[name];
  const props = s.workflow.findResources('AWS::Lambda::Function')[logicalIdOf(fn)]?.Properties;
  return (
    (props?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {}
  );
}

function machineProps(s: SynthesizedStage): Json {
  const id = logicalIdOf(s.env.workflow.promotion.stateMachine);
  const machine = s.workflow.findResources('AWS::StepFunctions::StateMachine')[id];
  if (!machine) throw new Error('no promotion pipeline state machine');
  return machine.Properties as Json;
}

function scheduleNamed(template: Template, name: string): Json {
  const found = Object.values(template.findResources('AWS::Scheduler::Schedule')).find(
    (r) => r.Properties.Name === name,
  );
  if (!found) throw new Error(`no schedule ${name}`);
  return found.Properties as Json;
}

interface AslState {
  readonly Type: string;
  readonly Resource?: string;
  readonly TimeoutSeconds?: number;
  readonly ItemProcessor?: { readonly States: Record<string, AslState> };
}

/** Task states of an ASL file: placeholder -> smallest TimeoutSeconds among its tasks. */
function taskTimeouts(file: string): Map<string, number> {
  const asl = JSON.parse(readFileSync(file, 'utf8')) as { States: Record<string, AslState> };
  const out = new Map<string, number>();
  // Map states (inline or distributed) nest their own States: visit them too.
  const visit = (states: Record<string, AslState>) => {
    for (const state of Object.values(states)) {
      if (state.ItemProcessor) visit(state.ItemProcessor.States);
      const placeholder = /^\$\{(\w+)\}$/.exec(state.Resource ?? '')?.[1];
      if (state.Type !== 'Task' || !placeholder) continue;
      const timeout = state.TimeoutSeconds ?? Number.POSITIVE_INFINITY;
      out.set(placeholder, Math.min(out.get(placeholder) ?? timeout, timeout));
    }
  };
  visit(asl.States);
  return out;
}

const AUDIT_GETS = (stage: Stage) => [`audit/audit/env=${stage}/*`];
const AUDIT_PUTS = (stage: Stage) => [
  `audit/audit-dead-letter/env=${stage}/*`,
  `audit/audit/env=${stage}/*`,
];

describe.each(STAGES)('promotion pipeline (%s)', (stage) => {
  const config = environments[stage];

  it('runs a Standard, traced, fully logged state machine with every ASL placeholder substituted', () => {
    // Prepare
    const s = built[stage];
    const placeholders = [
      ...new Set(
        [...readFileSync(PROMOTION_PIPELINE_ASL, 'utf8').matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]),
      ),
    ].sort();

    // Act
    const props = machineProps(s);
    const substitutions = props.DefinitionSubstitutions as Record<string, unknown>;

    // Assess
    expect(props).toEqual(
      expect.objectContaining({
        StateMachineName: `stagegate-${stage}-promotion-pipeline`,
        StateMachineType: 'STANDARD',
        TracingConfiguration: { Enabled: true },
        LoggingConfiguration: expect.objectContaining({ Level: 'ALL', IncludeExecutionData: true }),
      }),
    );
    expect(Object.keys(substitutions).sort()).toEqual(placeholders);
    for (const name of PIPELINE_NAMES.filter((n) => !PAPER_NAMES.includes(n))) {
      expect(substitutions[PIPELINE_HANDLERS[name].aslPlaceholder]).toEqual(
        arnOf(logicalIdOf(s.env.workflow.promotion.functions[name])),
      );
    }
    expect(substitutions[HANDLERS.recordAudit.aslPlaceholder]).toEqual(
      arnOf(logicalIdOf(s.env.workflow.functions.recordAudit)),
    );
  });

  it('lets the pipeline role invoke exactly its five functions and record-audit, nothing else', () => {
    // Prepare
    const { workflow, env } = built[stage];
    const roleId = logicalIdOf(env.workflow.promotion.stateMachine.role);
    const expected = [
      ...PIPELINE_NAMES.filter((n) => !PAPER_NAMES.includes(n)).map(
        (n) => env.workflow.promotion.functions[n],
      ),
      env.workflow.functions.recordAudit,
    ].map((f) => JSON.stringify(arnOf(logicalIdOf(f))));

    // Act
    const lambda = statementsOfRole(workflow, roleId).filter((st) =>
      asArray(st.Action as string | string[]).some((a) => a.startsWith('lambda:')),
    );
    const actions = lambda.flatMap((st) => asArray(st.Action as string | string[]));
    const resources = lambda.flatMap((st) => asArray(st.Resource).map((r) => JSON.stringify(r)));

    // Assess
    expect(expected).toHaveLength(6);
    expect([...new Set(actions)]).toEqual(['lambda:InvokeFunction']);
    expect(resources.sort()).toEqual(expected.sort());
  });

  it.each(PIPELINE_NAMES)(
    '%s gets the pipeline environment, its thresholds equal to the config',
    (name) => {
      // Prepare
      const window = config.promotion.windows[0];

      // Act
      const vars = envOf(built[stage], name);
      const thresholds = JSON.parse(String(vars.GATE_THRESHOLDS_JSON)) as unknown;

      // Assess
      expect(Object.keys(vars).sort()).toEqual(
        [
          'ARTIFACTS_BUCKET',
          'AUDIT_BUCKET',
          'BROKER_ACCOUNT',
          'BROKER_MODE',
          'GATE_THRESHOLDS_JSON',
          'MARKET_DATA_URI',
          'NODE_OPTIONS',
          'POWERTOOLS_LOG_LEVEL',
          'POWERTOOLS_METRICS_NAMESPACE',
          'POWERTOOLS_SERVICE_NAME',
          'PROMOTION_CONFIG_JSON',
          'SIMULATED_BROKER_JSON',
          'STAGE',
          'TABLE_NAME',
          ...(LIVE_DATA_NAMES.includes(name) ? ['ALPACA_DATA_FEED', 'ALPACA_DATA_SECRET_ARN'] : []),
        ].sort(),
      );
      expect(thresholds).toEqual({
        ...config.gates,
        promotionWindowOpenNy: window?.opensAt,
        promotionWindowCloseNy: window?.closesAt,
        cryptoPromotionWindowOpenUtc: config.promotion.cryptoWindow?.opensAt,
        cryptoPromotionWindowCloseUtc: config.promotion.cryptoWindow?.closesAt,
      });
      expect(GateThresholdsSchema.safeParse(thresholds).success).toBe(true);
      expect(JSON.parse(String(vars.PROMOTION_CONFIG_JSON))).toEqual(config.pipeline);
      expect(vars.BROKER_MODE).toBe('simulated');
      expect(vars.BROKER_ACCOUNT).toBe(config.broker.simulated.accountId);
      expect(JSON.parse(String(vars.SIMULATED_BROKER_JSON))).toEqual(
        expect.objectContaining({
          startingCashUsd: config.broker.simulated.startingCashUsd,
          participationFraction: config.broker.simulated.participationFraction,
          latencyMs: config.broker.simulated.latencyMs,
          fractionalShares: !config.pipeline.wholeShares,
        }),
      );
      expect(vars.POWERTOOLS_SERVICE_NAME).toBe(PIPELINE_HANDLERS[name].file);
      expect(vars.STAGE).toBe(stage);
    },
  );

  it('starts the pipeline at the promotion window open, weekdays, America/New_York, window off', () => {
    // Prepare
    const { workflow, env } = built[stage];

    // Act
    const schedule = scheduleNamed(workflow, 'promotion-start');
    const target = schedule.Target as Json;

    // Assess: the default window opens at 10:00 New York.
    expect(config.promotion.windows[0]?.opensAt).toBe('10:00');
    expect(schedule).toEqual(
      expect.objectContaining({
        GroupName: `stagegate-${stage}`,
        ScheduleExpression: 'cron(0 10 ? * MON-FRI *)',
        ScheduleExpressionTimezone: 'America/New_York',
        FlexibleTimeWindow: { Mode: 'OFF' },
        State: 'ENABLED',
      }),
    );
    expect(target.Arn).toEqual({ Ref: logicalIdOf(env.workflow.promotion.stateMachine) });
    expect(JSON.parse(String(target.Input))).toEqual({ source: 'schedule' });
    expect(target.DeadLetterConfig).toEqual({
      Arn: arnOf(logicalIdOf(env.workflow.promotion.scheduleDeadLetterQueue)),
    });
    expect(target.RetryPolicy).toEqual({ MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 1800 });
  });

  it('runs the crash sweeper hourly on its own function, dead-lettered with the pipeline schedule', () => {
    // Prepare
    const { workflow, env } = built[stage];

    // Act
    const schedule = scheduleNamed(workflow, 'recover-in-flight');
    const target = schedule.Target as Json;

    // Assess
    expect(schedule).toEqual(
      expect.objectContaining({
        GroupName: `stagegate-${stage}`,
        ScheduleExpression: 'cron(0 * * * ? *)',
        FlexibleTimeWindow: { Mode: 'OFF' },
      }),
    );
    expect(target.Arn).toEqual(arnOf(logicalIdOf(env.workflow.promotion.recoverInFlight)));
    expect(JSON.parse(String(target.Input))).toMatchObject({ source: 'schedule' });
    expect(target.DeadLetterConfig).toEqual({
      Arn: arnOf(logicalIdOf(env.workflow.promotion.scheduleDeadLetterQueue)),
    });
  });

  it('keeps every function timeout below the TimeoutSeconds of the tasks that call it', () => {
    // Prepare
    const specs: readonly HandlerSpec[] = DEPLOYED_HANDLERS;

    // Act
    const timeouts = [
      taskTimeouts(INTRADAY_COHORT_ASL),
      taskTimeouts(PROMOTION_PIPELINE_ASL),
      taskTimeouts(LEARNING_CYCLE_ASL),
    ];
    const tooSlow = specs.flatMap((spec) =>
      timeouts
        .map((t) => t.get(spec.aslPlaceholder))
        .filter((task): task is number => task !== undefined && spec.timeoutSeconds >= task)
        .map((task) => `${spec.file}: ${spec.timeoutSeconds}s >= task ${task}s`),
    );

    // Assess
    expect(tooSlow).toEqual([]);
    // The Distributed Map's child task is seen too.
    expect(timeouts[0]?.get(HANDLERS.runCohortShard.aslPlaceholder)).toBe(600);
  });

  it('limits every DynamoDB grant to the partitions each function uses', () => {
    // Prepare
    const s = built[stage];
    const simbroker = `SIMBROKER#${config.broker.simulated.accountId}`;

    // Act
    const actual = Object.fromEntries(PIPELINE_NAMES.map((n) => [n, tableGrants(s, n)]));

    // Assess
    expect(actual).toEqual({
      stagePromotion: {
        // The paper slot: recent promotions (gsi1) and the incumbent's paper track record.
        'dynamodb:Query': ['COHORT#*', 'PAPER_TRACK#*', 'index:gsi1'],
        'dynamodb:GetItem': ['AUDIT_STREAM#*', 'PROMOTION#*'],
        'dynamodb:PutItem': ['PROMOTION#*'],
        'dynamodb:UpdateItem': ['AUDIT_STREAM#*'],
      },
      checkPromotionWindow: {},
      evaluateGates: {
        'dynamodb:GetItem': ['AUDIT_STREAM#*', 'BROKER_BOOK#*', 'CONFIG'],
        'dynamodb:UpdateItem': ['AUDIT_STREAM#*', 'PROMOTION#*'],
      },
      startPaperSession: {
        'dynamodb:GetItem': ['AUDIT_STREAM#*', simbroker],
        'dynamodb:BatchGetItem': [simbroker],
        'dynamodb:PutItem': [simbroker],
        'dynamodb:UpdateItem': ['AUDIT_STREAM#*'],
      },
      paperTick: {
        'dynamodb:GetItem': ['AUDIT_STREAM#*', 'CONFIG', simbroker],
        'dynamodb:BatchGetItem': [simbroker],
        'dynamodb:PutItem': ['SESSION_BOOK#*', simbroker],
        'dynamodb:Query': ['SESSION_BOOK#*'],
        'dynamodb:UpdateItem': ['AUDIT_STREAM#*', 'PROMOTION#*'],
      },
      finishPaperSession: {
        'dynamodb:GetItem': ['AUDIT_STREAM#*', 'CONFIG', simbroker],
        'dynamodb:BatchGetItem': [simbroker],
        'dynamodb:PutItem': ['PAPER_TRACK#*', 'SESSION_BOOK#*', simbroker],
        'dynamodb:Query': ['SESSION_BOOK#*'],
        'dynamodb:UpdateItem': ['AUDIT_STREAM#*'],
      },
      reconcilePromotion: {
        'dynamodb:Query': ['PROMOTION#*'],
        'dynamodb:GetItem': ['AUDIT_STREAM#*', 'BROKER_BOOK#*', simbroker],
        'dynamodb:BatchGetItem': [simbroker],
        'dynamodb:PutItem': [simbroker],
        'dynamodb:UpdateItem': ['AUDIT_STREAM#*'],
      },
      completePromotion: {
        'dynamodb:GetItem': ['AUDIT_STREAM#*', 'PROMOTION#*'],
        'dynamodb:UpdateItem': ['AUDIT_STREAM#*', 'PROMOTION#*'],
      },
    });
  });

  it('lets no function write the kill switch or touch an item outside its partitions', () => {
    // Prepare
    const s = built[stage];
    const writes = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:BatchWriteItem'];

    // Act
    const grants = PIPELINE_NAMES.map((n) => tableGrants(s, n));
    const killSwitchWriters = grants.filter((g) => writes.some((w) => g[w]?.includes('CONFIG')));
    const unconditioned = grants.filter((g) =>
      Object.values(g).some((scopes) => scopes.includes('ANY ITEM')),
    );

    // Assess
    expect(killSwitchWriters).toEqual([]);
    expect(unconditioned).toEqual([]);
  });

  it('scopes object grants to the bucket prefixes each function reads or writes', () => {
    // Prepare
    const s = built[stage];
    const audit = { get: AUDIT_GETS(stage), put: AUDIT_PUTS(stage) };
    const auditOnly = {
      's3:GetObject': audit.get,
      's3:ListBucket': ['audit'],
      's3:PutObject': audit.put,
    };
    const withMarketData = {
      's3:GetObject': [...audit.get, 'market-data/lean/*'].sort(),
      's3:ListBucket': ['audit', 'market-data'],
      's3:PutObject': audit.put,
    };

    // Act
    const actual = Object.fromEntries(PIPELINE_NAMES.map((n) => [n, objectGrants(s, stage, n)]));

    // Assess
    expect(actual).toEqual({
      stagePromotion: {
        's3:GetObject': ['artifacts/cohorts/*', ...audit.get].sort(),
        's3:ListBucket': ['artifacts', 'audit'],
        's3:PutObject': audit.put,
      },
      checkPromotionWindow: {},
      evaluateGates: withMarketData,
      startPaperSession: withMarketData,
      paperTick: withMarketData,
      finishPaperSession: withMarketData,
      reconcilePromotion: withMarketData,
      completePromotion: auditOnly,
    });
  });

  it('gives check-promotion-window no data access at all, and no pipeline function deletes, wildcards or secrets but the market-data keys (simulated broker)', () => {
    // Prepare
    const s = built[stage];

    // Act
    const window = statementsOf(s, 'checkPromotionWindow').flatMap((st) =>
      asArray(st.Action as string | string[]),
    );
    const all = PIPELINE_NAMES.flatMap((n) =>
      statementsOf(s, n).flatMap((st) => asArray(st.Action as string | string[])),
    );
    const secretResources = PIPELINE_NAMES.flatMap((n) =>
      statementsOf(s, n)
        .filter((st) =>
          asArray(st.Action as string | string[]).some((a) => a.startsWith('secretsmanager:')),
        )
        .map((st) => ({
          n,
          actions: asArray(st.Action as string | string[]),
          r: render(st.Resource),
        })),
    );

    // Assess
    expect(window.filter((a) => !/^(logs|xray):/.test(a))).toEqual([]);
    expect(all.filter((a) => /Delete|BypassGovernance|PutObjectRetention|\*/.test(a))).toEqual([]);
    // Only the Alpaca secret's GetSecretValue, by the functions that read today's bars.
    expect([...new Set(secretResources.map((x) => x.n))].sort()).toEqual(
      [...LIVE_DATA_NAMES].sort(),
    );
    for (const x of secretResources) {
      expect(x.actions).toEqual(['secretsmanager:GetSecretValue']);
      expect(x.r).toMatch(/AlpacaPaperSecret/);
    }
  });

  it('alarms on failed pipeline executions, the schedule DLQ, reconciliation discrepancies and kill-switch halts', () => {
    // Prepare
    const { workflow, env } = built[stage];
    const promotion = env.workflow.promotion;
    const logGroupOf = (name: PipelineHandlerName) =>
      logicalIdOf(promotion.functions[name].logGroup);

    // Act
    const filters = Object.values(workflow.findResources('AWS::Logs::MetricFilter')).map(
      (f) => f.Properties as Json,
    );
    const reconcile = filters.find(
      (f) => f.LogGroupName && render(f.LogGroupName).includes(logGroupOf('reconcilePromotion')),
    );
    const on = (name: PipelineHandlerName, metric: string) =>
      filters.find(
        (f) =>
          f.LogGroupName &&
          render(f.LogGroupName).includes(logGroupOf(name)) &&
          render(f.MetricTransformations).includes(metric),
      );
    const killSwitch = [
      on('paperTick', 'KillSwitchHalts'),
      on('finishPaperSession', 'KillSwitchHalts'),
    ];
    const sessionDiscrepancies = [
      on('paperTick', 'ReconciliationDiscrepancies'),
      on('finishPaperSession', 'ReconciliationDiscrepancies'),
    ];

    // Assess
    expect(String(reconcile?.FilterPattern)).toContain(
      '$.message = "reconciliation discrepancies"',
    );
    expect(String(reconcile?.FilterPattern)).toContain('$.level = "ERROR"');
    for (const f of killSwitch) {
      expect(String(f?.FilterPattern)).toContain('$.message = "paper session halted"');
      expect(render(f?.MetricTransformations)).toContain(`stagegate/${stage}`);
    }
    for (const f of sessionDiscrepancies) {
      expect(String(f?.FilterPattern)).toContain('$.message = "reconciliation discrepancies"');
      expect(String(f?.FilterPattern)).toContain('$.level = "ERROR"');
    }
    workflow.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: `stagegate-${stage}-reconciliation-discrepancies`,
      MetricName: 'ReconciliationDiscrepancies',
      Namespace: `stagegate/${stage}`,
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    workflow.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: `stagegate-${stage}-promotion-halted-by-kill-switch`,
      MetricName: 'KillSwitchHalts',
      Namespace: `stagegate/${stage}`,
    });
    workflow.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: `stagegate-${stage}-promotion-pipeline-executions-failed`,
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: 'FILL(failed, 0) + FILL(timedOut, 0) + FILL(aborted, 0)' }),
        Match.objectLike({
          MetricStat: Match.objectLike({
            Metric: Match.objectLike({
              Dimensions: [
                { Name: 'StateMachineArn', Value: { Ref: logicalIdOf(promotion.stateMachine) } },
              ],
            }),
          }),
        }),
      ]),
    });
    workflow.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: `stagegate-${stage}-promotion-schedule-dlq-not-empty`,
      Dimensions: [
        {
          Name: 'QueueName',
          Value: { 'Fn::GetAtt': [logicalIdOf(promotion.scheduleDeadLetterQueue), 'QueueName'] },
        },
      ],
    });
  });

  it('shows the pipeline on the dashboard', () => {
    // Prepare
    const { workflow } = built[stage];

    // Act
    const body = render(
      Object.values(workflow.findResources('AWS::CloudWatch::Dashboard'))[0]?.Properties
        .DashboardBody,
    );

    // Assess
    expect(body).toContain('Promotion pipeline executions');
    expect(body).toContain('Reconciliation discrepancies and kill-switch halts');
    expect(body).toContain('Promotion pipeline Lambda errors');
    expect(body).toContain('promotion-start');
  });

  it(`creates the Alpaca paper secret without a value, ${config.kms.customerManagedKey ? 'encrypted with the environment key' : 'with the AWS-managed key'}`, () => {
    // Prepare
    const { stateful } = built[stage];

    // Act
    const secrets = Object.values(stateful.findResources('AWS::SecretsManager::Secret')).filter(
      (r) => String(r.Properties.Name).endsWith('/alpaca-paper'),
    );
    const secret = secrets[0];
    const generate = secret?.Properties.GenerateSecretString as Json | undefined;

    // Assess
    expect(secrets).toHaveLength(1);
    expect(secret?.Properties.Name).toBe(`stagegate/${stage}/alpaca-paper`);
    expect(secret?.Properties.SecretString).toBeUndefined();
    expect(JSON.parse(String(generate?.SecretStringTemplate))).toEqual({
      keyId: ALPACA_SECRET_PLACEHOLDER_KEY_ID,
    });
    expect(generate?.GenerateStringKey).toBe('secretKey');
    if (config.kms.customerManagedKey) expect(secret?.Properties.KmsKeyId).toBeDefined();
    else expect(secret?.Properties.KmsKeyId).toBeUndefined();
    expect(secret?.DeletionPolicy).toBe(config.removalPolicy === 'retain' ? 'Retain' : 'Delete');
  });
});

describe('promotion pipeline with the alpaca-paper adapter', () => {
  it.each([
    ['staging', () => alpacaStaging],
    ['dev', () => alpacaDev],
  ] as const)(
    '%s: only submit/poll/reconcile read the secret; every step gets its ARN (the composition root needs it); no simulated-broker grants',
    (stage, get) => {
      // Prepare
      const s = get();
      const cmk = environments[stage].kms.customerManagedKey;

      // Act
      const readers = PIPELINE_NAMES.filter((n) =>
        statementsOf(s, n).some((st) =>
          asArray(st.Action as string | string[]).includes('secretsmanager:GetSecretValue'),
        ),
      );
      const withArn = PIPELINE_NAMES.filter((n) => envOf(s, n).ALPACA_SECRET_ARN !== undefined);
      const secretStatements = statementsOf(s, 'paperTick').filter(
        (st) =>
          asArray(st.Action as string | string[]).includes('secretsmanager:GetSecretValue') ||
          JSON.stringify(st.Condition ?? {}).includes('secretsmanager.'),
      );
      const simulated = PIPELINE_NAMES.flatMap((n) =>
        Object.values(tableGrants(s, n)).flat(),
      ).filter((p) => p.startsWith('SIMBROKER#'));

      // Assess
      // The broker functions, and the gates for today's bars (`live-market-data.test.ts`).
      expect(readers.sort()).toEqual([...BROKER_NAMES, 'evaluateGates'].sort());
      expect(withArn.sort()).toEqual([...PIPELINE_NAMES].sort());
      expect(envOf(s, 'paperTick').BROKER_MODE).toBe('alpaca-paper');
      expect(secretStatements.map((st) => render(st.Resource))).toEqual(
        cmk
          ? [expect.stringMatching(/AlpacaPaperSecret/), expect.stringMatching(/DataKey/)]
          : [expect.stringMatching(/AlpacaPaperSecret/)],
      );
      expect(simulated).toEqual([]);
    },
  );
});

describe('gate thresholds from config', () => {
  it('fails synth naming a missing threshold', () => {
    // Prepare
    const override = { 'stagegate:dev': { gates: { maxLeverage: null } } };

    // Act
    let error: unknown;
    try {
      synthStage('dev', override);
    } catch (err) {
      error = err;
    }

    // Assess
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe('gates.maxLeverage');
  });

  it('refuses, naming the field, a config whose thresholds the pipeline would reject', () => {
    // Prepare: a config object that skipped validation and lacks one threshold.
    const { varConfidence: _dropped, ...gates } = environments.staging.gates;
    const config = { ...environments.staging, gates } as typeof environments.staging;

    // Act
    const act = () => pipelineEnvironment(config);

    // Assess
    expect(act).toThrow(ValidationError);
    expect(act).toThrow(/^gates\.varConfidence: /);
  });

  it('names the field when a threshold is absent from the config', () => {
    // Prepare
    const { minTradeCount: _dropped, ...gates } = DEFAULTS.staging.gates ?? {};
    const candidate = { ...DEFAULTS.staging, gates };

    // Act
    let error: unknown;
    try {
      parseEnvironmentConfig(candidate);
    } catch (err) {
      error = err;
    }

    // Assess
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe('gates.minTradeCount');
  });

  it('moves the schedule with the window and can be disabled, always in New York time', () => {
    // Prepare
    const override = {
      'stagegate:prod': {
        promotion: { windows: [{ opensAt: '09:45', closesAt: '15:30' }] },
        schedules: { timezone: 'UTC', promotionStart: { enabled: false } },
      },
    };

    // Act
    const { workflow } = synthStage('prod', override);
    const schedule = scheduleNamed(workflow, 'promotion-start');
    const thresholds = JSON.parse(
      String(
        Object.values(workflow.findResources('AWS::Lambda::Function'))
          .map((f) => (f.Properties.Environment as { Variables?: Json } | undefined)?.Variables)
          .find((v) => v?.GATE_THRESHOLDS_JSON)?.GATE_THRESHOLDS_JSON,
      ),
    ) as Json;

    // Assess
    expect(schedule).toEqual(
      expect.objectContaining({
        ScheduleExpression: 'cron(45 9 ? * MON-FRI *)',
        ScheduleExpressionTimezone: 'America/New_York',
        State: 'DISABLED',
      }),
    );
    expect(thresholds.promotionWindowOpenNy).toBe('09:45');
  });
});
