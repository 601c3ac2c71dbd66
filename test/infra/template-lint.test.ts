/**
 * Every synthesized template of every stage lints clean against the CloudFormation resource
 * specification (`test/infra/template-lint.ts`: unknown types and properties, missing
 * required properties, wrong literal kinds, values outside the allowed set, dangling
 * Ref/GetAtt/DependsOn/Condition), apart from the false positives listed with their reason in
 * `.ci/template-lint.json`. A failure prints each finding (rule, template path, message). The
 * linter itself is checked against templates broken on purpose, one rule at a time.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SpecDatabase } from '@aws-cdk/service-spec-types';
import { beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { STAGES } from '../../lib/config/environment-config.js';
import { REPO_ROOT } from '../../lib/paths.js';
import { synthStage } from './synth.js';
import { type LintFinding, lintTemplate, loadSpec } from './template-lint.js';

const ExemptionsSchema = z.object({
  $comment: z.string().optional(),
  exemptions: z.array(
    z.object({
      rule: z.string().regex(/^[EW]\d{4}$/),
      resourceType: z.string().min(1),
      path: z.string().min(1),
      reason: z.string().min(40),
    }),
  ),
});

const exemptions = ExemptionsSchema.parse(
  JSON.parse(readFileSync(join(REPO_ROOT, '.ci', 'template-lint.json'), 'utf8')),
).exemptions;

function exempted(f: LintFinding): boolean {
  return exemptions.some(
    (e) =>
      e.rule === f.rule && e.resourceType === f.resourceType && new RegExp(e.path).test(f.path),
  );
}

const print = (findings: readonly LintFinding[]) =>
  findings.map((f) => `${f.rule} ${f.path}: ${f.message}`).join('\n');

let spec: SpecDatabase;
beforeAll(async () => {
  spec = await loadSpec();
}, 120_000);

describe.each(STAGES)('synthesized templates of %s', (stage) => {
  it('lint clean against the resource specification (beyond the listed false positives)', () => {
    const s = synthStage(stage);
    for (const [name, template] of [
      ['stateful', s.stateful],
      ['workflow', s.workflow],
    ] as const) {
      const json = template.toJSON() as Record<string, unknown>;
      expect(Object.keys(json.Resources as object).length).toBeGreaterThan(10);
      const open = lintTemplate(spec, json).filter((f) => !exempted(f));
      expect(print(open), `${stage}/${name}`).toBe('');
    }
  }, 300_000);
});

describe('the template linter', () => {
  const base = () => ({
    Parameters: { Stage: { Type: 'String' } },
    Conditions: { IsProd: { 'Fn::Equals': [{ Ref: 'Stage' }, 'prod'] } },
    Resources: {
      Queue: { Type: 'AWS::SQS::Queue', Properties: { MessageRetentionPeriod: 1209600 } },
      Fn: {
        Type: 'AWS::Lambda::Function',
        DependsOn: ['Queue'],
        Properties: {
          Code: { ZipFile: 'exports.handler = async () => 1;' },
          Role: { 'Fn::GetAtt': ['Role', 'Arn'] },
          Handler: 'index.handler',
          Runtime: 'nodejs22.x',
          TracingConfig: { Mode: 'Active' },
          DeadLetterConfig: { TargetArn: { 'Fn::GetAtt': ['Queue', 'Arn'] } },
          Environment: { Variables: { STAGE: { Ref: 'Stage' }, REGION: { Ref: 'AWS::Region' } } },
          Tags: [{ Key: 'app', Value: 'stagegate' }],
        },
      },
      Role: {
        Type: 'AWS::IAM::Role',
        Properties: {
          AssumeRolePolicyDocument: { Version: '2012-10-17', Statement: [] },
          Description: { 'Fn::If': ['IsProd', 'prod role', { Ref: 'AWS::NoValue' }] },
        },
      },
    },
    Outputs: { QueueUrl: { Value: { Ref: 'Queue' } } },
  });
  type T = ReturnType<typeof base> & Record<string, unknown>;
  const fn = (t: T) => t.Resources.Fn.Properties as Record<string, unknown>;
  const rules = (t: T) => lintTemplate(spec, t).map((f) => f.rule);

  it('passes a correct template', () => {
    expect(print(lintTemplate(spec, base()))).toBe('');
  });

  it.each<[string, (t: T) => void]>([
    [
      'E3006',
      (t) => {
        (t.Resources.Queue as { Type: string }).Type = 'AWS::SQS::Queueue';
      },
    ],
    [
      'E3002',
      (t) => {
        (fn(t).TracingConfig as Record<string, unknown>).Sampling = 'all';
      },
    ],
    [
      'E3003',
      (t) => {
        delete fn(t).Role;
      },
    ],
    [
      'E3012',
      (t) => {
        fn(t).Handler = ['index.handler'];
      },
    ],
    [
      'E3030',
      (t) => {
        fn(t).TracingConfig = { Mode: 'Sometimes' };
      },
    ],
    [
      'E1010',
      (t) => {
        fn(t).Role = { 'Fn::GetAtt': ['Role', 'Url'] };
      },
    ],
    [
      'E1012',
      (t) => {
        (fn(t).Environment as { Variables: Record<string, unknown> }).Variables.STAGE = {
          Ref: 'Stge',
        };
      },
    ],
    [
      'E3005',
      (t) => {
        t.Resources.Fn.DependsOn = ['Queues'];
      },
    ],
    [
      'E8002',
      (t) => {
        (t.Resources.Role.Properties as Record<string, unknown>).Description = {
          'Fn::If': ['IsProduction', 'a', 'b'],
        };
      },
    ],
  ])('reports %s', (rule, breakIt) => {
    const t = base() as T;
    breakIt(t);
    expect(rules(t)).toContain(rule);
  });
});
