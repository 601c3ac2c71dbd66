/**
 * The Day-3 go/no-go per stage (deployed once approvers are configured): the state machine
 * (substitutions, task-token and nested-execution permissions), the approval HTTP API (routes
 * and their authorizers, access logs), task-response grants, the approval secrets, the
 * functions' environment and least-privilege grants, the go/no-go and rollback-monitor
 * schedules, alarms, and cdk-nag.
 */
import type { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { APPROVAL_PAGE_ROUTE_KEY } from '../../functions/adapters/http/api-gateway.js';
import { ValidationError } from '../../functions/core/errors.js';
import { day3ConfigFrom } from '../../functions/core/use-cases/day3-records.js';
import { STAGES, type Stage } from '../../lib/config/environment-config.js';
import { environments, loadEnvironmentConfig } from '../../lib/config/environments.js';
import { scheduleExpressionProblem } from '../../lib/config/schedule-expression.js';
import { aslPlaceholders } from '../../lib/constructs/asl-state-machine.js';
import { rollbackMonitorSchedules } from '../../lib/constructs/day3-go-no-go.js';
import type { StagegateFunction } from '../../lib/constructs/stagegate-function.js';
import { APPROVAL_HANDLERS, DAY3_HANDLERS, HANDLERS } from '../../lib/handlers.js';
import { DAY3_GO_NO_GO_ASL } from '../../lib/paths.js';
import { stageApproval, TEST_JWT } from '../support/stage-approval.js';
import {
  arnOf,
  asArray,
  environmentOf,
  logicalIdOf,
  render,
  type SynthesizedStage,
  scheduleProps,
  statementsOfRole,
  synthStage,
  tableGrantsOfRole,
} from './synth.js';

type Json = Record<string, unknown>;

const APPROVERS = ['slack:U024BE7LH', 'web:alice@example.com'];
/** Per stage: a JWT issuer in staging and prod, a two-step chain in prod (test/support). */
const approvalOf = (stage: Stage) => stageApproval(stage, APPROVERS);
const withApprovers = (stage: Stage, extra: Json = {}) => ({
  [`stagegate:${stage}`]: { approval: approvalOf(stage), ...extra },
});

const built = {} as Record<Stage, SynthesizedStage>;

beforeAll(() => {
  for (const stage of STAGES) built[stage] = synthStage(stage, withApprovers(stage));
});

function day3Of(s: SynthesizedStage) {
  const day3 = s.env.workflow.day3;
  if (!day3) throw new Error('the Day-3 go/no-go was not built');
  return day3;
}

/** Allow statements (action -> rendered resources) of a role. */
function grants(s: SynthesizedStage, roleLogicalId: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const st of statementsOfRole(s.workflow, roleLogicalId)) {
    for (const action of asArray(st.Action as string | string[])) {
      out.set(action, [...(out.get(action) ?? []), ...asArray(st.Resource).map(render)]);
    }
  }
  return out;
}

const roleOf = (f: StagegateFunction) => logicalIdOf(f.executionRole);

function findings(s: SynthesizedStage): string[] {
  const report = new AwsSolutionsChecks().validateScope(s.env);
  return report.violations.flatMap((v) =>
    v.violatingResources.map((r) => `${v.ruleName} ${r.constructPath ?? ''}`),
  );
}

describe('Day-3 go/no-go without approvers', () => {
  it.each(STAGES)('%s deploys no Day-3 machine, API or rollback monitor by default', (stage) => {
    // Prepare
    const { workflow, env } = synthStage(stage);

    // Act
    const names = Object.values(workflow.findResources('AWS::StepFunctions::StateMachine')).map(
      (m) => m.Properties.StateMachineName,
    );

    // Assess
    expect(env.workflow.day3).toBeUndefined();
    expect(names).not.toContain(`stagegate-${stage}-day3-go-no-go`);
    // The operator console's API (issue 14) exists in every stage; no approval API does.
    const apis = Object.values(workflow.findResources('AWS::ApiGatewayV2::Api')).map(
      (a) => a.Properties.Name as string,
    );
    expect(apis).toEqual([`stagegate-${stage}-console`]);
  });
});

/** Resources of `type` that belong to the approval HTTP API (not the operator console's). */
function approvalApiResources(workflow: Template, type: string): Json[] {
  const apis = Object.entries(workflow.findResources('AWS::ApiGatewayV2::Api'));
  const ids = apis
    .filter(([, a]) => !String(a.Properties.Name).endsWith('-console'))
    .map(([id]) => id);
  return Object.values(workflow.findResources(type))
    .map((r) => r.Properties as Json)
    .filter((p) => ids.includes(String((p.ApiId as { Ref?: string } | undefined)?.Ref)));
}

