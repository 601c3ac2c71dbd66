/**
 * The plan store's move and its faults, through the plan use cases and each door: a stage
 * whose plan is still the pre-migration S3 object `plans/current.json` keeps it (plan status
 * shows it, a second create is refused, the item `PLAN / CURRENT` now holds it as version 1;
 * a migration racing a create is decided by the conditional put); an unreadable stored plan
 * (the item or the old object) is a storage fault, PlanRecordCorruptError naming the item, not
 * the caller's refusal: never recorded `input_rejected`, a console 500, a Slack message naming
 * it (recorded `failed`), and the CLI's own error (not "plan refused").
 */
import { describe, expect, it } from 'vitest';
import { planCliError } from '../../../bin/cli-commands.js';
import { CliError } from '../../../bin/cli-shared.js';
import {
  DynamoPlanStore,
  LEGACY_PLAN_KEY,
} from '../../../functions/adapters/dynamodb/plan-store.js';
import {
  NotFoundError,
  PlanRecordCorruptError,
  ValidationError,
} from '../../../functions/core/errors.js';
import {
  currentPlan,
  growPlan,
  type PlanDeps,
  runPlanCommand,
} from '../../../functions/core/use-cases/plans.js';
import { answerSlashCommand } from '../../../functions/core/use-cases/slash-command.js';
import type { ArtifactStore } from '../../../functions/ports/artifact-store.js';
import { fakeDocumentClient } from '../../support/doubles/document-client.js';
import { activePlan, type memoryPlanDeps, threeSessionPlanDeps } from '../../support/plan-deps.js';
import { planConsole, planSlack } from '../../support/plan-doors.js';

type Sent = { constructor: { name: string }; input: Record<string, unknown> };
type Item = Record<string, unknown>;

/**
 * One table item in memory behind the DynamoDB document client: Get, and Put under the
 * adapter's two conditions (`attribute_not_exists(pk)`, `#version = :expected`).
 * `beforePut` runs before each put is judged (a concurrent writer's chance to come first).
 */
function memoryTable(beforePut: (table: { item: Item | null }) => void = () => {}) {
  const table: { item: Item | null } = { item: null };
  const doc = fakeDocumentClient((async (cmd: Sent) => {
    if (cmd.constructor.name === 'GetCommand') return table.item ? { Item: table.item } : {};
    beforePut(table);
    const cond = cmd.input.ConditionExpression;
    const expected = (cmd.input.ExpressionAttributeValues as Item | undefined)?.[':expected'];
    const holds =
      cond === 'attribute_not_exists(pk)' ? table.item === null : table.item?.version === expected;
    if (!holds) {
      throw Object.assign(new Error('conditional'), { name: 'ConditionalCheckFailedException' });
    }
    table.item = structuredClone(cmd.input.Item as Item);
    return {};
  }) as never);
  return { doc, table };
}

/** The artifacts bucket with (or without) the old plan object; `raw` is what getJson gives. */
function legacyStore(raw: unknown | Error | undefined): ArtifactStore & { reads: number } {
  return {
    reads: 0,
    async putJson() {
      throw new Error('the migration never writes the old object');
    },
    async getJson(key: string) {
      this.reads++;
      if (raw === undefined) throw new NotFoundError('artifact', key);
      if (raw instanceof Error) throw raw;
      return structuredClone(raw);
    },
  };
}

/** Plan deps over the DynamoDB plan store on `doc`, moving the plan from `legacy`. */
function depsOver(
  doc: ReturnType<typeof memoryTable>['doc'],
  legacy: ArtifactStore,
): ReturnType<typeof memoryPlanDeps> {
  const made = threeSessionPlanDeps([], '2013-10-10T21:30:00Z');
  const deps: PlanDeps = {
    ...made.deps,
    plans: new DynamoPlanStore(doc, 'stagegate-test', legacy),
  };
  return { ...made, deps };
}

const refusals = (made: ReturnType<typeof memoryPlanDeps>) =>
  made.audit.records().filter((r) => r.kind === 'input_rejected');

