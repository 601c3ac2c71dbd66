/**
 * Shared fixture of the infra tests: builds the real app (same composition as bin/app.ts,
 * same cdk.json feature flags) for one stage, with Lambda bundling skipped
 * (`aws:cdk:bundling-stacks: []`) so a synth takes about a second. Bundling itself is
 * exercised by `npm run synth` and `npm run bench`.
 */
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import {
  addStagegateEnvironments,
  cdkJsonContext,
  type StagegateEnvironment,
} from '../../lib/app.js';
import type { Stage } from '../../lib/config/environment-config.js';

export interface SynthesizedStage {
  readonly app: App;
  readonly env: StagegateEnvironment;
  readonly stateful: Template;
  readonly workflow: Template;
}

/** Builds and synthesizes one stage. `context` adds CDK context (e.g. `stagegate:dev`). */
export function synthStage(stage: Stage, context: Record<string, unknown> = {}): SynthesizedStage {
  const app = new App({
    context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [], stage, ...context },
  });
  const [env] = addStagegateEnvironments(app, {});
  if (!env) throw new Error(`stage ${stage} was not built`);
  return {
    app,
    env,
    stateful: Template.fromStack(env.stateful),
    workflow: Template.fromStack(env.workflow),
  };
}

/** Every cdk-nag acknowledgement in the tree under `root`: construct path, rule id, reason. */
export function acknowledgements(root: IConstruct): { path: string; id: string; reason: string }[] {
  const out: { path: string; id: string; reason: string }[] = [];
  for (const c of root.node.findAll()) {
    for (const entry of c.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [id, reason] of Object.entries(entry.data as Record<string, unknown>)) {
        out.push({
          path: c.node.path,
          id: id.replace(/^annotation::/i, ''),
          reason: String(reason),
        });
      }
    }
  }
  return out;
}

type Json = Record<string, unknown>;

/** `{ Fn::GetAtt: [logicalId, 'Arn'] }` of a resource. */
export function arnOf(logicalId: string): Json {
  return { 'Fn::GetAtt': [logicalId, 'Arn'] };
}

/** Statements (Allow) of every IAM policy attached to the role with `roleLogicalId`. */
export function statementsOfRole(template: Template, roleLogicalId: string): Json[] {
  const policies = template.findResources('AWS::IAM::Policy');
  const out: Json[] = [];
  for (const policy of Object.values(policies)) {
    const props = policy.Properties as { Roles?: Json[]; PolicyDocument: { Statement: Json[] } };
    const attached = (props.Roles ?? []).some(
      (r) => JSON.stringify(r) === JSON.stringify({ Ref: roleLogicalId }),
    );
    if (attached) out.push(...props.PolicyDocument.Statement.filter((s) => s.Effect === 'Allow'));
  }
  return out;
}

/** Normalises Action/Resource (string or array) to an array. */
export function asArray<T>(value: T | T[] | undefined): T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** Logical id of `construct`'s default CloudFormation resource in its stack. */
export function logicalIdOf(construct: IConstruct): string {
  const child = construct.node.defaultChild;
  if (!child) throw new Error(`${construct.node.path} has no default child`);
  return Stack.of(construct).getLogicalId(child as never);
}

/** A CloudFormation value as readable text: `{AWS::Region}` for a Ref, joins flattened. */
export function render(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(render).join(',');
  if (value && typeof value === 'object') {
    const v = value as Json;
    if ('Ref' in v) return `{${String(v.Ref)}}`;
    if ('Fn::Join' in v) {
      const [sep, parts] = v['Fn::Join'] as [string, unknown[]];
      return parts.map(render).join(sep);
    }
    if ('Fn::GetAtt' in v) return `{${(v['Fn::GetAtt'] as string[]).join('.')}}`;
    if ('Fn::ImportValue' in v) {
      // The audit bucket's name (export of the stateful stack, naming.ts) reads like the other
      // bucket names, so grant assertions name it "audit" as they name "artifacts".
      const name = render(v['Fn::ImportValue']);
      const audit = /^(stagegate-\w+)-audit-bucket-name$/.exec(name);
      return audit ? `${audit[1]}-audit-{AWS::AccountId}-{AWS::Region}` : `{import:${name}}`;
    }
    if ('Fn::GetStackOutput' in v) {
      return `{output:${String((v['Fn::GetStackOutput'] as Json).OutputName)}}`;
    }
  }
  return JSON.stringify(value);
}

/**
 * DynamoDB grants of a role: action -> sorted partition patterns it is limited to
 * (`index:<name>` for an index ARN, `ANY ITEM` for an unconditioned table grant).
 */
export function tableGrantsOfRole(
  template: Template,
  roleLogicalId: string,
): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const st of statementsOfRole(template, roleLogicalId)) {
    const actions = asArray(st.Action as string | string[]).filter((a) =>
      a.startsWith('dynamodb:'),
    );
    if (actions.length === 0) continue;
    const leading = (st.Condition as Json | undefined)?.['ForAllValues:StringLike'] as
      | Json
      | undefined;
    const scopes = asArray(st.Resource).map((r) => {
      const index = /\/index\/(\w+)$/.exec(render(r));
      if (index) return `index:${index[1]}`;
      return leading ? asArray(leading['dynamodb:LeadingKeys'] as string[]) : ['ANY ITEM'];
    });
    for (const action of actions) {
      out[action] = [...new Set([...(out[action] ?? []), ...scopes.flat()])].sort();
    }
  }
  return out;
}

/** S3 grants of a role: action -> sorted `<bucket purpose>[/<prefix>/*]` targets. */
export function objectGrantsOfRole(
  template: Template,
  roleLogicalId: string,
  stage: Stage,
): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const st of statementsOfRole(template, roleLogicalId)) {
    for (const action of asArray(st.Action as string | string[])) {
      if (!action.startsWith('s3:')) continue;
      const targets = asArray(st.Resource).map((r) =>
        render(r)
          .replace(`arn:aws:s3:::stagegate-${stage}-`, '')
          .replace('-{AWS::AccountId}-{AWS::Region}', ''),
      );
      out[action] = [...new Set([...(out[action] ?? []), ...targets])].sort();
    }
  }
  return out;
}

/** Environment variables of a Lambda function construct. */
export function environmentOf(template: Template, fn: IConstruct): Record<string, unknown> {
  const props = template.findResources('AWS::Lambda::Function')[logicalIdOf(fn)]?.Properties;
  return (
    (props?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {}
  );
}

/** Properties of the schedule named `name`. */
export function scheduleProps(template: Template, name: string): Json {
  const found = Object.values(template.findResources('AWS::Scheduler::Schedule')).find(
    (r) => r.Properties.Name === name,
  );
  if (!found) throw new Error(`no schedule ${name}`);
  return found.Properties as Json;
}
