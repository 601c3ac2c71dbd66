/**
 * A Standard state machine loaded from an ASL file, the way every stagegate workflow is
 * deployed: the file's text is inlined into the template (`DefinitionBody.fromString`, i.e.
 * `DefinitionString`) with `definitionSubstitutions` for its `${Placeholders}`, so `cdk diff`
 * shows every change to a workflow and the template validators (`test/infra/asl-validation.test.ts`)
 * see it; the local mode reads the same file. X-Ray tracing,
 * full execution logging to a `/aws/vendedlogs/states/<name>` log group, and a separate
 * policy allowing `lambda:InvokeFunction` on exactly the functions the definition names.
 *
 * A definition with a Distributed Map (`ProcessorConfig.Mode: DISTRIBUTED`) also gets the
 * child-execution permissions AWS documents for it ("IAM policies for using Distributed Map
 * states", Step Functions developer guide): `states:StartExecution` on the state machine
 * itself, `states:DescribeExecution` + `states:StopExecution` on its executions and on its
 * map runs' child executions. The ARNs are built from the known name (`Stack.formatArn`), not
 * from `stateMachineArn`, so the role does not depend on the machine it serves.
 */
import { readFileSync } from 'node:fs';
import { ArnFormat, type RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { acknowledgeNag, STAR_RESOURCE_FINDING, wildcardResourceFinding } from './nag.js';

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
  /**
   * Plain-string substitutions (key = placeholder name), e.g. `CohortShardAgents: "250"`.
   * Together with `tasks` they must name every placeholder of the file and nothing else.
   * @default {}
   */
  readonly values?: Readonly<Record<string, string>>;
  /**
   * State machines the definition starts with `states:startExecution.sync` / `.sync:2` (key =
   * the placeholder receiving the ARN). The role gets `states:StartExecution` on each,
   * `states:DescribeExecution` + `states:StopExecution` on its executions, and the EventBridge
   * managed rule `.sync` needs ("IAM policies for AWS Step Functions", nested workflows).
   * @default {}
   */
  readonly nestedStateMachines?: Readonly<
    Record<string, { readonly stateMachine: sfn.IStateMachine; readonly stateMachineName: string }>
  >;
  readonly logRetention: logs.RetentionDays;
  readonly logRemovalPolicy: RemovalPolicy;
}

/** The distinct `${Name}` placeholders of an ASL file, sorted. */
export function aslPlaceholders(definitionFile: string): string[] {
  const text = readFileSync(definitionFile, 'utf8');
  return [...new Set([...text.matchAll(/\$\{(\w+)\}/g)].map((m) => m[1] ?? ''))].sort();
}

/** True when any state of the ASL file (nested ones included) is a Distributed Map. */
export function hasDistributedMap(definitionFile: string): boolean {
  const visit = (node: unknown): boolean => {
    if (Array.isArray(node)) return node.some(visit);
    if (typeof node !== 'object' || node === null) return false;
    const record = node as Record<string, unknown>;
    const processor = record.ProcessorConfig as { Mode?: unknown } | undefined;
    if (processor?.Mode === 'DISTRIBUTED') return true;
    return Object.values(record).some(visit);
  };
  return visit(JSON.parse(readFileSync(definitionFile, 'utf8')));
}

/**
 * The resources a Distributed Map's parent role needs (see the module comment): the state
 * machine, its executions (`execution:<name>:*`) and its map runs' child executions
 * (`execution:<name>/*`, the form `execution:<name>/<map run label>:<child>`).
 */
