/**
 * `cdk destroy` then `cdk deploy` of a stage: whatever the stacks leave behind (DeletionPolicy
 * Retain) must not block the next creation. The audit bucket is always retained (Object
 * Lock), so its name is derived from the stateful stack's id, which CloudFormation draws anew
 * for every creation; the workflow stack reads it from the stateful stack's export. The test
 * evaluates the template's name expression the way CloudFormation would, for a first creation,
 * an update and a re-creation.
 */
import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { STAGES, type Stage } from '../../lib/config/environment-config.js';
import { environments } from '../../lib/config/environments.js';
import { logicalIdOf, type SynthesizedStage, synthStage } from './synth.js';

type Json = Record<string, unknown>;

const ACCOUNT = '123456789012';
/** One of the longest region names (14 characters). */
const REGION = 'ap-southeast-2';

/** CloudFormation's Ref/Fn::Join/Fn::Select/Fn::Split/Fn::ImportValue for the pseudo parameters. */
function evaluate(value: unknown, pseudo: Readonly<Record<string, string>>): string | string[] {
  if (typeof value === 'string') return value;
  const v = value as Json;
  if ('Ref' in v) {
    const ref = pseudo[String(v.Ref)];
    if (ref === undefined) throw new Error(`Ref ${String(v.Ref)} is not a pseudo parameter`);
    return ref;
  }
  if ('Fn::Join' in v) {
    const [sep, parts] = v['Fn::Join'] as [string, unknown[]];
    return parts.map((p) => evaluate(p, pseudo)).join(sep);
  }
  if ('Fn::Split' in v) {
    const [sep, source] = v['Fn::Split'] as [string, unknown];
    return String(evaluate(source, pseudo)).split(sep);
  }
  if ('Fn::Select' in v) {
    const [index, list] = v['Fn::Select'] as [number | string, unknown];
    const items = evaluate(list, pseudo);
    if (!Array.isArray(items)) throw new Error('Fn::Select of a non-list');
    const item = items[Number(index)];
    if (item === undefined) throw new Error(`Fn::Select index ${index} out of range`);
    return item;
  }
  throw new Error(`cannot evaluate ${JSON.stringify(value)}`);
}

function stackId(stackName: string, uuid: string): string {
  return `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/${stackName}/${uuid}`;
}

/** Properties that carry a resource's physical name (a fixed one would clash on re-create). */
const NAME_PROPERTIES = [
  'BucketName',
  'TableName',
  'LogGroupName',
  'SecretName',
  'AliasName',
  'QueueName',
  'TopicName',
  'StateMachineName',
  'FunctionName',
  'RoleName',
  'Name',
] as const;

/** Retained resources of a template with the physical name they would keep after a destroy. */
function retainedNamed(template: Template): { id: string; type: string; name: unknown }[] {
  const resources = (template.toJSON().Resources ?? {}) as Record<string, Json>;
  return Object.entries(resources)
    .filter(([, r]) => r.DeletionPolicy === 'Retain')
    .flatMap(([id, r]) => {
      const props = (r.Properties ?? {}) as Json;
      const key = NAME_PROPERTIES.find((k) => props[k] !== undefined);
      return key ? [{ id, type: String(r.Type), name: props[key] }] : [];
    });
}

const built = {} as Record<Stage, SynthesizedStage>;
beforeAll(() => {
  for (const stage of STAGES) built[stage] = synthStage(stage);
});

describe.each(STAGES)('destroy then deploy (%s)', (stage) => {
  const stackName = `stagegate-${stage}-stateful`;

  it('names the retained audit bucket after the stack creation: new name on re-create, same on update', () => {
    // Prepare
    const { stateful, env } = built[stage];
    const audit = stateful.toJSON().Resources[logicalIdOf(env.stateful.audit.bucket)] as Json;
    const nameOf = (uuid: string) =>
      evaluate((audit.Properties as Json).BucketName, {
        'AWS::AccountId': ACCOUNT,
        'AWS::Region': REGION,
        'AWS::StackId': stackId(stackName, uuid),
      });

    // Act
    const first = nameOf('4f1d6f70-9c1b-11ef-8a4b-0a1b2c3d4e5f');
    const update = nameOf('4f1d6f70-9c1b-11ef-8a4b-0a1b2c3d4e5f');
    const recreated = nameOf('b83e02a0-a7f2-11ef-9e11-06d5c4b3a291');

    // Assess
    expect(audit.DeletionPolicy).toBe('Retain');
    expect(first).toBe(`stagegate-${stage}-audit-${ACCOUNT}-${REGION}-4f1d6f70`);
    expect(update).toBe(first);
    expect(recreated).toBe(`stagegate-${stage}-audit-${ACCOUNT}-${REGION}-b83e02a0`);
    expect(String(first).length).toBeLessThanOrEqual(63);
    expect(String(first)).toMatch(/^[a-z0-9][a-z0-9-]*[a-z0-9]$/);
  });

  it('exports the audit bucket name and the workflow stack reads it only through that export', () => {
    // Prepare
    const { stateful, workflow, env } = built[stage];
    const bucketId = logicalIdOf(env.stateful.audit.bucket);

    // Act
    const exported = Object.values(stateful.toJSON().Outputs as Record<string, Json>).find(
      (o) => (o.Export as Json | undefined)?.Name === `stagegate-${stage}-audit-bucket-name`,
    );
    const workflowText = JSON.stringify(workflow.toJSON());

    // Assess
    expect(exported?.Value).toEqual({ Ref: bucketId });
    expect(workflowText).toContain(
      JSON.stringify({ 'Fn::ImportValue': `stagegate-${stage}-audit-bucket-name` }),
    );
    expect(workflowText).not.toMatch(new RegExp(`stagegate-${stage}-audit-"`));
  });

  it(
    environments[stage].removalPolicy === 'retain'
      ? 'is protected from destroy (termination protection): nothing to re-create'
      : 'leaves no retained resource with a fixed physical name (the next create would clash)',
    () => {
      // Prepare
      const { stateful, workflow, env } = built[stage];

      // Act
      const fixed = [...retainedNamed(stateful), ...retainedNamed(workflow)].filter(
        (r) => !JSON.stringify(r.name).includes('AWS::StackId'),
      );

      // Assess
      if (environments[stage].removalPolicy === 'retain') {
        expect([env.stateful.terminationProtection, env.workflow.terminationProtection]).toEqual([
          true,
          true,
        ]);
      } else {
        expect(fixed).toEqual([]);
      }
    },
  );
});
