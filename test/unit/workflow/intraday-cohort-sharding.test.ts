/**
 * The intraday-cohort definition's routing by cohort size, executed by the local interpreter
 * on its local twin (local/asl-transform.ts) with stub tasks: what each step receives, which
 * path runs, how many shards run and with which agents. The real handlers run in
 * test/integration/cohort-shards.test.ts.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { StateMachine } from 'aws-local-stepfunctions';
import { describe, expect, it } from 'vitest';
import { localFunctionArn, substitute } from '../../../local/asl-runner.js';
import { localBatcherStateName, toLocalDefinition } from '../../../local/asl-transform.js';
import { REPO_ROOT } from '../../support/paths.js';

const text = readFileSync(path.join(REPO_ROOT, 'statemachines/intraday-cohort.asl.json'), 'utf8');
const FUNCTIONS = [
  'LoadMarketData',
  'RunCohort',
  'PlanCohortShards',
  'RunCohortShard',
  'MergeCohortShards',
  'ScoreCohort',
  'PersistCohort',
  'RecordAudit',
];

type Handler = (input: unknown) => Promise<unknown>;

/** Runs the local twin with `shardAgents` per shard; stubs answer like the real steps do. */
async function execute(agentCount: number, shardAgents: number, failShard = false) {
  const values = {
    ...Object.fromEntries(FUNCTIONS.map((f) => [`${f}FunctionArn`, localFunctionArn(f)])),
    CohortShardAgents: String(shardAgents),
  };
  const definition = toLocalDefinition(JSON.parse(substitute(text, values)));
  const calls: Record<string, unknown[]> = {};
  const stub =
    (name: string, answer: (input: never) => unknown): Handler =>
    async (input) => {
      calls[name] = [...(calls[name] ?? []), input];
      return answer(input as never);
    };
  const prepared = {
    skipped: false,
    cohortId: 'coh-1',
    sessionDate: '2013-10-07',
    symbols: ['SPY'],
    market: { barCount: 390 },
    config: { agentCount, bankrollUsd: 1_000 },
    partialUpToIso: null, // LoadMarketData always answers it (null: a whole session)
  };
  const run = { cohortId: 'coh-1', simulationKey: 'sim', agentCount, genomeGeneration: 0 };
  const handlers: Record<string, Handler> = {
    LoadMarketData: stub('LoadMarketData', () => prepared),
    RunCohort: stub('RunCohort', () => run),
    PlanCohortShards: stub('PlanCohortShards', () => ({
      planKey: 'plan',
      items: Array.from({ length: agentCount }, (_, i) => i),
    })),
    RunCohortShard: stub('RunCohortShard', (input: { agentIndices: number[] }) => {
      if (failShard && input.agentIndices[0] === 0) {
        throw Object.assign(new Error('corrupt'), { name: 'DataFileCorruptError' });
      }
      return { shardKey: `shard-${input.agentIndices[0]}` };
    }),
    MergeCohortShards: stub('MergeCohortShards', () => run),
    ScoreCohort: stub('ScoreCohort', () => ({
      scoreKey: 'score',
      parent: {},
      top: [],
      provenance: { config_hash: 'c'.repeat(64), data_hash: 'd'.repeat(64) },
    })),
    PersistCohort: stub('PersistCohort', () => ({ agentRows: agentCount })),
    RecordCohortScored: stub('RecordCohortScored', () => ({ seq: 1 })),
    RecordFailure: stub('RecordFailure', () => ({ seq: 1 })),
  };
  const visited: string[] = [];
  const execution = new StateMachine(definition as never).run(
    { sessionDate: '2013-10-07' },
    {
      overrides: { taskResourceLocalHandlers: handlers as never },
      context: { Execution: { Id: 'arn:local:execution:1', Name: 'exec-1' } } as never,
    },
  );
  const logs = (async () => {
    for await (const e of execution.eventLogs) {
      const ev = e as { type: string; state?: { name?: string } };
      if (ev.type === 'StateEntered' && ev.state?.name) visited.push(ev.state.name);
    }
  })();
  const output = await execution.result.catch((err: unknown) => ({ failed: err }));
  await logs;
  return { output, calls, path: visited.filter((s) => s !== 'RunCohortShard') };
}

describe('intraday cohort routing by size (local twin, stub tasks)', () => {
  it('runs a cohort at the shard size in one RunCohort invocation', async () => {
    // Act
    const { path: visited, calls } = await execute(250, 250);

    // Assess
    expect(visited).toEqual([
      'Init',
      'LoadMarketData',
      'SessionOpen?',
      'ShardCohort?',
      'RunCohort',
      'ScoreCohort',
      'PersistCohort',
      'RecordCohortScored',
      'Done',
    ]);
    expect(calls.PlanCohortShards).toBeUndefined();
  });

  it('fans a 600-agent cohort out into shards of 250, 250 and 100 agents, then merges', async () => {
    // Act
    const { path: visited, calls, output } = await execute(600, 250);

    // Assess: the path
    expect(visited).toEqual([
      'Init',
      'LoadMarketData',
      'SessionOpen?',
      'ShardCohort?',
      'PlanCohortShards',
      localBatcherStateName('RunCohortShards'),
      'RunCohortShards',
      'MergeCohortShards',
      'ScoreCohort',
      'PersistCohort',
      'RecordCohortScored',
      'Done',
    ]);
    expect(calls.RunCohort).toBeUndefined();

    // Assess: what the plan and each shard received
    expect(calls.PlanCohortShards).toEqual([
      { prepared: expect.objectContaining({ cohortId: 'coh-1' }), shardAgents: 250 },
    ]);
    const shards = calls.RunCohortShard as {
      prepared: unknown;
      planKey: string;
      agentIndices: number[];
    }[];
    expect(shards.map((s) => [s.agentIndices[0], s.agentIndices.length])).toEqual([
      [0, 250],
      [250, 250],
      [500, 100],
    ]);
    for (const s of shards) {
      expect(s.planKey).toBe('plan');
      expect(s.prepared).toMatchObject({ cohortId: 'coh-1' });
    }

    // Assess: the merge gets every shard's output; the audit record reads the merged run
    const merge = (calls.MergeCohortShards as { shards: unknown[] }[])[0];
    expect(merge?.shards).toEqual([
      { shardKey: 'shard-0' },
      { shardKey: 'shard-250' },
      { shardKey: 'shard-500' },
    ]);
    expect(output).toMatchObject({ cohortId: 'coh-1', agentCount: 600 });
  });

  it('uses the shard size it is deployed with (251 agents, shards of 200 -> 2 shards)', async () => {
    // Act
    const { calls } = await execute(251, 200);

    // Assess
    const shards = calls.RunCohortShard as { agentIndices: number[] }[];
    expect(shards.map((s) => s.agentIndices.length)).toEqual([200, 51]);
  });

  it('records a failed shard as a workflow failure and fails the execution', async () => {
    // Act
    const { path: visited, calls, output } = await execute(600, 250, true);

    // Assess
    expect(visited.slice(-2)).toEqual(['RecordFailure', 'Failed']);
    expect(visited).not.toContain('MergeCohortShards');
    expect(calls.RecordFailure).toEqual([
      {
        failure: expect.objectContaining({
          kind: 'workflow_failed',
          error: 'DataFileCorruptError',
        }),
        // the step key of an idempotent append (a Retry of this step appends once)
        step: { execution_id: 'arn:local:execution:1', state: 'RecordFailure' },
      },
    ]);
    expect(output).toHaveProperty('failed');
  });
});
