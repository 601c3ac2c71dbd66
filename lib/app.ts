/**
 * Composition of the CDK app, shared by `bin/app.ts` and the infra tests: one environment
 * scope per stage (`dev`, `staging`, `prod`), each holding a stateful and a workflow stack
 * (`dev/stateful` = CloudFormation stack `stagegate-dev-stateful`, `dev/workflow`, ...).
 *
 * Why not `cdk.Stage`: a Stage puts its stacks in a nested cloud assembly, which the CDK CLI
 * leaves out of `--all` and out of synth-time policy-validation reporting (cdk-nag findings in
 * a Stage did not fail `cdk synth` with aws-cdk 2.1148). A plain construct scope keeps the
 * stacks in the top-level assembly, so `cdk synth` fails on any unacknowledged finding and
 * `cdk deploy -c stage=dev --all` deploys exactly one environment.
 *
 * Context (all optional; `-c key=value` or cdk.json):
 * - `stage`: `dev` | `staging` | `prod` selects one environment; absent or `all` synthesizes
 *   all three (CI validates every environment that way).
 * - `stagegate:<stage>`: partial {@link EnvironmentConfig} merged over the defaults (an object
 *   in cdk.json / cdk.context.json, or a JSON string on the command line).
 * - `account`, `region`: shorthand for `stagegate:<stage>.account/.region`; only together
 *   with a single `stage`.
 * Account resolution: context, then (dev only) `CDK_DEFAULT_ACCOUNT`, else none, which makes
 * the stacks environment-agnostic (synth works offline; deploy targets the CLI profile).
 */
import { readFileSync } from 'node:fs';
import { type App, Tags } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { ValidationError } from '../functions/core/errors.js';
import {
  type DeepPartial,
  type EnvironmentConfig,
  STAGES,
  type Stage,
} from './config/environment-config.js';
import { deepMerge, loadEnvironmentConfig } from './config/environments.js';
import { CDK_JSON } from './paths.js';
import { StatefulStack } from './stacks/stateful-stack.js';
import { WorkflowStack } from './stacks/workflow-stack.js';

export interface StagegateEnvironmentProps {
  readonly config: EnvironmentConfig;
}

/** One environment: stacks `<stage>/stateful` and `<stage>/workflow`. */
export class StagegateEnvironment extends Construct {
  public readonly config: EnvironmentConfig;
  public readonly stateful: StatefulStack;
  public readonly workflow: WorkflowStack;

  constructor(scope: Construct, id: string, props: StagegateEnvironmentProps) {
    super(scope, id);
    const { config } = props;
    this.config = config;
    const env = { account: config.account, region: config.region };
    const protect = config.removalPolicy === 'retain';
    this.stateful = new StatefulStack(this, 'stateful', {
      env,
      stackName: `stagegate-${config.stage}-stateful`,
      description: `stagegate ${config.stage}: table, buckets, keys, audit catalog, broker secret`,
      terminationProtection: protect,
      config,
    });
    this.workflow = new WorkflowStack(this, 'workflow', {
      env,
      stackName: `stagegate-${config.stage}-workflow`,
      description: `stagegate ${config.stage}: functions, state machines, schedules, alarms`,
      terminationProtection: protect,
      config,
      table: this.stateful.table,
      dataKey: this.stateful.dataKey,
      alpacaPaperSecret: this.stateful.alpacaPaperSecret,
      approvalSecrets: this.stateful.approvalSecrets,
    });
    // Buckets are addressed by name, so make the order explicit.
    this.workflow.addStackDependency(this.stateful);
    Tags.of(this).add('project', 'stagegate');
    Tags.of(this).add('stage', config.stage);
  }
}

function contextObject(app: App, key: string): Record<string, unknown> | undefined {
  const raw: unknown = app.node.tryGetContext(key);
  if (raw === undefined || raw === null || raw === '') return undefined;
  if (typeof raw === 'string') {
    try {
      const parsed: unknown = JSON.parse(raw);
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
        return parsed as Record<string, unknown>;
      }
    } catch (err) {
      throw new ValidationError(key, 'context value is not valid JSON', { cause: err });
    }
  }
  if (typeof raw === 'object' && !Array.isArray(raw)) return raw as Record<string, unknown>;
  throw new ValidationError(key, 'context value must be an object (or a JSON object string)');
}

function contextString(app: App, key: string): string | undefined {
  const raw: unknown = app.node.tryGetContext(key);
  if (raw === undefined || raw === null || raw === '') return undefined;
  return String(raw);
}

/**
 * The stages selected by context `stage`.
 *
 * @throws ValidationError (field `stage`) when the value is not dev|staging|prod|all.
 */
export function selectedStages(app: App): Stage[] {
  const raw = contextString(app, 'stage');
  if (raw === undefined || raw === 'all') return [...STAGES];
  if (!(STAGES as readonly string[]).includes(raw)) {
    throw new ValidationError(
      'stage',
      `unknown stage "${raw}"; use one of ${STAGES.join(', ')} or all`,
    );
  }
  return [raw as Stage];
}

/**
 * One stage's validated config with context overrides applied (see the module comment).
 *
 * @param env process environment (injected for tests).
 * @throws ValidationError naming the invalid field.
 */
export function resolveStageConfig(
  app: App,
  stage: Stage,
  env: Readonly<Record<string, string | undefined>> = process.env,
): EnvironmentConfig {
  const selected = selectedStages(app);
  const account = contextString(app, 'account');
  const region = contextString(app, 'region');
  if ((account || region) && selected.length !== 1) {
    throw new ValidationError(
      account ? 'account' : 'region',
      'context account/region apply to one environment: add -c stage=<dev|staging|prod>',
    );
  }
  let overrides: DeepPartial<EnvironmentConfig> = {};
  if (stage === 'dev' && env.CDK_DEFAULT_ACCOUNT) overrides.account = env.CDK_DEFAULT_ACCOUNT;
  overrides = deepMerge(overrides, contextObject(app, `stagegate:${stage}`)) as typeof overrides;
  if (account) overrides.account = account;
  if (region) overrides.region = region;
  return loadEnvironmentConfig(stage, overrides);
}

/**
 * Adds one {@link StagegateEnvironment} per selected stage to `app`.
 *
 * @returns the environments, in dev, staging, prod order.
 * @throws ValidationError when the context or a config field is invalid.
 */
export function addStagegateEnvironments(
  app: App,
  env: Readonly<Record<string, string | undefined>> = process.env,
): StagegateEnvironment[] {
  return selectedStages(app).map(
    (stage) =>
      new StagegateEnvironment(app, stage, { config: resolveStageConfig(app, stage, env) }),
  );
}

/**
 * The `context` block of cdk.json (feature flags). The CDK CLI passes it to `bin/app.ts`;
 * tests that build an `App` themselves pass it explicitly so they synthesize the same thing.
 */
export function cdkJsonContext(): Record<string, unknown> {
  const parsed = JSON.parse(readFileSync(CDK_JSON, 'utf8')) as {
    context?: Record<string, unknown>;
  };
  return parsed.context ?? {};
}
