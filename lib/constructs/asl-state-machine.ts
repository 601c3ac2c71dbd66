/**
 * A Standard state machine loaded from an ASL file (`DefinitionBody.fromFile` +
 * `definitionSubstitutions`), the way every stagegate workflow is deployed: X-Ray tracing,
 * full execution logging to a `/aws/vendedlogs/states/<name>` log group, and a separate
 * policy allowing `lambda:InvokeFunction` on exactly the functions the definition names.
 */
import { readFileSync } from 'node:fs';
import type { RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { acknowledgeNag, STAR_RESOURCE_FINDING } from './nag.js';

export interface AslStateMachineProps {
  /** Physical name, e.g. `stagegate-dev-promotion-pipeline`. */
  readonly stateMachineName: string;
  /** Absolute path of the `*.asl.json` file. */
  readonly definitionFile: string;
  /**
   * The function behind each `${Placeholder}` of the definition (key = placeholder name). It
   * must name every placeholder of the file and nothing else.
   */
  readonly tasks: Readonly<Record<string, IFunction>>;
  readonly logRetention: logs.RetentionDays;
  readonly logRemovalPolicy: RemovalPolicy;
}

/** The distinct `${Name}` placeholders of an ASL file, sorted. */
export function aslPlaceholders(definitionFile: string): string[] {
  const text = readFileSync(definitionFile, 'utf8');
  return [...new Set([...text.matchAll(/\$\{(\w+)\}/g)].map((m) => m[1] ?? ''))].sort();
}

/**
 * Creates, in `scope`, the log group `<id>Logs`, the state machine `<id>` and the policy
 * `<id>InvokeTasks` (ids kept stable: renaming them would replace deployed resources).
 *
 * @throws Error when `tasks` does not cover exactly the definition's placeholders (an ASL
 *   edit that adds a task fails synth here, not at deploy time).
 */
export function aslStateMachine(
  scope: Construct,
  id: string,
  props: AslStateMachineProps,
): sfn.StateMachine {
  const expected = aslPlaceholders(props.definitionFile);
  const given = Object.keys(props.tasks).sort();
  if (expected.join() !== given.join()) {
    throw new Error(
      `${props.definitionFile}: placeholders [${expected.join(', ')}] but functions were given for [${given.join(', ')}]`,
    );
  }
  const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
    // The vendedlogs prefix keeps CloudWatch Logs resource policies small.
    logGroupName: `/aws/vendedlogs/states/${props.stateMachineName}`,
    retention: props.logRetention,
    removalPolicy: props.logRemovalPolicy,
  });
  const machine = new sfn.StateMachine(scope, id, {
    stateMachineName: props.stateMachineName,
    stateMachineType: sfn.StateMachineType.STANDARD,
    definitionBody: sfn.DefinitionBody.fromFile(props.definitionFile),
    definitionSubstitutions: Object.fromEntries(
      Object.entries(props.tasks).map(([placeholder, fn]) => [placeholder, fn.functionArn]),
    ),
    tracingEnabled: true,
    logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
  });
  // The definition comes from a file, so CDK cannot infer task permissions: grant
  // lambda:InvokeFunction on exactly these functions (unqualified ARNs, no versions).
  const functions = [...new Set(Object.values(props.tasks))];
  new iam.Policy(scope, `${id}InvokeTasks`, {
    roles: [machine.role as iam.Role],
    statements: [
      new iam.PolicyStatement({
        actions: ['lambda:InvokeFunction'],
        resources: functions.map((f) => f.functionArn),
      }),
    ],
  });
  const defaultPolicy = machine.role.node.tryFindChild('DefaultPolicy');
  if (defaultPolicy) {
    acknowledgeNag(
      defaultPolicy,
      STAR_RESOURCE_FINDING,
      'CloudWatch Logs vended delivery (logs:CreateLogDelivery, logs:ListLogDeliveries, ...) and X-Ray (xray:PutTraceSegments, ...) only accept Resource "*"; task permissions are in the separate InvokeTasks policy.',
    );
  }
  return machine;
}
