/**
 * A stage upgraded from the S3 plan (`plans/current.json`) to the table item, on the local
 * stack (DynamoDB Local, the S3 emulator): with only the old object written by the artifact
 * store as the old code wrote it, `plan status` shows that plan, a second create is refused
 * "is active" (recorded), and the item `PLAN / CURRENT` now holds it as version 1.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LEGACY_PLAN_KEY } from '../../../functions/adapters/dynamodb/plan-store.js';
import { buildPlanDeps } from '../../../functions/composition/chatops.js';
import { makeDocumentClient } from '../../../functions/composition/stores.js';
import { runPlanCommand } from '../../../functions/core/use-cases/plans.js';
import { type LocalStack, startLocalStack } from '../../../local/local-stack.js';
import { DATA_ROOT } from '../../support/paths.js';
import { activePlan, PLAN_LIMITS } from '../../support/plan-deps.js';

let stack: LocalStack;

beforeAll(async () => {
  stack = await startLocalStack({ dataRoot: DATA_ROOT, stateDir: 'memory', logLevel: 'SILENT' });
}, 240_000);

afterAll(async () => {
  await stack?.stop();
});

describe('the plan of a stage deployed before the plan moved to the table', () => {
  it('is shown, blocks a second create, and is stored as version 1 of PLAN / CURRENT', async () => {
    // Prepare: an active plan as the old code stored it (the artifact store's putJson).
    const plan = await activePlan();
    await stack.runtime.artifacts.putJson(LEGACY_PLAN_KEY, plan);
    const deps = buildPlanDeps(stack.runtime, PLAN_LIMITS);

    // Act
    const status = await runPlanCommand(deps, { kind: 'plan_status' }, 'cli:rick', 'cli');
    const second = runPlanCommand(
      deps,
      { kind: 'plan_grow', amountUsd: 800, days: 2 },
      'cli:rick',
      'cli',
    );

    // Assess
    expect(status.title).toBe(`Plan ${plan.planId}: actual vs plan`);
    await expect(second).rejects.toThrow(`plan ${plan.planId} is active`);
    const doc = makeDocumentClient(stack.runtime.env, stack.runtime.credentials);
    const { Item } = await doc.send(
      new GetCommand({
        TableName: stack.runtime.env.TABLE_NAME,
        Key: { pk: 'PLAN', sk: 'CURRENT' },
        ConsistentRead: true,
      }),
    );
    expect(Item).toMatchObject({ version: 1, planId: plan.planId, status: 'active' });
  }, 120_000);
});
