/**
 * The operator console per stage: the Cognito user pool (no self sign-up, MFA, the three role
 * groups), the console HTTP API whose only route is behind the pool's JWT authorizer, the
 * console function's least-privilege grants (reads, kill-switch write, audit append, the
 * Day-3 task response only when the go/no-go is deployed), and cdk-nag.
 */
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { STAGES, type Stage } from '../../lib/config/environment-config.js';
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

/** The value at a dotted `path` of a template fragment (undefined when absent). */
function at(o: unknown, path: string): unknown {
  return path
    .split('.')
    .reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], o);
}

/** The objects of the array at `path`. */
function listAt(o: unknown, path: string): Record<string, unknown>[] {
  return asArray(at(o, path) as Record<string, unknown>[]);
}

function consoleRole(s: SynthesizedStage): string {
  return logicalIdOf(s.env.workflow.console.function.executionRole);
}

function actionsOf(s: SynthesizedStage): string[] {
  return statementsOfRole(s.workflow, consoleRole(s)).flatMap((st) =>
    asArray(st.Action as string | string[]),
  );
}

describe.each(STAGES)('operator console (%s)', (stage) => {
  it('creates an admin-managed user pool with MFA and the viewer, operator and risk groups', () => {
    const t = built[stage].workflow;
    const pools = Object.values(t.findResources('AWS::Cognito::UserPool'));
    expect(pools).toHaveLength(1);
    const pool = pools[0]?.Properties as Record<string, unknown>;
    expect(pool.MfaConfiguration).toBe('ON');
    expect((pool.AdminCreateUserConfig as Record<string, unknown>).AllowAdminCreateUserOnly).toBe(
      true,
    );
    const groups = Object.values(t.findResources('AWS::Cognito::UserPoolGroup'))
      .map((g) => g.Properties.GroupName)
      .sort();
    expect(groups).toEqual(['operator', 'risk', 'viewer']);
  });

  it('routes /api/{proxy+} behind the pool JWT authorizer (and, without the go/no-go, the Slack routes)', () => {
    const t = built[stage].workflow;
    const api = Object.entries(t.findResources('AWS::ApiGatewayV2::Api')).find(
      ([, a]) => a.Properties.Name === `stagegate-${stage}-console`,
    );
    expect(api).toBeDefined();
    const apiId = api?.[0];
    const all = Object.values(t.findResources('AWS::ApiGatewayV2::Route')).filter((r) =>
      render(r.Properties.ApiId).includes(apiId as string),
    );
    // The Slack routes (signature-authenticated by the slack-command function) live here
    // only while no approval API exists: test/infra/chat-ops.test.ts.
    expect(all.map((r) => r.Properties.RouteKey).sort()).toEqual([
      'GET /api/{proxy+}',
      'HEAD /api/{proxy+}',
      'POST /api/{proxy+}',
      'POST /slack/commands',
      'POST /slack/interactivity',
    ]);
    const routes = all.filter((r) => String(r.Properties.RouteKey).includes(' /api/'));
    for (const r of routes) expect(r.Properties.AuthorizationType).toBe('JWT');
    const authorizers = Object.values(t.findResources('AWS::ApiGatewayV2::Authorizer')).filter(
      (a) => render(a.Properties.ApiId).includes(apiId as string),
    );
    expect(authorizers).toHaveLength(1);
    expect(authorizers[0]?.Properties.AuthorizerType).toBe('JWT');
  });

  it('grants the console function reads, the kill-switch and plan writes and audit appends, nothing wider', () => {
    const s = built[stage];
    const table = tableGrantsOfRole(s.workflow, consoleRole(s));
    // The kill switch and the plan (`PLAN / CURRENT`, conditional puts: compare-and-set).
    expect(table['dynamodb:PutItem']).toEqual(expect.arrayContaining(['CONFIG', 'PLAN']));
    expect(table['dynamodb:GetItem']).toEqual(expect.arrayContaining(['PLAN']));
    expect(table['dynamodb:PutItem']).not.toContain('ANY ITEM');
    expect(table['dynamodb:PutItem']).not.toContain('COHORT#*');
    expect(table['dynamodb:Query']).toEqual(expect.arrayContaining(['index:gsi1']));
    expect(Object.keys(table)).not.toContain('dynamodb:DeleteItem');
    expect(Object.keys(table)).not.toContain('dynamodb:Scan');
    expect(actionsOf(s)).not.toContain('states:SendTaskSuccess');
    // The pre-migration plan object: read (moved to the item on first read), never written.
    const objects = objectGrantsOfRole(s.workflow, consoleRole(s), stage);
    expect(objects['s3:GetObject']).toContain('artifacts/plans/*');
    expect(objects['s3:PutObject'] ?? []).not.toContain('artifacts/plans/*');
  });

  it('may start the intraday-cohort state machine (cohort start) and no other', () => {
    const s = built[stage];
    const starts = statementsOfRole(s.workflow, consoleRole(s)).filter((st) =>
      asArray(st.Action as string | string[]).includes('states:StartExecution'),
    );
    expect(starts).toHaveLength(1);
    const machine = logicalIdOf(s.env.workflow.stateMachine);
    expect(render(starts[0]?.Resource)).toContain(machine);
    const fn = Object.values(s.workflow.findResources('AWS::Lambda::Function')).find((f) =>
      render(f.Properties.Environment).includes('INTRADAY_COHORT_STATE_MACHINE_ARN'),
    );
    expect(render(fn?.Properties.Environment)).toContain(machine);
  });

  it('reads the Slack bot token (never the signing secret) to update the approval message, only with the go/no-go', () => {
    // Prepare
    const s = withDay3[stage];
    const day3 = s.env.workflow.day3;
    if (!day3) throw new Error('the Day-3 go/no-go was not built');
    const secretReads = (st: SynthesizedStage, role: string) =>
      statementsOfRole(st.workflow, role)
        .filter((x) =>
          asArray(x.Action as string | string[]).includes('secretsmanager:GetSecretValue'),
        )
        .flatMap((x) => asArray(x.Resource).map(render));

    // Act
    const env = environmentOf(s.workflow, s.env.workflow.console.function);
    const reads = secretReads(s, consoleRole(s));
    const requestReads = secretReads(s, logicalIdOf(day3.functions.requestApproval.executionRole));
    const slackReads = secretReads(
      s,
      logicalIdOf(day3.approvalFunctions.slackInteractivity.executionRole),
    );

    // Assess: the approval key and the bot token, as request-approval reads them.
    expect(env).toEqual(
      expect.objectContaining({ NOTIFIER: 'slack', SLACK_CHANNEL: expect.any(String) }),
    );
    expect(env.SLACK_BOT_TOKEN_SECRET_ID).toBeDefined();
    expect(env).not.toHaveProperty('SLACK_SIGNING_SECRET_ID');
    expect(render(env.APPROVAL_BASE_URL)).toContain(logicalIdOf(day3.api));
    expect(reads).toHaveLength(2);
    expect(new Set(reads)).toEqual(new Set(requestReads));
    const signingSecret = slackReads.filter((r) => !requestReads.includes(r));
    expect(signingSecret).toHaveLength(1);
    expect(reads).not.toContain(signingSecret[0]);
    // Without the go/no-go: no secret and no Slack settings at all.
    expect(secretReads(built[stage], consoleRole(built[stage]))).toEqual([]);
    expect(
      environmentOf(built[stage].workflow, built[stage].env.workflow.console.function),
    ).not.toHaveProperty('SLACK_BOT_TOKEN_SECRET_ID');
  });

  it('may answer the Day-3 task token, and describe Day-3 executions, only when the go/no-go is deployed', () => {
    expect(actionsOf(withDay3[stage])).toEqual(
      expect.arrayContaining([
        'states:SendTaskSuccess',
        'states:SendTaskFailure',
        'states:DescribeExecution',
      ]),
    );
    expect(actionsOf(built[stage])).not.toContain('states:DescribeExecution');
    const describes = statementsOfRole(withDay3[stage].workflow, consoleRole(withDay3[stage]))
      .filter((st) => asArray(st.Action as string | string[]).includes('states:DescribeExecution'))
      .flatMap((st) => asArray(st.Resource).map(render));
    expect(describes).toEqual([
      expect.stringMatching(new RegExp(`:execution:stagegate-${stage}-day3-go-no-go:\\*$`)),
    ]);
  });

  it('alarms on the console function failing and on the console API answering 5xx', () => {
    const s = built[stage];
    const alarms = Object.values(s.workflow.findResources('AWS::CloudWatch::Alarm')).map(
      (a) => a.Properties as Record<string, unknown>,
    );
    const named = (suffix: string) => alarms.find((a) => String(a.AlarmName).endsWith(suffix));
    const errors = named('-console-api-errors');
    expect(errors).toMatchObject({ Namespace: 'AWS/Lambda', MetricName: 'Errors', Threshold: 1 });
    expect(JSON.stringify(errors?.Dimensions)).toContain(
      logicalIdOf(s.env.workflow.console.function),
    );
    const api = named('-console-api-5xx');
    expect(api).toMatchObject({ Namespace: 'AWS/ApiGateway', MetricName: '5xx', Threshold: 1 });
    expect(JSON.stringify(api?.Dimensions)).toContain(logicalIdOf(s.env.workflow.console.api));
    expect(asArray(api?.AlarmActions as unknown[]).length).toBeGreaterThan(0);
  });

  it('hosts the pages in a private bucket read by CloudFront (OAC), with /api/* on the same origin', () => {
    const s = built[stage];
    const t = s.workflow;
    const bucket = logicalIdOf(s.env.workflow.console.hosting.bucket);
    const props = t.findResources('AWS::S3::Bucket')[bucket]?.Properties as Record<string, unknown>;
    expect(props.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(render(props.LoggingConfiguration)).toContain('console-pages/');
    // Only CloudFront (this distribution, by its ARN) may read; nothing public.
    const policy = Object.values(t.findResources('AWS::S3::BucketPolicy')).find((p) =>
      render(p.Properties.Bucket).includes(bucket),
    );
    const reads = asArray(policy?.Properties.PolicyDocument.Statement as unknown[]).filter((st) =>
      render(st).includes('s3:GetObject'),
    );
    expect(reads).toHaveLength(1);
    expect(render(reads[0])).toContain('cloudfront.amazonaws.com');
    expect(render(reads[0])).toContain(logicalIdOf(s.env.workflow.console.hosting.distribution));
    expect(Object.keys(t.findResources('AWS::CloudFront::OriginAccessControl'))).toHaveLength(1);

    const dist = at(
      Object.values(t.findResources('AWS::CloudFront::Distribution'))[0],
      'Properties.DistributionConfig',
    );
    expect(at(dist, 'DefaultRootObject')).toBe('index.html');
    expect(at(dist, 'DefaultCacheBehavior.ViewerProtocolPolicy')).toBe('redirect-to-https');
    const apiBehavior = listAt(dist, 'CacheBehaviors').find((b) => b.PathPattern === '/api/*');
    expect(apiBehavior?.AllowedMethods).toEqual(expect.arrayContaining(['GET', 'HEAD', 'POST']));
    expect(apiBehavior?.ViewerProtocolPolicy).toBe('https-only');
    const apiOrigin = listAt(dist, 'Origins').find((o) => o.Id === apiBehavior?.TargetOriginId);
    expect(render(apiOrigin?.DomainName)).toContain(logicalIdOf(s.env.workflow.console.api));
    expect(render(apiOrigin?.DomainName)).toContain('execute-api');
    expect(at(apiOrigin, 'CustomOriginConfig.OriginProtocolPolicy')).toBe('https-only');
    // Authorization reaches the API (it is in the cache key) and nothing is kept.
    const cache = at(
      Object.values(t.findResources('AWS::CloudFront::CachePolicy'))[0],
      'Properties.CachePolicyConfig',
    );
    expect(at(cache, 'MinTTL')).toBe(0);
    expect(at(cache, 'DefaultTTL')).toBe(0);
    expect(at(cache, 'ParametersInCacheKeyAndForwardedToOrigin.HeadersConfig.Headers')).toEqual([
      'Authorization',
    ]);
    // The pages' CSP lets the page talk to itself and the Cognito sign-in domain only.
    const csp = render(
      at(
        Object.values(t.findResources('AWS::CloudFront::ResponseHeadersPolicy'))[0],
        'Properties.ResponseHeadersPolicyConfig.SecurityHeadersConfig.ContentSecurityPolicy.ContentSecurityPolicy',
      ),
    );
    expect(csp).toContain("connect-src 'self' https://");
    expect(csp).toContain("frame-ancestors 'none'");
    // The stateful stack lets the pages bucket deliver its server access logs.
    expect(render(s.stateful.toJSON())).toContain('ConsolePagesServerAccessLogs');
  });

  it('signs in through the Cognito managed login: code grant only, back to the console URL only', () => {
    const s = built[stage];
    const t = s.workflow;
    expect(Object.keys(t.findResources('AWS::Cognito::UserPoolDomain'))).toHaveLength(1);
    const client = Object.values(t.findResources('AWS::Cognito::UserPoolClient'))[0]
      ?.Properties as Record<string, unknown>;
    expect(client.AllowedOAuthFlows).toEqual(['code']);
    expect(client.AllowedOAuthFlowsUserPoolClient).toBe(true);
    expect(client.GenerateSecret).toBe(false);
    expect(client.SupportedIdentityProviders).toEqual(['COGNITO']);
    const distribution = logicalIdOf(s.env.workflow.console.hosting.distribution);
    for (const urls of [client.CallbackURLs, client.LogoutURLs]) {
      expect(urls).toHaveLength(1);
      expect(render(asArray(urls as unknown[])[0])).toContain(distribution);
    }
    const outputs = Object.keys(t.toJSON().Outputs ?? {});
    expect(outputs).toEqual(
      expect.arrayContaining([
        'ConsoleUrl',
        'ConsolePagesBucket',
        'ConsoleSignInUrl',
        'ConsoleClientId',
        'ConsoleUserPoolId',
      ]),
    );
  });

  it('reports no unacknowledged cdk-nag finding', () => {
    const report = new AwsSolutionsChecks().validateScope(withDay3[stage].env.workflow.console);
    const open = report.violations.flatMap((v) =>
      v.violatingResources.map((r) => `${v.ruleName} ${r.constructPath ?? ''}`),
    );
    expect(open).toEqual([]);
  });
});