describe('the plan a stage stored in S3 before the move', () => {
  it('is kept: plan status shows it, a second create is refused, the item now holds it as version 1', async () => {
    // Prepare: only the old object, no item.
    const old = await activePlan();
    const { doc, table } = memoryTable();
    const legacy = legacyStore(old);
    const made = depsOver(doc, legacy);

    // Act
    const status = await runPlanCommand(made.deps, { kind: 'plan_status' }, 'cli:rick', 'cli');
    const second = runPlanCommand(
      made.deps,
      { kind: 'plan_grow', amountUsd: 800, days: 2 },
      'cli:rick',
      'cli',
    );

    // Assess
    expect(status.title).toBe(`Plan ${old.planId}: actual vs plan`);
    await expect(second).rejects.toThrow(`plan ${old.planId} is active`);
    expect(table.item).toMatchObject({ pk: 'PLAN', sk: 'CURRENT', version: 1, planId: old.planId });
    expect(JSON.parse(String(table.item?.doc)).planId).toBe(old.planId);
    expect(legacy.reads).toBe(1); // read once: the item answers from then on
  });

  it('a create that stores first wins the conditional put; the migration reads the winner', async () => {
    // Prepare: the old object, and a create that lands between the migration's read and put.
    const old = await activePlan();
    const winner = { ...old, planId: 'plan-winner', status: 'canceled' };
    const { doc, table } = memoryTable((t) => {
      t.item ??= { pk: 'PLAN', sk: 'CURRENT', version: 1, doc: JSON.stringify(winner) };
    });
    const store = new DynamoPlanStore(doc, 'stagegate-test', legacyStore(old));

    // Act
    const read = await store.read();

    // Assess
    expect(read?.plan.planId).toBe('plan-winner');
    expect(read?.version).toBe(1);
    expect(JSON.parse(String(table.item?.doc)).planId).toBe('plan-winner');
  });

  it('no item and no old object is no plan (a create then stores version 1)', async () => {
    const { doc, table } = memoryTable();
    const made = depsOver(doc, legacyStore(undefined));

    expect(await currentPlan(made.deps)).toBeNull();
    await growPlan(made.deps, { amountUsd: 500, days: 3, by: 'cli:rick' });
    expect(table.item?.version).toBe(1);
  });

  it('an unreadable old object is refused naming it, not dropped and not blamed on the user', async () => {
    // Prepare
    const undecodable = depsOver(
      memoryTable().doc,
      legacyStore(new ValidationError('artifact', 'plans/current.json is not SGA1')),
    );
    const notAPlan = depsOver(memoryTable().doc, legacyStore({ planId: '', status: 'active' }));

    // Act + Assess
    for (const made of [undecodable, notAPlan]) {
      const grow = runPlanCommand(
        made.deps,
        { kind: 'plan_grow', amountUsd: 800, days: 2 },
        'cli:rick',
        'cli',
      );
      await expect(grow).rejects.toBeInstanceOf(PlanRecordCorruptError);
      await expect(grow).rejects.toThrow(`stored plan s3 ${LEGACY_PLAN_KEY} cannot be read`);
      expect(refusals(made)).toEqual([]);
    }
  });
});

/** Deps whose stored item `PLAN / CURRENT` is not a plan. */
function corruptDeps() {
  const { doc, table } = memoryTable();
  table.item = { pk: 'PLAN', sk: 'CURRENT', version: 2, doc: '{"planId":"p","status":"lost"}' };
  return depsOver(doc, legacyStore(undefined));
}

describe('an unreadable stored plan at each door', () => {
  it('the use case: PlanRecordCorruptError naming the item and field, no input_rejected', async () => {
    const made = corruptDeps();
    const run = runPlanCommand(made.deps, { kind: 'plan_status' }, 'cli:rick', 'cli');
    await expect(run).rejects.toBeInstanceOf(PlanRecordCorruptError);
    await expect(run).rejects.toThrow(/^stored plan PLAN \/ CURRENT cannot be read: doc\.status/);
    expect(refusals(made)).toEqual([]);
  });

  it('the console: a 500 naming the item (GET and POST), nothing recorded as a refusal', async () => {
    // Prepare
    const made = corruptDeps();
    const request = planConsole(made.deps, made);

    // Act
    const created = await request('POST', '/api/plans', { amountUsd: 800, days: 2 });
    const read = await request('GET', '/api/plans/current');

    // Assess
    for (const res of [created, read]) {
      expect(res.status).toBe(500);
      expect(JSON.parse(res.body)).toMatchObject({
        title: 'Stored plan unreadable',
        detail: expect.stringMatching(/^stored plan PLAN \/ CURRENT cannot be read/),
        field: 'plan',
      });
    }
    expect(refusals(made)).toEqual([]);
  });

  it('Slack: a message naming the item, the command recorded failed (not refused)', async () => {
    // Prepare
    const made = corruptDeps();
    const deps = planSlack(made.deps, made.audit, made.clock);

    // Act
    const out = await answerSlashCommand(deps, {
      userId: 'UOPS',
      teamId: 'T1',
      channelId: 'C1',
      text: 'plan grow 800 2',
      triggerId: 'trig-1',
    });

    // Assess
    expect(out.answer).toMatchObject({
      kind: 'unavailable',
      fault: 'PlanRecordCorruptError',
      message: expect.stringMatching(/^PlanRecordCorruptError: stored plan PLAN \/ CURRENT/),
    });
    const commands = made.audit.records().filter((r) => r.kind === 'chat_command');
    expect(commands.map((r) => JSON.parse(r.payload).outcome)).toEqual(['failed']);
    expect(refusals(made)).toEqual([]);
  });

  it('the CLI: the error itself (exit 1 by its name), not "plan refused"', () => {
    const corrupt = new PlanRecordCorruptError('PLAN / CURRENT', 'doc is not JSON');
    expect(planCliError(corrupt)).toBe(corrupt);
    const refused = planCliError(new ValidationError('plan', 'plan p is active'));
    expect(refused).toBeInstanceOf(CliError);
    expect((refused as Error).message).toBe('plan refused: plan: plan p is active');
  });
});