describe.each(STAGES)('Day-3 go/no-go (%s)', (stage) => {
  const config = environments[stage];

  it('substitutes every placeholder: the four functions, record-audit and the promotion pipeline', () => {
    // Prepare
    const s = built[stage];
    const day3 = day3Of(s);

    // Act
    const machine = s.workflow.findResources('AWS::StepFunctions::StateMachine')[
      logicalIdOf(day3.stateMachine)
    ];
    const subs = machine?.Properties.DefinitionSubstitutions as Json;

    // Assess
    expect(machine?.Properties).toEqual(
      expect.objectContaining({
        StateMachineName: `stagegate-${stage}-day3-go-no-go`,
        StateMachineType: 'STANDARD',
      }),
    );
    expect(Object.keys(subs).sort()).toEqual(aslPlaceholders(DAY3_GO_NO_GO_ASL));
    for (const [name, spec] of Object.entries(DAY3_HANDLERS)) {
      expect(subs[spec.aslPlaceholder]).toEqual(
        arnOf(logicalIdOf(day3.functions[name as keyof typeof DAY3_HANDLERS])),
      );
    }
    expect(subs[HANDLERS.recordAudit.aslPlaceholder]).toEqual(
      arnOf(logicalIdOf(s.env.workflow.functions.recordAudit)),
    );
    expect(subs.PromotionPipelineStateMachineArn).toEqual({
      Ref: logicalIdOf(s.env.workflow.promotion.stateMachine),
    });
  });

  it('lets the machine invoke its five functions and run the pipeline with startExecution.sync:2', () => {
    // Prepare
    const s = built[stage];
    const day3 = day3Of(s);
    const account = `arn:aws:states:${config.region}:{AWS::AccountId}`;

    // Act
    const g = grants(s, logicalIdOf(day3.stateMachine.role));

    // Assess
    expect(g.get('lambda:InvokeFunction')?.sort()).toEqual(
      [
        ...Object.values(day3.functions).map((f) => `{${logicalIdOf(f)}.Arn}`),
        `{${logicalIdOf(s.env.workflow.functions.recordAudit)}.Arn}`,
      ].sort(),
    );
    expect(g.get('states:StartExecution')).toEqual([
      `{${logicalIdOf(s.env.workflow.promotion.stateMachine)}}`,
    ]);
    for (const action of ['states:DescribeExecution', 'states:StopExecution']) {
      expect(g.get(action)).toEqual([
        `${account}:execution:stagegate-${stage}-promotion-pipeline:*`,
      ]);
    }
    for (const action of ['events:PutTargets', 'events:PutRule', 'events:DescribeRule']) {
      expect(g.get(action)).toEqual([
        `arn:aws:events:${config.region}:{AWS::AccountId}:rule/StepFunctionsGetEventsForStepFunctionsExecutionRule`,
      ]);
    }
  });

  it('lets only the two approval doors answer the waiting task token', () => {
    // Prepare
    const s = built[stage];
    const day3 = day3Of(s);
    const machine = `{${logicalIdOf(day3.stateMachine)}}`;
    const everyFunction = [
      ...Object.entries(day3.functions),
      ...Object.entries(day3.approvalFunctions),
    ];

    // Act
    const answering = everyFunction
      .filter(([, f]) => grants(s, roleOf(f)).has('states:SendTaskSuccess'))
      .map(([name]) => name)
      .sort();

    // Assess
    expect(answering).toEqual(['approvalHttp', 'slackInteractivity']);
    for (const name of answering) {
      const g = grants(s, roleOf(day3.approvalFunctions[name as 'approvalHttp']));
      for (const action of [
        'states:SendTaskSuccess',
        'states:SendTaskFailure',
        'states:SendTaskHeartbeat',
      ]) {
        expect(g.get(action)).toEqual([machine]);
      }
    }
  });

  it('lets only the two approval doors describe executions, those of the Day-3 machine only', () => {
    // Prepare
    const s = built[stage];
    const day3 = day3Of(s);
    const everyFunction = [
      ...Object.entries(day3.functions),
      ...Object.entries(day3.approvalFunctions),
    ];
    const executions = `arn:aws:states:${config.region}:{AWS::AccountId}:execution:stagegate-${stage}-day3-go-no-go:*`;

    // Act
    const describing = everyFunction
      .filter(([, f]) => grants(s, roleOf(f)).has('states:DescribeExecution'))
      .map(([name]) => name)
      .sort();

    // Assess
    expect(describing).toEqual(['approvalHttp', 'slackInteractivity']);
    for (const name of describing) {
      const g = grants(s, roleOf(day3.approvalFunctions[name as 'approvalHttp']));
      expect(g.get('states:DescribeExecution')).toEqual([executions]);
      expect(g.has('states:GetExecutionHistory')).toBe(false);
      expect(g.has('states:ListExecutions')).toBe(false);
    }
  });

  it(`routes EVERY method of /approvals/{approvalId} to approval-http behind ${stage === 'dev' ? 'IAM' : 'JWT'} auth, and only Slack without one`, () => {
    // Prepare
    const s = built[stage];

    // Act
    const routes = approvalApiResources(s.workflow, 'AWS::ApiGatewayV2::Route');
    const byKey = Object.fromEntries(routes.map((r) => [r.RouteKey, r.AuthorizationType]));
    const page = routes.find((r) => r.RouteKey === APPROVAL_PAGE_ROUTE_KEY);
    const target = page?.Target as { 'Fn::Join': [string, unknown[]] } | undefined;
    const integrationId = target?.['Fn::Join'][1]
      .map((part) => (part as { Ref?: string }).Ref)
      .find((ref) => ref !== undefined);
    const integration = s.workflow.findResources('AWS::ApiGatewayV2::Integration')[
      String(integrationId)
    ]?.Properties as Json;

    // Assess: ANY, so PUT/DELETE/PATCH/OPTIONS reach the handler, which answers 405 and
    // records input_rejected (test/integration/day3/approval-endpoints.test.ts); API Gateway
    // answers none of them itself
    const auth = stage === 'dev' ? 'AWS_IAM' : 'JWT';
    expect(byKey).toEqual({
      [APPROVAL_PAGE_ROUTE_KEY]: auth,
      'POST /slack/interactivity': 'NONE',
      // The /stagegate slash command (slack-command, test/infra/chat-ops.test.ts).
      'POST /slack/commands': 'NONE',
    });
    expect(APPROVAL_PAGE_ROUTE_KEY).toBe('ANY /approvals/{approvalId}');
    expect(JSON.stringify(integration.IntegrationUri)).toContain(
      logicalIdOf(day3Of(s).approvalFunctions.approvalHttp),
    );
  });

  it('logs every request on the $default stage without paths or query strings', () => {
    // Prepare
    const s = built[stage];

    // Act
    const stages = approvalApiResources(s.workflow, 'AWS::ApiGatewayV2::Stage');
    const settings = stages[0]?.AccessLogSettings as { Format: string } | undefined;

    // Assess
    expect(stages).toHaveLength(1);
    expect(stages[0]).toEqual(expect.objectContaining({ StageName: '$default', AutoDeploy: true }));
    expect(settings?.Format).toContain('$context.requestId');
    expect(settings?.Format).toContain('$context.routeKey');
    expect(settings?.Format).not.toMatch(/\$context\.(path|querystring)/i);
    s.workflow.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: `/stagegate/${stage}/approval-api/access`,
      RetentionInDays: config.logs.retentionDays,
    });
  });

  it(`keeps the three approval secrets ${config.kms.customerManagedKey ? 'under the environment key' : 'under the AWS-managed key'}, generated`, () => {
    // Prepare
    const { stateful } = built[stage];

    // Act
    const secrets = Object.values(stateful.findResources('AWS::SecretsManager::Secret'))
      .map((r) => r.Properties as Json)
      .filter((p) => /approval-key|slack-/.test(String(p.Name)));

    // Assess
    expect(secrets.map((p) => p.Name).sort()).toEqual([
      `stagegate/${stage}/approval-key`,
      `stagegate/${stage}/slack-bot-token`,
      `stagegate/${stage}/slack-signing-secret`,
    ]);
    for (const p of secrets) {
      expect(p.GenerateSecretString).toEqual(
        expect.objectContaining({ PasswordLength: 64, ExcludePunctuation: true }),
      );
      if (config.kms.customerManagedKey) expect(p.KmsKeyId).toBeDefined();
      else expect(p.KmsKeyId).toBeUndefined();
    }
  });

  it('gives the Day-3 functions the Day-3 config, and the approval doors the API URL and secrets', () => {
    // Prepare
    const s = built[stage];
    const day3 = day3Of(s);
    const expected = day3ConfigFrom({
      approvalTimeoutHours: config.promotion.approvalTimeoutHours,
      microLive: config.promotion.microLive,
      ...approvalOf(stage),
    });

    // Act
    const request = environmentOf(s.workflow, day3.functions.requestApproval);
    const slack = environmentOf(s.workflow, day3.approvalFunctions.slackInteractivity);
    const page = environmentOf(s.workflow, day3.approvalFunctions.approvalHttp);
    const monitor = environmentOf(s.workflow, day3.approvalFunctions.rollbackMonitor);

    // Assess
    expect(JSON.parse(String(request.DAY3_CONFIG_JSON))).toEqual(expected);
    expect(JSON.parse(String(monitor.DAY3_CONFIG_JSON))).toEqual(expected);
    expect(monitor.GATE_THRESHOLDS_JSON).toBeDefined();
    for (const env of [request, slack, page]) {
      expect(env).toEqual(
        expect.objectContaining({
          NOTIFIER: 'slack',
          SLACK_CHANNEL: config.slack.channel,
        }),
      );
      expect(env).not.toHaveProperty('TASK_TOKEN_MODE');
      expect(env).not.toHaveProperty('SECRETS_MODE');
      expect(render(env.APPROVAL_BASE_URL)).toContain(logicalIdOf(day3.api));
      expect(env.APPROVAL_KEY_SECRET_ID).toBeDefined();
      expect(env.SLACK_BOT_TOKEN_SECRET_ID).toBeDefined();
    }
    expect(slack.SLACK_SIGNING_SECRET_ID).toBeDefined();
    expect(page.SLACK_SIGNING_SECRET_ID).toBeUndefined();
    expect(monitor.APPROVAL_KEY_SECRET_ID).toBeUndefined();
  });

  it('reads secrets only where a function needs them; the signing secret only in slack-interactivity', () => {
    // Prepare
    const s = built[stage];
    const day3 = day3Of(s);
    const all = { ...day3.functions, ...day3.approvalFunctions };

    // Act
    const secretReads = Object.fromEntries(
      Object.entries(all).map(([name, f]) => [
        name,
        (grants(s, roleOf(f)).get('secretsmanager:GetSecretValue') ?? []).length,
      ]),
    );

    // Assess
    expect(secretReads).toEqual({
      selectDay3Candidate: 0,
      requestApproval: 2,
      recordLeverageDecision: 0,
      concludeDay3: 2,
      approvalHttp: 2,
      slackInteractivity: 3,
      rollbackMonitor: 0,
    });
  });

  it('limits every DynamoDB grant to the partitions each function uses', () => {
    // Prepare
    const s = built[stage];
    const day3 = day3Of(s);
    const simbroker = `SIMBROKER#${config.broker.simulated.accountId}`;
    const audit = { GetItem: ['AUDIT_STREAM#*'], UpdateItem: ['AUDIT_STREAM#*'] };

    // Act
    const actual = Object.fromEntries(
      Object.entries({ ...day3.functions, ...day3.approvalFunctions }).map(([name, f]) => [
        name,
        tableGrantsOfRole(s.workflow, roleOf(f)),
      ]),
    );

    // Assess
    expect(actual).toEqual({
      selectDay3Candidate: {
        'dynamodb:GetItem': ['AUDIT_STREAM#*', 'BROKER_BOOK#*', 'CONFIG', 'GENOME_POOL'],
        'dynamodb:Query': ['COHORT#*', 'GENOME_POOL', 'PAPER_TRACK#*', 'index:gsi1'],
        'dynamodb:UpdateItem': audit.UpdateItem,
      },
      requestApproval: {
        'dynamodb:GetItem': ['APPROVAL#*', 'AUDIT_STREAM#*'],
        'dynamodb:PutItem': ['APPROVAL#*'],
        'dynamodb:UpdateItem': audit.UpdateItem,
      },
      recordLeverageDecision: {
        'dynamodb:GetItem': ['AUDIT_STREAM#*', 'MICROLIVE#*'],
        'dynamodb:PutItem': ['MICROLIVE#*'],
        'dynamodb:UpdateItem': audit.UpdateItem,
      },
      concludeDay3: {
        'dynamodb:GetItem': ['APPROVAL#*', 'AUDIT_STREAM#*', 'MICROLIVE#*', 'PROMOTION#*'],
        'dynamodb:PutItem': ['MICROLIVE#*'],
        'dynamodb:Query': ['PROMOTION#*'],
        'dynamodb:UpdateItem': audit.UpdateItem,
      },
      approvalHttp: {
        'dynamodb:GetItem': ['APPROVAL#*', 'AUDIT_STREAM#*'],
        'dynamodb:UpdateItem': ['APPROVAL#*', 'AUDIT_STREAM#*'],
      },
      slackInteractivity: {
        'dynamodb:GetItem': ['APPROVAL#*', 'AUDIT_STREAM#*'],
        'dynamodb:UpdateItem': ['APPROVAL#*', 'AUDIT_STREAM#*'],
      },
      rollbackMonitor: {
        'dynamodb:BatchGetItem': [simbroker],
        'dynamodb:GetItem': [
          'AUDIT_STREAM#*',
          'BROKER_BOOK#*',
          'CONFIG',
          'MICROLIVE#*',
          'PROMOTION#*',
          simbroker,
        ].sort(),
        'dynamodb:PutItem': ['BROKER_BOOK#*', 'MICROLIVE#*', 'PROMOTION#*', simbroker].sort(),
        'dynamodb:Query': ['PROMOTION#*', 'index:gsi1'],
        'dynamodb:UpdateItem': ['AUDIT_STREAM#*', 'PROMOTION#*'],
      },
    });
  });

  it('never lets a Day-3 function write the kill switch, delete, or use wildcard actions', () => {
    // Prepare
    const s = built[stage];
    const day3 = day3Of(s);
    const all = Object.values({ ...day3.functions, ...day3.approvalFunctions });

    // Act
    const actions = all.flatMap((f) => [...grants(s, roleOf(f)).keys()]);
    const killSwitchWrites = all.flatMap((f) => {
      const t = tableGrantsOfRole(s.workflow, roleOf(f));
      return ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:BatchWriteItem'].filter((a) =>
        t[a]?.includes('CONFIG'),
      );
    });

    // Assess
    expect(actions.filter((a) => a.includes('*') || /Delete/.test(a))).toEqual([]);
    expect(killSwitchWrites).toEqual([]);
  });

  it('deploys the stand-alone 16:30 New York go/no-go schedule disabled (the session chain starts it), with retries and a dead-letter queue', () => {
    // Prepare
    const s = built[stage];
    const day3 = day3Of(s);

    // Act
    const schedule = scheduleProps(s.workflow, 'day3-go-no-go');
    const target = schedule.Target as Json;

    // Assess
    expect(schedule).toEqual(
      expect.objectContaining({
        ScheduleExpression: 'cron(30 16 ? * MON-FRI *)',
        ScheduleExpressionTimezone: 'America/New_York',
        FlexibleTimeWindow: { Mode: 'OFF' },
        // The session-ingestion chain starts the go/no-go after each session's learning cycle.
        State: 'DISABLED',
      }),
    );
    expect(target.Arn).toEqual({ Ref: logicalIdOf(day3.stateMachine) });
    expect(JSON.parse(String(target.Input))).toEqual({ source: 'schedule' });
    expect(target.DeadLetterConfig).toEqual({
      Arn: arnOf(logicalIdOf(day3.scheduleDeadLetterQueue)),
    });
    expect(target.RetryPolicy).toEqual({ MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 1800 });
  });

  it('ticks the rollback monitor every 5 minutes 09:35-15:50 and closes the day at 15:55', () => {
    // Prepare
    const s = built[stage];
    const day3 = day3Of(s);

    // Act
    const ticks = rollbackMonitorSchedules(5).map((t) => scheduleProps(s.workflow, t.name));

    // Assess
    expect(ticks.map((t) => t.ScheduleExpression)).toEqual([
      'cron(35/5 9 ? * MON-FRI *)',
      'cron(0/5 10-14 ? * MON-FRI *)',
      'cron(0,5,10,15,20,25,30,35,40,45,50 15 ? * MON-FRI *)',
      'cron(55 15 ? * MON-FRI *)',
    ]);
    for (const [i, tick] of ticks.entries()) {
      const target = tick.Target as Json;
      expect(scheduleExpressionProblem(String(tick.ScheduleExpression))).toBeUndefined();
      expect(tick.ScheduleExpressionTimezone).toBe('America/New_York');
      expect(target.Arn).toEqual(arnOf(logicalIdOf(day3.approvalFunctions.rollbackMonitor)));
      expect(target.DeadLetterConfig).toEqual({
        Arn: arnOf(logicalIdOf(day3.scheduleDeadLetterQueue)),
      });
      expect(JSON.parse(String(target.Input))).toEqual({
        scheduledTime: '<aws.scheduler.scheduled-time>',
        ...(i === ticks.length - 1 ? { closeOfDay: true } : {}),
      });
    }
  });

  it('alarms on failed Day-3 executions, its dead-letter queue and every Day-3 function error', () => {
    // Prepare
    const { workflow } = built[stage];

    // Act
    const names = Object.values(workflow.findResources('AWS::CloudWatch::Alarm')).map(
      (a) => a.Properties.AlarmName,
    );

    // Assess
    expect(names).toEqual(
      expect.arrayContaining([
        `stagegate-${stage}-day3-go-no-go-executions-failed`,
        `stagegate-${stage}-day3-schedule-dlq-not-empty`,
        ...[...Object.values(DAY3_HANDLERS), ...Object.values(APPROVAL_HANDLERS)].map(
          (spec) => `stagegate-${stage}-${spec.file}-errors`,
        ),
      ]),
    );
  });

  it('reports no unacknowledged cdk-nag finding', () => {
    // Prepare / Act
    const open = findings(built[stage]);

    // Assess
    expect(open).toEqual([]);
  });
});

