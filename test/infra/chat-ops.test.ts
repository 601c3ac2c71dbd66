/**
 * The `/stagegate` slash command per stage (lib/constructs/chat-ops.ts): its route on the
 * Slack-facing API (the console API without the Day-3 go/no-go, the approval API with it),
 * signature-only authentication acknowledged, the function's least-privilege grants
 * (self-invocation for follow-ups only, the kill switch, plans, cohort start), follow-ups
 * never retried and dead-lettered into an alarmed queue, the Day-3 interactivity function
 * equipped for the kill-switch clicks, and cdk-nag.
 */
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { ChatOpsConfigSchema } from '../../functions/core/use-cases/chatops-commands.js';
import { STAGES, type Stage } from '../../lib/config/environment-config.js';
import { environments } from '../../lib/config/environments.js';
import { stageApproval } from '../support/stage-approval.js';
import {
  asArray,
  environmentOf,
  logicalIdOf,
  objectGrantsOfRole,
  render,
  type SynthesizedStage,
  statementsOfRole,
  synthStage,
  tableGrantsOfRole,
} from './synth.js';

const built = {} as Record<Stage, SynthesizedStage>;
const withDay3 = {} as Record<Stage, SynthesizedStage>;

beforeAll(() => {
  for (const stage of STAGES) {
    built[stage] = synthStage(stage);
    withDay3[stage] = synthStage(stage, {
      [`stagegate:${stage}`]: {
        approval: stageApproval(stage, ['web:rick@example.com']),
      },
    });
  }
});

function chatOps(s: SynthesizedStage) {
  const c = s.env.workflow.chatOps;
  if (!c) throw new Error('chat-ops not deployed');
  return c;
}

/** Routes of the API named `name`: route key -> its properties. */
function routesOf(s: SynthesizedStage, name: string): Record<string, Record<string, unknown>> {
  const t = s.workflow;
  const api = Object.entries(t.findResources('AWS::ApiGatewayV2::Api')).find(
    ([, a]) => a.Properties.Name === name,
  );
  if (!api) throw new Error(`no API ${name}`);
  const out: Record<string, Record<string, unknown>> = {};
  for (const r of Object.values(t.findResources('AWS::ApiGatewayV2::Route'))) {
    if (render(r.Properties.ApiId).includes(api[0])) out[r.Properties.RouteKey] = r.Properties;
  }
  return out;
}

/** Logical id of the function an HTTP API route integrates. */
function targetOf(s: SynthesizedStage, route: Record<string, unknown>): string {
  const integrationId = /integrations\/\{(\w+)\}/.exec(render(route.Target))?.[1] ?? '';
  const integration = s.workflow.findResources('AWS::ApiGatewayV2::Integration')[integrationId];
  return render(integration?.Properties.IntegrationUri);
}