export function distributedMapResources(scope: Construct, stateMachineName: string) {
  const stack = Stack.of(scope);
  const execution = (resourceName: string) =>
    stack.formatArn({
      service: 'states',
      resource: 'execution',
      resourceName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
  return {
    stateMachine: stack.formatArn({
      service: 'states',
      resource: 'stateMachine',
      resourceName: stateMachineName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    }),
    executions: [execution(`${stateMachineName}:*`), execution(`${stateMachineName}/*`)],
  };
}

type NestedStateMachines = NonNullable<AslStateMachineProps['nestedStateMachines']>;

/**
 * @throws Error when `tasks` and `values` (nested machines included) share a key, or do not
 *   cover exactly the definition's placeholders `expected`.
 */
function checkPlaceholders(
  props: AslStateMachineProps,
  expected: readonly string[],
  values: Readonly<Record<string, string>>,
): void {
  const nested = props.nestedStateMachines ?? {};
  const clash = [
    ...Object.keys(values).filter((key) => key in props.tasks),
    ...Object.keys(nested).filter((key) => props.values !== undefined && key in props.values),
  ];
  if (clash.length > 0) {
    throw new Error(
      `${props.definitionFile}: [${clash.join(', ')}] given both as a function and as a value`,
    );
  }
  const given = [...Object.keys(props.tasks), ...Object.keys(values)].sort();
  if (expected.join() !== given.join()) {
    throw new Error(
      `${props.definitionFile}: placeholders [${expected.join(', ')}] but functions and values were given for [${given.join(', ')}]`,
    );
  }
}

/**
 * The policy `<id>NestedExecutions` for `startExecution.sync`: start each nested machine,
 * describe and stop its executions, and the EventBridge managed rule `.sync` needs.
 */
function grantNestedExecutions(
  scope: Construct,
  id: string,
  machine: sfn.StateMachine,
  nested: NestedStateMachines,
): void {
  const nestedMachines = Object.values(nested);
  if (nestedMachines.length > 0) {
    const stack = Stack.of(scope);
    const executions = nestedMachines.map((n) =>
      stack.formatArn({
        service: 'states',
        resource: 'execution',
        resourceName: `${n.stateMachineName}:*`,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      }),
    );
    const policy = new iam.Policy(scope, `${id}NestedExecutions`, {
      roles: [machine.role as iam.Role],
      statements: [
        new iam.PolicyStatement({
          actions: ['states:StartExecution'],
          resources: nestedMachines.map((n) => n.stateMachine.stateMachineArn),
        }),
        new iam.PolicyStatement({
          actions: ['states:DescribeExecution', 'states:StopExecution'],
          resources: executions,
        }),
        new iam.PolicyStatement({
          actions: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'],
          resources: [
            stack.formatArn({
              service: 'events',
              resource: 'rule',
              resourceName: 'StepFunctionsGetEventsForStepFunctionsExecutionRule',
            }),
          ],
        }),
      ],
    });
    for (const [i, arn] of executions.entries()) {
      acknowledgeNag(
        policy,
        wildcardResourceFinding(policy, arn),
        `startExecution.sync must describe and stop the child execution it starts, whose name is only known at run time; "${nestedMachines[i]?.stateMachineName}:*" covers exactly that state machine's executions (AWS-documented least privilege for nested workflows).`,
      );
    }
  }
}

/**
 * The policy `<id>DistributedMap` when the definition has a Distributed Map: start this
 * machine's own child executions, describe and stop them.
 */
function grantDistributedMap(
  scope: Construct,
  id: string,
  machine: sfn.StateMachine,
  props: Pick<AslStateMachineProps, 'definitionFile' | 'stateMachineName'>,
): void {
  if (hasDistributedMap(props.definitionFile)) {
    const arns = distributedMapResources(scope, props.stateMachineName);
    const policy = new iam.Policy(scope, `${id}DistributedMap`, {
      roles: [machine.role as iam.Role],
      statements: [
        new iam.PolicyStatement({
          actions: ['states:StartExecution'],
          resources: [arns.stateMachine],
        }),
        new iam.PolicyStatement({
          actions: ['states:DescribeExecution', 'states:StopExecution'],
          resources: arns.executions,
        }),
      ],
    });
    for (const arn of arns.executions) {
      acknowledgeNag(
        policy,
        wildcardResourceFinding(policy, arn),
        `The Distributed Map starts one child execution per shard with generated names; "${props.stateMachineName}:*" / "${props.stateMachineName}/*" cover exactly this state machine's own executions and map-run children (AWS-documented least privilege for Distributed Map).`,
      );
    }
  }
}

/**
 * Creates, in `scope`, the log group `<id>Logs`, the state machine `<id>` and the policy
 * `<id>InvokeTasks` (ids kept stable: renaming them would replace deployed resources); with
 * a Distributed Map in the definition, also the policy `<id>DistributedMap`.
 *
 * @throws Error when `tasks` and `values` do not cover exactly the definition's placeholders
 *   (an ASL edit that adds a task fails synth here, not at deploy time), or share a key.
 */
export function aslStateMachine(
  scope: Construct,
  id: string,
  props: AslStateMachineProps,
): sfn.StateMachine {
  const expected = aslPlaceholders(props.definitionFile);
  const nested = props.nestedStateMachines ?? {};
  const values: Record<string, string> = {
    ...props.values,
    ...Object.fromEntries(
      Object.entries(nested).map(([key, n]) => [key, n.stateMachine.stateMachineArn]),
    ),
  };
  checkPlaceholders(props, expected, values);
  const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
    // The vendedlogs prefix keeps CloudWatch Logs resource policies small.
    logGroupName: `/aws/vendedlogs/states/${props.stateMachineName}`,
    retention: props.logRetention,
    removalPolicy: props.logRemovalPolicy,
  });
  const machine = new sfn.StateMachine(scope, id, {
    stateMachineName: props.stateMachineName,
    stateMachineType: sfn.StateMachineType.STANDARD,
    // Inline (not an S3 asset, as fromFile would make it): reviewers see workflow changes in
    // `cdk diff`, and CI validates the definition in the synthesized template.
    definitionBody: sfn.DefinitionBody.fromString(readFileSync(props.definitionFile, 'utf8')),
    definitionSubstitutions: {
      ...Object.fromEntries(
        Object.entries(props.tasks).map(([placeholder, fn]) => [placeholder, fn.functionArn]),
      ),
      ...values,
    },
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
  grantNestedExecutions(scope, id, machine, nested);
  grantDistributedMap(scope, id, machine, props);
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