describe('Day-3 approval page with a JWT authorizer and the Alpaca broker', () => {
  it('authorizes the approval routes with the configured issuer and audience, cdk-nag clean', () => {
    // Prepare
    const extra = {
      approval: stageApproval('prod', APPROVERS),
      broker: { adapter: 'alpaca-paper' },
    };

    // Act
    const s = synthStage('prod', { 'stagegate:prod': extra });
    const routes = Object.values(s.workflow.findResources('AWS::ApiGatewayV2::Route')).map(
      (r) => r.Properties as Json,
    );
    const monitor = grants(s, roleOf(day3Of(s).approvalFunctions.rollbackMonitor));

    // Assess
    s.workflow.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      JwtConfiguration: { Issuer: 'https://idp.example.com/', Audience: ['stagegate-approvals'] },
    });
    for (const r of routes.filter((r) => String(r.RouteKey).includes('/approvals/'))) {
      expect(r.AuthorizationType).toBe('JWT');
    }
    expect(monitor.get('secretsmanager:GetSecretValue')).toHaveLength(1);
    expect(findings(s)).toEqual([]);
  });
});

describe('approval config', () => {
  it.each([
    [{ approvers: ['U024BE7LH'] }, 'approval.approvers[0]'],
    [{ approvers: ['slack:U1', 'slack:U1'] }, 'approval.approvers'],
    [
      { approvers: ['slack:U1'], jwt: { issuer: 'http://idp.example.com', audience: ['a'] } },
      'approval.jwt.issuer',
    ],
    [
      { approvers: ['slack:U1'], jwt: { issuer: 'https://idp.example.com', audience: [] } },
      'approval.jwt.audience',
    ],
  ])('rejects %j naming %s', (approval, field) => {
    // Prepare / Act
    let error: unknown;
    try {
      loadEnvironmentConfig('dev', { approval });
    } catch (err) {
      error = err;
    }

    // Assess
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe(field);
  });

  it.each(['staging', 'prod'] as const)(
    'refuses approvers without a JWT issuer in %s (approval.jwt), accepts them with one',
    (stage) => {
      // Prepare
      let error: unknown;

      // Act
      const { jwt, ...withoutJwt } = stageApproval(stage, ['slack:U1']);
      try {
        loadEnvironmentConfig(stage, { approval: withoutJwt });
      } catch (err) {
        error = err;
      }
      const withJwt = loadEnvironmentConfig(stage, { approval: { ...withoutJwt, jwt } });

      // Assess
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).field).toBe('approval.jwt');
      expect(withJwt.approval.jwt).toEqual(TEST_JWT);
    },
  );

  it('accepts approvers without a JWT issuer in dev (the page then needs IAM: Slack buttons only)', () => {
    // Act
    const dev = loadEnvironmentConfig('dev', { approval: { approvers: ['slack:U1'] } });

    // Assess
    expect(dev.approval.jwt).toBeUndefined();
  });

  it('defaults to no approvers, the stand-alone go/no-go schedule disabled (chained) and the rollback monitor enabled', () => {
    // Prepare / Act
    const configs = STAGES.map((stage) => environments[stage]);

    // Assess
    for (const c of configs) {
      expect(c.approval.approvers).toEqual([]);
      expect(c.schedules.day3GoNoGo).toEqual({
        expression: 'cron(30 16 ? * MON-FRI *)',
        enabled: false,
      });
      expect(c.schedules.rollbackMonitor.enabled).toBe(true);
    }
  });
});
