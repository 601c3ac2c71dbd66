/**
 * The AWS SDK decision of docs/deploy.md ("AWS SDK version"), asserted on what a deploy
 * ships: every stagegate function bundles the SDK (nothing is left for the runtime's copy, so
 * Lambda runs the version package-lock.json pins and the tests ran) and leaves the runtime on
 * `Auto` updates (no pinned runtime version, which AWS documents as a temporary rollback only).
 * The bundle's contents and version are checked in `bundling.test.ts`; here, the options and
 * the synthesized templates of every stage, with the Day-3 go/no-go deployed.
 */
import { describe, expect, it } from 'vitest';
import type { Stage } from '../../lib/config/environment-config.js';
import { BUNDLE_SETTINGS, nodejsBundlingOptions } from '../../lib/constructs/bundling.js';
import { DEPLOYED_FUNCTIONS } from '../../lib/handlers.js';
import { stageApproval } from '../support/stage-approval.js';
import { synthStage } from './synth.js';

const STAGES: readonly Stage[] = ['dev', 'staging', 'prod'];

interface LambdaProps {
  readonly Runtime?: string;
  readonly RuntimeManagementConfig?: { UpdateRuntimeOn?: string; RuntimeVersionArn?: unknown };
  readonly Environment?: { Variables?: Record<string, unknown> };
}

/** The stack's stagegate functions (those with a Powertools service name), by service name. */
function stagegateFunctions(resources: Record<string, Record<string, unknown>>) {
  const out = new Map<string, LambdaProps>();
  for (const resource of Object.values(resources)) {
    const props = resource.Properties as LambdaProps;
    const service = props.Environment?.Variables?.POWERTOOLS_SERVICE_NAME;
    if (typeof service === 'string') out.set(service, props);
  }
  return out;
}

describe('the bundling options every function is built with', () => {
  it('leave no module external, so the CDK does not fall back to the runtime SDK', () => {
    // Prepare: NodejsFunction marks @aws-sdk/* external when externalModules is not given
    const options = nodejsBundlingOptions();

    // Act
    const external = options.externalModules;

    // Assess
    expect(external).toEqual([]);
    expect(BUNDLE_SETTINGS.external).toEqual([]);
    expect(options.target).toBe('node22');
  });
});

describe.each(STAGES)('%s with the Day-3 go/no-go deployed', (stage) => {
  const context = {
    [`stagegate:${stage}`]: { approval: stageApproval(stage, ['slack:U024BE7LH']) },
  };

  it('runs every deployed function on nodejs22.x with Auto runtime updates, never a pinned version', () => {
    // Prepare
    const { stateful, workflow } = synthStage(stage, context);

    // Act
    const functions = new Map([
      ...stagegateFunctions(stateful.findResources('AWS::Lambda::Function')),
      ...stagegateFunctions(workflow.findResources('AWS::Lambda::Function')),
    ]);

    // Assess: every handler of DEPLOYED_FUNCTIONS is there, each on Auto without a version ARN
    expect([...functions.keys()].sort()).toEqual(
      expect.arrayContaining(DEPLOYED_FUNCTIONS.map((f) => f.file).sort()),
    );
    for (const [service, props] of functions) {
      expect({ service, runtime: props.Runtime }).toEqual({ service, runtime: 'nodejs22.x' });
      expect({ service, config: props.RuntimeManagementConfig }).toEqual({
        service,
        config: { UpdateRuntimeOn: 'Auto' },
      });
    }
  });
});