describe.each(STAGES)('/stagegate slash command (%s)', (stage) => {
  it('routes POST /slack/commands and the kill-switch clicks on the console API without the go/no-go', () => {
    const s = built[stage];
    const routes = routesOf(s, `stagegate-${stage}-console`);
    const fn = logicalIdOf(chatOps(s).function);
    for (const key of ['POST /slack/commands', 'POST /slack/interactivity']) {
      expect(routes[key]).toBeDefined();
      expect(routes[key]?.AuthorizationType ?? 'NONE').toBe('NONE');
      expect(targetOf(s, routes[key] as Record<string, unknown>)).toContain(fn);
    }
    // The console's own route stays behind its JWT authorizer.
    expect(routes['POST /api/{proxy+}']?.AuthorizationType).toBe('JWT');
  });

  it('routes POST /slack/commands beside the approval API interactivity with the go/no-go', () => {
    const s = withDay3[stage];
    const routes = routesOf(s, `stagegate-${stage}-approval`);
    expect(targetOf(s, routes['POST /slack/commands'] as Record<string, unknown>)).toContain(
      logicalIdOf(chatOps(s).function),
    );
    expect(targetOf(s, routes['POST /slack/interactivity'] as Record<string, unknown>)).toContain(
      logicalIdOf(s.env.workflow.day3?.approvalFunctions.slackInteractivity as never),
    );
    expect(Object.keys(routesOf(s, `stagegate-${stage}-console`))).not.toContain(
      'POST /slack/commands',
    );
  });

  it('configures the function from the stage: nobody mapped, the signing secret, valid settings', () => {
    const s = built[stage];
    const env = environmentOf(s.workflow, chatOps(s).function);
    expect(env.SLACK_COMMAND_USERS_JSON).toBe('{}');
    expect(render(env.SLACK_SIGNING_SECRET_ID)).toContain('SlackSigningSecret');
    const settings = ChatOpsConfigSchema.parse(JSON.parse(String(env.CHATOPS_CONFIG_JSON)));
    expect(settings.bankrollLimits.minUsd).toBeLessThanOrEqual(settings.bankrollUsd);
    expect(render(env.INTRADAY_COHORT_STATE_MACHINE_ARN)).toContain(
      logicalIdOf(s.env.workflow.stateMachine),
    );
  });

  it('grants the kill switch, plans, reads, cohort start and its own invocation, nothing wider', () => {
    const s = built[stage];
    const fn = chatOps(s).function;
    const role = logicalIdOf(fn.executionRole);
    const table = tableGrantsOfRole(s.workflow, role);
    expect(table['dynamodb:PutItem']).toEqual(expect.arrayContaining(['CONFIG', 'PLAN']));
    expect(table['dynamodb:GetItem']).toEqual(expect.arrayContaining(['PLAN']));
    expect(table['dynamodb:PutItem']).not.toContain('COHORT#*');
    expect(table['dynamodb:PutItem']).not.toContain('ANY ITEM');
    expect(Object.keys(table)).not.toContain('dynamodb:DeleteItem');
    const objects = objectGrantsOfRole(s.workflow, role, stage);
    // The plan is a table item (compare-and-set): no artifact object is written; the
    // pre-migration object is only read (moved to the item on first read).
    expect((objects['s3:PutObject'] ?? []).filter((k) => k.startsWith('artifacts/'))).toEqual([]);
    expect(objects['s3:GetObject']).toContain('artifacts/plans/*');
    const statements = statementsOfRole(s.workflow, role);
    const invokes = statements.filter((st) =>
      asArray(st.Action as string | string[]).includes('lambda:InvokeFunction'),
    );
    expect(invokes).toHaveLength(1);
    expect(asArray(invokes[0]?.Resource)).toHaveLength(1);
    expect(render(invokes[0]?.Resource)).toMatch(new RegExp(`function:\\{${logicalIdOf(fn)}\\}$`));
    const starts = statements.filter((st) =>
      asArray(st.Action as string | string[]).includes('states:StartExecution'),
    );
    expect(starts).toHaveLength(1);
    expect(render(starts[0]?.Resource)).toContain(logicalIdOf(s.env.workflow.stateMachine));
    expect(statements.flatMap((st) => asArray(st.Action as string | string[]))).not.toContain(
      'states:SendTaskSuccess',
    );
  });

  it('never retries a follow-up and dead-letters a failed one into an alarmed queue', () => {
    const s = built[stage];
    const c = chatOps(s);
    const configs = Object.values(
      s.workflow.findResources('AWS::Lambda::EventInvokeConfig'),
    ).filter((r) => render(r.Properties.FunctionName).includes(logicalIdOf(c.function)));
    expect(configs).toHaveLength(1);
    const props = configs[0]?.Properties as Record<string, unknown>;
    expect(props.MaximumRetryAttempts).toBe(0);
    expect(render(props.DestinationConfig)).toContain(logicalIdOf(c.followUpFailureQueue));
    const alarms = Object.values(s.workflow.findResources('AWS::CloudWatch::Alarm')).map(
      (a) => a.Properties,
    );
    const queueAlarm = alarms.find(
      (a) => a.AlarmName === `stagegate-${stage}-slack-follow-up-failures-not-empty`,
    );
    expect(render(queueAlarm?.Dimensions)).toContain(logicalIdOf(c.followUpFailureQueue));
    expect(alarms.map((a) => a.AlarmName)).toContain(`stagegate-${stage}-slack-command-errors`);
  });

  it('lets the Day-3 interactivity function hand kill-switch clicks to slack-command, with no switch grant', () => {
    const s = withDay3[stage];
    const fn = s.env.workflow.day3?.approvalFunctions.slackInteractivity;
    if (!fn) throw new Error('no interactivity function');
    const target = logicalIdOf(chatOps(s).function);
    expect(render(environmentOf(s.workflow, fn).SLACK_COMMAND_FUNCTION_NAME)).toBe(`{${target}}`);
    const role = logicalIdOf(fn.executionRole);
    const invokes = statementsOfRole(s.workflow, role).filter((st) =>
      asArray(st.Action as string | string[]).includes('lambda:InvokeFunction'),
    );
    expect(invokes.map((st) => render(st.Resource))).toEqual([`{${target}.Arn}`]);
    const table = tableGrantsOfRole(s.workflow, role);
    expect(table['dynamodb:PutItem'] ?? []).not.toContain('CONFIG');
  });

  it('schedules the daily report after the close in the stage time zone, to the stage channel', () => {
    const s = built[stage];
    const d = chatOps(s).dailyReport;
    const schedules = Object.values(s.workflow.findResources('AWS::Scheduler::Schedule')).filter(
      (r) => r.Properties.Name === 'daily-report',
    );
    expect(schedules).toHaveLength(1);
    const props = schedules[0]?.Properties as Record<string, unknown>;
    const cfg = environments[stage].schedules;
    expect(props.ScheduleExpression).toBe(cfg.dailyReport.expression);
    expect(props.ScheduleExpressionTimezone).toBe(cfg.timezone);
    expect(props.State).toBe(cfg.dailyReport.enabled ? 'ENABLED' : 'DISABLED');
    const target = props.Target as Record<string, unknown>;
    expect(render(target.Arn)).toContain(logicalIdOf(d.function));
    expect(render(target.DeadLetterConfig)).toContain(logicalIdOf(d.deadLetterQueue));
    // The schedule passes its scheduled time (logged; the time comes from the clock) and
    // its market (the equity report; the crypto one has its own schedule).
    expect(JSON.parse(String(target.Input))).toEqual({
      scheduledTime: '<aws.scheduler.scheduled-time>',
      market: 'equity-usa',
    });
    const env = environmentOf(s.workflow, d.function);
    expect(env.SLACK_CHANNEL).toBe(environments[stage].slack.channel);
    // The report links to the console's pages: the CloudFront distribution in this stack
    // (not the HTTP API, which answers only /api/* with a sign-in).
    const distributions = Object.keys(s.workflow.findResources('AWS::CloudFront::Distribution'));
    expect(distributions).toHaveLength(1);
    expect(render(env.CONSOLE_URL)).toBe(`https://{${distributions[0]}.DomainName}/`);
    expect(render(env.SLACK_BOT_TOKEN_SECRET_ID)).toContain('SlackBotToken');
    const settings = ChatOpsConfigSchema.parse(JSON.parse(String(env.CHATOPS_CONFIG_JSON)));
    // The stage's own leverage policy and evidence gate, not a copy of the core defaults.
    expect(settings.leveragePolicy).toEqual(environments[stage].promotion.leveragePolicy);
    expect(settings.minPsr).toBe(environments[stage].gates.minPsr);
    const alarms = Object.values(s.workflow.findResources('AWS::CloudWatch::Alarm')).map(
      (a) => a.Properties.AlarmName,
    );
    expect(alarms).toEqual(
      expect.arrayContaining([
        `stagegate-${stage}-post-daily-report-errors`,
        `stagegate-${stage}-daily-report-schedule-dlq-not-empty`,
      ]),
    );
  });

  it('lets the daily report read the desk and write only its reports and the plan', () => {
    const s = built[stage];
    const role = logicalIdOf(chatOps(s).dailyReport.function.executionRole);
    const table = tableGrantsOfRole(s.workflow, role);
    expect(table['dynamodb:PutItem'] ?? []).not.toContain('CONFIG');
    // The post claims, one conditional put per session (never two posts).
    expect(table['dynamodb:PutItem']).toContain('POST_CLAIM#*');
    expect(Object.keys(table)).not.toContain('dynamodb:DeleteItem');
    const objects = objectGrantsOfRole(s.workflow, role, stage);
    expect((objects['s3:PutObject'] ?? []).filter((k) => k.startsWith('artifacts/'))).toEqual([
      'artifacts/daily-reports/*',
    ]);
    // The plan it reports on: its table item, read and conditionally put.
    expect(table['dynamodb:PutItem']).toContain('PLAN');
    expect(table['dynamodb:GetItem']).toContain('PLAN');
    expect(objects['s3:GetObject']).toContain('artifacts/plans/*');
    expect(objects['s3:PutObject']).not.toContain('artifacts/plans/*');
    expect(objects['s3:PutObject']).not.toContain('artifacts/cohorts/*');
    const statements = statementsOfRole(s.workflow, role);
    const actions = statements.flatMap((st) => asArray(st.Action as string | string[]));
    expect(actions).not.toContain('states:StartExecution');
    expect(actions).not.toContain('lambda:InvokeFunction');
  });

  it('reports no unacknowledged cdk-nag finding', () => {
    for (const s of [built[stage], withDay3[stage]]) {
      const report = new AwsSolutionsChecks().validateScope(chatOps(s));
      const open = report.violations.flatMap((v) =>
        v.violatingResources.map((r) => `${v.ruleName} ${r.constructPath ?? ''}`),
      );
      expect(open).toEqual([]);
    }
  });
});
