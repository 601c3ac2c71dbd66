/**
 * Every state machine of every stage is deployed with its definition inline
 * (`DefinitionString`, so `cdk diff` shows workflow changes), covers every ASL file in
 * `statemachines/`, and passes `asl-validator` (the Amazon States Language JSON schemas, path
 * syntax, transitions, terminal states, Resource ARNs) after the deploy-time substitutions:
 * each `${Placeholder}` is replaced the way CloudFormation will, with an ARN of the right
 * service for a Ref/GetAtt of a Lambda function or state machine. A failure prints the
 * validator's messages per state machine.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { STAGES, type Stage } from '../../lib/config/environment-config.js';
import { REPO_ROOT } from '../../lib/paths.js';
import { stageApproval } from '../support/stage-approval.js';
import { synthStage } from './synth.js';

type Json = Record<string, unknown>;
type Validator = (
  definition: unknown,
  options: { checkPaths: boolean; checkArn: boolean },
) => { isValid: boolean; errorsText: (separator?: string) => string };

// asl-validator is CommonJS with `module.exports = function`.
const aslValidator = createRequire(import.meta.url)('asl-validator') as Validator;

const STATEMACHINES = join(REPO_ROOT, 'statemachines');
const ACCOUNT = '123456789012';
const REGION = 'us-east-1';

/** What CloudFormation substitutes for a Ref / Fn::GetAtt of `logicalId`, by resource type. */
function deployedValue(template: Template, value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Json;
  const logicalId =
    typeof v.Ref === 'string'
      ? v.Ref
      : Array.isArray(v['Fn::GetAtt'])
        ? String((v['Fn::GetAtt'] as unknown[])[0])
        : undefined;
  if (!logicalId) throw new Error(`unexpected substitution value ${JSON.stringify(value)}`);
  const resource = template.toJSON().Resources?.[logicalId] as { Type: string } | undefined;
  switch (resource?.Type) {
    case 'AWS::Lambda::Function':
      return `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${logicalId}`;
    case 'AWS::StepFunctions::StateMachine':
      return `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${logicalId}`;
    default:
      throw new Error(`substitution refers to ${logicalId} (${resource?.Type ?? 'not found'})`);
  }
}

interface DeployedMachine {
  readonly name: string;
  readonly properties: Json;
  /** The definition as Step Functions receives it (substitutions applied). */
  readonly definition: string;
}

function deployedMachines(template: Template): DeployedMachine[] {
  return Object.values(template.findResources('AWS::StepFunctions::StateMachine')).map((r) => {
    const properties = r.Properties as Json;
    const substitutions = (properties.DefinitionSubstitutions ?? {}) as Json;
    const text = properties.DefinitionString;
    const definition =
      typeof text === 'string'
        ? text.replace(/\$\{(\w+)\}/g, (whole, key: string) =>
            key in substitutions ? deployedValue(template, substitutions[key]) : whole,
          )
        : '';
    return { name: String(properties.StateMachineName), properties, definition };
  });
}

describe.each(STAGES)('state machine definitions of %s', (stage: Stage) => {
  let machines: DeployedMachine[];

  beforeAll(() => {
    // Approvers set, so the Day-3 go/no-go (deployed only with approvers) is validated too.
    const { workflow } = synthStage(stage, {
      [`stagegate:${stage}`]: {
        approval: stageApproval(stage, ['slack:U024BE7LH']),
      },
    });
    machines = deployedMachines(workflow);
  });

  it('inlines every definition in the template (no S3 asset), covering every ASL file', () => {
    // Prepare
    const files = readdirSync(STATEMACHINES).filter((f) => f.endsWith('.asl.json'));
    const fileTexts = new Set(files.map((f) => readFileSync(join(STATEMACHINES, f), 'utf8')));

    // Act
    const inlined = machines.map((m) => m.properties.DefinitionString);

    // Assess
    expect(machines.map((m) => m.properties.DefinitionS3Location)).toEqual(
      machines.map(() => undefined),
    );
    expect(new Set(inlined)).toEqual(fileTexts);
  });

  it('passes asl-validator with every placeholder substituted', () => {
    // Act
    const results = machines.map((m) => {
      const unresolved = [...m.definition.matchAll(/\$\{(\w+)\}/g)].map((x) => x[1]);
      const verdict = aslValidator(JSON.parse(m.definition), { checkPaths: true, checkArn: true });
      return {
        name: m.name,
        unresolved,
        errors: verdict.isValid ? '' : verdict.errorsText('\n'),
      };
    });

    // Assess (the messages are the failure output)
    expect(results).toEqual(machines.map((m) => ({ name: m.name, unresolved: [], errors: '' })));
  });
});
